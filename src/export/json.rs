//! `--format json`: the summary as one pretty-printed JSON object.

use std::io::Write;

use super::summary::Summary;

pub fn write(w: &mut dyn Write, summary: &Summary) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, summary)?;
    writeln!(w)
}

/// Several runs of one trace, one per offering: `{"offerings": [summary, ...]}`.
pub fn write_offerings(w: &mut dyn Write, summaries: &[Summary]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &serde_json::json!({ "offerings": summaries }))?;
    writeln!(w)
}

/// The JSON exporter: the result's JSON value, pretty-printed.
pub struct JsonExporter;

impl super::exporter::Exporter for JsonExporter {
    fn name(&self) -> &'static str {
        "json"
    }

    fn help(&self) -> &'static str {
        "one pretty-printed JSON object, every number with its unit in the field name"
    }

    fn write(
        &self,
        result: &dyn super::exporter::Export,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        result.write_json(w)?;
        writeln!(w)
    }
}
