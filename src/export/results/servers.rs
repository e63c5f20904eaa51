//! `faasplan servers`'s result in every format: the server types a `--fleet` can name, one row
//! each, with the price and the billing rule that drive its bill.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::{Align, Page, Table};
use crate::servers::{MONTH_HOURS, ServerType};

/// One server type of the listing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerRow {
    pub name: String,
    pub catalog: String,
    pub provider: String,
    pub region: String,
    pub vcpu: f64,
    pub memory_gib: f64,
    pub usd_per_hour: f64,
    /// The on-demand price of a 730-hour month.
    pub usd_per_month: f64,
    /// "per second, 60 s minimum" or "per started hour".
    pub billing: String,
    /// Burstable types: the baseline share of each vCPU the earned credits pay for, 0..1.
    pub burstable_baseline: Option<f64>,
    pub as_of: String,
    pub source: String,
}

impl From<&ServerType> for ServerRow {
    fn from(s: &ServerType) -> ServerRow {
        let billing = match (s.per_second, s.minimum_s) {
            (true, 0) => "per second".to_string(),
            (true, m) => format!("per second, {m} s minimum"),
            (false, 0) => "per started hour".to_string(),
            (false, m) => format!("per started hour, {m} s minimum"),
        };
        ServerRow {
            name: s.name.clone(),
            catalog: s.catalog.clone(),
            provider: s.provider.clone(),
            region: s.region.clone(),
            vcpu: s.vcpu,
            memory_gib: s.memory_gib,
            usd_per_hour: s.usd_per_hour,
            usd_per_month: s.usd_per_hour * MONTH_HOURS,
            billing,
            burstable_baseline: s
                .burst
                .as_ref()
                .map(|b| b.baseline_vcpu() / s.vcpu.max(f64::MIN_POSITIVE)),
            as_of: s.as_of.clone(),
            source: s.source.clone(),
        }
    }
}

/// The listing.
#[derive(Debug, Clone)]
pub struct Servers(pub Vec<ServerRow>);

const HINT: &str = "Use one with `faasplan compare TRACE --fleet TYPE:slots=N,count=M` (or \
                    autoscale=MIN..MAX@TARGET), or add your own catalog with --servers FILE \
                    (format: pricing/servers/README.md).";

fn trim(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

impl Export for Servers {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null)
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut c = ::csv::Writer::from_writer(w);
        c.write_record([
            "name",
            "catalog",
            "provider",
            "region",
            "vcpu",
            "memory_gib",
            "usd_per_hour",
            "usd_per_month",
            "billing",
            "burstable_baseline",
            "as_of",
            "source",
        ])?;
        for r in &self.0 {
            c.write_record([
                r.name.clone(),
                r.catalog.clone(),
                r.provider.clone(),
                r.region.clone(),
                trim(r.vcpu),
                trim(r.memory_gib),
                trim(r.usd_per_hour),
                format!("{:.2}", r.usd_per_month),
                r.billing.clone(),
                r.burstable_baseline.map_or_else(String::new, trim),
                r.as_of.clone(),
                r.source.clone(),
            ])?;
        }
        c.flush()
    }

    fn page(&self) -> Page {
        let mut t = Table::new(
            "Server types",
            &[
                ("type", Align::Left),
                ("catalog", Align::Left),
                ("region", Align::Left),
                ("vCPU", Align::Right),
                ("memory GiB", Align::Right),
                ("USD / hour", Align::Right),
                ("USD / month", Align::Right),
                ("billing", Align::Left),
                ("burstable", Align::Left),
            ],
        );
        for r in &self.0 {
            t.row(vec![
                r.name.clone(),
                r.catalog.clone(),
                r.region.clone(),
                trim(r.vcpu),
                trim(r.memory_gib),
                trim(r.usd_per_hour),
                format!("{:.2}", r.usd_per_month),
                r.billing.clone(),
                r.burstable_baseline.map_or_else(String::new, |b| {
                    format!("baseline {} % per vCPU", trim((b * 1000.0).round() / 10.0))
                }),
            ]);
        }
        Page {
            title: "faasplan servers".into(),
            tables: vec![t],
            notes: vec![
                "USD / month: the on-demand price of a 730-hour month, before any commitment \
                 (`discount=` on a fleet)."
                    .into(),
                HINT.into(),
            ],
            ..Page::default()
        }
    }
}
