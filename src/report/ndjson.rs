//! One JSON object per line: events (`bouncex events`) or deliveries
//! (`bouncex events --deliveries`), for jq and databases.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::model::{Action, Delivery, EnhancedCode, Event, ReplyCode, Source, Timestamp};
use crate::provider::provider_of;

/// The wire form of an [`Event`]. Field names are the event model's.
#[derive(Debug, Serialize)]
pub struct EventLine<'a> {
    pub source: &'a Source,
    pub time: Option<Timestamp>,
    pub recipient: &'a str,
    pub recipient_domain: String,
    pub sender: Option<&'a str>,
    pub queue_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub relay_host: Option<&'a str>,
    pub relay_ip: Option<&'a str>,
    pub action: Action,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub diagnostic: Option<&'a str>,
    pub smtp_stage: Option<&'static str>,
    pub agent: Option<&'a str>,
    pub bucket: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub rule: Option<&'a str>,
    pub evidence: Option<&'a str>,
    pub hard: Option<bool>,
    /// The MTA host or sending IP that logged or sent it.
    pub mta_host: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub step: Option<&'a str>,
    /// Further export columns, `{column: value}`, in column order; null when none.
    pub extra: Option<ExtraMap<'a>>,
}

/// Extra export columns written as one JSON object.
#[derive(Debug)]
pub struct ExtraMap<'a>(&'a [(std::sync::Arc<str>, std::sync::Arc<str>)]);

impl Serialize for ExtraMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(&**name, &**value)?;
        }
        map.end()
    }
}

fn extra_of(e: &Event) -> Option<ExtraMap<'_>> {
    e.extra.as_deref().filter(|x| !x.is_empty()).map(ExtraMap)
}

impl<'a> EventLine<'a> {
    pub fn new(e: &'a Event) -> EventLine<'a> {
        let v = e.verdict.as_ref();
        EventLine {
            source: &e.source,
            time: e.time,
            recipient: &e.recipient,
            recipient_domain: e.recipient_domain(),
            sender: e.sender.as_deref(),
            queue_id: e.queue_id.as_deref(),
            message_id: e.message_id.as_deref(),
            relay_host: e.relay_host.as_deref(),
            relay_ip: e.relay_ip.as_deref(),
            action: e.action,
            reply_code: e.reply_code,
            enhanced_code: e.enhanced_code,
            diagnostic: e.diagnostic.as_deref(),
            smtp_stage: e.smtp_stage.map(|s| s.as_str()),
            agent: e.agent.as_deref(),
            bucket: v.map(|v| v.bucket.as_str()),
            reason: v.map(|v| v.reason),
            rule: v.map(|v| &*v.rule),
            evidence: v.map(|v| v.evidence.as_str()),
            hard: v.map(|v| v.hard),
            mta_host: e.mta_host.as_deref(),
            campaign: e.campaign.as_deref(),
            step: e.step.as_deref(),
            extra: extra_of(e),
        }
    }
}

/// The wire form of a [`Delivery`].
#[derive(Debug, Serialize)]
pub struct DeliveryLine<'a> {
    pub queue_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub recipient: &'a str,
    pub recipient_domain: String,
    pub provider: &'static str,
    pub outcome: &'static str,
    pub attempts: u32,
    pub deferrals: u32,
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
    /// Cause of a failure (or of the delay of a delivery after deferrals).
    pub bucket: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub rule: Option<&'a str>,
    pub kpi: Option<&'static str>,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub diagnostic: Option<&'a str>,
    pub relay_host: Option<&'a str>,
    pub source: &'a Source,
    /// Of the final event.
    pub mta_host: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub step: Option<&'a str>,
    pub extra: Option<ExtraMap<'a>>,
}

impl<'a> DeliveryLine<'a> {
    pub fn new(d: &'a Delivery) -> DeliveryLine<'a> {
        // For a delivery after deferrals, show what delayed it.
        let shown = match (&d.last_failure, d.outcome) {
            (Some(f), crate::model::Outcome::Delivered) => f,
            _ => &d.last,
        };
        let v = shown.verdict.as_ref();
        let domain = d.last.recipient_domain();
        DeliveryLine {
            queue_id: d.queue_id().as_deref(),
            message_id: d.message_id().as_deref(),
            sender: d.sender().as_deref(),
            recipient: d.recipient(),
            provider: provider_of(&domain, d.last.relay_host.as_deref()),
            recipient_domain: domain,
            outcome: d.outcome.as_str(),
            attempts: d.attempts,
            deferrals: d.deferrals,
            first_time: d.first_time,
            last_time: d.last.time,
            bucket: v.map(|v| v.bucket.as_str()),
            reason: v.map(|v| v.reason),
            rule: v.map(|v| &*v.rule),
            kpi: d.kpi().map(|k| k.as_str()),
            reply_code: shown.reply_code,
            enhanced_code: shown.enhanced_code,
            diagnostic: shown.diagnostic.as_deref(),
            relay_host: shown.relay_host.as_deref(),
            source: &d.last.source,
            mta_host: d.last.mta_host.as_deref(),
            campaign: d.last.campaign.as_deref(),
            step: d.last.step.as_deref(),
            extra: extra_of(&d.last),
        }
    }
}

pub fn write_event(event: &Event, out: &mut dyn Write) -> io::Result<()> {
    write_line(&EventLine::new(event), out)
}

pub fn write_delivery(delivery: &Delivery, out: &mut dyn Write) -> io::Result<()> {
    write_line(&DeliveryLine::new(delivery), out)
}

/// Writes one JSON line. It is built in a buffer and written at once: serde_json writes
/// each key, quote and value on its own, and through `dyn Write` every piece was a
/// call into the buffered writer (a tenth of `bouncex events` on bounce emails).
fn write_line(value: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    thread_local! {
        static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        serde_json::to_writer(&mut *line, value)?;
        line.push(b'\n');
        out.write_all(line)
    })
}
