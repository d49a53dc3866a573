//! Orchestration: expand the input paths, open and sniff each, order them, and stream
//! them through one parser per format into a sink. Inputs that cannot be read are
//! reported and skipped; the others are still processed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::Timestamp;
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
        let rank = |p: &Planned| parse::FORMATS.iter().position(|f| f.name() == p.format.name());
        rank(a)
            .cmp(&rank(b))
            .then(a.first_time.is_none().cmp(&b.first_time.is_none()))
            .then(a.first_time.cmp(&b.first_time))
    });
    let mut parsers: HashMap<&'static str, Box<dyn Parser + '_>> = HashMap::new();
    let mut order: Vec<&'static str> = Vec::new();
    for p in planned {
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
    let mut leftovers = Leftovers::default();
    for name in order {
        if let Some(parser) = parsers.get_mut(name) {
            let l = parser.finish(sink);
            leftovers.pending_deliveries += l.pending_deliveries;
            leftovers.open_messages += l.open_messages;
            leftovers.evicted_messages += l.evicted_messages;
        }
    }
    RunResult {
        inputs,
        leftovers,
        input_errors,
    }
}

fn error_row(file: String, message: String) -> InputRow {
    InputRow {
        tally: Tally::new("-", &file, "lines"),
        error: Some(message),
    }
}

fn plan(path: &PathBuf, options: &RunOptions) -> Result<Planned, (String, String)> {
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
        path: path.clone(),
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
