//! Japanese mobile carriers and ISPs (au/EZweb, KDDI, NTT docomo, SoftBank, BIGLOBE):
//! ISO-2022-JP notices whose English part names the recipient ("Could not be delivered
//! to: <a@b>", "Recipient: <a@b>", "----- The following addresses had delivery
//! problems -----").

use super::generic::text_family;
use super::mail::Mail;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "jpcarrier",
    decode,
};

/// Sender domains of the carriers' delivery daemons.
const DOMAINS: &[&str] = &[
    "ezweb.ne.jp",
    "au.com",
    "dion.ne.jp",
    "auone-net.jp",
    "docomo.ne.jp",
    "softbank.ne.jp",
    "vodafone.ne.jp",
    "disney.ne.jp",
    "biglobe.ne.jp",
];

fn detect(mail: &Mail<'_>) -> bool {
    let from = mail.from_address();
    DOMAINS.iter().any(|d| from.ends_with(d))
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    text_family(mail, DECODER.name, detect)
}
