//! Google Groups refusals ("Google Groups" notices that a post to a group was not
//! accepted): the recipient is the group address.

use super::generic::text_family;
use super::mail::Mail;
use super::text;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "googlegroups",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let from = mail.from_lower();
    has_phrase!(from, "@googlemail.com") && has_phrase!(mail.notice(), "Google Groups")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = text_family(mail, DECODER.name, detect)?;
    // The notice is in the sender's language: with no error word found, its text
    // (greeting left out) is the diagnostic.
    let fallback = || {
        let paragraphs: Vec<String> = text::paragraphs(mail.notice())
            .skip(1)
            .map(|p| text::join_lines(text::lines(p)))
            .filter(|p| !p.is_empty())
            .take(2)
            .collect();
        Some(paragraphs.join(" ")).filter(|p| !p.is_empty())
    };
    for r in &mut report.recipients {
        if r.diagnostic.as_deref().is_none_or(str::is_empty) {
            r.diagnostic = fallback();
        }
    }
    Some(report)
}
