//! Bounce emails: RFC 3464 delivery status notifications (RFC 6522 multipart/report,
//! RFC 6533 global ones) and the plain-text or half-standard notices many MTAs and
//! providers still send, read from .eml files, mbox files, Maildir folders or stdin.
//!
//! Three layers, each in its own file:
//! - [`container`] splits an input into messages (mbox `From ` lines, line ends);
//! - [`mail`] parses one message once (MIME structure by mail-parser, headers, the
//!   notice's text, the report parts, the returned original), handing mail-parser a
//!   skeleton of it without the bytes no decoder reads (`skeleton`);
//! - the decoders (one file per family, listed in [`DECODERS`]) turn a [`Mail`] into a
//!   [`Report`]: per-message fields and one [`RecipientReport`] per recipient.
//!
//! This module turns reports into events (one per recipient), deliveries (one per
//! failed recipient), and accounts for every message in the tally: parsed (a bounce or
//! delay), ignored (auto-replies, feedback reports, delivery reports: understood, no
//! failure) or unrecognized (not mail, or mail that is none of these).
//!
//! Adding a decoder: one file here and one line in [`DECODERS`].

mod base64;
pub mod container;
pub mod mail;
mod qp;
pub mod rfc3464;
mod skeleton;
pub mod text;

mod amazon;
mod arf;
mod courier;
mod dragonfly;
mod exchange;
mod exim;
mod generic;
mod gmail;
mod googlegroups;
mod jpcarrier;
mod mimecast;
mod notes;
mod qmail;
mod rfc3834;
mod sendmail;
mod yahoo;

use std::io::{self, BufRead};
use std::sync::{Arc, LazyLock};

use crate::classify::detect_stage;
use crate::codes::{self, EnhancedCode, ReplyCode};
use crate::model::{
    Action, Bucket, Delivery, Event, Outcome, SmtpStage, Source, Timestamp, Verdict,
};
use crate::parse::ordered::Ordered;
use crate::parse::{Context, Format, InputMeta, Leftovers, Parser, Recorded, Sink, Tally};
pub use container::{MessageInfo, MessageReader};
pub use mail::{Mail, Original};

pub const NAME: &str = "dsn";

/// One decoder: a family of notices. `decode` returns `None` for a notice that is not
/// of its family (or that it cannot read); the first decoder to answer wins.
pub struct Decoder {
    /// Recorded as `dsn/<name>` in `Event::agent`.
    pub name: &'static str,
    pub decode: fn(&Mail<'_>) -> Option<Report>,
}

/// Every decoder, in the order they are tried: feedback reports first (they are
/// multipart/report too), then families whose notices fool the generic readers, then
/// RFC 3464, auto-replies, and the generic plain-text reader last.
pub static DECODERS: &[Decoder] = &[
    arf::DECODER,
    amazon::DECODER,
    qmail::DECODER,
    exim::DECODER,
    rfc3464::DECODER,
    // Plain-text families (none of them claims a notice with a delivery-status part).
    sendmail::DECODER,
    courier::DECODER,
    exchange::DECODER,
    gmail::DECODER,
    googlegroups::DECODER,
    yahoo::DECODER,
    mimecast::DECODER,
    dragonfly::DECODER,
    notes::DECODER,
    jpcarrier::DECODER,
    rfc3834::DECODER,
    generic::DECODER,
];

/// What a message is, as far as bounce analysis goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A delivery status notice (failure, delay or success).
    Bounce,
    /// An RFC 3834 auto-reply (vacation, out of office).
    AutoReply,
    /// An ARF feedback report (RFC 5965): a complaint, not a bounce.
    Feedback,
}

/// The DSN `Action` field (RFC 3464 section 2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnAction {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

impl DsnAction {
    pub fn parse(value: &str) -> Option<DsnAction> {
        let word = value.split_whitespace().next()?;
        // Compared ignoring case rather than lowercased: no copy of the word.
        let word = word.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
        const ACTIONS: &[(&str, DsnAction)] = &[
            ("failed", DsnAction::Failed),
            ("failure", DsnAction::Failed),
            ("delayed", DsnAction::Delayed),
            ("delivered", DsnAction::Delivered),
            ("relayed", DsnAction::Relayed),
            ("expanded", DsnAction::Expanded),
        ];
        ACTIONS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|&(_, action)| action)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DsnAction::Failed => "failed",
            DsnAction::Delayed => "delayed",
            DsnAction::Delivered => "delivered",
            DsnAction::Relayed => "relayed",
            DsnAction::Expanded => "expanded",
        }
    }
}

/// What one decoder read from one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub kind: Kind,
    /// Name of the decoder that read it.
    pub decoder: &'static str,
    /// Reporting-MTA, without its type.
    pub reporting_mta: Option<String>,
    pub arrival_date: Option<Timestamp>,
    pub original_envelope_id: Option<String>,
    /// X-Postfix-Queue-ID or the reporting MTA's own queue id.
    pub queue_id: Option<String>,
    /// The envelope sender, when the report names it (X-Postfix-Sender).
    pub sender: Option<String>,
    pub recipients: Vec<RecipientReport>,
    /// Evidence for a non-bounce kind (`Auto-Submitted: auto-replied`).
    pub evidence: Option<String>,
}

impl Report {
    pub fn new(kind: Kind, decoder: &'static str) -> Report {
        Report {
            kind,
            decoder,
            reporting_mta: None,
            arrival_date: None,
            original_envelope_id: None,
            queue_id: None,
            sender: None,
            recipients: Vec::new(),
            evidence: None,
        }
    }

    /// A bounce report with these recipients, or `None` when there are none.
    pub fn bounce(decoder: &'static str, recipients: Vec<RecipientReport>) -> Option<Report> {
        if recipients.is_empty() {
            return None;
        }
        let mut report = Report::new(Kind::Bounce, decoder);
        report.recipients = recipients;
        Some(report)
    }
}

/// One recipient block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipientReport {
    /// Final-Recipient (or what the notice names), without type or angle brackets.
    pub address: String,
    pub original_recipient: Option<String>,
    pub action: Option<DsnAction>,
    /// The Status field.
    pub status: Option<EnhancedCode>,
    /// Diagnostic-Code text without its type, unfolded (or the notice's error text).
    pub diagnostic: Option<String>,
    /// Type of the Diagnostic-Code (`smtp`, `x-unix`, ...), lowercased.
    pub diagnostic_type: Option<String>,
    /// Remote-MTA host name or address, without its type.
    pub remote_mta: Option<String>,
    pub last_attempt: Option<Timestamp>,
    pub will_retry_until: Option<Timestamp>,
    /// A reply code the decoder knows apart from the text.
    pub reply_code: Option<ReplyCode>,
    /// The SMTP command the error answered, when the notice says.
    pub stage: Option<SmtpStage>,
    /// The notice says the MTA gave up after temporary failures.
    pub expired: bool,
}

impl RecipientReport {
    pub fn new(address: &str) -> RecipientReport {
        RecipientReport {
            address: clean_address(address),
            ..RecipientReport::default()
        }
    }
}

/// An address as reports write it (`rfc822; <A@B>`) reduced to `A@B`.
///
/// Bytes searched by memchr and trimmed by [`text::trim`]: this runs on every
/// recipient field of every report.
pub fn clean_address(value: &str) -> String {
    let find = |v: &str, b: u8| memchr::memchr(b, v.as_bytes());
    let mut v = text::trim(value);
    if let Some(semi) = find(v, b';')
        && find(&v[..semi], b'@').is_none()
    {
        v = text::trim(&v[semi + 1..]);
    }
    // "Name <a@b>": keep the bracketed address.
    if let Some(start) = find(v, b'<')
        && let Some(end) = find(&v[start..], b'>')
        && find(&v[start..start + end], b'@').is_some()
    {
        return text::trim(&v[start + 1..start + end]).to_string();
    }
    let mut v = text::trim(
        v.trim_matches(|c: char| matches!(c, '<' | '>' | '\'' | ' ' | '\t' | ':' | ',' | '.')),
    );
    // "a@b" quoted whole loses its quotes; "a..b"@c keeps its quoted local part.
    if v.len() > 2 && v.starts_with('"') && v.ends_with('"') {
        v = &v[1..v.len() - 1];
    }
    v.to_string()
}

/// A message decoded: the report and what is known of the original message.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub report: Report,
    pub original: Original,
    /// When the recipients without a Last-Attempt-Date failed: the report's
    /// Arrival-Date, else the notice's own Date.
    pub time: Option<Timestamp>,
    /// The original message's sender: the report's, else the returned message's From
    /// or Return-Path, else the address the notice was sent to (bounces go back to
    /// the sender).
    pub sender: Option<String>,
}

/// Why a message could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecoded {
    /// No header block: not an email.
    NotMail,
    /// An email, but neither a bounce nor a known non-bounce.
    NotBounce,
}

impl Undecoded {
    pub fn reason(self) -> &'static str {
        match self {
            Undecoded::NotMail => "not an email (no header)",
            Undecoded::NotBounce => "not a bounce or report",
        }
    }
}

/// Decodes one message (LF line ends, as [`MessageReader`] gives them).
pub fn decode(raw: &[u8]) -> Result<Decoded, Undecoded> {
    let mail = Mail::parse(raw).ok_or(Undecoded::NotMail)?;
    decode_mail(&mail).ok_or(Undecoded::NotBounce)
}

/// Runs the decoders on a parsed message. A notice none of them reads may carry the
/// real bounce as its attached message (a relay that bounced a bounce): that one is
/// decoded instead.
pub fn decode_mail(mail: &Mail<'_>) -> Option<Decoded> {
    let Some(report) = DECODERS.iter().find_map(|d| (d.decode)(mail)) else {
        // The attached message, or one pasted into the text ("From MAILER-DAEMON ..."
        // and its headers after a rule), may be the bounce itself.
        let inline;
        let nested: &[u8] = match mail.nested.as_deref() {
            Some(n) => n,
            None => {
                inline = mail.inline_original()?.as_bytes();
                if !mail::is_returned_notice(&inline[..inline.len().min(4096)]) {
                    return None;
                }
                inline
            }
        };
        let inner = Mail::parse(nested)?;
        let decoded = decode_mail(&inner)?;
        return (decoded.report.kind == Kind::Bounce).then_some(decoded);
    };
    let original = match &mail.original {
        Some(h) => Original::from_headers(h),
        None => mail
            .inline_original()
            .map(Original::from_headers)
            .unwrap_or_default(),
    };
    // The notice's To is read only when nothing else names the sender.
    let sender = report
        .sender
        .clone()
        .or_else(|| original.from.clone())
        .or_else(|| original.return_path.clone())
        .or_else(|| {
            mail.header(mail::Header::To)
                .and_then(mail::first_address)
                .map(|a| a.to_ascii_lowercase())
        });
    // The notice's Date is parsed only when a recipient is left without a time.
    let time = report.arrival_date.or_else(|| {
        report
            .recipients
            .iter()
            .any(|r| r.last_attempt.is_none())
            .then(|| mail.date())
            .flatten()
    });
    Some(Decoded {
        report,
        original,
        time,
        sender,
    })
}

pub struct DsnFormat;

/// Header names that only mail starts with; one of them in the first lines, with the
/// lines before it all header-shaped, makes an email.
const MAIL_HEADERS: &[&str] = &[
    "return-path",
    "received",
    "from",
    "subject",
    "mime-version",
    "content-type",
    "message-id",
    "date",
    "to",
    "delivered-to",
    "x-original-to",
    "dkim-signature",
    "authentication-results",
    "arc-seal",
    "reply-to",
    "sender",
    "envelope-to",
    "x-failed-recipients",
    "auto-submitted",
];

/// The pieces of `bytes` between line ends, CR or LF, as `bytes.split` on either cuts
/// them, found by memchr: sniffing splits the head of every email of a folder, where
/// a test per byte cost more than the rest of the sniff.
fn split_cr_lf(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut ends = memchr::memchr2_iter(b'\n', b'\r', bytes);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let end = ends.next();
        start = end.map(|end| end + 1);
        Some(&bytes[from..end.unwrap_or(bytes.len())])
    })
}

impl Format for DsnFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    /// An email (RFC 5322 header fields from the first line on, one of them a field
    /// only mail has) or an mbox (a `From ` line, then such fields).
    fn sniff(&self, head: &[u8]) -> bool {
        let mut lines = split_cr_lf(head).filter(|l| !l.is_empty()).peekable();
        if lines.peek().is_some_and(|l| l.starts_with(b"From ")) {
            lines.next();
            // The message's own envelope line, escaped when it was stored in an mbox.
            if lines.peek().is_some_and(|l| l.starts_with(b">From ")) {
                lines.next();
            }
        }
        let mut fields = 0;
        for line in lines.take(40) {
            if matches!(line[0], b' ' | b'\t') {
                // A folded continuation, but only after a field.
                if fields == 0 {
                    return false;
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                return false;
            };
            let name = &line[..colon];
            if name.is_empty() || name.iter().any(|&b| !(33..=126).contains(&b)) {
                return false;
            }
            fields += 1;
            if MAIL_HEADERS
                .iter()
                .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
            {
                return true;
            }
        }
        false
    }

    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a> {
        Box::new(DsnParser { ctx })
    }

    /// Each email stands alone: files may be parsed in parallel.
    fn independent_files(&self) -> bool {
        true
    }
}

pub struct DsnParser<'a> {
    ctx: &'a Context<'a>,
}

static NOT_A_BOUNCE_RULE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("dsn.not_a_bounce"));

/// A verdict for an event that reports no failure.
fn not_a_bounce(evidence: String) -> Verdict {
    Verdict {
        bucket: Bucket::Unknown,
        reason: "not_a_bounce",
        rule: NOT_A_BOUNCE_RULE.clone(),
        evidence,
        hard: false,
    }
}

impl DsnParser<'_> {
    /// Decodes one message into `sink`: its events, failures classified unless
    /// `classify` is off (the caller then classifies them, see [`Recorded::classify`]).
    fn message(
        &self,
        raw: &[u8],
        info: MessageInfo,
        file: &Arc<str>,
        tally: &mut Tally,
        sink: &mut dyn Sink,
        classify: bool,
    ) {
        let keep = self.ctx.keep_unrecognized;
        // Decoders are written not to panic on any input; should one still do, the
        // message is counted as unrecognized and the run goes on.
        let mut decoded = match std::panic::catch_unwind(|| decode(raw)) {
            Ok(Ok(d)) => d,
            Ok(Err(why)) => {
                tally.unrecognized(info.index, why.reason(), first_line(raw), keep);
                return;
            }
            Err(_) => {
                tally.unrecognized(info.index, "decoder failed", first_line(raw), keep);
                return;
            }
        };
        let source = Source {
            kind: NAME,
            file: file.clone(),
            line: info.index,
        };
        let mut failures = 0;
        // Each recipient's strings are moved into its event rather than copied.
        let recipients = std::mem::take(&mut decoded.report.recipients);
        for rcpt in recipients {
            let mut event = to_event(&decoded, rcpt, source.clone());
            if event.action.is_failure() {
                failures += 1;
                if classify {
                    self.ctx.classifier.classify_event(&mut event);
                }
            }
            tally.events += 1;
            // Given away, not lent: a worker's recorder keeps them without copies.
            let outcome = match event.action {
                Action::Bounced => Outcome::Bounced,
                Action::Expired => Outcome::Expired,
                _ => {
                    sink.owned_event(event);
                    continue;
                }
            };
            let first_time = event.time;
            sink.final_event(Delivery::from_last(event, outcome, 1, 0, first_time));
        }
        match decoded.report.kind {
            Kind::AutoReply => tally.ignore("auto-reply"),
            Kind::Feedback => tally.ignore("feedback report"),
            Kind::Bounce if failures == 0 => tally.ignore("delivery report"),
            Kind::Bounce => tally.parsed += 1,
        }
    }
}

/// The first line of a message, for `--show-unparsed`.
fn first_line(raw: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', raw).unwrap_or(raw.len());
    &raw[..end]
}

/// Builds the event of one recipient block.
pub fn to_event(decoded: &Decoded, rcpt: RecipientReport, source: Source) -> Event {
    let report = &decoded.report;
    let diagnostic = rcpt.diagnostic.as_deref().filter(|d| !d.is_empty());
    let mut found = diagnostic.map(codes::extract).unwrap_or_default();
    // The diagnostic lowercased once, for the expiry and stage phrases, when needed.
    let lower_cell = std::cell::OnceCell::new();
    let lower = || {
        lower_cell
            .get_or_init(|| diagnostic.unwrap_or_default().to_ascii_lowercase())
            .as_str()
    };
    let failure = report.kind == Kind::Bounce
        && !matches!(
            rcpt.action,
            Some(DsnAction::Delivered | DsnAction::Relayed | DsnAction::Expanded)
        );
    // A session transcript quotes the successful replies before the failing one
    // ("250 2.1.5 Ok ... 451 4.3.0 Error"): a failure takes its first failure codes.
    // The text is scanned for them only then.
    let success_reply = failure && found.reply.is_some_and(|r| r.class() < 4);
    let success_enhanced = failure && found.enhanced.is_some_and(|e| e.class < 4);
    let mut first_in_text = None;
    if success_reply || success_enhanced {
        let (fail_reply, fail_enhanced) = diagnostic.map(text::failure_codes).unwrap_or_default();
        if success_reply {
            found.reply = fail_reply;
        }
        if success_enhanced {
            found.enhanced = fail_enhanced;
            first_in_text = fail_enhanced;
        }
    }
    // The first code in the text only weighs against a Status field.
    if !success_enhanced && rcpt.status.is_some() {
        first_in_text = diagnostic.and_then(text::first_enhanced);
    }
    let enhanced_code = choose_status(rcpt.status, found.enhanced, first_in_text);
    let reply_code = rcpt
        .reply_code
        .or(found.reply)
        .or_else(|| diagnostic.and_then(text::reply_code_in));
    let class = enhanced_code
        .map(|e| e.class)
        .or(reply_code.map(|r| r.class()));
    let action = match (report.kind, rcpt.action) {
        (Kind::Bounce, Some(DsnAction::Delayed)) => Action::Delayed,
        (Kind::Bounce, Some(DsnAction::Delivered | DsnAction::Relayed | DsnAction::Expanded))
        | (Kind::AutoReply | Kind::Feedback, _) => Action::Delivered,
        (Kind::Bounce, Some(DsnAction::Failed) | None) => {
            let is_expiry = |e: EnhancedCode| e.class == 4 && e.subject == 4 && e.detail == 7;
            let expired = || {
                rcpt.expired
                    || enhanced_code.is_some_and(is_expiry)
                    || rcpt.status.is_some_and(is_expiry)
                    || diagnostic.is_some() && text::says_expired_lower(lower())
            };
            // A permanent failure is no expiry, whatever its text says: the text is
            // searched for the phrases only when the class leaves the question open.
            if class.is_none_or(|c| c == 4) && expired() {
                Action::Expired
            } else {
                Action::Bounced
            }
        }
    };
    let stage = rcpt
        .stage
        .or_else(|| diagnostic.and_then(detect_stage))
        .or_else(|| diagnostic.and_then(|_| text::stage_marker_lower(lower())));
    let verdict = match (report.kind, action) {
        (Kind::Bounce, Action::Delivered) => Some(not_a_bounce(format!(
            "Action: {}",
            rcpt.action.map_or("delivered", DsnAction::as_str)
        ))),
        (Kind::AutoReply | Kind::Feedback, _) => {
            Some(not_a_bounce(report.evidence.clone().unwrap_or_default()))
        }
        _ => None,
    };
    let mut recipient = rcpt.address;
    recipient.make_ascii_lowercase();
    Event {
        time: rcpt.last_attempt.or(decoded.time),
        source,
        recipient: Arc::from(recipient),
        sender: decoded.sender.as_deref().map(Arc::from),
        queue_id: report.queue_id.as_deref().map(Arc::from),
        message_id: decoded.original.message_id.as_deref().map(Arc::from),
        relay_host: rcpt.remote_mta.as_deref().map(Arc::from),
        relay_ip: None,
        action,
        reply_code: if action == Action::Delivered && report.kind != Kind::Bounce {
            None
        } else {
            reply_code
        },
        enhanced_code,
        diagnostic: rcpt.diagnostic.filter(|d| !d.is_empty()),
        smtp_stage: stage,
        agent: Some(agent(report.decoder)),
        verdict,
        mta_host: report.reporting_mta.as_deref().map(Arc::from),
        // The returned original's campaign header (X-Campaign-ID, ..., else List-Id),
        // else a VERP envelope sender.
        campaign: decoded
            .original
            .campaign
            .as_deref()
            .or(decoded.original.list_id.as_deref())
            .or_else(|| {
                report
                    .sender
                    .as_deref()
                    .or(decoded.original.return_path.as_deref())
                    .and_then(crate::model::campaign_of)
            })
            .map(Arc::from),
        step: None,
        extra: None,
    }
}

/// `dsn/<decoder>`, made once per decoder and shared by its events.
fn agent(decoder: &str) -> Arc<str> {
    static AGENTS: LazyLock<Vec<Arc<str>>> = LazyLock::new(|| {
        DECODERS
            .iter()
            .map(|d| Arc::from(format!("{NAME}/{}", d.name)))
            .collect()
    });
    match DECODERS.iter().position(|d| d.name == decoder) {
        Some(i) => AGENTS[i].clone(),
        None => Arc::from(format!("{NAME}/{decoder}")),
    }
}

/// The enhanced code of a recipient. The Status field, except where the remote's
/// own reply is more precise: a first code in the diagnostic with non-zero subject and
/// detail of one digit each (`4.7.1`, `5.2.2`) and the same class wins over the
/// reporting MTA's summary (Sendmail writes `Status: 4.4.7` above `450 4.7.1 ...`,
/// Exim `Status: 5.0.0` above `550 5.7.1 ...`); a generic `X.0.0` Status gives way
/// to any code of its class in the text. This is also how Sisimai reads them, which
/// keeps the two comparable. Without a Status, the code found in the text.
pub fn choose_status(
    status: Option<EnhancedCode>,
    in_text: Option<EnhancedCode>,
    first_in_text: Option<EnhancedCode>,
) -> Option<EnhancedCode> {
    let precise = |e: EnhancedCode| (1..=9).contains(&e.subject) && (1..=9).contains(&e.detail);
    match (status, first_in_text) {
        (Some(s), Some(t)) if t.class == s.class && precise(t) => Some(t),
        (Some(s), _) if s.subject == 0 && s.detail == 0 => match in_text {
            Some(t) if t.class == s.class => Some(t),
            _ => Some(s),
        },
        (Some(s), _) => Some(s),
        (None, _) => in_text,
    }
}

/// A run of messages of one mbox, for a worker: the messages back to back in `data`.
struct Batch {
    data: Vec<u8>,
    messages: Vec<(std::ops::Range<usize>, MessageInfo)>,
}

/// An mbox is cut into batches of about this many bytes for the workers.
const BATCH_BYTES: usize = 256 << 10;

impl DsnParser<'_> {
    /// Decodes every message of a batch into a tally of its own and a record of what
    /// it emitted, to be passed on in order.
    fn batch(&self, batch: Batch, file: &Arc<str>) -> (Tally, Recorded, Vec<u8>) {
        let mut tally = Tally::new(NAME, file, "messages");
        let mut recorded = Recorded::default();
        for (range, info) in batch.messages {
            tally.total += 1;
            self.message(
                &batch.data[range],
                info,
                file,
                &mut tally,
                &mut recorded,
                false,
            );
        }
        // Classified together, after the batch is decoded: the classifier's tables
        // stay in the cache from one failure to the next.
        recorded.classify(self.ctx.classifier);
        (tally, recorded, batch.data)
    }

    /// The rest of an mbox: a reader thread cuts batches of messages, workers decode
    /// them, and this thread passes their events on in order (see [`Ordered`]).
    fn parse_parallel(
        &self,
        reader: &mut MessageReader<'_>,
        file: &Arc<str>,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let keep = self.ctx.keep_unrecognized;
        // A read error (a truncated .gz) first hands over the messages read before it.
        let mut failed = None;
        Ordered {
            threads: self.ctx.threads,
            // Passing events on is light: a batch this thread decoded would hold
            // back the workers' results behind it.
            applier_works: false,
            cut: |spare: Option<Vec<u8>>| -> io::Result<Option<Batch>> {
                if let Some(e) = failed.take() {
                    return Err(e);
                }
                let mut data = spare.unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES * 2));
                data.clear();
                let mut messages = Vec::new();
                while data.len() < BATCH_BYTES {
                    let start = data.len();
                    match reader.append_message(&mut data) {
                        Ok(Some(info)) => messages.push((start..data.len(), info)),
                        Ok(None) => break,
                        Err(e) if messages.is_empty() => return Err(e),
                        Err(e) => {
                            data.truncate(start);
                            failed = Some(e);
                            break;
                        }
                    }
                }
                Ok((!messages.is_empty()).then_some(Batch { data, messages }))
            },
            new_worker: || (),
            work: |batch: Batch, _: &mut ()| self.batch(batch, file),
            apply: |(part, recorded, data): (Tally, Recorded, Vec<u8>)| {
                recorded.replay(sink);
                tally.merge(part, keep);
                Some(data)
            },
        }
        .run()
    }
}

impl Parser for DsnParser<'_> {
    /// One message at a time; the rest of an mbox, after its first message, is decoded
    /// on the worker threads when there are several.
    fn parse(
        &mut self,
        input: &mut (dyn BufRead + Send),
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        let mut tally = Tally::new(NAME, &meta.file, "messages");
        let mut reader = MessageReader::new(input);
        let mut buf = Vec::with_capacity(64 << 10);
        while let Some(info) = reader.next_message(&mut buf)? {
            tally.total += 1;
            let classify = !self.ctx.classify_later;
            self.message(&buf, info, &meta.file, &mut tally, sink, classify);
            if self.ctx.threads > 1 && reader.is_mbox() {
                self.parse_parallel(&mut reader, &meta.file, &mut tally, sink)?;
                break;
            }
        }
        Ok(tally)
    }

    /// An email read whole (a Maildir entry) is decoded in memory when it is one
    /// message within [`container::MAX_MESSAGE`], an mbox of one message too: its
    /// bytes made what [`MessageReader`] would make of them, line by line. Anything
    /// else is read as a stream.
    fn parse_bytes(
        &mut self,
        bytes: &[u8],
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        let Some(message) = container::whole_message(bytes) else {
            return self.parse(&mut io::Cursor::new(bytes), meta, sink);
        };
        let mut tally = Tally::new(NAME, &meta.file, "messages");
        tally.total = 1;
        let info = MessageInfo {
            index: 1,
            truncated: false,
        };
        let classify = !self.ctx.classify_later;
        self.message(&message, info, &meta.file, &mut tally, sink, classify);
        Ok(tally)
    }

    fn finish(&mut self, _sink: &mut dyn Sink) -> Leftovers {
        Leftovers::default()
    }
}

#[cfg(test)]
mod tests;
