//! RFC 3464 delivery status notifications: the message/delivery-status part of a
//! multipart/report (RFC 6522), or its UTF-8 form message/global-delivery-status
//! (RFC 6533). Also reads the same fields when an MTA put them in a text part.
//!
//! The part is a per-message block (Reporting-MTA, Arrival-Date, ...) and one block per
//! recipient (Final-Recipient, Action, Status, Diagnostic-Code, ...), separated by blank
//! lines; fields may be folded. MTAs get the blank lines wrong often enough that a
//! recipient block is started by a new Final-Recipient or Original-Recipient instead.
//! When a recipient has no Diagnostic-Code, the notice's text is searched for the
//! error next to the recipient's address.

use std::borrow::Cow;

use super::mail::{Mail, parse_date, split_at_colon};
use super::text;
use super::{Decoder, DsnAction, Kind, RecipientReport, Report, clean_address};
use crate::codes::EnhancedCode;

pub const DECODER: Decoder = Decoder {
    name: "rfc3464",
    decode,
};

fn decode(mail: &Mail<'_>) -> Option<Report> {
    let mut report = Report::new(Kind::Bounce, DECODER.name);
    for part in mail.delivery_status() {
        read_fields(part, &mut report);
    }
    if report.recipients.is_empty() && has_inline_fields(&mail.body) {
        read_fields(mail.notice(), &mut report);
    }
    report.recipients.retain(|r| !r.address.is_empty());
    if report.recipients.is_empty() && mail.delivery_status().next().is_some() {
        // A report without recipient blocks: the text may name them; else ("---
        // Delivery report unavailable ---") the returned message's To is the
        // recipient, its cause unknown.
        report.recipients = super::generic::recipients_from_text(mail, mail.notice());
        if !report.recipients.is_empty() {
            return Some(report);
        }
        let to = mail
            .original
            .as_deref()
            .map(super::mail::Original::from_headers)
            .and_then(|o| o.to)?;
        let mut r = RecipientReport::new(&to);
        r.action = Some(DsnAction::Failed);
        report.recipients.push(r);
    }
    if report.recipients.is_empty() {
        return None;
    }
    fill_from_text(mail, &mut report);
    Some(report)
}

/// Whether a text part carries delivery-status fields itself.
fn has_inline_fields(body: &str) -> bool {
    names_recipient_field(body) && fields_on_lines(body)
}

/// Whether `body` holds `recipient:` anywhere, in any case, as a `Final-Recipient:` or
/// `Original-Recipient:` field does: most notices' text holds none, and looking at its
/// colons costs a fraction of reading it line by line.
fn names_recipient_field(body: &str) -> bool {
    const NAME: &[u8] = b"recipient:";
    let b = body.as_bytes();
    memchr::memchr_iter(b':', b).any(|colon| {
        colon + 1 >= NAME.len() && b[colon + 1 - NAME.len()..=colon].eq_ignore_ascii_case(NAME)
    })
}

/// [`has_inline_fields`] read line by line: a recipient field, and an `Action:` or
/// `Status:` field.
fn fields_on_lines(body: &str) -> bool {
    let mut final_recipient = false;
    let mut action_or_status = false;
    for line in text::lines(body) {
        // Most lines start with none of the fields' first letters: ruled out by a byte
        // (a line led by whitespace or a non-ASCII char is trimmed and compared).
        if line.as_bytes().first().is_none_or(|b| {
            b.is_ascii_graphic() && !FIELD_FIRST_BYTES.contains(&b.to_ascii_lowercase())
        }) {
            continue;
        }
        let l = line.trim_start();
        if starts_with_ci(l, "Final-Recipient:") || starts_with_ci(l, "Original-Recipient:") {
            final_recipient = true;
        } else if starts_with_ci(l, "Action:") || starts_with_ci(l, "Status:") {
            action_or_status = true;
        }
        if final_recipient && action_or_status {
            return true;
        }
    }
    final_recipient && action_or_status
}

/// The first letters (lowercase) of the fields [`has_inline_fields`] looks for.
const FIELD_FIRST_BYTES: [u8; 4] = [b'f', b'o', b'a', b's'];

pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The delivery-status fields read, by name; `Blank` stands for a blank line (it
/// closes a recipient block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Blank,
    ReportingMta,
    ArrivalDate,
    OriginalEnvelopeId,
    QueueId,
    Sender,
    FinalRecipient,
    OriginalRecipient,
    ActualRecipient,
    Action,
    Status,
    DiagnosticCode,
    RemoteMta,
    LastAttemptDate,
    WillRetryUntil,
    Other,
}

impl Field {
    /// The field a name (trimmed) stands for, ignoring case; an empty name is `Blank`,
    /// as a blank line is.
    fn of(name: &str) -> Field {
        // The usual spellings first, compared as they stand: lowercasing a copy of
        // each name cost more than the rest of reading its line.
        match name {
            "Status" => Field::Status,
            "Action" => Field::Action,
            "Reporting-MTA" => Field::ReportingMta,
            "Final-Recipient" => Field::FinalRecipient,
            "Diagnostic-Code" => Field::DiagnosticCode,
            "Arrival-Date" => Field::ArrivalDate,
            "Remote-MTA" => Field::RemoteMta,
            "Original-Recipient" => Field::OriginalRecipient,
            "Last-Attempt-Date" => Field::LastAttemptDate,
            "X-Postfix-Sender" => Field::Sender,
            "X-Postfix-Queue-ID" => Field::QueueId,
            _ => Field::of_any_case(name),
        }
    }

    /// [`Field::of`] for any spelling.
    fn of_any_case(name: &str) -> Field {
        // Lowercased in a small buffer: no known name is longer.
        let mut buf = [0u8; 24];
        let Some(lower) = buf.get_mut(..name.len()) else {
            return Field::Other;
        };
        lower.copy_from_slice(name.as_bytes());
        lower.make_ascii_lowercase();
        match &*lower {
            b"" => Field::Blank,
            b"reporting-mta" => Field::ReportingMta,
            b"arrival-date" => Field::ArrivalDate,
            b"original-envelope-id" => Field::OriginalEnvelopeId,
            b"x-postfix-queue-id" | b"x-queue-id" => Field::QueueId,
            b"x-postfix-sender" | b"x-original-sender" => Field::Sender,
            b"final-recipient" => Field::FinalRecipient,
            b"original-recipient" => Field::OriginalRecipient,
            b"x-actual-recipient" => Field::ActualRecipient,
            b"action" => Field::Action,
            b"status" => Field::Status,
            b"diagnostic-code" => Field::DiagnosticCode,
            b"remote-mta" | b"x-remote-mta" => Field::RemoteMta,
            b"last-attempt-date" => Field::LastAttemptDate,
            b"will-retry-until" => Field::WillRetryUntil,
            _ => Field::Other,
        }
    }
}

/// Reads the fields of one delivery-status body into the report.
pub fn read_fields(body: &str, report: &mut Report) {
    let mut current: Option<RecipientReport> = None;
    // Unfold first: (field, value) in order, values borrowed unless folded. A field
    // is named once per line, so the values are not copied to be compared.
    // Room for a report's usual fields: growing from empty reallocated three times.
    let mut fields: Vec<(Field, Cow<'_, str>)> = Vec::with_capacity(32);
    for line in text::lines(body) {
        if text::trim(line).is_empty() {
            fields.push((Field::Blank, Cow::Borrowed("")));
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((field, value)) = fields.last_mut()
                && *field != Field::Blank
            {
                let value = value.to_mut();
                value.push(' ');
                value.push_str(text::trim(line));
            }
            continue;
        }
        let Some((name, value)) = split_at_colon(line) else {
            continue;
        };
        let field = match Field::of(name) {
            // A name with a space is no field's; blanks of other kinds around one are
            // trimmed. A known name as it stands has neither.
            Field::Blank | Field::Other => {
                if name.is_empty() || name.as_bytes().contains(&b' ') {
                    continue;
                }
                Field::of(text::trim(name))
            }
            known => known,
        };
        fields.push((field, Cow::Borrowed(text::trim(value))));
    }
    for (field, value) in fields {
        match field {
            // A blank line closes a recipient block.
            Field::Blank => {
                if let Some(r) = current.take() {
                    push_recipient(report, r);
                }
            }
            Field::ReportingMta => report.reporting_mta = Some(strip_type(&value)),
            Field::ArrivalDate => report.arrival_date = parse_date(&value),
            Field::OriginalEnvelopeId => report.original_envelope_id = Some(value.into_owned()),
            Field::QueueId => report.queue_id = Some(value.into_owned()),
            Field::Sender => {
                let s = clean_address(&value);
                if !s.is_empty() {
                    report.sender = Some(s.to_ascii_lowercase());
                }
            }
            Field::FinalRecipient | Field::OriginalRecipient | Field::ActualRecipient => {
                let address = clean_address(&value);
                let r = current.get_or_insert_with(RecipientReport::default);
                if field == Field::FinalRecipient {
                    if !r.address.is_empty() {
                        let done = std::mem::take(r);
                        push_recipient(report, done);
                        current = Some(RecipientReport::new(&address));
                    } else {
                        r.address = address;
                    }
                } else if field == Field::OriginalRecipient {
                    if !r.address.is_empty() && r.original_recipient.is_some() {
                        let done = std::mem::take(r);
                        push_recipient(report, done);
                        current = Some(RecipientReport {
                            original_recipient: Some(address),
                            ..RecipientReport::default()
                        });
                    } else {
                        r.original_recipient = Some(address);
                    }
                } else if r.address.is_empty() || !r.address.contains('@') {
                    r.address = address;
                }
            }
            Field::Action
            | Field::Status
            | Field::DiagnosticCode
            | Field::RemoteMta
            | Field::LastAttemptDate
            | Field::WillRetryUntil => {
                let r = current.get_or_insert_with(RecipientReport::default);
                match field {
                    Field::Action => r.action = DsnAction::parse(&value),
                    Field::Status => r.status = parse_status(&value),
                    Field::DiagnosticCode => {
                        let (kind, text) = split_type(&value);
                        r.diagnostic_type = kind.map(|k| k.to_ascii_lowercase());
                        r.diagnostic = Some(text.to_string()).filter(|t| !t.is_empty());
                    }
                    Field::RemoteMta => {
                        let host = strip_type(&value);
                        r.remote_mta = Some(host).filter(|h| !h.is_empty());
                    }
                    Field::LastAttemptDate => r.last_attempt = parse_date(&value),
                    Field::WillRetryUntil => r.will_retry_until = parse_date(&value),
                    _ => {}
                }
            }
            Field::Other => {}
        }
    }
    if let Some(r) = current.take() {
        push_recipient(report, r);
    }
}

fn push_recipient(report: &mut Report, mut r: RecipientReport) {
    if r.address.is_empty()
        && let Some(o) = r.original_recipient.clone()
    {
        r.address = o;
    }
    if r.address.is_empty() && r.action.is_none() && r.status.is_none() {
        return;
    }
    // The same recipient twice (a block split by a stray blank line): merge.
    if let Some(prev) = report
        .recipients
        .iter_mut()
        .find(|p| p.address.eq_ignore_ascii_case(&r.address))
        .filter(|_| !r.address.is_empty())
    {
        prev.action = prev.action.or(r.action);
        prev.status = prev.status.or(r.status);
        if prev.diagnostic.is_none() {
            prev.diagnostic = r.diagnostic;
            prev.diagnostic_type = r.diagnostic_type;
        }
        prev.remote_mta = prev.remote_mta.take().or(r.remote_mta);
        prev.last_attempt = prev.last_attempt.or(r.last_attempt);
        return;
    }
    if r.address.is_empty() {
        // Fields with no recipient yet: attach to the previous block if it lacks them.
        if let Some(prev) = report.recipients.last_mut() {
            prev.action = prev.action.or(r.action);
            prev.status = prev.status.or(r.status);
            if prev.diagnostic.is_none() {
                prev.diagnostic = r.diagnostic;
                prev.diagnostic_type = r.diagnostic_type;
            }
            prev.remote_mta = prev.remote_mta.take().or(r.remote_mta);
            return;
        }
    }
    report.recipients.push(r);
}

/// `dns; mx.example.com` -> `mx.example.com` (brackets of an address literal dropped).
pub fn strip_type(value: &str) -> String {
    let (_, v) = split_type(value);
    text::trim(text::trim(v).trim_start_matches('[').trim_end_matches(']')).to_string()
}

/// `smtp; 550 ...` -> (Some("smtp"), "550 ..."); no type -> (None, value). The `;` by
/// memchr and the trims by bytes ([`text::trim`]): this runs on every Reporting-MTA,
/// Remote-MTA and Diagnostic-Code.
pub fn split_type(value: &str) -> (Option<&str>, &str) {
    if let Some(semi) = memchr::memchr(b';', value.as_bytes()) {
        let (kind, rest) = (&value[..semi], &value[semi + 1..]);
        let kind_trimmed = text::trim(kind);
        if !kind.is_empty()
            && kind.len() <= 16
            && kind_trimmed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return (Some(kind_trimmed), text::trim(rest));
        }
    }
    (None, text::trim(value))
}

/// `5.1.1`, `5.1.1 (user unknown)`, `550 5.1.1`: the enhanced code.
pub fn parse_status(value: &str) -> Option<EnhancedCode> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | ','))
        .find_map(EnhancedCode::parse)
}

/// Recipients without a Diagnostic-Code get the error text the human-readable part
/// gives next to their address.
fn fill_from_text(mail: &Mail<'_>, report: &mut Report) {
    if report.recipients.iter().all(|r| r.diagnostic.is_some()) {
        return;
    }
    let body = mail.notice();
    let single = report.recipients.len() == 1;
    for r in &mut report.recipients {
        if r.diagnostic.is_some() {
            continue;
        }
        if let Some(found) = text::error_near(body, &r.address, single) {
            r.diagnostic = Some(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Field, fields_on_lines, has_inline_fields};

    /// The colon scan rules out only texts the line by line reading would: fields in
    /// any case, led by blanks, at the start and the end of the text, beside names
    /// that only end like them.
    #[test]
    fn inline_fields_are_found_with_or_without_the_colon_scan() {
        let recipients = [
            "Final-Recipient: rfc822; a@b.example",
            "FINAL-RECIPIENT:a@b.example",
            "  original-rEcIpIeNt: <a@b.example>",
            "\tFinal-Recipient:",
            "Final-Recipient : a@b.example",
            "X-Final-Recipient: a@b.example",
            "Recipient: a@b.example",
            "Final-Recipient",
            "recipient:",
        ];
        let statuses = ["Action: failed", "STATUS: 5.1.1", "  status:", "Action", ""];
        for recipient in recipients {
            for status in statuses {
                for body in [
                    format!("{recipient}\n{status}"),
                    format!("{status}\r\n{recipient}\r\n"),
                    format!("Hello:\n\n{recipient}\nx: y\n{status}\n-- \n"),
                ] {
                    assert_eq!(has_inline_fields(&body), fields_on_lines(&body), "{body:?}");
                }
            }
        }
        assert!(has_inline_fields(
            "  FINAL-recipient: a@b.example\r\nStatus: 5.1.1"
        ));
    }

    #[test]
    fn usual_spellings_read_as_any_spelling_does() {
        let known = [
            "Status",
            "Action",
            "Reporting-MTA",
            "Final-Recipient",
            "Diagnostic-Code",
            "Arrival-Date",
            "Remote-MTA",
            "Original-Recipient",
            "Last-Attempt-Date",
            "X-Postfix-Sender",
            "X-Postfix-Queue-ID",
            "Will-Retry-Until",
        ];
        for name in known {
            assert_ne!(Field::of(name), Field::Other, "{name}");
        }
        for name in known.into_iter().chain(["X-Unknown", ""]) {
            for spelling in [
                name.to_string(),
                name.to_ascii_lowercase(),
                name.to_ascii_uppercase(),
            ] {
                assert_eq!(
                    Field::of(&spelling),
                    Field::of_any_case(&spelling),
                    "{spelling}"
                );
            }
        }
    }
}
