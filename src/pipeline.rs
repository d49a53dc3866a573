//! Orchestration: expand the input paths, open and sniff each, order them, and stream
//! them through one parser per format into a sink. Inputs that cannot be read are
//! reported and skipped; the others are still processed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::model::Timestamp;
use crate::parse::input::{self, Opened};
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

/// An input ready to parse.
struct Planned {
    name: String,
    path: PathBuf,
    format: &'static dyn Format,
    first_time: Option<Timestamp>,
    mtime: Option<(i32, u32)>,
    /// Standard input or a pipe cannot be reopened: it stays open from sniffing.
    /// Boxed: the plans of a folder of files are many, their open inputs none.
    kept: Option<Box<Opened>>,
    /// A small file of a stateless format read whole while sniffing, so it is not
    /// opened and read a second time (a Maildir of thousands of bounces).
    content: Option<Vec<u8>>,
    /// Small enough to parse on a worker with its events held until their turn
    /// (see [`POOLED_FILE_MAX`]); the size to count for batching.
    pooled: Option<usize>,
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
    let mut input_errors = 0;
    let expanded = input::expand(&options.paths);
    // Every path gets its row. Lists of ten thousand files' rows and plans are sized
    // up front: grown by doubling, each copy lands in fresh memory.
    let mut inputs = Vec::with_capacity(expanded.len());
    let mut planned = Vec::with_capacity(expanded.len());
    let mut paths = Vec::with_capacity(expanded.len());
    for path in expanded {
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
        let pooled = |n: &Planned| n.format.independent_files() && n.pooled.is_some();
        if pooled(&p) && planned.peek().is_some_and(pooled) {
            // Runs of small files of a stateless format go to a pool of workers; their
            // results are passed on in input order. A big file (an mbox, a large
            // export), or one alone, is streamed straight into the sink below, using
            // the threads itself where its format can.
            let mut jobs = Vec::with_capacity(planned.len() + 1);
            jobs.push(FileJob::from(p));
            while let Some(next) = planned.next_if(pooled) {
                jobs.push(FileJob::from(next));
            }
            parse_independent(&jobs, ctx, |outcome| {
                outcome.recorded.replay(sink);
                leftovers.add(&outcome.leftovers);
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
        let mut reader: Box<dyn std::io::BufRead + Send> = match (p.kept, p.content) {
            (Some(opened), _) => opened.into_reader(),
            // A lone small file read whole while sniffing is not read again.
            (None, Some(bytes)) => Box::new(std::io::Cursor::new(bytes)),
            (None, None) => match input::open(&p.path) {
                Ok(opened) => opened.into_reader(),
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
            leftovers.add(&l);
        }
    }
    RunResult {
        inputs,
        leftovers,
        input_errors,
    }
}

/// Files up to this size (on disk, uncompressed) are parsed on a worker, their events
/// held until their turn; bigger ones stream straight into the sink, so memory does not
/// grow with a big mbox or export (at most `threads + 2` pooled files wait). A returned
/// attachment rarely makes an email bigger.
const POOLED_FILE_MAX: usize = 4 << 20;

/// Small files (emails, small exports) go to a worker in batches of up to this many
/// bytes or [`BATCH_FILES`] files, so a Maildir of thousands of bounces does not cost
/// a thread hand-off per file.
const BATCH_BYTES: usize = 256 << 10;
const BATCH_FILES: usize = 64;

struct FileOutcome {
    row: InputRow,
    leftovers: Leftovers,
    recorded: Recorded,
}

/// A file of a stateless format, to be parsed by any worker.
struct FileJob {
    name: String,
    path: PathBuf,
    format: &'static dyn Format,
    mtime: Option<(i32, u32)>,
    content: Option<Vec<u8>>,
    /// Bytes, for batching.
    size: usize,
}

impl From<Planned> for FileJob {
    fn from(p: Planned) -> FileJob {
        FileJob {
            name: p.name,
            path: p.path,
            format: p.format,
            mtime: p.mtime,
            content: p.content,
            size: p.pooled.unwrap_or(0),
        }
    }
}

/// Parses pooled independent files on `ctx.threads` workers that live for the whole
/// run (so each keeps its warm regex caches) and hands each result to `done` in input
/// order. Files are handed out in batches, and each is parsed on its worker alone.
fn parse_independent(jobs: &[FileJob], ctx: &Context<'_>, mut done: impl FnMut(FileOutcome)) {
    let inner = Context {
        threads: 1,
        classify_later: true,
        ..ctx.clone()
    };
    let threads = ctx.threads.clamp(1, jobs.len().max(1));
    // Batches small enough that a few dozen files still keep every worker busy.
    let batch_files = (jobs.len() / (threads * 4)).clamp(1, BATCH_FILES);
    let mut next = 0;
    Ordered {
        threads,
        applier_works: false,
        cut: |_: Option<()>| {
            let start = next;
            let mut bytes = 0;
            while let Some(job) = jobs.get(next) {
                let size = job.size;
                if next > start && bytes + size > BATCH_BYTES {
                    break;
                }
                next += 1;
                bytes += size;
                if next - start == batch_files {
                    break;
                }
            }
            Ok((next > start).then_some(start..next))
        },
        new_worker: || (),
        work: |range: std::ops::Range<usize>, _: &mut ()| -> Vec<FileOutcome> {
            let mut outcomes: Vec<FileOutcome> = jobs[range]
                .iter()
                .map(|job| parse_one(job, &inner))
                .collect();
            // The batch's failures together: the classifier's tables stay in the
            // cache from one to the next.
            for outcome in &mut outcomes {
                outcome.recorded.classify(ctx.classifier);
            }
            outcomes
        },
        apply: |outcomes: Vec<FileOutcome>| {
            outcomes.into_iter().for_each(&mut done);
            None
        },
    }
    .run()
    .expect("handing out file indexes reads nothing, so it cannot fail");
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
    let mut recorded = Recorded::default();
    let mut parser = p.format.parser(ctx);
    let meta = InputMeta {
        file: Arc::from(p.name.as_str()),
        mtime: p.mtime,
    };
    let parsed = match &p.content {
        Some(bytes) => Ok(parser.parse_bytes(bytes, &meta, &mut recorded)),
        None => input::open(&p.path)
            .map(|opened| parser.parse(&mut opened.into_reader(), &meta, &mut recorded)),
    };
    let row = match parsed {
        Err(e) => error_row(p.name.clone(), e.to_string()),
        Ok(Ok(mut tally)) => {
            let error = tally.read_error.take();
            InputRow { tally, error }
        }
        Ok(Err(e)) => error_row(p.name.clone(), format!("read error: {e}")),
    };
    let leftovers = parser.finish(&mut recorded);
    FileOutcome {
        row,
        leftovers,
        recorded,
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
            if opened.sniff_head().is_empty() {
                // An empty file holds nothing to mis-detect; read it as the first format
                // so it is still listed with zero lines.
                parse::FORMATS[0]
            } else {
                parse::detect(opened.sniff_head()).ok_or_else(|| {
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
    // Only a Postfix log's year-less times need the file's (which takes a date
    // computation per file of a folder of emails otherwise).
    let (mtime, first_time) = if format.name() == postfix::NAME {
        let mtime = opened.year_month();
        (mtime, first_timestamp(opened.sniff_head(), mtime))
    } else {
        (None, None)
    };
    // Standard input or a pipe is read once: it stays open from sniffing.
    let read_once = opened.size.is_none();
    // A file whose head is all of it is small enough to keep, or to pool.
    let small = !read_once && opened.head_is_all();
    let pooled = if small {
        Some(opened.head.len())
    } else {
        opened
            .size
            .filter(|&n| !opened.compressed && n <= POOLED_FILE_MAX as u64)
            .map(|n| n as usize)
    };
    let whole = small
        && format.independent_files()
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
        mtime,
        kept: read_once.then(|| Box::new(opened)),
        content,
        pooled,
    })
}

fn first_timestamp(head: &[u8], mtime: Option<(i32, u32)>) -> Option<Timestamp> {
    let mut years = postfix::line::YearGuess::infer(mtime);
    parse::split_lf(head).take(100).find_map(|raw| {
        postfix::parse_syslog_line(parse::trim_line_end(raw), &mut years)
            .and_then(|l: LogLine<'_>| l.time)
    })
}
