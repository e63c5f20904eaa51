//! Exporters, as hyperfine has them: every command computes its result once, and an exporter
//! formats that precomputed result. A result implements [`Export`] (its JSON value, its CSV rows,
//! its tables for people); an output format implements [`Exporter`] over any `Export`.
//!
//! Adding a format is one file with an `Exporter` and one line in [`EXPORTERS`]: `--format`'s
//! values, its help and its parser all come from that list.

use std::io::Write;

use super::page::Page;

/// A command's result, computed once, in the shapes the exporters need.
pub trait Export {
    /// The result as one JSON value (`--format json`).
    fn json(&self) -> serde_json::Value;

    /// [`Export::json`], pretty-printed to `w`. A result may override it to write itself
    /// without building the value first: `simulate`'s value of a million functions took
    /// ~1.3 KB each (issue 14, D10). The bytes must be the same.
    fn write_json(&self, w: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *w, &self.json())?;
        Ok(())
    }

    /// The result as CSV (`--format csv`): a header row, then one row per item.
    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()>;

    /// The result as tables for people (`--format markdown`, and `table` unless
    /// [`Export::write_text`] is overridden).
    fn page(&self) -> Page;

    /// The result as aligned plain text (`--format table`). Defaults to the page's tables.
    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        super::table::write_page(w, &self.page())
    }
}

/// An output format.
pub trait Exporter: Sync {
    /// The `--format` value.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn help(&self) -> &'static str;
    /// Writes `result` in this format.
    fn write(&self, result: &dyn Export, w: &mut dyn Write) -> std::io::Result<()>;
}

/// Every output format, the default first. One line per format.
pub static EXPORTERS: &[&dyn Exporter] = &[
    &super::table::TableExporter,
    &super::json::JsonExporter,
    &super::csv::CsvExporter,
    &super::markdown::MarkdownExporter,
];

/// A `--format` value: one of [`EXPORTERS`].
#[derive(Clone, Copy)]
pub struct Format(&'static dyn Exporter);

impl Format {
    /// The exporter named `name`.
    pub fn named(name: &str) -> Option<Format> {
        EXPORTERS
            .iter()
            .find(|e| e.name() == name)
            .map(|&e| Format(e))
    }

    /// Every format's name, the default first.
    pub fn names() -> Vec<&'static str> {
        EXPORTERS.iter().map(|e| e.name()).collect()
    }

    /// `name: help` for every format, one per line.
    pub fn help() -> String {
        EXPORTERS
            .iter()
            .map(|e| format!("{}: {}", e.name(), e.help()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Writes `result` in this format.
    pub fn write(self, result: &dyn Export, w: &mut dyn Write) -> std::io::Result<()> {
        self.0.write(result, w)
    }
}

impl Default for Format {
    fn default() -> Self {
        Format(EXPORTERS[0])
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Format {}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::named(s).ok_or_else(|| {
            format!(
                "unknown format {s:?}; expected one of {}",
                Format::names().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::page::{Align, Table};

    /// A result with one table, to check each exporter's shape.
    struct Two;

    impl Export for Two {
        fn json(&self) -> serde_json::Value {
            serde_json::json!({ "rows": [{ "name": "a", "usd": 1.5 }, { "name": "b|c", "usd": 20.0 }] })
        }

        fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
            writeln!(w, "name,usd\na,1.5\n\"b|c\",20")
        }

        fn page(&self) -> Page {
            let mut t = Table::new("Costs", &[("name", Align::Left), ("usd", Align::Right)]);
            t.row(vec!["a".into(), "1.5".into()]);
            t.row(vec!["b|c".into(), "20".into()]);
            Page {
                title: "faasplan test".into(),
                subtitle: "trace.csv".into(),
                warnings: vec!["careful".into()],
                tables: vec![t.with_note("USD per month.")],
                notes: vec!["b is cheapest per request.".into()],
            }
        }
    }

    fn out(format: &str) -> String {
        let mut buf = Vec::new();
        Format::named(format)
            .unwrap()
            .write(&Two, &mut buf)
            .unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn every_format_is_registered_once_table_first() {
        assert_eq!(Format::names(), ["table", "json", "csv", "markdown"]);
        assert_eq!(Format::default().name(), "table");
        assert_eq!("markdown".parse::<Format>().unwrap().name(), "markdown");
        let err = "yaml".parse::<Format>().unwrap_err();
        assert!(err.contains("table, json, csv, markdown"), "{err}");
        assert_eq!(Format::help().lines().count(), EXPORTERS.len());
    }

    #[test]
    fn table_aligns_columns_numbers_right() {
        assert_eq!(
            out("table"),
            "warning: careful\n\nCosts\nname  usd\na     1.5\nb|c    20\nUSD per month.\n\n\
             b is cheapest per request.\n"
        );
    }

    #[test]
    fn markdown_escapes_cells_and_aligns_numbers_right() {
        assert_eq!(
            out("markdown"),
            "# faasplan test\n\ntrace.csv\n\n**Warnings**\n\n- ⚠ careful\n\n### Costs\n\n\
             | name | usd |\n|:---|---:|\n| a | 1.5 |\n| b\\|c | 20 |\n\nUSD per month.\n\n\
             b is cheapest per request.\n\n"
        );
    }

    #[test]
    fn json_and_csv_come_from_the_result() {
        let v: serde_json::Value = serde_json::from_str(&out("json")).unwrap();
        assert_eq!(v["rows"][1]["usd"], 20.0);
        assert_eq!(out("csv").lines().count(), 3);
    }
}
