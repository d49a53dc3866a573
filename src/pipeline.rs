//! Orchestration: expand the input paths; open and sniff each on the threads, parsing
//! the small files of stateless formats (a folder's emails) where they were read; and
//! stream the rest through one parser per format into a sink, logs last and oldest
//! first. Inputs that cannot be read are reported and skipped; the others are still
//! processed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::Timestamp;
use crate::parse::input::{self, InputPath, Opened};
use crate::parse::ordered::Ordered;
use crate::parse::postfix::{self, LogLine};
use crate::parse::{self, Context, Format, InputMeta, Leftovers, Parser, Recorded, Sink, Tally};
use crate::report::InputRow;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    /// Forces one format instead of sniffing.
    pub format: Option<&'static dyn Format>,
    pub year: Option<i32>,
    pub keep_unrecognized: usize,
    /// Unrecognized input is an input error (`--strict`).
    pub strict: bool,
    /// Hash the local parts of addresses before any report sees them (`--redact`).
    pub redact: bool,
}

impl std::fmt::Debug for dyn Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug)]
pub struct RunResult {
    pub inputs: Vec<InputRow>,
    pub leftovers: Leftovers,
    /// Some input could not be read or its format not detected.
    pub input_errors: usize,
}

/// An input to parse on the calling thread, streamed into the sink.
struct Planned {
    name: String,
    path: PathBuf,
    format: &'static dyn Format,
    first_time: Option<Timestamp>,
    mtime: Option<(i32, u32)>,
    /// Standard input or a pipe cannot be reopened: it stays open from sniffing.
    kept: Option<Opened>,
}

/// What the sniffing pass made of one input.
enum Sniffed {
    /// A file of a stateless format small enough to parse where it was sniffed, its
    /// events held until its turn (see [`POOLED_FILE_MAX`]).
    Parsed(FileOutcome),
    /// An input for the calling thread: at its turn when its format is stateless (a
    /// big mbox or export, standard input), else once every other input is read (a
    /// log, whose files are read oldest first).
    Planned(Box<Planned>),
    /// Could not be opened, or its format not detected.
    Failed(InputRow),
}

pub fn run(options: &RunOptions, ctx: &Context<'_>, sink: &mut dyn Sink) -> RunResult {
    let mut result = if options.redact {
        run_inner(options, ctx, &mut crate::redact::RedactSink { inner: sink })
    } else {
        run_inner(options, ctx, sink)
    };
    for input in &mut result.inputs {
        if options.redact {
            for u in &mut input.tally.unrecognized_samples {
                u.text = crate::redact::text(&u.text);
            }
        }
        if options.strict && input.tally.unrecognized > 0 && input.error.is_none() {
            input.error = Some(format!(
                "{} unrecognized {} (--strict; --show-unparsed lists them)",
                input.tally.unrecognized, input.tally.unit
            ));
            result.input_errors += 1;
        }
    }
    result
}

fn run_inner(options: &RunOptions, ctx: &Context<'_>, sink: &mut dyn Sink) -> RunResult {
    let expanded = input::expand(&options.paths);
    let mut run = Streams {
        // Every path gets its row. Lists of ten thousand files' rows are sized up
        // front: grown by doubling, each copy lands in fresh memory.
        inputs: Vec::with_capacity(expanded.len()),
        ..Streams::default()
    };
    let mut paths = Vec::with_capacity(expanded.len());
    for path in expanded {
        match path {
            Ok(path) => paths.push(path),
            Err(e) => run.failed(error_row(String::new(), e.to_string())),
        }
    }
    // One pass in input order opens and sniffs every input on the threads, and parses
    // the small files of a stateless format (the emails of a Maildir) there and then:
    // each file is read once, into a buffer its worker reuses.
    let mut logs = Vec::new();
    sniff_all(&paths, options, ctx, |sniffed| {
        match sniffed {
            Sniffed::Parsed(outcome) => return Some(run.parsed(outcome, sink)),
            Sniffed::Failed(row) => run.failed(row),
            Sniffed::Planned(p) if p.format.independent_files() => run.stream(*p, ctx, sink),
            Sniffed::Planned(p) => logs.push(*p),
        }
        None
    });
    // Rotated logs named on the command line newest first (maillog maillog.1 ...) are
    // read oldest first, so a message spanning two files correlates.
    logs.sort_by(|a, b| {
        let rank = |p: &Planned| {
            parse::FORMATS
                .iter()
                .position(|f| f.name() == p.format.name())
        };
        rank(a)
            .cmp(&rank(b))
            .then(a.first_time.is_none().cmp(&b.first_time.is_none()))
            .then(a.first_time.cmp(&b.first_time))
    });
    for p in logs {
        run.stream(p, ctx, sink);
    }
    run.finish(sink)
}

/// The calling thread's side of a run: one parser per format for the inputs streamed
/// through it, and every input's row.
#[derive(Default)]
struct Streams<'a> {
    parsers: HashMap<&'static str, Box<dyn Parser + 'a>>,
    /// Formats in the order their parsers were made, which is the order they finish.
    order: Vec<&'static str>,
    inputs: Vec<InputRow>,
    leftovers: Leftovers,
    input_errors: usize,
}

impl<'a> Streams<'a> {
    fn failed(&mut self, row: InputRow) {
        self.inputs.push(row);
        self.input_errors += 1;
    }

    fn row(&mut self, row: InputRow) {
        self.input_errors += usize::from(row.error.is_some());
        self.inputs.push(row);
    }

    /// Replays a parsed file into the sink; returns its recording, spent.
    fn parsed(&mut self, outcome: FileOutcome, sink: &mut dyn Sink) -> Recorded {
        outcome.recorded.replay(sink);
        self.leftovers.add(&outcome.leftovers);
        self.row(outcome.row);
        outcome.recorded
    }

    /// Parses one input into the sink with its format's parser, which uses the
    /// threads itself where its format can.
    fn stream(&mut self, p: Planned, ctx: &'a Context<'a>, sink: &mut dyn Sink) {
        let format_name = p.format.name();
        let parser = self.parsers.entry(format_name).or_insert_with(|| {
            self.order.push(format_name);
            p.format.parser(ctx)
        });
        let opened = match p.kept {
            Some(opened) => opened,
            None => match input::open(&p.path) {
                Ok(opened) => opened,
                Err(e) => return self.failed(error_row(p.name, e.to_string())),
            },
        };
        let meta = InputMeta {
            file: Arc::from(p.name.as_str()),
            mtime: p.mtime,
        };
        let row = parsed_row(p.name, parser.parse(&mut opened.into_reader(), &meta, sink));
        self.row(row);
    }

    fn finish(mut self, sink: &mut dyn Sink) -> RunResult {
        for name in &self.order {
            if let Some(parser) = self.parsers.get_mut(name) {
                let l = parser.finish(sink);
                self.leftovers.add(&l);
            }
        }
        RunResult {
            inputs: self.inputs,
            leftovers: self.leftovers,
            input_errors: self.input_errors,
        }
    }
}

/// Files up to this size (on disk, uncompressed) are parsed on a worker, their events
/// held until their turn; bigger ones stream straight into the sink, so memory does not
/// grow with a big mbox or export (at most `threads + 2` batches of files wait). A
/// returned attachment rarely makes an email bigger.
const POOLED_FILE_MAX: usize = 4 << 20;

/// Inputs go to a worker in batches of up to this many, so a Maildir of thousands of
/// bounces does not cost a thread hand-off per file.
const BATCH_FILES: usize = 64;

struct FileOutcome {
    row: InputRow,
    leftovers: Leftovers,
    recorded: Recorded,
}

/// Opens and sniffs every path on `ctx.threads` workers that live for the whole pass
/// (so each keeps its read buffer and its warm regex caches), parses the small files
/// of stateless formats there, and hands what became of each path to `done` in input
/// order. `done` gives back the recordings it has replayed, to be dropped on a worker
/// with a later batch: a worker made their strings, and the allocator frees memory on
/// the thread that took it for a third of what a free from another thread costs.
fn sniff_all(
    paths: &[InputPath],
    options: &RunOptions,
    ctx: &Context<'_>,
    mut done: impl FnMut(Sniffed) -> Option<Recorded>,
) {
    if paths.is_empty() {
        return;
    }
    let inner = Context {
        threads: 1,
        classify_later: true,
        ..ctx.clone()
    };
    let threads = ctx.threads.clamp(1, paths.len());
    // Batches small enough that a few dozen files still keep every worker busy.
    let batch_files = (paths.len() / (threads * 4)).clamp(1, BATCH_FILES);
    let mut next = 0;
    Ordered {
        threads,
        applier_works: false,
        cut: |spent: Option<Vec<Recorded>>| {
            let start = next;
            next = paths.len().min(start + batch_files);
            Ok((next > start).then_some((start..next, spent)))
        },
        new_worker: Vec::new,
        work: |(range, spent): (std::ops::Range<usize>, Option<Vec<Recorded>>),
               buffer: &mut Vec<u8>|
         -> Vec<Sniffed> {
            drop(spent);
            let mut batch: Vec<Sniffed> = paths[range]
                .iter()
                .map(|path| sniff_one(path, options, &inner, buffer))
                .collect();
            // The batch's failures together: the classifier's tables stay in the
            // cache from one to the next.
            for sniffed in &mut batch {
                if let Sniffed::Parsed(outcome) = sniffed {
                    outcome.recorded.classify(ctx.classifier);
                }
            }
            batch
        },
        apply: |batch: Vec<Sniffed>| Some(batch.into_iter().filter_map(&mut done).collect()),
    }
    .run()
    .expect("handing out path indexes reads nothing, so it cannot fail");
}

/// Opens one input into `buffer` and detects its format; parses it at once when it
/// is a small file of a stateless format. `buffer` gets the memory back for the next.
fn sniff_one(
    input: &InputPath,
    options: &RunOptions,
    ctx: &Context<'_>,
    buffer: &mut Vec<u8>,
) -> Sniffed {
    let opened = match input::open_reusing(input, std::mem::take(buffer)) {
        Ok(opened) => opened,
        Err(e) => {
            let name = input.path.display().to_string();
            return Sniffed::Failed(error_row(name, e.to_string()));
        }
    };
    let format = match options.format {
        Some(f) => f,
        // An empty file holds nothing to mis-detect; read it as the first format so it
        // is still listed with zero lines.
        None if opened.sniff_head().is_empty() => parse::FORMATS[0],
        None => match parse::detect(opened.sniff_head()) {
            Some(f) => f,
            None => {
                let message = format!(
                    "could not detect the input format (known: {}); use --input-format",
                    parse::format_names().join(", ")
                );
                // The buffer goes back to the worker, as after a file it parsed.
                *buffer = opened.head;
                return Sniffed::Failed(error_row(opened.name, message));
            }
        },
    };
    // Standard input or a pipe is read once: it stays open from sniffing.
    let read_once = opened.size.is_none();
    if format.independent_files() && !read_once {
        if opened.head_is_all() {
            let Opened { name, head, .. } = opened;
            let outcome = parse_file(format, name, ctx, |parser, meta, recorded| {
                parser.parse_bytes(&head, meta, recorded)
            });
            *buffer = head;
            return Sniffed::Parsed(outcome);
        }
        if !opened.compressed && opened.size.is_some_and(|n| n <= POOLED_FILE_MAX as u64) {
            let name = opened.name.clone();
            let mut reader = opened.into_reader();
            return Sniffed::Parsed(parse_file(format, name, ctx, |parser, meta, recorded| {
                parser.parse(&mut reader, meta, recorded)
            }));
        }
    }
    // Only a Postfix log's year-less times need the file's (which takes a date
    // computation per file of a folder of emails otherwise).
    let (mtime, first_time) = if format.name() == postfix::NAME {
        let mtime = opened.year_month();
        (mtime, first_timestamp(opened.sniff_head(), mtime))
    } else {
        (None, None)
    };
    let name = opened.name.clone();
    let kept = if read_once {
        Some(opened)
    } else {
        *buffer = opened.head;
        None
    };
    Sniffed::Planned(Box::new(Planned {
        name,
        path: input.path.clone(),
        format,
        first_time,
        mtime,
        kept,
    }))
}

/// Parses one file of a stateless format with a parser of its own, recording what it
/// emits.
fn parse_file<'a>(
    format: &'static dyn Format,
    name: String,
    ctx: &'a Context<'a>,
    parse: impl FnOnce(&mut dyn Parser, &InputMeta, &mut Recorded) -> std::io::Result<Tally>,
) -> FileOutcome {
    let mut recorded = Recorded::default();
    let mut parser = format.parser(ctx);
    let meta = InputMeta {
        file: Arc::from(name.as_str()),
        mtime: None,
    };
    let row = parsed_row(name, parse(parser.as_mut(), &meta, &mut recorded));
    let leftovers = parser.finish(&mut recorded);
    FileOutcome {
        row,
        leftovers,
        recorded,
    }
}

/// An input's row once its parser is done: its tally, or the error that stopped it.
fn parsed_row(name: String, parsed: std::io::Result<Tally>) -> InputRow {
    match parsed {
        Ok(mut tally) => {
            let error = tally.read_error.take();
            InputRow { tally, error }
        }
        Err(e) => error_row(name, format!("read error: {e}")),
    }
}

fn error_row(file: String, message: String) -> InputRow {
    InputRow {
        tally: Tally::new("-", &file, "lines"),
        error: Some(message),
    }
}

fn first_timestamp(head: &[u8], mtime: Option<(i32, u32)>) -> Option<Timestamp> {
    let mut years = postfix::line::YearGuess::infer(mtime);
    parse::split_lf(head).take(100).find_map(|raw| {
        postfix::parse_syslog_line(parse::trim_line_end(raw), &mut years)
            .and_then(|l: LogLine<'_>| l.time)
    })
}
