//! Diagnoses: the bounce patterns a deliverability engineer reads, each with its
//! evidence and the action it calls for.
//!
//! Two halves, kept apart so every rule is testable on constructed figures:
//! - [`Collector`] is fed every event and delivery while the parsers stream (by the
//!   [`super::Analysis`] sink). It keeps bounded aggregates only: a time histogram whose
//!   bins widen as the span grows, per-provider, per-domain and per-campaign counters,
//!   per-hour blocking windows, and per-address counters for mailbox-full failures only.
//! - [`diagnose`] runs pure rules over a [`DiagnosisInput`] (what the collector and the
//!   report's figures hold) and returns the [`Diagnosis`] list, most severe first.
//!
//! Renderers print diagnoses as they are; thresholds are the constants below and are
//! documented in the README ("Diagnoses").

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use serde::{Serialize, Serializer};

use crate::model::{Action, Bucket, Delivery, EnhancedCode, Event, Outcome, SmtpStage, Timestamp};
use crate::provider::provider_of;

use super::{MAX_DOMAINS, OTHER_DOMAINS, capped_slot, ratio};

/// Share-based rules need at least this many failed deliveries.
pub const MIN_FAILURES: u64 = 10;
/// List rot concentrated: at least this many list-rot bounces.
pub const MIN_LIST_ROT: u64 = 10;
/// List rot concentrated: the top domains' share of list-rot bounces.
pub const LIST_ROT_TOP_SHARE: f64 = 0.60;
/// List rot concentrated: how many domains are "the top".
pub const LIST_ROT_TOP_DOMAINS: usize = 3;
/// List rot concentrated: their share of list rot must be this many times their share
/// of deliveries (otherwise they are simply where the mail goes).
pub const OVER_REPRESENTATION: f64 = 1.5;
/// List aging: failures needed in each half of the time span.
pub const MIN_FAILURES_PER_HALF: u64 = 20;
/// List aging: rise of the 5.1.1 share of failures between the halves.
pub const AGING_RISE: f64 = 0.10;
/// Infrastructure rot: share of failures that are 4xx-origin or infrastructure.
pub const INFRASTRUCTURE_SHARE: f64 = 0.30;
/// Connection-level failures: attempts that failed before any SMTP dialogue.
pub const MIN_CONNECTION_FAILURES: u64 = 3;
/// Concentration rules (throttling, content): events needed, the top group's share of
/// them, and how many times the rest's rate the top group's rate must be.
pub const MIN_CONCENTRATED: u64 = 5;
pub const CONCENTRATION_SHARE: f64 = 0.60;
pub const CONCENTRATION_RATIO: f64 = 2.0;
/// Blocklisting: distinct receivers blocking within one window.
pub const MIN_BLOCKING_RECEIVERS: usize = 2;
/// Blocklisting: window length (two consecutive clock hours).
pub const BLOCK_WINDOW_HOURS: i64 = 2;
/// Abandoned mailboxes: a mailbox full on this many messages, or for this long.
pub const FULL_MESSAGES: u32 = 2;
pub const FULL_SECONDS: i64 = 86_400;
/// Segments (domains, steps) need this many deliveries to have a rate of their own.
pub const MIN_SEGMENT_DELIVERIES: u64 = 20;
/// Uneven vs uniform: segments needed.
pub const MIN_SEGMENTS: usize = 3;
/// Uneven vs uniform: z of the chi-square test (p = 0.001, one-sided), for the
/// approximation above 30 degrees of freedom.
pub const CHI_SQUARE_Z: f64 = 3.090_232;
/// Step-specific: the step's rate minus the other steps' must be at least this.
pub const STEP_MIN_DIFFERENCE: f64 = 0.02;

/// Histogram bins before they are merged pairwise (and their width doubled).
const MAX_TIME_BINS: usize = 4096;
/// First bin width of the failure histogram.
const FIRST_BIN_SECONDS: i64 = 60;
/// Full mailboxes tracked by address; later ones are not tracked.
const MAX_FULL_MAILBOXES: usize = 50_000;

/// Campaigns tracked by name; later ones are counted under [`OTHER_CAMPAIGNS`].
const MAX_CAMPAIGNS: usize = 10_000;
pub const OTHER_CAMPAIGNS: &str = "(other campaigns)";
/// Receivers remembered per blocking window (two are enough to trigger).
const MAX_RECEIVERS_PER_WINDOW: usize = 32;
/// Name of the pooled segment of domains too small for a rate of their own.
pub const SMALL_DOMAINS: &str = "(smaller domains)";

/// How urgent a diagnosis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One piece of evidence: a count, a rate (a fraction, shown as a percentage in
/// tables), another number, or a text. JSON gets the bare number or string.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    Count(u64),
    Rate(f64),
    Number(f64),
    Text(String),
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Evidence::Count(n) => serializer.serialize_u64(*n),
            Evidence::Rate(x) | Evidence::Number(x) => serializer.serialize_f64(*x),
            Evidence::Text(s) => serializer.serialize_str(s),
        }
    }
}

/// A pattern found in the figures, why, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Stable identifier (`list_rot_concentrated`, `blocklisting`, ...).
    pub id: &'static str,
    pub severity: Severity,
    pub title: String,
    /// The figures behind it, by name (sorted).
    pub evidence: BTreeMap<&'static str, Evidence>,
    /// The recommended action.
    pub action: String,
}

impl Diagnosis {
    fn new(id: &'static str, severity: Severity, title: String, action: &str) -> Diagnosis {
        Diagnosis {
            id,
            severity,
            title,
            evidence: BTreeMap::new(),
            action: action.to_string(),
        }
    }

    fn count(mut self, key: &'static str, n: u64) -> Diagnosis {
        self.evidence.insert(key, Evidence::Count(n));
        self
    }

    fn rate(mut self, key: &'static str, x: f64) -> Diagnosis {
        self.evidence.insert(key, Evidence::Rate(round6(x)));
        self
    }

    fn number(mut self, key: &'static str, x: f64) -> Diagnosis {
        self.evidence.insert(key, Evidence::Number(round6(x)));
        self
    }

    fn text(mut self, key: &'static str, s: impl Into<String>) -> Diagnosis {
        self.evidence.insert(key, Evidence::Text(s.into()));
        self
    }
}

fn round6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        0.0
    }
}

/// `a / b` as a float, 0 when `b` is 0 (unrounded, for comparisons).
fn frac(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Deliveries of a group (recipient domain, sequence step, ...) with their failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segment {
    pub name: String,
    /// Deliveries with a final outcome.
    pub deliveries: u64,
    /// Bounced + expired.
    pub failed: u64,
    /// Bounced with a list-rot cause.
    pub list_rot: u64,
}

/// Failed deliveries in one bin of the time histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeBin {
    /// Start of the bin, seconds since the epoch.
    pub start: i64,
    pub failed: u64,
    /// Of them, caused by 5.1.1 / user_unknown.
    pub user_unknown: u64,
}

/// 421 / 4.7.x deferrals at one receiver, and its attempts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiverThrottle {
    /// Provider name, or the recipient domain when the provider is not known.
    pub receiver: String,
    pub throttled: u64,
    pub attempts: u64,
}

/// Blocks (blocklist or 554 5.7.1 reputation refusals) in one clock hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockWindow {
    /// Start of the hour, seconds since the epoch.
    pub start: i64,
    /// Receivers that blocked (provider, or domain when unknown), sorted.
    pub receivers: Vec<String>,
    pub blocks: u64,
}

/// Deliveries of one campaign and its content rejections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignRow {
    pub name: String,
    pub deliveries: u64,
    /// Failed deliveries whose cause is in the content bucket.
    pub content: u64,
}

/// An address that met mailbox-full failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FullMailbox {
    pub address: String,
    /// Distinct messages (queue ids) that met a mailbox-full reply.
    pub messages: u32,
    /// Mailbox-full failure attempts.
    pub attempts: u32,
    /// Seconds between the first and the last mailbox-full reply.
    pub span_seconds: i64,
}

/// Everything the rules read. Built by [`Collector::finish`] plus the report's figures;
/// tests build it by hand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiagnosisInput {
    /// Deliveries with a final outcome (the KPI denominator).
    pub deliveries: u64,
    /// Bounced + expired.
    pub failed: u64,
    /// The infrastructure KPI count (expired + infrastructure bounces).
    pub infrastructure: u64,
    /// First and last event, seconds since the epoch.
    pub time_span: Option<(i64, i64)>,
    /// Every recipient domain with a final delivery.
    pub domains: Vec<Segment>,
    /// Failed deliveries over time, by final event time; `bin_seconds` wide bins.
    pub timeline: Vec<TimeBin>,
    pub bin_seconds: i64,
    /// Failure attempts with enhanced code 4.7.651 (Microsoft IP reputation throttling).
    pub microsoft_4_7_651: u64,
    /// Failure attempts that never reached an SMTP reply (refused, timed out, no route).
    pub connection_failures: u64,
    /// Failure attempts refused at the connection or greeting stage with a reply.
    pub connect_stage_blocks: u64,
    /// The two above by recipient domain, most first.
    pub connection_by_domain: Vec<(String, u64)>,
    /// Every receiver with attempts or throttled deferrals.
    pub throttling: Vec<ReceiverThrottle>,
    /// Every clock hour with blocks, in time order.
    pub block_windows: Vec<BlockWindow>,
    /// Blocklists named in reputation failure texts, with the attempts naming them.
    pub blocklists: BTreeMap<&'static str, u64>,
    /// Campaigns (from the envelope sender, see [`campaign_of`]).
    pub campaigns: Vec<CampaignRow>,
    /// Failed deliveries whose cause is in the content bucket, campaign or not.
    pub content_failed: u64,
    /// Failure attempts in the auth bucket, by reason.
    pub auth: BTreeMap<&'static str, u64>,
    /// Their enhanced codes.
    pub auth_codes: BTreeMap<String, u64>,
    /// Addresses that met mailbox-full failures.
    pub full_mailboxes: Vec<FullMailbox>,
    /// Sequence steps, when the input has them (None for mail logs).
    pub steps: Option<Vec<Segment>>,
}

/// Every rule, in a fixed order; the result is sorted most severe first, then by id.
pub fn diagnose(input: &DiagnosisInput) -> Vec<Diagnosis> {
    let rules: [fn(&DiagnosisInput) -> Option<Diagnosis>; 12] = [
        list_rot_concentrated,
        list_aging,
        infrastructure_rot,
        microsoft_throttling,
        connection_failures,
        provider_throttling,
        blocklisting,
        content_campaign,
        broken_authentication,
        abandoned_mailboxes,
        step_specific_bounces,
        bounce_dispersion,
    ];
    let mut found: Vec<Diagnosis> = rules.iter().filter_map(|rule| rule(input)).collect();
    found.extend(bounce_rate_band(input));
    found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(b.id)));
    found
}

/// The top 3 recipient domains hold ≥ 60% of list-rot bounces, and at least 1.5 times
/// their share of deliveries: a company laid people off or moved its domain.
pub fn list_rot_concentrated(input: &DiagnosisInput) -> Option<Diagnosis> {
    let total: u64 = input.domains.iter().map(|d| d.list_rot).sum();
    if total < MIN_LIST_ROT {
        return None;
    }
    let mut ranked: Vec<&Segment> = input.domains.iter().filter(|d| d.list_rot > 0).collect();
    ranked.sort_by(|a, b| b.list_rot.cmp(&a.list_rot).then(a.name.cmp(&b.name)));
    ranked.truncate(LIST_ROT_TOP_DOMAINS);
    let top_rot: u64 = ranked.iter().map(|d| d.list_rot).sum();
    let top_deliveries: u64 = ranked.iter().map(|d| d.deliveries).sum();
    let rot_share = frac(top_rot, total);
    let delivery_share = frac(top_deliveries, input.deliveries);
    if rot_share < LIST_ROT_TOP_SHARE || rot_share < OVER_REPRESENTATION * delivery_share {
        return None;
    }
    let names = ranked
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Some(
        Diagnosis::new(
            "list_rot_concentrated",
            Severity::Warning,
            format!("List rot concentrated at {names}"),
            "Dead addresses cluster at a few domains (layoffs, a company renamed or moved its \
             domain): suppress them (bouncex suppress), re-verify every address at these \
             domains, and update contacts whose company moved.",
        )
        .text("domains", names)
        .count("list_rot_at_domains", top_rot)
        .count("list_rot_total", total)
        .rate("share_of_list_rot", rot_share)
        .rate("share_of_deliveries", delivery_share),
    )
}

/// The 5.1.1 share of failures rose by 10 points or more between the first and the
/// second half of the time span: the list is aging.
pub fn list_aging(input: &DiagnosisInput) -> Option<Diagnosis> {
    let (first, last) = input.time_span?;
    if last <= first {
        return None;
    }
    let mid = first + (last - first) / 2;
    let half = input.bin_seconds.max(1) / 2;
    let (mut a, mut b) = ((0u64, 0u64), (0u64, 0u64));
    for bin in &input.timeline {
        // A bin belongs to the half its middle falls in.
        let slot = if bin.start + half < mid {
            &mut a
        } else {
            &mut b
        };
        slot.0 += bin.failed;
        slot.1 += bin.user_unknown;
    }
    if a.0 < MIN_FAILURES_PER_HALF || b.0 < MIN_FAILURES_PER_HALF {
        return None;
    }
    let (share_a, share_b) = (frac(a.1, a.0), frac(b.1, b.0));
    if share_b - share_a < AGING_RISE {
        return None;
    }
    Some(
        Diagnosis::new(
            "list_aging",
            Severity::Warning,
            format!(
                "List aging: user-unknown (5.1.1) share of failures rose from {:.1}% to {:.1}%",
                share_a * 100.0,
                share_b * 100.0
            ),
            "More addresses die as time goes on: re-verify the older segments, sunset contacts \
             that stopped engaging, and suppress hard bounces at once.",
        )
        .rate("first_half_share", share_a)
        .rate("second_half_share", share_b)
        .count("first_half_failures", a.0)
        .count("second_half_failures", b.0)
        .text(
            "midpoint",
            Timestamp(mid.saturating_mul(1_000_000)).to_string(),
        ),
    )
}

/// More than 30% of failures are 4xx-origin (expired) or infrastructure bounces.
pub fn infrastructure_rot(input: &DiagnosisInput) -> Option<Diagnosis> {
    if input.failed < MIN_FAILURES {
        return None;
    }
    let share = frac(input.infrastructure, input.failed);
    if share <= INFRASTRUCTURE_SHARE {
        return None;
    }
    Some(
        Diagnosis::new(
            "infrastructure_rot",
            Severity::Warning,
            format!(
                "Infrastructure rot: {:.1}% of failures are 4xx-origin or infrastructure",
                share * 100.0
            ),
            "Fix the sending side before touching the list: the MTA queue and retry settings, \
             DNS, TLS, IP warm-up and per-provider connection limits.",
        )
        .count("infrastructure", input.infrastructure)
        .count("failed", input.failed)
        .rate("share_of_failures", share)
        .rate("threshold", INFRASTRUCTURE_SHARE),
    )
}

/// Microsoft deferred with 4.7.651: the sending IP is rate limited for its reputation.
pub fn microsoft_throttling(input: &DiagnosisInput) -> Option<Diagnosis> {
    if input.microsoft_4_7_651 == 0 {
        return None;
    }
    Some(
        Diagnosis::new(
            "microsoft_4_7_651",
            Severity::Warning,
            "Microsoft 4.7.651: the sending IP is rate limited for its reputation".to_string(),
            "Slow down to Outlook.com and Microsoft 365, warm the IP up gradually, and watch \
             SNDS and the JMRP complaint feed.",
        )
        .count("attempts", input.microsoft_4_7_651),
    )
}

/// Attempts failed before the SMTP dialogue: refused or timed-out connections, or a
/// refusal at the greeting.
pub fn connection_failures(input: &DiagnosisInput) -> Option<Diagnosis> {
    let total = input.connection_failures + input.connect_stage_blocks;
    if total < MIN_CONNECTION_FAILURES {
        return None;
    }
    let mut d = Diagnosis::new(
        "connection_failures",
        Severity::Warning,
        format!("{total} attempts failed before the SMTP dialogue"),
        "Check outbound port 25, the destinations' MX and DNS, firewalls and TLS settings; a \
         refusal at the greeting (before any command) is a block of the sending IP.",
    )
    .count("attempts", total)
    .count("connection_failures", input.connection_failures)
    .count("refused_at_greeting", input.connect_stage_blocks);
    if let Some((domain, n)) = input.connection_by_domain.first() {
        d = d
            .text("top_domain", domain.clone())
            .count("top_domain_attempts", *n);
    }
    Some(d)
}

/// The group with most `hits`, when it holds ≥ 60% of them and its rate is at least
/// twice the rest's: (index, share of hits, its rate, the rest's rate).
fn concentrated(groups: &[(&str, u64, u64)]) -> Option<(usize, f64, f64, f64)> {
    let hits: u64 = groups.iter().map(|g| g.1).sum();
    let base: u64 = groups.iter().map(|g| g.2).sum();
    if hits < MIN_CONCENTRATED {
        return None;
    }
    let (i, top) = groups
        .iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
    let share = frac(top.1, hits);
    let rate = frac(top.1, top.2.max(top.1));
    let rest = frac(hits - top.1, base.saturating_sub(top.2));
    (share >= CONCENTRATION_SHARE && rate >= CONCENTRATION_RATIO * rest)
        .then_some((i, share, rate, rest))
}

/// 421 / 4.7.x deferrals concentrated at one provider.
pub fn provider_throttling(input: &DiagnosisInput) -> Option<Diagnosis> {
    let groups: Vec<(&str, u64, u64)> = input
        .throttling
        .iter()
        .map(|t| (t.receiver.as_str(), t.throttled, t.attempts))
        .collect();
    let (i, share, rate, rest) = concentrated(&groups)?;
    let top = &input.throttling[i];
    let total: u64 = groups.iter().map(|g| g.1).sum();
    Some(
        Diagnosis::new(
            "provider_throttling",
            Severity::Warning,
            format!(
                "Throttling at {}: 421/4.7.x deferrals concentrated there",
                top.receiver
            ),
            "Slow down to this provider: fewer connections and messages per connection, a \
             spread-out send, and a look at its postmaster tools for reputation and complaints.",
        )
        .text("provider", top.receiver.clone())
        .count("throttled_deferrals", top.throttled)
        .count("throttled_deferrals_total", total)
        .rate("share_of_throttling", share)
        .rate("provider_throttle_rate", rate)
        .rate("others_throttle_rate", rest),
    )
}

/// Blocks (554 5.7.1, blocklists) at two or more receivers within one window of two
/// consecutive clock hours.
pub fn blocklisting(input: &DiagnosisInput) -> Option<Diagnosis> {
    let mut best: Option<(i64, BTreeSet<&str>, u64)> = None;
    for (i, w) in input.block_windows.iter().enumerate() {
        let mut receivers: BTreeSet<&str> = w.receivers.iter().map(String::as_str).collect();
        let mut blocks = w.blocks;
        for next in input.block_windows.iter().skip(i + 1) {
            if next.start >= w.start + BLOCK_WINDOW_HOURS * 3600 {
                break;
            }
            receivers.extend(next.receivers.iter().map(String::as_str));
            blocks += next.blocks;
        }
        let better = match &best {
            None => true,
            Some((_, r, b)) => (receivers.len(), blocks) > (r.len(), *b),
        };
        if better {
            best = Some((w.start, receivers, blocks));
        }
    }
    let (start, receivers, blocks) = best?;
    if receivers.len() < MIN_BLOCKING_RECEIVERS {
        return None;
    }
    let names = receivers.iter().copied().collect::<Vec<_>>().join(", ");
    let lists = if input.blocklists.is_empty() {
        "none named".to_string()
    } else {
        input
            .blocklists
            .keys()
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let total: u64 = input.block_windows.iter().map(|w| w.blocks).sum();
    Some(
        Diagnosis::new(
            "blocklisting",
            Severity::Critical,
            format!(
                "Blocklisted: {} receivers blocked within {BLOCK_WINDOW_HOURS} hours ({names}); \
                 lists named: {lists}",
                receivers.len()
            ),
            "The sending IP or domain is on a blocklist: look it up at the lists named, fix \
             the cause (a compromised account, a bought list, spam traps), request delisting, \
             and move the traffic off the listed IP meanwhile. Keep the recipients.",
        )
        .text("receivers", names)
        .count("receiver_count", receivers.len() as u64)
        .count("blocks_in_window", blocks)
        .count("blocks_total", total)
        .text(
            "window_start",
            Timestamp(start.saturating_mul(1_000_000)).to_string(),
        )
        .text("blocklists", lists),
    )
}

/// Content rejections concentrated in one campaign.
pub fn content_campaign(input: &DiagnosisInput) -> Option<Diagnosis> {
    let mut groups: Vec<(&str, u64, u64)> = input
        .campaigns
        .iter()
        .map(|c| (c.name.as_str(), c.content, c.deliveries))
        .collect();
    // Deliveries without a campaign count as the rest.
    let in_campaigns: u64 = input.campaigns.iter().map(|c| c.content).sum();
    let campaign_deliveries: u64 = input.campaigns.iter().map(|c| c.deliveries).sum();
    groups.push((
        "",
        input.content_failed.saturating_sub(in_campaigns),
        input.deliveries.saturating_sub(campaign_deliveries),
    ));
    let (i, share, rate, rest) = concentrated(&groups)?;
    let top = input.campaigns.get(i)?;
    Some(
        Diagnosis::new(
            "content_campaign",
            Severity::Warning,
            format!("Content rejections concentrated in campaign {}", top.name),
            "Review this campaign's content: its links and their domains (URL blocklists), \
             the image-to-text ratio, attachments, wording and HTML; test it on a seed list \
             before sending it again.",
        )
        .text("campaign", top.name.clone())
        .count("content_rejections", top.content)
        .count("content_rejections_total", input.content_failed)
        .rate("share_of_content_rejections", share)
        .rate("campaign_content_rate", rate)
        .rate("others_content_rate", rest),
    )
}

/// SPF, DKIM, DMARC or PTR rejections.
pub fn broken_authentication(input: &DiagnosisInput) -> Option<Diagnosis> {
    let total: u64 = input.auth.values().sum();
    if total == 0 {
        return None;
    }
    let label = |reason: &str| match reason {
        "spf_fail" => "SPF",
        "dkim_fail" => "DKIM",
        "dmarc_fail" => "DMARC",
        "ptr_missing" => "PTR",
        "auth_missing" => "SPF/DKIM missing",
        _ => "authentication",
    };
    let mut named: Vec<&str> = input.auth.keys().map(|r| label(r)).collect();
    named.dedup();
    let names = named.join(", ");
    let mut d = Diagnosis::new(
        "broken_authentication",
        Severity::Critical,
        format!("Broken authentication: {names} rejections"),
        "Fix DNS and signing: an SPF record that covers the sending IPs, DKIM signatures \
         aligned with the From domain, a DMARC policy they pass, and a PTR record for the \
         sending IP that resolves back to it.",
    )
    .count("failures", total)
    .text("mechanisms", names);
    for (reason, n) in &input.auth {
        d = d.count(reason, *n);
    }
    let codes = input
        .auth_codes
        .iter()
        .map(|(c, n)| format!("{c} x{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if !codes.is_empty() {
        d = d.text("enhanced_codes", codes);
    }
    Some(d)
}

/// The same addresses mailbox-full again and again: on two or more messages, or for a
/// day or more.
pub fn abandoned_mailboxes(input: &DiagnosisInput) -> Option<Diagnosis> {
    let mut repeated: Vec<&FullMailbox> = input
        .full_mailboxes
        .iter()
        .filter(|m| m.messages >= FULL_MESSAGES || m.span_seconds >= FULL_SECONDS)
        .collect();
    if repeated.is_empty() {
        return None;
    }
    repeated.sort_by(|a, b| b.attempts.cmp(&a.attempts).then(a.address.cmp(&b.address)));
    let attempts: u64 = repeated.iter().map(|m| u64::from(m.attempts)).sum();
    Some(
        Diagnosis::new(
            "abandoned_mailboxes",
            Severity::Warning,
            format!(
                "Abandoned mailboxes: {} addresses are full again and again",
                repeated.len()
            ),
            "A mailbox that stays full is abandoned: stop mailing these addresses (bouncex \
             suppress lists them) or re-confirm them through another channel.",
        )
        .count("addresses", repeated.len() as u64)
        .count("mailbox_full_attempts", attempts)
        .text("example", repeated[0].address.clone()),
    )
}

/// One sequence step bounces at least twice as much as the others together (and 2
/// points more). Steps come from inputs that have them; mail logs have none.
pub fn step_specific_bounces(input: &DiagnosisInput) -> Option<Diagnosis> {
    let steps = input.steps.as_ref()?;
    let sized: Vec<&Segment> = steps
        .iter()
        .filter(|s| s.deliveries >= MIN_SEGMENT_DELIVERIES)
        .collect();
    if sized.len() < 2 {
        return None;
    }
    let top = sized.iter().copied().max_by(|a, b| {
        frac(a.failed, a.deliveries)
            .total_cmp(&frac(b.failed, b.deliveries))
            .then(b.name.cmp(&a.name))
    })?;
    let (rest_failed, rest_deliveries) = sized
        .iter()
        .filter(|s| s.name != top.name)
        .fold((0, 0), |(f, n), s| (f + s.failed, n + s.deliveries));
    let rate = frac(top.failed, top.deliveries);
    let rest = frac(rest_failed, rest_deliveries);
    if rate < CONCENTRATION_RATIO * rest || rate - rest < STEP_MIN_DIFFERENCE {
        return None;
    }
    Some(
        Diagnosis::new(
            "step_specific_bounces",
            Severity::Warning,
            format!("Step {} bounces far more than the other steps", top.name),
            "Look at what differs at this step: another sending domain or IP, a link or an \
             attachment, a later send when more addresses have died, or a branch of the list \
             that was never verified.",
        )
        .text("step", top.name.clone())
        .count("step_deliveries", top.deliveries)
        .count("step_failed", top.failed)
        .rate("step_bounce_rate", rate)
        .rate("other_steps_bounce_rate", rest),
    )
}

/// Critical values of the chi-square distribution at p = 0.001 for 1 to 30 degrees of
/// freedom (standard tables).
const CHI_SQUARE_0_001: [f64; 30] = [
    10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264, 32.909,
    34.528, 36.123, 37.697, 39.252, 40.790, 42.312, 43.820, 45.315, 46.797, 48.268, 49.728, 51.179,
    52.620, 54.052, 55.476, 56.892, 58.301, 59.703,
];

/// The chi-square critical value for `df` degrees of freedom at p = 0.001: the table up
/// to 30, the Wilson–Hilferty approximation above (within 0.5% there).
fn chi_square_critical(df: usize) -> f64 {
    if let Some(v) = df.checked_sub(1).and_then(|i| CHI_SQUARE_0_001.get(i)) {
        return *v;
    }
    let df = df as f64;
    let a = 2.0 / (9.0 * df);
    df * (1.0 - a + CHI_SQUARE_Z * a.sqrt()).powi(3)
}

/// Bounce rates across recipient domains: uneven (a chi-square test of homogeneity
/// rejects equal rates, and the spread is at least the pooled rate) points to list
/// rot; uniform (the test does not reject) points to the infrastructure. Domains with
/// fewer than 20 deliveries are pooled into one segment.
pub fn bounce_dispersion(input: &DiagnosisInput) -> Option<Diagnosis> {
    let mut segments: Vec<(&str, u64, u64)> = Vec::new();
    let mut small = (0u64, 0u64);
    for d in &input.domains {
        if d.deliveries >= MIN_SEGMENT_DELIVERIES {
            segments.push((d.name.as_str(), d.deliveries, d.failed));
        } else {
            small.0 += d.deliveries;
            small.1 += d.failed;
        }
    }
    if small.0 >= MIN_SEGMENT_DELIVERIES {
        segments.push((SMALL_DOMAINS, small.0, small.1));
    }
    let n: u64 = segments.iter().map(|s| s.1).sum();
    let f: u64 = segments.iter().map(|s| s.2).sum();
    if segments.len() < MIN_SEGMENTS || f < MIN_FAILURES || f == n {
        return None;
    }
    let p = frac(f, n);
    let chi2: f64 = segments
        .iter()
        .map(|&(_, ni, fi)| {
            let expected = ni as f64 * p;
            (fi as f64 - expected).powi(2) / (expected * (1.0 - p))
        })
        .sum();
    let critical = chi_square_critical(segments.len() - 1);
    let rate = |s: &(&str, u64, u64)| frac(s.2, s.1);
    let highest = segments
        .iter()
        .max_by(|a, b| rate(a).total_cmp(&rate(b)).then(b.0.cmp(a.0)))?;
    let lowest = segments
        .iter()
        .min_by(|a, b| rate(a).total_cmp(&rate(b)).then(a.0.cmp(b.0)))?;
    let spread = rate(highest) - rate(lowest);
    let d = if chi2 > critical {
        if spread < p.max(0.01) {
            return None;
        }
        Diagnosis::new(
            "bounces_uneven",
            Severity::Info,
            format!(
                "Bounce rates differ across recipient domains ({} highest): a list-rot pattern",
                highest.0
            ),
            "Failures cluster at some destinations: look at the list (suppress, re-verify the \
             segments those addresses came from) before the sending infrastructure.",
        )
    } else {
        Diagnosis::new(
            "bounces_uniform",
            Severity::Info,
            "Bounce rates are alike across recipient domains: an infrastructure pattern"
                .to_string(),
            "Failures do not depend on the destination: look at the sending side first (IP and \
             domain reputation, authentication, MTA configuration, rate limits).",
        )
    };
    Some(
        d.count("segments", segments.len() as u64)
            .number("chi_square", chi2)
            .number("critical_value", critical)
            .rate("pooled_bounce_rate", p)
            .text("highest_segment", highest.0)
            .rate("highest_bounce_rate", rate(highest))
            .text("lowest_segment", lowest.0)
            .rate("lowest_bounce_rate", rate(lowest)),
    )
}

/// The band of the legacy bounce rate, as the seeds grade it.
pub fn band(rate: f64) -> (&'static str, Severity) {
    if rate < 0.005 {
        ("excellent", Severity::Info)
    } else if rate < 0.02 {
        ("healthy", Severity::Info)
    } else if rate < 0.05 {
        ("attention", Severity::Warning)
    } else if rate <= 0.10 {
        ("serious", Severity::Critical)
    } else {
        ("stop sending", Severity::Critical)
    }
}

/// The legacy bounce rate and its band: < 0.5% excellent, < 2% healthy, 2–5% attention,
/// 5–10% serious, above 10% stop sending.
pub fn bounce_rate_band(input: &DiagnosisInput) -> Option<Diagnosis> {
    if input.deliveries == 0 {
        return None;
    }
    let rate = frac(input.failed, input.deliveries);
    let (name, severity) = band(rate);
    let action = match name {
        "excellent" | "healthy" => "Keep suppressing hard bounces as they come.",
        "attention" => {
            "Find which KPI drives it (list rot, reputation or infrastructure) and fix that \
             before the next send."
        }
        "serious" => {
            "Receivers take notice at this rate: clean the list (bouncex suppress) and fix the \
             causes above before sending more."
        }
        _ => {
            "Stop sending: at this rate receivers block the sender. Clean the list and fix the \
             causes above first."
        }
    };
    Some(
        Diagnosis::new(
            "bounce_rate_band",
            severity,
            format!("Legacy bounce rate {:.2}%: {name}", rate * 100.0),
            action,
        )
        .text("band", name)
        .rate("bounce_rate", ratio(input.failed, input.deliveries))
        .count("failed", input.failed)
        .count("deliveries", input.deliveries),
    )
}

/// The campaign of a VERP-style envelope sender; the heuristic lives in the model so
/// parsers fill `Event::campaign` with it.
pub use crate::model::campaign_of;

/// Blocklists recognised in failure texts: (name shown, lowercase pattern). A pattern
/// matches at a word start (`zen.spamhaus.org`, `(S3150)`), not inside a word.
const BLOCKLISTS: &[(&str, &str)] = &[
    ("Spamhaus", "spamhaus"),
    ("Barracuda", "barracudacentral"),
    ("Barracuda", "barracuda reputation"),
    ("SpamCop", "spamcop"),
    ("SORBS", "sorbs"),
    ("UCEPROTECT", "uceprotect"),
    ("Cloudmark", "cloudmark"),
    ("Proofpoint", "proofpoint"),
    ("Microsoft S3150", "s3150"),
    ("Microsoft S3140", "s3140"),
    ("PSBL", "psbl"),
    ("Invaluement", "invaluement"),
    ("Mailspike", "mailspike"),
    ("SURBL", "surbl"),
    ("URIBL", "uribl"),
    ("SpamRATS", "spamrats"),
    ("Abusix", "abusix"),
    ("Trend Micro", "trendmicro"),
    ("Trend Micro", "mail-abuse"),
    ("Hostkarma", "hostkarma"),
    ("Hostkarma", "junkemailfilter"),
    ("LashBack", "unsubscore"),
    ("Backscatterer", "backscatterer"),
];

/// The blocklists a failure text names, each once, in table order.
pub fn blocklists_named(text: &str) -> Vec<&'static str> {
    // Runs on every reputation failure of a large log: one pass over the text for all
    // the names, with the automaton built once.
    static NAMES: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(BLOCKLISTS.iter().map(|(_, pattern)| pattern))
            .expect("the blocklist names build an automaton")
    });
    // Lowercased first: a case-blind automaton of this many names cannot use the fast
    // vector search, and is slower than the copy.
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = [false; BLOCKLISTS.len()];
    // Matches that do not overlap are enough: a name can start inside another only
    // after a letter or a digit, which is no word start (the names hold no space or
    // dash that another name begins after).
    for m in NAMES.find_iter(bytes) {
        let i = m.start();
        if i == 0 || !bytes[i - 1].is_ascii_alphanumeric() {
            found[m.pattern().as_usize()] = true;
        }
    }
    let mut names: Vec<&'static str> = Vec::new();
    for (&(name, _), _) in BLOCKLISTS.iter().zip(found).filter(|(_, hit)| *hit) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The receiver of a delivery: its provider, or the recipient domain when the provider
/// is not known (so two companies are two receivers).
fn receiver(provider: &'static str, recipient: &str) -> String {
    if provider == "other" {
        crate::model::domain_of(recipient).into_owned()
    } else {
        provider.to_string()
    }
}

/// Failure-time histogram whose bins double in width when there are too many.
#[derive(Debug)]
struct Timeline {
    width: i64,
    /// Bin index (time / width) → (failed, user_unknown).
    bins: BTreeMap<i64, (u64, u64)>,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline {
            width: FIRST_BIN_SECONDS,
            bins: BTreeMap::new(),
        }
    }
}

impl Timeline {
    fn add(&mut self, secs: i64, user_unknown: bool) {
        let slot = self.bins.entry(secs.div_euclid(self.width)).or_default();
        slot.0 += 1;
        slot.1 += u64::from(user_unknown);
        if self.bins.len() > MAX_TIME_BINS {
            self.width *= 2;
            let old = std::mem::take(&mut self.bins);
            for (i, (f, u)) in old {
                let slot = self.bins.entry(i.div_euclid(2)).or_default();
                slot.0 += f;
                slot.1 += u;
            }
        }
    }
}

#[derive(Debug, Default)]
struct FullState {
    messages: u32,
    attempts: u32,
    last_queue_id: Option<Arc<str>>,
    first: Option<i64>,
    last: Option<i64>,
}

#[derive(Debug, Default)]
struct WindowState {
    receivers: BTreeSet<String>,
    blocks: u64,
}

/// The streaming half: fed by the Analysis sink, bounded memory (see the module doc).
#[derive(Debug, Default)]
pub struct Collector {
    timeline: Timeline,
    microsoft_4_7_651: u64,
    connection_failures: u64,
    connect_stage_blocks: u64,
    connection_by_domain: HashMap<String, u64>,
    throttled: HashMap<String, u64>,
    /// Attempts by provider, and by recipient domain when the provider is not known
    /// (kept apart so a known provider costs no allocation per delivery).
    attempts_by_provider: HashMap<&'static str, u64>,
    attempts_by_domain: HashMap<String, u64>,
    windows: BTreeMap<i64, WindowState>,
    blocklists: BTreeMap<&'static str, u64>,
    campaigns: HashMap<String, (u64, u64)>,
    /// Sequence steps, when the input has them: (deliveries, failed, list rot).
    steps: HashMap<String, Segment>,
    content_failed: u64,
    auth: BTreeMap<&'static str, u64>,
    auth_codes: BTreeMap<EnhancedCode, u64>,
    full: HashMap<String, FullState>,
}

const MICROSOFT_4_7_651: EnhancedCode = EnhancedCode {
    class: 4,
    subject: 7,
    detail: 651,
};

impl Collector {
    /// One event: only failure attempts are looked at (an expiry restates the last
    /// deferral and a delay warning is no attempt, so both are skipped).
    pub fn event(&mut self, e: &Event) {
        if !matches!(e.action, Action::Deferred | Action::Bounced) {
            return;
        }
        let Some(v) = e.verdict.as_ref() else { return };
        if e.enhanced_code == Some(MICROSOFT_4_7_651) {
            self.microsoft_4_7_651 += 1;
        }
        let connection = v.reason == "connection_failure";
        if connection || e.smtp_stage == Some(SmtpStage::Connect) {
            if connection {
                self.connection_failures += 1;
            } else {
                self.connect_stage_blocks += 1;
            }
            *capped_slot(
                &mut self.connection_by_domain,
                &e.recipient_domain(),
                MAX_DOMAINS,
                OTHER_DOMAINS,
            ) += 1;
        }
        let code_4_7 = e
            .enhanced_code
            .is_some_and(|c| c.class == 4 && c.subject == 7);
        if e.action == Action::Deferred
            && (e.reply_code.is_some_and(|c| c.value() == 421) || code_4_7)
            && v.reason != "greylisted"
            && !matches!(v.bucket, Bucket::Auth | Bucket::Content)
        {
            let provider = provider_of(&e.recipient_domain(), e.relay_host.as_deref());
            let name = receiver(provider, &e.recipient);
            // Providers are few and always named; only plain domains are capped.
            let max = if provider == "other" {
                MAX_DOMAINS
            } else {
                usize::MAX
            };
            *capped_slot(&mut self.throttled, &name, max, OTHER_DOMAINS) += 1;
        }
        if v.bucket == Bucket::Reputation {
            let named = e
                .diagnostic
                .as_deref()
                .map(blocklists_named)
                .unwrap_or_default();
            for name in &named {
                *self.blocklists.entry(name).or_default() += 1;
            }
            let code_554_5_7_1 = e.reply_code.is_some_and(|c| c.value() == 554)
                && e.enhanced_code
                    .is_some_and(|c| (c.class, c.subject, c.detail) == (5, 7, 1));
            let block = v.reason == "blocklisted" || !named.is_empty() || code_554_5_7_1;
            if block && let Some(t) = e.time {
                let provider = provider_of(&e.recipient_domain(), e.relay_host.as_deref());
                let w = self
                    .windows
                    .entry(t.seconds().div_euclid(3600))
                    .or_default();
                w.blocks += 1;
                if w.receivers.len() < MAX_RECEIVERS_PER_WINDOW {
                    w.receivers.insert(receiver(provider, &e.recipient));
                }
            }
        }
        if v.bucket == Bucket::Auth {
            *self.auth.entry(v.reason).or_default() += 1;
            if let Some(code) = e.enhanced_code {
                *self.auth_codes.entry(code).or_default() += 1;
            }
        }
        if v.reason == "mailbox_full" {
            self.mailbox_full(e);
        }
    }

    /// Tracks a full mailbox. Past the cap, new addresses go untracked: the diagnosis
    /// looks for mailboxes full again and again, which the tracked ones show.
    fn mailbox_full(&mut self, e: &Event) {
        let address = e.recipient.to_ascii_lowercase();
        if self.full.len() >= MAX_FULL_MAILBOXES && !self.full.contains_key(&address) {
            return;
        }
        let state = self.full.entry(address).or_default();
        state.attempts += 1;
        if state.last_queue_id != e.queue_id || state.messages == 0 {
            state.messages += 1;
            state.last_queue_id = e.queue_id.clone();
        }
        if let Some(t) = e.time.map(Timestamp::seconds) {
            state.first = Some(state.first.map_or(t, |f| f.min(t)));
            state.last = Some(state.last.map_or(t, |l| l.max(t)));
        }
    }

    /// One delivery, final or pending, with the provider the analysis gave it.
    pub fn delivery(&mut self, d: &Delivery, provider: &'static str) {
        let attempts = u64::from(d.attempts);
        if provider == "other" {
            let domain = crate::model::domain_of(d.recipient());
            *capped_slot(
                &mut self.attempts_by_domain,
                &domain,
                MAX_DOMAINS,
                OTHER_DOMAINS,
            ) += attempts;
        } else {
            *self.attempts_by_provider.entry(provider).or_default() += attempts;
        }
        if d.outcome == Outcome::Deferred {
            return;
        }
        let failed = d.outcome.is_failure();
        let cause = d.cause().filter(|_| failed);
        let content = cause.is_some_and(|v| v.bucket == Bucket::Content);
        if content {
            self.content_failed += 1;
        }
        // The parser's campaign (export column, DSN header, VERP sender); the VERP
        // heuristic again for deliveries built without one.
        let campaign = d
            .last
            .campaign
            .as_deref()
            .or_else(|| d.sender().as_deref().and_then(campaign_of));
        if let Some(step) = d.last.step.as_deref() {
            let slot = capped_slot(&mut self.steps, step, MAX_CAMPAIGNS, OTHER_CAMPAIGNS);
            slot.deliveries += 1;
            slot.failed += u64::from(failed);
            slot.list_rot += u64::from(
                d.outcome == Outcome::Bounced && cause.is_some_and(|v| v.bucket == Bucket::ListRot),
            );
        }
        if let Some(campaign) = campaign {
            let slot = capped_slot(
                &mut self.campaigns,
                campaign,
                MAX_CAMPAIGNS,
                OTHER_CAMPAIGNS,
            );
            slot.0 += 1;
            slot.1 += u64::from(content);
        }
        if failed && let Some(t) = d.last.time {
            let user_unknown = cause.is_some_and(|v| v.reason == "user_unknown")
                || d.last
                    .enhanced_code
                    .is_some_and(|c| (c.class, c.subject, c.detail) == (5, 1, 1));
            self.timeline.add(t.seconds(), user_unknown);
        }
    }

    /// The aggregates as rule input; the caller fills in the report's figures
    /// (deliveries, failed, infrastructure, time span, domains).
    pub fn finish(self) -> DiagnosisInput {
        // The rules name domains: the overflow row of domains past the cap is many
        // domains, never one to name, so it is left out of what they see.
        let named = |name: &String| name != OTHER_DOMAINS;
        let mut connection_by_domain: Vec<(String, u64)> = self
            .connection_by_domain
            .into_iter()
            .filter(|(name, _)| named(name))
            .collect();
        connection_by_domain.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut receivers: BTreeMap<String, ReceiverThrottle> = BTreeMap::new();
        for (name, attempts) in self
            .attempts_by_domain
            .into_iter()
            .filter(|(n, _)| named(n))
        {
            receivers.entry(name).or_default().attempts += attempts;
        }
        for (name, attempts) in self.attempts_by_provider {
            receivers.entry(name.to_string()).or_default().attempts += attempts;
        }
        for (name, throttled) in self.throttled.into_iter().filter(|(n, _)| named(n)) {
            receivers.entry(name).or_default().throttled = throttled;
        }
        let throttling = receivers
            .into_iter()
            .map(|(receiver, t)| ReceiverThrottle { receiver, ..t })
            .collect();
        let block_windows = self
            .windows
            .into_iter()
            .map(|(hour, w)| BlockWindow {
                start: hour * 3600,
                receivers: w.receivers.into_iter().collect(),
                blocks: w.blocks,
            })
            .collect();
        let mut campaigns: Vec<CampaignRow> = self
            .campaigns
            .into_iter()
            .map(|(name, (deliveries, content))| CampaignRow {
                name,
                deliveries,
                content,
            })
            .collect();
        campaigns.sort_by(|a, b| a.name.cmp(&b.name));
        let steps = (!self.steps.is_empty()).then(|| {
            let mut steps: Vec<Segment> = self
                .steps
                .into_iter()
                .map(|(name, s)| Segment { name, ..s })
                .collect();
            steps.sort_by(|a, b| a.name.cmp(&b.name));
            steps
        });
        let mut full_mailboxes: Vec<FullMailbox> = self
            .full
            .into_iter()
            .map(|(address, s)| FullMailbox {
                address,
                messages: s.messages,
                attempts: s.attempts,
                span_seconds: match (s.first, s.last) {
                    (Some(a), Some(b)) => b - a,
                    _ => 0,
                },
            })
            .collect();
        full_mailboxes.sort_by(|a, b| a.address.cmp(&b.address));
        let width = self.timeline.width;
        DiagnosisInput {
            timeline: self
                .timeline
                .bins
                .into_iter()
                .map(|(i, (failed, user_unknown))| TimeBin {
                    start: i * width,
                    failed,
                    user_unknown,
                })
                .collect(),
            bin_seconds: width,
            microsoft_4_7_651: self.microsoft_4_7_651,
            connection_failures: self.connection_failures,
            connect_stage_blocks: self.connect_stage_blocks,
            connection_by_domain,
            throttling,
            block_windows,
            blocklists: self.blocklists,
            campaigns,
            content_failed: self.content_failed,
            auth: self.auth,
            auth_codes: self
                .auth_codes
                .into_iter()
                .map(|(c, n)| (c.to_string(), n))
                .collect(),
            full_mailboxes,
            steps,
            ..DiagnosisInput::default()
        }
    }
}

#[cfg(test)]
mod tests;
