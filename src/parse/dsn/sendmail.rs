//! Sendmail notices without a delivery-status part (Sendmail 5 and old 8): "-----
//! Transcript of session follows -----", "----- The following addresses had permanent
//! fatal errors -----", `550 <a@b>... User unknown` lines and `>>> RCPT To:<a@b>` /
//! `<<< 550 ...` transcripts, then "----- Unsent message follows -----".

use super::generic::text_family;
use super::mail::Mail;
use super::text;
use super::text::has_phrase;
use super::{Decoder, Report};

pub const DECODER: Decoder = Decoder {
    name: "sendmail",
    decode,
};

fn detect(mail: &Mail<'_>) -> bool {
    let n = mail.notice();
    has_phrase!(n, "----- Transcript of session follows -----")
        || has_phrase!(n, "The following addresses had permanent fatal errors")
        || has_phrase!(mail.body, "----- Unsent message follows -----")
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = text_family(mail, DECODER.name, detect)?;
    // The transcript has the remote's own reply: `>>> RCPT To:<a@b>` then `<<< 550 ...`.
    let lines: Vec<&str> = text::lines(mail.notice()).collect();
    for r in &mut report.recipients {
        let needle = format!("<{}>", r.address.to_ascii_lowercase());
        let reply = lines.iter().enumerate().find_map(|(i, l)| {
            let t = l.trim_start();
            (t.starts_with(">>> ") && t.to_ascii_lowercase().contains(&needle))
                .then(|| lines.get(i + 1))
                .flatten()
                .and_then(|next| next.trim_start().strip_prefix("<<< "))
        });
        if let Some(reply) = reply
            && r.diagnostic
                .as_deref()
                .is_none_or(|d| !text::has_reply_code(d))
        {
            r.diagnostic = Some(reply.trim().to_string());
        }
    }
    Some(report)
}
