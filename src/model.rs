//! The unified event model every input format is parsed into.
//!
//! An [`Event`] is one delivery attempt or final result for one recipient, as one input
//! line, DSN block or export row told it. A [`Delivery`] gathers the attempts of one
//! (message, recipient) pair and holds its final [`Outcome`]. Parsers build these; the
//! classifier fills in [`Verdict`]s; reports only read them.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use crate::codes::{EnhancedCode, ReplyCode};
pub use crate::time::Timestamp;

/// Where an event came from: the input format, the file and the line (1-based) or
/// message/row number within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub kind: &'static str,
    pub file: Arc<str>,
    pub line: u64,
}

/// What happened to the recipient in this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Accepted by the next hop or delivered locally.
    Delivered,
    /// A temporary failure; the MTA will try again.
    Deferred,
    /// A permanent failure; the sender was or will be told.
    Bounced,
    /// The MTA gave up after temporary failures (queue lifetime exceeded).
    Expired,
    /// A delay warning (DSN `Action: delayed`): evidence of a transient condition.
    Delayed,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Delivered => "delivered",
            Action::Deferred => "deferred",
            Action::Bounced => "bounced",
            Action::Expired => "expired",
            Action::Delayed => "delayed",
        }
    }

    /// True for actions that report a failure (temporary or permanent).
    pub fn is_failure(self) -> bool {
        !matches!(self, Action::Delivered)
    }
}

/// The SMTP stage a reply answered, when the input says so
/// ("in reply to RCPT TO command", "refused to talk to me").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpStage {
    /// Before or at the greeting banner, or while connecting.
    Connect,
    Helo,
    Mail,
    Rcpt,
    /// DATA or end of DATA (BDAT included).
    Data,
}

impl SmtpStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpStage::Connect => "connect",
            SmtpStage::Helo => "helo",
            SmtpStage::Mail => "mail",
            SmtpStage::Rcpt => "rcpt",
            SmtpStage::Data => "data",
        }
    }

    pub fn parse(name: &str) -> Option<SmtpStage> {
        Some(match name {
            "connect" => SmtpStage::Connect,
            "helo" => SmtpStage::Helo,
            "mail" => SmtpStage::Mail,
            "rcpt" => SmtpStage::Rcpt,
            "data" => SmtpStage::Data,
            _ => return None,
        })
    }
}

/// Coarse cause of a failure. Spelled in JSON as in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    ListRot,
    Reputation,
    Auth,
    Infrastructure,
    Transient,
    Content,
    Unknown,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::ListRot,
        Bucket::Reputation,
        Bucket::Auth,
        Bucket::Infrastructure,
        Bucket::Transient,
        Bucket::Content,
        Bucket::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::ListRot => "list_rot",
            Bucket::Reputation => "reputation",
            Bucket::Auth => "auth",
            Bucket::Infrastructure => "infrastructure",
            Bucket::Transient => "transient",
            Bucket::Content => "content",
            Bucket::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classifier's answer for one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub bucket: Bucket,
    /// Fine reason from the vocabulary (`user_unknown`, `blocklisted`, ...).
    pub reason: &'static str,
    /// Id of the rule that matched.
    pub rule: Arc<str>,
    /// What the rule matched on: the text fragment, or the code.
    pub evidence: String,
    /// True when the failure is permanent for this message (5xx), false when the
    /// sender may retry.
    pub hard: bool,
}

/// One delivery attempt or final result for one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: Option<Timestamp>,
    pub source: Source,
    pub recipient: Arc<str>,
    pub sender: Option<Arc<str>>,
    pub queue_id: Option<Arc<str>>,
    pub message_id: Option<Arc<str>>,
    pub relay_host: Option<Arc<str>>,
    pub relay_ip: Option<Arc<str>>,
    pub action: Action,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub diagnostic: Option<String>,
    /// The SMTP stage the failure happened at, set by the parser that makes the event
    /// (from its log line, or `classify::detect_stage` on the diagnostic): the
    /// classifier reads it and does not seek it again.
    pub smtp_stage: Option<SmtpStage>,
    /// Which decoder or agent produced the event (`postfix/smtp`, `rfc3464`, ...).
    pub agent: Option<Arc<str>>,
    pub verdict: Option<Verdict>,
    /// The MTA that logged or reported the event: the syslog host of a log line, the
    /// `Reporting-MTA` of a DSN, an export's sending host or IP.
    pub mta_host: Option<Arc<str>>,
    /// The campaign the message belongs to: an export's campaign column, a DSN's
    /// `X-Campaign-ID` / `List-Id`, or a VERP envelope sender ([`campaign_of`]).
    pub campaign: Option<Arc<str>>,
    /// The sequence step (sequencer exports).
    pub step: Option<Arc<str>>,
    /// Further columns of an export row, `(column, value)`, for `--by COLUMN`.
    pub extra: Option<Extra>,
}

/// Extra export columns of one row: `(name, value)` pairs; names are shared per file.
pub type Extra = Arc<[(Arc<str>, Arc<str>)]>;

impl Event {
    /// The value of an extra column, matched case-insensitively.
    pub fn extra_value(&self, column: &str) -> Option<&str> {
        self.extra
            .as_ref()?
            .iter()
            .find_map(|(name, value)| name.eq_ignore_ascii_case(column).then_some(&**value))
    }
}

/// The campaign of a VERP-style envelope sender, when it has one:
/// `bounce+CAMPAIGN.mNNNN@...` and `bounces+CAMPAIGN-ANYTHING@...` name CAMPAIGN
/// (prefix matched case-insensitively), `bounce+CAMPAIGN@...` names CAMPAIGN. A tag
/// that encodes a recipient (`bounces+user=example.com@...`) names none.
pub fn campaign_of(sender: &str) -> Option<&str> {
    let local = &sender[..memchr::memrchr(b'@', sender.as_bytes())?];
    let tag = ["bounces+", "bounce+"].iter().find_map(|prefix| {
        let head = local.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| &local[prefix.len()..])
    })?;
    // `.m` and digits to the end: found from the end by bytes (a substring searcher
    // costs more to build than this whole tag takes to scan).
    let digits = tag.len() - tag.bytes().rev().take_while(u8::is_ascii_digit).count();
    let campaign = if digits < tag.len() && tag[..digits].ends_with(".m") {
        &tag[..digits - 2]
    } else {
        tag.split_once('-').map_or(tag, |(c, _)| c)
    };
    (!campaign.is_empty() && !campaign.contains('=')).then_some(campaign)
}

impl Event {
    /// The part after the last `@`, lowercased; empty when the address has none.
    pub fn recipient_domain(&self) -> String {
        domain_of(&self.recipient).into_owned()
    }
}

/// Lowercased domain of an address, or an empty string; borrowed when the address
/// is already lowercase (the common case, and a hot path in the report).
pub fn domain_of(address: &str) -> std::borrow::Cow<'_, str> {
    // By bytes: a hot path, and '@' and '>' are ASCII, so the cuts are char bounds.
    let domain = memchr::memrchr(b'@', address.as_bytes()).map_or("", |at| &address[at + 1..]);
    let domain = &domain[..domain.len() - domain.bytes().rev().take_while(|&b| b == b'>').count()];
    if domain.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(domain.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(domain)
    }
}

/// Final outcome of a (message, recipient) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    Bounced,
    /// Gave up after temporary failures.
    Expired,
    /// Still pending when the input ended.
    Deferred,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Bounced => "bounced",
            Outcome::Expired => "expired",
            Outcome::Deferred => "deferred",
        }
    }

    /// Bounced or expired: the message never reached the recipient.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Bounced | Outcome::Expired)
    }
}

/// Which headline KPI a failed delivery counts toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    ListRot,
    Reputation,
    Infrastructure,
    /// Permanent failures whose cause is transient or unknown: part of the legacy rate
    /// but of none of the three KPIs.
    Other,
}

impl Kpi {
    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::ListRot => "list_rot",
            Kpi::Reputation => "reputation",
            Kpi::Infrastructure => "infrastructure",
            Kpi::Other => "other",
        }
    }

    /// The KPI of a failed delivery: expiries are 4xx-origin and so infrastructure
    /// whatever their cause; permanent failures go by the bucket of their cause.
    pub fn of(outcome: Outcome, bucket: Bucket) -> Option<Kpi> {
        match outcome {
            Outcome::Delivered | Outcome::Deferred => None,
            Outcome::Expired => Some(Kpi::Infrastructure),
            Outcome::Bounced => Some(match bucket {
                Bucket::ListRot => Kpi::ListRot,
                Bucket::Reputation | Bucket::Auth | Bucket::Content => Kpi::Reputation,
                Bucket::Infrastructure => Kpi::Infrastructure,
                Bucket::Transient | Bucket::Unknown => Kpi::Other,
            }),
        }
    }
}

/// One (message, recipient) pair with its attempts summarised and its final outcome.
///
/// Attempts are counted, not kept, so memory stays flat however often a message is
/// retried; `last` is the event that decided the outcome (for an expiry, the last
/// temporary failure, whose reply is the cause).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub outcome: Outcome,
    /// Delivery attempts seen (deferrals plus the final attempt).
    pub attempts: u32,
    pub deferrals: u32,
    pub first_time: Option<Timestamp>,
    /// The final event, or for an expiry or a pending delivery the last failure.
    pub last: Event,
    /// The last failure reply seen, when the outcome is not a failure itself (delivered
    /// after deferrals): kept so reports can show what delayed the mail.
    pub last_failure: Option<Event>,
}

impl Delivery {
    /// A delivery whose identity (queue id, message id, sender, recipient) is that of
    /// its deciding event, with no earlier failure recorded.
    pub fn from_last(
        last: Event,
        outcome: Outcome,
        attempts: u32,
        deferrals: u32,
        first_time: Option<Timestamp>,
    ) -> Delivery {
        Delivery {
            outcome,
            attempts,
            deferrals,
            first_time,
            last,
            last_failure: None,
        }
    }

    /// The identity of a delivery is that of its last event, which names the same
    /// message and recipient: it is read from there rather than copied.
    pub fn queue_id(&self) -> &Option<Arc<str>> {
        &self.last.queue_id
    }

    pub fn message_id(&self) -> &Option<Arc<str>> {
        &self.last.message_id
    }

    pub fn sender(&self) -> &Option<Arc<str>> {
        &self.last.sender
    }

    pub fn recipient(&self) -> &Arc<str> {
        &self.last.recipient
    }

    /// The cause of a failed delivery: the verdict of its last failure reply.
    pub fn cause(&self) -> Option<&Verdict> {
        if self.outcome == Outcome::Delivered {
            return None;
        }
        self.last.verdict.as_ref()
    }

    pub fn kpi(&self) -> Option<Kpi> {
        let bucket = self.cause().map_or(Bucket::Unknown, |v| v.bucket);
        Kpi::of(self.outcome, bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_of_takes_the_part_after_the_last_at_lowercased() {
        for (address, want) in [
            ("ann@example.org", "example.org"),
            ("Ann@Example.ORG", "example.org"),
            ("<ann@example.org>", "example.org"),
            ("\"a@b\"@example.org>>", "example.org"),
            ("ann@", ""),
            ("no-at-sign", ""),
            ("", ""),
            ("ann@exämple.org", "exämple.org"),
        ] {
            assert_eq!(domain_of(address), want, "{address}");
        }
        assert!(matches!(
            domain_of("ann@example.org"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
