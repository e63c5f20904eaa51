//! `faasplan calibrate`'s result in every format: the cold starts observed in CloudWatch logs and
//! the `--init-ms` value fitted to them.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::{Align, Page, Table};
use crate::trace::cloudwatch::ColdStartStats;

/// What `calibrate` found in one set of logs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Calibration {
    /// The logs read, e.g. their path.
    pub logs: String,
    #[serde(flatten)]
    pub observed: ColdStartStats,
    /// The value for `--init-ms`.
    pub init_ms_flag: String,
    /// What the reader noted about the logs (formats, skipped lines): in the JSON, not a CSV
    /// column.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Calibration {
    /// (label, value) rows: counts, then the init percentiles in milliseconds.
    fn rows(&self) -> Vec<(String, String)> {
        let s = &self.observed;
        let mut rows = vec![
            ("invocations".to_string(), s.invocations.to_string()),
            (
                "cold starts".to_string(),
                format!("{} ({:.2} %)", s.cold_starts, s.ratio * 100.0),
            ),
        ];
        if let Some(p) = s.init_ms {
            for (label, v) in [
                ("init min", p.min),
                ("init p50", p.p50),
                ("init p90", p.p90),
                ("init p99", p.p99),
                ("init max", p.max),
                ("init mean", p.mean),
            ] {
                rows.push((label.to_string(), format!("{v:.2} ms")));
            }
        }
        rows
    }
}

impl Export for Calibration {
    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("notes".into(), serde_json::json!(self.notes));
        }
        v
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        crate::export::csv::write_records(w, std::slice::from_ref(self))
    }

    fn page(&self) -> Page {
        let mut t = Table::new(
            "Observed cold starts",
            &[("", Align::Left), ("", Align::Right)],
        );
        for (k, v) in self.rows() {
            t.row(vec![k, v]);
        }
        Page {
            title: "faasplan calibrate".into(),
            subtitle: self.logs.clone(),
            warnings: Vec::new(),
            tables: vec![t],
            notes: vec![format!("Fitted: `--init-ms {}`", self.init_ms_flag)],
        }
    }

    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        for (k, v) in self.rows() {
            writeln!(w, "{k:<16} {v}")?;
        }
        writeln!(w, "--init-ms {}", self.init_ms_flag)
    }
}
