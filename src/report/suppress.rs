//! `bouncex suppress`: the addresses to stop mailing now, and their renderers.
//!
//! [`Suppression`] is a [`Sink`] fed deliveries as the parsers stream them. It keeps
//! state only for addresses that failed for a reason of their own, so memory follows
//! the failing addresses, not the list. An address is listed when
//! - one of its deliveries bounced with a `list_rot` cause (user unknown, disabled,
//!   moved, bad domain, restricted, full 5xx): kind `list_rot`; or
//! - it has at least `soft_threshold` soft failures within `soft_window_days` days:
//!   kind `soft`. A soft failure is one delivery (message, recipient) that did not get
//!   through and whose cause is not the sender's: it expired after 4xx deferrals, is
//!   still deferred when the input ends, or bounced with a `transient` (mailbox full
//!   4xx, greylisted, rate limited, busy), `infrastructure` or `unknown` cause. Each
//!   message counts once, however often Postfix retried it.
//!
//! Failures whose cause is `reputation`, `auth` or `content` never count: the sender is
//! the problem, not the address. A delivery that got through after an address's last
//! counted failure clears the address. Addresses are compared and listed in lowercase.

use std::io::{self, Write};

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::model::{Bucket, Delivery, EnhancedCode, Outcome, ReplyCode, Timestamp};
use crate::parse::Sink;

/// Times kept per address for the soft-failure window; older ones are dropped (the
/// window test has run on them already).
const MAX_SOFT_TIMES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuppressOptions {
    /// Soft failures needed within the window.
    pub soft_threshold: u32,
    /// Window length in days.
    pub soft_window_days: u32,
}

impl Default for SuppressOptions {
    fn default() -> SuppressOptions {
        SuppressOptions {
            soft_threshold: 3,
            soft_window_days: 14,
        }
    }
}

/// One counted failure, as shown in a row.
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    reason: &'static str,
    bucket: Bucket,
    reply_code: Option<ReplyCode>,
    enhanced_code: Option<EnhancedCode>,
    time: Option<Timestamp>,
}

#[derive(Debug, Default)]
struct AddressState {
    list_rot: u64,
    last_list_rot: Option<Failure>,
    soft: u64,
    last_soft: Option<Failure>,
    /// Times of soft failures, sorted; at most [`MAX_SOFT_TIMES`].
    soft_times: Vec<i64>,
    /// Soft failures without a time: they fall in any window.
    soft_untimed: u64,
    /// The soft threshold was reached within the window.
    soft_listed: bool,
    /// Latest time of any counted failure.
    last_time: Option<Timestamp>,
}

/// Collects the addresses to suppress (see the module doc).
#[derive(Debug)]
pub struct Suppression {
    options: SuppressOptions,
    addresses: HashMap<String, AddressState>,
}

/// One address to stop mailing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressRow {
    pub address: String,
    /// `list_rot` or `soft`: why the address is listed.
    pub kind: &'static str,
    /// Reason of the last failure of that kind (`user_unknown`, `mailbox_full`, ...).
    pub reason: &'static str,
    pub bucket: &'static str,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    /// Time of the last failure of that kind.
    pub last_seen: Option<Timestamp>,
    /// Failures of that kind.
    pub count: u64,
}

/// The suppression list, sorted by address.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressList {
    pub soft_threshold: u32,
    pub soft_window_days: u32,
    pub addresses: Vec<SuppressRow>,
}

/// The address as listed: lowercase, borrowed when it already is.
fn key(address: &str) -> std::borrow::Cow<'_, str> {
    if address.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(address.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(address)
    }
}

/// Whether `need` soft failures fall within `window` seconds: the untimed ones count
/// in any window. `times` is sorted.
fn within_window(times: &[i64], untimed: u64, need: u32, window: i64) -> bool {
    let need = u64::from(need);
    if untimed >= need {
        return true;
    }
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] > window {
            start += 1;
        }
        if (end - start + 1) as u64 + untimed >= need {
            return true;
        }
    }
    false
}

impl Suppression {
    pub fn new(options: SuppressOptions) -> Suppression {
        Suppression {
            options,
            addresses: HashMap::default(),
        }
    }

    fn window_seconds(&self) -> i64 {
        i64::from(self.options.soft_window_days) * 86_400
    }

    /// The list, sorted by address.
    pub fn finish(self) -> SuppressList {
        let mut addresses: Vec<SuppressRow> = self
            .addresses
            .into_iter()
            .filter_map(|(address, s)| {
                let (kind, failure, count) = match (s.last_list_rot, s.last_soft) {
                    (Some(f), _) => ("list_rot", f, s.list_rot),
                    (None, Some(f)) if s.soft_listed => ("soft", f, s.soft),
                    _ => return None,
                };
                Some(SuppressRow {
                    address,
                    kind,
                    reason: failure.reason,
                    bucket: failure.bucket.as_str(),
                    reply_code: failure.reply_code,
                    enhanced_code: failure.enhanced_code,
                    last_seen: failure.time,
                    count,
                })
            })
            .collect();
        addresses.sort_by(|a, b| a.address.cmp(&b.address));
        SuppressList {
            soft_threshold: self.options.soft_threshold,
            soft_window_days: self.options.soft_window_days,
            addresses,
        }
    }
}

impl Sink for Suppression {
    fn event(&mut self, _event: &crate::model::Event) {}

    fn delivery(&mut self, d: &Delivery) {
        if d.outcome == Outcome::Delivered {
            // A delivery after the last counted failure: the address works.
            if self.addresses.is_empty() {
                return;
            }
            let address = key(d.recipient());
            let clears = self.addresses.get(address.as_ref()).is_some_and(|s| {
                match (d.last.time, s.last_time) {
                    (Some(ok), Some(failed)) => ok >= failed,
                    _ => true,
                }
            });
            if clears {
                self.addresses.remove(address.as_ref());
            }
            return;
        }
        let (bucket, reason) = d
            .cause()
            .map_or((Bucket::Unknown, "unclassified"), |v| (v.bucket, v.reason));
        if matches!(bucket, Bucket::Reputation | Bucket::Auth | Bucket::Content) {
            return;
        }
        let failure = Failure {
            reason,
            bucket,
            reply_code: d.last.reply_code,
            enhanced_code: d.last.enhanced_code,
            time: d.last.time,
        };
        let window = self.window_seconds();
        let need = self.options.soft_threshold;
        let address = key(d.recipient()).into_owned();
        let state = self.addresses.entry(address).or_default();
        state.last_time = state.last_time.max(failure.time);
        if d.outcome == Outcome::Bounced && bucket == Bucket::ListRot {
            state.list_rot += 1;
            if state
                .last_list_rot
                .as_ref()
                .is_none_or(|f| f.time <= failure.time)
            {
                state.last_list_rot = Some(failure);
            }
            return;
        }
        state.soft += 1;
        match failure.time {
            Some(t) => {
                let secs = t.seconds();
                let at = state.soft_times.partition_point(|&x| x <= secs);
                state.soft_times.insert(at, secs);
            }
            None => state.soft_untimed += 1,
        }
        if within_window(&state.soft_times, state.soft_untimed, need, window) {
            state.soft_listed = true;
        }
        if state.soft_times.len() > MAX_SOFT_TIMES {
            state.soft_times.remove(0);
        }
        if state
            .last_soft
            .as_ref()
            .is_none_or(|f| f.time <= failure.time)
        {
            state.last_soft = Some(failure);
        }
    }
}

/// A CSV cell: quoted when it holds a comma, quote or line break (RFC 4180), and
/// prefixed with `'` when it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return, so a spreadsheet shows it as text instead of running it as a formula.
pub fn csv_cell(value: &str) -> String {
    let mut cell = String::with_capacity(value.len() + 3);
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    cell.push_str(value);
    if cell.contains([',', '"', '\n', '\r']) {
        cell = format!("\"{}\"", cell.replace('"', "\"\""));
    }
    cell
}

pub const CSV_HEADER: &str = "address,kind,reason,bucket,reply_code,enhanced_code,last_seen,count";

pub fn write_csv(list: &SuppressList, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for r in &list.addresses {
        let cells = [
            r.address.clone(),
            r.kind.to_string(),
            r.reason.to_string(),
            r.bucket.to_string(),
            r.reply_code.map(|c| c.to_string()).unwrap_or_default(),
            r.enhanced_code.map(|c| c.to_string()).unwrap_or_default(),
            r.last_seen.map(|t| t.to_string()).unwrap_or_default(),
            r.count.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

pub fn write_json(list: &SuppressList, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, list)?;
    out.write_all(b"\n")
}

/// One address per line.
pub fn write_list(list: &SuppressList, out: &mut dyn Write) -> io::Result<()> {
    for r in &list.addresses {
        writeln!(out, "{}", r.address)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{Action, Event, Source, Verdict};

    fn at(day: u32, hour: u32) -> Timestamp {
        Timestamp::from_civil(2026, 3, day, hour, 0, 0, 0).expect("a valid date")
    }

    fn delivery(
        recipient: &str,
        outcome: Outcome,
        cause: Option<(Bucket, &'static str)>,
        time: Timestamp,
    ) -> Delivery {
        let last = Event {
            time: Some(time),
            source: Source {
                kind: "postfix",
                file: Arc::from("test.log"),
                line: 1,
            },
            recipient: Arc::from(recipient),
            sender: None,
            queue_id: None,
            message_id: None,
            relay_host: None,
            relay_ip: None,
            action: match outcome {
                Outcome::Delivered => Action::Delivered,
                Outcome::Bounced => Action::Bounced,
                Outcome::Expired => Action::Expired,
                Outcome::Deferred => Action::Deferred,
            },
            reply_code: ReplyCode::new(550),
            enhanced_code: EnhancedCode::new(5, 1, 1),
            diagnostic: None,
            smtp_stage: None,
            agent: None,
            verdict: cause.map(|(bucket, reason)| Verdict {
                bucket,
                reason,
                rule: Arc::from("test"),
                evidence: String::new(),
                hard: outcome == Outcome::Bounced,
            }),
            mta_host: None,
            campaign: None,
            step: None,
            extra: None,
        };
        Delivery {
            outcome,
            attempts: 1,
            deferrals: 0,
            first_time: Some(time),
            last,
            last_failure: None,
        }
    }

    fn listed(deliveries: &[Delivery], options: SuppressOptions) -> Vec<(String, &'static str)> {
        let mut s = Suppression::new(options);
        for d in deliveries {
            s.delivery(d);
        }
        s.finish()
            .addresses
            .into_iter()
            .map(|r| (r.address, r.kind))
            .collect()
    }

    const ROT: Option<(Bucket, &str)> = Some((Bucket::ListRot, "user_unknown"));
    const FULL: Option<(Bucket, &str)> = Some((Bucket::Transient, "mailbox_full"));

    #[test]
    fn one_list_rot_bounce_lists_the_address_in_lowercase() {
        let got = listed(
            &[delivery("Old@Example.com", Outcome::Bounced, ROT, at(1, 0))],
            SuppressOptions::default(),
        );
        assert_eq!(got, [("old@example.com".to_string(), "list_rot")]);
    }

    #[test]
    fn soft_failures_need_the_threshold_within_the_window() {
        let three_in_window = [
            delivery("a@x.example", Outcome::Expired, FULL, at(1, 0)),
            delivery("a@x.example", Outcome::Expired, FULL, at(8, 0)),
            delivery("a@x.example", Outcome::Deferred, FULL, at(15, 0)),
        ];
        assert_eq!(
            listed(&three_in_window, SuppressOptions::default()),
            [("a@x.example".to_string(), "soft")]
        );
        // 14 days and one hour from the first to the third: outside the window.
        let spread = [
            delivery("b@x.example", Outcome::Expired, FULL, at(1, 0)),
            delivery("b@x.example", Outcome::Expired, FULL, at(8, 0)),
            delivery("b@x.example", Outcome::Expired, FULL, at(15, 1)),
        ];
        assert_eq!(listed(&spread, SuppressOptions::default()), []);
        let two = &spread[..2];
        assert_eq!(listed(two, SuppressOptions::default()), []);
        let options = SuppressOptions {
            soft_threshold: 2,
            soft_window_days: 7,
        };
        assert_eq!(listed(two, options), [("b@x.example".to_string(), "soft")]);
    }

    #[test]
    fn sender_side_failures_never_count() {
        let mut ds = Vec::new();
        for (i, bucket) in [Bucket::Reputation, Bucket::Auth, Bucket::Content]
            .iter()
            .enumerate()
        {
            for day in 1..=4 {
                ds.push(delivery(
                    &format!("r{i}@x.example"),
                    Outcome::Bounced,
                    Some((*bucket, "policy_block")),
                    at(day, 0),
                ));
            }
        }
        assert_eq!(listed(&ds, SuppressOptions::default()), []);
    }

    #[test]
    fn a_later_delivery_clears_the_address() {
        let ds = [
            delivery("c@x.example", Outcome::Bounced, ROT, at(1, 0)),
            delivery("c@x.example", Outcome::Delivered, None, at(2, 0)),
            // Delivered before the failure (logs read out of order): still listed.
            delivery("d@x.example", Outcome::Bounced, ROT, at(3, 0)),
            delivery("d@x.example", Outcome::Delivered, None, at(2, 0)),
        ];
        assert_eq!(
            listed(&ds, SuppressOptions::default()),
            [("d@x.example".to_string(), "list_rot")]
        );
    }

    #[test]
    fn window_counts_untimed_failures_everywhere() {
        assert!(within_window(&[], 3, 3, 0));
        assert!(within_window(&[10], 2, 3, 0));
        assert!(!within_window(&[0, 100], 0, 3, 1000));
        assert!(within_window(&[0, 100, 1000], 0, 3, 1000));
        assert!(!within_window(&[0, 100, 1001], 0, 3, 1000));
        assert!(within_window(&[0, 5000, 5100, 5200], 0, 3, 1000));
    }

    #[test]
    fn csv_cells_are_safe_for_spreadsheets() {
        let cases = [
            ("plain@x.example", "plain@x.example"),
            ("=cmd@x.example", "'=cmd@x.example"),
            ("+1@x.example", "'+1@x.example"),
            ("-2@x.example", "'-2@x.example"),
            ("@x.example", "'@x.example"),
            ("\tx@x.example", "'\tx@x.example"),
            ("\rx@x.example", "\"'\rx@x.example\""),
            ("a,b@x.example", "\"a,b@x.example\""),
            ("\"q\"@x.example", "\"\"\"q\"\"@x.example\""),
            (
                "=HYPERLINK(\"http://e\",\"x\")",
                "\"'=HYPERLINK(\"\"http://e\"\",\"\"x\"\")\"",
            ),
            ("", ""),
        ];
        for (value, want) in cases {
            assert_eq!(csv_cell(value), want, "{value:?}");
        }
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_address() {
        let mut s = Suppression::new(SuppressOptions::default());
        s.delivery(&delivery("=b@x.example", Outcome::Bounced, ROT, at(2, 3)));
        s.delivery(&delivery("a@x.example", Outcome::Bounced, ROT, at(1, 0)));
        let mut out = Vec::new();
        write_csv(&s.finish(), &mut out).expect("writing to memory");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            format!(
                "{CSV_HEADER}\n\
                 '=b@x.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-02T03:00:00Z,1\n\
                 a@x.example,list_rot,user_unknown,list_rot,550,5.1.1,2026-03-01T00:00:00Z,1\n"
            )
        );
    }
}
