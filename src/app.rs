//! The commands: glue between the validated arguments, the pipeline and the renderers.
//! Each returns the process exit code.

use std::io::{self, BufRead, BufWriter, Read, Write};

use anyhow::{Context as _, Result};

use crate::classify::{self, Classifier, explain};
use crate::cli::{
    AnalyzeArgs, CheckArgs, ClassifyArgs, Cli, Command, EventsArgs, ExplainArgs, ExplainFormat,
    InputArgs, ReportFormat, SuppressArgs, SuppressFormat, TextFormat, TraceArgs,
};
use crate::model::{Delivery, Event};
use crate::parse::{Context, Sink};
use crate::pipeline::{self, RunOptions};
use crate::report::check::{self, Status, Thresholds};
use crate::report::suppress::{self, SuppressOptions, Suppression};
use crate::report::trace::{self, Tracer};
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
        Command::Suppress(args) => suppress_command(args),
        Command::Trace(args) => trace_command(args),
        Command::Check(args) => check_command(args),
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
    ctx.export = crate::parse::export::ExportOptions {
        preset: input
            .preset
            .as_deref()
            .and_then(crate::parse::export::preset::by_name)
            .map(|p| p.name),
        map: input.map.clone(),
    };
    ctx
}

fn run_options(input: &InputArgs) -> RunOptions {
    RunOptions {
        paths: input.files.clone(),
        format: input.format(),
        year: input.year,
        keep_unrecognized: KEEP_UNRECOGNIZED,
        strict: input.strict,
        redact: input.redact,
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
    let mut classifier = load_classifier(args.input.rules.as_deref())?;
    // The report shows no per-failure evidence: skip finding it.
    classifier.set_evidence(false);
    let ctx = context(&classifier, &args.input);
    let mut analysis = Analysis::with_dimensions(args.by.clone());
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
    Ok(if result.input_errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
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
    Ok(if result.input_errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
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

fn suppress_command(args: SuppressArgs) -> Result<i32> {
    let classifier = load_classifier(args.input.rules.as_deref())?;
    let ctx = context(&classifier, &args.input);
    let mut sink = Suppression::new(SuppressOptions {
        soft_threshold: args.soft_threshold,
        soft_window_days: args.soft_window_days,
    });
    let result = pipeline::run(&run_options(&args.input), &ctx, &mut sink);
    report_input_errors(&result);
    let list = sink.finish();
    let write = |out: &mut dyn Write| match args.format {
        SuppressFormat::Csv => suppress::write_csv(&list, out),
        SuppressFormat::Json => suppress::write_json(&list, out),
        SuppressFormat::List => suppress::write_list(&list, out),
    };
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = BufWriter::new(file);
            write(&mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            finish_output(write(&mut out).and_then(|()| out.flush()))?;
        }
    }
    Ok(if result.input_errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

fn trace_command(args: TraceArgs) -> Result<i32> {
    let classifier = load_classifier(args.input.rules.as_deref())?;
    let ctx = context(&classifier, &args.input);
    let mut sink = Tracer::new(&args.key);
    let result = pipeline::run(&run_options(&args.input), &ctx, &mut sink);
    report_input_errors(&result);
    let found = sink.finish();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        TextFormat::Text => trace::write_text(&found, &mut out),
        TextFormat::Json => trace::write_json(&found, &mut out),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    if found.deliveries.is_empty() {
        // Not an error: the address may simply not be in these logs.
        eprintln!("bouncex: no delivery matches {}", found.query);
    }
    Ok(if result.input_errors > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

fn check_command(args: CheckArgs) -> Result<i32> {
    let mut classifier = load_classifier(args.input.rules.as_deref())?;
    // Only the KPIs are read: the evidence of verdicts is not shown.
    classifier.set_evidence(false);
    let ctx = context(&classifier, &args.input);
    let mut analysis = Analysis::new();
    let result = pipeline::run(&run_options(&args.input), &ctx, &mut analysis);
    report_input_errors(&result);
    let report = analysis.finish(
        result.inputs,
        result.leftovers,
        false,
        &ReportOptions { top: 0 },
    );
    let thresholds = Thresholds {
        list_rot: args.max_list_rot,
        reputation: args.max_reputation,
        infrastructure: args.max_infra,
        bounce: args.max_bounce,
        min_deliveries: args.min_deliveries,
    };
    let verdict = check::evaluate(&report, &thresholds);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        TextFormat::Text => check::write_text(&verdict, &mut out),
        TextFormat::Json => check::write_json(&verdict, &mut out),
    };
    finish_output(written.and_then(|()| out.flush()))?;
    // An unreadable input makes the figures untrustworthy: that outranks the verdict.
    Ok(if result.input_errors > 0 {
        EXIT_ERROR
    } else if verdict.status == Status::Fail {
        EXIT_CHECK_FAILED
    } else {
        EXIT_OK
    })
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
