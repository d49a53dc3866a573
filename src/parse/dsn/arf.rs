//! ARF feedback reports (RFC 5965): multipart/report; report-type=feedback-report. A
//! complaint about a delivered message, not a bounce: counted apart, with an event for
//! the complaining recipient when the report names one.

use super::mail::{Mail, Original, ReportPart};
use super::rfc3464::starts_with_ci;
use super::{Decoder, Kind, RecipientReport, Report, clean_address};

pub const DECODER: Decoder = Decoder {
    name: "arf",
    decode,
};

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let part = mail
        .reports
        .iter()
        .find(|(k, _)| *k == ReportPart::FeedbackReport)
        .map(|(_, t)| t.as_str());
    let is_arf = part.is_some() || mail.report_type.as_deref() == Some("feedback-report");
    if !is_arf {
        return None;
    }
    let mut report = Report::new(Kind::Feedback, DECODER.name);
    let mut feedback_type = None;
    let mut recipient = None;
    for line in super::text::lines(part.unwrap_or("")) {
        let value =
            |name: &str| starts_with_ci(line, name).then(|| line[name.len()..].trim().to_string());
        if let Some(v) = value("Feedback-Type:") {
            feedback_type = Some(v);
        } else if let Some(v) = value("Original-Rcpt-To:").or_else(|| value("Removal-Recipient:")) {
            recipient.get_or_insert(clean_address(&v));
        }
    }
    let recipient = recipient.or_else(|| {
        mail.original
            .as_deref()
            .map(Original::from_headers)
            .and_then(|o| o.to)
    });
    report.evidence = Some(format!(
        "Feedback-Type: {}",
        feedback_type.as_deref().unwrap_or("unknown")
    ));
    if let Some(r) = recipient.filter(|r| r.contains('@')) {
        report.recipients.push(RecipientReport::new(&r));
    }
    Some(report)
}
