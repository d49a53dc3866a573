//! `analyze --by DIM` (issue 5): the three KPIs per group, table and JSON, for exports
//! and Postfix logs.

use crate::common::{analyze, run_ok};

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
    let dims: Vec<&str> = r["by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["dimension"].as_str().unwrap())
        .collect();
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
