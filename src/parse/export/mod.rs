//! ESP and sequencer exports: CSV files ([`CsvFormat`]) and JSON documents, arrays or
//! NDJSON ([`JsonFormat`]), read through one column mapping.
//!
//! Each row (a CSV record, or a JSON record flattened to `a.b.c` keys) is mapped onto
//! the model's fields by a [`preset`] (detected from the header or the first record's
//! keys, or forced with `--preset`), the generic aliases, and `--map` overrides. Its
//! event label says what happened ([`Label`]). Delivery results become events, failures
//! classified from their codes and text; a failure with only a label is
//! `unclassifiable`; a provider's own suppression is `suppressed`, never a failure.
//! Rows of one (message, recipient) are correlated within a file into one delivery
//! (bounded by [`MAX_OPEN`]). Every row is counted: parsed, ignored or unrecognized
//! (malformed address, unknown status, wrong column count) with its line.
//! A JSON file's "line" is its record number.

pub mod csv;
pub mod preset;

use std::io::{self, BufRead};
use std::sync::{Arc, LazyLock};

use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

use crate::classify::detect_stage;
use crate::codes::{self, EnhancedCode, ReplyCode};
use crate::model::{Action, Bucket, Delivery, Event, Outcome, Source, Verdict};
use crate::parse::{Context, Format, InputMeta, Leftovers, Parser, Sink, Tally};
pub use preset::{Field, Label, Preset};

pub const CSV: &str = "csv";
pub const JSON: &str = "json";

/// Open (message, recipient) pairs kept per file before the oldest are flushed.
pub const MAX_OPEN: usize = 200_000;

/// `--preset` and `--map`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub preset: Option<&'static str>,
    pub map: Vec<(Field, String)>,
}

/// Parses `field=Column` (`--map`).
pub fn parse_map(text: &str) -> Result<(Field, String), String> {
    let (field, column) = text
        .split_once('=')
        .ok_or_else(|| format!("expected field=Column, not {text:?}"))?;
    let field = Field::parse(field)
        .ok_or_else(|| format!("unknown field {field:?} (known: {})", Field::NAMES))?;
    if column.trim().is_empty() {
        return Err(format!("no column named in {text:?}"));
    }
    Ok((field, column.trim().to_string()))
}

pub struct CsvFormat;
pub struct JsonFormat;

fn strip_bom(head: &[u8]) -> &[u8] {
    head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head)
}

impl Format for CsvFormat {
    fn name(&self) -> &'static str {
        CSV
    }

    /// A header line with a delimiter and a recipient column (`email`, `recipient`,
    /// `address`, ...), possibly after Excel's `sep=` line; or a UTF-16 text export.
    fn sniff(&self, head: &[u8]) -> bool {
        let utf16;
        let mut head = strip_bom(head);
        if let Some(t) = csv::transcode_utf16(head) {
            utf16 = t;
            head = &utf16;
        }
        let mut lines = head
            .split(|&b| b == b'\n' || b == b'\r')
            .filter(|l| !l.is_empty());
        let Some(mut first) = lines.next() else {
            return false;
        };
        if first.starts_with(b"sep=") {
            match lines.next() {
                Some(l) => first = l,
                None => return false,
            }
        }
        if first.starts_with(b"{") || first.starts_with(b"[") {
            return false;
        }
        let delimiter = csv::sniff_delimiter(first);
        let names: Vec<String> = csv::split_fields(first, delimiter)
            .iter()
            .map(|n| preset::normalize(n))
            .collect();
        names.len() >= 2 && names.iter().any(|n| recipient_alias(n))
    }

    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a> {
        Box::new(ExportParser {
            ctx,
            json: false,
            leftovers: Leftovers::default(),
        })
    }

    fn independent_files(&self) -> bool {
        true
    }
}

impl Format for JsonFormat {
    fn name(&self) -> &'static str {
        JSON
    }

    /// A JSON object or array (NDJSON included) at the start.
    fn sniff(&self, head: &[u8]) -> bool {
        let head = strip_bom(head);
        matches!(
            head.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        )
    }

    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a> {
        Box::new(ExportParser {
            ctx,
            json: true,
            leftovers: Leftovers::default(),
        })
    }

    fn independent_files(&self) -> bool {
        true
    }
}

fn recipient_alias(normalized: &str) -> bool {
    preset::GENERIC[0].1.contains(&normalized)
        || matches!(normalized, "rcptto" | "toemail" | "recipient.emailaddress")
}

/// Which columns feed which field, for one header (or one JSON record's keys).
struct Mapping {
    /// Per field, the column indexes in order of preference.
    cols: Vec<Vec<usize>>,
    /// Columns mapped to no field: kept as `Event::extra`.
    extra: Vec<usize>,
}

fn build_mapping(names: &[String], preset: &Preset, map: &[(Field, String)]) -> Mapping {
    let normalized: Vec<String> = names.iter().map(|n| preset::normalize(n)).collect();
    let find = |alias: &str| -> Vec<usize> {
        normalized
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_str() == alias)
            .map(|(i, _)| i)
            .take(1)
            .collect()
    };
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); Field::ALL.len()];
    for field in Field::ALL {
        let slot = &mut cols[field.index()];
        if let Some((_, column)) = map.iter().rev().find(|(f, _)| *f == field) {
            let want = preset::normalize(column);
            slot.extend(find(&want));
            continue;
        }
        let aliases: &[&str] = match preset.fields.iter().find(|(f, _)| *f == field) {
            Some((_, names)) => names,
            None => preset::GENERIC
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(&[], |(_, names)| names),
        };
        for alias in aliases {
            for i in find(alias) {
                if !slot.contains(&i) {
                    slot.push(i);
                }
            }
        }
    }
    // A column feeds one field: the first that claims it, in field order (the event
    // label before the bounce type, the campaign before the step).
    let mut used = vec![false; names.len()];
    for slot in cols.iter_mut() {
        slot.retain(|&i| !std::mem::replace(&mut used[i], true));
    }
    let extra = (0..names.len()).filter(|&i| !used[i]).collect();
    Mapping { cols, extra }
}

/// Picks a preset for a header: the forced one, else the first that detects it.
fn choose_preset(names: &[String], first: &[String], forced: Option<&str>) -> &'static Preset {
    if let Some(p) = forced.and_then(preset::by_name) {
        return p;
    }
    let normalized: Vec<String> = names.iter().map(|n| preset::normalize(n)).collect();
    let has = |n: &str| normalized.iter().any(|m| m == n);
    let value = |n: &str| {
        normalized
            .iter()
            .position(|m| m == n)
            .and_then(|i| first.get(i).cloned())
    };
    preset::PRESETS
        .iter()
        .find(|p| (p.detect)(&has, &value))
        .unwrap_or(&preset::PRESETS[preset::PRESETS.len() - 1])
}

static STATUS_ONLY_RULE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("export.status_only"));
static SUPPRESSED_RULE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("export.suppressed"));
static NOT_A_BOUNCE_RULE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("export.not_a_bounce"));

fn verdict(reason: &'static str, rule: &Arc<str>, evidence: String, hard: bool) -> Verdict {
    Verdict {
        bucket: Bucket::Unknown,
        reason,
        rule: rule.clone(),
        evidence,
        hard,
    }
}

/// A (message, recipient) pair seen in this file, not yet final.
#[derive(Debug, Default)]
struct Open {
    serial: u64,
    attempts: u32,
    deferrals: u32,
    first_time: Option<crate::model::Timestamp>,
    /// Delivered, opened or sent: the event standing for it.
    delivered: Option<(bool, Event)>,
    failure: Option<Event>,
    last_deferral: Option<Event>,
}

pub struct ExportParser<'a> {
    ctx: &'a Context<'a>,
    json: bool,
    /// Deliveries left pending by the files read so far, reported at the end.
    leftovers: Leftovers,
}

/// The state of one file.
struct FileState<'s> {
    kind: &'static str,
    file: Arc<str>,
    open: HashMap<(String, Arc<str>), Open>,
    serial: u64,
    leftovers: Leftovers,
    tally: Tally,
    sink: &'s mut dyn Sink,
    keep: usize,
}

/// One row, its columns named.
struct Row<'r> {
    line: u64,
    names: &'r [Arc<str>],
    values: &'r [String],
    raw_names: &'r [String],
}

impl Row<'_> {
    fn get(&self, m: &Mapping, f: Field) -> Option<&str> {
        m.cols[f.index()]
            .iter()
            .filter_map(|&i| self.values.get(i))
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every non-empty value of a field's columns, joined: a bounce type may be told
    /// in two columns (Mailgun's `severity` and `reason`).
    fn get_all(&self, m: &Mapping, f: Field) -> Option<String> {
        let all: Vec<&str> = m.cols[f.index()]
            .iter()
            .filter_map(|&i| self.values.get(i))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        (!all.is_empty()).then(|| all.join(" "))
    }

    fn text(&self) -> String {
        self.raw_names
            .iter()
            .zip(self.values)
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A plausible mailbox address: one `@`, a local part and a domain, no spaces.
fn valid_address(a: &str) -> bool {
    let a = a.trim_matches(|c| c == '<' || c == '>');
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !a.chars().any(|c| c.is_whitespace() || c == ',')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

impl ExportParser<'_> {
    fn row(&self, st: &mut FileState<'_>, preset: &Preset, m: &Mapping, row: &Row<'_>) {
        let keep = st.keep;
        let Some(recipient) = row.get(m, Field::Recipient) else {
            st.tally
                .unrecognized(row.line, "no recipient", row.text().as_bytes(), keep);
            return;
        };
        let recipient = recipient
            .trim_matches(|c| c == '<' || c == '>')
            .to_ascii_lowercase();
        if !valid_address(&recipient) {
            st.tally
                .unrecognized(row.line, "malformed address", row.text().as_bytes(), keep);
            return;
        }
        let mut event_label = row.get(m, Field::Event);
        let kind_all = row.get_all(m, Field::BounceType);
        let kind = kind_all.as_deref();
        let mut reply_code = None;
        let mut pseudo_code = None;
        let mut enhanced = row
            .get(m, Field::EnhancedCode)
            .and_then(EnhancedCode::parse);
        if let Some(code) = row.get(m, Field::ReplyCode) {
            match code.parse::<u16>() {
                Ok(n) if (200..600).contains(&n) => reply_code = ReplyCode::new(n),
                Ok(n) if n >= 600 => pseudo_code = Some(n),
                _ => reply_code = ReplyCode::parse(code),
            }
        }
        // A status column may hold a code (`5.1.1`, `550`) rather than a label.
        if let Some(l) = event_label {
            if let Some(e) = EnhancedCode::parse(l).filter(|_| l.contains('.')) {
                enhanced = enhanced.or(Some(e));
                event_label = None;
            } else if l.len() == 3
                && let Ok(n) = l.parse::<u16>()
                && (200..600).contains(&n)
            {
                reply_code = reply_code.or(ReplyCode::new(n));
                event_label = None;
            }
        }
        let mut diagnostic = row.get(m, Field::Diagnostic).map(|d| {
            let d = d.trim();
            let d = d
                .strip_prefix("smtp;")
                .or_else(|| d.strip_prefix("SMTP;"))
                .unwrap_or(d);
            d.trim().to_string()
        });
        if preset.name == "smartlead"
            && let Some((diag, status, reply)) = smartlead_bounce(row, &recipient)
        {
            diagnostic = diagnostic.or(diag);
            enhanced = enhanced.or(status);
            reply_code = reply_code.or(reply);
        }
        let flag = row.get(m, Field::Bounced);
        let label = preset::preset_label(
            preset.name,
            event_label,
            kind,
            pseudo_code.or(reply_code.map(|r| r.value())),
        )
        .or_else(|| event_label.and_then(preset::generic_label))
        .or_else(|| {
            if event_label.is_some() {
                return None;
            }
            // No status column: a flag, else a code or text means a failure.
            match flag.map(|f| preset::flag_value(f).ok_or(f)) {
                Some(Ok(true)) => Some(Label::Bounced),
                Some(Ok(false)) => Some(Label::Sent),
                Some(Err(f)) => match preset::generic_label(f) {
                    Some(Label::Bounced) => Some(Label::Bounced),
                    Some(_) => Some(Label::Sent),
                    None => None,
                },
                None if reply_code.is_some() || enhanced.is_some() || diagnostic.is_some() => {
                    Some(if reply_code.is_some_and(|r| r.class() == 2) {
                        Label::Delivered
                    } else {
                        Label::Bounced
                    })
                }
                None => None,
            }
        });
        // A set "bounced" flag outweighs a status that only says the mail was sent
        // (a sequencer's `Email Sent = true, Email Bounced = true`).
        let label = match label {
            Some(Label::Sent | Label::Delivered | Label::Engaged)
                if flag.and_then(preset::flag_value) == Some(true) =>
            {
                Some(Label::Bounced)
            }
            other => other,
        };
        let label = match label {
            // Mailgun-style pseudo-codes (605 previously bounced, 606 unsubscribed, 607
            // complained, 625 poor list quality) are the ESP's, not the receiver's.
            Some(Label::Bounced) if pseudo_code.is_some() => Label::Suppressed,
            Some(l) => l,
            None => {
                st.tally
                    .unrecognized(row.line, "unknown status", row.text().as_bytes(), keep);
                return;
            }
        };
        if let Label::Ignored(why) = label {
            st.tally.ignore(why);
            return;
        }
        if let Some(d) = diagnostic.as_deref() {
            let found = codes::extract(d);
            reply_code = reply_code.or(found.reply);
            enhanced = enhanced.or(found.enhanced);
        }
        let action = match label {
            Label::Delivered | Label::Sent | Label::Engaged | Label::NotABounce => {
                Action::Delivered
            }
            Label::Deferred => Action::Deferred,
            Label::Expired => Action::Expired,
            Label::Bounced | Label::Suppressed | Label::Ignored(_) => Action::Bounced,
        };
        let arc = |f: Field| row.get(m, f).map(Arc::from);
        let extra: Vec<(Arc<str>, Arc<str>)> = m
            .extra
            .iter()
            .filter_map(|&i| {
                let v = row.values.get(i)?.trim();
                (!v.is_empty() && v.len() <= 200)
                    .then(|| (row.names.get(i).cloned(), Arc::from(v)))
                    .and_then(|(n, v)| n.map(|n| (n, v)))
            })
            .collect();
        let sender = row.get(m, Field::Sender).map(|s| {
            // `News <news@example.com>`: the address.
            match (s.rfind('<'), s.rfind('>')) {
                (Some(a), Some(b)) if a < b => Arc::from(&s[a + 1..b]),
                _ => Arc::from(s),
            }
        });
        let campaign = arc(Field::Campaign).or_else(|| {
            sender
                .as_deref()
                .and_then(crate::model::campaign_of)
                .map(Arc::from)
        });
        let mut event = Event {
            time: row.get(m, Field::Time).and_then(crate::time::parse_any),
            source: Source {
                kind: st.kind,
                file: st.file.clone(),
                line: row.line,
            },
            recipient: Arc::from(recipient),
            sender,
            queue_id: None,
            message_id: row.get(m, Field::MessageId).map(Arc::from),
            relay_host: row.get(m, Field::RelayHost).map(Arc::from),
            relay_ip: None,
            action,
            reply_code: if action == Action::Delivered && label != Label::Delivered {
                None
            } else {
                reply_code
            },
            enhanced_code: if action == Action::Delivered && label != Label::Delivered {
                None
            } else {
                enhanced
            },
            diagnostic: diagnostic.clone().filter(|d| !d.is_empty()),
            smtp_stage: diagnostic.as_deref().and_then(detect_stage),
            agent: Some(Arc::from(format!("export/{}", preset.name))),
            verdict: None,
            mta_host: arc(Field::MtaHost),
            campaign,
            step: arc(Field::Step),
            extra: (!extra.is_empty()).then(|| Arc::from(extra)),
        };
        let evidence = || {
            [event_label, kind, flag]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        };
        match label {
            Label::Suppressed => {
                event.verdict = Some(verdict(
                    crate::report::SUPPRESSED,
                    &SUPPRESSED_RULE,
                    evidence(),
                    true,
                ));
            }
            Label::NotABounce => {
                event.verdict = Some(verdict(
                    "not_a_bounce",
                    &NOT_A_BOUNCE_RULE,
                    evidence(),
                    false,
                ));
            }
            _ if action.is_failure() => {
                let status_only = event.reply_code.is_none()
                    && event.enhanced_code.is_none()
                    && event.diagnostic.is_none();
                if status_only {
                    event.verdict = Some(verdict(
                        crate::report::UNCLASSIFIABLE,
                        &STATUS_ONLY_RULE,
                        evidence(),
                        action == Action::Bounced,
                    ));
                } else {
                    self.ctx.classifier.classify_event(&mut event);
                }
            }
            _ => {}
        }
        st.tally.parsed += 1;
        // Results are events; sent and engagement rows only feed the delivery.
        if matches!(
            label,
            Label::Delivered
                | Label::Deferred
                | Label::Bounced
                | Label::Expired
                | Label::Suppressed
                | Label::NotABounce
        ) {
            st.tally.events += 1;
            st.sink.event(&event);
        }
        if matches!(label, Label::Suppressed | Label::NotABounce) {
            return;
        }
        st.correlate(label, event);
    }
}

impl FileState<'_> {
    fn correlate(&mut self, label: Label, event: Event) {
        let message = event
            .message_id
            .as_deref()
            .map(str::to_string)
            .or_else(|| {
                let c = event.campaign.as_deref().unwrap_or("");
                let s = event.step.as_deref().unwrap_or("");
                (!c.is_empty() || !s.is_empty()).then(|| format!("{c}\u{1f}{s}"))
            })
            .unwrap_or_default();
        let key = (message, event.recipient.clone());
        if !self.open.contains_key(&key) && self.open.len() >= MAX_OPEN {
            self.evict();
        }
        self.serial += 1;
        let serial = self.serial;
        let open = self.open.entry(key).or_insert_with(|| Open {
            serial,
            ..Open::default()
        });
        open.first_time = match (open.first_time, event.time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match label {
            Label::Deferred => {
                open.attempts += 1;
                open.deferrals += 1;
                open.last_deferral = Some(event);
            }
            Label::Bounced | Label::Expired => {
                open.attempts += 1;
                open.failure = Some(event);
            }
            Label::Delivered => {
                open.attempts += 1;
                open.delivered = Some((true, event));
            }
            Label::Sent | Label::Engaged
                if open.delivered.as_ref().is_none_or(|(real, _)| !real) =>
            {
                open.delivered = Some((label == Label::Engaged, event));
            }
            _ => {}
        }
    }

    /// Flushes the oldest half of the open pairs, counting them as evicted.
    fn evict(&mut self) {
        let mut serials: Vec<u64> = self.open.values().map(|o| o.serial).collect();
        serials.sort_unstable();
        let cut = serials[serials.len() / 2];
        let old: Vec<(String, Arc<str>)> = self
            .open
            .iter()
            .filter(|(_, o)| o.serial <= cut)
            .map(|(k, _)| k.clone())
            .collect();
        let mut flushed: Vec<Open> = old.iter().filter_map(|k| self.open.remove(k)).collect();
        flushed.sort_by_key(|o| o.serial);
        self.leftovers.evicted_messages += flushed.len() as u64;
        for o in flushed {
            flush(o, self.sink, &mut self.leftovers);
        }
    }

    fn finish(mut self) -> (Tally, Leftovers) {
        let mut open: Vec<Open> = self.open.drain().map(|(_, o)| o).collect();
        open.sort_by_key(|o| o.serial);
        for o in open {
            flush(o, self.sink, &mut self.leftovers);
        }
        (self.tally, self.leftovers)
    }
}

/// The delivery of one pair: a failure wins, then a delivery (or a sent or engagement
/// row, which also stands for one), then deferrals alone (pending).
fn flush(o: Open, sink: &mut dyn Sink, leftovers: &mut Leftovers) {
    let (outcome, last, last_failure) = match (o.failure, o.delivered, o.last_deferral) {
        (Some(f), _, _) => {
            let outcome = if f.action == Action::Expired {
                Outcome::Expired
            } else {
                Outcome::Bounced
            };
            (outcome, f, None)
        }
        (None, Some((_, d)), deferral) => (Outcome::Delivered, d, deferral),
        (None, None, Some(d)) => {
            leftovers.pending_deliveries += 1;
            (Outcome::Deferred, d, None)
        }
        (None, None, None) => return,
    };
    sink.delivery(&Delivery {
        outcome,
        attempts: o.attempts.max(1),
        deferrals: o.deferrals,
        first_time: o.first_time,
        last,
        last_failure,
    });
}

/// The raw bounce email of a Smartlead webhook, decoded by the DSN parser: the
/// diagnostic, status and reply code of the recipient's block.
fn smartlead_bounce(
    row: &Row<'_>,
    recipient: &str,
) -> Option<(Option<String>, Option<EnhancedCode>, Option<ReplyCode>)> {
    let text = ["bouncemessage.text", "bouncemessage", "bouncereplyemail"]
        .iter()
        .find_map(|want| {
            row.raw_names
                .iter()
                .position(|n| preset::normalize(n) == *want)
                .and_then(|i| row.values.get(i))
                .filter(|v| !v.trim().is_empty())
        })?;
    let mut raw = String::new();
    if !text.contains("\nSubject:") && !text.starts_with("From") && !text.starts_with("Return-Path")
    {
        raw.push_str(
            "From: Mail Delivery System <mailer-daemon@localhost>\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n",
        );
    }
    raw.push_str(text);
    let fallback = || {
        let found = codes::extract(text);
        let line = text
            .lines()
            .find(|l| codes::extract(l).reply.is_some() || codes::extract(l).enhanced.is_some())
            .unwrap_or(text);
        (Some(line.trim().to_string()), found.enhanced, found.reply)
    };
    let Ok(decoded) = crate::parse::dsn::decode(raw.as_bytes()) else {
        return Some(fallback());
    };
    let rcpt = decoded
        .report
        .recipients
        .iter()
        .find(|r| r.address.eq_ignore_ascii_case(recipient))
        .or(decoded.report.recipients.first());
    match rcpt {
        Some(r) if r.diagnostic.is_some() || r.status.is_some() => {
            Some((r.diagnostic.clone(), r.status, r.reply_code))
        }
        _ => Some(fallback()),
    }
}

impl Parser for ExportParser<'_> {
    fn parse(
        &mut self,
        input: &mut (dyn BufRead + Send),
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        let kind = if self.json { JSON } else { CSV };
        let unit = if self.json { "records" } else { "rows" };
        let mut st = FileState {
            kind,
            file: meta.file.clone(),
            open: HashMap::default(),
            serial: 0,
            leftovers: Leftovers::default(),
            tally: Tally::new(kind, &meta.file, unit),
            sink,
            keep: self.ctx.keep_unrecognized,
        };
        if self.json {
            self.parse_json(input, &mut st)?;
        } else {
            self.parse_csv(input, &mut st)?;
        }
        let (tally, leftovers) = st.finish();
        self.leftovers.add(&leftovers);
        Ok(tally)
    }

    fn finish(&mut self, _sink: &mut dyn Sink) -> Leftovers {
        std::mem::take(&mut self.leftovers)
    }
}

fn not_this(kind: &str, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not a {kind} export: {why}"),
    )
}

impl ExportParser<'_> {
    fn parse_csv(
        &self,
        input: &mut (dyn BufRead + Send),
        st: &mut FileState<'_>,
    ) -> io::Result<()> {
        let head = input.fill_buf()?.to_vec();
        let mut transcoded;
        let mut cursor;
        let input: &mut dyn BufRead = match csv::transcode_utf16(&head) {
            Some(_) => {
                let mut all = Vec::new();
                input.read_to_end(&mut all)?;
                transcoded = csv::transcode_utf16(&all).unwrap_or_default();
                cursor = io::Cursor::new(std::mem::take(&mut transcoded));
                &mut cursor
            }
            None => input,
        };
        if memchr::memchr(0, &head).is_some() {
            return Err(not_this(CSV, "binary data (NUL bytes)".into()));
        }
        let first_line = strip_bom(&head);
        let mut delimiter = csv::sniff_delimiter(first_line);
        let excel_sep = first_line.starts_with(b"sep=");
        if excel_sep {
            delimiter = first_line.get(4).copied().unwrap_or(b',');
        }
        let mut reader = csv::CsvReader::new(input, delimiter);
        // The header: the first record (within 20) with a recipient column.
        let opts = &self.ctx.export;
        let forced_recipient = opts
            .map
            .iter()
            .rev()
            .find(|(f, _)| *f == Field::Recipient)
            .map(|(_, c)| preset::normalize(c));
        let mut header = None;
        while let Some(rec) = reader.next_record()? {
            st.tally.total += 1;
            let is_header = rec.fields.iter().any(|n| {
                let n = preset::normalize(n);
                forced_recipient
                    .as_ref()
                    .map_or_else(|| recipient_alias(&n), |f| *f == n)
            });
            if is_header {
                if excel_sep && rec.line == 2 {
                    // The header after Excel's `sep=` line; its delimiter is fixed.
                    if delimiter == b',' && rec.fields.len() == 1 {
                        reader.delimiter = csv::sniff_delimiter(rec.fields[0].as_bytes());
                    }
                }
                st.tally.parsed += 1;
                header = Some(rec);
                break;
            }
            if rec.line > 20 {
                break;
            }
            st.tally.ignore(if rec.line == 1 && excel_sep {
                "excel separator line"
            } else {
                "preamble"
            });
        }
        let Some(header) = header else {
            return Err(not_this(
                CSV,
                "no header with a recipient column (email, recipient, address, ...) in the first 20 rows; name it with --map recipient=COLUMN".into(),
            ));
        };
        // Duplicated header names: the first keeps the name, later ones get `_2`, ...
        let mut raw_names: Vec<String> = Vec::new();
        for name in &header.fields {
            let base = name.trim().trim_start_matches('\u{feff}').to_string();
            let mut candidate = base.clone();
            let mut n = 1;
            while raw_names.iter().any(|r| r.eq_ignore_ascii_case(&candidate)) {
                n += 1;
                candidate = format!("{base}_{n}");
            }
            raw_names.push(candidate);
        }
        let names: Vec<Arc<str>> = raw_names.iter().map(|n| Arc::from(n.as_str())).collect();
        let mut mapping: Option<(&'static Preset, Mapping)> = None;
        while let Some(rec) = reader.next_record()? {
            st.tally.total += 1;
            if rec.is_blank() {
                st.tally.ignore("blank line");
                continue;
            }
            if rec.fields.len() != names.len() {
                // Trailing empty cells beyond the header are harmless (Excel pads).
                let extra_empty = rec.fields.len() > names.len()
                    && rec.fields[names.len()..]
                        .iter()
                        .all(|f| f.trim().is_empty());
                if !extra_empty {
                    let text = rec.fields.join(",");
                    st.tally.unrecognized(
                        rec.line,
                        "wrong column count",
                        format!(
                            "{} columns, the header has {}: {text}",
                            rec.fields.len(),
                            names.len()
                        )
                        .as_bytes(),
                        st.keep,
                    );
                    continue;
                }
            }
            let (preset, m) = mapping.get_or_insert_with(|| {
                let p = choose_preset(&raw_names, &rec.fields, opts.preset);
                (p, build_mapping(&raw_names, p, &opts.map))
            });
            let row = Row {
                line: rec.line,
                names: &names,
                values: &rec.fields,
                raw_names: &raw_names,
            };
            st.tally.preset = Some(preset.name);
            self.row(st, preset, m, &row);
        }
        Ok(())
    }

    fn parse_json(
        &self,
        input: &mut (dyn BufRead + Send),
        st: &mut FileState<'_>,
    ) -> io::Result<()> {
        let mut data = Vec::new();
        input.read_to_end(&mut data)?;
        let data = strip_bom(&data);
        let mut stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
        let mut records: Vec<Value> = Vec::new();
        let mut values = 0;
        let mut broken = None;
        for value in stream.by_ref() {
            match value {
                Ok(v) => {
                    values += 1;
                    unwrap_records(v, &mut records);
                }
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
        }
        if values == 0 {
            let why = broken.map_or_else(|| "empty input".to_string(), |e| e.to_string());
            return Err(not_this(JSON, format!("invalid JSON ({why})")));
        }
        let opts = &self.ctx.export;
        let mut preset: Option<&'static Preset> = None;
        for (i, record) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            st.tally.total += 1;
            let mut rows = Vec::new();
            expand(&record, &mut rows);
            if rows.is_empty() {
                st.tally.unrecognized(
                    line,
                    "not an object",
                    record.to_string().as_bytes(),
                    st.keep,
                );
                continue;
            }
            let before = (st.tally.parsed, st.tally.ignored, st.tally.unrecognized);
            let count = rows.len();
            for flat in rows {
                let raw_names: Vec<String> = flat.iter().map(|(k, _)| k.clone()).collect();
                let values: Vec<String> = flat.into_iter().map(|(_, v)| v).collect();
                let p =
                    *preset.get_or_insert_with(|| choose_preset(&raw_names, &values, opts.preset));
                st.tally.preset = Some(p.name);
                let m = build_mapping(&raw_names, p, &opts.map);
                let names: Vec<Arc<str>> =
                    raw_names.iter().map(|n| Arc::from(n.as_str())).collect();
                let row = Row {
                    line,
                    names: &names,
                    values: &values,
                    raw_names: &raw_names,
                };
                self.row(st, p, &m, &row);
            }
            // One record with several recipients (SES) is still one unit of input.
            if count > 1 {
                let (p, ig, un) = before;
                let t = &mut st.tally;
                let (dp, di, du) = (t.parsed - p, t.ignored - ig, t.unrecognized - un);
                if dp > 0 {
                    t.parsed = p + 1;
                    t.ignored = ig;
                    t.unrecognized = un;
                } else if di > 0 {
                    t.ignored = ig + 1;
                    t.unrecognized = un;
                } else if du > 0 {
                    t.unrecognized = un + 1;
                }
            }
        }
        if let Some(e) = broken {
            st.tally.total += 1;
            st.tally.unrecognized(
                e.line() as u64,
                "invalid JSON",
                format!("byte line {} column {}: {e}", e.line(), e.column()).as_bytes(),
                st.keep,
            );
        }
        Ok(())
    }
}

/// The records of one JSON value: an array's items, a page's `items` / `events` /
/// `Bounces` / `results` / `data`, a webhook's `event-data` or `msys` event, an SNS
/// envelope's `Message` JSON; else the object itself.
fn unwrap_records(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => {
            for item in items {
                unwrap_records(item, out);
            }
        }
        Value::Object(mut map) => {
            for key in ["items", "events", "Bounces", "results", "data", "bounces"] {
                if matches!(map.get(key), Some(Value::Array(_))) {
                    if let Some(inner) = map.remove(key) {
                        unwrap_records(inner, out);
                    }
                    return;
                }
            }
            if let Some(inner) = map.remove("event-data").filter(Value::is_object) {
                out.push(inner);
                return;
            }
            if let Some(Value::Object(msys)) = map.get("msys")
                && let Some(inner) = msys.values().find(|v| v.is_object())
            {
                out.push(inner.clone());
                return;
            }
            if let Some(Value::String(message)) = map.get("Message")
                && let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(message)
            {
                out.push(inner);
                return;
            }
            out.push(Value::Object(map));
        }
        other => out.push(other),
    }
}

/// One flattened row per recipient: SES lists several in one notification.
fn expand(record: &Value, rows: &mut Vec<Vec<(String, String)>>) {
    let Value::Object(map) = record else { return };
    let lists = [
        ("bounce", "bouncedRecipients"),
        ("deliveryDelay", "delayedRecipients"),
        ("complaint", "complainedRecipients"),
        ("delivery", "recipients"),
    ];
    let mut base = Vec::new();
    flatten("", record, &mut base, 0);
    for (outer, list) in lists {
        let Some(Value::Array(items)) = map.get(outer).and_then(|o| o.get(list)) else {
            continue;
        };
        let prefix = format!("{outer}.{list}");
        let shared: Vec<(String, String)> = base
            .iter()
            .filter(|(k, _)| !k.starts_with(&prefix))
            .cloned()
            .collect();
        for item in items {
            let mut row = shared.clone();
            match item {
                Value::Object(_) => flatten("recipient", item, &mut row, 1),
                Value::String(s) => row.push(("recipient".into(), s.clone())),
                _ => continue,
            }
            rows.push(row);
        }
        return;
    }
    // SES Send / Open / Click / Reject: the destinations.
    if let Some(Value::Array(dest)) = map.get("mail").and_then(|m| m.get("destination"))
        && (map.contains_key("eventType") || map.contains_key("notificationType"))
    {
        for d in dest.iter().filter_map(Value::as_str) {
            let mut row = base.clone();
            row.push(("recipient".into(), d.to_string()));
            rows.push(row);
        }
        return;
    }
    rows.push(base);
}

/// Scalars become `prefix.key` columns; arrays of scalars are joined with commas;
/// other arrays and deep nesting are left out.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>, depth: usize) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) if depth < 5 => {
            for (k, v) in map {
                flatten(&key(k), v, out, depth + 1);
            }
        }
        Value::Object(_) => {}
        Value::Array(items) => {
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                let joined: Vec<String> = items.iter().map(scalar).collect();
                out.push((prefix.to_string(), joined.join(",")));
            }
        }
        other => out.push((prefix.to_string(), scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
