//! Google Groups refusals ("Google Groups" notices that a post to a group was not
//! accepted): the recipient is the group address.

use super::generic::text_family;
use super::mail::Mail;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "googlegroups",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let from = mail.from_lower();
    from.contains("@googlemail.com") && mail.notice().contains("Google Groups")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
