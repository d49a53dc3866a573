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

    /// Parser threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
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

    /// Rows in the top lists (domains, codes).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
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
}
