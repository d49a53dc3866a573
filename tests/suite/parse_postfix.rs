//! The Postfix parser through the binary: timestamp shapes and years, program names,
//! correlation by queue id, status codes, each on its own fixture.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::common::*;

fn field<'a>(records: &'a [Value], key: &str) -> Vec<&'a str> {
    records
        .iter()
        .map(|r| r[key].as_str().unwrap_or("<null>"))
        .collect()
}

#[test]
fn timestamp_shapes() {
    let events = events(&fixture("timestamps.log"), false);
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["recipient"].as_str().unwrap(),
                e["time"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // classic
            ("t01@gmail.com", "2026-11-22T14:36:29Z"),
            // day padded with a space, with a zero (maillog_file, journalctl), unpadded
            ("t02@gmail.com", "2026-11-02T09:05:07Z"),
            ("t03@gmail.com", "2026-11-02T09:05:08Z"),
            ("t04@gmail.com", "2026-11-02T09:05:09Z"),
            // RFC 3339 with microseconds
            ("t05@gmail.com", "2026-11-22T14:36:29.123456Z"),
            // other offsets are converted to UTC
            ("t06@gmail.com", "2026-11-22T14:36:30.500000Z"),
            // journalctl short-iso
            ("t07@gmail.com", "2026-11-22T14:36:31Z"),
            ("t08@gmail.com", "2026-11-22T14:36:32Z"),
            // <PRI> prefix of a network syslog
            ("t09@gmail.com", "2026-11-22T14:36:33Z"),
            // a timestamp with its own year keeps it whatever --year says
            ("t10@gmail.com", "2025-12-31T23:59:59Z"),
        ]
    );
    let r = analyze(&[&fixture("timestamps.log")], &[]);
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 10, "parsed": 10, "ignored": 0,
               "ignored_by_kind": {}, "unrecognized": 0, "events": 10, "error": null}),
    );
    assert_has(
        &r["time_span"],
        json!({"first": "2025-12-31T23:59:59Z", "last": "2026-11-22T14:36:33Z"}),
    );
}

#[test]
fn year_flag_sets_the_year_of_classic_timestamps() {
    let r = run_ok(&["events", "--year", "2024", &fixture("timestamps.log")]);
    let events = r.ndjson();
    assert_eq!(
        one(&events, "t01@gmail.com")["time"],
        "2024-11-22T14:36:29Z"
    );
    assert_eq!(
        one(&events, "t04@gmail.com")["time"],
        "2024-11-02T09:05:09Z"
    );
    assert_eq!(
        one(&events, "t09@gmail.com")["time"],
        "2024-11-22T14:36:33Z"
    );
    // RFC 3339 lines carry their year.
    assert_eq!(
        one(&events, "t05@gmail.com")["time"],
        "2026-11-22T14:36:29.123456Z"
    );
}

/// A copy of rollover.log whose modification time is in January 2027.
fn rollover_copy(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let path = dir.join("maillog");
    std::fs::copy(root().join(fixture("rollover.log")), &path).unwrap();
    // 2027-01-15T00:00:00Z
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_799_971_200);
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(mtime).unwrap();
    path
}

fn rollover_times(events: &[Value]) -> Vec<&str> {
    field(events, "time")
}

#[test]
fn year_inferred_from_mtime_steps_over_new_year() {
    let path = rollover_copy("rollover-mtime");
    let r = run_ok(&["events", arg(&path)]);
    let events = r.ndjson();
    assert_eq!(
        rollover_times(&events),
        ["2026-12-31T23:58:01Z", "2027-01-01T00:03:03Z"]
    );
    let r = run_ok(&["events", "--deliveries", arg(&path)]);
    let d = &r.ndjson()[0];
    assert_eq!(d["outcome"], "delivered");
    assert_eq!(d["first_time"], "2026-12-31T23:58:01Z");
    assert_eq!(d["last_time"], "2027-01-01T00:03:03Z");
}

/// With --year the file starts in that year; a December -> January rollover still
/// steps into the next one (event times never run backwards by eleven months).
#[test]
fn year_flag_steps_over_new_year() {
    let events = events(&fixture("rollover.log"), false);
    assert_eq!(
        rollover_times(&events),
        ["2026-12-31T23:58:01Z", "2027-01-01T00:03:03Z"]
    );
}

#[test]
fn program_names_and_delivery_agents() {
    let events = events(&fixture("programs.log"), false);
    let got: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["recipient"].as_str().unwrap(),
                e["agent"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("kim@gmail.com", "postfix-out/smtp", "delivered"),
            ("lou@partner.example", "postfix/relay/smtp", "delivered"),
            ("max@t-online.de", "postfix/smtp-noskip/smtp", "bounced"),
            ("nina@shop.example", "postfix/lmtp", "delivered"),
            ("nora@shop.example", "postfix/lmtp", "delivered"),
            ("oscar@shop.example", "postfix/lmtp", "bounced"),
            ("root@mta1.shop.example", "postfix/local", "delivered"),
            ("pat@shop.example", "postfix/virtual", "delivered"),
            ("quinn@shop.example", "postfix/pipe", "delivered"),
            ("rita@shop.example", "postfix/pipe", "delivered"),
            ("sam@downhost.example", "postfix/error", "deferred"),
            ("tess@downhost.example", "postfix/retry", "deferred"),
        ]
    );
    // Multi-instance qmgr correlates with its smtp.
    assert_eq!(one(&events, "kim@gmail.com")["sender"], "news@shop.example");
    // Relays that are no host: local, virtual, pipe services.
    assert_eq!(
        one(&events, "root@mta1.shop.example")["relay_host"],
        "local"
    );
    assert_eq!(
        one(&events, "root@mta1.shop.example")["relay_ip"],
        Value::Null
    );
    assert_eq!(one(&events, "quinn@shop.example")["relay_host"], "dovecot");
    assert_eq!(
        one(&events, "rita@shop.example")["relay_host"],
        "spamassassin"
    );
    assert_eq!(
        one(&events, "sam@downhost.example")["relay_host"],
        Value::Null
    );
    assert_eq!(
        one(&events, "nina@shop.example")["relay_host"],
        "mta1.shop.example"
    );
    let oscar = one(&events, "oscar@shop.example");
    assert_eq!(oscar["relay_host"], "store1.shop.example");
    assert_eq!(oscar["relay_ip"], "192.0.2.90");
    assert_eq!(
        (&oscar["reply_code"], &oscar["enhanced_code"]),
        (&json!(550), &json!("5.1.1"))
    );
    assert_eq!(oscar["bucket"], "list_rot");
    let max = one(&events, "max@t-online.de");
    assert_eq!(
        (&max["reply_code"], &max["enhanced_code"]),
        (&json!(554), &json!("5.0.0"))
    );
    assert_eq!(max["smtp_stage"], "connect");
    let sam = one(&events, "sam@downhost.example");
    assert_eq!(
        (&sam["reply_code"], &sam["enhanced_code"]),
        (&Value::Null, &json!("4.4.1"))
    );
    assert_eq!(sam["bucket"], "infrastructure");

    let r = analyze(&[&fixture("programs.log")], &[]);
    // dovecot, kernel, sshd, opendkim (even with a queue id) are other programs.
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 18, "parsed": 14, "ignored": 4,
               "ignored_by_kind": {"other program": 4}, "unrecognized": 0, "events": 12,
               "error": null}),
    );
    assert_eq!(r["totals"]["deliveries"], 10);
    assert_eq!(r["totals"]["delivered"], 8);
    assert_eq!(r["totals"]["bounced"], 2);
    assert_eq!(r["totals"]["pending"], 2);
}

/// correlation.log, message by message:
/// - 3C4D5E6F01 (pickup): uma deferred 452 then bounced 550 5.1.1; its notice
///   4D5E6F7A02 is delivered locally;
/// - 5E6F7A8B03: vic refused twice, wes 421 once, xena 421 then sent, yara sent; then
///   the message expires: vic and wes expire, xena and yara do not;
/// - 7A8B9C0D05: an address-verification probe (status=undeliverable);
/// - 8B9C0D1E06: team@acme.example listed twice (two aliases): two deliveries;
/// - 4Xq9Rk2HbNz6Tyd / 4Xq9Rk2HbNz7Bcd: long queue ids;
/// - 9C0D1E2F07: still deferred at the end of the input.
#[test]
fn correlation_deliveries() {
    let d = events(&fixture("correlation.log"), true);
    assert_eq!(d.len(), 10, "{d:#?}");

    let uma = one(&d, "uma@globex.example");
    assert_eq!(uma["queue_id"], "3C4D5E6F01");
    assert_eq!(uma["sender"], "billing@shop.example");
    assert_eq!(uma["message_id"], "inv-1001@shop.example");
    assert_eq!(uma["outcome"], "bounced");
    assert_eq!(
        (&uma["attempts"], &uma["deferrals"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(
        (&uma["reply_code"], &uma["enhanced_code"]),
        (&json!(550), &json!("5.1.1"))
    );
    assert_eq!(uma["bucket"], "list_rot");
    assert_eq!(uma["kpi"], "list_rot");
    assert_eq!(uma["first_time"], "2026-11-24T10:00:01Z");
    assert_eq!(uma["last_time"], "2026-11-24T10:30:02Z");

    let vic = one(&d, "vic@deadhost.example");
    assert_eq!(vic["outcome"], "expired");
    assert_eq!(
        (&vic["attempts"], &vic["deferrals"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(vic["message_id"], "news-2026-48@shop.example");
    assert_eq!(vic["enhanced_code"], "4.4.1");
    assert_eq!(vic["reply_code"], Value::Null);
    assert_eq!(
        vic["diagnostic"],
        "connect to mx.deadhost.example[192.0.2.120]:25: Connection refused"
    );
    assert_eq!(vic["bucket"], "infrastructure");
    assert_eq!(vic["kpi"], "infrastructure");
    assert_eq!(vic["last_time"], "2026-11-29T11:00:05Z");
    assert_eq!(vic["source"]["line"], 42);

    // Its own last deferral is the cause, not vic's.
    let wes = one(&d, "wes@busy.example");
    assert_eq!(wes["outcome"], "expired");
    assert_eq!(
        (&wes["attempts"], &wes["deferrals"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        (&wes["reply_code"], &wes["enhanced_code"]),
        (&json!(421), &json!("4.7.0"))
    );
    assert_eq!(wes["kpi"], "infrastructure");

    let xena = one(&d, "xena@busy.example");
    assert_eq!(xena["outcome"], "delivered");
    assert_eq!(
        (&xena["attempts"], &xena["deferrals"]),
        (&json!(2), &json!(1))
    );
    let yara = one(&d, "yara@gmail.com");
    assert_eq!(yara["outcome"], "delivered");
    assert_eq!(
        (&yara["attempts"], &yara["deferrals"]),
        (&json!(1), &json!(0))
    );

    let team: Vec<&Value> = d
        .iter()
        .filter(|x| x["recipient"] == "team@acme.example")
        .collect();
    assert_eq!(team.len(), 2);
    assert!(
        team.iter()
            .all(|t| t["outcome"] == "delivered" && t["attempts"] == 1)
    );
    assert_eq!(
        field(&team.into_iter().cloned().collect::<Vec<_>>(), "queue_id"),
        ["8B9C0D1E06"; 2]
    );

    let amy = one(&d, "amy@yahoo.com");
    assert_eq!(amy["queue_id"], "4Xq9Rk2HbNz6Tyd");
    assert_eq!(amy["message_id"], "long-1@shop.example");
    assert_eq!(amy["outcome"], "delivered");
    assert_eq!(
        (&amy["attempts"], &amy["deferrals"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(amy["provider"], "Yahoo");
    let bea = one(&d, "bea@gmail.com");
    assert_eq!(bea["queue_id"], "4Xq9Rk2HbNz7Bcd");
    assert_eq!(bea["message_id"], "long-2@shop.example");

    let cleo = one(&d, "cleo@slowmail.example");
    assert_eq!(cleo["outcome"], "deferred");
    assert_eq!(cleo["kpi"], Value::Null);

    // Neither notices nor probes are deliveries.
    for nobody in [
        "billing@shop.example",
        "news@shop.example",
        "zed@globex.example",
    ] {
        assert!(d.iter().all(|x| x["recipient"] != nobody), "{nobody}");
    }
}

#[test]
fn correlation_report() {
    let r = analyze(&[&fixture("correlation.log")], &[]);
    assert_has(
        &r["totals"],
        json!({
            "deliveries": 9,
            "delivered": 6,
            "delivered_after_deferral": 2,
            "bounced": 1,
            "expired": 2,
            "failed": 3,
            "pending": 1,
            "attempts": 14,
            "deferred_attempts": 7,
            "deferral_rate": 0.5,
            "events": 16,
        }),
    );
    assert_has(
        &r["kpis"]["list_rot"],
        json!({"count": 1, "rate": 0.111111}),
    );
    assert_eq!(r["kpis"]["infrastructure"]["count"], 2);
    assert_eq!(r["kpis"]["infrastructure"]["expired"], 2);
    assert_eq!(r["kpis"]["infrastructure"]["share_of_failures"], 0.666667);
    assert_eq!(r["kpis"]["infrastructure"]["flagged"], true);
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 48, "parsed": 45, "ignored": 3,
               "ignored_by_kind": {"address verification probe": 1, "bounce notice delivery": 2},
               "unrecognized": 0, "events": 16, "error": null}),
    );
    assert_has(
        &r["leftovers"],
        json!({"pending_deliveries": 1, "open_messages": 1, "evicted_messages": 0}),
    );
}

/// mta1 and mta2 both use queue id 1F2E3D4C5B for the same recipient: two messages.
#[test]
fn same_queue_id_on_two_hosts_is_two_messages() {
    let d = events(&fixture("twohosts.log"), true);
    assert_eq!(d.len(), 2, "{d:#?}");
    let (first, second) = (&d[0], &d[1]);
    assert_eq!(first["sender"], "alerts@ops.example");
    assert_eq!(first["message_id"], "alert-77@ops.example");
    assert_eq!(first["outcome"], "delivered");
    assert_eq!(
        (&first["attempts"], &first["deferrals"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(second["sender"], "news@shop.example");
    assert_eq!(second["message_id"], Value::Null);
    assert_eq!(second["outcome"], "bounced");
    assert_eq!(
        (&second["attempts"], &second["deferrals"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(second["kpi"], "list_rot");
    assert!(d.iter().all(|x| x["queue_id"] == "1F2E3D4C5B"));

    let r = analyze(&[&fixture("twohosts.log")], &[]);
    assert_eq!(r["totals"]["deliveries"], 2);
    assert_eq!(r["totals"]["delivered_after_deferral"], 0);
    assert_eq!(r["totals"]["attempts"], 3);
    assert_eq!(r["totals"]["deferred_attempts"], 1);
}

/// The log starts while messages are in flight: their first lines are missing.
#[test]
fn log_starting_mid_flight() {
    let d = events(&fixture("midflight.log"), true);
    let got: Vec<(&str, &str)> = d
        .iter()
        .map(|x| {
            (
                x["recipient"].as_str().unwrap(),
                x["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("cara@gmail.com", "delivered"),
            ("dan@outlook.com", "bounced"),
            ("eve@deadhost.example", "expired"),
        ]
    );
    assert_eq!(d[0]["sender"], Value::Null);
    assert_eq!(d[1]["kpi"], "list_rot");
    assert_eq!(d[1]["provider"], "Microsoft");
    // The expiry line names the sender.
    assert_eq!(d[2]["sender"], "news@shop.example");
    assert_eq!(
        (&d[2]["attempts"], &d[2]["deferrals"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(d[2]["kpi"], "infrastructure");

    let r = analyze(&[&fixture("midflight.log")], &[]);
    // A notice, a removal of an unknown queue id: understood, nothing to count.
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 8, "parsed": 8, "ignored": 0,
               "ignored_by_kind": {}, "unrecognized": 0, "events": 4, "error": null}),
    );
    assert_eq!(r["totals"]["deliveries"], 3);
    assert_eq!(r["totals"]["pending"], 0);
}

#[test]
fn status_codes_in_their_shapes() {
    let events = events(&fixture("codes.log"), false);
    assert_eq!(events.len(), 11);
    let codes = |rcpt: &str| {
        let e = one(&events, rcpt);
        (e["reply_code"].clone(), e["enhanced_code"].clone())
    };
    // A 554 greeting Postfix deferred: the classes disagree and both are kept.
    assert_eq!(codes("hugo@hooli.example"), (json!(554), json!("4.7.1")));
    let hugo = one(&events, "hugo@hooli.example");
    assert_eq!(hugo["action"], "deferred");
    assert_eq!(hugo["smtp_stage"], "connect");
    assert_eq!(hugo["bucket"], "reputation");
    // No reply code in Postfix's own texts; dsn= gives the enhanced code.
    assert_eq!(
        codes("ida@lapsed-startup.example"),
        (Value::Null, json!("5.4.4"))
    );
    assert_eq!(
        codes("jack@deadhost.example"),
        (Value::Null, json!("4.4.1"))
    );
    assert_eq!(
        one(&events, "jack@deadhost.example")["bucket"],
        "infrastructure"
    );
    // orig_to= and conn_use= do not disturb the record.
    assert_eq!(codes("liam@acme.example"), (json!(250), json!("2.0.0")));
    assert_eq!(
        one(&events, "liam@acme.example")["relay_host"],
        "mx.acme.example"
    );
    assert_eq!(codes("mia@acme.example"), (json!(250), json!("2.0.0")));
    // IPv6 relay; a diagnostic with nested parentheses is kept whole.
    let noah = one(&events, "noah@v6only.example");
    assert_eq!(noah["relay_host"], "mx.v6only.example");
    assert_eq!(noah["relay_ip"], "2001:db8::25");
    assert_eq!(codes("noah@v6only.example"), (json!(550), json!("5.7.1")));
    assert_eq!(
        noah["diagnostic"],
        "host mx.v6only.example[2001:db8::25] said: 550 5.7.1 Message rejected (spam score 12.5 too high) (in reply to end of DATA command)"
    );
    assert_eq!(noah["smtp_stage"], "data");
    // Multi-line reply.
    assert_eq!(codes("olga@gmail.com"), (json!(550), json!("5.1.1")));
    assert_eq!(one(&events, "olga@gmail.com")["bucket"], "list_rot");
    // A plain reply: Postfix's dsn=5.0.0 is the enhanced code.
    assert_eq!(codes("pia@initech.example"), (json!(550), json!("5.0.0")));
    // Old Postfix: no dsn=, no delays=; codes come from the text.
    assert_eq!(codes("jack@oldsite.example"), (json!(550), json!("5.1.1")));
    assert_eq!(one(&events, "jack@oldsite.example")["bucket"], "list_rot");
    assert_eq!(
        one(&events, "jack@oldsite.example")["relay_ip"],
        "192.0.2.140"
    );
    assert_eq!(codes("kara@oldsite.example"), (json!(554), Value::Null));
    assert_eq!(codes("lena@oldsite.example"), (json!(250), Value::Null));
    assert_eq!(one(&events, "lena@oldsite.example")["action"], "delivered");

    let r = analyze(&[&fixture("codes.log")], &[]);
    assert_eq!(r["totals"]["deliveries"], 9);
    assert_eq!(r["totals"]["bounced"], 6);
    assert_eq!(r["totals"]["pending"], 2);
    assert_eq!(r["inputs"][0]["parsed"], 12);
    assert_eq!(r["inputs"][0]["unrecognized"], 0);
}

/// Every fixture's accounting, exactly: (total, parsed, ignored, unrecognized,
/// events). total == parsed + ignored + unrecognized, and total is the number of
/// lines of the file, blank ones included.
#[test]
fn every_fixture_is_accounted_for_exactly() {
    let expected: &[(&str, [u64; 5])] = &[
        ("basic.log", [54, 42, 11, 1, 14]),
        ("codes.log", [12, 12, 0, 0, 11]),
        ("content.log", [3, 3, 0, 0, 1]),
        ("correlation.log", [48, 45, 3, 0, 16]),
        ("dovecot-only.log", [2, 0, 2, 0, 0]),
        ("empty.log", [0, 0, 0, 0, 0]),
        ("malformed.log", [10, 1, 0, 9, 1]),
        ("midflight.log", [8, 8, 0, 0, 4]),
        ("nginx.log", [2, 0, 0, 2, 0]),
        ("programs.log", [18, 14, 4, 0, 12]),
        ("rollover.log", [5, 5, 0, 0, 2]),
        ("timestamps.log", [10, 10, 0, 0, 10]),
        ("twohosts.log", [9, 9, 0, 0, 3]),
    ];
    let mut names: Vec<String> = std::fs::read_dir(root().join("tests/fixtures/postfix"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log") && p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let listed: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, listed, "every fixture has its expected counts here");
    for (name, want) in expected {
        // Two fixtures are not detected as Postfix; read them as Postfix anyway.
        let forced: &[&str] = if ["nginx.log", "dovecot-only.log"].contains(name) {
            &["--input-format", "postfix"]
        } else {
            &[]
        };
        let report = analyze(&[&fixture(name)], forced);
        assert_balanced(&report);
        let input = &report["inputs"][0];
        let got = ["total", "parsed", "ignored", "unrecognized", "events"]
            .map(|k| input[k].as_u64().unwrap_or_else(|| panic!("{name}: {k}")));
        assert_eq!(&got, want, "{name}: {input}");
        assert_eq!(input["format"], "postfix", "{name}");
        assert_eq!(input["unit"], "lines", "{name}");
        assert_eq!(input["error"], Value::Null, "{name}");
        let text = std::fs::read_to_string(root().join(fixture(name))).unwrap();
        assert_eq!(got[0], text.lines().count() as u64, "{name}");
    }
}
