//! Phase two of Postfix parsing: apply [`Record`]s in input order to the per-queue-id
//! state and emit events and deliveries.
//!
//! Per queue id it keeps the sender, the message-id and the recipients not yet final.
//! A recipient is final at `status=sent`/`bounced`, or when qmgr logs `status=expired,
//! returned to sender`, which expires every recipient still deferred with its last
//! temporary failure as the cause. Bounce notices (`from=<>`, or announced by bounce(8))
//! are not the sender's mail. State is dropped at qmgr `removed`, and evicted (counted)
//! when more than [`MAX_OPEN_MESSAGES`] are open.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::line::YearGuess;
use super::record::{DeliveryLine, RawKey, Record, RelayNames, Span};
use crate::classify::Classifier;
use crate::model::{Action, Delivery, Event, Outcome, Source, Timestamp, campaign_of};
use crate::parse::{Leftovers, Sink, Tally};

/// At most this many messages are tracked at once; older ones are evicted and counted,
/// so a log whose queue ids are never removed cannot grow memory without bound.
pub const MAX_OPEN_MESSAGES: usize = 100_000;

/// At most this many deferred recipients are tracked per message; past it a new one is
/// not tracked (its final record still counts, with no deferral history; a message-level
/// expiry cannot name it) and is counted as evicted.
pub const MAX_PENDING_PER_MESSAGE: usize = 100_000;

/// A queue id is unique only on its host: logs of several MTAs interleave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct QueueKey {
    host: u32,
    len: u8,
    id: [u8; 20],
}

impl QueueKey {
    fn id(&self) -> Arc<str> {
        Arc::from(String::from_utf8_lossy(&self.id[..usize::from(self.len)]).as_ref())
    }
}

#[derive(Debug, Default)]
struct Pending {
    attempts: u32,
    deferrals: u32,
    first_time: Option<Timestamp>,
    /// Boxed: a message's recipient table reserves several slots, and most of them
    /// stay empty; an inline event would make each slot a few hundred bytes.
    last_failure: Option<Box<Event>>,
}

#[derive(Debug, Default)]
struct Message {
    /// Shared by every event of the message: cloning one is a count, not a copy.
    queue_id: Option<Arc<str>>,
    sender: Option<Arc<str>>,
    /// The campaign named by the sender, worked out once when the sender is known
    /// rather than again for every delivery record.
    campaign: Option<Arc<str>>,
    message_id: Option<Arc<str>>,
    /// A bounce or delay notice: not the sender's mail.
    not_mail: bool,
    recipients: PendingRecipients,
    /// Order of arrival, for eviction.
    serial: u64,
}

/// The deferred recipients of one message. Nearly every message has none or one,
/// and a message stays open for as long as its retries last: a short list, exactly
/// sized, takes a fifth of the memory of the smallest hash table; a long one becomes a
/// table.
#[derive(Debug)]
enum PendingRecipients {
    Few(Vec<(Arc<str>, Pending)>),
    Many(HashMap<Arc<str>, Pending>),
}

impl Default for PendingRecipients {
    fn default() -> Self {
        PendingRecipients::Few(Vec::new())
    }
}

impl PendingRecipients {
    /// Past this many a list becomes a table.
    const FEW: usize = 8;

    fn len(&self) -> usize {
        match self {
            PendingRecipients::Few(list) => list.len(),
            PendingRecipients::Many(table) => table.len(),
        }
    }

    fn contains(&self, recipient: &str) -> bool {
        match self {
            PendingRecipients::Few(list) => list.iter().any(|(r, _)| **r == *recipient),
            PendingRecipients::Many(table) => table.contains_key(recipient),
        }
    }

    fn remove(&mut self, recipient: &str) -> Option<Pending> {
        match self {
            PendingRecipients::Few(list) => {
                let i = list.iter().position(|(r, _)| **r == *recipient)?;
                Some(list.swap_remove(i).1)
            }
            PendingRecipients::Many(table) => table.remove(recipient),
        }
    }

    /// The slot of a recipient, made empty when it has none yet.
    fn slot(&mut self, recipient: &Arc<str>) -> &mut Pending {
        // One scan of a list, whatever follows.
        let found = match self {
            PendingRecipients::Few(list) => list.iter().position(|(r, _)| r == recipient),
            PendingRecipients::Many(_) => None,
        };
        if found.is_none()
            && let PendingRecipients::Few(list) = self
            && list.len() >= Self::FEW
        {
            *self = PendingRecipients::Many(std::mem::take(list).into_iter().collect());
        }
        match self {
            PendingRecipients::Few(list) => {
                let i = found.unwrap_or_else(|| {
                    // Exactly sized: most lists never grow past one.
                    list.reserve_exact(1);
                    list.push((recipient.clone(), Pending::default()));
                    list.len() - 1
                });
                &mut list[i].1
            }
            PendingRecipients::Many(table) => table.entry(recipient.clone()).or_default(),
        }
    }

    /// All of them, taken out, in no particular order.
    fn take_all(&mut self) -> Vec<(Arc<str>, Pending)> {
        match std::mem::take(self) {
            PendingRecipients::Few(list) => list,
            PendingRecipients::Many(table) => table.into_iter().collect(),
        }
    }
}

/// Correlation state, fed records in input order across all files of a run.
#[derive(Debug)]
pub struct Correlator {
    messages: HashMap<QueueKey, Message>,
    notices: HashMap<QueueKey, ()>,
    /// Global host and program names; chunks map their local indexes here.
    names: Vec<Vec<u8>>,
    /// The same names, shared by the events (`Event::mta_host`, `Event::agent`).
    shared_names: Vec<Arc<str>>,
    /// Relay names split on this thread: the events that share them are made and
    /// dropped here, so their reference counts never move between cores.
    relays: RelayNames,
    serial: u64,
    leftovers: Leftovers,
}

impl Message {
    /// The first sender named (qmgr or pickup) wins, with the campaign it names.
    fn set_sender(&mut self, sender: Span, chunk: &[u8]) {
        if self.sender.is_none() {
            let sender = sender.shared(chunk);
            self.campaign = campaign_of(&sender).map(Arc::from);
            self.sender = Some(sender);
        }
    }
}

/// The text of a delivery record, copied out of its chunk.
struct DeliveryText {
    recipient: Arc<str>,
    diagnostic: Option<String>,
    relay_host: Option<Arc<str>>,
    relay_ip: Option<Arc<str>>,
}

/// Where the records being applied come from.
pub struct Position<'a> {
    /// The chunk the records were parsed from: their spans point into it.
    pub chunk: &'a [u8],
    /// The chunk's delivery lines, indexed by [`Record::Delivery`]; each is taken
    /// apart as it is applied.
    pub deliveries: &'a mut [DeliveryLine],
    pub file: &'a Arc<str>,
    pub line: u64,
    pub years: &'a mut YearGuess,
    pub keep_unrecognized: usize,
}

impl Correlator {
    pub fn new() -> Correlator {
        Correlator {
            messages: HashMap::default(),
            notices: HashMap::default(),
            names: Vec::new(),
            shared_names: Vec::new(),
            relays: RelayNames::default(),
            serial: 0,
            leftovers: Leftovers::default(),
        }
    }

    /// Maps a chunk's name table to global indexes.
    pub fn map_names(&mut self, chunk_names: &[Vec<u8>]) -> Vec<u32> {
        chunk_names
            .iter()
            .map(|h| match self.names.iter().position(|g| g == h) {
                Some(i) => i as u32,
                None => {
                    self.names.push(h.clone());
                    self.shared_names
                        .push(Arc::from(String::from_utf8_lossy(h).as_ref()));
                    (self.names.len() - 1) as u32
                }
            })
            .collect()
    }

    /// The shared name of a chunk's local name index.
    fn name(&self, local: u32, name_map: &[u32]) -> Option<Arc<str>> {
        let global = *name_map.get(local as usize)?;
        self.shared_names.get(global as usize).cloned()
    }

    fn key(raw: RawKey, name_map: &[u32]) -> QueueKey {
        QueueKey {
            host: name_map.get(raw.host as usize).copied().unwrap_or(u32::MAX),
            len: raw.len,
            id: raw.id,
        }
    }

    fn message(&mut self, key: QueueKey) -> &mut Message {
        // One hash lookup on the common path; the full-table check only when full.
        if self.messages.len() >= MAX_OPEN_MESSAGES && !self.messages.contains_key(&key) {
            self.evict_oldest();
        }
        match self.messages.entry(key) {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(slot) => {
                self.serial += 1;
                let not_mail = !self.notices.is_empty() && self.notices.remove(&key).is_some();
                slot.insert(Message {
                    queue_id: Some(key.id()),
                    serial: self.serial,
                    not_mail,
                    ..Message::default()
                })
            }
        }
    }

    /// Drops the oldest tenth of the tracked messages, counting them.
    fn evict_oldest(&mut self) {
        let mut serials: Vec<u64> = self.messages.values().map(|m| m.serial).collect();
        serials.sort_unstable();
        let cut = serials[serials.len() / 10];
        let before = self.messages.len();
        self.messages.retain(|_, m| m.serial > cut);
        self.leftovers.evicted_messages += (before - self.messages.len()) as u64;
        if self.notices.len() > MAX_OPEN_MESSAGES {
            self.notices.clear();
        }
    }

    /// Applies one record; counts it in `tally`.
    pub fn apply(
        &mut self,
        record: Record,
        name_map: &[u32],
        at: Position<'_>,
        classifier: &Classifier,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) {
        let source = |line| Source {
            kind: super::NAME,
            file: at.file.clone(),
            line,
        };
        match record {
            Record::Ignored(kind) => tally.ignore(kind),
            Record::Unrecognized { reason, text } => {
                tally.unrecognized(at.line, reason, text.as_bytes(), at.keep_unrecognized);
            }
            Record::Delivery(i) => {
                // An index always names one of the chunk's deliveries.
                let Some(d) = at.deliveries.get_mut(i as usize) else {
                    return;
                };
                let time = at.years.resolve(d.time);
                let key = Self::key(d.key, name_map);
                let agent = self.name(d.program, name_map);
                let (relay_host, relay_ip) = self.relays.split(d.relay.bytes(at.chunk));
                let text = DeliveryText {
                    recipient: d.recipient.shared(at.chunk),
                    diagnostic: (!d.diagnostic.is_empty()).then(|| d.diagnostic.text(at.chunk)),
                    relay_host,
                    relay_ip,
                };
                self.delivery(d, text, key, agent, time, source(at.line), tally, sink);
            }
            Record::From {
                key,
                time,
                sender,
                expired,
                program,
            } => {
                let time = at.years.resolve(time);
                let key = Self::key(key, name_map);
                let program = self.name(program, name_map);
                let msg = self.message(key);
                if sender.is_empty() {
                    msg.not_mail = true;
                }
                msg.set_sender(sender, at.chunk);
                tally.parsed += 1;
                if expired {
                    self.expire(key, time, source(at.line), program, classifier, tally, sink);
                }
            }
            Record::SubmittedBy { key, sender } => {
                self.message(Self::key(key, name_map))
                    .set_sender(sender, at.chunk);
                tally.parsed += 1;
            }
            Record::MessageId { key, message_id } => {
                let msg = self.message(Self::key(key, name_map));
                if msg.message_id.is_none() && !message_id.is_empty() {
                    msg.message_id = Some(message_id.shared(at.chunk));
                }
                tally.parsed += 1;
            }
            Record::Removed { key } => {
                let key = Self::key(key, name_map);
                if let Some(msg) = self.messages.remove(&key) {
                    self.flush_pending(msg, sink);
                }
                tally.parsed += 1;
            }
            Record::Notice { key } => {
                let key = Self::key(key, name_map);
                match self.messages.get_mut(&key) {
                    Some(msg) => msg.not_mail = true,
                    None => {
                        self.notices.insert(key, ());
                    }
                }
                tally.parsed += 1;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &mut self,
        d: &mut DeliveryLine,
        text: DeliveryText,
        key: QueueKey,
        agent: Option<Arc<str>>,
        time: Option<Timestamp>,
        source: Source,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) {
        let mta_host = self.shared_names.get(key.host as usize).cloned();
        let msg = self.message(key);
        let campaign = msg.campaign.clone();
        let event = Event {
            time,
            source,
            recipient: text.recipient,
            sender: msg.sender.clone(),
            queue_id: msg.queue_id.clone(),
            message_id: msg.message_id.clone(),
            relay_host: text.relay_host,
            relay_ip: text.relay_ip,
            action: d.action,
            reply_code: d.reply_code,
            enhanced_code: d.enhanced_code,
            diagnostic: text.diagnostic,
            smtp_stage: d.smtp_stage,
            agent,
            verdict: d.verdict.take(),
            mta_host,
            campaign,
            step: None,
            extra: None,
        };
        let final_outcome = match event.action {
            Action::Deferred | Action::Delayed => None,
            Action::Delivered => Some(Outcome::Delivered),
            Action::Bounced => Some(Outcome::Bounced),
            Action::Expired => Some(Outcome::Expired),
        };
        // A recipient is tracked only while it has deferrals and no final status; a
        // final status removes it, so the same address listed twice in one message
        // (Postfix delivers and logs it twice) is a second delivery.
        let mut pending = match final_outcome {
            Some(_) => msg.recipients.remove(&event.recipient).unwrap_or_default(),
            None => Pending::default(),
        };
        let not_mail = msg.not_mail;
        if not_mail {
            tally.ignore("bounce notice delivery");
            return;
        }
        tally.parsed += 1;
        tally.events += 1;
        sink.event(&event);
        let Some(outcome) = final_outcome else {
            if msg.recipients.len() >= MAX_PENDING_PER_MESSAGE
                && !msg.recipients.contains(&event.recipient)
            {
                self.leftovers.evicted_recipients += 1;
                return;
            }
            let slot = msg.recipients.slot(&event.recipient);
            slot.attempts += 1;
            slot.deferrals += 1;
            slot.first_time = slot.first_time.or(event.time);
            slot.last_failure = Some(Box::new(event));
            return;
        };
        pending.attempts += 1;
        pending.first_time = pending.first_time.or(event.time);
        let mut delivery = Delivery::from_last(
            event,
            outcome,
            pending.attempts,
            pending.deferrals,
            pending.first_time,
        );
        if outcome == Outcome::Delivered {
            delivery.last_failure = pending.last_failure.take().map(|e| *e);
        }
        sink.delivery(&delivery);
    }

    /// Every recipient still deferred has expired; its last temporary failure is the
    /// cause.
    #[allow(clippy::too_many_arguments)]
    fn expire(
        &mut self,
        key: QueueKey,
        time: Option<Timestamp>,
        source: Source,
        program: Option<Arc<str>>,
        classifier: &Classifier,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) {
        let Some(msg) = self.messages.get_mut(&key) else {
            return;
        };
        if msg.not_mail {
            return;
        }
        let mut expired = msg.recipients.take_all();
        // Deterministic order: by recipient address.
        expired.sort_by(|a, b| a.0.cmp(&b.0));
        for (recipient, mut pending) in expired {
            let mut event = pending.last_failure.take().map_or_else(
                || Event {
                    time,
                    source: source.clone(),
                    recipient: recipient.clone(),
                    sender: None,
                    queue_id: msg.queue_id.clone(),
                    message_id: None,
                    relay_host: None,
                    relay_ip: None,
                    action: Action::Expired,
                    reply_code: None,
                    enhanced_code: None,
                    diagnostic: None,
                    smtp_stage: None,
                    agent: None,
                    verdict: None,
                    mta_host: None,
                    campaign: None,
                    step: None,
                    extra: None,
                },
                |e| *e,
            );
            event.action = Action::Expired;
            event.time = time;
            event.source = source.clone();
            event.sender = event.sender.take().or_else(|| msg.sender.clone());
            event.message_id = event.message_id.take().or_else(|| msg.message_id.clone());
            event.agent = program.clone();
            if event.mta_host.is_none() {
                event.mta_host = self.shared_names.get(key.host as usize).cloned();
            }
            if event.campaign.is_none() {
                event.campaign = event.sender.as_deref().and_then(campaign_of).map(Arc::from);
            }
            if event.verdict.is_none() {
                classifier.classify_event(&mut event);
            }
            tally.events += 1;
            sink.event(&event);
            // The event is this recipient's last deferral (or one made for it, with
            // this queue id), so the delivery takes its identity from it.
            sink.delivery(&Delivery::from_last(
                event,
                Outcome::Expired,
                pending.attempts,
                pending.deferrals,
                pending.first_time,
            ));
        }
    }

    /// Recipients of a message that never became final (deleted by the administrator,
    /// or still queued at the end of the input) end as pending.
    fn flush_pending(&mut self, mut msg: Message, sink: &mut dyn Sink) {
        if msg.not_mail {
            return;
        }
        let mut pending = msg.recipients.take_all();
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, p) in pending {
            let Some(mut last) = p.last_failure.map(|e| *e) else {
                continue;
            };
            // The sender or message-id may have been logged after the last deferral.
            last.sender = last.sender.or_else(|| msg.sender.clone());
            last.message_id = last.message_id.or_else(|| msg.message_id.clone());
            self.leftovers.pending_deliveries += 1;
            sink.delivery(&Delivery {
                outcome: Outcome::Deferred,
                attempts: p.attempts,
                deferrals: p.deferrals,
                first_time: p.first_time,
                last,
                last_failure: None,
            });
        }
    }

    /// Ends the run: messages still open flush their pending recipients.
    pub fn finish(&mut self, sink: &mut dyn Sink) -> Leftovers {
        let mut open: Vec<Message> = self.messages.drain().map(|(_, m)| m).collect();
        open.sort_by_key(|m| m.serial);
        self.leftovers.open_messages = open.len() as u64;
        for msg in open {
            self.flush_pending(msg, sink);
        }
        self.notices.clear();
        std::mem::take(&mut self.leftovers)
    }
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::new()
    }
}
