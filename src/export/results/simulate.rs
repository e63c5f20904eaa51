//! `faasplan simulate`'s result in every format: one run's summary (and bill), or one trace
//! replayed on several offerings side by side.

use crate::engine::PlatformConfig;
use crate::export::exporter::Export;
use crate::export::page::Page;
use crate::export::summary::Summary;
use crate::outcome::Outcome;
use crate::report::compare::ComparePage;
use crate::report::simulate::SimulatePage;

/// A `simulate` run as the exporters see it: the summary, and what the page's tables need,
/// computed only when a text format asks for them.
pub struct SimulateExport<'a> {
    pub summary: &'a Summary,
    pub outcome: &'a Outcome,
    pub cfg: &'a PlatformConfig,
}

impl Export for SimulateExport<'_> {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.summary).unwrap_or(serde_json::Value::Null)
    }

    /// The summary streamed (the same bytes as [`Export::json`]: field order is the struct's,
    /// as in the order-preserving value), so no value of every function is built.
    fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, self.summary)?;
        Ok(())
    }

    fn write_csv(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::export::csv::write(w, self.summary)
    }

    fn page(&self) -> Page {
        let mut page = SimulatePage::from_outcome(self.outcome, self.summary, self.cfg).page();
        if let Some(bill) = &self.summary.cost {
            page.tables.push(crate::report::simulate::bill_table(bill));
        }
        page
    }

    fn write_text(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::export::table::write(w, self.summary)?;
        if let Some(bill) = &self.summary.cost {
            crate::export::bill::write_table(w, bill)?;
        }
        crate::warnings::write_block(w, &self.summary.warnings)
    }
}

/// `simulate --offering A --offering B` as the exporters see it: one run per offering.
pub struct OfferingsExport<'a> {
    /// The trace, e.g. its path.
    pub trace: &'a str,
    pub runs: &'a [Summary],
}

impl Export for OfferingsExport<'_> {
    fn json(&self) -> serde_json::Value {
        // Each run's notes, once each, at the top as every command's JSON has them.
        let mut notes: Vec<&String> = Vec::new();
        for n in self.runs.iter().flat_map(|r| &r.notes) {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        serde_json::json!({ "offerings": self.runs, "notes": notes })
    }

    fn write_csv(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::export::csv::write_rows(w, self.runs)
    }

    fn page(&self) -> Page {
        ComparePage::from_summaries(self.trace, self.runs).page()
    }

    fn write_text(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::export::bill::write_comparison(w, self.runs)
    }
}
