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
    let value = serde_json::to_value(summary).unwrap_or(serde_json::Value::Null);
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
