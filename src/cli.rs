//! Command-line arguments (clap derive) and their conversion into validated settings.
//! Validation errors name the flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::parse;

const AFTER_HELP: &str = "\
Examples:
  bouncex analyze /var/log/mail.log
  bouncex analyze maillog maillog.1 maillog.2.gz --format json | jq .kpis
  bouncex events --deliveries maillog | jq 'select(.outcome == \"bounced\")'
  bouncex explain '550 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org'
  echo '451 4.7.651 rate limited' | bouncex classify
  bouncex suppress maillog -o suppress.csv
  bouncex trace gwen@oldcorp.example maillog
  bouncex check maillog --max-list-rot 2% --max-reputation 0.5% --max-infra 30%
  bouncex analyze sendgrid-activity.csv --by campaign --by day
  bouncex analyze leads.csv --map recipient=Email --map step=Step --by step

Exit codes: 0 success, 1 a check threshold was crossed, 2 usage or input error.";

#[derive(Debug, Parser)]
#[command(
    name = "bouncex",
    version,
    about = "Bounce-log analyzer: list rot, reputation and infrastructure KPIs instead of one bounce rate",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report the three KPIs, counts by bucket and reason, providers and domains.
    Analyze(AnalyzeArgs),
    /// Print every event (or delivery) as one JSON object per line.
    Events(EventsArgs),
    /// Classify one diagnostic and show why: bucket, reason, rule and evidence.
    Explain(ExplainArgs),
    /// Classify one diagnostic per line of standard input into NDJSON.
    Classify(ClassifyArgs),
    /// List the addresses to stop mailing: list rot, and repeated soft failures.
    Suppress(SuppressArgs),
    /// Show the attempt timeline of the deliveries to an address, a queue id or a
    /// Message-ID.
    Trace(TraceArgs),
    /// Exit 1 when a KPI crosses its maximum (for CI and cron), 0 when all hold.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check(CheckArgs),
}

/// Options shared by every command that reads inputs.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input files or directories; `-` reads standard input; .gz is read transparently.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Input format; detected from the content by default.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = input_format_names())]
    pub input_format: String,

    /// Year of syslog timestamps that have none (default: inferred from the file's
    /// modification time, with December to January rollover).
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,

    /// Extra classification rules (TOML), tried before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// List unrecognized input lines with file and line number.
    #[arg(long)]
    pub show_unparsed: bool,

    /// Treat unrecognized input as an error: exit 2 when any line, message or row was
    /// not understood.
    #[arg(long)]
    pub strict: bool,

    /// Replace the local part of every email address with a stable short hash in all
    /// output (the domain stays), so reports can be shared.
    #[arg(long)]
    pub redact: bool,

    /// Parser threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Read CSV/JSON exports with this exporter's layout instead of detecting it.
    #[arg(long, value_name = "NAME", value_parser = preset_names())]
    pub preset: Option<String>,

    /// Map a field to an export column, overriding the preset: recipient=Email,
    /// diagnostic="Bounce Text", step=Step, ... (repeatable).
    #[arg(long = "map", value_name = "FIELD=COLUMN", value_parser = parse::export::parse_map)]
    pub map: Vec<(parse::export::Field, String)>,
}

fn preset_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(parse::export::preset::names())
}

fn input_format_names() -> clap::builder::PossibleValuesParser {
    let mut names = vec!["auto"];
    names.extend(parse::format_names());
    clap::builder::PossibleValuesParser::new(names)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Rows in the top lists (domains, codes) and per --by dimension.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Show the three KPIs per group: campaign, step, domain, provider, sender-domain,
    /// host, day, or any export column name (repeatable).
    #[arg(long = "by", value_name = "DIM", value_parser = crate::report::group::Dimension::parse)]
    pub by: Vec<crate::report::group::Dimension>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Ndjson,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = EventsFormat::Ndjson)]
    pub format: EventsFormat,

    /// One line per (message, recipient) delivery with its outcome and cause, instead
    /// of one per event.
    #[arg(long)]
    pub deliveries: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The diagnostic text; read from standard input when absent and no --code is given.
    #[arg(value_name = "DIAGNOSTIC")]
    pub text: Option<String>,

    /// Reply and/or enhanced code given apart from the text: "550", "5.1.1", "550 5.1.1".
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,

    /// Extra classification rules (TOML), tried before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Extra classification rules (TOML), tried before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuppressFormat {
    /// address,kind,reason,bucket,reply_code,enhanced_code,last_seen,count
    Csv,
    Json,
    /// One address per line.
    List,
}

#[derive(Debug, Args)]
pub struct SuppressArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Write the list to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SuppressFormat::Csv)]
    pub format: SuppressFormat,

    /// Soft failures (expired, still deferred, or bounced for a transient,
    /// infrastructure or unknown cause; one per message) that list an address.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub soft_threshold: u32,

    /// Window, in days, within which the soft failures must fall.
    #[arg(long, value_name = "DAYS", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub soft_window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// A recipient address (any case), a queue id, or a Message-ID (with or without
    /// angle brackets).
    #[arg(value_name = "ADDRESS|QUEUE_ID|MESSAGE_ID")]
    pub key: String,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Maximum list-rot rate of deliveries, a percentage: 2% or 2.
    #[arg(long, value_name = "PERCENT", default_value = "2%", value_parser = parse_percent)]
    pub max_list_rot: f64,

    /// Maximum reputation rate of deliveries, a percentage: 0.5% or 0.5.
    #[arg(long, value_name = "PERCENT", default_value = "0.5%", value_parser = parse_percent)]
    pub max_reputation: f64,

    /// Maximum infrastructure share of failures, a percentage: 30% or 30.
    #[arg(long, value_name = "PERCENT", default_value = "30%", value_parser = parse_percent)]
    pub max_infra: f64,

    /// Maximum legacy bounce rate of deliveries, a percentage (not checked unless given).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub max_bounce: Option<f64>,

    /// With fewer deliveries than this, report "not enough data" and exit 0.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_deliveries: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
}

const CHECK_AFTER_HELP: &str = "\
Thresholds are percentages from 0 to 100, with or without a trailing %: \"2%\" and \"2\"
both mean 2 percent, \"0.5\" means 0.5 percent. A threshold holds when the figure is at
most the maximum.

Exit codes: 0 every threshold holds (or fewer deliveries than --min-deliveries),
1 a threshold was crossed, 2 usage error or an input could not be read.";

/// A percentage, `2%` or `2` (both 2 percent), into a fraction (0.02). Values must lie
/// within 0..=100.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim();
    let number = number.strip_suffix('%').unwrap_or(number).trim_end();
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a percentage such as 2% or 0.5, not {text:?}"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!(
            "a percentage must be between 0 and 100, not {text:?}"
        ));
    }
    Ok(value / 100.0)
}

impl InputArgs {
    /// The forced format, or `None` for detection.
    pub fn format(&self) -> Option<&'static dyn parse::Format> {
        parse::format_by_name(&self.input_format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn percentages_with_or_without_the_sign() {
        let ok = [
            ("2%", 0.02),
            ("2", 0.02),
            (" 0.5 % ", 0.005),
            ("0.5", 0.005),
            ("0", 0.0),
            ("100%", 1.0),
            ("30", 0.3),
        ];
        for (text, want) in ok {
            let got = parse_percent(text).expect(text);
            assert!((got - want).abs() < 1e-12, "{text}: {got}");
        }
        for bad in [
            "",
            "%",
            "abc",
            "2%%",
            "-1",
            "101",
            "NaN",
            "inf",
            "2 percent",
        ] {
            assert!(parse_percent(bad).is_err(), "{bad:?} accepted");
        }
    }
}
