//! `bouncex analyze --format json` and the table: every figure of the report, with
//! exact values worked out from the fixtures by hand.
//!
//! `basic.log` holds ten deliveries with a final outcome and one still pending:
//!
//! | recipient              | provider  | outcome                      | cause            |
//! | ---------------------- | --------- | ---------------------------- | ---------------- |
//! | ann.lee@gmail.com      | Gmail     | delivered                    |                  |
//! | old.friend@gmail.com   | Gmail     | bounced 550 5.1.1            | list_rot         |
//! | bo.chen@googlemail.com | Gmail     | delivered                    |                  |
//! | carol.diaz@outlook.com | Microsoft | bounced 554 5.7.1 Spamhaus   | reputation       |
//! | sales@fabrikam.example | Microsoft | delivered (O365 relay)       |                  |
//! | dana.fox@gmail.com     | Gmail     | bounced 550 5.7.26 DMARC     | auth             |
//! | eli.moss@yahoo.com     | Yahoo     | delivered                    |                  |
//! | finn@gmail.com         | Gmail     | delivered                    |                  |
//! | gwen@oldcorp.example   | other     | 2 x refused, then expired    | infrastructure   |
//! | hank@acme.example      | other     | greylisted, then delivered   |                  |
//! | ivy@slowmail.example   | other     | deferred at end of input     | (pending)        |
//!
//! The two bounce notices (`from=<>`) delivered locally and the address-verification
//! probe are not deliveries.

use serde_json::{Value, json};

use crate::common::*;

fn basic() -> Value {
    analyze(&[&fixture("basic.log")], &[])
}

#[test]
fn basic_schema_and_totals() {
    let r = basic();
    assert_eq!(r["schema_version"], 1);
    assert_has(
        &r["totals"],
        json!({
            "deliveries": 10,
            "delivered": 6,
            "delivered_after_deferral": 1,
            "bounced": 3,
            "expired": 1,
            "failed": 4,
            "pending": 1,
            // 13 delivery records; the expiry restates gwen's last deferral.
            "attempts": 13,
            // gwen twice, hank once, ivy once.
            "deferred_attempts": 4,
            "deferral_rate": 0.307692,
            "events": 14,
        }),
    );
    assert_has(
        &r["leftovers"],
        json!({"pending_deliveries": 1, "open_messages": 2, "evicted_messages": 0}),
    );
    assert_has(
        &r["time_span"],
        json!({"first": "2026-11-22T14:36:02Z", "last": "2026-11-27T14:39:32Z"}),
    );
}

#[test]
fn basic_kpis() {
    let r = basic();
    let k = &r["kpis"];
    assert_has(&k["list_rot"], json!({"count": 1, "rate": 0.1}));
    assert_has(
        &k["reputation"],
        json!({"count": 2, "rate": 0.2, "by_bucket": {"auth": 1, "reputation": 1}}),
    );
    let infra = &k["infrastructure"];
    assert_eq!(infra["count"], 1);
    assert_eq!(infra["share_of_failures"], 0.25);
    assert_eq!(infra["rate"], 0.1);
    assert_eq!(infra["expired"], 1);
    assert_eq!(infra["permanent"], 0);
    assert_eq!(infra["flagged"], false);
    assert_eq!(infra["deferral_rate"], 0.307692);
    let causes = infra["by_cause"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0]["bucket"], "infrastructure");
    assert_eq!(causes[0]["count"], 1);
    assert_has(&k["other"], json!({"count": 0, "rate": 0.0}));
    assert_has(&k["legacy_bounce_rate"], json!({"count": 4, "rate": 0.4}));
}

/// The legacy rate is exactly the sum of the four parts, in every fixture.
#[test]
fn legacy_rate_is_the_sum_of_the_parts() {
    for name in [
        "basic.log",
        "correlation.log",
        "codes.log",
        "midflight.log",
        "programs.log",
    ] {
        let r = analyze(&[&fixture(name)], &[]);
        let k = &r["kpis"];
        let sum = k["list_rot"]["count"].as_u64().unwrap()
            + k["reputation"]["count"].as_u64().unwrap()
            + k["infrastructure"]["count"].as_u64().unwrap()
            + k["other"]["count"].as_u64().unwrap();
        assert_eq!(
            k["legacy_bounce_rate"]["count"].as_u64().unwrap(),
            sum,
            "{name}"
        );
        assert_eq!(
            r["totals"]["failed"], k["legacy_bounce_rate"]["count"],
            "{name}"
        );
        let t = &r["totals"];
        assert_eq!(
            t["deliveries"].as_u64().unwrap(),
            t["delivered"].as_u64().unwrap()
                + t["bounced"].as_u64().unwrap()
                + t["expired"].as_u64().unwrap(),
            "{name}"
        );
        assert_balanced(&r);
    }
}

#[test]
fn basic_buckets_reasons_and_codes() {
    let r = basic();
    let row = |bucket: &str, failed: u64, bounced: u64, expired: u64, share: f64| json!({"bucket": bucket, "failed": failed, "bounced": bounced, "expired": expired, "share": share});
    assert_has(
        &r["buckets"],
        json!([
            row("list_rot", 1, 1, 0, 0.25),
            row("reputation", 1, 1, 0, 0.25),
            row("auth", 1, 1, 0, 0.25),
            row("infrastructure", 1, 0, 1, 0.25),
            row("transient", 0, 0, 0, 0.0),
            row("content", 0, 0, 0, 0.0),
            row("unknown", 0, 0, 0, 0.0),
        ]),
    );

    let reasons = r["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    let mut buckets: Vec<&str> = reasons
        .iter()
        .map(|x| x["bucket"].as_str().unwrap())
        .collect();
    buckets.sort_unstable();
    assert_eq!(
        buckets,
        ["auth", "infrastructure", "list_rot", "reputation"]
    );
    assert!(
        reasons
            .iter()
            .all(|x| x["failed"] == 1 && x["share"] == 0.25),
        "{reasons:#?}"
    );
    let list_rot = reasons.iter().find(|x| x["bucket"] == "list_rot").unwrap();
    assert_eq!(list_rot["reason"], "user_unknown");

    // Sorted by count, then code; the expiry counts under its last deferral's 4.4.1.
    let codes: Vec<(String, u64)> = r["enhanced_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["enhanced_code"].as_str().unwrap().to_string(),
                c["failed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [("4.4.1", 1), ("5.1.1", 1), ("5.7.1", 1), ("5.7.26", 1)].map(|(c, n)| (c.to_string(), n))
    );
    let first = &r["enhanced_codes"][1];
    assert!(first["meaning"].is_string(), "5.1.1 has a meaning: {first}");
}

fn group(name: &str, counts: [u64; 6], rates: [f64; 4]) -> Value {
    let [
        deliveries,
        delivered,
        failed,
        list_rot,
        reputation,
        infrastructure,
    ] = counts;
    let [
        list_rot_rate,
        reputation_rate,
        infrastructure_share,
        bounce_rate,
    ] = rates;
    json!({
        "name": name,
        "deliveries": deliveries,
        "delivered": delivered,
        "failed": failed,
        "list_rot": list_rot,
        "list_rot_rate": list_rot_rate,
        "reputation": reputation,
        "reputation_rate": reputation_rate,
        "infrastructure": infrastructure,
        "infrastructure_share": infrastructure_share,
        "bounce_rate": bounce_rate,
    })
}

#[test]
fn basic_by_provider() {
    let r = basic();
    // Sorted by failures, then deliveries, then name. sales@fabrikam.example is
    // Microsoft because its MX is *.mail.protection.outlook.com.
    assert_has(
        &r["by_provider"],
        json!([
            group("Gmail", [5, 3, 2, 1, 1, 0], [0.2, 0.2, 0.0, 0.4]),
            group("Microsoft", [2, 1, 1, 0, 1, 0], [0.0, 0.5, 0.0, 0.5]),
            group("other", [2, 1, 1, 0, 0, 1], [0.0, 0.0, 1.0, 0.5]),
            group("Yahoo", [1, 1, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0]),
        ]),
    );
}

#[test]
fn basic_by_domain() {
    let r = basic();
    assert_has(
        &r["by_domain"],
        json!([
            group("gmail.com", [4, 2, 2, 1, 1, 0], [0.25, 0.25, 0.0, 0.5]),
            group("oldcorp.example", [1, 0, 1, 0, 0, 1], [0.0, 0.0, 1.0, 1.0]),
            group("outlook.com", [1, 0, 1, 0, 1, 0], [0.0, 1.0, 0.0, 1.0]),
            group("acme.example", [1, 1, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0]),
            group("fabrikam.example", [1, 1, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0]),
            group("googlemail.com", [1, 1, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0]),
            group("yahoo.com", [1, 1, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0]),
        ]),
    );
}

#[test]
fn top_limits_domains_and_codes() {
    let r = analyze(&[&fixture("basic.log")], &["--top", "2"]);
    let names = strings(&r["by_domain"], "name");
    assert_eq!(names, ["gmail.com", "oldcorp.example"]);
    assert_eq!(r["enhanced_codes"].as_array().unwrap().len(), 2);
    // Providers are few and always listed whole.
    assert_eq!(r["by_provider"].as_array().unwrap().len(), 4);
    // Figures do not change.
    assert_eq!(r["totals"], basic()["totals"]);
}

#[test]
fn basic_input_accounting() {
    let r = basic();
    assert_balanced(&r);
    assert_has(
        &r["inputs"],
        json!([{
            "format": "postfix",
            "file": "tests/fixtures/postfix/basic.log",
            "unit": "lines",
            // 54 lines, one of them blank.
            "total": 54,
            "parsed": 42,
            "ignored": 11,
            "ignored_by_kind": {
                "address verification probe": 1,
                "blank line": 1,
                "bounce notice delivery": 2,
                "connection": 2,
                "inbound connection": 1,
                "other program": 3,
                "statistics": 1,
            },
            "unrecognized": 1,
            "events": 14,
            "error": null,
        }]),
    );
    assert_eq!(r["unrecognized"], 1);
    // Without --show-unparsed the samples are left out.
    assert!(
        r.get("unrecognized_samples").is_none(),
        "{}",
        r["unrecognized_samples"]
    );
}

/// 552 5.3.4 "message size exceeds ..." is a content refusal, which counts toward
/// the reputation KPI.
#[test]
fn message_too_large_is_content() {
    let r = analyze(&[&fixture("content.log")], &[]);
    assert_eq!(r["totals"]["bounced"], 1);
    assert_has(
        &r["kpis"]["reputation"],
        json!({"count": 1, "rate": 1.0, "by_bucket": {"content": 1}}),
    );
    let content = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bucket"] == "content")
        .unwrap();
    assert_eq!(content["failed"], 1);
    assert_eq!(r["kpis"]["other"]["count"], 0);
}

#[test]
fn content_fixture_counts_without_the_bucket() {
    // The figures that do not depend on the rule table.
    let r = analyze(&[&fixture("content.log")], &[]);
    assert_eq!(r["totals"]["deliveries"], 1);
    assert_eq!(r["totals"]["bounced"], 1);
    assert_eq!(r["enhanced_codes"][0]["enhanced_code"], "5.3.4");
    assert_has(
        &r["kpis"]["legacy_bounce_rate"],
        json!({"count": 1, "rate": 1.0}),
    );
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 3, "parsed": 3, "ignored": 0,
               "ignored_by_kind": {}, "unrecognized": 0, "events": 1, "error": null}),
    );
}

#[test]
fn infrastructure_flag_above_thirty_percent() {
    // midflight.log: dan bounced (list rot), eve expired: infrastructure is 1 of 2
    // failures, above the 30% flag.
    let r = analyze(&[&fixture("midflight.log")], &[]);
    let infra = &r["kpis"]["infrastructure"];
    assert_eq!(infra["count"], 1);
    assert_eq!(infra["share_of_failures"], 0.5);
    assert_eq!(infra["flagged"], true);
    assert_has(
        &r["kpis"]["list_rot"],
        json!({"count": 1, "rate": 0.333333}),
    );
}

#[test]
fn table_report_shows_the_figures() {
    let r = run_ok(&["analyze", "--year", "2026", &fixture("basic.log")]);
    let out = &r.stdout;
    assert!(
        out.starts_with(
            "10 deliveries with a final outcome (6 delivered, 3 bounced, 1 expired), \
             2026-11-22T14:36:02Z to 2026-11-27T14:39:32Z\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("1 deliveries still pending at the end of the input"),
        "{out}"
    );
    assert!(
        out.contains("= list rot 1 + reputation 2 + infrastructure 1 + other 0"),
        "{out}"
    );
    assert!(out.contains("(4 of 13 attempts were deferred)"), "{out}");
    assert!(
        out.contains("1 unrecognized lines; --show-unparsed lists them"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "NO_COLOR output has no escape sequences"
    );
    for needle in [
        "Gmail",
        "Microsoft",
        "Yahoo",
        "oldcorp.example",
        "tests/fixtures/postfix/basic.log",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
}

#[test]
fn show_unparsed_in_table_names_file_and_line() {
    let file = fixture("malformed.log");
    let r = run_ok(&["analyze", "--year", "2026", "--show-unparsed", &file]);
    let listed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with(&format!("{file}:")))
        .collect();
    assert_eq!(listed.len(), 9, "{}", r.stdout);
    assert_eq!(
        listed[0],
        format!(
            "{file}:1: delivery record without status=: Nov 25 12:00:00 mta1 postfix/smtp[9001]: \
             6B7C8D9E01: to=<oops@acme.example>, relay=mx.acme.example[192.0.2.50]:25, delay=0.1"
        )
    );
    assert_eq!(
        listed[6],
        format!(
            "{file}:7: not a syslog line: Nov 25 12:00:06 mta1 postfix/smtp[9001] no colon after the tag"
        )
    );
}

#[test]
fn show_unparsed_in_json_names_file_and_line() {
    let r = analyze(&[&fixture("malformed.log")], &["--show-unparsed"]);
    let samples = r["unrecognized_samples"].as_array().unwrap();
    let got: Vec<(String, u64, String)> = samples
        .iter()
        .map(|s| {
            assert_eq!(s["file"], "tests/fixtures/postfix/malformed.log");
            (
                s["reason"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reasons: Vec<(&str, u64)> = got.iter().map(|(r, l, _)| (r.as_str(), *l)).collect();
    assert_eq!(
        reasons,
        [
            ("delivery record without status=", 1),
            ("unknown delivery status", 2),
            ("unknown qmgr record", 3),
            ("delivery record without a queue id", 4),
            ("unknown bounce record", 5),
            ("unknown record for a queue id", 6),
            ("not a syslog line", 7),
            ("not a syslog line", 8),
            ("not a syslog line", 9),
        ]
    );
    assert_eq!(
        got[5].2,
        "Nov 25 12:00:05 mta1 postfix/smtp[9001]: 6B7C8D9E05: juggling chainsaws"
    );
    assert_eq!(r["unrecognized"], 9);
    assert_has(
        &input_counts(&r, 0),
        json!({"format": "postfix", "unit": "lines", "total": 10, "parsed": 1, "ignored": 0,
               "ignored_by_kind": {}, "unrecognized": 9, "events": 1, "error": null}),
    );
    // The one good line still counts.
    assert_eq!(r["totals"]["delivered"], 1);
}

/// Line numbers are the file's own: a blank line still takes a number.
#[test]
fn unparsed_line_numbers_count_blank_lines() {
    let r = analyze(&[&fixture("basic.log")], &["--show-unparsed"]);
    let s = &r["unrecognized_samples"][0];
    assert_eq!(s["text"], "this line is not a log line at all");
    assert_eq!(s["line"], 42);
}
