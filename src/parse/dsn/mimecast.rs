//! Mimecast's notices: "An email that you attempted to send to the following address
//! could not be delivered:", `-- a@b`, "The problem appears to be :", "Additional
//! information follows :".

use super::generic::text_family;
use super::mail::{Header, Mail};
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "mimecast",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    has_phrase!(
        n,
        "An email that you attempted to send to the following address"
    ) || mail
        .header(Header::MessageId)
        .is_some_and(|m| m.contains("mimecast"))
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = text_family(mail, DECODER.name, detect)?;
    for r in &mut report.recipients {
        // "-- 5.4.1 Recipient address rejected ..." after "Additional information follows :".
        if let Some(d) = r.diagnostic.as_deref() {
            let cleaned = d.replace(" -- ", " ").replace("-- ", "");
            r.diagnostic = Some(cleaned.trim().to_string());
        }
    }
    Some(report)
}
