//! `analyze --by DIM` (issue 5): the three KPIs per group, table and JSON, for exports
//! and Postfix logs.

use crate::common::{analyze, run_ok, strings};

fn groups(r: &serde_json::Value, i: usize) -> Vec<(String, u64, u64)> {
    r["by"][i]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["deliveries"].as_u64().unwrap(),
                g["failed"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_dimension_on_an_export() {
    let f = "tests/fixtures/export/mailgun-page.json";
    let r = analyze(
        &[f],
        &[
            "--by",
            "campaign",
            "--by",
            "step",
            "--by",
            "domain",
            "--by",
            "provider",
            "--by",
            "sender-domain",
            "--by",
            "host",
            "--by",
            "day",
            "--by",
            "recipient-domain",
        ],
    );
    let dims = strings(&r["by"], "dimension");
    assert_eq!(
        dims,
        [
            "campaign",
            "step",
            "domain",
            "provider",
            "sender-domain",
            "host",
            "day",
            "recipient-domain"
        ]
    );
    assert_eq!(groups(&r, 0), [("spring".into(), 3, 2)]);
    assert_eq!(groups(&r, 1), [("(none)".into(), 3, 2)]);
    assert_eq!(
        groups(&r, 2),
        [("y.example".into(), 2, 2), ("x.example".into(), 1, 0)]
    );
    assert_eq!(groups(&r, 4), [("mg.example.com".into(), 3, 2)]);
    assert_eq!(
        groups(&r, 5),
        [("198.51.100.2".into(), 2, 2), ("198.51.100.1".into(), 1, 0)]
    );
    assert_eq!(groups(&r, 6), [("2025-03-04".into(), 3, 2)]);
    // An export column (a JSON key) works as a dimension.
    // Only the first record of the fixture has `recipient-domain`.
    assert_eq!(
        groups(&r, 7),
        [("(none)".into(), 2, 2), ("x.example".into(), 1, 0)]
    );
}

#[test]
fn step_and_column_on_a_csv_in_table_output() {
    let f = "tests/fixtures/export/generic-excel.csv";
    let r = analyze(&[f], &["--by", "step", "--by", "Industry", "--top", "1"]);
    // --top 1: step 2 shown, step 1 summed as (other).
    assert_eq!(
        groups(&r, 0),
        [("2".into(), 2, 2), ("(other)".into(), 1, 0)]
    );
    assert_eq!(r["by"][0]["other_groups"], 1);
    assert_eq!(groups(&r, 1)[0], ("retail".into(), 2, 2));
    let out = run_ok(&["analyze", f, "--by", "step"]).stdout;
    assert!(out.contains("By step (2 groups)"), "{out}");
}

#[test]
fn postfix_logs_group_by_host_campaign_and_day() {
    let f = "examples/maillog";
    let r = analyze(
        &[f],
        &[
            "--by",
            "host",
            "--by",
            "campaign",
            "--by",
            "day",
            "--by",
            "sender-domain",
        ],
    );
    for i in 0..4 {
        let total: u64 = groups(&r, i).iter().map(|g| g.1).sum();
        assert_eq!(
            total,
            r["totals"]["deliveries"].as_u64().unwrap(),
            "dimension {i}"
        );
    }
    assert!(!groups(&r, 0).iter().any(|g| g.0 == "(none)"));
}

const DIMENSIONS: [&str; 7] = [
    "campaign",
    "step",
    "domain",
    "provider",
    "sender-domain",
    "host",
    "day",
];

/// `analyze FILE --by DIM` in table form: the section header and each group's row.
fn table_shows(file: &str, dim: &str, groups: &[&str]) {
    let out = run_ok(&["analyze", "--year", "2026", file, "--by", dim]).stdout;
    let header = format!("By {dim} (");
    assert!(out.contains(&header), "{dim}: no {header:?} in\n{out}");
    let section = &out[out.find(&header).unwrap()..];
    for g in groups {
        assert!(
            section.lines().any(|l| l.contains(g)),
            "{dim}: no row {g:?} in\n{section}"
        );
    }
}

/// The JSON report of `file` grouped by every built-in dimension and then `column`,
/// each of whose groups add up to all deliveries; with that total.
fn by_every_dimension(file: &str, column: &str) -> (serde_json::Value, u64) {
    let mut args = Vec::new();
    for d in DIMENSIONS.iter().chain(&[column]) {
        args.extend(["--by", d]);
    }
    let r = analyze(&[file], &args);
    let deliveries = r["totals"]["deliveries"].as_u64().unwrap();
    for i in 0..8 {
        let total: u64 = groups(&r, i).iter().map(|g| g.1).sum();
        assert_eq!(total, deliveries, "dimension {i}");
    }
    (r, deliveries)
}

#[test]
fn every_dimension_on_an_export_in_table_and_json() {
    let f = "tests/fixtures/export/sparkpost-webhook.json";
    let (r, deliveries) = by_every_dimension(f, "rcpt_meta.segment");
    assert_eq!(deliveries, 6);
    assert_eq!(groups(&r, 0), [("autumn".into(), 6, 4)]);
    assert_eq!(groups(&r, 1), [("(none)".into(), 6, 4)]);
    assert_eq!(groups(&r, 2)[0], ("beta.example".into(), 1, 1));
    assert_eq!(r["by"][2]["total_groups"], 6);
    // The out-of-band bounce names no sender.
    assert_eq!(
        groups(&r, 4),
        [("send.example.com".into(), 5, 3), ("(none)".into(), 1, 1)]
    );
    assert_eq!(
        groups(&r, 5),
        [
            ("192.0.2.10".into(), 3, 2),
            ("192.0.2.11".into(), 2, 1),
            ("(none)".into(), 1, 1)
        ]
    );
    assert_eq!(
        groups(&r, 6),
        [("2025-03-04".into(), 5, 3), ("2025-03-07".into(), 1, 1)]
    );
    // A JSON key of the export, flattened, as a custom column.
    assert_eq!(r["by"][7]["dimension"], "rcpt_meta.segment");
    assert_eq!(
        groups(&r, 7),
        [
            ("smb".into(), 3, 1),
            ("enterprise".into(), 2, 2),
            ("(none)".into(), 1, 1)
        ]
    );
    table_shows(f, "campaign", &["autumn"]);
    table_shows(f, "step", &["(none)"]);
    table_shows(f, "domain", &["beta.example", "epsilon.example"]);
    table_shows(f, "provider", &["other"]);
    table_shows(f, "sender-domain", &["send.example.com"]);
    table_shows(f, "host", &["192.0.2.10", "192.0.2.11"]);
    table_shows(f, "day", &["2025-03-04", "2025-03-07"]);
    table_shows(f, "rcpt_meta.segment", &["smb", "enterprise"]);
}

#[test]
fn campaign_step_and_column_on_a_sequencer_csv() {
    let f = "tests/fixtures/export/snovio-campaign.csv";
    let r = analyze(
        &[f],
        &[
            "--by", "campaign", "--by", "step", "--by", "list", "--by", "day",
        ],
    );
    assert_eq!(groups(&r, 0), [("Spring drip".into(), 5, 2)]);
    assert_eq!(groups(&r, 1), [("1".into(), 4, 2), ("2".into(), 1, 0)]);
    // Column names match case-insensitively; the report keeps the name as given.
    assert_eq!(r["by"][2]["dimension"], "list");
    assert_eq!(
        groups(&r, 2),
        [("Web leads".into(), 3, 0), ("Bought list".into(), 2, 2)]
    );
    assert_eq!(
        groups(&r, 3),
        [("2025-03-04".into(), 4, 2), ("2025-03-07".into(), 1, 0)]
    );
    table_shows(f, "step", &["1", "2"]);
    table_shows(f, "List", &["Web leads", "Bought list"]);
    table_shows(f, "campaign", &["Spring drip"]);
}

#[test]
fn every_dimension_on_postfix_logs_in_table_and_json() {
    let f = "examples/maillog";
    let (r, _) = by_every_dimension(f, "Industry");
    // The campaign of the VERP envelope sender; logs have no step and no columns.
    assert_eq!(groups(&r, 0), [("spring-sale".into(), 836, 84)]);
    assert_eq!(groups(&r, 1), [("(none)".into(), 836, 84)]);
    assert_eq!(r["by"][2]["total_groups"], 15);
    assert_eq!(groups(&r, 2)[0], ("outlook.com".into(), 79, 8));
    assert_eq!(groups(&r, 3)[0], ("Microsoft".into(), 209, 26));
    assert_eq!(groups(&r, 4), [("news.example.net".into(), 836, 84)]);
    assert_eq!(
        groups(&r, 5),
        [("mta-2".into(), 444, 49), ("mta-1".into(), 392, 35)]
    );
    assert_eq!(
        groups(&r, 6),
        [
            ("2026-11-22".into(), 819, 67),
            ("2026-11-27".into(), 17, 17)
        ]
    );
    assert_eq!(groups(&r, 7), [("(none)".into(), 836, 84)]);
    table_shows(f, "campaign", &["spring-sale"]);
    table_shows(f, "step", &["(none)"]);
    table_shows(f, "domain", &["outlook.com", "gmail.com"]);
    table_shows(f, "provider", &["Microsoft", "Gmail"]);
    table_shows(f, "sender-domain", &["news.example.net"]);
    table_shows(f, "host", &["mta-1", "mta-2"]);
    table_shows(f, "day", &["2026-11-22", "2026-11-27"]);
    table_shows(f, "Industry", &["(none)"]);
}
