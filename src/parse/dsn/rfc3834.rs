//! Auto-replies (RFC 3834 Auto-Submitted: auto-replied, and the vacation and
//! out-of-office replies that mark themselves in other ways). Not a bounce: counted
//! apart, with an event for the person who replied.

use super::generic::looks_like_daemon_notice;
use super::mail::{Header, Mail, header_is};
use super::{Decoder, Kind, RecipientReport, Report};

pub const DECODER: Decoder = Decoder {
    name: "rfc3834",
    decode,
};

/// Subject prefixes of auto-replies.
const SUBJECTS: &[&str] = &[
    "auto:",
    "auto reply",
    "auto-reply",
    "autoreply",
    "automatic reply",
    "automatische antwort",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "vacation",
    "away from",
    "on vacation",
];

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let evidence = if header_is(mail.header(Header::AutoSubmitted), &["auto-replied"]) {
        "Auto-Submitted: auto-replied".to_string()
    } else if mail.header(Header::XAutoreply).is_some()
        || mail.header(Header::XAutorespond).is_some()
    {
        "X-Autoreply".to_string()
    } else if header_is(mail.header(Header::Precedence), &["auto_reply"]) {
        "Precedence: auto_reply".to_string()
    } else if starts_like_auto_reply(&mail.subject) {
        format!("Subject: {}", mail.subject)
    } else {
        return None;
    };
    // Bounces are auto-submitted too (Exim marks them auto-replied): a delivery
    // daemon's sender or a failure subject makes it no auto-reply.
    if looks_like_daemon_notice(mail) {
        return None;
    }
    let mut report = Report::new(Kind::AutoReply, DECODER.name);
    report.evidence = Some(evidence);
    let from = mail.from_address();
    if from.contains('@') {
        report.recipients.push(RecipientReport::new(&from));
    }
    Some(report)
}

/// Whether a subject starts with one of [`SUBJECTS`], in any case: lowercased once,
/// not once per prefix.
fn starts_like_auto_reply(subject: &str) -> bool {
    let lower = subject.to_lowercase();
    SUBJECTS.iter().any(|s| lower.starts_with(s))
}
