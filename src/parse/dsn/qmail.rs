//! qmail (and netqmail, vpopmail, s/qmail) failure notices: "Hi. This is the
//! qmail-send program at ...", then `<recipient>:` and its error lines, then "--- Below
//! this line is a copy of the message."

use super::generic::recipients_from_text;
use super::mail::Mail;
use super::text;
use super::text::has_phrase;
use super::{Decoder, Report};
use crate::model::SmtpStage;

pub const DECODER: Decoder = Decoder {
    name: "qmail",
    decode,
};

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let body = &mail.body;
    // "This is the qmail-send program" included.
    let is_qmail = has_phrase!(body, "qmail-send program")
        || (mail.subject.eq_ignore_ascii_case("failure notice")
            && has_phrase!(body, "I'm afraid I wasn't able to deliver"));
    if !is_qmail {
        return None;
    }
    let mut recipients = recipients_from_text(mail, mail.notice());
    for r in &mut recipients {
        let Some(d) = r.diagnostic.as_deref() else {
            continue;
        };
        // qmail-remote says what the remote refused in its own words.
        r.stage = if has_phrase!(d, "does not like recipient") || has_phrase!(d, "RCPT TO response")
        {
            Some(SmtpStage::Rcpt)
        } else if has_phrase!(d, "sender was rejected") {
            Some(SmtpStage::Mail)
        } else if has_phrase!(d, "failed after I sent the message")
            || has_phrase!(d, "failed on DATA command")
            || has_phrase!(d, "DATA command")
        {
            Some(SmtpStage::Data)
        } else if has_phrase!(d, "my name was rejected") {
            Some(SmtpStage::Helo)
        } else if has_phrase!(d, "establish an SMTP connection")
            || has_phrase!(d, "didn't start the SMTP")
        {
            Some(SmtpStage::Connect)
        } else {
            None
        };
        r.expired = text::says_expired(d) || has_phrase!(d, "in the queue too long");
    }
    Report::bounce(DECODER.name, recipients)
}
