//! The fallback for plain-text notices no family decoder claimed: a message that looks
//! like a bounce (sender, subject, null return path, X-Failed-Recipients) whose text
//! names recipients at the start of a line, each followed by its error.

use std::cell::OnceCell;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::mail::{Header, Mail, Original, first_address};
use super::text::{self, Block};
use super::{Decoder, RecipientReport, Report};

pub const DECODER: Decoder = Decoder {
    name: "generic",
    decode,
};

/// Words in a sender that mark delivery software.
const DAEMON_SENDERS: &[&str] = &[
    "mailer-daemon",
    "mailer_daemon",
    "maildaemon",
    "postmaster",
    "mail delivery",
    "mail administrator",
    "mail system",
    "mailsystem",
    "mail-system",
    "delivery subsystem",
    "mail transport",
    "mailadmin",
    "mmdf",
    "smtp gateway",
    "internet mail delivery",
    "bounce",
    "mail-router",
    "mail router",
    "post office",
    "daemon@",
    "nobody@",
    "root@",
    "mailman",
];

/// Words in a subject that mark a delivery failure notice.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery fail",
    "delivery status",
    "delivery notification",
    "delivery report",
    "delivery problem",
    "delivery error",
    "failure notice",
    "failure delivery",
    "returned mail",
    "return mail",
    "returned to sender",
    "mail delivery",
    "could not be delivered",
    "not delivered",
    "couldn't be delivered",
    "delivery has failed",
    "message failure",
    "mail failure",
    "failed mail",
    "nondeliverable",
    "non-deliverable",
    "non deliverable",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "delivery notice",
    "bounce",
    "rejected",
    "warning: message",
    "warning: could not",
    "delayed mail",
    "message delayed",
    "mail system error",
    "error sending",
    "unable to deliver",
    "not be delivered",
    "message you sent",
    "permanent error",
];

/// Whether a message reads like a delivery failure notice by its envelope and headers.
pub fn looks_like_bounce(mail: &Mail<'_>) -> bool {
    looks_like_daemon_notice(mail)
        || mail.header(Header::XFailedRecipients).is_some()
        || mail
            .header(Header::ReturnPath)
            .is_some_and(|r| r.trim() == "<>")
}

/// Phrases of a notice's text that only delivery failure notices use.
const BOUNCE_PHRASES: &[&str] = &[
    "could not be delivered to",
    "could not be delivered",
    "was not delivered to",
    "delivery has failed",
    "delivery to the following recipient",
    "undeliverable to",
    "transcript of session follows",
    "the following addresses had",
    "permanent fatal errors",
    "this is a permanent error",
    "unable to deliver your message",
    "message could not be delivered",
];

/// Whether the sender is delivery software, the subject announces a failure, or the
/// notice's text does.
pub fn looks_like_daemon_notice(mail: &Mail<'_>) -> bool {
    static PHRASES: LazyLock<AhoCorasick> =
        LazyLock::new(|| text::phrase_automaton(BOUNCE_PHRASES));
    looks_like_daemon_header(mail) || PHRASES.is_match(&mail.notice().to_ascii_lowercase())
}

/// Whether the sender is delivery software or the subject announces a failure. Each
/// list in one automaton: a `str::contains` per word built a searcher per word, which
/// cost more than the search of a short header.
fn looks_like_daemon_header(mail: &Mail<'_>) -> bool {
    static SENDERS: LazyLock<AhoCorasick> =
        LazyLock::new(|| text::phrase_automaton(DAEMON_SENDERS));
    static SUBJECTS: LazyLock<AhoCorasick> =
        LazyLock::new(|| text::phrase_automaton(BOUNCE_SUBJECTS));
    SENDERS.is_match(&mail.from_lower()) || SUBJECTS.is_match(&mail.subject.to_ascii_lowercase())
}

fn decode(mail: &Mail<'_>) -> Option<Report> {
    if !looks_like_bounce(mail) {
        return None;
    }
    // A notice forwarded by a person: read the quoted text.
    if let Some(unquoted) = text::unquote(&mail.body) {
        let mut report = Report::new(super::Kind::Bounce, DECODER.name);
        super::rfc3464::read_fields(text::before_original(&unquoted), &mut report);
        report.recipients.retain(|r| !r.address.is_empty());
        if !report.recipients.is_empty() {
            return Some(report);
        }
        let recipients = recipients_from_text(mail, text::before_original(&unquoted));
        if !recipients.is_empty() {
            return Report::bounce(DECODER.name, recipients);
        }
    }
    let recipients = recipients_from_text(mail, mail.notice());
    Report::bounce(DECODER.name, recipients)
}

/// Addresses that are not failed recipients: the notice's own sender and recipient.
/// Those two are looked up (lowercased) once per notice, when first needed: the
/// header lookups cost more than the comparisons.
struct Bystanders<'m> {
    mail: &'m Mail<'m>,
    own: OnceCell<(String, String)>,
}

impl<'m> Bystanders<'m> {
    fn new(mail: &'m Mail<'m>) -> Self {
        Bystanders {
            mail,
            own: OnceCell::new(),
        }
    }

    fn contains(&self, address: &str) -> bool {
        let (from, to) = self.own.get_or_init(|| {
            let to = self
                .mail
                .header(Header::To)
                .and_then(first_address)
                .unwrap_or("")
                .to_ascii_lowercase();
            (self.mail.from_address(), to)
        });
        // `from` and `to` are lowercase: comparing ignoring case is comparing the
        // lowercased address.
        address.eq_ignore_ascii_case(from)
            || address.eq_ignore_ascii_case(to)
            || text::starts_ci(address, "mailer-daemon@")
            || text::starts_ci(address, "postmaster@")
    }
}

/// Recipient blocks of a notice's text, bystanders left out, filtered by
/// X-Failed-Recipients when the notice has it; the original's To as a last resort.
pub fn recipients_from_text<'m>(mail: &'m Mail<'m>, section: &str) -> Vec<RecipientReport> {
    let bystanders = Bystanders::new(mail);
    let failed: Vec<String> = mail
        .header(Header::XFailedRecipients)
        .map(|v| text::addresses(v).map(|a| a.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let all: Vec<Block<'_>> = text::address_blocks(section);
    // The notice's own sender and recipient are no failed recipients, unless nothing
    // else is named (anonymised samples bounce to themselves).
    let mut blocks: Vec<Block<'_>> = all
        .iter()
        .filter(|b| !bystanders.contains(b.address))
        .cloned()
        .collect();
    if blocks.is_empty() {
        blocks = all;
    }
    if !failed.is_empty() {
        blocks.retain(|b| failed.contains(&b.address.to_ascii_lowercase()));
    }
    // The notice's error paragraph, looked for once by the fallbacks below.
    let paragraph = OnceCell::new();
    let error_paragraph = || {
        paragraph
            .get_or_init(|| text::error_paragraph(section))
            .clone()
    };
    let mut out: Vec<RecipientReport> = Vec::new();
    for b in &blocks {
        if out
            .iter()
            .any(|r| r.address.eq_ignore_ascii_case(b.address))
        {
            // A recipient named twice: keep the first block with text.
            if let Some(r) = out
                .iter_mut()
                .find(|r| r.address.eq_ignore_ascii_case(b.address) && r.diagnostic.is_none())
            {
                r.diagnostic = Some(b.text()).filter(|t| !t.is_empty());
            }
            continue;
        }
        let mut r = RecipientReport::new(b.address);
        r.diagnostic = Some(b.text()).filter(|t| !t.is_empty());
        r.reply_code = b.code.filter(|c| c.class() >= 4);
        out.push(r);
    }
    for f in &failed {
        if !out.iter().any(|r| r.address.eq_ignore_ascii_case(f)) {
            let mut r = RecipientReport::new(f);
            r.diagnostic = text::error_near(section, f, failed.len() == 1)
                .or_else(|| (failed.len() == 1).then(error_paragraph).flatten());
            out.push(r);
        }
    }
    if out.len() == 1 && out[0].diagnostic.as_deref().is_none_or(str::is_empty) {
        // One recipient whose block says nothing: the notice's error paragraph.
        if let Some(p) = error_paragraph() {
            out[0].diagnostic = Some(p);
        }
    }
    if out.len() == 1
        && let Some(d) = out[0].diagnostic.as_deref()
        && !text::has_reply_code(d)
        && let Some(p) = error_paragraph().filter(|p| text::has_reply_code(p))
        && !d.contains(p.as_str())
    {
        // Gmail: "Technical details of permanent failure: ... rejected ...", then
        // "The error that the other server returned was: 550 5.2.2 ...".
        out[0].diagnostic = Some(format!("{d} {p}"));
    }
    if out.is_empty() {
        for (address, diag) in text::trailing_blocks(section) {
            if bystanders.contains(&address) {
                continue;
            }
            let mut r = RecipientReport::new(&address);
            r.diagnostic = Some(diag).filter(|d| !d.is_empty());
            out.push(r);
        }
    }
    if out.is_empty() {
        // Nothing names a recipient on a line of its own: the original's To, when the
        // text has an error paragraph.
        let original = mail
            .original
            .as_deref()
            .map(Original::from_headers)
            .or_else(|| mail.inline_original().map(Original::from_headers));
        if let Some(to) = original.and_then(|o| o.to)
            && let Some(diag) = text::error_near(section, &to, true).or_else(error_paragraph)
        {
            let mut r = RecipientReport::new(&to);
            r.diagnostic = Some(diag);
            out.push(r);
        }
    }
    out
}

/// A plain-text family: a notice without a delivery-status part that `detect` claims,
/// read as the generic reader reads it and recorded under the family's name.
pub fn text_family(
    mail: &Mail<'_>,
    name: &'static str,
    detect: fn(&Mail<'_>) -> bool,
) -> Option<Report> {
    // Forwarded notices (quoted with `>`) are the generic reader's.
    if mail.delivery_status().next().is_some() || !detect(mail) || text::is_quoted(&mail.body) {
        return None;
    }
    Report::bounce(name, recipients_from_text(mail, mail.notice()))
}
