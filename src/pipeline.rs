//! Orchestration: expand the input paths, open and sniff each, order them, and stream
//! them through one parser per format into a sink. Inputs that cannot be read are
//! reported and skipped; the others are still processed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::model::{Delivery, Event, Timestamp};
use crate::parse::input::{self, Opened};
use crate::parse::postfix::{self, LogLine};
use crate::parse::{self, Context, Format, InputMeta, Leftovers, Parser, Sink, Tally};
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

/// An input ready to parse.
struct Planned {
    name: String,
    path: PathBuf,
    format: &'static dyn Format,
    first_time: Option<Timestamp>,
    mtime: Option<(i32, u32)>,
    /// Standard input cannot be reopened: it stays open from sniffing.
    kept: Option<Opened>,
    /// A small file of a stateless format read whole while sniffing, so it is not
    /// opened and read a second time (a Maildir of thousands of bounces).
    content: Option<Vec<u8>>,
}

/// How many bytes of small files may be kept from sniffing until they are parsed.
const KEPT_CONTENT_BUDGET: usize = 64 << 20;

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
    let mut inputs = Vec::new();
    let mut input_errors = 0;
    let mut planned = Vec::new();
    let mut paths = Vec::new();
    for path in input::expand(&options.paths) {
        match path {
            Ok(path) => paths.push(path),
            Err(e) => {
                inputs.push(error_row(String::new(), e.to_string()));
                input_errors += 1;
            }
        }
    }
    // Opening and sniffing thousands of small files (a Maildir) is worth the threads.
    let budget = AtomicUsize::new(KEPT_CONTENT_BUDGET);
    for result in parallel_map(&paths, ctx.threads, |path| plan(path, options, &budget)) {
        match result {
            Ok(p) => planned.push(p),
            Err((name, message)) => {
                inputs.push(error_row(name, message));
                input_errors += 1;
            }
        }
    }
    // Rotated logs named on the command line newest first (maillog maillog.1 ...) are
    // read oldest first, so a message spanning two files correlates.
    planned.sort_by(|a, b| {
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
    let mut parsers: HashMap<&'static str, Box<dyn Parser + '_>> = HashMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    let mut leftovers = Leftovers::default();
    let mut planned = planned.into_iter().peekable();
    while let Some(p) = planned.next() {
        if p.format.independent_files() && p.kept.is_none() {
            // Files of a stateless format go to a pool of workers; their results are
            // passed on in input order.
            let mut jobs = vec![FileJob::from(p)];
            while let Some(next) =
                planned.next_if(|n| n.format.independent_files() && n.kept.is_none())
            {
                jobs.push(FileJob::from(next));
            }
            parse_independent(&jobs, ctx, |outcome| {
                outcome.replay(sink);
                add_leftovers(&mut leftovers, &outcome.leftovers);
                if outcome.row.error.is_some() {
                    input_errors += 1;
                }
                inputs.push(outcome.row);
            });
            continue;
        }
        let name = p.format.name();
        let parser = parsers.entry(name).or_insert_with(|| {
            order.push(name);
            p.format.parser(ctx)
        });
        let opened = match p.kept {
            Some(opened) => opened,
            None => match input::open(&p.path) {
                Ok(opened) => opened,
                Err(e) => {
                    inputs.push(error_row(p.name, e.to_string()));
                    input_errors += 1;
                    continue;
                }
            },
        };
        let meta = InputMeta {
            file: Arc::from(p.name.as_str()),
            mtime: p.mtime,
        };
        let mut reader = opened.reader;
        match parser.parse(&mut reader, &meta, sink) {
            Ok(mut tally) => {
                let error = tally.read_error.take();
                input_errors += usize::from(error.is_some());
                inputs.push(InputRow { tally, error });
            }
            Err(e) => {
                inputs.push(error_row(p.name, format!("read error: {e}")));
                input_errors += 1;
            }
        }
    }
    for name in order {
        if let Some(parser) = parsers.get_mut(name) {
            let l = parser.finish(sink);
            add_leftovers(&mut leftovers, &l);
        }
    }
    RunResult {
        inputs,
        leftovers,
        input_errors,
    }
}

/// How many parsed files may wait for their turn to be passed on: bounds the memory
/// their results hold when one file is slow.
const LOOKAHEAD: usize = 256;

fn add_leftovers(total: &mut Leftovers, l: &Leftovers) {
    total.pending_deliveries += l.pending_deliveries;
    total.open_messages += l.open_messages;
    total.evicted_messages += l.evicted_messages;
    total.evicted_recipients += l.evicted_recipients;
}

/// What a parser emitted for one file, kept so it can be passed on in input order.
enum Emitted {
    Event(Box<Event>),
    Delivery(Box<Delivery>),
}

#[derive(Default)]
struct Collect {
    items: Vec<Emitted>,
}

impl Sink for Collect {
    fn event(&mut self, event: &Event) {
        self.items.push(Emitted::Event(Box::new(event.clone())));
    }

    fn delivery(&mut self, delivery: &Delivery) {
        self.items
            .push(Emitted::Delivery(Box::new(delivery.clone())));
    }
}

struct FileOutcome {
    row: InputRow,
    leftovers: Leftovers,
    collected: Collect,
}

impl FileOutcome {
    fn replay(&self, sink: &mut dyn Sink) {
        for item in &self.collected.items {
            match item {
                Emitted::Event(e) => sink.event(e),
                Emitted::Delivery(d) => sink.delivery(d),
            }
        }
    }
}

/// A file of a stateless format, to be parsed by any worker.
struct FileJob {
    name: String,
    path: PathBuf,
    format: &'static dyn Format,
    mtime: Option<(i32, u32)>,
    content: Option<Vec<u8>>,
}

impl From<Planned> for FileJob {
    fn from(p: Planned) -> FileJob {
        FileJob {
            name: p.name,
            path: p.path,
            format: p.format,
            mtime: p.mtime,
            content: p.content,
        }
    }
}

/// Parses independent files on `ctx.threads` workers that live for the whole run (so
/// each keeps its warm regex caches) and hands each result to `done` in input order.
/// A worker takes a token before it takes a file and the token comes back when the
/// file's result is passed on, so at most [`LOOKAHEAD`] results wait.
fn parse_independent(jobs: &[FileJob], ctx: &Context<'_>, mut done: impl FnMut(FileOutcome)) {
    let next = AtomicUsize::new(0);
    let (result_tx, result_rx) = mpsc::channel::<(usize, FileOutcome)>();
    let (token_tx, token_rx) = mpsc::sync_channel::<()>(LOOKAHEAD);
    for _ in 0..LOOKAHEAD {
        token_tx.send(()).expect("the receiver is alive");
    }
    let token_rx = Mutex::new(token_rx);
    let threads = ctx.threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let result_tx = result_tx.clone();
            let (next, token_rx) = (&next, &token_rx);
            scope.spawn(move || {
                loop {
                    let token = token_rx.lock().map(|rx| rx.recv());
                    if !matches!(token, Ok(Ok(()))) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { return };
                    if result_tx.send((i, parse_one(job, ctx))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(result_tx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut expected = 0;
        for (i, outcome) in result_rx.iter() {
            waiting.insert(i, outcome);
            while let Some(outcome) = waiting.remove(&expected) {
                done(outcome);
                expected += 1;
                let _ = token_tx.send(());
            }
        }
    });
}

/// `f` over `items` on up to `threads` threads; results in the items' order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() < 16 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { return };
                    let result = f(item);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().ok().flatten())
        .collect()
}

fn parse_one(p: &FileJob, ctx: &Context<'_>) -> FileOutcome {
    let mut collected = Collect::default();
    let mut parser = p.format.parser(ctx);
    let reader: std::io::Result<Box<dyn std::io::BufRead + Send>> = match &p.content {
        Some(bytes) => Ok(Box::new(std::io::Cursor::new(bytes.as_slice()))),
        None => input::open(&p.path).map(|opened| opened.reader),
    };
    let row = match reader {
        Err(e) => error_row(p.name.clone(), e.to_string()),
        Ok(mut reader) => {
            let meta = InputMeta {
                file: Arc::from(p.name.as_str()),
                mtime: p.mtime,
            };
            match parser.parse(&mut reader, &meta, &mut collected) {
                Ok(mut tally) => {
                    let error = tally.read_error.take();
                    InputRow { tally, error }
                }
                Err(e) => error_row(p.name.clone(), format!("read error: {e}")),
            }
        }
    };
    let leftovers = parser.finish(&mut collected);
    FileOutcome {
        row,
        leftovers,
        collected,
    }
}

fn error_row(file: String, message: String) -> InputRow {
    InputRow {
        tally: Tally::new("-", &file, "lines"),
        error: Some(message),
    }
}

fn plan(
    path: &std::path::Path,
    options: &RunOptions,
    budget: &AtomicUsize,
) -> Result<Planned, (String, String)> {
    let mut opened = input::open(path).map_err(|e| (path.display().to_string(), e.to_string()))?;
    let name = opened.name.clone();
    let format = match options.format {
        Some(f) => f,
        None => {
            if opened.head.is_empty() {
                // An empty file holds nothing to mis-detect; read it as the first format
                // so it is still listed with zero lines.
                parse::FORMATS[0]
            } else {
                parse::detect(&opened.head).ok_or_else(|| {
                    (
                        name.clone(),
                        format!(
                            "could not detect the input format (known: {}); use --input-format",
                            parse::format_names().join(", ")
                        ),
                    )
                })?
            }
        }
    };
    let first_time = if format.name() == postfix::NAME {
        first_timestamp(&opened)
    } else {
        None
    };
    let is_stdin = path.as_os_str() == "-";
    // A head shorter than the sniffing window is the whole (decompressed) file.
    let whole = !is_stdin
        && format.independent_files()
        && opened.head.len() < input::SNIFF_BYTES
        && budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(opened.head.len())
            })
            .is_ok();
    let content = whole.then(|| std::mem::take(&mut opened.head));
    Ok(Planned {
        name,
        path: path.to_path_buf(),
        format,
        first_time,
        mtime: opened.mtime,
        kept: is_stdin.then_some(opened),
        content,
    })
}

fn first_timestamp(opened: &Opened) -> Option<Timestamp> {
    let mut years = postfix::line::YearGuess::infer(opened.mtime);
    opened
        .head
        .split(|&b| b == b'\n')
        .take(100)
        .find_map(|raw| {
            postfix::parse_syslog_line(parse::trim_line_end(raw), &mut years)
                .and_then(|l: LogLine<'_>| l.time)
        })
}
