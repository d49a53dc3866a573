//! `bouncex trace`: the attempt timeline of the deliveries that match an address, a
//! queue id or a Message-ID, and its renderers.
//!
//! [`Tracer`] is a [`Sink`]: it keeps the events of matching deliveries only, grouped
//! by (queue id, recipient), and closes a group when its delivery's outcome arrives.
//! A key matches an event or delivery whose recipient equals it (case-insensitively),
//! whose queue id equals it, or whose Message-ID equals it (angle brackets optional).
//! Gaps between attempts are computed here; renderers only format them.

use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;

use crate::model::{Action, Delivery, EnhancedCode, Event, ReplyCode, Source, Timestamp};
use crate::parse::Sink;

/// One attempt (or the expiry) of a traced delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub time: Option<Timestamp>,
    /// Seconds since the previous attempt of the same delivery; null for the first.
    pub gap_seconds: Option<i64>,
    pub action: Action,
    pub relay_host: Option<Arc<str>>,
    pub relay_ip: Option<Arc<str>>,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    pub diagnostic: Option<String>,
    pub bucket: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub source: Source,
}

/// One (message, recipient) pair and its attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TracedDelivery {
    pub queue_id: Option<Arc<str>>,
    pub message_id: Option<Arc<str>>,
    pub sender: Option<Arc<str>>,
    pub recipient: Arc<str>,
    /// `delivered`, `bounced`, `expired`, or `deferred` (pending when the input ended).
    pub outcome: &'static str,
    /// Bucket and reason of the cause, for a failure.
    pub bucket: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
    /// Seconds from the first attempt to the final event.
    pub duration_seconds: Option<i64>,
    /// Delivery attempts (the expiry, when there is one, is listed but not counted).
    pub attempt_count: u32,
    pub attempts: Vec<Attempt>,
}

/// Everything that matched, sorted by first time, then recipient and queue id.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub query: String,
    pub deliveries: Vec<TracedDelivery>,
}

#[derive(Debug)]
struct Open {
    queue_id: Option<Arc<str>>,
    recipient: Arc<str>,
    events: Vec<Event>,
}

/// Collects the timelines of the deliveries matching one key.
#[derive(Debug)]
pub struct Tracer {
    query: String,
    /// The key without angle brackets, for Message-IDs.
    bare: String,
    open: Vec<Open>,
    done: Vec<TracedDelivery>,
}

impl Tracer {
    pub fn new(query: &str) -> Tracer {
        let query = query.trim();
        Tracer {
            query: query.to_string(),
            bare: query
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
            open: Vec::new(),
            done: Vec::new(),
        }
    }

    fn matches(&self, recipient: &str, queue_id: Option<&str>, message_id: Option<&str>) -> bool {
        recipient.eq_ignore_ascii_case(&self.query)
            || queue_id == Some(self.query.as_str())
            || message_id.is_some_and(|m| {
                !self.bare.is_empty()
                    && m.trim_start_matches('<').trim_end_matches('>') == self.bare
            })
    }

    /// Deliveries still open at the end (no outcome reached the sink) are listed with
    /// the outcome of their last event.
    pub fn finish(mut self) -> Trace {
        for open in std::mem::take(&mut self.open) {
            let outcome = match open.events.last().map(|e| e.action) {
                Some(Action::Delivered) => "delivered",
                Some(Action::Bounced) => "bounced",
                Some(Action::Expired) => "expired",
                _ => "deferred",
            };
            let d = timeline(open.events, outcome, None);
            self.done.push(d);
        }
        self.done.sort_by(|a, b| {
            a.first_time
                .cmp(&b.first_time)
                .then(a.recipient.cmp(&b.recipient))
                .then(a.queue_id.cmp(&b.queue_id))
        });
        Trace {
            query: self.query,
            deliveries: self.done,
        }
    }
}

/// Builds a traced delivery from its events in input order.
fn timeline(events: Vec<Event>, outcome: &'static str, d: Option<&Delivery>) -> TracedDelivery {
    let first = events.first();
    let last_event = events.last();
    let queue_id = d
        .and_then(|d| d.queue_id().clone())
        .or_else(|| first.and_then(|e| e.queue_id.clone()));
    let message_id = d
        .and_then(|d| d.message_id().clone())
        .or_else(|| events.iter().find_map(|e| e.message_id.clone()));
    let sender = d
        .and_then(|d| d.sender().clone())
        .or_else(|| events.iter().find_map(|e| e.sender.clone()));
    let recipient = d
        .map(|d| d.recipient().clone())
        .or_else(|| first.map(|e| e.recipient.clone()))
        .unwrap_or_default();
    let cause = match d {
        Some(d) => d.cause(),
        None => last_event.and_then(|e| e.verdict.as_ref()),
    };
    let (bucket, reason) = match (cause, outcome) {
        (Some(v), "bounced" | "expired" | "deferred") => (Some(v.bucket.as_str()), Some(v.reason)),
        _ => (None, None),
    };
    let first_time = d
        .and_then(|d| d.first_time)
        .or_else(|| events.iter().find_map(|e| e.time));
    let last_time = last_event
        .and_then(|e| e.time)
        .or(d.and_then(|d| d.last.time));
    let attempt_count = events
        .iter()
        .filter(|e| !matches!(e.action, Action::Expired | Action::Delayed))
        .count() as u32;
    let mut previous: Option<Timestamp> = None;
    let attempts = events
        .into_iter()
        .map(|e| {
            let gap_seconds = match (previous, e.time) {
                (Some(p), Some(t)) => Some(t.seconds() - p.seconds()),
                _ => None,
            };
            if e.time.is_some() {
                previous = e.time;
            }
            let v = e.verdict.as_ref();
            Attempt {
                time: e.time,
                gap_seconds,
                action: e.action,
                bucket: v.map(|v| v.bucket.as_str()),
                reason: v.map(|v| v.reason),
                relay_host: e.relay_host,
                relay_ip: e.relay_ip,
                reply_code: e.reply_code,
                enhanced_code: e.enhanced_code,
                diagnostic: e.diagnostic,
                source: e.source,
            }
        })
        .collect();
    TracedDelivery {
        queue_id,
        message_id,
        sender,
        recipient,
        outcome,
        bucket,
        reason,
        first_time,
        last_time,
        duration_seconds: first_time
            .zip(last_time)
            .map(|(a, b)| b.seconds() - a.seconds()),
        attempt_count,
        attempts,
    }
}

impl Sink for Tracer {
    fn event(&mut self, e: &Event) {
        if !self.matches(&e.recipient, e.queue_id.as_deref(), e.message_id.as_deref()) {
            return;
        }
        match self
            .open
            .iter_mut()
            .find(|o| o.queue_id == e.queue_id && o.recipient == e.recipient)
        {
            Some(open) => open.events.push(e.clone()),
            None => self.open.push(Open {
                queue_id: e.queue_id.clone(),
                recipient: e.recipient.clone(),
                events: vec![e.clone()],
            }),
        }
    }

    fn delivery(&mut self, d: &Delivery) {
        let matched = self.matches(
            d.recipient(),
            d.queue_id().as_deref(),
            d.message_id().as_deref(),
        ) || self
            .open
            .iter()
            .any(|o| &o.queue_id == d.queue_id() && &o.recipient == d.recipient());
        if !matched {
            return;
        }
        let events = match self
            .open
            .iter()
            .position(|o| &o.queue_id == d.queue_id() && &o.recipient == d.recipient())
        {
            Some(i) => self.open.remove(i).events,
            None => vec![d.last.clone()],
        };
        let traced = timeline(events, d.outcome.as_str(), Some(d));
        self.done.push(traced);
    }
}

/// `1d 2h 3m 4s`, leaving out leading zero units; `0s` for zero.
pub fn duration_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let text = if d > 0 {
        format!("{d}d {h}h {m}m {s}s")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    };
    format!("{sign}{text}")
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The timelines for a terminal.
pub fn write_text(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    for (i, d) in trace.deliveries.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} from {} (queue id {}, message-id {})",
            d.recipient,
            opt(d
                .sender
                .as_deref()
                .map(|s| if s.is_empty() { "<>" } else { s })),
            opt(d.queue_id.as_deref()),
            opt(d.message_id.as_deref()),
        )?;
        let cause = match (d.bucket, d.reason) {
            (Some(b), Some(r)) => format!(" ({b}/{r})"),
            _ => String::new(),
        };
        let span = match d.duration_seconds {
            Some(s) => format!(" over {}", duration_text(s)),
            None => String::new(),
        };
        let plural = if d.attempt_count == 1 { "" } else { "s" };
        writeln!(
            out,
            "outcome: {}{cause} after {} attempt{plural}{span}",
            d.outcome, d.attempt_count
        )?;
        for a in &d.attempts {
            let gap = a
                .gap_seconds
                .map_or_else(String::new, |g| format!("+{}", duration_text(g)));
            let relay = match (&a.relay_host, &a.relay_ip) {
                (Some(h), Some(ip)) => format!("{h}[{ip}]"),
                (Some(h), None) => h.to_string(),
                _ => "-".to_string(),
            };
            let code = match (a.reply_code, a.enhanced_code) {
                (Some(r), Some(e)) => format!("{r} {e}"),
                (Some(r), None) => r.to_string(),
                (None, Some(e)) => e.to_string(),
                (None, None) => "-".to_string(),
            };
            let verdict = match (a.bucket, a.reason) {
                (Some(b), Some(r)) => format!("  {b}/{r}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {:<20}  {:>14}  {:<9}  {}  {code}{verdict}",
                opt(a.time),
                gap,
                a.action.as_str(),
                relay,
            )?;
            if let Some(text) = &a.diagnostic {
                writeln!(out, "      {text}")?;
            }
        }
    }
    Ok(())
}

pub fn write_json(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, trace)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (61, "1m 1s"),
            (3600, "1h 0m 0s"),
            (90_061, "1d 1h 1m 1s"),
            (-5, "-5s"),
        ];
        for (seconds, want) in cases {
            assert_eq!(duration_text(seconds), want);
        }
    }

    #[test]
    fn keys_match_recipient_queue_id_and_message_id() {
        let t = Tracer::new("Gwen@OldCorp.example");
        assert!(t.matches("gwen@oldcorp.example", None, None));
        assert!(!t.matches("gwen@oldcorp.example.net", None, None));
        let t = Tracer::new("A1B2C3D407");
        assert!(t.matches("x@y", Some("A1B2C3D407"), None));
        assert!(!t.matches("x@y", Some("a1b2c3d407"), None));
        let t = Tracer::new("<20261122.A1@shop.example>");
        assert!(t.matches("x@y", None, Some("20261122.A1@shop.example")));
        let t = Tracer::new("20261122.A1@shop.example");
        assert!(t.matches("x@y", None, Some("<20261122.A1@shop.example>")));
        assert!(!Tracer::new("<>").matches("x@y", None, Some("<>")));
    }
}
