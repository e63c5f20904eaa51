//! Reads the output of AWS Lambda Power Tuning (github.com/alexcasalboni/aws-lambda-power-tuning,
//! README-INPUT-OUTPUT.md "State Machine Output"): with `includeOutputResults`, `results.stats`
//! holds one entry per power value tested, `{ "value": MB, "averageDuration": ms,
//! "averagePrice": USD, "totalCost": USD }`. The average duration is a trimmed mean of billed
//! durations (`discardTopBottom`, 20 % by default) and the average price is Power Tuning's
//! duration charge for it (no request charge). Accepted: the whole output (`{"results": {...}}`),
//! the `results` object, or the `stats` array alone. Entries with no duration are skipped, as the
//! state machine's analyzer skips them. The engine never sees this file: the caller turns the
//! sizes into a [`crate::engine::MeasuredCurve`].

use std::path::Path;

use serde_json::Value;

use crate::error::ConfigError;

/// The library field errors of `--power-tuning` name.
pub const FIELD: &str = "cpu.measured";

/// One power value Power Tuning tested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerStat {
    /// The function's memory, MB.
    pub memory_mb: u32,
    /// Average (trimmed) billed duration, ms.
    pub average_duration_ms: f64,
    /// Power Tuning's average duration charge per invocation, USD (`None`: not in the file).
    pub average_price_usd: Option<f64>,
}

/// A Power Tuning output: its stats, by increasing memory.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerTuning {
    /// As given, for messages and notes.
    pub source: String,
    pub stats: Vec<PowerStat>,
}

impl PowerTuning {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<PowerTuning, ConfigError> {
        let text = crate::dist::read_text(path)
            .map_err(|e| ConfigError::field(FIELD, format!("{}: {e}", path.display())))?;
        PowerTuning::parse(&path.display().to_string(), &text)
    }

    /// Parses `text`, read from `source`. Errors name the source and the value at fault.
    pub fn parse(source: &str, text: &str) -> Result<PowerTuning, ConfigError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ConfigError::File {
            path: source.into(),
            line: e.line() as u64,
            reason: format!(
                "column {}: not a Power Tuning output (JSON): {e}",
                e.column()
            ),
        })?;
        let bad = |why: String| ConfigError::field(FIELD, format!("{source}: {why}"));
        let stats = match &v {
            Value::Array(a) => Some(a),
            Value::Object(o) => o
                .get("results")
                .and_then(|r| r.get("stats"))
                .or_else(|| o.get("stats"))
                .and_then(Value::as_array),
            _ => None,
        };
        let Some(stats) = stats else {
            let what = match &v {
                Value::Object(o) => {
                    match o.get("results").or(Some(&v)).and_then(|r| r.get("stats")) {
                        Some(s) => format!("\"stats\" is {s}, not a list"),
                        None => format!(
                            "no \"stats\" (keys: {}); run Power Tuning with \"includeOutputResults\": \
                         true",
                            o.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    }
                }
                other => format!("{other} is not a Power Tuning output"),
            };
            return Err(bad(what));
        };
        let mut out: Vec<PowerStat> = Vec::new();
        for (i, s) in stats.iter().enumerate() {
            let num = |key: &str| -> Result<Option<f64>, ConfigError> {
                match s.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Number(n)) => Ok(n.as_f64()),
                    // Power Tuning passes power values as strings in places ("128").
                    Some(Value::String(t)) => t
                        .trim()
                        .parse::<f64>()
                        .map(Some)
                        .map_err(|_| bad(format!("stats[{i}].{key} = {t:?}: not a number"))),
                    Some(other) => Err(bad(format!("stats[{i}].{key} = {other}: not a number"))),
                }
            };
            let duration = num("averageDuration")?;
            // The analyzer drops entries without a duration (an executor with no results).
            let Some(duration) = duration.filter(|&d| d != 0.0) else {
                continue;
            };
            if !(duration.is_finite() && duration > 0.0) {
                return Err(bad(format!(
                    "stats[{i}].averageDuration = {duration}: must be a positive number of ms"
                )));
            }
            let mb = num("value")?
                .ok_or_else(|| bad(format!("stats[{i}] has no \"value\" (the memory size, MB)")))?;
            if !(mb.fract() == 0.0 && (1.0..=65535.0).contains(&mb)) {
                return Err(bad(format!(
                    "stats[{i}].value = {mb}: not a memory size in MB"
                )));
            }
            let price = num("averagePrice")?;
            if let Some(p) = price
                && !(p.is_finite() && p >= 0.0)
            {
                return Err(bad(format!("stats[{i}].averagePrice = {p}: must be >= 0")));
            }
            if out.iter().any(|o| o.memory_mb == mb as u32) {
                return Err(bad(format!(
                    "stats[{i}].value = {mb}: the size appears twice"
                )));
            }
            out.push(PowerStat {
                memory_mb: mb as u32,
                average_duration_ms: duration,
                average_price_usd: price,
            });
        }
        if out.is_empty() {
            return Err(bad(format!(
                "stats = {}: no power value with an average duration, nothing to interpolate",
                if stats.is_empty() {
                    "[]".to_string()
                } else {
                    format!("{} entries, none with averageDuration", stats.len())
                }
            )));
        }
        out.sort_by_key(|s| s.memory_mb);
        Ok(PowerTuning {
            source: source.to_string(),
            stats: out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes_and_string_values() {
        let stats = r#"[{"averagePrice": 2e-7, "averageDuration": 12.5, "value": "256"},
                        {"averagePrice": 3e-7, "averageDuration": 30, "value": 128},
                        {"averageDuration": 0, "value": 512}]"#;
        for text in [
            format!(r#"{{"results": {{"power": "128", "stats": {stats}}}}}"#),
            format!(r#"{{"power": "128", "stats": {stats}}}"#),
            stats.to_string(),
        ] {
            let p = PowerTuning::parse("pt.json", &text).unwrap();
            assert_eq!(
                p.stats,
                vec![
                    PowerStat {
                        memory_mb: 128,
                        average_duration_ms: 30.0,
                        average_price_usd: Some(3e-7)
                    },
                    PowerStat {
                        memory_mb: 256,
                        average_duration_ms: 12.5,
                        average_price_usd: Some(2e-7)
                    },
                ]
            );
        }
    }

    #[test]
    fn errors_name_the_file_and_the_value() {
        let err = |text: &str| PowerTuning::parse("pt.json", text).unwrap_err().to_string();
        let e = err(r#"{"results": {"power": "128", "cost": 1e-7}}"#);
        assert!(e.starts_with("cpu.measured: pt.json: no \"stats\""), "{e}");
        assert!(e.contains("includeOutputResults"), "{e}");
        let e = err(r#"{"results": {"stats": []}}"#);
        assert!(e.contains("stats = []"), "{e}");
        let e = err(r#"[{"value": 128, "averageDuration": -3}]"#);
        assert!(e.contains("stats[0].averageDuration = -3"), "{e}");
        let e = err(r#"[{"value": "big", "averageDuration": 3}]"#);
        assert!(e.contains("stats[0].value = \"big\""), "{e}");
        let e = err("{\n  \"results\": oops");
        assert!(e.starts_with("pt.json:2: column"), "{e}");
        let e =
            err(r#"[{"value": 128, "averageDuration": 3}, {"value": 128, "averageDuration": 4}]"#);
        assert!(e.contains("appears twice"), "{e}");
    }
}
