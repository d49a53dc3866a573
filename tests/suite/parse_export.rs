//! CSV and JSON exports (issue 5): fixtures written from the documented layouts in
//! `../shared/reference/esp-exports.md`, every row accounted for.

use crate::common::{analyze, assert_balanced, assert_has, events, one, strings};
use serde_json::{Value, json};

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
    let reasons = strings(&r["unrecognized_samples"], "reason");
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

// ---- Layouts written from the documentation alone (no vendor sample) -----------------

/// Every event of a fixture carries this preset's agent (the preset was detected).
fn detected(file: &str, preset: &str) {
    let ev = events(file, false);
    assert!(!ev.is_empty(), "{file}: no events");
    for e in &ev {
        assert_eq!(e["agent"], format!("export/{preset}"), "{file}: {e}");
    }
}

/// The balanced report of a fixture whose preset is detected.
fn detected_report(file: &str, preset: &str) -> Value {
    let r = analyze(&[file], &[]);
    assert_balanced(&r);
    detected(file, preset);
    r
}

#[test]
fn sparkpost_webhook_batch_with_msys_wrappers_and_bounce_classes() {
    let f = "tests/fixtures/export/sparkpost-webhook.json";
    let r = detected_report(f, "sparkpost");
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "unit": "records", "total": 12, "parsed": 12,
               "ignored": 0, "unrecognized": 0, "events": 10}),
    );
    // ada (injection, delivery, open, complaint), bo, cy (delay then delivery), dee,
    // eve (class 24 timeout), gus (out_of_band); fay (class 25) and hal (policy
    // rejection) are SparkPost's own refusals.
    assert_has(
        &r["totals"],
        json!({"deliveries": 6, "delivered": 2, "bounced": 3, "expired": 1,
               "delivered_after_deferral": 1, "unclassifiable": 0, "suppressed": 2}),
    );
    assert_eq!(r["kpis"]["list_rot"]["count"], 2);
    assert_eq!(r["kpis"]["reputation"]["count"], 1);
    assert_eq!(r["kpis"]["infrastructure"]["count"], 1);
    let d = events(f, true);
    let bo = one(&d, "bo@beta.example");
    assert_has(
        bo,
        json!({"outcome": "bounced", "reply_code": 550, "enhanced_code": "5.1.1",
               "reason": "user_unknown", "campaign": "autumn", "mta_host": "192.0.2.10",
               "message_id": "sp-2", "sender": "news@send.example.com",
               "last_time": "2025-03-04T09:00:03Z"}),
    );
    assert_eq!(bo["extra"]["rcpt_meta.segment"], "enterprise");
    // The timeout class: SparkPost gave up after 4xx replies.
    assert_has(
        one(&d, "eve@epsilon.example"),
        json!({"outcome": "expired", "reply_code": 554, "enhanced_code": "5.4.7",
               "kpi": "infrastructure"}),
    );
    assert_has(
        one(&d, "cy@gamma.example"),
        json!({"outcome": "delivered", "deferrals": 1, "reply_code": 452}),
    );
    assert_has(
        one(&d, "ada@alpha.example"),
        json!({"outcome": "delivered"}),
    );
    let ev = events(f, false);
    let fay = one(&ev, "fay@zeta.example");
    assert_eq!(fay["reason"], "suppressed");
    assert_eq!(one(&ev, "hal@theta.example")["reason"], "suppressed");
}

#[test]
fn mandrill_rejects_with_duplicated_header_and_smtp_prefixed_detail() {
    let f = "tests/fixtures/export/mandrill-rejects.csv";
    let r = analyze(&[f], &["--show-unparsed"]);
    assert_balanced(&r);
    detected(f, "mandrill-rejects");
    // header + 7 rows parsed, one malformed address.
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 9, "parsed": 8, "ignored": 0, "unrecognized": 1,
               "events": 7}),
    );
    assert_eq!(r["unrecognized_samples"][0]["line"], 9);
    assert_eq!(r["unrecognized_samples"][0]["reason"], "malformed address");
    // Hard and soft bounces are failures; spam/unsub are not bounces; a custom reject
    // is a suppression; a bounce without detail is status-only.
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 0, "bounced": 4, "unclassifiable": 1,
               "status_only_share": 0.25, "suppressed": 1}),
    );
    let ev = events(f, false);
    assert_has(
        one(&ev, "ana@one.example"),
        json!({"reply_code": 550, "enhanced_code": "5.1.1", "reason": "user_unknown",
               "diagnostic": "550 5.1.1 The email account that you tried to reach does not exist.",
               "time": "2025-03-04T09:00:04.123400Z", "campaign": "outbound-eu"}),
    );
    assert_eq!(
        one(&ev, "ana@one.example")["extra"]["expires_at_2"],
        "2025-06-02 09:00:04.1234"
    );
    assert_has(
        one(&ev, "ben@two.example"),
        json!({"reply_code": 552, "enhanced_code": "5.2.2"}),
    );
    assert_eq!(one(&ev, "cat@three.example")["bucket"], "reputation");
    assert_eq!(one(&ev, "dan@four.example")["reason"], "not_a_bounce");
    assert_eq!(one(&ev, "fox@six.example")["reason"], "suppressed");
    assert_eq!(one(&ev, "gil@seven.example")["reason"], "unclassifiable");
}

#[test]
fn hubspot_recipients_csv_with_bom_and_true_false_flags() {
    let f = "tests/fixtures/export/hubspot-recipients.csv";
    let r = detected_report(f, "hubspot-recipients");
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 8, "parsed": 8, "ignored": 0, "unrecognized": 0}),
    );
    // Bounce = TRUE is a failure (status-only: a Bounce Reason category, no code);
    // a Not Sent Reason is HubSpot not sending; every other row was sent.
    assert_has(
        &r["totals"],
        json!({"deliveries": 5, "delivered": 3, "bounced": 2, "unclassifiable": 2,
               "status_only_share": 1.0, "suppressed": 2}),
    );
    let ev = events(f, false);
    let kim = one(&ev, "kim@east.example");
    assert_has(
        kim,
        json!({"action": "bounced", "reason": "unclassifiable", "reply_code": null,
               "time": "2025-03-04T09:01:00Z"}),
    );
    assert!(kim["evidence"].as_str().unwrap().contains("UNKNOWN_USER"));
    assert_eq!(one(&ev, "max@north.example")["reason"], "suppressed");
    let d = events(f, true);
    assert_eq!(one(&d, "ivy@north.example")["outcome"], "delivered");
}

#[test]
fn instantly_lead_list_status_codes() {
    let f = "tests/fixtures/export/instantly-leads.json";
    let r = detected_report(f, "instantly");
    // 7 leads: -3 (skipped) ignored, the rest parsed.
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "total": 7, "parsed": 6, "ignored": 1, "unrecognized": 0,
               "ignored_by_kind": {"skipped lead": 1}}),
    );
    // -1 Bounced (x2, status-only), 1/2/3 contacted, -2 unsubscribed (not a bounce).
    assert_has(
        &r["totals"],
        json!({"deliveries": 5, "delivered": 3, "bounced": 2, "unclassifiable": 2,
               "status_only_share": 1.0, "suppressed": 0}),
    );
    let d = events(f, true);
    assert_has(
        one(&d, "rae@mike.example"),
        json!({"outcome": "bounced", "reason": "unclassifiable", "step": "step-2",
               "campaign": "c0ffee00-0000-4000-8000-00000000a001",
               "last_time": "2025-03-06T10:00:00Z"}),
    );
    assert_eq!(
        one(&d, "quin@mike.example")["extra"]["verification_status"],
        "-3"
    );
}

// ---- Status-only sequencer exports --------------------------------------------------

#[test]
fn lemlist_activities_one_delivery_per_step() {
    let f = "tests/fixtures/export/lemlist-activities.json";
    let r = analyze(&[f], &["--by", "step"]);
    assert_balanced(&r);
    detected(f, "lemlist");
    assert_has(
        &r["inputs"][0],
        json!({"total": 10, "parsed": 9, "ignored": 1, "unrecognized": 0,
               "ignored_by_kind": {"non-email activity": 1}}),
    );
    // amy step 0 (bounced), bea step 0 (opened) and step 1 (bounced), cal step 0
    // (replied, then unsubscribed: not a bounce).
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 2, "bounced": 2, "unclassifiable": 2,
               "status_only_share": 1.0}),
    );
    let groups: Vec<(&str, u64, u64)> = r["by"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap(),
                g["deliveries"].as_u64().unwrap(),
                g["failed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(groups, [("0", 3, 1), ("1", 1, 1)]);
    let ev = events(f, false);
    let cal = one(&ev, "cal@fine.example");
    assert_has(
        cal,
        json!({"reason": "not_a_bounce", "campaign": "Q2 outbound"}),
    );
}

#[test]
fn apollo_contacts_bounced_flag_not_verification_status() {
    let f = "tests/fixtures/export/apollo-contacts.csv";
    let r = analyze(&[f], &["--by", "Email Status"]);
    assert_balanced(&r);
    detected(f, "apollo");
    // header + 4 contacted; one never contacted (Email Sent = false) is ignored.
    assert_has(
        &r["inputs"][0],
        json!({"total": 6, "parsed": 5, "ignored": 1, "unrecognized": 0,
               "ignored_by_kind": {"not contacted": 1}}),
    );
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 2, "bounced": 2, "unclassifiable": 2,
               "status_only_share": 1.0}),
    );
    // `Email Status` (verification) is a column to group by, not the delivery status.
    assert_eq!(r["by"][0]["dimension"], "Email Status");
    assert_eq!(r["by"][0]["groups"][0]["name"], "Verified");
    assert_eq!(r["by"][0]["groups"][0]["deliveries"], 3);
    assert_eq!(r["by"][0]["groups"][0]["failed"], 1);
}

#[test]
fn snovio_like_status_csv_is_read_by_the_generic_mode() {
    let f = "tests/fixtures/export/snovio-campaign.csv";
    let r = analyze(&[f], &["--show-unparsed"]);
    assert_balanced(&r);
    detected(f, "generic");
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 9, "parsed": 8, "ignored": 0, "unrecognized": 1}),
    );
    assert_eq!(r["unrecognized_samples"][0]["reason"], "malformed address");
    // fox step 1 (sent + opened) and step 2 (replied), gia, hal, jo; ivo unsubscribed.
    assert_has(
        &r["totals"],
        json!({"deliveries": 5, "delivered": 3, "bounced": 2, "unclassifiable": 2,
               "status_only_share": 1.0}),
    );
    let ev = events(f, false);
    assert_has(
        one(&ev, "gia@two.example"),
        json!({"reason": "unclassifiable", "campaign": "Spring drip", "step": "1",
               "extra": {"Full name": "Gia Two", "List": "Bought list"}}),
    );
}

// ---- ESP presets, fixtures written from the documented layouts -----------------------

/// The `reply_code`, `enhanced_code`, `reason` and `bucket` of a recipient's one event.
fn codes(
    ev: &[serde_json::Value],
    rcpt: &str,
    reply: u64,
    enhanced: &str,
    reason: &str,
    bucket: &str,
) {
    assert_has(
        one(ev, rcpt),
        json!({"reply_code": reply, "enhanced_code": enhanced, "reason": reason,
               "bucket": bucket}),
    );
}

#[test]
fn sendgrid_activity_csv_one_row_per_event() {
    let f = "tests/fixtures/export/sendgrid-activity.csv";
    let r = detected_report(f, "sendgrid-activity");
    // header + 11 rows: processed rows feed the delivery, only results are events.
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 12, "parsed": 12, "ignored": 0, "unrecognized": 0,
               "events": 6}),
    );
    // amy delivered (then opened), bert bounce, cleo deferred then delivered, emil
    // blocked; dora dropped ("Bounced Address") is SendGrid's suppression.
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 2, "delivered_after_deferral": 1, "bounced": 2,
               "expired": 0, "unclassifiable": 0, "suppressed": 1}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "bert@beta.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    codes(
        &ev,
        "emil@epsilon.example",
        554,
        "5.7.1",
        "blocklisted",
        "reputation",
    );
    assert_eq!(one(&ev, "dora@delta.example")["reason"], "suppressed");
    let d = events(f, true);
    assert_has(
        one(&d, "cleo@gamma.example"),
        json!({"outcome": "delivered", "attempts": 2, "deferrals": 1,
               "campaign": "Spring launch", "mta_host": "203.0.113.15"}),
    );
}

#[test]
fn mailgun_bounce_list_rfc2822_dates_and_empty_code() {
    let f = "tests/fixtures/export/mailgun-bounces.csv";
    let r = detected_report(f, "mailgun-bounces");
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 5, "parsed": 5, "ignored": 0, "unrecognized": 0,
               "events": 4}),
    );
    // Every row is a permanent failure; jack has neither code nor error.
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 0, "bounced": 4, "expired": 0,
               "unclassifiable": 1, "suppressed": 0}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "gail@golf.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    codes(
        &ev,
        "hugo@hotel.example",
        552,
        "5.2.2",
        "mailbox_full",
        "list_rot",
    );
    codes(
        &ev,
        "iris@india.example",
        554,
        "5.7.1",
        "policy_block",
        "reputation",
    );
    assert_eq!(
        one(&ev, "iris@india.example")["time"],
        "2025-03-03T22:30:00Z"
    );
    assert_has(
        one(&ev, "jack@juliet.example"),
        json!({"reason": "unclassifiable", "reply_code": null}),
    );
}

#[test]
fn postmark_bounces_page_types_and_smtp_prefixed_details() {
    let f = "tests/fixtures/export/postmark-bounces.json";
    let r = detected_report(f, "postmark");
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "unit": "records", "total": 5, "parsed": 5, "ignored": 0,
               "unrecognized": 0, "events": 5}),
    );
    // HardBounce and SoftBounce fail; Transient is a deferral (pending); AutoResponder
    // is not a bounce; ManuallyDeactivated is Postmark's suppression.
    assert_has(
        &r["totals"],
        json!({"deliveries": 2, "delivered": 0, "bounced": 2, "expired": 0, "pending": 1,
               "unclassifiable": 0, "suppressed": 1}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "kate@kilo.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    assert_has(
        one(&ev, "kate@kilo.example"),
        json!({"time": "2025-03-04T14:00:04.123456Z", "campaign": "welcome",
               "diagnostic": "550 5.1.1 The email account that you tried to reach does not exist."}),
    );
    codes(
        &ev,
        "liam@lima.example",
        452,
        "4.2.2",
        "mailbox_full",
        "transient",
    );
    assert_has(
        one(&ev, "mona@mike.example"),
        json!({"action": "deferred", "reply_code": 421, "enhanced_code": "4.4.2"}),
    );
    assert_eq!(one(&ev, "nils@november.example")["reason"], "not_a_bounce");
    assert_eq!(one(&ev, "olga@oscar.example")["reason"], "suppressed");
}

#[test]
fn ses_sns_envelopes_one_event_per_recipient() {
    let f = "tests/fixtures/export/ses-sns-notifications.json";
    let r = detected_report(f, "ses");
    // 6 envelopes (one bounce names two recipients): 7 events.
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "total": 6, "parsed": 6, "ignored": 0, "unrecognized": 0,
               "events": 7}),
    );
    // pia, quin, sam bounce; tess delivered; uma delayed (pending); rosa suppressed by
    // SES; vic's complaint is not a bounce.
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 1, "bounced": 3, "expired": 0, "pending": 1,
               "unclassifiable": 0, "suppressed": 1}),
    );
    let ev = events(f, false);
    for rcpt in ["pia@papa.example", "quin@papa.example"] {
        codes(&ev, rcpt, 550, "5.1.1", "user_unknown", "list_rot");
        assert_eq!(one(&ev, rcpt)["message_id"], "0102018f-mail-0001");
    }
    codes(
        &ev,
        "sam@sierra.example",
        552,
        "5.2.2",
        "mailbox_full",
        "list_rot",
    );
    assert_has(
        one(&ev, "uma@uniform.example"),
        json!({"action": "deferred", "reply_code": 421, "enhanced_code": "4.4.1",
               "bucket": "infrastructure", "campaign": "march-invoices"}),
    );
    assert_eq!(one(&ev, "rosa@romeo.example")["reason"], "suppressed");
    assert_eq!(one(&ev, "vic@victor.example")["reason"], "not_a_bounce");
}

#[test]
fn mailchimp_cleaned_members_are_status_only_bounces() {
    let f = "tests/fixtures/export/mailchimp-cleaned.csv";
    let r = detected_report(f, "mailchimp-cleaned");
    assert_has(
        &r["inputs"][0],
        json!({"format": "csv", "total": 4, "parsed": 4, "ignored": 0, "unrecognized": 0,
               "events": 3}),
    );
    assert_has(
        &r["totals"],
        json!({"deliveries": 3, "delivered": 0, "bounced": 3, "expired": 0,
               "unclassifiable": 3, "status_only_share": 1.0, "suppressed": 0}),
    );
    let ev = events(f, false);
    assert_has(
        one(&ev, "wes@whiskey.example"),
        json!({"reason": "unclassifiable", "reply_code": null, "campaign": "March newsletter",
               "time": "2025-03-04T09:00:00Z", "extra": {"TAGS": "\"Customer\",\"Trial\""}}),
    );
}

#[test]
fn hubspot_email_events_epoch_ms_and_drop_reason() {
    let f = "tests/fixtures/export/hubspot-email-events.json";
    let r = detected_report(f, "hubspot-events");
    // PROCESSED and SENT feed zoe's delivery; 6 result events.
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "total": 8, "parsed": 8, "ignored": 0, "unrecognized": 0,
               "events": 6}),
    );
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 2, "delivered_after_deferral": 1, "bounced": 2,
               "expired": 0, "unclassifiable": 0, "suppressed": 1}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "abe@alpha2.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    assert_eq!(
        one(&ev, "abe@alpha2.example")["time"],
        "2025-03-04T09:00:04Z"
    );
    codes(
        &ev,
        "dee@delta2.example",
        554,
        "5.7.1",
        "policy_block",
        "reputation",
    );
    assert_has(
        one(&ev, "cal@charlie2.example"),
        json!({"reason": "suppressed", "campaign": "3177001"}),
    );
    let d = events(f, true);
    assert_has(
        one(&d, "bea@bravo2.example"),
        json!({"outcome": "delivered", "deferrals": 1, "reply_code": 451}),
    );
}

#[test]
fn brevo_transactional_events_bounces_deferral_and_block() {
    let f = "tests/fixtures/export/brevo-smtp-events.json";
    let r = detected_report(f, "brevo");
    // `requests` and `opened` feed the deliveries; 6 result events.
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "total": 11, "parsed": 11, "ignored": 0, "unrecognized": 0,
               "events": 6}),
    );
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 2, "delivered_after_deferral": 1, "bounced": 2,
               "expired": 0, "unclassifiable": 0, "suppressed": 1}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "fin@fox2.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    assert_eq!(one(&ev, "fin@fox2.example")["time"], "2025-03-04T09:00:03Z");
    codes(
        &ev,
        "gus@golf2.example",
        452,
        "4.2.2",
        "mailbox_full",
        "transient",
    );
    assert_eq!(one(&ev, "ida@india2.example")["reason"], "suppressed");
    let d = events(f, true);
    assert_has(
        one(&d, "hal@hotel2.example"),
        json!({"outcome": "delivered", "deferrals": 1, "reply_code": 421, "campaign": "orders"}),
    );
}

#[test]
fn smartlead_webhook_raw_bounce_email_is_decoded() {
    let f = "tests/fixtures/export/smartlead-bounce-webhook.json";
    let r = detected_report(f, "smartlead");
    // EMAIL_SENT (jay) only feeds a delivery; 3 EMAIL_BOUNCE events.
    assert_has(
        &r["inputs"][0],
        json!({"format": "json", "total": 4, "parsed": 4, "ignored": 0, "unrecognized": 0,
               "events": 3}),
    );
    // max's bounce has an empty bounce_message: status-only.
    assert_has(
        &r["totals"],
        json!({"deliveries": 4, "delivered": 1, "bounced": 3, "expired": 0,
               "unclassifiable": 1, "suppressed": 0}),
    );
    let ev = events(f, false);
    codes(
        &ev,
        "kai@kilo2.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    codes(
        &ev,
        "lea@lima2.example",
        550,
        "5.1.1",
        "user_unknown",
        "list_rot",
    );
    assert_has(
        one(&ev, "lea@lima2.example"),
        json!({"step": "2", "campaign": "Q1 founders", "message_id": "<sl-3@outreach.example>"}),
    );
    assert_has(
        one(&ev, "max@mike2.example"),
        json!({"reason": "unclassifiable", "reply_code": null}),
    );
}

/// The report names the preset that read each export, for every fixture.
#[test]
fn inputs_name_the_detected_preset() {
    let cases = [
        ("apollo-contacts.csv", "apollo"),
        ("brevo-smtp-events.json", "brevo"),
        ("generic-excel.csv", "generic"),
        ("hubspot-email-events.json", "hubspot-events"),
        ("hubspot-recipients.csv", "hubspot-recipients"),
        ("instantly-leads.json", "instantly"),
        ("lemlist-activities.json", "lemlist"),
        ("mailchimp-cleaned.csv", "mailchimp-cleaned"),
        ("mailgun-bounces.csv", "mailgun-bounces"),
        ("mailgun-page.json", "mailgun-events"),
        ("mandrill-rejects.csv", "mandrill-rejects"),
        ("postmark-bounces.json", "postmark"),
        ("sendgrid-activity.csv", "sendgrid-activity"),
        ("sendgrid-webhook.ndjson", "sendgrid-webhook"),
        ("ses-sns-notifications.json", "ses"),
        ("smartlead-bounce-webhook.json", "smartlead"),
        ("snovio-campaign.csv", "generic"),
        ("sparkpost-webhook.json", "sparkpost"),
    ];
    for (file, preset) in cases {
        let path = format!("tests/fixtures/export/{file}");
        let report = analyze(&[&path], &[]);
        assert_eq!(report["inputs"][0]["preset"], preset, "{file}");
    }
}

/// A delivery still deferred when an export ends is reported as pending in the
/// leftovers, as for logs, whether the file is read alone or beside another.
#[test]
fn deferred_rows_at_the_end_of_an_export_are_pending_leftovers() {
    let dir = crate::common::scratch("export-pending");
    let deferred = dir.join("deferred.csv");
    std::fs::write(
        &deferred,
        "email,event,reason\namy@alpha.example,deferred,421 try later\n",
    )
    .expect("writing a scratch file");
    let bounced = dir.join("bounced.csv");
    std::fs::write(
        &bounced,
        "email,event,reason\nbob@beta.example,bounce,550 5.1.1 no such user\n",
    )
    .expect("writing a scratch file");
    let deferred = crate::common::arg(&deferred).to_string();
    let bounced = crate::common::arg(&bounced).to_string();
    for files in [
        vec![deferred.as_str()],
        vec![deferred.as_str(), bounced.as_str()],
    ] {
        let r = analyze(&files, &[]);
        assert_balanced(&r);
        assert_eq!(r["totals"]["pending"], 1, "{files:?}");
        assert_eq!(r["leftovers"]["pending_deliveries"], 1, "{files:?}");
    }
}
