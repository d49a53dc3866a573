//! The analysis: every KPI, count and piece of evidence is computed here, once, into
//! one [`Report`]. Renderers (`table`, `json`) only format it, so they cannot disagree.
//!
//! KPI definitions (README "KPIs"):
//! - denominator: deliveries with a final outcome (delivered + bounced + expired);
//! - list rot: bounced deliveries whose cause is `list_rot`;
//! - reputation: bounced deliveries whose cause is `reputation`, `auth` or `content`;
//! - infrastructure: expired deliveries (4xx-origin, whatever the cause) plus bounced
//!   deliveries whose cause is `infrastructure`, as a share of all failed deliveries;
//! - other: bounced deliveries whose cause is `transient` or `unknown`.
//!
//! The four add up to the legacy bounce rate.

pub mod check;
pub mod diagnose;
pub mod group;
pub mod json;
pub mod ndjson;
pub mod suppress;
pub mod table;
pub mod trace;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::classify::enhanced_meaning;
use crate::model::{Bucket, Delivery, EnhancedCode, Event, Kpi, Outcome, Timestamp};
use crate::parse::{Leftovers, Sink, Tally, Unrecognized};
use crate::provider::provider_of;

/// Version of the JSON document; fields are only ever added.
pub const SCHEMA_VERSION: u32 = 1;

/// The seeds' yellow flag: above this share of failures being 4xx-origin or
/// infrastructure, the sending infrastructure needs attention.
pub const INFRASTRUCTURE_FLAG: f64 = 0.30;

/// Counts behind the KPIs of any group of deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub delivered: u64,
    pub bounced: u64,
    pub expired: u64,
    pub list_rot: u64,
    pub reputation: u64,
    pub infrastructure: u64,
    pub other: u64,
}

impl Counts {
    pub fn add(&mut self, delivery: &Delivery) {
        match delivery.outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Bounced => self.bounced += 1,
            Outcome::Expired => self.expired += 1,
            Outcome::Deferred => return,
        }
        match delivery.kpi() {
            Some(Kpi::ListRot) => self.list_rot += 1,
            Some(Kpi::Reputation) => self.reputation += 1,
            Some(Kpi::Infrastructure) => self.infrastructure += 1,
            Some(Kpi::Other) => self.other += 1,
            None => {}
        }
    }

    /// Deliveries with a final outcome: the KPI denominator.
    pub fn finals(&self) -> u64 {
        self.delivered + self.bounced + self.expired
    }

    pub fn failed(&self) -> u64 {
        self.bounced + self.expired
    }
}

/// Recipient domains counted by name in the report's per-domain tables; later ones are
/// counted together under [`OTHER_DOMAINS`], so a month of logs to millions of
/// domains keeps memory flat.
pub const MAX_DOMAINS: usize = 50_000;
pub const OTHER_DOMAINS: &str = "(other domains)";

/// The slot of `key` in a map of at most `max` keys: once it is full, new keys share
/// the `overflow` slot, so memory stays flat however many distinct keys the input has.
pub fn capped_slot<'m, V: Default>(
    map: &'m mut HashMap<String, V>,
    key: &str,
    max: usize,
    overflow: &str,
) -> &'m mut V {
    if !map.contains_key(key) {
        let key = if map.len() < max { key } else { overflow };
        return map.entry(key.to_string()).or_default();
    }
    map.get_mut(key).expect("present, checked above")
}

/// `count / of`, 0 when `of` is 0, rounded to 6 decimals so JSON stays stable.
pub fn ratio(count: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    (count as f64 / of as f64 * 1e6).round() / 1e6
}

/// A count with its rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub count: u64,
    pub rate: f64,
}

impl Rate {
    fn of(count: u64, denominator: u64) -> Rate {
        Rate {
            count,
            rate: ratio(count, denominator),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Deliveries with a final outcome: the denominator of every rate.
    pub deliveries: u64,
    pub delivered: u64,
    /// Delivered after one or more temporary failures.
    pub delivered_after_deferral: u64,
    pub bounced: u64,
    pub expired: u64,
    /// Bounced + expired.
    pub failed: u64,
    /// Still pending when the input ended (outside the denominator).
    pub pending: u64,
    /// Delivery attempts seen (every delivery record).
    pub attempts: u64,
    pub deferred_attempts: u64,
    /// Deferred attempts / attempts.
    pub deferral_rate: f64,
    pub events: u64,
    /// Failed deliveries whose input said only that they failed (a "hard bounce" or
    /// "Bounced" label, no code, no text): counted, but nothing could classify them.
    pub unclassifiable: u64,
    /// unclassifiable / failed: how much of the failures came from a status-only source.
    pub status_only_share: f64,
    /// Events that repeat a provider-side suppression (an address the ESP refused to
    /// mail again after an earlier failure): never counted as new failures.
    pub suppressed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListRotKpi {
    pub count: u64,
    /// count / totals.deliveries.
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReputationKpi {
    pub count: u64,
    pub rate: f64,
    /// The split by cause: reputation, auth, content.
    pub by_bucket: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCount {
    pub bucket: &'static str,
    pub reason: &'static str,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfrastructureKpi {
    /// Expired deliveries plus bounced deliveries with an infrastructure cause.
    pub count: u64,
    /// count / totals.failed: the headline figure.
    pub share_of_failures: f64,
    /// count / totals.deliveries, the part of the legacy rate.
    pub rate: f64,
    /// Deliveries that expired after temporary (4xx) failures.
    pub expired: u64,
    /// Permanent failures whose cause is infrastructure (routing, DNS, TLS).
    pub permanent: u64,
    /// share_of_failures above 30%.
    pub flagged: bool,
    /// By the cause of the last temporary failure (or the permanent one).
    pub by_cause: Vec<CauseCount>,
    /// Deferred attempts / attempts, beside it.
    pub deferral_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub list_rot: ListRotKpi,
    pub reputation: ReputationKpi,
    pub infrastructure: InfrastructureKpi,
    /// Permanent failures with a transient or unknown cause.
    pub other: Rate,
    /// The one number other tools show: failed / deliveries; the sum of list_rot,
    /// reputation, infrastructure and other counts.
    pub legacy_bounce_rate: Rate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketRow {
    pub bucket: &'static str,
    /// Failed deliveries (bounced + expired) whose cause is in this bucket.
    pub failed: u64,
    pub bounced: u64,
    pub expired: u64,
    /// failed / totals.failed.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonRow {
    pub reason: &'static str,
    pub bucket: &'static str,
    pub failed: u64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeRow {
    pub enhanced_code: String,
    pub meaning: Option<&'static str>,
    pub failed: u64,
}

/// The three KPIs for a group of deliveries (a provider, a domain, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub name: String,
    pub deliveries: u64,
    pub delivered: u64,
    pub failed: u64,
    pub list_rot: u64,
    pub list_rot_rate: f64,
    pub reputation: u64,
    pub reputation_rate: f64,
    pub infrastructure: u64,
    pub infrastructure_share: f64,
    pub bounce_rate: f64,
}

impl GroupRow {
    pub(crate) fn new(name: String, c: &Counts) -> GroupRow {
        let finals = c.finals();
        GroupRow {
            name,
            deliveries: finals,
            delivered: c.delivered,
            failed: c.failed(),
            list_rot: c.list_rot,
            list_rot_rate: ratio(c.list_rot, finals),
            reputation: c.reputation,
            reputation_rate: ratio(c.reputation, finals),
            infrastructure: c.infrastructure,
            infrastructure_share: ratio(c.infrastructure, c.failed()),
            bounce_rate: ratio(c.failed(), finals),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeSpan {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// One input as it was read.
#[derive(Debug, Clone, Serialize)]
pub struct InputRow {
    #[serde(flatten)]
    pub tally: Tally,
    /// Set when the input could not be read at all.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub totals: Totals,
    pub kpis: Kpis,
    /// Patterns found in the figures, most severe first (see `diagnose`).
    pub diagnoses: Vec<diagnose::Diagnosis>,
    pub buckets: Vec<BucketRow>,
    pub reasons: Vec<ReasonRow>,
    pub enhanced_codes: Vec<CodeRow>,
    pub by_provider: Vec<GroupRow>,
    pub by_domain: Vec<GroupRow>,
    /// One entry per `--by` dimension, in the order given.
    pub by: Vec<group::GroupBy>,
    pub time_span: TimeSpan,
    pub inputs: Vec<InputRow>,
    pub leftovers: Leftovers,
    /// Sum of unrecognized units over all inputs.
    pub unrecognized: u64,
    /// The first unrecognized units, with file and line (only with --show-unparsed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrecognized_samples: Vec<UnrecognizedRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnrecognizedRow {
    pub file: String,
    #[serde(flatten)]
    pub unit: Unrecognized,
}

/// Accumulates events and deliveries as parsers stream them.
#[derive(Debug, Default)]
pub struct Analysis {
    counts: Counts,
    delivered_after_deferral: u64,
    pending: u64,
    attempts: u64,
    deferred_attempts: u64,
    events: u64,
    failed_by_bucket: HashMap<Bucket, (u64, u64)>,
    failed_by_reason: HashMap<(&'static str, Bucket), u64>,
    infra_causes: HashMap<(Bucket, &'static str), u64>,
    reputation_by_bucket: BTreeMap<&'static str, u64>,
    failed_by_code: HashMap<EnhancedCode, u64>,
    by_provider: HashMap<&'static str, Counts>,
    /// Per recipient domain: its counts and its provider, looked up once per domain
    /// (a domain's relay does not change within a log).
    by_domain: HashMap<String, (Counts, &'static str)>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Bounded aggregates behind the diagnoses.
    diagnosis: diagnose::Collector,
    /// `--by` dimensions.
    groups: Vec<group::Grouper>,
    unclassifiable: u64,
    suppressed: u64,
}

/// Verdict reason of a failure whose input carries only a status label.
pub const UNCLASSIFIABLE: &str = "unclassifiable";
/// Verdict reason of an event that repeats a provider-side suppression.
pub const SUPPRESSED: &str = "suppressed";

impl Sink for Analysis {
    fn event(&mut self, event: &Event) {
        self.events += 1;
        self.diagnosis.event(event);
        if let Some(t) = event.time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        // Expiry events restate the last deferral, and auto-replies, complaint reports
        // and success notices are no delivery attempt of ours.
        let not_a_bounce = event
            .verdict
            .as_ref()
            .is_some_and(|v| v.reason == "not_a_bounce" || v.reason == SUPPRESSED);
        if event
            .verdict
            .as_ref()
            .is_some_and(|v| v.reason == SUPPRESSED)
        {
            self.suppressed += 1;
        }
        match event.action {
            crate::model::Action::Expired | crate::model::Action::Delayed => {}
            _ if not_a_bounce => {}
            action => {
                self.attempts += 1;
                if action == crate::model::Action::Deferred {
                    self.deferred_attempts += 1;
                }
            }
        }
    }

    fn delivery(&mut self, d: &Delivery) {
        if d.outcome == Outcome::Deferred {
            self.pending += 1;
            let domain = crate::model::domain_of(&d.last.recipient);
            let provider = match self.by_domain.get(domain.as_ref()) {
                Some((_, provider)) => *provider,
                None => provider_of(&domain, d.last.relay_host.as_deref()),
            };
            self.diagnosis.delivery(d, provider);
            return;
        }
        self.counts.add(d);
        if d.outcome == Outcome::Delivered && d.deferrals > 0 {
            self.delivered_after_deferral += 1;
        }
        let domain = crate::model::domain_of(&d.last.recipient);
        let provider = match self.by_domain.get_mut(domain.as_ref()) {
            Some((counts, provider)) => {
                counts.add(d);
                *provider
            }
            None => {
                let provider = provider_of(&domain, d.last.relay_host.as_deref());
                let key = if self.by_domain.len() < MAX_DOMAINS {
                    domain.into_owned()
                } else {
                    OTHER_DOMAINS.to_string()
                };
                let slot = self
                    .by_domain
                    .entry(key)
                    .or_insert((Counts::default(), provider));
                slot.0.add(d);
                provider
            }
        };
        self.by_provider.entry(provider).or_default().add(d);
        self.diagnosis.delivery(d, provider);
        for g in &mut self.groups {
            g.add(d, provider);
        }
        if !d.outcome.is_failure() {
            return;
        }
        let (bucket, reason) = d
            .cause()
            .map_or((Bucket::Unknown, "unclassified"), |v| (v.bucket, v.reason));
        if reason == UNCLASSIFIABLE {
            self.unclassifiable += 1;
        }
        let slot = self.failed_by_bucket.entry(bucket).or_default();
        if d.outcome == Outcome::Bounced {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
        *self.failed_by_reason.entry((reason, bucket)).or_default() += 1;
        if let Some(code) = d.last.enhanced_code {
            *self.failed_by_code.entry(code).or_default() += 1;
        }
        match d.kpi() {
            Some(Kpi::Infrastructure) => {
                *self.infra_causes.entry((bucket, reason)).or_default() += 1;
            }
            Some(Kpi::Reputation) => {
                *self
                    .reputation_by_bucket
                    .entry(bucket.as_str())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
}

/// Report options that shape lists, not figures.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Rows in the top-N lists (domains, codes).
    pub top: usize,
}

impl Analysis {
    pub fn new() -> Analysis {
        Analysis::default()
    }

    /// An analysis that also groups deliveries by these dimensions (`--by`).
    pub fn with_dimensions(dimensions: Vec<group::Dimension>) -> Analysis {
        Analysis {
            groups: dimensions.into_iter().map(group::Grouper::new).collect(),
            ..Analysis::default()
        }
    }

    /// Freezes the accumulated figures into a report.
    pub fn finish(
        self,
        inputs: Vec<InputRow>,
        leftovers: Leftovers,
        show_unparsed: bool,
        options: &ReportOptions,
    ) -> Report {
        let c = self.counts;
        let finals = c.finals();
        let failed = c.failed();
        let totals = Totals {
            deliveries: finals,
            delivered: c.delivered,
            delivered_after_deferral: self.delivered_after_deferral,
            bounced: c.bounced,
            expired: c.expired,
            failed,
            pending: self.pending,
            attempts: self.attempts,
            deferred_attempts: self.deferred_attempts,
            deferral_rate: ratio(self.deferred_attempts, self.attempts),
            events: self.events,
            unclassifiable: self.unclassifiable,
            status_only_share: ratio(self.unclassifiable, failed),
            suppressed: self.suppressed,
        };
        let mut by_cause: Vec<CauseCount> = self
            .infra_causes
            .iter()
            .map(|(&(bucket, reason), &count)| CauseCount {
                bucket: bucket.as_str(),
                reason,
                count,
            })
            .collect();
        by_cause.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(b.reason)));
        let infra_share = ratio(c.infrastructure, failed);
        let kpis = Kpis {
            list_rot: ListRotKpi {
                count: c.list_rot,
                rate: ratio(c.list_rot, finals),
            },
            reputation: ReputationKpi {
                count: c.reputation,
                rate: ratio(c.reputation, finals),
                by_bucket: self.reputation_by_bucket,
            },
            infrastructure: InfrastructureKpi {
                count: c.infrastructure,
                share_of_failures: infra_share,
                rate: ratio(c.infrastructure, finals),
                expired: c.expired,
                permanent: c.infrastructure - c.expired,
                flagged: infra_share > INFRASTRUCTURE_FLAG,
                by_cause,
                deferral_rate: totals.deferral_rate,
            },
            other: Rate::of(c.other, finals),
            legacy_bounce_rate: Rate::of(failed, finals),
        };
        let buckets = Bucket::ALL
            .iter()
            .map(|b| {
                let (bounced, expired) = self.failed_by_bucket.get(b).copied().unwrap_or_default();
                BucketRow {
                    bucket: b.as_str(),
                    failed: bounced + expired,
                    bounced,
                    expired,
                    share: ratio(bounced + expired, failed),
                }
            })
            .collect();
        let mut reasons: Vec<ReasonRow> = self
            .failed_by_reason
            .iter()
            .map(|(&(reason, bucket), &count)| ReasonRow {
                reason,
                bucket: bucket.as_str(),
                failed: count,
                share: ratio(count, failed),
            })
            .collect();
        reasons.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.reason.cmp(b.reason)));
        let mut codes: Vec<(EnhancedCode, u64)> = self.failed_by_code.into_iter().collect();
        codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let enhanced_codes = codes
            .into_iter()
            .take(options.top)
            .map(|(code, count)| CodeRow {
                enhanced_code: code.to_string(),
                meaning: enhanced_meaning::meaning(code),
                failed: count,
            })
            .collect();
        let mut diagnosis_input = self.diagnosis.finish();
        diagnosis_input.deliveries = finals;
        diagnosis_input.failed = failed;
        diagnosis_input.infrastructure = c.infrastructure;
        diagnosis_input.time_span = self
            .first
            .zip(self.last)
            .map(|(a, b)| (a.seconds(), b.seconds()));
        // The overflow row of domains past the cap is many domains: the rules that
        // compare domains judge the named ones.
        let mut domains: Vec<diagnose::Segment> = self
            .by_domain
            .iter()
            .filter(|(name, (counts, _))| counts.finals() > 0 && name.as_str() != OTHER_DOMAINS)
            .map(|(name, (counts, _))| diagnose::Segment {
                name: name.clone(),
                deliveries: counts.finals(),
                failed: counts.failed(),
                list_rot: counts.list_rot,
            })
            .collect();
        domains.sort_by(|a, b| a.name.cmp(&b.name));
        diagnosis_input.domains = domains;
        let diagnoses = diagnose::diagnose(&diagnosis_input);
        let by_provider = group_rows(
            self.by_provider
                .into_iter()
                .map(|(name, counts)| (name.to_string(), counts)),
            usize::MAX,
        );
        let by_domain = group_rows(
            self.by_domain
                .into_iter()
                .map(|(name, (counts, _))| (name, counts)),
            options.top,
        );
        let by = self
            .groups
            .into_iter()
            .map(|g| g.finish(options.top))
            .collect();
        let unrecognized = inputs.iter().map(|i| i.tally.unrecognized).sum();
        let unrecognized_samples = if show_unparsed {
            inputs
                .iter()
                .flat_map(|i| {
                    i.tally
                        .unrecognized_samples
                        .iter()
                        .map(|u| UnrecognizedRow {
                            file: i.tally.file.clone(),
                            unit: u.clone(),
                        })
                })
                .collect()
        } else {
            Vec::new()
        };
        Report {
            schema_version: SCHEMA_VERSION,
            totals,
            kpis,
            diagnoses,
            buckets,
            reasons,
            enhanced_codes,
            by_provider,
            by_domain,
            by,
            time_span: TimeSpan {
                first: self.first,
                last: self.last,
            },
            inputs,
            leftovers,
            unrecognized,
            unrecognized_samples,
        }
    }
}

/// Rows sorted by deliveries (then name), the first `limit` kept.
fn group_rows(groups: impl Iterator<Item = (String, Counts)>, limit: usize) -> Vec<GroupRow> {
    let mut rows: Vec<GroupRow> = groups
        .filter(|(_, c)| c.finals() > 0)
        .map(|(name, counts)| GroupRow::new(name, &counts))
        .collect();
    rows.sort_by(|a, b| {
        b.failed
            .cmp(&a.failed)
            .then(b.deliveries.cmp(&a.deliveries))
            .then(a.name.cmp(&b.name))
    });
    rows.truncate(limit);
    rows
}
