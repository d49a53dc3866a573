//! Postfix mail logs: syslog lines (classic, RFC 3339, journalctl short-iso) and
//! Postfix's own `maillog_file`, correlated by queue id into deliveries.
//!
//! Lines are parsed as bytes. Per queue id the parser keeps the sender, message-id and
//! the recipients still pending; it emits an [`Event`] for every delivery record and a
//! [`Delivery`] when a recipient reaches its final status: `sent`, `bounced`, or the
//! message-level `status=expired, returned to sender`, which expires every recipient
//! still deferred. Bounce notices (`from=<>`) and address-verification probes are
//! accounted for but never counted as the sender's mail. State is dropped when qmgr
//! logs `removed`.

pub mod line;

use std::collections::HashMap;
use std::io::{self, BufRead};

use crate::codes::{self, EnhancedCode};
use crate::model::{Action, Delivery, Event, Outcome, Source, Timestamp};
use crate::parse::{Context, Format, InputMeta, Leftovers, Parser, Sink, Tally, trim_line_end};

pub use line::{LogLine, parse_syslog_line};

pub const NAME: &str = "postfix";

/// At most this many messages are tracked at once; older ones are evicted and counted,
/// so a log whose queue ids are never removed cannot grow memory without bound.
const MAX_OPEN_MESSAGES: usize = 1_000_000;

pub struct PostfixFormat;

impl Format for PostfixFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Postfix if most of the first lines are syslog-shaped lines from a Postfix daemon.
    fn sniff(&self, head: &[u8]) -> bool {
        let mut seen = 0;
        let mut postfix = 0;
        for raw in head.split(|&b| b == b'\n').take(50) {
            let raw = trim_line_end(raw);
            if raw.is_empty() {
                continue;
            }
            seen += 1;
            if let Some(line) = parse_syslog_line(raw, &mut line::YearGuess::fixed(2000))
                && line.is_postfix()
            {
                postfix += 1;
            }
        }
        postfix > 0 && postfix * 4 >= seen
    }

    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a> {
        Box::new(PostfixParser::new(ctx))
    }
}

/// Per-recipient correlation state.
#[derive(Debug, Default)]
struct Pending {
    attempts: u32,
    deferrals: u32,
    first_time: Option<Timestamp>,
    last_failure: Option<Event>,
    finished: bool,
}

/// Per-queue-id correlation state.
#[derive(Debug, Default)]
struct Message {
    sender: Option<String>,
    message_id: Option<String>,
    /// A bounce or delay notice (`from=<>`) or an address-verification probe: not the
    /// sender's mail.
    not_mail: bool,
    recipients: HashMap<String, Pending>,
    /// Order of arrival, for eviction.
    serial: u64,
}

pub struct PostfixParser<'a> {
    ctx: &'a Context<'a>,
    messages: HashMap<String, Message>,
    /// Queue ids of notices announced by bounce(8) before qmgr saw them.
    notices: HashMap<String, ()>,
    serial: u64,
    leftovers: Leftovers,
}

impl<'a> PostfixParser<'a> {
    pub fn new(ctx: &'a Context<'a>) -> PostfixParser<'a> {
        PostfixParser {
            ctx,
            messages: HashMap::new(),
            notices: HashMap::new(),
            serial: 0,
            leftovers: Leftovers::default(),
        }
    }

    fn message(&mut self, queue_id: &str) -> &mut Message {
        if !self.messages.contains_key(queue_id) {
            if self.messages.len() >= MAX_OPEN_MESSAGES {
                self.evict_oldest();
            }
            self.serial += 1;
            let not_mail = self.notices.remove(queue_id).is_some();
            self.messages.insert(
                queue_id.to_string(),
                Message {
                    serial: self.serial,
                    not_mail,
                    ..Message::default()
                },
            );
        }
        self.messages
            .get_mut(queue_id)
            .expect("inserted just above")
    }

    /// Drops the oldest tenth of the tracked messages, counting them.
    fn evict_oldest(&mut self) {
        let mut serials: Vec<u64> = self.messages.values().map(|m| m.serial).collect();
        serials.sort_unstable();
        let cut = serials[serials.len() / 10];
        let before = self.messages.len();
        self.messages.retain(|_, m| m.serial > cut);
        self.leftovers.evicted_messages += (before - self.messages.len()) as u64;
    }

    fn handle(
        &mut self,
        line: &LogLine<'_>,
        source: Source,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> Result<(), &'static str> {
        let Some((queue_id, rest)) = line.queue_id_and_rest() else {
            // No queue id: connection chatter, warnings, statistics, NOQUEUE rejects of
            // inbound mail. None is about a delivery of ours, unless it says so.
            if memchr::memmem::find(line.message, b" status=").is_some() {
                return Err("delivery record without a queue id");
            }
            tally.ignore(no_queue_id_kind(line));
            return Ok(());
        };
        let queue_id = String::from_utf8_lossy(queue_id);
        let agent = line.agent();

        if rest.starts_with(b"to=<") || rest.starts_with(b"to=") {
            return self.delivery_record(line, &queue_id, rest, source, tally, sink);
        }
        if agent == "qmgr" {
            if rest == b"removed" {
                self.removed(&queue_id, line, sink);
                tally.parsed += 1;
                return Ok(());
            }
            if let Some(from) = rest.strip_prefix(b"from=") {
                let (sender, tail) = angle_value(from);
                let expired = tail.starts_with(b", status=expired")
                    || tail.starts_with(b", status=force-expired");
                let msg = self.message(&queue_id);
                if msg.sender.is_none() {
                    msg.sender = Some(sender.to_string());
                }
                if sender.is_empty() {
                    msg.not_mail = true;
                }
                if expired {
                    self.expire(&queue_id, line, source, tally, sink);
                }
                tally.parsed += 1;
                return Ok(());
            }
            if rest.starts_with(b"skipped, still being delivered") {
                tally.ignore("queue status");
                return Ok(());
            }
            return Err("unknown qmgr record");
        }
        if let Some(value) = rest.strip_prefix(b"message-id=") {
            let (id, _) = angle_value(value);
            let msg = self.message(&queue_id);
            if msg.message_id.is_none() && !id.is_empty() {
                msg.message_id = Some(id.to_string());
            }
            tally.parsed += 1;
            return Ok(());
        }
        if agent == "pickup"
            && let Some(pos) = memchr::memmem::find(rest, b"from=")
        {
            let (sender, _) = angle_value(&rest[pos + 5..]);
            let msg = self.message(&queue_id);
            msg.sender.get_or_insert_with(|| sender.to_string());
            tally.parsed += 1;
            return Ok(());
        }
        if agent == "bounce" {
            // "sender non-delivery notification: 6F1E1B4087": the notice is a new
            // message; remember it so its own deliveries are not counted as mail.
            if let Some(pos) = memchr::memmem::find(rest, b" notification: ") {
                let notice = String::from_utf8_lossy(&rest[pos + 15..]).trim().to_string();
                if let Some(msg) = self.messages.get_mut(&notice) {
                    msg.not_mail = true;
                } else if !notice.is_empty() {
                    self.notices.insert(notice, ());
                }
                tally.parsed += 1;
                return Ok(());
            }
            return Err("unknown bounce record");
        }
        match known_queue_line(rest) {
            Some(kind) => {
                tally.ignore(kind);
                Ok(())
            }
            None => Err("unknown record for a queue id"),
        }
    }

    fn delivery_record(
        &mut self,
        line: &LogLine<'_>,
        queue_id: &str,
        rest: &[u8],
        source: Source,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> Result<(), &'static str> {
        let record = DeliveryRecord::parse(rest).ok_or("delivery record without status=")?;
        let action = match record.status {
            b"sent" => Action::Delivered,
            b"deferred" | b"SOFTBOUNCE" => Action::Deferred,
            b"bounced" => Action::Bounced,
            b"expired" => Action::Expired,
            // Address verification probes: "status=deliverable (...)".
            b"deliverable" | b"undeliverable" => {
                tally.ignore("address verification probe");
                return Ok(());
            }
            _ => return Err("unknown delivery status"),
        };
        let recipient = String::from_utf8_lossy(record.to).into_owned();
        let text = String::from_utf8_lossy(record.text).into_owned();
        let found = codes::extract(&text);
        let enhanced = record
            .dsn
            .and_then(|d| EnhancedCode::parse(&String::from_utf8_lossy(d)))
            .or(found.enhanced);
        let (relay_host, relay_ip) = split_relay(record.relay);
        let classifier = self.ctx.classifier;
        let msg = self.message(queue_id);
        let mut event = Event {
            time: line.time,
            source,
            recipient,
            sender: msg.sender.clone(),
            queue_id: Some(queue_id.to_string()),
            message_id: msg.message_id.clone(),
            relay_host,
            relay_ip,
            action,
            reply_code: found.reply,
            enhanced_code: enhanced,
            diagnostic: (!text.is_empty()).then_some(text),
            smtp_stage: None,
            agent: Some(line.program_str()),
            verdict: None,
        };
        if action.is_failure() {
            event.smtp_stage = crate::classify::detect_stage(event.diagnostic.as_deref().unwrap_or(""));
            classifier.classify_event(&mut event);
        }
        tally.parsed += 1;
        let not_mail = msg.not_mail;
        let pending = msg.recipients.entry(event.recipient.clone()).or_default();
        if pending.finished {
            // A second final record for the same recipient of the same message (an
            // alias listed twice): one delivery, already counted.
            return Ok(());
        }
        pending.attempts += 1;
        pending.first_time = pending.first_time.or(event.time);
        if not_mail {
            if action != Action::Deferred {
                pending.finished = true;
            }
            tally.ignore_parsed_as("bounce notice delivery");
            return Ok(());
        }
        tally.events += 1;
        sink.event(&event);
        match action {
            Action::Deferred | Action::Delayed => {
                pending.deferrals += 1;
                pending.last_failure = Some(event);
            }
            Action::Delivered | Action::Bounced | Action::Expired => {
                pending.finished = true;
                let outcome = match action {
                    Action::Delivered => Outcome::Delivered,
                    Action::Bounced => Outcome::Bounced,
                    _ => Outcome::Expired,
                };
                let last_failure = if outcome == Outcome::Delivered {
                    pending.last_failure.take()
                } else {
                    None
                };
                let delivery = Delivery {
                    queue_id: event.queue_id.clone(),
                    message_id: event.message_id.clone(),
                    sender: event.sender.clone(),
                    recipient: event.recipient.clone(),
                    outcome,
                    attempts: pending.attempts,
                    deferrals: pending.deferrals,
                    first_time: pending.first_time,
                    last: event,
                    last_failure,
                };
                sink.delivery(&delivery);
            }
        }
        Ok(())
    }

    /// qmgr "from=<...>, status=expired, returned to sender": every recipient still
    /// deferred has expired; its last temporary failure is the cause.
    fn expire(
        &mut self,
        queue_id: &str,
        line: &LogLine<'_>,
        source: Source,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) {
        let classifier = self.ctx.classifier;
        let Some(msg) = self.messages.get_mut(queue_id) else {
            return;
        };
        if msg.not_mail {
            return;
        }
        let mut expired: Vec<(&String, &mut Pending)> = msg
            .recipients
            .iter_mut()
            .filter(|(_, p)| !p.finished)
            .collect();
        // Deterministic order: by recipient address.
        expired.sort_by(|a, b| a.0.cmp(b.0));
        for (recipient, pending) in expired {
            pending.finished = true;
            let mut event = match pending.last_failure.take() {
                Some(last) => last,
                None => Event {
                    time: line.time,
                    source: source.clone(),
                    recipient: recipient.clone(),
                    sender: msg.sender.clone(),
                    queue_id: Some(queue_id.to_string()),
                    message_id: msg.message_id.clone(),
                    relay_host: None,
                    relay_ip: None,
                    action: Action::Expired,
                    reply_code: None,
                    enhanced_code: None,
                    diagnostic: None,
                    smtp_stage: None,
                    agent: None,
                    verdict: None,
                },
            };
            event.action = Action::Expired;
            event.time = line.time;
            event.source = source.clone();
            event.sender = event.sender.take().or_else(|| msg.sender.clone());
            event.message_id = event.message_id.take().or_else(|| msg.message_id.clone());
            event.agent = Some(line.program_str());
            if event.verdict.is_none() {
                classifier.classify_event(&mut event);
            }
            tally.events += 1;
            sink.event(&event);
            let delivery = Delivery {
                queue_id: Some(queue_id.to_string()),
                message_id: event.message_id.clone(),
                sender: event.sender.clone(),
                recipient: recipient.clone(),
                outcome: Outcome::Expired,
                attempts: pending.attempts,
                deferrals: pending.deferrals,
                first_time: pending.first_time,
                last: event,
                last_failure: None,
            };
            sink.delivery(&delivery);
        }
    }

    /// qmgr "removed": the queue file is gone. Recipients never finished (deleted by
    /// the administrator) end as pending.
    fn removed(&mut self, queue_id: &str, _line: &LogLine<'_>, sink: &mut dyn Sink) {
        if let Some(msg) = self.messages.remove(queue_id) {
            self.flush_pending(queue_id, msg, sink);
        }
    }

    fn flush_pending(&mut self, queue_id: &str, msg: Message, sink: &mut dyn Sink) {
        if msg.not_mail {
            return;
        }
        let mut pending: Vec<(String, Pending)> = msg
            .recipients
            .into_iter()
            .filter(|(_, p)| !p.finished)
            .collect();
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        for (recipient, p) in pending {
            let Some(last) = p.last_failure else { continue };
            self.leftovers.pending_deliveries += 1;
            sink.delivery(&Delivery {
                queue_id: Some(queue_id.to_string()),
                message_id: msg.message_id.clone(),
                sender: msg.sender.clone(),
                recipient,
                outcome: Outcome::Deferred,
                attempts: p.attempts,
                deferrals: p.deferrals,
                first_time: p.first_time,
                last,
                last_failure: None,
            });
        }
    }
}

impl Parser for PostfixParser<'_> {
    fn parse(
        &mut self,
        input: &mut dyn BufRead,
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        let file = &meta.file;
        let mut tally = Tally::new(NAME, file, "lines");
        let mut years = match self.ctx.year {
            Some(y) => line::YearGuess::fixed(y),
            None => line::YearGuess::infer(meta.mtime),
        };
        let mut buf = Vec::with_capacity(1024);
        let mut number = 0u64;
        loop {
            buf.clear();
            if input.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            // A lone CR also ends a line (old Mac files); split on it too.
            for raw in buf.split(|&b| b == b'\r') {
                let raw = trim_line_end(raw);
                if raw.is_empty() {
                    continue;
                }
                number += 1;
                tally.total += 1;
                let Some(line) = parse_syslog_line(raw, &mut years) else {
                    tally.unrecognized(number, "not a syslog line", raw, self.ctx.keep_unrecognized);
                    continue;
                };
                if !line.is_postfix() {
                    tally.ignore("other program");
                    continue;
                }
                let source = Source {
                    kind: NAME,
                    file: file.clone(),
                    line: number,
                };
                if let Err(reason) = self.handle(&line, source, &mut tally, sink) {
                    tally.unrecognized(number, reason, raw, self.ctx.keep_unrecognized);
                }
            }
        }
        Ok(tally)
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Leftovers {
        let mut open: Vec<(String, Message)> = self.messages.drain().collect();
        open.sort_by_key(|(_, m)| m.serial);
        self.leftovers.open_messages = open.len() as u64;
        for (queue_id, msg) in open {
            self.flush_pending(&queue_id, msg, sink);
        }
        self.notices.clear();
        std::mem::take(&mut self.leftovers)
    }
}

impl Tally {
    /// A line that was parsed (it fed correlation) but whose delivery is not counted
    /// as mail: keeps parsed + ignored + unrecognized == total.
    fn ignore_parsed_as(&mut self, kind: &'static str) {
        self.parsed -= 1;
        self.ignore(kind);
    }
}

/// Fields of a `to=<...>, ..., status=... (text)` record.
#[derive(Debug, Default)]
struct DeliveryRecord<'a> {
    to: &'a [u8],
    relay: &'a [u8],
    dsn: Option<&'a [u8]>,
    status: &'a [u8],
    text: &'a [u8],
}

impl<'a> DeliveryRecord<'a> {
    fn parse(rest: &'a [u8]) -> Option<DeliveryRecord<'a>> {
        let mut record = DeliveryRecord::default();
        let (to, mut tail) = angle_value_bytes(rest.strip_prefix(b"to=")?);
        record.to = to;
        // ", key=value" pairs up to status=; values hold no ", " except the text.
        loop {
            tail = tail.strip_prefix(b", ")?;
            if let Some(status) = tail.strip_prefix(b"status=") {
                let end = status
                    .iter()
                    .position(|&b| b == b' ' || b == b',')
                    .unwrap_or(status.len());
                record.status = &status[..end];
                let after = &status[end..];
                if let Some(open) = memchr::memchr(b'(', after) {
                    let inner = &after[open + 1..];
                    let close = memchr::memrchr(b')', inner).unwrap_or(inner.len());
                    record.text = &inner[..close];
                }
                return Some(record);
            }
            let end = memchr::memmem::find(tail, b", ").unwrap_or(tail.len());
            let (pair, next) = tail.split_at(end);
            if let Some(v) = pair.strip_prefix(b"relay=") {
                record.relay = v;
            } else if let Some(v) = pair.strip_prefix(b"dsn=") {
                record.dsn = Some(v);
            }
            tail = next;
        }
    }
}

/// `<value>rest` -> (value, rest); a bare value runs to the next `,` or space.
fn angle_value(b: &[u8]) -> (std::borrow::Cow<'_, str>, &[u8]) {
    let (v, rest) = angle_value_bytes(b);
    (String::from_utf8_lossy(v), rest)
}

fn angle_value_bytes(b: &[u8]) -> (&[u8], &[u8]) {
    if let Some(inner) = b.strip_prefix(b"<") {
        // Addresses may contain '>' only in quoted local parts; take the last '>'
        // before the next ", " field separator.
        let limit = memchr::memmem::find(inner, b">, ").map_or(inner.len(), |p| p + 1);
        let close = memchr::memrchr(b'>', &inner[..limit]).unwrap_or(limit.min(inner.len()));
        let rest = inner.get(close + 1..).unwrap_or(&[]);
        return (&inner[..close], rest);
    }
    let end = b
        .iter()
        .position(|&c| c == b',' || c == b' ')
        .unwrap_or(b.len());
    (&b[..end], &b[end..])
}

/// `host[ip]:port` -> (host, ip); `none`, `local`, `private/dovecot-lmtp` -> (name, None).
fn split_relay(relay: &[u8]) -> (Option<String>, Option<String>) {
    if relay.is_empty() || relay == b"none" {
        return (None, None);
    }
    let text = String::from_utf8_lossy(relay);
    if let Some(open) = text.find('[')
        && let Some(close) = text[open..].find(']')
    {
        let host = &text[..open];
        let ip = &text[open + 1..open + close];
        let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
        return (
            (!host.is_empty()).then(|| host.to_ascii_lowercase()),
            (!ip.is_empty()).then(|| ip.to_string()),
        );
    }
    (Some(text.to_ascii_lowercase()), None)
}

/// Known lines that carry a queue id but nothing for the analysis.
fn known_queue_line(rest: &[u8]) -> Option<&'static str> {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"client=", "inbound connection"),
        (b"uid=", "local submission"),
        (b"reject:", "inbound reject"),
        (b"reject_warning:", "inbound reject"),
        (b"milter-reject:", "inbound reject"),
        (b"milter-discard:", "inbound reject"),
        (b"milter-hold:", "queue status"),
        (b"proxy-reject:", "inbound reject"),
        (b"proxy-accept:", "inbound connection"),
        (b"discard:", "inbound reject"),
        (b"hold:", "queue status"),
        (b"redirect:", "queue status"),
        (b"filter:", "queue status"),
        (b"info:", "header check"),
        (b"warning:", "warning"),
        (b"replace:", "header check"),
        (b"prepend:", "header check"),
        (b"bcc:", "queue status"),
        (b"resent-message-id=", "message header"),
        (b"host ", "per-host reply"),
        (b"lost connection", "per-host reply"),
        (b"conversation with", "per-host reply"),
        (b"connect to ", "per-host reply"),
        (b"enabling PIX", "per-host reply"),
        (b"Cannot start TLS", "tls"),
        (b"TLS is required", "tls"),
        (b"SASL authentication failed", "per-host reply"),
        (b"sender delivery status notification", "notice"),
        (b"skipped", "queue status"),
        (b"requeue", "queue status"),
        (b"expired", "queue status"),
        (b"canceled", "queue status"),
        (b"held", "queue status"),
        (b"released", "queue status"),
        (b"deleted", "queue status"),
        (b"sender is", "queue status"),
        (b"orig_to=", "queue status"),
        (b"passing", "queue status"),
        (b"discarding", "queue status"),
        (b"BDAT", "per-host reply"),
        (b"timeout", "per-host reply"),
        (b"too many", "per-host reply"),
        (b"Untrusted TLS", "tls"),
        (b"Trusted TLS", "tls"),
        (b"Verified TLS", "tls"),
        (b"Anonymous TLS", "tls"),
        (b"server certificate", "tls"),
        (b"certificate verification", "tls"),
    ];
    KNOWN
        .iter()
        .find(|(prefix, _)| rest.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

fn no_queue_id_kind(line: &LogLine<'_>) -> &'static str {
    let m = line.message;
    if m.starts_with(b"NOQUEUE:") {
        "inbound reject"
    } else if m.starts_with(b"warning:") || m.starts_with(b"error:") || m.starts_with(b"fatal:") || m.starts_with(b"panic:") {
        "warning"
    } else if m.starts_with(b"connect from")
        || m.starts_with(b"disconnect from")
        || m.starts_with(b"lost connection")
        || m.starts_with(b"timeout after")
        || m.starts_with(b"too many errors")
        || m.starts_with(b"CONNECT")
        || m.starts_with(b"DISCONNECT")
        || m.starts_with(b"PASS ")
    {
        "connection"
    } else if memchr::memmem::find(m, b"TLS").is_some() || memchr::memmem::find(m, b"SSL").is_some() {
        "tls"
    } else if m.starts_with(b"statistics:") {
        "statistics"
    } else {
        "daemon message"
    }
}

#[cfg(test)]
mod tests;
