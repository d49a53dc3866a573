//! IBM Lotus Notes and Domino notices: "------- Failure Reasons --------" (Notes) and
//! "Your message ... was not delivered to: a@b because: ..." (Domino).

use super::generic::text_family;
use super::mail::Mail;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "notes",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    has_phrase!(n, "------- Failure Reasons")
        || has_phrase!(n, "not listed in Domino Directory")
        || (has_phrase!(n, "was not delivered to:") && has_phrase!(n, "because:"))
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
