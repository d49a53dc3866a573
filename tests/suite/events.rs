//! `bouncex events`: one NDJSON record per event, or per delivery with
//! `--deliveries`; and the quiet exit on a closed pipe.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::common::*;

#[test]
fn event_record_fields() {
    let events = events(&fixture("basic.log"), false);
    // 13 delivery records of the sender's mail plus one expiry; the notices' local
    // deliveries and the probe are not events.
    assert_eq!(events.len(), 14);
    assert!(events.iter().all(|e| e["recipient"] != "news@shop.example"));
    assert!(
        events
            .iter()
            .all(|e| e["recipient"] != "probe@acme.example")
    );

    let e = one(&events, "old.friend@gmail.com");
    assert_has(
        &e["source"],
        json!({"kind": "postfix", "file": "tests/fixtures/postfix/basic.log", "line": 7}),
    );
    assert_eq!(e["time"], "2026-11-22T14:36:02Z");
    assert_eq!(e["recipient_domain"], "gmail.com");
    assert_eq!(e["sender"], "news@shop.example");
    assert_eq!(e["queue_id"], "3F2A1B4C01");
    assert_eq!(e["message_id"], "20261122143601.A1@shop.example");
    assert_eq!(e["relay_host"], "gmail-smtp-in.l.google.com");
    assert_eq!(e["relay_ip"], "192.0.2.11");
    assert_eq!(e["action"], "bounced");
    assert_eq!(e["reply_code"], 550);
    assert_eq!(e["enhanced_code"], "5.1.1");
    assert_eq!(
        e["diagnostic"],
        "host gmail-smtp-in.l.google.com[192.0.2.11] said: 550-5.1.1 The email account that \
         you tried to reach does not exist. Please try 550-5.1.1 double-checking the \
         recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more \
         information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser \
         q7si1234567wrb.102 - gsmtp (in reply to RCPT TO command)"
    );
    assert_eq!(e["smtp_stage"], "rcpt");
    assert_eq!(e["agent"], "postfix/smtp");
    assert_eq!(e["bucket"], "list_rot");
    assert_eq!(e["reason"], "user_unknown");
    assert!(e["rule"].as_str().is_some_and(|r| !r.is_empty()), "{e}");
    assert_eq!(e["hard"], true);

    // A delivery has no verdict.
    let ok = one(&events, "ann.lee@gmail.com");
    assert_eq!(ok["action"], "delivered");
    assert_eq!(ok["reply_code"], 250);
    assert_eq!(ok["enhanced_code"], "2.0.0");
    for key in ["bucket", "reason", "rule"] {
        assert_eq!(ok[key], Value::Null, "{key}");
    }

    let spam = one(&events, "carol.diaz@outlook.com");
    assert_eq!(
        (&spam["reply_code"], &spam["enhanced_code"]),
        (&json!(554), &json!("5.7.1"))
    );
    assert_eq!(spam["bucket"], "reputation");
    let dmarc = one(&events, "dana.fox@gmail.com");
    assert_eq!(
        (&dmarc["reply_code"], &dmarc["enhanced_code"]),
        (&json!(550), &json!("5.7.26"))
    );
    assert_eq!(dmarc["bucket"], "auth");
    assert_eq!(dmarc["smtp_stage"], "data");
}

#[test]
fn deferrals_and_expiry_are_events() {
    let events = events(&fixture("basic.log"), false);
    let gwen: Vec<&Value> = events
        .iter()
        .filter(|e| e["recipient"] == "gwen@oldcorp.example")
        .collect();
    let actions: Vec<&str> = gwen.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["deferred", "deferred", "expired"]);
    let agents: Vec<&str> = gwen.iter().map(|e| e["agent"].as_str().unwrap()).collect();
    assert_eq!(agents, ["postfix/smtp", "postfix/error", "postfix/qmgr"]);
    // The expiry restates the last deferral, at the time and line of qmgr's record.
    let expired = gwen[2];
    assert_eq!(expired["time"], "2026-11-27T14:39:32Z");
    assert_eq!(expired["reply_code"], Value::Null);
    assert_eq!(expired["enhanced_code"], "4.4.1");
    assert_eq!(
        expired["diagnostic"],
        "delivery temporarily suspended: connect to mx.oldcorp.example[192.0.2.40]:25: Connection refused"
    );
    assert_eq!(expired["bucket"], "infrastructure");
    assert_eq!(gwen[0]["relay_host"], Value::Null);
    assert_eq!(gwen[0]["bucket"], "infrastructure");
}

#[test]
fn delivery_record_fields() {
    let deliveries = events(&fixture("basic.log"), true);
    // 10 with a final outcome and one pending at the end.
    assert_eq!(deliveries.len(), 11);

    let d = one(&deliveries, "old.friend@gmail.com");
    assert_eq!(d["queue_id"], "3F2A1B4C01");
    assert_eq!(d["message_id"], "20261122143601.A1@shop.example");
    assert_eq!(d["sender"], "news@shop.example");
    assert_eq!(d["provider"], "Gmail");
    assert_eq!(d["outcome"], "bounced");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["deferrals"], 0);
    assert_eq!(d["bucket"], "list_rot");
    assert_eq!(d["reason"], "user_unknown");
    assert_eq!(d["kpi"], "list_rot");
    assert_eq!(d["first_time"], "2026-11-22T14:36:02Z");
    assert_eq!(d["last_time"], "2026-11-22T14:36:02Z");

    let gwen = one(&deliveries, "gwen@oldcorp.example");
    assert_eq!(gwen["outcome"], "expired");
    assert_eq!(
        (&gwen["attempts"], &gwen["deferrals"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(gwen["bucket"], "infrastructure");
    assert_eq!(gwen["kpi"], "infrastructure");
    assert_eq!(gwen["first_time"], "2026-11-22T14:39:31Z");
    assert_eq!(gwen["last_time"], "2026-11-27T14:39:32Z");

    // Delivered after a deferral: the delay's cause is shown, no KPI.
    let hank = one(&deliveries, "hank@acme.example");
    assert_eq!(hank["outcome"], "delivered");
    assert_eq!(
        (&hank["attempts"], &hank["deferrals"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(hank["kpi"], Value::Null);
    assert_eq!(hank["reply_code"], 451);
    assert_eq!(hank["enhanced_code"], "4.7.1");

    let sales = one(&deliveries, "sales@fabrikam.example");
    assert_eq!(sales["provider"], "Microsoft");
    assert_eq!(
        sales["relay_host"],
        "fabrikam-example.mail.protection.outlook.com"
    );

    let ivy = one(&deliveries, "ivy@slowmail.example");
    assert_eq!(ivy["outcome"], "deferred");
    assert_eq!(ivy["kpi"], Value::Null);
    assert_eq!(
        (&ivy["reply_code"], &ivy["enhanced_code"]),
        (&json!(421), &json!("4.7.0"))
    );

    let outcomes = |o: &str| deliveries.iter().filter(|d| d["outcome"] == o).count();
    assert_eq!(
        [
            outcomes("delivered"),
            outcomes("bounced"),
            outcomes("expired"),
            outcomes("deferred")
        ],
        [6, 3, 1, 1]
    );
}

/// `bouncex events ... | head -1`: the reader goes away after one line; bouncex must
/// end quietly with success, not panic or report an error.
#[test]
fn closed_pipe_ends_quietly() {
    let dir = scratch("closed-pipe");
    let path = dir.join("big.log");
    let mut log = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    // Far more output than a pipe buffer holds.
    for i in 0..20_000u32 {
        writeln!(
            log,
            "Nov 22 14:{:02}:{:02} mta1 postfix/smtp[4242]: {:010X}: to=<user{i}@gmail.com>, \
             relay=gmail-smtp-in.l.google.com[192.0.2.11]:25, delay=0.5, delays=0.1/0/0.2/0.2, \
             dsn=5.1.1, status=bounced (host gmail-smtp-in.l.google.com[192.0.2.11] said: \
             550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 \
             x{i}si - gsmtp (in reply to RCPT TO command))",
            (i / 60) % 60,
            i % 60,
            0xA000_0000u64 + u64::from(i),
        )
        .unwrap();
    }
    log.flush().unwrap();
    drop(log);

    for deliveries in [false, true] {
        let mut cmd = bouncex();
        cmd.args(["events", "--year", "2026"]);
        if deliveries {
            cmd.arg("--deliveries");
        }
        let mut child = cmd
            .arg(arg(&path))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        {
            let mut out = BufReader::new(child.stdout.take().unwrap());
            out.read_line(&mut first).unwrap();
            // Dropping the reader closes our end of the pipe.
        }
        let record: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(record["recipient"], "user0@gmail.com");
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "deliveries={deliveries}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "deliveries={deliveries}"
        );
    }
}

#[test]
fn events_show_unparsed_goes_to_stderr() {
    let file = fixture("malformed.log");
    let r = run(&["events", "--year", "2026", "--show-unparsed", &file]);
    assert_eq!(r.code, 0);
    assert_eq!(r.ndjson().len(), 1, "only the good line is an event");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 9, "{}", r.stderr);
    assert_eq!(
        lines[2],
        format!(
            "{file}:3: unknown qmgr record: Nov 25 12:00:02 mta1 postfix/qmgr[9000]: 6B7C8D9E03: frobnicated the queue file"
        )
    );
}

#[test]
fn events_of_an_empty_file_are_none() {
    let r = run_ok(&["events", &fixture("empty.log")]);
    assert_eq!(r.stdout, "");
}

#[test]
fn host_campaign_step_and_extra_columns_are_written() {
    // An export: the mapped fields and the remaining columns, in column order.
    let f = "tests/fixtures/export/snovio-campaign.csv";
    let ev = events(f, false);
    let gia = one(&ev, "gia@two.example");
    assert_has(
        gia,
        json!({"mta_host": null, "campaign": "Spring drip", "step": "1",
               "extra": {"Full name": "Gia Two", "List": "Bought list"}}),
    );
    let keys: Vec<&String> = gia["extra"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["Full name", "List"]);
    let d = events(f, true);
    assert_has(
        one(&d, "hal@two.example"),
        json!({"campaign": "Spring drip", "step": "1", "extra": {"List": "Bought list"}}),
    );
    // An export with a sending IP.
    let d = events("tests/fixtures/export/sparkpost-webhook.json", true);
    assert_eq!(one(&d, "dee@delta.example")["mta_host"], "192.0.2.11");
    // A Postfix log: the syslog host and the VERP campaign; no step, no columns.
    let ev = run_ok(&["events", "--year", "2026", "examples/maillog"]).ndjson();
    for e in ev.iter().take(50) {
        assert!(e["mta_host"].as_str().unwrap().starts_with("mta-"), "{e}");
        assert_eq!(e["step"], Value::Null);
        assert_eq!(e["extra"], Value::Null);
    }
    assert!(ev.iter().any(|e| e["campaign"] == "spring-sale"));
    let d = run_ok(&[
        "events",
        "--year",
        "2026",
        "--deliveries",
        "examples/maillog",
    ])
    .ndjson();
    assert!(
        d.iter()
            .all(|x| x.get("mta_host").is_some() && x.get("extra").is_some())
    );
}
