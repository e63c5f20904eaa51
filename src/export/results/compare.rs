//! `faasplan compare`'s result in every format: one row per option (FaaS offerings and fleets),
//! the SLO each must meet, and the recommendation.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::Page;
use crate::plan::compare::{CompareOption, Comparison, Row};
use crate::report::compare::ComparePage;

fn write_table(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    writeln!(w, "trace {}", c.trace)?;
    if let Some(slo) = &c.fleet_slo {
        writeln!(
            w,
            "fleets must meet (and fleets without a count are sized for): {slo}"
        )?;
    }
    if !c.slo.is_empty() {
        writeln!(w, "every option must meet: {}", c.slo.join(", "))?;
    }
    writeln!(w)?;
    let rows: Vec<Row> = c.options.iter().map(CompareOption::row).collect();
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    writeln!(
        w,
        "{:<name_w$}  {:<5}  {:>12}  {:>10}  {:>9}  {:>9}  {:>9}  {:>11}  {:>10}  {:>6}  {:<4}",
        "option",
        "kind",
        "monthly $",
        "$ / M req",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "cold/boots",
        "rejected",
        "util",
        "SLO"
    )?;
    for r in &rows {
        let name: String = r.name.chars().take(name_w).collect();
        writeln!(
            w,
            "{:<name_w$}  {:<5}  {:>12.2}  {:>10.3}  {:>9.1}  {:>9.1}  {:>9.1}  {:>11}  {:>10}  {:>5.1}%  {:<4}",
            name,
            r.kind,
            r.monthly_usd,
            r.usd_per_million_requests,
            r.latency_ms_p50,
            r.latency_ms_p95,
            r.latency_ms_p99,
            r.cold_starts_or_boots,
            r.throttled_or_rejected,
            r.utilisation * 100.0,
            if r.feasible { "ok" } else { "MISS" }
        )?;
    }
    for o in &c.options {
        if let CompareOption::Fleet(f) = o {
            writeln!(
                w,
                "  {}: {} x {} slots, {}; instances min {} mean {:.2} max {}; {:.1} % of requests queued{}",
                f.name,
                f.instance_type,
                f.slots,
                f.sizing,
                f.instances.min,
                f.instances.mean,
                f.instances.max,
                f.waited_ratio * 100.0,
                f.cpu.as_ref().map_or(String::new(), |c| format!(
                    "; CPU {:.1} % of {} vCPU per instance (mean {:.2} vCPU busy){}",
                    c.utilisation * 100.0,
                    c.vcpus_per_instance,
                    c.mean_busy_vcpus,
                    c.credits.as_ref().map_or(String::new(), |k| format!(
                        "; credits {}: {:.0} s at the {} vCPU baseline, {:.3} surplus vCPU-hours",
                        k.mode, k.throttled_s, k.baseline_vcpu, k.surplus_vcpu_hours
                    ))
                ))
            )?;
        }
    }
    for o in &c.options {
        let failed = match o {
            CompareOption::Faas(f) => &f.failed,
            CompareOption::Fleet(f) => &f.failed,
        };
        if !failed.is_empty() {
            writeln!(w, "  {} misses: {}", o.name(), failed.join(", "))?;
        }
    }
    writeln!(w)?;
    writeln!(w, "{}", c.recommendation)?;
    crate::warnings::write_block(w, &c.warnings)
}

fn write_csv(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for o in &c.options {
        out.serialize(o.row()).map_err(std::io::Error::other)?;
    }
    out.flush()
}

impl Export for Comparison {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        write_csv(w, self)
    }

    /// The page without the fleet SLO's p99 line (that is only drawn on the report's chart).
    fn page(&self) -> Page {
        ComparePage::from(self).page()
    }

    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        write_table(w, self)
    }
}
