//! DragonFly Mail Agent (dma) notices: "This is the DragonFly Mail Agent ...", "There
//! was an error delivering your mail to <a@b>.", the remote's reply, "Message headers
//! follow."

use super::generic::text_family;
use super::mail::Mail;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "dragonfly",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    has_phrase!(mail.notice(), "DragonFly Mail Agent")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = text_family(mail, DECODER.name, detect)?;
    for r in &mut report.recipients {
        if r.diagnostic
            .as_deref()
            .is_some_and(|d| d.contains("Giving up"))
        {
            r.expired = true;
        }
    }
    Some(report)
}
