//! `--format csv`: the run-wide summary as one header row and one data row, nested fields
//! flattened with `_` (`latency_ms_p99`). The per-function array is left to JSON.

use std::io::Write;

use super::summary::Summary;

/// Flattens a JSON value into (column, cell) pairs, skipping arrays.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}_{k}")
        }
    };
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, out);
            }
        }
        serde_json::Value::Array(_) => {}
        serde_json::Value::Null => out.push((prefix.to_string(), String::new())),
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

pub fn columns(summary: &Summary) -> Vec<(String, String)> {
    // Lists are left out of the row, so the per-function list is not made into a value.
    let value =
        serde_json::to_value(summary.without_functions()).unwrap_or(serde_json::Value::Null);
    let mut cols = Vec::new();
    flatten("", &value, &mut cols);
    cols
}

pub fn write(w: &mut dyn Write, summary: &Summary) -> std::io::Result<()> {
    let cols = columns(summary);
    let mut out = ::csv::Writer::from_writer(w);
    out.write_record(cols.iter().map(|(k, _)| k.as_str()))?;
    out.write_record(cols.iter().map(|(_, v)| v.as_str()))?;
    out.flush()
}

/// Rows of any serializable struct, nested fields flattened with `_` and lists of strings
/// joined with `; ` (a CSV cell holds no list); the header is the first row's columns.
pub fn write_records<T: serde::Serialize>(w: &mut dyn Write, rows: &[T]) -> std::io::Result<()> {
    let mut out = ::csv::Writer::from_writer(w);
    for (i, r) in rows.iter().enumerate() {
        let mut value = serde_json::to_value(r).map_err(std::io::Error::other)?;
        join_lists(&mut value);
        let mut cols = Vec::new();
        flatten("", &value, &mut cols);
        if i == 0 {
            out.write_record(cols.iter().map(|(k, _)| k.as_str()))?;
        }
        out.write_record(cols.iter().map(|(_, v)| v.as_str()))?;
    }
    out.flush()
}

/// Replaces every list of strings with one `; `-separated string.
fn join_lists(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => map.values_mut().for_each(join_lists),
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => {
            let joined: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
            *v = serde_json::Value::String(joined.join("; "));
        }
        _ => {}
    }
}

/// Several runs of one trace, one row per offering (the columns of the first run).
pub fn write_rows(w: &mut dyn Write, summaries: &[Summary]) -> std::io::Result<()> {
    let mut out = ::csv::Writer::from_writer(w);
    for (i, s) in summaries.iter().enumerate() {
        let cols = columns(s);
        if i == 0 {
            out.write_record(cols.iter().map(|(k, _)| k.as_str()))?;
        }
        out.write_record(cols.iter().map(|(_, v)| v.as_str()))?;
    }
    out.flush()
}

/// The CSV exporter: the result's rows, nested fields flattened with `_`.
pub struct CsvExporter;

impl super::exporter::Exporter for CsvExporter {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn help(&self) -> &'static str {
        "a header row and one row per item, nested fields flattened with `_`"
    }

    fn write(
        &self,
        result: &dyn super::exporter::Export,
        w: &mut dyn Write,
    ) -> std::io::Result<()> {
        result.write_csv(w)
    }
}
