//! The trace formats faasplan reads, `auto` sniffing, and [`load`], the one entry point every
//! command uses to turn a file into a validated [`Trace`].

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::TraceError;
use crate::trace::Trace;
use crate::trace::canonical::{self, ReadOptions, ReadReport};
use crate::trace::cloudwatch::ColdStartStats;
use crate::trace::units::TimeUnit;
use crate::trace::{azure2019, azure2021, cloudwatch, records};

/// Which reader to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Look at the header (or the first lines) and pick one of the others.
    Auto,
    /// faasplan's CSV: timestamp_ms,function,duration_ms[,memory_mb][,trigger].
    Canonical,
    /// Azure Functions 2019: per-minute counts per function (+ --durations, --memory).
    Azure2019,
    /// Azure Functions 2021: app,func,end_timestamp,duration (seconds).
    Azure2021,
    /// AWS Lambda REPORT lines from CloudWatch Logs, raw or as a Logs Insights CSV.
    Cloudwatch,
}

impl TraceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceFormat::Auto => "auto",
            TraceFormat::Canonical => "canonical",
            TraceFormat::Azure2019 => "azure2019",
            TraceFormat::Azure2021 => "azure2021",
            TraceFormat::Cloudwatch => "cloudwatch",
        }
    }
}

/// How the Azure 2019 reader places a minute's invocations inside the minute (see
/// [`azure2019::place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Uniform gaps scaled to fill the minute.
    #[default]
    Uniform,
    /// Exponential gaps scaled to fill the minute (a Poisson process given the count).
    Poisson,
    /// Evenly spaced.
    Equidistant,
}

impl Arrivals {
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Uniform => "uniform",
            Arrivals::Poisson => "poisson",
            Arrivals::Equidistant => "equidistant",
        }
    }
}

/// Validated reading options. Options that only one format uses are refused for the others.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub format: Option<TraceFormat>,
    pub skip_bad_rows: bool,
    /// Azure 2019: further day files, appended in order after the trace.
    pub next_days: Vec<PathBuf>,
    /// Azure 2019: durations-percentiles files.
    pub durations: Vec<PathBuf>,
    /// Azure 2019: app-memory files.
    pub memory: Vec<PathBuf>,
    /// Azure 2019: `None` means the default (uniform), and is the only value other formats accept.
    pub arrivals: Option<Arrivals>,
    /// Seed for synthesised arrivals and durations (the run's `--seed`).
    pub seed: u64,
    /// Canonical: the unit of time columns whose name states none (see [`ReadOptions`]).
    pub time_unit: Option<TimeUnit>,
}

/// What loading found out.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// The format read (never `auto`).
    pub format: Option<TraceFormat>,
    /// Rows read, accepted and skipped.
    pub rows: ReadReport,
    /// Facts the user should know: fallbacks applied and their counts, lines ignored.
    pub notes: Vec<String>,
    /// CloudWatch only: the cold starts the logs show.
    pub cold_starts: Option<ColdStartStats>,
}

/// Reads `path` in the format `opts.format` says (sniffing it when `auto` or unset).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Trace, LoadReport), TraceError> {
    let format = resolve(path, opts.format)?;
    check_options(path, format, opts)?;
    let mut report = LoadReport {
        format: Some(format),
        ..LoadReport::default()
    };
    let trace = match format {
        TraceFormat::Auto | TraceFormat::Canonical => {
            let (trace, rows) = canonical::read_path(
                path,
                &ReadOptions {
                    skip_bad_rows: opts.skip_bad_rows,
                    time_unit: opts.time_unit,
                },
            )?;
            report.rows = rows;
            trace
        }
        TraceFormat::Azure2019 => {
            let mut days = vec![path.to_path_buf()];
            days.extend(opts.next_days.iter().cloned());
            let (trace, rows, notes) = azure2019::read(&azure2019::Options {
                days: &days,
                durations: &opts.durations,
                memory: &opts.memory,
                arrivals: opts.arrivals.unwrap_or_default(),
                seed: opts.seed,
                skip_bad_rows: opts.skip_bad_rows,
            })?;
            report.rows = rows;
            report.notes = notes;
            trace
        }
        TraceFormat::Azure2021 => {
            let (trace, rows, notes) = azure2021::read_path(path, opts.skip_bad_rows)?;
            report.rows = rows;
            report.notes = notes;
            trace
        }
        TraceFormat::Cloudwatch => {
            let logs = cloudwatch::read_path(path, opts.skip_bad_rows)?;
            report.rows = logs.report;
            report.notes = logs.notes;
            report.cold_starts = Some(logs.cold_starts);
            logs.trace
        }
    };
    Ok((trace, report))
}

/// Options that the format does not use are an error, not silently ignored.
fn check_options(path: &Path, format: TraceFormat, opts: &LoadOptions) -> Result<(), TraceError> {
    if let Some(unit) = opts.time_unit.filter(|_| format != TraceFormat::Canonical) {
        return Err(TraceError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "--time-unit {} only applies to canonical traces, and this trace is read as {}",
                unit.as_str(),
                format.as_str()
            ),
        });
    }
    if format == TraceFormat::Azure2019 {
        return Ok(());
    }
    let given: Vec<&str> = [
        (!opts.durations.is_empty(), "--durations"),
        (!opts.memory.is_empty(), "--memory"),
        (!opts.next_days.is_empty(), "--next-day"),
        (opts.arrivals.is_some(), "--arrivals"),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(TraceError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "{} only appl{} to Azure 2019 traces, and this trace is read as {}",
            given.join(", "),
            if given.len() == 1 { "ies" } else { "y" },
            format.as_str()
        ),
    })
}

/// The format to read `path` with: `format` itself, or the sniffed one for `auto`/`None`.
pub fn resolve(path: &Path, format: Option<TraceFormat>) -> Result<TraceFormat, TraceError> {
    match format {
        None | Some(TraceFormat::Auto) => sniff_path(path),
        Some(f) => Ok(f),
    }
}

/// How much of the file sniffing looks at, bytes.
const SNIFF_BYTES: u64 = 256 << 10;

/// Picks the format from the start of the file (at most 256 KiB). Anything not recognised as one
/// of the other formats is read as canonical, whose reader then says precisely what is wrong with
/// the header (or that the file is empty).
pub fn sniff_path(path: &Path) -> Result<TraceFormat, TraceError> {
    let file = records::open(path)?;
    let mut head = Vec::new();
    file.take(SNIFF_BYTES)
        .read_to_end(&mut head)
        .map_err(|error| TraceError::Io {
            path: path.to_path_buf(),
            error,
        })?;
    Ok(sniff(&head).unwrap_or(TraceFormat::Canonical))
}

fn first_line(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    text.trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The format of a file that starts with `head`, if it is one faasplan knows.
pub fn sniff(head: &[u8]) -> Option<TraceFormat> {
    let line = first_line(head);
    let names: Vec<&str> = line
        .split(',')
        .map(|n| n.trim().trim_matches('"'))
        .collect();
    let has = |n: &str| names.contains(&n);
    if has("timestamp_ms") && has("function") && has("duration_ms") {
        return Some(TraceFormat::Canonical);
    }
    // The durations and memory files are sniffed as Azure 2019 so that the reader can say which
    // flag they belong to.
    if has("HashFunction") || (has("HashApp") && has("HashOwner")) {
        return Some(TraceFormat::Azure2019);
    }
    if has("app") && has("func") && has("end_timestamp") && has("duration") {
        return Some(TraceFormat::Azure2021);
    }
    if has("@timestamp") && (has("@duration") || has("@message")) {
        return Some(TraceFormat::Cloudwatch);
    }
    let head = String::from_utf8_lossy(head);
    if head.contains("REPORT RequestId:") || head.contains("START RequestId:") {
        return Some(TraceFormat::Cloudwatch);
    }
    // The other names and units the canonical reader knows (`timestamp_s`, `time`, `name`, ...),
    // after the formats above, whose headers are more specific.
    if canonical::is_canonical_header(names.iter().copied()) {
        return Some(TraceFormat::Canonical);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format() {
        let cases: [(&str, Option<TraceFormat>); 11] = [
            (
                "timestamp_ms,function,duration_ms\n0,f,1\n",
                Some(TraceFormat::Canonical),
            ),
            (
                "\u{feff}\n function , timestamp_ms,duration_ms\n",
                Some(TraceFormat::Canonical),
            ),
            (
                "HashOwner,HashApp,HashFunction,Trigger,1,2\n",
                Some(TraceFormat::Azure2019),
            ),
            (
                "HashFunction,HashApp,HashOwner,minute_1\n",
                Some(TraceFormat::Azure2019),
            ),
            (
                "app,func,end_timestamp,duration\n",
                Some(TraceFormat::Azure2021),
            ),
            (
                "@timestamp,@requestId,@duration,@initDuration\n",
                Some(TraceFormat::Cloudwatch),
            ),
            (
                "2024-03-01T09:00:00.000Z START RequestId: a Version: $LATEST\n",
                Some(TraceFormat::Cloudwatch),
            ),
            ("time,name,ms\n", None),
            (
                "Timestamp,Function_Name,Duration\n",
                Some(TraceFormat::Canonical),
            ),
            ("time,name,duration_s\n", Some(TraceFormat::Canonical)),
            (
                "timestamp_ms;function;duration_ms\n",
                None, // read as canonical, whose reader explains the separator
            ),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head.as_bytes()), want, "{head:?}");
        }
    }
}
