//! Postfix mail logs: syslog lines (classic, RFC 3339, journalctl short-iso) and
//! Postfix's own `maillog_file`, correlated by queue id into deliveries.
//!
//! Two phases: [`record`] turns each line into a compact record (fields split, codes
//! extracted, failures classified) with no shared state, and [`correlate`] applies the
//! records in input order. A large input is cut into chunks at line ends; chunks are
//! parsed on several threads and applied in order, so the result is the same as a
//! sequential run, whatever the thread count.

pub mod correlate;
pub mod line;
pub mod record;

use std::io::{self, BufRead};
use std::sync::Arc;

use crate::parse::input;
use crate::parse::ordered::Ordered;
use crate::parse::{Context, Format, InputMeta, Leftovers, Parser, Sink, Tally, trim_line_end};
use correlate::{Correlator, Position};
use line::YearGuess;
use record::{DeliveryLine, Memo, NameTable, Record};

pub use line::{LogLine, is_queue_id, parse_syslog_line};

pub const NAME: &str = "postfix";

pub struct PostfixFormat;

impl Format for PostfixFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Postfix if a quarter or more of the first lines are syslog lines from a Postfix
    /// daemon (and some of the first ten are syslog lines at all).
    fn sniff(&self, head: &[u8]) -> bool {
        let mut seen = 0;
        let mut syslog = 0;
        let mut postfix = 0;
        for raw in super::split_lf(head).take(50) {
            let raw = trim_line_end(raw);
            if raw.is_empty() {
                continue;
            }
            seen += 1;
            if line::may_be_syslog(raw)
                && let Some((line, _)) = line::parse_syslog_line_raw(raw)
            {
                syslog += 1;
                postfix += usize::from(line.is_postfix());
            } else if seen == 1 && starts_an_email(raw) {
                // An email (of a folder of thousands, each sniffed): no log starts so.
                return false;
            } else if seen == 10 && syslog == 0 {
                // Ten lines and not one of syslog's: not a log (an email of a folder of
                // thousands, sniffed once each).
                return false;
            }
        }
        postfix > 0 && postfix * 4 >= seen
    }

    fn parser<'a>(&self, ctx: &'a Context<'a>) -> Box<dyn Parser + 'a> {
        Box::new(PostfixParser::new(ctx))
    }
}

/// Whether a first line is an email's: an mbox `From ` line, or a header field whose
/// name is a word (`Return-Path:`, `X-Mailer:`). A log line's first word is a month, a
/// date with digits first, or a `<priority>`, and never ends in a colon.
fn starts_an_email(line: &[u8]) -> bool {
    if line.starts_with(b"From ") {
        return true;
    }
    let name_len = line
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .count();
    name_len > 0 && line[0].is_ascii_alphabetic() && line.get(name_len) == Some(&b':')
}

/// A chunk parsed: its buffers (the chunk itself, which the records' spans point into,
/// its records with their line numbers relative to the chunk, and the delivery lines
/// they index), with its counts and names.
struct ParsedChunk {
    buffers: Buffers,
    lines: u64,
    names: NameTable,
    ignored: IgnoredKinds,
}

/// Lines ignored, by kind. A handful of kinds, each a constant: looked up by address
/// first, which beats hashing the text on every ignored line (four in ten).
#[derive(Default)]
struct IgnoredKinds(Vec<(&'static str, u64)>);

impl IgnoredKinds {
    fn count(&mut self, kind: &'static str) {
        let same = |k: &&'static str| std::ptr::eq(*k, kind) || *k == kind;
        match self.0.iter_mut().find(|(k, _)| same(k)) {
            Some((_, n)) => *n += 1,
            None => self.0.push((kind, 1)),
        }
    }
}

/// A chunk's buffers: its bytes, its records and its delivery lines. An applied
/// chunk hands them back, emptied, for a later one: reused, they stay mapped and
/// sized, and are not freed on one thread after being filled on another.
#[derive(Default)]
struct Buffers {
    data: Vec<u8>,
    records: Vec<(u64, Record)>,
    /// The delivery records' lines, which [`Record::Delivery`] indexes.
    deliveries: Vec<DeliveryLine>,
}

/// Cuts the next chunk into `spare`'s byte buffer.
fn next_piece(
    input: &mut dyn BufRead,
    carry: &mut Vec<u8>,
    size: usize,
    spare: Option<Buffers>,
    failed: &mut Option<io::Error>,
) -> io::Result<Option<Buffers>> {
    let mut buffers = spare.unwrap_or_default();
    let data = next_chunk(
        input,
        carry,
        size,
        std::mem::take(&mut buffers.data),
        failed,
    )?;
    Ok(data.map(|data| Buffers { data, ..buffers }))
}

/// Parses a chunk of input, cut at a line end.
fn parse_chunk(mut buffers: Buffers, ctx: &Context<'_>, memo: &mut Memo) -> ParsedChunk {
    let Buffers {
        data: chunk,
        records,
        deliveries,
    } = &mut buffers;
    records.clear();
    deliveries.clear();
    // About one record per 280 bytes of a busy log: reserved once, not regrown (and
    // no more than a chunk of the usual size holds: a chunk grown around one giant
    // line has one record).
    records.reserve((chunk.len() / 256).min(16 << 10));
    let mut lines = 0;
    let mut names = NameTable::default();
    let mut ignored = IgnoredKinds::default();
    for_each_line(chunk, |raw| {
        lines += 1;
        if raw.is_empty() {
            ignored.count("blank line");
            return;
        }
        match record::parse_line(chunk, raw, &mut names, deliveries, ctx.classifier, memo) {
            Record::Ignored(kind) => ignored.count(kind),
            record => records.push((lines, record)),
        }
    });
    ParsedChunk {
        buffers,
        lines,
        names,
        ignored,
    }
}

/// Calls `f` for every line: LF, CRLF and a lone CR all end a line; a final line
/// without an end counts too.
fn for_each_line(data: &[u8], mut f: impl FnMut(&[u8])) {
    // Nearly every chunk has no CR: one pass proves it, and its lines are then the
    // pieces between LFs, but for the empty one after a final LF.
    if memchr::memchr(b'\r', data).is_none() {
        if !data.is_empty() {
            super::split_lf(data.strip_suffix(b"\n").unwrap_or(data)).for_each(f);
        }
        return;
    }
    let mut start = 0;
    while start < data.len() {
        let Some(p) = memchr::memchr2(b'\n', b'\r', &data[start..]) else {
            f(&data[start..]);
            return;
        };
        let end = start + p;
        f(&data[start..end]);
        // CRLF is one line end.
        start = if data[end] == b'\r' && data.get(end + 1) == Some(&b'\n') {
            end + 2
        } else {
            end + 1
        };
    }
}

/// Reads the next chunk: about `size` bytes cut after the last line end (LF, or CR
/// in a file without LF), or all that is left at the end of the input. A line longer
/// than a chunk grows the chunk. `carry` holds what was read past the previous cut;
/// `data` is the buffer to read into (a recycled one, or a new empty one).
fn next_chunk(
    input: &mut dyn BufRead,
    carry: &mut Vec<u8>,
    size: usize,
    mut data: Vec<u8>,
    failed: &mut Option<io::Error>,
) -> io::Result<Option<Vec<u8>>> {
    // A read error after some data (a truncated .gz) first hands over what was read.
    if let Some(e) = failed.take() {
        return Err(e);
    }
    // A recycled buffer keeps its length: its bytes are initialised already, so reads
    // go straight into it with no zero-filling, and its pages are mapped.
    if data.len() < carry.len() {
        data.resize(carry.len(), 0);
    }
    data[..carry.len()].copy_from_slice(carry);
    let mut filled = carry.len();
    carry.clear();
    // A request at least as large as the reader's buffer bypasses it: the bytes are
    // copied once, from the kernel into the chunk.
    let least = size.min(input::BUFFER);
    // data[..searched] is known to hold no line end.
    let mut searched = 0;
    loop {
        if filled >= size {
            let tail = &data[searched..filled];
            // A CR ends a line only in a file without LF, and not as the last byte
            // read: an LF may follow it in the next read.
            let cut = memchr::memrchr(b'\n', tail)
                .or_else(|| memchr::memrchr(b'\r', &tail[..tail.len().saturating_sub(1)]));
            if let Some(p) = cut {
                let end = searched + p + 1;
                carry.extend_from_slice(&data[end..filled]);
                data.truncate(end);
                return Ok(Some(data));
            }
            searched = filled;
        }
        let want = size.saturating_sub(filled).max(least);
        if data.len() < filled + want {
            data.resize(filled + want, 0);
        }
        // No more than asked for, though the buffer may be longer (one that held a
        // giant line): chunks stay near `size` and the pieces in flight small.
        let n = match input.read(&mut data[filled..filled + want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if filled == 0 => return Err(e),
            Err(e) => {
                *failed = Some(e);
                data.truncate(filled);
                return Ok(Some(data));
            }
        };
        if n == 0 {
            data.truncate(filled);
            return Ok((filled > 0).then_some(data));
        }
        filled += n;
    }
}

pub struct PostfixParser<'a> {
    ctx: &'a Context<'a>,
    correlator: Correlator,
    /// Recent verdicts and relay names, for the sequential path (each parser thread
    /// has its own).
    memo: Memo,
}

impl<'a> PostfixParser<'a> {
    pub fn new(ctx: &'a Context<'a>) -> PostfixParser<'a> {
        PostfixParser {
            ctx,
            correlator: Correlator::new(),
            memo: Memo::new(),
        }
    }

    /// Applies a parsed chunk in order; hands its buffers back for the next.
    fn apply(
        &mut self,
        chunk: ParsedChunk,
        base_line: u64,
        file: &Arc<str>,
        years: &mut YearGuess,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> Buffers {
        tally.total += chunk.lines;
        for (kind, n) in chunk.ignored.0 {
            tally.ignored += n;
            *tally.ignored_by_kind.entry(kind).or_insert(0) += n;
        }
        let name_map = self.correlator.map_names(&chunk.names.names);
        let mut buffers = chunk.buffers;
        let Buffers {
            data,
            records,
            deliveries,
        } = &mut buffers;
        for (line, record) in records.drain(..) {
            let at = Position {
                chunk: data,
                deliveries,
                file,
                line: base_line + line,
                years,
                keep_unrecognized: self.ctx.keep_unrecognized,
            };
            self.correlator
                .apply(record, &name_map, at, self.ctx.classifier, tally, sink);
        }
        buffers
    }

    fn parse_sequential(
        &mut self,
        input: &mut (dyn BufRead + Send),
        file: &Arc<str>,
        years: &mut YearGuess,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let mut carry = Vec::new();
        let mut base_line = 0;
        let mut spare = None;
        let mut failed = None;
        while let Some(piece) = next_piece(
            input,
            &mut carry,
            self.ctx.chunk_bytes,
            spare.take(),
            &mut failed,
        )? {
            let parsed = parse_chunk(piece, self.ctx, &mut self.memo);
            let lines = parsed.lines;
            spare = Some(self.apply(parsed, base_line, file, years, tally, sink));
            base_line += lines;
        }
        Ok(())
    }

    /// A reader thread cuts chunks, `threads - 1` workers (at least one) and this
    /// thread parse them, and this thread applies them in order (see [`Ordered`]).
    fn parse_parallel(
        &mut self,
        input: &mut (dyn BufRead + Send),
        file: &Arc<str>,
        years: &mut YearGuess,
        tally: &mut Tally,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let ctx = self.ctx;
        let mut carry = Vec::new();
        let mut failed = None;
        let mut base_line = 0u64;
        Ordered {
            // This thread applies the chunks in order, about 40% of the work, and
            // parses chunks itself while the next in order is not ready: one parser
            // thread fewer than the threads asked for (on two cores, two parsers
            // beside it cost 10% more CPU and time).
            threads: ctx.threads.saturating_sub(1).max(1),
            applier_works: true,
            cut: |spare| next_piece(input, &mut carry, ctx.chunk_bytes, spare, &mut failed),
            new_worker: Memo::new,
            work: |piece, memo: &mut Memo| parse_chunk(piece, ctx, memo),
            apply: |parsed: ParsedChunk| {
                let lines = parsed.lines;
                let buffer = self.apply(parsed, base_line, file, years, tally, sink);
                base_line += lines;
                Some(buffer)
            },
        }
        .run()
    }
}

impl Parser for PostfixParser<'_> {
    fn parse(
        &mut self,
        input: &mut (dyn BufRead + Send),
        meta: &InputMeta,
        sink: &mut dyn Sink,
    ) -> io::Result<Tally> {
        let file = &meta.file;
        let mut tally = Tally::new(NAME, file, "lines");
        let mut years = match self.ctx.year {
            Some(y) => YearGuess::fixed(y),
            None => YearGuess::infer(meta.mtime),
        };
        let read = if self.ctx.threads <= 1 {
            self.parse_sequential(input, file, &mut years, &mut tally, sink)
        } else {
            self.parse_parallel(input, file, &mut years, &mut tally, sink)
        };
        // What was read before the error stays counted; the error is reported beside it.
        if let Err(e) = read {
            tally.read_error = Some(format!("read error after line {}: {e}", tally.total));
        }
        Ok(tally)
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Leftovers {
        self.correlator.finish(sink)
    }
}

#[cfg(test)]
mod tests;
