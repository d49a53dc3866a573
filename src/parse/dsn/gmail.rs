//! Gmail's plain-text notices: "Delivery to the following recipient failed
//! permanently:", the address indented, "Technical details of permanent failure:" and
//! "The error that the other server returned was: 550 ...".

use super::generic::text_family;
use super::mail::Mail;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "gmail",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let from = mail.from_lower();
    (has_phrase!(from, "@googlemail.com") || has_phrase!(from, "@gmail.com"))
        && has_phrase!(mail.notice(), "Technical details of")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = text_family(mail, DECODER.name, detect)?;
    for r in &mut report.recipients {
        if r.diagnostic
            .as_deref()
            .is_some_and(|d| d.contains("temporary failure"))
        {
            r.action = Some(super::DsnAction::Delayed);
        }
    }
    Some(report)
}
