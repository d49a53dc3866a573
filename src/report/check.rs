//! `bouncex check`: compares the report's KPIs with maximum rates, for CI and cron.
//!
//! A threshold holds when the figure is at most the maximum (`value <= max`). With
//! fewer deliveries than `min_deliveries` the verdict is "not enough data", which is
//! not a failure. The exit code is chosen by the command (`app.rs`): 0 pass or not
//! enough data, 1 a threshold crossed, 2 usage or input error.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;

/// The seeds' defaults: list rot 2% of deliveries, reputation 0.5% of deliveries,
/// infrastructure 30% of failures. The legacy bounce rate is checked only when asked.
pub const DEFAULT_MAX_LIST_ROT: f64 = 0.02;
pub const DEFAULT_MAX_REPUTATION: f64 = 0.005;
pub const DEFAULT_MAX_INFRASTRUCTURE: f64 = 0.30;
pub const DEFAULT_MIN_DELIVERIES: u64 = 1;

/// Maximum rates, as fractions (0.02 = 2%).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub list_rot: f64,
    pub reputation: f64,
    pub infrastructure: f64,
    pub bounce: Option<f64>,
    pub min_deliveries: u64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            list_rot: DEFAULT_MAX_LIST_ROT,
            reputation: DEFAULT_MAX_REPUTATION,
            infrastructure: DEFAULT_MAX_INFRASTRUCTURE,
            bounce: None,
            min_deliveries: DEFAULT_MIN_DELIVERIES,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every threshold holds.
    Pass,
    /// At least one threshold is crossed.
    Fail,
    /// Fewer deliveries than `min_deliveries`: nothing is enforced.
    NotEnoughData,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotEnoughData => "not_enough_data",
        }
    }
}

/// One threshold and the figure it was compared with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRow {
    /// `list_rot`, `reputation`, `infrastructure`, `bounce`.
    pub name: &'static str,
    /// The flag that sets it.
    pub flag: &'static str,
    /// The figure, a fraction (as in the report: rounded to 6 decimals).
    pub value: f64,
    /// The maximum, a fraction.
    pub max: f64,
    pub count: u64,
    /// The denominator: deliveries, or failed deliveries for infrastructure.
    pub of: u64,
    /// `deliveries` or `failures`.
    pub of_what: &'static str,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub status: Status,
    pub deliveries: u64,
    pub min_deliveries: u64,
    pub checks: Vec<CheckRow>,
    /// Inputs that could not be read (they make the exit code 2).
    pub input_errors: Vec<String>,
}

impl CheckResult {
    /// The rows whose threshold is crossed.
    pub fn crossed(&self) -> impl Iterator<Item = &CheckRow> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

/// Compares the report with the thresholds.
pub fn evaluate(report: &Report, t: &Thresholds) -> CheckResult {
    let k = &report.kpis;
    let deliveries = report.totals.deliveries;
    let failed = report.totals.failed;
    let row = |name, flag, value: f64, max: f64, count, of, of_what| CheckRow {
        name,
        flag,
        value,
        max,
        count,
        of,
        of_what,
        passed: value <= max,
    };
    let mut checks = vec![
        row(
            "list_rot",
            "--max-list-rot",
            k.list_rot.rate,
            t.list_rot,
            k.list_rot.count,
            deliveries,
            "deliveries",
        ),
        row(
            "reputation",
            "--max-reputation",
            k.reputation.rate,
            t.reputation,
            k.reputation.count,
            deliveries,
            "deliveries",
        ),
        row(
            "infrastructure",
            "--max-infra",
            k.infrastructure.share_of_failures,
            t.infrastructure,
            k.infrastructure.count,
            failed,
            "failures",
        ),
    ];
    if let Some(max) = t.bounce {
        checks.push(row(
            "bounce",
            "--max-bounce",
            k.legacy_bounce_rate.rate,
            max,
            k.legacy_bounce_rate.count,
            deliveries,
            "deliveries",
        ));
    }
    let input_errors = report
        .inputs
        .iter()
        .filter_map(|i| i.error.as_ref().map(|e| format!("{}: {e}", i.tally.file)))
        .collect();
    let status = if deliveries < t.min_deliveries {
        Status::NotEnoughData
    } else if checks.iter().all(|c| c.passed) {
        Status::Pass
    } else {
        Status::Fail
    };
    CheckResult {
        status,
        deliveries,
        min_deliveries: t.min_deliveries,
        checks,
        input_errors,
    }
}

fn pct(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

pub fn write_text(result: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
    for c in &result.checks {
        let (relation, verdict) = if c.passed {
            ("<=", "ok")
        } else {
            (">", "CROSSED")
        };
        writeln!(
            out,
            "{:<15} {:>8} {relation:>2} max {:>7}  {verdict:<7}  ({} of {} {})",
            c.name,
            pct(c.value),
            pct(c.max),
            c.count,
            c.of,
            c.of_what
        )?;
    }
    match result.status {
        Status::Pass => writeln!(
            out,
            "check passed: {} thresholds hold on {} deliveries",
            result.checks.len(),
            result.deliveries
        ),
        Status::Fail => {
            let crossed: Vec<String> = result
                .crossed()
                .map(|c| format!("{} {} > {} ({})", c.name, pct(c.value), pct(c.max), c.flag))
                .collect();
            writeln!(out, "check failed: {}", crossed.join("; "))
        }
        Status::NotEnoughData => writeln!(
            out,
            "not enough data: {} deliveries, fewer than --min-deliveries {}; thresholds not enforced",
            result.deliveries, result.min_deliveries
        ),
    }
}

pub fn write_json(result: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, result)?;
    out.write_all(b"\n")
}
