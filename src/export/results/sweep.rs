//! `faasplan sweep`'s result in every format: the grid table with each metric's mean ± interval,
//! the recommendation, and the CSV of every metric's mean and interval.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::Page;
use crate::report::sweep::SweepPage;
use crate::sweep::memory::{COST_PER_INVOCATION, MemoryView};
use crate::sweep::{self, Metric, PointResult, SweepResult};

/// The label of a grid point with no swept setting.
const AS_CONFIGURED: &str = "as configured";

/// A metric's mean, with its ± half-width when `with_ci` (every cell of a table shows one, or
/// none does).
fn fmt_estimate(metric: Metric, e: Option<&sweep::Estimate>, with_ci: bool) -> String {
    let Some(e) = e else {
        return "-".to_string();
    };
    let pct = metric.unit() == sweep::BoundUnit::Ratio;
    let k = if pct { 100.0 } else { 1.0 };
    let digits = if pct { 3 } else { 1 };
    if with_ci {
        format!("{:.*} ±{:.*}", digits, e.mean * k, digits, e.half_width * k)
    } else {
        format!("{:.*}", digits, e.mean * k)
    }
}

/// A grid point's settings as `name = value`, or "as configured" when nothing is swept.
fn point_label(p: &PointResult) -> String {
    if p.settings.is_empty() && p.keep_alive_policy.is_none() {
        return AS_CONFIGURED.to_string();
    }
    p.settings
        .iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .chain(
            p.keep_alive_policy
                .iter()
                .map(|k| format!("keep_alive_policy = {k}")),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_table(w: &mut dyn Write, r: &SweepResult) -> std::io::Result<()> {
    let with_ci = r.replicas > 1;
    let what = match (&r.resample, with_ci) {
        (_, false) => "one replica, no interval".to_string(),
        (None, true) => "mean ± 95 % CI half-width of the mean".to_string(),
        (Some(b), true) => format!(
            "replicas resample the trace in {} blocks of {} s; mean ± 95 % range of one resampled \
             period (prediction interval)",
            b.blocks, b.block_s
        ),
    };
    writeln!(
        w,
        "trace {} on {}: {} grid points x {} replicas (seed {}); {what}",
        r.trace,
        r.offering,
        r.grid.len(),
        r.replicas,
        r.seed
    )?;
    writeln!(w)?;
    let no_axis = r
        .grid
        .iter()
        .all(|p| p.settings.is_empty() && p.keep_alive_policy.is_none());
    let policies = r.grid.iter().any(|p| p.keep_alive_policy.is_some());
    let setting_names: Vec<String> = if no_axis {
        vec!["point".to_string()]
    } else {
        let mut names: Vec<String> = r
            .grid
            .first()
            .map(|p| p.settings.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        if policies {
            names.push("keep_alive_policy".to_string());
        }
        names
    };
    let mut header: Vec<String> = setting_names.clone();
    let mut table_metrics = sweep::metric::table_metrics();
    if policies {
        // A sweep over keep-alive policies shows what they trade (SitW's two axes).
        table_metrics.push((sweep::Metric::WastedMemory, "wasted GB-s"));
        table_metrics.push((sweep::Metric::AppColdStartP75, "app cold p75 %"));
    }
    header.extend(table_metrics.iter().map(|(_, l)| l.to_string()));
    header.push(String::new());
    let rows: Vec<Vec<String>> = r
        .grid
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row: Vec<String> = if no_axis {
                vec![AS_CONFIGURED.to_string()]
            } else {
                let mut row: Vec<String> = p.settings.iter().map(|(_, v)| format!("{v}")).collect();
                row.extend(p.keep_alive_policy.clone());
                row
            };
            row.extend(
                table_metrics
                    .iter()
                    .map(|&(m, _)| fmt_estimate(m, p.metric(m.column()), with_ci)),
            );
            let mut mark = Vec::new();
            if r.recommended == Some(i) {
                mark.push("<- recommended");
            }
            if r.pareto_cost_p99.contains(&i) {
                mark.push("pareto(p99)");
            }
            if r.pareto_cost_cold_start_ratio.contains(&i) {
                mark.push("pareto(cold)");
            }
            if let Some(v) = &r.memory {
                mark.extend(
                    v.roles()
                        .into_iter()
                        .filter(|&(j, role)| j == i && role != "SLO pick")
                        .map(|(_, role)| role),
                );
            }
            row.push(mark.join(" "));
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |w: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &wd))| {
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c:>wd$}")
                }
            })
            .collect();
        writeln!(w, "{}", text.join("  ").trim_end())
    };
    line(w, &header)?;
    for row in &rows {
        line(w, row)?;
    }
    writeln!(w)?;
    match (r.slos.is_empty(), r.recommended) {
        (true, _) => writeln!(w, "no --slo given: no recommendation")?,
        (false, Some(i)) => {
            let p = &r.grid[i];
            writeln!(
                w,
                "recommended: {} (monthly ${}), the cheapest meeting {}",
                point_label(p),
                fmt_estimate(
                    Metric::CostMonthly,
                    p.metric(Metric::CostMonthly.column()),
                    with_ci
                ),
                r.slos
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )?;
        }
        (false, None) => writeln!(w, "no grid point meets every SLO")?,
    }
    if let Some(v) = &r.memory {
        writeln!(w, "{}", memory_line(r, v))?;
    }
    crate::warnings::write_block(w, &r.warnings)
}

/// One line naming the cheapest, fastest and balanced sizes and the SLO pick, with their cost
/// per million invocations and p99.
pub fn memory_line(r: &SweepResult, v: &MemoryView) -> String {
    let describe = |i: usize| {
        let p = &r.grid[i];
        let cost = p.metric(COST_PER_INVOCATION).map_or(f64::NAN, |e| e.mean) * 1e6;
        let p99 = p
            .metric(Metric::LatencyP99.column())
            .map_or(f64::NAN, |e| e.mean);
        format!(
            "{} (${cost:.2} per 1M invocations, p99 {p99:.1} ms)",
            point_label(p)
        )
    };
    // One entry per point, with every role it has.
    let mut by_point: Vec<(usize, Vec<&str>)> = Vec::new();
    for (i, role) in v.roles() {
        match by_point.iter_mut().find(|(j, _)| *j == i) {
            Some((_, roles)) => roles.push(role),
            None => by_point.push((i, vec![role])),
        }
    }
    let mut parts: Vec<String> = by_point
        .into_iter()
        .map(|(i, roles)| format!("{}: {}", roles.join(", "), describe(i)))
        .collect();
    if v.slo_pick.is_none() {
        parts.push("no SLO pick".into());
    }
    format!("power tuning: {}", parts.join("; "))
}

fn write_csv(w: &mut dyn Write, r: &SweepResult) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for (i, p) in r.grid.iter().enumerate() {
        if i == 0 {
            let mut header: Vec<String> = p.settings.iter().map(|(n, _)| n.clone()).collect();
            if p.keep_alive_policy.is_some() {
                header.push("keep_alive_policy".into());
            }
            header.push("replicas".into());
            for (c, _) in &p.metrics {
                header.push(format!("{c}_mean"));
                header.push(format!("{c}_ci_low"));
                header.push(format!("{c}_ci_high"));
            }
            header.extend(
                [
                    "recommended",
                    "pareto_cost_p99",
                    "pareto_cost_cold_start_ratio",
                ]
                .map(String::from),
            );
            out.write_record(&header)?;
        }
        let mut row: Vec<String> = p.settings.iter().map(|(_, v)| v.to_string()).collect();
        row.extend(p.keep_alive_policy.clone());
        row.push(p.replicas.to_string());
        for (_, e) in &p.metrics {
            row.push(e.mean.to_string());
            row.push(e.ci_low.to_string());
            row.push(e.ci_high.to_string());
        }
        row.push((r.recommended == Some(i)).to_string());
        row.push(r.pareto_cost_p99.contains(&i).to_string());
        row.push(r.pareto_cost_cold_start_ratio.contains(&i).to_string());
        out.write_record(&row)?;
    }
    out.flush()
}

impl Export for SweepResult {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        write_csv(w, self)
    }

    fn page(&self) -> Page {
        SweepPage::from(self).page()
    }

    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        write_table(w, self)
    }
}
