//! `faasplan breakeven`'s result in every format: FaaS and fleet cost at each traffic factor,
//! and where they cross.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::Page;
use crate::plan::breakeven::Breakeven;
use crate::report::breakeven::BreakevenPage;

fn write_table(w: &mut dyn Write, b: &Breakeven) -> std::io::Result<()> {
    writeln!(w, "trace {}: {} against {}", b.trace, b.offering, b.fleet)?;
    if let Some(slo) = &b.fleet_slo {
        writeln!(w, "{slo}")?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{:>9}  {:>12}  {:>13}  {:>13}  {:>11}  {:>12}  {:>10}  {:<8}",
        "k",
        "requests/s",
        "FaaS $/month",
        "fleet $/month",
        "FaaS p99 ms",
        "fleet p99 ms",
        "instances",
        "cheaper"
    )?;
    for p in &b.points {
        writeln!(
            w,
            "{:>9.3}  {:>12.3}  {:>12.2}{}  {:>12.2}{}  {:>11.1}  {:>12.1}  {:>10.2}  {:<8}",
            p.k,
            p.requests_per_s,
            p.faas_monthly_usd,
            if p.faas_feasible { ' ' } else { '*' },
            p.fleet_monthly_usd,
            if p.fleet_feasible { ' ' } else { '*' },
            p.faas_p99_ms,
            p.fleet_p99_ms,
            p.fleet_instances,
            p.cheaper
        )?;
    }
    if b.points.iter().any(|p| !p.both_feasible()) {
        writeln!(w, "* misses its SLO there: never the cheaper option")?;
    }
    writeln!(w)?;
    writeln!(w, "{}", b.verdict)?;
    crate::warnings::write_block(w, &b.warnings)
}

impl Export for Breakeven {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        crate::export::csv::write_records(w, &self.points)
    }

    fn page(&self) -> Page {
        BreakevenPage::from(self).page()
    }

    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        write_table(w, self)
    }
}
