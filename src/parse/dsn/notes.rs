//! IBM Lotus Notes and Domino notices: "------- Failure Reasons --------" (Notes) and
//! "Your message ... was not delivered to: a@b because: ..." (Domino).

use super::generic::text_family;
use super::mail::Mail;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "notes",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    n.contains("------- Failure Reasons")
        || n.contains("not listed in Domino Directory")
        || (n.contains("was not delivered to:") && n.contains("because:"))
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
