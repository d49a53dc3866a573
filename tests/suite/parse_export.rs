//! CSV and JSON exports (issue 5): fixtures written from the documented layouts in
//! `../shared/reference/esp-exports.md`, every row accounted for.

use crate::common::{analyze, events};

#[test]
fn excel_csv_with_sep_line_bom_multiline_and_bad_rows() {
    let r = analyze(
        &["tests/fixtures/export/generic-excel.csv"],
        &["--show-unparsed"],
    );
    let i = &r["inputs"][0];
    assert_eq!(i["format"], "csv");
    assert_eq!(i["unit"], "rows");
    // sep line (ignored), header + 4 good rows (parsed), 3 bad rows.
    assert_eq!(
        (i["total"].as_u64(), i["parsed"].as_u64()),
        (Some(9), Some(5))
    );
    assert_eq!(
        (i["ignored"].as_u64(), i["unrecognized"].as_u64()),
        (Some(1), Some(3))
    );
    let t = &r["totals"];
    assert_eq!(t["deliveries"], 3);
    assert_eq!(t["bounced"], 2);
    assert_eq!(t["unclassifiable"], 1);
    assert_eq!(t["status_only_share"], 0.5);
    assert_eq!(t["suppressed"], 1);
    let reasons: Vec<&str> = r["unrecognized_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["malformed address", "unknown status", "wrong column count"]
    );
    assert_eq!(r["unrecognized_samples"][0]["line"], 8);
}

#[test]
fn multiline_quoted_diagnostic_is_classified() {
    let ev = events("tests/fixtures/export/generic-excel.csv", false);
    let bob = ev
        .iter()
        .find(|e| e["recipient"] == "bob@b.example")
        .unwrap();
    assert_eq!(bob["reason"], "user_unknown");
    assert_eq!(bob["enhanced_code"], "5.1.1");
    assert_eq!(bob["time"], "2025-03-04T09:00:04Z");
    assert_eq!(bob["source"]["line"], 4);
    let cid = ev
        .iter()
        .find(|e| e["recipient"] == "cid@c.example")
        .unwrap();
    assert_eq!(cid["reason"], "unclassifiable");
    assert_eq!(cid["time"], "2025-03-04T09:00:00Z");
}

#[test]
fn mailgun_page_expiry_and_pseudo_code() {
    let r = analyze(&["tests/fixtures/export/mailgun-page.json"], &[]);
    let t = &r["totals"];
    assert_eq!(r["inputs"][0]["format"], "json");
    assert_eq!(t["deliveries"], 3);
    assert_eq!(t["expired"], 1);
    assert_eq!(t["bounced"], 1);
    assert_eq!(t["suppressed"], 1);
    assert_eq!(r["kpis"]["infrastructure"]["count"], 1);
    let ev = events("tests/fixtures/export/mailgun-page.json", false);
    assert_eq!(ev[0]["agent"], "export/mailgun-events");
}

#[test]
fn ndjson_webhook_one_delivery_per_message_and_recipient() {
    let r = analyze(&["tests/fixtures/export/sendgrid-webhook.ndjson"], &[]);
    let t = &r["totals"];
    assert_eq!(t["deliveries"], 2);
    assert_eq!(t["delivered"], 1);
    assert_eq!(r["kpis"]["reputation"]["count"], 1);
    assert_eq!(t["suppressed"], 1);
    let d = events("tests/fixtures/export/sendgrid-webhook.ndjson", true);
    assert_eq!(d.len(), 2);
}

#[test]
fn forced_preset_and_map() {
    let r = analyze(
        &["tests/fixtures/export/generic-excel.csv"],
        &["--preset", "generic", "--map", "campaign=Industry"],
    );
    assert_eq!(r["totals"]["deliveries"], 3);
    let r = crate::common::run(&[
        "analyze",
        "--map",
        "nonsense=x",
        "tests/fixtures/export/generic-excel.csv",
    ]);
    assert_eq!(r.code, 2);
}

#[test]
fn a_file_that_is_not_csv_is_a_clear_error() {
    let r = crate::common::run(&[
        "analyze",
        "--input-format",
        "csv",
        "tests/fixtures/export/mailgun-page.json",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("not a csv export: no header with a recipient column"),
        "{}",
        r.stderr
    );
}
