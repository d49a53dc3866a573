//! The commands: glue between the validated arguments, the pipeline and the renderers.
//! Each returns the process exit code.

use std::io::{self, BufRead, BufWriter, Read, Write};

use anyhow::{Context as _, Result};

use crate::classify::{self, Classifier, explain};
use crate::cli::{
    AnalyzeArgs, ClassifyArgs, Cli, Command, EventsArgs, ExplainArgs, ExplainFormat, InputArgs,
    ReportFormat,
};
use crate::model::{Delivery, Event};
use crate::parse::{Context, Sink};
use crate::pipeline::{self, RunOptions};
use crate::report::{self, Analysis, ReportOptions};

/// Exit codes (README "Exit codes").
pub const EXIT_OK: i32 = 0;
/// Reserved for `bouncex check` when a threshold is crossed.
pub const EXIT_CHECK_FAILED: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// How many unrecognized lines per file are kept for `--show-unparsed`.
const KEEP_UNRECOGNIZED: usize = 1000;

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Events(args) => events(args),
        Command::Explain(args) => explain_command(args),
        Command::Classify(args) => classify_command(args),
    }
}

fn load_classifier(rules: Option<&std::path::Path>) -> Result<Classifier> {
    match rules {
        None => Ok(Classifier::builtin()),
        Some(path) => {
            let user = classify::rules::load_rules_file(path)?;
            Ok(Classifier::with_user_rules(user)?)
        }
    }
}

fn context<'a>(classifier: &'a Classifier, input: &InputArgs) -> Context<'a> {
    let mut ctx = Context::new(classifier);
    ctx.year = input.year;
    ctx.keep_unrecognized = KEEP_UNRECOGNIZED;
    if let Some(threads) = input.threads {
        ctx.threads = usize::from(threads);
    }
    ctx
}

fn run_options(input: &InputArgs) -> RunOptions {
    RunOptions {
        paths: input.files.clone(),
        format: input.format(),
        year: input.year,
        keep_unrecognized: KEEP_UNRECOGNIZED,
    }
}

/// Reports inputs that could not be read on standard error.
fn report_input_errors(result: &pipeline::RunResult) {
    for input in &result.inputs {
        if let Some(e) = &input.error {
            eprintln!("bouncex: {}: {e}", input.tally.file);
        }
    }
}

fn analyze(args: AnalyzeArgs) -> Result<i32> {
    let classifier = load_classifier(args.input.rules.as_deref())?;
    let ctx = context(&classifier, &args.input);
    let mut analysis = Analysis::new();
    let result = pipeline::run(&run_options(&args.input), &ctx, &mut analysis);
    report_input_errors(&result);
    let report = analysis.finish(
        result.inputs,
        result.leftovers,
        args.input.show_unparsed,
        &ReportOptions { top: args.top },
    );
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        ReportFormat::Table => report::table::write(&report, &mut out),
        ReportFormat::Json => report::json::write(&report, &mut out),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    Ok(if result.input_errors > 0 { EXIT_ERROR } else { EXIT_OK })
}

/// Writes events or deliveries as they stream out of the parsers.
struct NdjsonSink<W: Write> {
    out: W,
    deliveries: bool,
}

impl<W: Write> NdjsonSink<W> {
    fn check(result: io::Result<()>) {
        if let Err(e) = finish_output(result) {
            eprintln!("bouncex: {e:#}");
            std::process::exit(EXIT_ERROR);
        }
    }
}

impl<W: Write> Sink for NdjsonSink<W> {
    fn event(&mut self, event: &Event) {
        if !self.deliveries {
            Self::check(report::ndjson::write_event(event, &mut self.out));
        }
    }

    fn delivery(&mut self, delivery: &Delivery) {
        if self.deliveries {
            Self::check(report::ndjson::write_delivery(delivery, &mut self.out));
        }
    }
}

fn events(args: EventsArgs) -> Result<i32> {
    let classifier = load_classifier(args.input.rules.as_deref())?;
    let ctx = context(&classifier, &args.input);
    let stdout = io::stdout();
    let mut sink = NdjsonSink {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        deliveries: args.deliveries,
    };
    let result = pipeline::run(&run_options(&args.input), &ctx, &mut sink);
    finish_output(sink.out.flush())?;
    report_input_errors(&result);
    if args.input.show_unparsed {
        for input in &result.inputs {
            for u in &input.tally.unrecognized_samples {
                eprintln!("{}:{}: {}: {}", input.tally.file, u.line, u.reason, u.text);
            }
        }
    }
    Ok(if result.input_errors > 0 { EXIT_ERROR } else { EXIT_OK })
}

fn explain_command(args: ExplainArgs) -> Result<i32> {
    let classifier = load_classifier(args.rules.as_deref())?;
    let text = match (&args.text, &args.code) {
        (Some(text), _) => text.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("reading the diagnostic from standard input")?;
            text.trim().to_string()
        }
    };
    let explanation = explain::explain(&classifier, &text, args.code.as_deref());
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        ExplainFormat::Text => out.write_all(explain::render_text(&explanation).as_bytes()),
        ExplainFormat::Json => serde_json::to_writer_pretty(&mut out, &explanation)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n")),
    };
    finish_output(written)?;
    Ok(EXIT_OK)
}

fn classify_command(args: ClassifyArgs) -> Result<i32> {
    let classifier = load_classifier(args.rules.as_deref())?;
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut input = stdin.lock();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("reading standard input")?
            == 0
        {
            break;
        }
        let text = String::from_utf8_lossy(crate::parse::trim_line_end(&line));
        let value = explain::classify_line(&classifier, &text);
        let written = serde_json::to_writer(&mut out, &value)
            .map_err(io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        finish_output(written)?;
    }
    finish_output(out.flush())?;
    Ok(EXIT_OK)
}

/// A closed pipe (`bouncex ... | head -1`) ends the program quietly with success;
/// other write errors are errors.
fn finish_output(result: io::Result<()>) -> Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(EXIT_OK),
        Err(e) => Err(anyhow::Error::new(e).context("writing the output")),
        Ok(()) => Ok(()),
    }
}
