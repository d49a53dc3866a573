//! Input formats: the parser trait, the one registry of formats, format detection and
//! the per-file tallies that account for every line.
//!
//! Adding a format is one file in this folder plus one line in [`FORMATS`]; the CLI's
//! `--input-format` choices and content sniffing come from the registry.

pub mod dsn;
pub mod export;
pub mod input;
pub mod ordered;
pub mod postfix;

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::Arc;

use serde::Serialize;

use crate::classify::Classifier;
use crate::model::{Delivery, Event};

/// Receives what parsers produce, as they produce it, so nothing is collected whole.
pub trait Sink {
    /// One delivery attempt or result, failures already classified.
    fn event(&mut self, event: &Event);
    /// One (message, recipient) pair whose outcome is known or, at the end of input,
    /// still pending.
    fn delivery(&mut self, delivery: &Delivery);

    /// [`Sink::event`] with the event given away: a recorder keeps it without a copy.
    fn owned_event(&mut self, event: Event) {
        self.event(&event);
    }

    /// An event that ends its delivery at once (a bounce notice's recipient): the
    /// event, then the delivery made from it, given away as one.
    fn final_event(&mut self, delivery: Delivery) {
        self.event(&delivery.last);
        self.delivery(&delivery);
    }
}

/// What a parser emitted, kept so it can be passed on later, in input order (the
/// parallel paths record on workers and replay on the thread that owns the sink).
#[derive(Default)]
pub struct Recorded {
    items: Vec<Emitted>,
}

enum Emitted {
    Event(Box<Event>),
    Delivery(Box<Delivery>),
    /// The delivery's last event, then the delivery.
    Final(Box<Delivery>),
}

impl Sink for Recorded {
    fn event(&mut self, event: &Event) {
        self.items.push(Emitted::Event(Box::new(event.clone())));
    }

    fn delivery(&mut self, delivery: &Delivery) {
        self.items
            .push(Emitted::Delivery(Box::new(delivery.clone())));
    }

    fn owned_event(&mut self, event: Event) {
        self.items.push(Emitted::Event(Box::new(event)));
    }

    fn final_event(&mut self, delivery: Delivery) {
        self.items.push(Emitted::Final(Box::new(delivery)));
    }
}

impl Recorded {
    /// Classifies the failures recorded without a verdict.
    pub fn classify(&mut self, classifier: &Classifier) {
        for item in &mut self.items {
            let event = match item {
                Emitted::Event(e) => &mut **e,
                Emitted::Delivery(d) | Emitted::Final(d) => &mut d.last,
            };
            if event.verdict.is_none() {
                classifier.classify_event(event);
            }
        }
    }

    /// Passes everything on, in the order it was emitted.
    pub fn replay(&self, sink: &mut dyn Sink) {
        for item in &self.items {
            match item {
                Emitted::Event(e) => sink.event(e),
                Emitted::Delivery(d) => sink.delivery(d),
                Emitted::Final(d) => {
                    sink.event(&d.last);
                    sink.delivery(d);
                }
            }
        }
    }
}

/// Settings every parser gets.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub classifier: &'a Classifier,
    /// Year for syslog timestamps without one; `None` infers it from the file.
    pub year: Option<i32>,
    /// Keep at most this many unrecognized lines per file for `--show-unparsed`.
    pub keep_unrecognized: usize,
    /// Worker threads for parsing; 1 parses on the calling thread.
    pub threads: usize,
    /// Size of the pieces a large input is cut into for the workers.
    pub chunk_bytes: usize,
    /// `--preset` and `--map` for CSV and JSON exports.
    pub export: export::ExportOptions,
    /// Failures may be left unclassified, for the caller to classify a batch of
    /// files' at once (see [`Recorded::classify`]).
    pub classify_later: bool,
}

impl<'a> Context<'a> {
    /// Defaults: every core, 4 MiB chunks, 1000 unrecognized lines kept per file.
    pub fn new(classifier: &'a Classifier) -> Context<'a> {
        Context {
            classifier,
            year: None,
            keep_unrecognized: 1000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_bytes: 2 << 20,
            export: export::ExportOptions::default(),
            classify_later: false,
        }
    }
}

/// What a parser knows about the input it reads.
#[derive(Debug, Clone)]
pub struct InputMeta {
    /// The name shown in reports and `source.file`.
    pub file: Arc<str>,
    /// (year, month) of the file's modification time, for syslog years.
    pub mtime: Option<(i32, u32)>,
}

/// A line (message, row) that no parser rule understood.
#[derive(Debug, Clone, Serialize)]
pub struct Unrecognized {
    pub line: u64,
    pub reason: &'static str,
    pub text: String,
}

/// How every unit (line, message, row) of one input was accounted for:
/// `parsed + ignored + unrecognized == total`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Input format name from the registry.
    pub format: &'static str,
    pub file: String,
    /// What a unit is: `lines`, `messages` or `rows`.
    pub unit: &'static str,
    pub total: u64,
    /// Units that produced an event or fed the correlation state.
    pub parsed: u64,
    /// Units that are understood and carry nothing for the analysis, by kind.
    pub ignored: u64,
    pub ignored_by_kind: BTreeMap<&'static str, u64>,
    pub unrecognized: u64,
    /// For exports: the preset that read the file (detected or `--preset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<&'static str>,
    /// Events emitted from this input.
    pub events: u64,
    /// The first unrecognized units, for `--show-unparsed`.
    #[serde(skip)]
    pub unrecognized_samples: Vec<Unrecognized>,
    /// Set when reading stopped early (a truncated .gz); the counts cover what was read.
    #[serde(skip)]
    pub read_error: Option<String>,
}

impl Tally {
    pub fn new(format: &'static str, file: &str, unit: &'static str) -> Tally {
        Tally {
            format,
            file: file.to_string(),
            unit,
            ..Tally::default()
        }
    }

    pub fn ignore(&mut self, kind: &'static str) {
        self.ignored += 1;
        *self.ignored_by_kind.entry(kind).or_insert(0) += 1;
    }

    pub fn unrecognized(&mut self, line: u64, reason: &'static str, text: &[u8], keep: usize) {
        self.unrecognized += 1;
        if self.unrecognized_samples.len() < keep {
            let shown = &text[..text.len().min(500)];
            self.unrecognized_samples.push(Unrecognized {
                line,
                reason,
                text: String::from_utf8_lossy(shown).into_owned(),
            });
        }
    }

    /// Adds the counts of a later part of the same input (parsed apart, in parallel);
    /// its unrecognized samples follow ours up to `keep`.
    pub fn merge(&mut self, part: Tally, keep: usize) {
        self.total += part.total;
        self.parsed += part.parsed;
        self.ignored += part.ignored;
        for (kind, n) in part.ignored_by_kind {
            *self.ignored_by_kind.entry(kind).or_insert(0) += n;
        }
        self.unrecognized += part.unrecognized;
        self.events += part.events;
        let room = keep.saturating_sub(self.unrecognized_samples.len());
        self.unrecognized_samples
            .extend(part.unrecognized_samples.into_iter().take(room));
        self.preset = self.preset.or(part.preset);
        if self.read_error.is_none() {
            self.read_error = part.read_error;
        }
    }

    /// True when every unit is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.parsed + self.ignored + self.unrecognized == self.total
    }
}

/// Totals a parser reports once all its inputs are read: state left incomplete.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Leftovers {
    /// Deliveries still pending (no final status) when the input ended.
    pub pending_deliveries: u64,
    /// Messages whose queue entry was never removed.
    pub open_messages: u64,
    /// Correlation state dropped to bound memory.
    pub evicted_messages: u64,
    /// Deferred recipients not tracked because one message had too many.
    pub evicted_recipients: u64,
}

impl Leftovers {
    /// Adds another parser's or file's leftovers to these.
    pub fn add(&mut self, other: &Leftovers) {
        self.pending_deliveries += other.pending_deliveries;
        self.open_messages += other.open_messages;
        self.evicted_messages += other.evicted_messages;
        self.evicted_recipients += other.evicted_recipients;
    }
}

/// A parser instance: may keep correlation state across the files it is fed, in order.
pub trait Parser {
    fn parse(
        &mut self,
        input: &mut (dyn BufRead + Send),
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally>;

    /// [`Parser::parse`] of an input already in memory (a small file read whole while
    /// sniffing), which a format may read in place.
    fn parse_bytes(
        &mut self,
        bytes: &[u8],
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        self.parse(&mut io::Cursor::new(bytes), meta, sink)
    }

    /// Ends the run: flushes state still open as pending deliveries.
    fn finish(&mut self, sink: &mut dyn Sink) -> Leftovers;
}

/// One input format.
pub trait Format: Sync {
    /// The one spelling used by `--input-format`, fixtures and JSON `source.kind`.
    fn name(&self) -> &'static str;
    /// Whether the first bytes of an input look like this format.
    fn sniff(&self, head: &[u8]) -> bool;
    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a>;

    /// True when files of this format share no state (one email or export per file),
    /// so the pipeline may parse several at once, each with its own parser.
    fn independent_files(&self) -> bool {
        false
    }
}

/// Every format, in sniffing order.
pub static FORMATS: &[&dyn Format] = &[
    &postfix::PostfixFormat,
    &dsn::DsnFormat,
    &export::CsvFormat,
    &export::JsonFormat,
];

pub fn format_names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name()).collect()
}

pub fn format_by_name(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// The first registered format that claims these bytes.
pub fn detect(head: &[u8]) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.sniff(head))
}

/// Where the pieces of `bytes` between line feeds lie, as `bytes.split(|&b| b ==
/// b'\n')` cuts them (a last empty piece after a final line feed included), found by
/// memchr. Line feeds are char boundaries, so the ranges cut a `str` as well (see
/// `dsn::text::split_lf`).
pub fn lf_pieces(bytes: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + Clone + '_ {
    // One iterator over the line feeds, rather than a search started at every piece.
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match ends.next() {
            Some(end) => {
                start = Some(end + 1);
                Some(from..end)
            }
            None => {
                start = None;
                Some(from..bytes.len())
            }
        }
    })
}

/// The pieces of `bytes` between line feeds (see [`lf_pieces`]): format sniffing
/// splits the head of every input, a whole folder of emails included.
pub fn split_lf(bytes: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    lf_pieces(bytes).map(move |range| &bytes[range])
}

/// Strips the line end (LF, CRLF, CR) from a line.
pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::split_lf;

    #[test]
    fn split_lf_gives_the_pieces_split_gives() {
        let cases: [&[u8]; 8] = [
            b"",
            b"\n",
            b"\n\n",
            b"one",
            b"one\n",
            b"one\ntwo",
            b"one\r\n\ntwo\n\nthree\n",
            b"\nlead\n\n\ntrail",
        ];
        for case in cases {
            let expected: Vec<&[u8]> = case.split(|&b| b == b'\n').collect();
            assert_eq!(split_lf(case).collect::<Vec<_>>(), expected, "{case:?}");
        }
    }
}
