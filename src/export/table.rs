//! `--format table` (the default): a short aligned summary for people.

use std::io::Write;

use super::page::{Align, Page};
use super::summary::{Percentiles, Summary};

fn pct(x: f64) -> String {
    format!("{:.3} %", x * 100.0)
}

fn lat_line(p: &Percentiles) -> String {
    format!(
        "mean {:.1}  p50 {:.1}  p95 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
        p.mean, p.p50, p.p95, p.p99, p.p999, p.max
    )
}

fn warmup_line(s: &Summary) -> String {
    let w = &s.warmup;
    match w.kind.as_str() {
        "none" => "none (the empty platform's start-up is counted)".to_string(),
        "cyclic" => format!(
            "cyclic: replayed the trace's last {:.0} min first ({} arrivals, {} cold starts not counted)",
            w.replayed_s / 60.0,
            w.invocations,
            w.cold_starts
        ),
        kind => format!(
            "{kind} left out ({} arrivals, {} cold starts not counted)",
            w.invocations, w.cold_starts
        ),
    }
}

pub fn write(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    let r = &s.run;
    let rows: Vec<(&str, String)> = vec![
        (
            "trace",
            format!(
                "{} ({} rows, {} function{}, {:.1} min window)",
                r.trace,
                r.trace_rows,
                s.functions.len(),
                if s.functions.len() == 1 { "" } else { "s" },
                s.window_s / 60.0
            ),
        ),
        (
            "platform",
            format!(
                "{} MB, {} per instance, provisioned {}, keep-alive {}, init {}",
                r.memory_sizes_mb
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                r.per_instance_concurrency,
                r.provisioned_plan
                    .clone()
                    .unwrap_or_else(|| r.provisioned.to_string()),
                r.keep_alive,
                r.init
            ),
        ),
        ("invocations", s.invocations.to_string()),
        (
            "cold starts",
            format!("{} ({})", s.cold_starts, pct(s.cold_start_ratio)),
        ),
        (
            "throttled",
            format!("{} ({})", s.throttled, pct(s.throttle_ratio)),
        ),
        ("dead-lettered", s.dead_lettered.to_string()),
        (
            "timed out",
            match r.timeout_s {
                Some(t) => format!("{} (timeout {t} s)", s.timed_out),
                None => format!("{} (no timeout)", s.timed_out),
            },
        ),
        ("warm-up", warmup_line(s)),
        ("latency ms", lat_line(&s.latency_ms)),
        ("init ms", lat_line(&s.init_ms)),
        (
            "instances",
            format!(
                "peak busy {}  mean busy {:.2}  mean alive {:.2}  started {}",
                s.concurrency.peak_busy,
                s.concurrency.mean_busy,
                s.concurrency.mean_alive,
                s.instances_started
            ),
        ),
        (
            "instance-seconds",
            format!(
                "on-demand busy {:.0}  idle {:.0}  init {:.0}  provisioned busy {:.0}  idle {:.0}",
                s.instance_seconds.on_demand_busy,
                s.instance_seconds.on_demand_idle,
                s.instance_seconds.on_demand_init,
                s.instance_seconds.provisioned_busy,
                s.instance_seconds.provisioned_idle
            ),
        ),
        (
            "wasted memory",
            format!(
                "{:.0} GB-s loaded but not executing  app cold-start p75 {:.3} % ({} app{})",
                s.wasted_memory_gb_s,
                s.app_cold_start_pct_p75,
                s.keep_alive.apps,
                if s.keep_alive.apps == 1 { "" } else { "s" }
            ),
        ),
    ];
    let mut rows = rows;
    if let Some(c) = &s.cpu {
        rows.push((
            "cpu",
            format!(
                "utilisation {:.1} % of {:.3} vCPU per instance while serving ({:.0} vCPU-s busy \
                 in {:.0} instance-s){}",
                c.utilisation * 100.0,
                c.vcpu_per_instance,
                c.busy_vcpu_s,
                c.loaded_instance_s,
                if c.utilisation > 1.0 + 1e-9 {
                    ": more CPU than the instances have"
                } else {
                    ""
                }
            ),
        ));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(w, "{k:>width$}  {v}")?;
    }
    // A learning policy says what it did (a fixed window has nothing to add).
    let used = s.keep_alive.decisions.used();
    if s.keep_alive.prewarms > 0 || used.iter().any(|&(k, _)| k != "fixed") {
        let decisions: Vec<String> = used.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            w,
            "{:>width$}  pre-warms {}  decisions: {}",
            "keep-alive",
            s.keep_alive.prewarms,
            decisions.join(", ")
        )?;
    }
    for n in &s.notes {
        writeln!(w, "{:>width$}  {n}", "note")?;
    }
    if s.functions.len() > 1 {
        writeln!(w)?;
        let name_w = s
            .functions
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(8)
            .clamp(8, 40);
        writeln!(
            w,
            "{:<name_w$}  {:>12}  {:>10}  {:>9}  {:>10}  {:>9}",
            "function", "invocations", "cold", "cold %", "throttled", "peak busy"
        )?;
        for f in &s.functions {
            let name: String = f.name.chars().take(name_w).collect();
            writeln!(
                w,
                "{:<name_w$}  {:>12}  {:>10}  {:>9.3}  {:>10}  {:>9}",
                name,
                f.invocations,
                f.cold_starts,
                f.cold_start_ratio * 100.0,
                f.throttled,
                f.peak_busy
            )?;
        }
    }
    Ok(())
}

/// The table exporter (the default `--format`): the result's own aligned text.
pub struct TableExporter;

impl super::exporter::Exporter for TableExporter {
    fn name(&self) -> &'static str {
        "table"
    }

    fn help(&self) -> &'static str {
        "aligned text for people (the default)"
    }

    fn write(
        &self,
        result: &dyn super::exporter::Export,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        result.write_text(w)
    }
}

/// Renders a page as aligned plain text: warnings first, then each table under its title with
/// its columns padded (numbers to the right), then the notes.
pub fn write_page(w: &mut dyn Write, page: &Page) -> std::io::Result<()> {
    for warning in &page.warnings {
        writeln!(w, "warning: {warning}")?;
    }
    let mut first = page.warnings.is_empty();
    for t in &page.tables {
        if !first {
            writeln!(w)?;
        }
        first = false;
        if !t.title.is_empty() {
            writeln!(w, "{}", t.title)?;
        }
        let columns = t.columns.len();
        let headed = t.columns.iter().any(|(h, _)| !h.is_empty());
        let mut width: Vec<usize> = t.columns.iter().map(|(h, _)| h.chars().count()).collect();
        for row in &t.rows {
            for (i, c) in row.iter().take(columns).enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let padded: Vec<String> = cells
                .enumerate()
                .map(|(i, c)| {
                    let pad = width[i].saturating_sub(c.chars().count());
                    match t.columns[i].1 {
                        Align::Left => format!("{c}{}", " ".repeat(pad)),
                        Align::Right => format!("{}{c}", " ".repeat(pad)),
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        if headed {
            writeln!(
                w,
                "{}",
                line(&mut t.columns.iter().map(|(h, _)| h.as_str()))
            )?;
        }
        for row in &t.rows {
            let mut cells = (0..columns).map(|i| row.get(i).map_or("", String::as_str));
            writeln!(w, "{}", line(&mut cells))?;
        }
        if !t.note.is_empty() {
            writeln!(w, "{}", t.note)?;
        }
    }
    for n in &page.notes {
        writeln!(w)?;
        writeln!(w, "{n}")?;
    }
    Ok(())
}
