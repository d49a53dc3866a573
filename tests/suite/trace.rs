//! `bouncex trace`: the attempt timeline by address, queue id and Message-ID, in text and
//! JSON; no match is not an error.

use serde_json::{Value, json};

use crate::common::*;

fn trace_json(key: &str, file: &str) -> Value {
    run_ok(&["trace", "--year", "2026", "--format", "json", key, file]).json()
}

#[test]
fn address_timeline_with_gaps_and_expiry() {
    let v = trace_json("Gwen@OldCorp.example", &fixture("basic.log"));
    assert_eq!(v["query"], "Gwen@OldCorp.example");
    let ds = v["deliveries"].as_array().expect("deliveries");
    assert_eq!(ds.len(), 1);
    let d = &ds[0];
    assert_eq!(d["recipient"], "gwen@oldcorp.example");
    assert_eq!(d["queue_id"], "A1B2C3D407");
    assert_eq!(d["sender"], "news@shop.example");
    assert_eq!(
        (&d["outcome"], &d["bucket"], &d["reason"]),
        (
            &json!("expired"),
            &json!("infrastructure"),
            &json!("connection_failure")
        )
    );
    assert_eq!(d["attempt_count"], 2);
    assert_eq!(d["first_time"], "2026-11-22T14:39:31Z");
    assert_eq!(d["last_time"], "2026-11-27T14:39:32Z");
    // Five days and one second.
    assert_eq!(d["duration_seconds"], 432_001);
    let attempts = d["attempts"].as_array().expect("attempts");
    let summary: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!([
                a["time"],
                a["gap_seconds"],
                a["action"],
                a["enhanced_code"],
                a["source"]["line"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!(["2026-11-22T14:39:31Z", null, "deferred", "4.4.1", 33]),
            json!(["2026-11-22T15:09:31Z", 1800, "deferred", "4.4.1", 50]),
            json!(["2026-11-27T14:39:32Z", 430_201, "expired", "4.4.1", 51]),
        ]
    );
    assert_eq!(
        attempts[0]["diagnostic"],
        "connect to mx.oldcorp.example[192.0.2.40]:25: Connection refused"
    );
    assert_eq!(attempts[0]["relay_host"], Value::Null);
}

#[test]
fn queue_id_timeline_in_text() {
    let r = run_ok(&[
        "trace",
        "--year",
        "2026",
        "C3D4E5F609",
        &fixture("basic.log"),
    ]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "hank@acme.example from news@shop.example (queue id C3D4E5F609, message-id -)"
    );
    assert_eq!(lines[1], "outcome: delivered after 2 attempts over 5m 2s");
    assert!(
        lines[2].starts_with("  2026-11-22T14:40:01Z "),
        "{}",
        r.stdout
    );
    assert!(
        lines[2]
            .ends_with("deferred   mx.acme.example[192.0.2.50]  451 4.7.1  transient/greylisted"),
        "{}",
        r.stdout
    );
    assert!(
        lines[4].contains("+5m 2s  delivered  mx.acme.example[192.0.2.50]  250 2.0.0"),
        "{}",
        r.stdout
    );
    assert_eq!(lines.len(), 6, "{}", r.stdout);
}

#[test]
fn single_attempt_bounce_in_text() {
    let r = run_ok(&[
        "trace",
        "--year",
        "2026",
        "old.friend@gmail.com",
        &fixture("basic.log"),
    ]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[1],
        "outcome: bounced (list_rot/user_unknown) after 1 attempt over 0s"
    );
    assert!(
        lines[2].ends_with("550 5.1.1  list_rot/user_unknown"),
        "{}",
        r.stdout
    );
}

#[test]
fn message_id_matches_every_recipient() {
    for key in [
        "<20261122143601.A1@shop.example>",
        "20261122143601.A1@shop.example",
    ] {
        let v = trace_json(key, &fixture("basic.log"));
        let got: Vec<Value> = v["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|d| json!([d["recipient"], d["outcome"], d["attempt_count"]]))
            .collect();
        assert_eq!(
            got,
            [
                json!(["ann.lee@gmail.com", "delivered", 1]),
                json!(["bo.chen@googlemail.com", "delivered", 1]),
                json!(["old.friend@gmail.com", "bounced", 1]),
            ],
            "{key}"
        );
    }
}

#[test]
fn one_address_several_messages() {
    let v = trace_json(
        "full@corp-d.example",
        "tests/fixtures/diagnose/suppress.log",
    );
    let got: Vec<Value> = v["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| {
            json!([
                d["first_time"],
                d["outcome"],
                d["reason"],
                d["attempts"].as_array().map(Vec::len)
            ])
        })
        .collect();
    assert_eq!(
        got,
        [
            json!(["2026-03-02T09:00:00Z", "expired", "mailbox_full", 3]),
            json!(["2026-03-06T09:00:00Z", "expired", "mailbox_full", 3]),
            json!(["2026-03-10T09:00:00Z", "expired", "mailbox_full", 3]),
        ]
    );
}

#[test]
fn no_match_says_so_and_exits_zero() {
    let r = run(&[
        "trace",
        "--year",
        "2026",
        "nobody@nowhere.example",
        &fixture("basic.log"),
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(
        r.stderr,
        "bouncex: no delivery matches nobody@nowhere.example\n"
    );
    let r = run(&[
        "trace",
        "--format",
        "json",
        "--year",
        "2026",
        "nobody@nowhere.example",
        &fixture("basic.log"),
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.json(),
        json!({"query": "nobody@nowhere.example", "deliveries": []})
    );
}

#[test]
fn trace_usage_errors_exit_two() {
    for args in [
        &["trace"][..],
        &["trace", "gwen@oldcorp.example"],
        &["trace", "--format", "xml", "x", "y"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}");
    }
    let r = run(&["trace", "x@y", "tests/fixtures/diagnose/no-such.log"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-such.log"), "{}", r.stderr);
}
