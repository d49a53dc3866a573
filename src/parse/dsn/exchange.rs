//! Microsoft Exchange and Office 365 non-delivery reports in plain text or HTML:
//! Exchange 5.5-2003 ("Your message ... did not reach the following recipient(s):",
//! `a@b on <date>` and the MSEXCH error below) and the HTML "Delivery has failed to
//! these recipients or groups" of Exchange 2007+ and Office 365 when they come without
//! a delivery-status part.

use super::generic::text_family;
use super::mail::{Header, Mail};
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "exchange",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    has_phrase!(n, "did not reach the following recipient")
        || has_phrase!(n, "Delivery has failed to these recipients or groups")
        || has_phrase!(
            n,
            "Your message did not reach some or all of the intended recipients"
        )
        || has_phrase!(n, "MSEXCH:")
        || mail
            .header(Header::XMailer)
            .is_some_and(|m| m.contains("Internet Mail Service"))
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
