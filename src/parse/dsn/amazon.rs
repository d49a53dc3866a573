//! Amazon SES notifications sent by mail (through SNS): a JSON document, alone or
//! wrapped in the SNS envelope whose `Message` field holds it as a string. Bounce
//! notifications list `bouncedRecipients`; delivery and complaint notifications are
//! read too, as non-bounces. SES's multipart/report bounces go to the RFC 3464 decoder.

use serde_json::Value;

use super::mail::Mail;
use super::rfc3464::{parse_status, split_type};
use super::text::has_phrase;
use super::{Decoder, DsnAction, Kind, RecipientReport, Report};

pub const DECODER: Decoder = Decoder {
    name: "amazonses",
    decode,
};

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let body = mail.body.trim_start();
    if !body.starts_with('{') || !has_phrase!(body, "notificationType") {
        return None;
    }
    // Some relays fold the long JSON line; unfolding makes it parse again.
    let mut doc = first_json(body).or_else(|| first_json(&body.replace("\n ", " ")))?;
    if let Some(inner) = doc.get("Message").and_then(Value::as_str) {
        doc = serde_json::from_str(inner)
            .ok()
            .or_else(|| serde_json::from_str(&inner.replace("\n ", " ")).ok())?;
    }
    let kind = doc.get("notificationType").and_then(Value::as_str)?;
    let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let mut report;
    match kind {
        "Bounce" => {
            let bounce = doc.get("bounce")?;
            report = Report::new(Kind::Bounce, DECODER.name);
            report.reporting_mta =
                str_of(bounce, "reportingMTA").map(|m| split_type(&m).1.to_string());
            let transient = bounce.get("bounceType").and_then(Value::as_str) == Some("Transient");
            for r in bounce.get("bouncedRecipients")?.as_array()? {
                let Some(address) = str_of(r, "emailAddress") else {
                    continue;
                };
                let mut rr = RecipientReport::new(&address);
                rr.action = str_of(r, "action")
                    .and_then(|a| DsnAction::parse(&a))
                    .or(Some(DsnAction::Failed));
                rr.status = str_of(r, "status").and_then(|s| parse_status(&s));
                if let Some(d) = str_of(r, "diagnosticCode") {
                    let (kind, text) = split_type(&d);
                    rr.diagnostic_type = kind.map(str::to_ascii_lowercase);
                    rr.diagnostic = Some(text.to_string());
                }
                if transient && rr.status.is_none() {
                    rr.action = Some(DsnAction::Delayed);
                }
                report.recipients.push(rr);
            }
        }
        "Delivery" => {
            let delivery = doc.get("delivery")?;
            report = Report::new(Kind::Bounce, DECODER.name);
            report.reporting_mta = str_of(delivery, "reportingMTA");
            let smtp = str_of(delivery, "smtpResponse");
            for r in delivery.get("recipients")?.as_array()? {
                let Some(address) = r.as_str() else { continue };
                let mut rr = RecipientReport::new(address);
                rr.action = Some(DsnAction::Delivered);
                rr.diagnostic = smtp.clone();
                rr.status = smtp.as_deref().and_then(parse_status);
                report.recipients.push(rr);
            }
        }
        "Complaint" => {
            let complaint = doc.get("complaint")?;
            report = Report::new(Kind::Feedback, DECODER.name);
            report.evidence = Some(format!(
                "SES complaint: {}",
                str_of(complaint, "complaintFeedbackType")
                    .as_deref()
                    .unwrap_or("unknown")
            ));
            for r in complaint.get("complainedRecipients")?.as_array()? {
                if let Some(address) = str_of(r, "emailAddress") {
                    report.recipients.push(RecipientReport::new(&address));
                }
            }
        }
        _ => return None,
    }
    if let Some(m) = doc.get("mail") {
        report.sender = str_of(m, "source").map(|s| s.to_ascii_lowercase());
        report.queue_id = str_of(m, "messageId");
    }
    (!report.recipients.is_empty()).then_some(report)
}

/// The first JSON value of a text (SNS appends an unsubscribe footer after it).
fn first_json(text: &str) -> Option<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()?
        .ok()
}
