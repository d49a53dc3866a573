//! Diagnoses in `bouncex analyze`, end to end on the logs written by
//! `scripts/make-diagnose-fixtures.py` (the script's table says what each log is built
//! to trigger). The exact list of ids per log is asserted, so every diagnosis a log was
//! not built for is checked not to fire; `healthy.log` fires nothing but the band.
//! Each rule's thresholds are unit-tested in `src/report/diagnose/tests.rs`.

use serde_json::{Value, json};

use crate::common::*;

fn diag(name: &str) -> String {
    format!("tests/fixtures/diagnose/{name}")
}

fn diagnoses(name: &str) -> Vec<Value> {
    let report = analyze(&[&diag(name)], &[]);
    assert_eq!(report["unrecognized"], 0, "{name} is fully understood");
    report["diagnoses"].as_array().expect("diagnoses").clone()
}

fn ids(diagnoses: &[Value]) -> Vec<&str> {
    diagnoses
        .iter()
        .map(|d| d["id"].as_str().expect("an id"))
        .collect()
}

fn find<'a>(diagnoses: &'a [Value], id: &str) -> &'a Value {
    diagnoses
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {diagnoses:#?}"))
}

#[test]
fn healthy_log_has_only_the_band() {
    let d = diagnoses("healthy.log");
    assert_eq!(
        d,
        [json!({
            "id": "bounce_rate_band",
            "severity": "info",
            "title": "Legacy bounce rate 0.25%: excellent",
            "evidence": {"band": "excellent", "bounce_rate": 0.0025, "deliveries": 400, "failed": 1},
            "action": "Keep suppressing hard bounces as they come.",
        })]
    );
}

#[test]
fn list_rot_log_diagnoses() {
    let d = diagnoses("list-rot.log");
    assert_eq!(
        ids(&d),
        [
            "bounce_rate_band",
            "list_aging",
            "list_rot_concentrated",
            "bounces_uneven"
        ]
    );
    let band = find(&d, "bounce_rate_band");
    assert_eq!(
        (&band["severity"], &band["evidence"]["band"]),
        (&json!("critical"), &json!("serious"))
    );
    assert_eq!(
        find(&d, "list_rot_concentrated")["evidence"],
        json!({
            "domains": "oldco.example, merged.example, gone.example",
            "list_rot_at_domains": 36,
            "list_rot_total": 50,
            "share_of_list_rot": 0.72,
            "share_of_deliveries": 0.15,
        })
    );
    let aging = &find(&d, "list_aging")["evidence"];
    assert_eq!(aging["first_half_share"], 0.2);
    assert_eq!(aging["second_half_share"], 0.8);
    assert_eq!(
        (
            &aging["first_half_failures"],
            &aging["second_half_failures"]
        ),
        (&json!(25), &json!(25))
    );
    let uneven = &find(&d, "bounces_uneven")["evidence"];
    assert_eq!(uneven["highest_segment"], "oldco.example");
    assert_eq!(uneven["highest_bounce_rate"], 0.26);
    assert_eq!(uneven["pooled_bounce_rate"], 0.05);
}

#[test]
fn infra_log_diagnoses() {
    let d = diagnoses("infra.log");
    assert_eq!(
        ids(&d),
        [
            "bounce_rate_band",
            "connection_failures",
            "infrastructure_rot",
            "microsoft_4_7_651",
            "provider_throttling",
            "bounces_uniform",
        ]
    );
    assert_eq!(
        find(&d, "bounce_rate_band")["evidence"]["band"],
        "attention"
    );
    assert_eq!(
        find(&d, "infrastructure_rot")["evidence"],
        json!({"infrastructure": 14, "failed": 20, "share_of_failures": 0.7, "threshold": 0.3})
    );
    // Six Outlook.com recipients, three 4.7.651 deferrals each.
    assert_eq!(
        find(&d, "microsoft_4_7_651")["evidence"],
        json!({"attempts": 18})
    );
    assert_eq!(
        find(&d, "connection_failures")["evidence"],
        json!({
            "attempts": 4,
            "connection_failures": 4,
            "refused_at_greeting": 0,
            "top_domain": "oldcorp.example",
            "top_domain_attempts": 4,
        })
    );
    let throttling = &find(&d, "provider_throttling")["evidence"];
    assert_eq!(throttling["provider"], "Yahoo");
    // 6 expired x 3 deferrals + 20 deferred once; the 18 at Microsoft are the rest.
    assert_eq!(throttling["throttled_deferrals"], 38);
    assert_eq!(throttling["throttled_deferrals_total"], 56);
    assert_eq!(find(&d, "bounces_uniform")["evidence"]["segments"], 4);
}

#[test]
fn blocklist_log_diagnoses() {
    let d = diagnoses("blocklist.log");
    assert_eq!(
        ids(&d),
        [
            "blocklisting",
            "broken_authentication",
            "abandoned_mailboxes",
            "bounce_rate_band",
            "content_campaign",
            "bounces_uniform",
        ]
    );
    assert_eq!(
        find(&d, "blocklisting")["evidence"],
        json!({
            "receivers": "Gmail, Microsoft",
            "receiver_count": 2,
            "blocks_in_window": 5,
            "blocks_total": 5,
            "window_start": "2026-03-02T08:00:00Z",
            "blocklists": "Barracuda, Spamhaus",
        })
    );
    assert_eq!(
        find(&d, "broken_authentication")["evidence"],
        json!({
            "failures": 3,
            "mechanisms": "DMARC, SPF",
            "dmarc_fail": 2,
            "spf_fail": 1,
            "enhanced_codes": "5.7.23 x1, 5.7.26 x2",
        })
    );
    let content = &find(&d, "content_campaign")["evidence"];
    assert_eq!(content["campaign"], "spring-sale");
    assert_eq!(
        (
            &content["content_rejections"],
            &content["content_rejections_total"]
        ),
        (&json!(8), &json!(9))
    );
    assert_eq!(
        find(&d, "abandoned_mailboxes")["evidence"],
        json!({"addresses": 2, "mailbox_full_attempts": 6, "example": "user004@acme.example"})
    );
}

#[test]
fn basic_log_diagnoses() {
    // Ten deliveries, four failed: too few for any share-based rule.
    let report = analyze(&[&fixture("basic.log")], &[]);
    let d = report["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(ids(d), ["bounce_rate_band", "broken_authentication"]);
    assert_eq!(d[0]["evidence"]["band"], "stop sending");
}

#[test]
fn table_lists_diagnoses_with_evidence_and_action() {
    let r = run_ok(&["analyze", &diag("list-rot.log")]);
    let out = &r.stdout;
    let start = out
        .find("\nDiagnoses\n")
        .unwrap_or_else(|| panic!("no Diagnoses section:\n{out}"));
    let section: Vec<&str> = out[start + 1..].lines().take(4).collect();
    assert_eq!(
        section,
        [
            "Diagnoses",
            "[critical] bounce_rate_band: Legacy bounce rate 5.00%: serious",
            "    evidence: band serious, bounce_rate 5.00%, deliveries 1000, failed 50",
            "    action: Receivers take notice at this rate: clean the list (bouncex suppress) and fix the causes above before sending more.",
        ]
    );
    assert!(
        out.contains("[warning] list_rot_concentrated: List rot concentrated at oldco.example, merged.example, gone.example\n    evidence: domains oldco.example, merged.example, gone.example, list_rot_at_domains 36, list_rot_total 50, share_of_deliveries 15.00%, share_of_list_rot 72.00%\n"),
        "{out}"
    );
}

#[test]
fn empty_input_has_no_diagnoses() {
    let report = analyze(&[&fixture("empty.log")], &[]);
    assert_eq!(report["diagnoses"], json!([]));
}
