//! Phase one of Postfix parsing: one line -> one [`Record`], with no shared state, so
//! chunks of a large log can be parsed on several threads. The costly work (splitting
//! fields, extracting codes, classifying failures) happens here; the correlation by
//! queue id ([`super::correlate`]) then runs in input order on compact records.

use std::sync::{Arc, LazyLock};

use memchr::memmem::Finder;

use super::line::{LogLine, parse_syslog_line_raw};
use crate::classify::{self, Classifier, Diagnosis, VerdictCache};
use crate::codes::{self, EnhancedCode, ReplyCode};
use crate::model::{Action, SmtpStage, Timestamp, Verdict};

/// A timestamp as the line wrote it. Classic syslog lines have no year; the
/// correlator, which sees lines in order, supplies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawTime {
    Absolute(Timestamp),
    /// Month 1-12, day, and microseconds since midnight.
    NoYear {
        month: u32,
        day: u32,
        micros: u64,
    },
}

/// A queue id on a host; the host is an index into the chunk's host table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawKey {
    pub host: u32,
    pub len: u8,
    pub id: [u8; 20],
}

impl RawKey {
    pub fn new(host: u32, queue_id: &[u8]) -> RawKey {
        let mut id = [0u8; 20];
        let len = queue_id.len().min(20);
        let src = &queue_id[..len];
        // Two fixed-size copies that overlap in the middle cover any length from
        // their size to twice it: the compiler inlines them, where a copy of a
        // variable length calls memcpy (which showed on every line with a queue id).
        match len {
            16.. => {
                id[..16].copy_from_slice(&src[..16]);
                id[len - 16..len].copy_from_slice(&src[len - 16..]);
            }
            8.. => {
                id[..8].copy_from_slice(&src[..8]);
                id[len - 8..len].copy_from_slice(&src[len - 8..]);
            }
            4.. => {
                id[..4].copy_from_slice(&src[..4]);
                id[len - 4..len].copy_from_slice(&src[len - 4..]);
            }
            _ => id[..len].copy_from_slice(src),
        }
        RawKey {
            host,
            len: len as u8,
            id,
        }
    }
}

/// A byte range of the chunk a record was parsed from. Records point into their chunk
/// instead of copying: the parser threads allocate nothing per record, and the
/// correlating thread copies only what it keeps (a copy made on one thread and freed
/// on another is the allocator's slowest path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: usize,
    len: usize,
}

impl Span {
    /// The span of `part` within `base`; `part` must be a slice of `base` unless it is
    /// empty (an empty field may be a constant `&[]`).
    fn of(base: &[u8], part: &[u8]) -> Span {
        if part.is_empty() {
            return Span::default();
        }
        let start = (part.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
        debug_assert!(
            start
                .checked_add(part.len())
                .is_some_and(|end| end <= base.len()),
            "a slice of the chunk"
        );
        Span {
            start,
            len: part.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes of the span in the chunk it was made from.
    pub fn bytes<'a>(&self, chunk: &'a [u8]) -> &'a [u8] {
        self.start
            .checked_add(self.len)
            .and_then(|end| chunk.get(self.start..end))
            .unwrap_or(&[])
    }

    /// The span's text; invalid UTF-8 is replaced, as everywhere in the model.
    pub fn text(&self, chunk: &[u8]) -> String {
        lossy(self.bytes(chunk))
    }

    /// The span's text as a shared string, copied once (no intermediate `String`).
    pub fn shared(&self, chunk: &[u8]) -> Arc<str> {
        Arc::from(text_of(self.bytes(chunk)).as_ref())
    }
}

/// A `to=<...>, ..., status=...` line, parsed and (for failures) classified.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryLine {
    pub key: RawKey,
    pub time: RawTime,
    pub recipient: Span,
    /// The `relay=` field as written (`host[ip]:port`, `none`, `local`); split into
    /// shared names by the correlating thread, so that no reference count is shared
    /// between threads.
    pub relay: Span,
    pub action: Action,
    pub reply_code: Option<ReplyCode>,
    pub enhanced_code: Option<EnhancedCode>,
    /// The reply text, at most [`MAX_DIAGNOSTIC`] bytes; empty when there is none.
    pub diagnostic: Span,
    pub smtp_stage: Option<SmtpStage>,
    /// Index of the program name (`postfix/smtp`) in the chunk's [`NameTable`].
    pub program: u32,
    pub verdict: Option<Verdict>,
}

/// Longest diagnostic text kept from a delivery record, in bytes.
pub const MAX_DIAGNOSTIC: usize = 8 << 10;

/// What one line means for the analysis.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A delivery attempt or result: the index of its [`DeliveryLine`] in the chunk's
    /// list of deliveries. A chunk holds thousands of records, most of them far
    /// smaller; one list per chunk, rather than a box per line, saves an allocation
    /// per delivery (freed on another thread) and is read in order.
    Delivery(u32),
    /// qmgr `from=<...>, size=..., nrcpt=...`, or `from=<...>, status=expired, returned
    /// to sender` when `expired`.
    From {
        key: RawKey,
        time: RawTime,
        sender: Span,
        expired: bool,
        program: u32,
    },
    /// pickup `uid=... from=<...>`.
    SubmittedBy { key: RawKey, sender: Span },
    /// cleanup `message-id=<...>`.
    MessageId { key: RawKey, message_id: Span },
    /// qmgr `removed`.
    Removed { key: RawKey },
    /// bounce(8) `sender non-delivery notification: QID`: `key` is the notice.
    Notice { key: RawKey },
    /// Understood, nothing for the analysis.
    Ignored(&'static str),
    /// Not understood: the reason and the line (cut to 500 bytes).
    Unrecognized { reason: &'static str, text: String },
}

/// Needles searched on every line: built once.
struct Needles {
    status: Finder<'static>,
    notification: Finder<'static>,
    from: Finder<'static>,
    to: Finder<'static>,
    tls: Finder<'static>,
}

static NEEDLES: LazyLock<Needles> = LazyLock::new(|| Needles {
    status: Finder::new(b" status="),
    notification: Finder::new(b" notification: "),
    from: Finder::new(b"from="),
    to: Finder::new(b"to=<"),
    tls: Finder::new(b"TLS"),
});

/// Interns the host and program names of one chunk: a log has a handful of each,
/// and records carry their index instead of a copy.
#[derive(Debug, Default)]
pub struct NameTable {
    pub names: Vec<Vec<u8>>,
}

impl NameTable {
    pub fn index(&mut self, name: &[u8]) -> u32 {
        // A handful of names, many of one length (postfix/smtp, postfix/qmgr): the
        // last byte tells most apart without a call to memcmp.
        let same = |n: &Vec<u8>| n.len() == name.len() && n.last() == name.last() && n == name;
        match self.names.iter().position(same) {
            Some(i) => i as u32,
            None => {
                self.names.push(name.to_vec());
                (self.names.len() - 1) as u32
            }
        }
    }
}

/// Parses one non-empty line of `chunk` (its spans are relative to `chunk`); `memo`
/// remembers recent verdicts and relay names.
pub fn parse_line(
    chunk: &[u8],
    raw: &[u8],
    names: &mut NameTable,
    deliveries: &mut Vec<DeliveryLine>,
    classifier: &Classifier,
    memo: &mut Memo,
) -> Record {
    let unrecognized = |reason| Record::Unrecognized {
        reason,
        text: String::from_utf8_lossy(&raw[..raw.len().min(500)]).into_owned(),
    };
    let Some((line, time)) = parse_syslog_line_raw(raw) else {
        return unrecognized("not a syslog line");
    };
    if !line.is_postfix() {
        return Record::Ignored("other program");
    }
    match parse_postfix(chunk, &line, time, names, deliveries, classifier, memo) {
        Ok(record) => record,
        Err(reason) => unrecognized(reason),
    }
}

fn parse_postfix(
    chunk: &[u8],
    line: &LogLine<'_>,
    time: RawTime,
    names: &mut NameTable,
    deliveries: &mut Vec<DeliveryLine>,
    classifier: &Classifier,
    memo: &mut Memo,
) -> Result<Record, &'static str> {
    let n = &*NEEDLES;
    let Some((queue_id, rest)) = line.queue_id_and_rest() else {
        // No queue id: connection chatter, warnings, statistics, NOQUEUE rejects of
        // inbound mail. None is about a delivery of ours, unless it says so.
        if n.status.find(line.message).is_some() && n.to.find(line.message).is_some() {
            return Err("delivery record without a queue id");
        }
        return Ok(Record::Ignored(no_queue_id_kind(line.message)));
    };
    let key = RawKey::new(names.index(line.host), queue_id);
    let agent = line.agent_bytes();
    if rest.starts_with(b"to=") {
        let program = names.index(line.program);
        let d = delivery_line(chunk, key, time, rest, program, classifier, memo)?;
        let Some(d) = d else {
            return Ok(Record::Ignored("address verification probe"));
        };
        deliveries.push(d);
        return Ok(Record::Delivery((deliveries.len() - 1) as u32));
    }
    // postsuper(1) -d logs "removed" for a message the administrator deleted.
    if agent == b"postsuper" {
        return Ok(if rest == b"removed" {
            Record::Removed { key }
        } else {
            Record::Ignored("queue status")
        });
    }
    if agent == b"qmgr" || agent == b"nqmgr" || agent == b"oqmgr" {
        if rest == b"removed" {
            return Ok(Record::Removed { key });
        }
        if let Some(from) = rest.strip_prefix(b"from=") {
            let (sender, tail) = angle_value(from);
            let expired = tail.starts_with(b", status=expired")
                || tail.starts_with(b", status=force-expired");
            return Ok(Record::From {
                key,
                time,
                sender: Span::of(chunk, sender),
                expired,
                program: names.index(line.program),
            });
        }
        if rest.starts_with(b"skipped, still being delivered") {
            return Ok(Record::Ignored("queue status"));
        }
        return Err("unknown qmgr record");
    }
    if let Some(value) = rest.strip_prefix(b"message-id=") {
        let (id, _) = angle_value(value);
        return Ok(Record::MessageId {
            key,
            message_id: Span::of(chunk, id),
        });
    }
    if agent == b"pickup"
        && let Some(pos) = n.from.find(rest)
    {
        let (sender, _) = angle_value(&rest[pos + 5..]);
        return Ok(Record::SubmittedBy {
            key,
            sender: Span::of(chunk, sender),
        });
    }
    // bounce(8): "sender non-delivery notification: 6F1E1B4087"; the notice is a new
    // message whose own deliveries are not the sender's mail.
    if (rest.starts_with(b"sender ") || rest.starts_with(b"postmaster "))
        && let Some(pos) = n.notification.find(rest)
    {
        let notice = rest[pos + 15..].trim_ascii();
        if super::line::is_queue_id(notice) {
            return Ok(Record::Notice {
                key: RawKey::new(key.host, notice),
            });
        }
    }
    if agent == b"bounce" {
        return Err("unknown bounce record");
    }
    match known_queue_line(rest) {
        Some(kind) => Ok(Record::Ignored(kind)),
        None => Err("unknown record for a queue id"),
    }
}

/// Borrowed when valid UTF-8 (nearly always, and checked faster than the lossy scan
/// does), replaced otherwise.
fn text_of(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

fn lossy(b: &[u8]) -> String {
    text_of(b).into_owned()
}

fn lowercase(b: &[u8]) -> String {
    let mut s = lossy(b);
    s.make_ascii_lowercase();
    s
}

/// A `to=<...>` record; `None` for an address verification probe.
#[allow(clippy::too_many_arguments)]
fn delivery_line(
    chunk: &[u8],
    key: RawKey,
    time: RawTime,
    rest: &[u8],
    program: u32,
    classifier: &Classifier,
    memo: &mut Memo,
) -> Result<Option<DeliveryLine>, &'static str> {
    let fields = Fields::parse(rest).ok_or("delivery record without status=")?;
    let action = match fields.status {
        b"sent" => Action::Delivered,
        b"deferred" | b"SOFTBOUNCE" => Action::Deferred,
        b"bounced" => Action::Bounced,
        b"expired" => Action::Expired,
        // Address verification probes: "status=deliverable (...)".
        b"deliverable" | b"undeliverable" | b"undeliverable-but-not-cached" => {
            return Ok(None);
        }
        _ => return Err("unknown delivery status"),
    };
    // A real reply is a few hundred bytes; a runaway line must not make a giant event.
    let text_bytes = &fields.text[..fields.text.len().min(MAX_DIAGNOSTIC)];
    let mut d = DeliveryLine {
        key,
        time,
        recipient: Span::of(chunk, fields.to),
        relay: Span::of(chunk, fields.relay),
        action,
        reply_code: None,
        enhanced_code: fields
            .dsn
            .and_then(|d| EnhancedCode::parse(std::str::from_utf8(d).ok()?)),
        diagnostic: Span::of(chunk, text_bytes),
        smtp_stage: None,
        program,
        verdict: None,
    };
    // Successful deliveries need no codes beyond dsn=: their text is the remote's "250
    // ok" and the per-line cost matters on large logs.
    if action.is_failure() {
        // The same reply again (a log repeats many of them word for word): codes,
        // stage and verdict as worked out the first time. Only when no rule tests the
        // relay or the domain, which the text does not carry.
        let memoize = text_bytes.len() <= MAX_MEMO_TEXT
            && !classifier.uses_relay()
            && !classifier.uses_domain();
        if memoize
            && let Some(seen) = memo.replies.get(text_bytes)
            && seen.dsn == d.enhanced_code
        {
            d.reply_code = seen.reply_code;
            d.enhanced_code = seen.enhanced_code;
            d.smtp_stage = seen.stage;
            d.verdict = Some(seen.verdict.clone());
            return Ok(Some(d));
        }
        let dsn = d.enhanced_code;
        let text = text_of(text_bytes);
        let found = codes::extract(&text);
        d.reply_code = found.reply;
        d.enhanced_code = d.enhanced_code.or(found.enhanced);
        d.smtp_stage = classify::detect_stage(&text);
        // Only a user's rule can test the relay or the domain; the built-in table
        // never does, and then neither is worked out.
        let relay = classifier
            .uses_relay()
            .then(|| relay_parts(fields.relay).0.map(lowercase))
            .flatten();
        let domain = classifier
            .uses_domain()
            .then(|| crate::model::domain_of(&text_of(fields.to)).into_owned());
        d.verdict = Some(memo.verdicts.classify(
            classifier,
            &Diagnosis {
                reply_code: d.reply_code,
                enhanced_code: d.enhanced_code,
                text: &text,
                relay: relay.as_deref(),
                domain: domain.as_deref(),
                stage: d.smtp_stage,
            },
        ));
        if memoize && let Some(verdict) = &d.verdict {
            memo.replies.insert(
                text_bytes,
                Replied {
                    dsn,
                    reply_code: d.reply_code,
                    enhanced_code: d.enhanced_code,
                    stage: d.smtp_stage,
                    verdict: verdict.clone(),
                },
            );
        }
    } else {
        // "250 2.0.0 Ok: queued as ..." : a success names its code up front.
        d.reply_code = codes::leading_reply(text_bytes);
    }
    Ok(Some(d))
}

/// Fields of a `to=<...>, ..., status=... (text)` record.
#[derive(Debug, Default)]
struct Fields<'a> {
    to: &'a [u8],
    relay: &'a [u8],
    dsn: Option<&'a [u8]>,
    status: &'a [u8],
    text: &'a [u8],
}

impl<'a> Fields<'a> {
    fn parse(rest: &'a [u8]) -> Option<Fields<'a>> {
        let mut f = Fields::default();
        let (to, mut tail) = angle_value(rest.strip_prefix(b"to=")?);
        f.to = to;
        // ", key=value" pairs up to status=; no value before it holds ", ".
        loop {
            tail = tail.strip_prefix(b", ")?;
            if let Some(status) = tail.strip_prefix(b"status=") {
                let end = status
                    .iter()
                    .position(|&b| b == b' ' || b == b',')
                    .unwrap_or(status.len());
                f.status = &status[..end];
                let after = &status[end..];
                if let Some(open) = memchr::memchr(b'(', after) {
                    let inner = &after[open + 1..];
                    let close = memchr::memrchr(b')', inner).unwrap_or(inner.len());
                    f.text = &inner[..close];
                }
                return Some(f);
            }
            let end = find_short(tail, b", ").unwrap_or(tail.len());
            let (pair, next) = tail.split_at(end);
            if let Some(v) = pair.strip_prefix(b"relay=") {
                f.relay = v;
            } else if let Some(v) = pair.strip_prefix(b"dsn=") {
                f.dsn = Some(v);
            }
            tail = next;
        }
    }
}

/// Where a short needle first occurs: a search for its first byte and a check of the
/// rest beat a substring searcher on these short fields.
fn find_short(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    memchr::memchr_iter(first, hay).find(|&p| hay[p + 1..].starts_with(rest))
}

/// `<value>rest` -> (value, rest); a bare value runs to the next `,` or space.
fn angle_value(b: &[u8]) -> (&[u8], &[u8]) {
    if let Some(inner) = b.strip_prefix(b"<") {
        // A quoted local part may hold '>': take the last '>' before the next field.
        let limit = find_short(inner, b">, ").map_or(inner.len(), |p| p + 1);
        let close = memchr::memrchr(b'>', &inner[..limit]).unwrap_or(limit);
        let rest = inner.get(close + 1..).unwrap_or(&[]);
        return (&inner[..close.min(inner.len())], rest);
    }
    let end = b
        .iter()
        .position(|&c| c == b',' || c == b' ')
        .unwrap_or(b.len());
    (&b[..end], &b[end..])
}

/// Per-thread memory of the line parser: recent verdicts.
#[derive(Default)]
pub struct Memo {
    pub verdicts: VerdictCache,
    /// Recent failure replies, word for word, and what they gave.
    replies: Recent<Replied>,
}

/// What a failure reply gave: its codes, stage and verdict, for the `dsn=` code it
/// came with (which takes precedence over a code in the text).
#[derive(Debug, Clone)]
struct Replied {
    dsn: Option<EnhancedCode>,
    reply_code: Option<ReplyCode>,
    enhanced_code: Option<EnhancedCode>,
    stage: Option<SmtpStage>,
    verdict: Verdict,
}

/// Longest reply the word-for-word memo keeps.
const MAX_MEMO_TEXT: usize = 1024;

impl Memo {
    pub fn new() -> Memo {
        Memo::default()
    }
}

/// Relay names, split once and shared: a log names the same few thousand MX hosts
/// over and over; each is copied once and then shared by every event that names it.
#[derive(Debug, Default)]
pub struct RelayNames {
    hosts: Recent<Arc<str>>,
    ips: Recent<Arc<str>>,
    /// Whole relay fields already split: a log repeats the same few thousand
    /// `host[ip]:port` values, so one lookup usually answers.
    relays: Recent<RelayPair>,
}

pub type RelayPair = (Option<Arc<str>>, Option<Arc<str>>);

impl RelayNames {
    /// `host[ip]:port` -> (host, ip), the host lowercased; `none` -> nothing; `local`,
    /// `private/dovecot-lmtp` -> (name, None).
    pub fn split(&mut self, relay: &[u8]) -> RelayPair {
        let (hosts, ips) = (&mut self.hosts, &mut self.ips);
        self.relays.get_or_insert_with(relay, || {
            let shared = |names: &mut Recent<Arc<str>>, raw: &[u8]| {
                names.get_or_insert_with(raw, || Arc::from(lowercase(raw)))
            };
            let (host, ip) = relay_parts(relay);
            (host.map(|h| shared(hosts, h)), ip.map(|i| shared(ips, i)))
        })
    }
}

/// The host and address of a relay field, as written.
fn relay_parts(relay: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    if relay.is_empty() || relay == b"none" {
        return (None, None);
    }
    if let Some(open) = memchr::memchr(b'[', relay)
        && let Some(close) = memchr::memchr(b']', &relay[open..])
    {
        let host = &relay[..open];
        let ip = &relay[open + 1..open + close];
        let ip = ip.strip_prefix(b"IPv6:").unwrap_or(ip);
        // "host[private/dovecot-lmtp]": a socket path, not an address.
        let ip: &[u8] = if ip.contains(&b'/') { b"" } else { ip };
        return (
            (!host.is_empty()).then_some(host),
            (!ip.is_empty()).then_some(ip),
        );
    }
    (Some(relay), None)
}

/// Values of recently seen byte strings, bounded (under 1 MB of keys): it starts
/// over when full.
#[derive(Debug)]
struct Recent<V>(rustc_hash::FxHashMap<Box<[u8]>, V>);

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent(rustc_hash::FxHashMap::default())
    }
}

impl<V: Clone> Recent<V> {
    const CAPACITY: usize = 4096;

    fn get(&self, raw: &[u8]) -> Option<&V> {
        self.0.get(raw)
    }

    fn insert(&mut self, raw: &[u8], value: V) {
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        self.0.insert(Box::from(raw), value);
    }

    fn get_or_insert_with(&mut self, raw: &[u8], make: impl FnOnce() -> V) -> V {
        if let Some(value) = self.get(raw) {
            return value.clone();
        }
        let value = make();
        self.insert(raw, value.clone());
        value
    }
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
        (b"milter-", "header check"),
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
        (b"skipped", "queue status"),
        (b"requeue", "queue status"),
        (b"canceled", "queue status"),
        (b"held", "queue status"),
        (b"released", "queue status"),
        (b"deleted", "queue status"),
        (b"sender is", "queue status"),
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

fn no_queue_id_kind(m: &[u8]) -> &'static str {
    let starts = |p: &[u8]| m.starts_with(p);
    if starts(b"NOQUEUE:") {
        "inbound reject"
    } else if starts(b"warning:") || starts(b"error:") || starts(b"fatal:") || starts(b"panic:") {
        "warning"
    } else if starts(b"connect from")
        || starts(b"disconnect from")
        || starts(b"lost connection")
        || starts(b"timeout after")
        || starts(b"too many errors")
        || starts(b"CONNECT")
        || starts(b"DISCONNECT")
        || starts(b"PASS ")
        || starts(b"connect to ")
    {
        "connection"
    } else if NEEDLES.tls.find(m).is_some() || starts(b"SSL") {
        "tls"
    } else if starts(b"statistics:") {
        "statistics"
    } else {
        "daemon message"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_key_holds_the_queue_id_of_any_length() {
        let long = b"0123456789abcdefghijklmnopqrstuv";
        for len in 0..=long.len() {
            let key = RawKey::new(7, &long[..len]);
            let kept = len.min(20);
            assert_eq!(usize::from(key.len), kept);
            assert_eq!(&key.id[..kept], &long[..kept], "length {len}");
            assert!(key.id[kept..].iter().all(|&b| b == 0), "length {len}");
        }
    }

    #[test]
    fn relay_names_are_lowercased_shared_and_bounded() {
        let mut memo = RelayNames::default();
        let (host, ip) = memo.split(b"MX1.Example.ORG[192.0.2.1]:25");
        assert_eq!(host.as_deref(), Some("mx1.example.org"));
        assert_eq!(ip.as_deref(), Some("192.0.2.1"));
        let (again, _) = memo.split(b"MX1.Example.ORG[192.0.2.1]:25");
        assert!(Arc::ptr_eq(&host.unwrap(), &again.unwrap()));
        assert_eq!(memo.split(b"none"), (None, None));
        // A byte that is not UTF-8 is replaced, and the name still lowercased.
        let (odd, _) = memo.split(b"MX\xff.Example[192.0.2.9]:25");
        assert_eq!(odd.as_deref(), Some("mx\u{fffd}.example"));
        assert_eq!(
            memo.split(b"mail[private/dovecot-lmtp]"),
            (Some(Arc::from("mail")), None)
        );
        for i in 0..Recent::<Arc<str>>::CAPACITY * 2 + 3 {
            let relay = format!("mx{i}.example[2001:db8::{i:x}]:25");
            let (host, _) = memo.split(relay.as_bytes());
            assert_eq!(host.as_deref(), Some(format!("mx{i}.example").as_str()));
            assert!(memo.hosts.0.len() <= Recent::<Arc<str>>::CAPACITY);
            assert!(memo.relays.0.len() <= Recent::<RelayPair>::CAPACITY);
        }
    }
}
