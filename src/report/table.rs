//! The analysis report as terminal tables (the default `--format table`).
//! Formats what [`Report`] holds; computes nothing.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, Table, presets};

use super::diagnose::{Diagnosis, Evidence};
use super::{GroupRow, Report};

fn pct(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_BORDERS_ONLY);
    table.set_header(header.iter().map(Cell::new));
    table
}

fn right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &report.totals;
    let k = &report.kpis;
    let span = match (report.time_span.first, report.time_span.last) {
        (Some(a), Some(b)) => format!(", {a} to {b}"),
        _ => String::new(),
    };
    writeln!(
        out,
        "{} deliveries with a final outcome ({} delivered, {} bounced, {} expired){span}",
        t.deliveries, t.delivered, t.bounced, t.expired
    )?;
    if t.pending > 0 {
        writeln!(
            out,
            "{} deliveries still pending at the end of the input (not counted)",
            t.pending
        )?;
    }
    writeln!(out)?;

    let mut kpi = new_table(&["KPI", "count", "rate", "of", "evidence"]);
    let rep_split = k
        .reputation
        .by_bucket
        .iter()
        .map(|(b, n)| format!("{b} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let infra_flag = if k.infrastructure.flagged {
        "ATTENTION: above 30%"
    } else {
        "below the 30% flag"
    };
    kpi.add_row(vec![
        "List rot (dead addresses)".to_string(),
        k.list_rot.count.to_string(),
        pct(k.list_rot.rate),
        "deliveries".into(),
        "permanent failures caused by the address".into(),
    ]);
    kpi.add_row(vec![
        "Reputation (sender refused)".to_string(),
        k.reputation.count.to_string(),
        pct(k.reputation.rate),
        "deliveries".into(),
        if rep_split.is_empty() {
            "-".into()
        } else {
            rep_split
        },
    ]);
    kpi.add_row(vec![
        "Infrastructure health".to_string(),
        k.infrastructure.count.to_string(),
        pct(k.infrastructure.share_of_failures),
        "failures".into(),
        format!(
            "{} expired after 4xx, {} permanent; {infra_flag}",
            k.infrastructure.expired, k.infrastructure.permanent
        ),
    ]);
    kpi.add_row(vec![
        "Other (transient/unknown)".to_string(),
        k.other.count.to_string(),
        pct(k.other.rate),
        "deliveries".into(),
        "permanent failures with no clear cause".into(),
    ]);
    kpi.add_row(vec![
        "Legacy bounce rate".to_string(),
        k.legacy_bounce_rate.count.to_string(),
        pct(k.legacy_bounce_rate.rate),
        "deliveries".into(),
        format!(
            "= list rot {} + reputation {} + infrastructure {} + other {}",
            k.list_rot.count, k.reputation.count, k.infrastructure.count, k.other.count
        ),
    ]);
    right(&mut kpi, &[1, 2]);
    writeln!(out, "{kpi}")?;
    writeln!(
        out,
        "Deferral rate of attempts: {} ({} of {} attempts were deferred)",
        pct(t.deferral_rate),
        t.deferred_attempts,
        t.attempts
    )?;
    if t.unclassifiable > 0 {
        writeln!(
            out,
            "Unclassifiable: {} of {} failures ({}) carried only a status label (status-only source: no code, no text)",
            t.unclassifiable,
            t.failed,
            pct(t.status_only_share)
        )?;
    }
    if t.suppressed > 0 {
        writeln!(
            out,
            "Suppressed by the provider: {} (repeats of earlier failures, not counted as failures)",
            t.suppressed
        )?;
    }

    write_diagnoses(out, &report.diagnoses)?;

    if !k.infrastructure.by_cause.is_empty() {
        writeln!(out, "\nInfrastructure failures by cause")?;
        let mut table = new_table(&["bucket", "reason", "count"]);
        for c in &k.infrastructure.by_cause {
            table.add_row(vec![
                c.bucket.to_string(),
                c.reason.to_string(),
                c.count.to_string(),
            ]);
        }
        right(&mut table, &[2]);
        writeln!(out, "{table}")?;
    }

    if t.failed > 0 {
        writeln!(out, "\nFailures by bucket")?;
        let mut table = new_table(&["bucket", "failed", "bounced", "expired", "share"]);
        for b in report.buckets.iter().filter(|b| b.failed > 0) {
            table.add_row(vec![
                b.bucket.to_string(),
                b.failed.to_string(),
                b.bounced.to_string(),
                b.expired.to_string(),
                pct(b.share),
            ]);
        }
        right(&mut table, &[1, 2, 3, 4]);
        writeln!(out, "{table}")?;

        writeln!(out, "\nFailures by reason")?;
        let mut table = new_table(&["reason", "bucket", "failed", "share"]);
        for r in &report.reasons {
            table.add_row(vec![
                r.reason.to_string(),
                r.bucket.to_string(),
                r.failed.to_string(),
                pct(r.share),
            ]);
        }
        right(&mut table, &[2, 3]);
        writeln!(out, "{table}")?;
    }

    if !report.enhanced_codes.is_empty() {
        writeln!(out, "\nTop enhanced status codes of failures")?;
        let mut table = new_table(&["code", "failed", "meaning (RFC 3463)"]);
        for c in &report.enhanced_codes {
            table.add_row(vec![
                c.enhanced_code.clone(),
                c.failed.to_string(),
                c.meaning.unwrap_or("-").to_string(),
            ]);
        }
        right(&mut table, &[1]);
        writeln!(out, "{table}")?;
    }

    write_groups(out, "By mailbox provider", &report.by_provider)?;
    write_groups(out, "Top recipient domains by failures", &report.by_domain)?;
    for by in &report.by {
        write_by(out, by)?;
    }

    writeln!(out, "\nInputs")?;
    let mut table = new_table(&[
        "file",
        "format",
        "unit",
        "total",
        "parsed",
        "ignored",
        "unrecognized",
    ]);
    for i in &report.inputs {
        let tally = &i.tally;
        let format = match (&i.error, tally.preset) {
            (Some(_), _) => "error".to_string(),
            (None, Some(preset)) => format!("{} ({preset})", tally.format),
            (None, None) => tally.format.to_string(),
        };
        table.add_row(vec![
            tally.file.clone(),
            format,
            tally.unit.to_string(),
            tally.total.to_string(),
            tally.parsed.to_string(),
            tally.ignored.to_string(),
            tally.unrecognized.to_string(),
        ]);
    }
    right(&mut table, &[3, 4, 5, 6]);
    writeln!(out, "{table}")?;
    for i in &report.inputs {
        if let Some(e) = &i.error {
            writeln!(out, "error: {}: {e}", i.tally.file)?;
        }
    }
    if report.unrecognized > 0 && report.unrecognized_samples.is_empty() {
        writeln!(
            out,
            "{} unrecognized lines; --show-unparsed lists them",
            report.unrecognized
        )?;
    }
    if !report.unrecognized_samples.is_empty() {
        writeln!(out, "\nUnrecognized input")?;
        for u in &report.unrecognized_samples {
            writeln!(
                out,
                "{}:{}: {}: {}",
                u.file, u.unit.line, u.unit.reason, u.unit.text
            )?;
        }
    }
    let l = &report.leftovers;
    if l.evicted_messages > 0 {
        writeln!(
            out,
            "{} messages were evicted from the correlation state to bound memory",
            l.evicted_messages
        )?;
    }
    if l.evicted_recipients > 0 {
        writeln!(
            out,
            "{} deferred recipients of very large messages were not tracked, to bound memory",
            l.evicted_recipients
        )?;
    }
    Ok(())
}

fn write_groups(out: &mut dyn Write, title: &str, rows: &[GroupRow]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title}")?;
    let mut table = new_table(&[
        "name",
        "deliveries",
        "failed",
        "bounce rate",
        "list rot",
        "reputation",
        "infra share",
    ]);
    for r in rows {
        table.add_row(vec![
            r.name.clone(),
            r.deliveries.to_string(),
            r.failed.to_string(),
            pct(r.bounce_rate),
            pct(r.list_rot_rate),
            pct(r.reputation_rate),
            pct(r.infrastructure_share),
        ]);
    }
    right(&mut table, &[1, 2, 3, 4, 5, 6]);
    writeln!(out, "{table}")
}

/// A `--by` dimension: the three KPIs per group, counts beside rates.
fn write_by(out: &mut dyn Write, by: &super::group::GroupBy) -> io::Result<()> {
    let shown = by.groups.len() as u64 - u64::from(by.other_groups > 0);
    writeln!(
        out,
        "\nBy {} ({} group{}{})",
        by.dimension,
        by.total_groups,
        if by.total_groups == 1 { "" } else { "s" },
        if by.other_groups > 0 {
            format!(", top {shown} shown, {} summed as (other)", by.other_groups)
        } else {
            String::new()
        }
    )?;
    let mut table = new_table(&[
        by.dimension.as_str(),
        "deliveries",
        "failed",
        "bounce rate",
        "list rot",
        "rate",
        "reputation",
        "rate",
        "infra",
        "share",
    ]);
    for r in &by.groups {
        table.add_row(vec![
            r.name.clone(),
            r.deliveries.to_string(),
            r.failed.to_string(),
            pct(r.bounce_rate),
            r.list_rot.to_string(),
            pct(r.list_rot_rate),
            r.reputation.to_string(),
            pct(r.reputation_rate),
            r.infrastructure.to_string(),
            pct(r.infrastructure_share),
        ]);
    }
    right(&mut table, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    writeln!(out, "{table}")
}

fn write_diagnoses(out: &mut dyn Write, diagnoses: &[Diagnosis]) -> io::Result<()> {
    if diagnoses.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nDiagnoses")?;
    for d in diagnoses {
        writeln!(out, "[{}] {}: {}", d.severity.as_str(), d.id, d.title)?;
        let evidence: Vec<String> = d
            .evidence
            .iter()
            .map(|(key, value)| match value {
                Evidence::Count(n) => format!("{key} {n}"),
                Evidence::Rate(x) => format!("{key} {}", pct(*x)),
                Evidence::Number(x) => format!("{key} {x}"),
                Evidence::Text(s) => format!("{key} {s}"),
            })
            .collect();
        writeln!(out, "    evidence: {}", evidence.join(", "))?;
        writeln!(out, "    action: {}", d.action)?;
    }
    Ok(())
}
