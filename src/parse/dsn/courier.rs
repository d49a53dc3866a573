//! Courier MTA notices in plain text ("This is a delivery status notification from
//! ..., running the Courier mail server"); its multipart/report ones go to RFC 3464.

use super::generic::text_family;
use super::mail::Mail;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "courier",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    has_phrase!(n, "Courier mail server") || has_phrase!(n, "running the Courier")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
