//! Yahoo's plain-text notices: "Sorry, we were unable to deliver your message to the
//! following address.", `<a@b>:` and "Remote host said: ...".

use super::generic::text_family;
use super::mail::Mail;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "yahoo",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    has_phrase!(
        mail.notice(),
        "Sorry, we were unable to deliver your message to the following address"
    )
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
