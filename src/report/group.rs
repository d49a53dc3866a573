//! Group-by dimensions (`analyze --by DIM`): the three KPIs per campaign, sequence
//! step, recipient domain, mailbox provider, sender domain, MTA host, day, or any
//! export column.
//!
//! A [`Grouper`] is fed deliveries by the [`Analysis`](super::Analysis) sink and keeps
//! one [`Counts`] per group, at most [`MAX_GROUPS`] of them: later groups are counted
//! together under [`OVERFLOW`], so memory stays bounded whatever the input. The report
//! shows the groups with most deliveries and sums the rest under [`OTHER`]. Rendering
//! is left to `table` and `json`.

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use super::{Counts, GroupRow, capped_slot};
use crate::model::{Delivery, domain_of};

/// Distinct groups counted by name; later ones go to [`OVERFLOW`].
pub const MAX_GROUPS: usize = 10_000;
/// The group of deliveries that lack the dimension (no campaign, no step, ...).
pub const NONE: &str = "(none)";
/// Groups beyond [`MAX_GROUPS`] while reading.
pub const OVERFLOW: &str = "(more groups)";
/// Groups beyond the rows shown, summed.
pub const OTHER: &str = "(other)";

/// What deliveries are grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    Campaign,
    Step,
    /// Recipient domain.
    Domain,
    /// Mailbox provider (from the relay host, else the recipient domain).
    Provider,
    /// Domain of the envelope sender.
    SenderDomain,
    /// The MTA host that logged the delivery (syslog host, Reporting-MTA, export IP).
    Host,
    /// UTC day of the final event.
    Day,
    /// An export column, by its header name (case-insensitive).
    Column(String),
}

impl Dimension {
    /// The built-in names; anything else names an export column.
    pub const NAMES: [&'static str; 7] = [
        "campaign",
        "step",
        "domain",
        "provider",
        "sender-domain",
        "host",
        "day",
    ];

    pub fn parse(text: &str) -> Result<Dimension, String> {
        let name = text.trim();
        if name.is_empty() {
            return Err("expected a dimension or a column name, not an empty string".into());
        }
        Ok(match name.to_ascii_lowercase().as_str() {
            "campaign" => Dimension::Campaign,
            "step" => Dimension::Step,
            "domain" => Dimension::Domain,
            "provider" => Dimension::Provider,
            "sender-domain" => Dimension::SenderDomain,
            "host" => Dimension::Host,
            "day" => Dimension::Day,
            _ => Dimension::Column(name.to_string()),
        })
    }

    /// The name shown in reports: the built-in name or the column as given.
    pub fn name(&self) -> &str {
        match self {
            Dimension::Campaign => "campaign",
            Dimension::Step => "step",
            Dimension::Domain => "domain",
            Dimension::Provider => "provider",
            Dimension::SenderDomain => "sender-domain",
            Dimension::Host => "host",
            Dimension::Day => "day",
            Dimension::Column(c) => c,
        }
    }

    /// The group of a delivery, `None` when it lacks the dimension.
    pub fn key(&self, d: &Delivery, provider: &'static str) -> Option<String> {
        let e = &d.last;
        let text = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        match self {
            Dimension::Campaign => text(e.campaign.as_deref()),
            Dimension::Step => text(e.step.as_deref()),
            Dimension::Domain => {
                Some(domain_of(d.recipient()).into_owned()).filter(|s| !s.is_empty())
            }
            Dimension::Provider => Some(provider.to_string()),
            Dimension::SenderDomain => d
                .sender()
                .as_deref()
                .map(|s| domain_of(s).into_owned())
                .filter(|s| !s.is_empty()),
            Dimension::Host => text(e.mta_host.as_deref()),
            Dimension::Day => e.time.or(d.first_time).map(|t| t.day_string()),
            Dimension::Column(c) => text(e.extra_value(c)),
        }
    }
}

/// Counts per group of one dimension, bounded.
#[derive(Debug)]
pub struct Grouper {
    dimension: Dimension,
    groups: HashMap<String, Counts>,
}

impl Grouper {
    pub fn new(dimension: Dimension) -> Grouper {
        Grouper {
            dimension,
            groups: HashMap::default(),
        }
    }

    /// One delivery with a final outcome.
    pub fn add(&mut self, d: &Delivery, provider: &'static str) {
        let key = self.dimension.key(d, provider);
        let key = key.as_deref().unwrap_or(NONE);
        capped_slot(&mut self.groups, key, MAX_GROUPS, OVERFLOW).add(d);
    }

    /// The `limit` groups with most deliveries (then most failures, then by name), the
    /// rest summed into one `(other)` row.
    pub fn finish(self, limit: usize) -> GroupBy {
        let total_groups = self.groups.len() as u64;
        let mut groups: Vec<(String, Counts)> = self
            .groups
            .into_iter()
            .filter(|(_, c)| c.finals() > 0)
            .collect();
        groups.sort_by(|a, b| {
            b.1.finals()
                .cmp(&a.1.finals())
                .then(b.1.failed().cmp(&a.1.failed()))
                .then(a.0.cmp(&b.0))
        });
        let mut other = Counts::default();
        let mut other_groups = 0;
        for (_, c) in groups.iter().skip(limit.max(1)) {
            other_groups += 1;
            other.delivered += c.delivered;
            other.bounced += c.bounced;
            other.expired += c.expired;
            other.list_rot += c.list_rot;
            other.reputation += c.reputation;
            other.infrastructure += c.infrastructure;
            other.other += c.other;
        }
        groups.truncate(limit.max(1));
        let mut rows: Vec<GroupRow> = groups
            .iter()
            .map(|(name, c)| GroupRow::new(name.clone(), c))
            .collect();
        if other_groups > 0 {
            rows.push(GroupRow::new(OTHER.to_string(), &other));
        }
        GroupBy {
            dimension: self.dimension.name().to_string(),
            total_groups,
            other_groups,
            groups: rows,
        }
    }
}

/// The KPIs per group of one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupBy {
    /// `campaign`, `step`, `domain`, `provider`, `sender-domain`, `host`, `day`, or the
    /// column name as given.
    pub dimension: String,
    /// Distinct groups seen (deliveries lacking the dimension form `(none)`).
    pub total_groups: u64,
    /// Groups summed into the final `(other)` row.
    pub other_groups: u64,
    /// Most deliveries first; `(other)` last when present.
    pub groups: Vec<GroupRow>,
}
