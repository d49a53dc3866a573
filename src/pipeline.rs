//! Orchestration: expand the input paths, open and sniff each, order them, and stream
//! them through one parser per format into a sink. Inputs that cannot be read are
//! reported and skipped; the others are still processed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
}

pub fn run(options: &RunOptions, ctx: &Context<'_>, sink: &mut dyn Sink) -> RunResult {
    let mut inputs = Vec::new();
    let mut input_errors = 0;
    let mut planned = Vec::new();
    for path in input::expand(&options.paths) {
        let path = match path {
            Ok(path) => path,
            Err(e) => {
                inputs.push(error_row(String::new(), e.to_string()));
                input_errors += 1;
                continue;
            }
        };
        match plan(&path, options) {
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
            // Files of a stateless format go to the workers in batches.
            let mut batch = vec![p];
            while batch.len() < INDEPENDENT_BATCH
                && let Some(next) = planned
                    .next_if(|n| n.format.name() == batch[0].format.name() && n.kept.is_none())
            {
                batch.push(next);
            }
            let jobs = batch
                .into_iter()
                .map(|p| FileJob {
                    name: p.name,
                    path: p.path,
                    format: p.format,
                    mtime: p.mtime,
                })
                .collect();
            for outcome in parse_independent(jobs, ctx) {
                outcome.replay(sink);
                add_leftovers(&mut leftovers, &outcome.leftovers);
                if outcome.row.error.is_some() {
                    input_errors += 1;
                }
                inputs.push(outcome.row);
            }
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
            Ok(tally) => inputs.push(InputRow { tally, error: None }),
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

/// How many files of a stateless format are parsed at once before their results are
/// passed on in order: bounds the memory held by results waiting their turn.
const INDEPENDENT_BATCH: usize = 256;

fn add_leftovers(total: &mut Leftovers, l: &Leftovers) {
    total.pending_deliveries += l.pending_deliveries;
    total.open_messages += l.open_messages;
    total.evicted_messages += l.evicted_messages;
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
}

/// Parses a batch of independent files on `ctx.threads` threads; results come back in
/// the batch's order.
fn parse_independent(batch: Vec<FileJob>, ctx: &Context<'_>) -> Vec<FileOutcome> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<FileOutcome>>> = batch.iter().map(|_| Mutex::new(None)).collect();
    let threads = ctx.threads.clamp(1, batch.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = batch.get(i) else { return };
                    let outcome = parse_one(p, ctx);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(outcome);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(batch)
        .map(|(slot, p)| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| FileOutcome {
                    row: error_row(p.name.clone(), "parser failed".into()),
                    leftovers: Leftovers::default(),
                    collected: Collect::default(),
                })
        })
        .collect()
}

fn parse_one(p: &FileJob, ctx: &Context<'_>) -> FileOutcome {
    let mut collected = Collect::default();
    let mut parser = p.format.parser(ctx);
    let row = match input::open(&p.path) {
        Err(e) => error_row(p.name.clone(), e.to_string()),
        Ok(opened) => {
            let meta = InputMeta {
                file: Arc::from(p.name.as_str()),
                mtime: p.mtime,
            };
            let mut reader = opened.reader;
            match parser.parse(&mut reader, &meta, &mut collected) {
                Ok(tally) => InputRow { tally, error: None },
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

fn plan(path: &std::path::Path, options: &RunOptions) -> Result<Planned, (String, String)> {
    let opened = input::open(path).map_err(|e| (path.display().to_string(), e.to_string()))?;
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
    Ok(Planned {
        name,
        path: path.to_path_buf(),
        format,
        first_time,
        mtime: opened.mtime,
        kept: is_stdin.then_some(opened),
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
