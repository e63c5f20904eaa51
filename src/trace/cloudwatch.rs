//! Reader for AWS Lambda logs from CloudWatch: the `REPORT` line Lambda writes after every
//! invocation, either as raw exported log text (each line starting with its timestamp) or as the
//! CSV a Logs Insights query exports (`@timestamp,@duration,@initDuration,@memorySize,...`).
//!
//! A REPORT line is written when the invocation ends, so its timestamp is the end. The request
//! arrived `Duration` earlier, plus `Init Duration` on a cold start (the init runs before the
//! handler). That arrival is what the engine replays; it adds its own init on cold starts. The
//! cold starts the logs show are summed up in [`ColdStartStats`], which `faasplan calibrate` fits.

use std::io::Read;
use std::path::Path;

use crate::dist::{MAX_DURATION_MS, quantile};
use crate::error::TraceError;
use crate::time::{self, Micros};
use crate::trace::canonical::ReadReport;
use crate::trace::format::{Head, LoadOptions, ReadOutput, SNIFF_LIKELY, TraceReader};
use crate::trace::input::Input;
use crate::trace::records::{Fault, Header, Lines, Records, Skips, shorten, text};
use crate::trace::{TraceBuilder, Trigger};

/// The marker of a REPORT line.
const REPORT: &str = "REPORT RequestId:";

/// The cold starts seen in the logs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ColdStartStats {
    /// REPORT lines accepted, invocations.
    pub invocations: u64,
    /// Invocations with an `Init Duration`, invocations.
    pub cold_starts: u64,
    /// `cold_starts / invocations`, fraction.
    pub ratio: f64,
    /// The init durations, when there was at least one cold start.
    pub init_ms: Option<InitPercentiles>,
}

/// Percentiles of the observed init durations (linear interpolation between order statistics),
/// milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct InitPercentiles {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl ColdStartStats {
    fn new(invocations: u64, mut inits_ms: Vec<f64>) -> ColdStartStats {
        inits_ms.sort_by(f64::total_cmp);
        let n = inits_ms.len();
        let init_ms = (n > 0).then(|| InitPercentiles {
            min: inits_ms[0],
            p50: quantile(&inits_ms, 0.5),
            p90: quantile(&inits_ms, 0.9),
            p99: quantile(&inits_ms, 0.99),
            max: inits_ms[n - 1],
            mean: inits_ms.iter().sum::<f64>() / n as f64,
        });
        ColdStartStats {
            invocations,
            cold_starts: n as u64,
            ratio: if invocations == 0 {
                0.0
            } else {
                n as f64 / invocations as f64
            },
            init_ms,
        }
    }

    /// The `--init-ms` value that reproduces the observed inits: a lognormal through the observed
    /// p50 and p99, or a constant when they are equal. `None` without cold starts.
    pub fn init_ms_flag(&self) -> Option<String> {
        let p = self.init_ms?;
        let (p50, p99) = (round2(p.p50), round2(p.p99));
        Some(if p99 > p50 && p50 > 0.0 {
            format!("lognormal:{p50},{p99}")
        } else {
            format!("{p50}")
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The CloudWatch format in the registry.
pub struct Reader;

impl TraceReader for Reader {
    fn name(&self) -> &'static str {
        "cloudwatch"
    }

    fn help(&self) -> &'static str {
        "AWS Lambda REPORT lines from CloudWatch Logs, raw or as a Logs Insights CSV"
    }

    fn sniff(&self, head: &Head) -> u8 {
        let insights = head.has("@timestamp") && (head.has("@duration") || head.has("@message"));
        let raw = |marker: &[u8]| head.bytes.windows(marker.len()).any(|w| w == marker);
        if insights || raw(REPORT.as_bytes()) || raw(b"START RequestId:") {
            SNIFF_LIKELY
        } else {
            0
        }
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        let logs = read_input(input, opts.skip_bad_rows, sink)?;
        Ok(ReadOutput {
            rows: logs.report,
            notes: logs.notes,
            cold_starts: Some(logs.cold_starts),
        })
    }
}

/// What the reader returns besides the rows.
#[derive(Debug)]
pub struct Logs {
    pub report: ReadReport,
    pub notes: Vec<String>,
    pub cold_starts: ColdStartStats,
}

/// Opens `path` (`-`: standard input) and reads it as raw log text or, when its first line names
/// `@timestamp`, as a Logs Insights CSV.
pub fn read_path(
    path: &Path,
    skip_bad_rows: bool,
    sink: &mut TraceBuilder,
) -> Result<Logs, TraceError> {
    read_input(Input::open(path)?, skip_bad_rows, sink)
}

/// Reads `input` as raw log text or, when its first line names `@timestamp`, as a Logs Insights
/// CSV. The first line is looked for in the input's head, which the reader then continues from.
pub fn read_input(
    mut input: Input,
    skip_bad_rows: bool,
    sink: &mut TraceBuilder,
) -> Result<Logs, TraceError> {
    let head = input.head(64 << 10)?;
    let text = String::from_utf8_lossy(head);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let insights = first
        .split(',')
        .any(|n| n.trim().trim_matches('"') == "@timestamp");
    let (path, reader) = input.into_parts();
    if insights {
        read_insights(reader, &path, skip_bad_rows, sink)
    } else {
        read_raw(reader, &path, skip_bad_rows, sink)
    }
}

/// The function name for a file without one: its stem (`my-fn.log` is `my-fn`; standard input's
/// is `lambda`).
fn stem(path: &Path) -> String {
    if path.as_os_str() == crate::trace::input::STDIN_NAME {
        return "lambda".into();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "lambda".into())
}

/// One parsed REPORT line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportLine {
    pub duration_ms: f64,
    pub init_ms: Option<f64>,
    pub memory_mb: Option<u16>,
}

/// What is wrong with a REPORT line: the field, the reason, and the byte offset of the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportFault {
    pub name: &'static str,
    pub why: &'static str,
    pub offset: usize,
}

/// Parses the fields of the REPORT line in `line` (which contains [`REPORT`]). Offsets are into
/// `line`.
pub fn parse_report(line: &str) -> Result<ReportLine, ReportFault> {
    let duration = find_label(line, "Duration:", true).ok_or(ReportFault {
        name: "Duration",
        why: "the REPORT line has no `Duration: N ms`",
        offset: line.find(REPORT).unwrap_or(0),
    })?;
    let duration_ms = value_at(line, duration, "Duration", "ms")?;
    let init_ms = match find_label(line, "Init Duration:", false) {
        Some(at) => Some(value_at(line, at, "Init Duration", "ms")?),
        None => None,
    };
    let memory_mb = match find_label(line, "Memory Size:", false) {
        Some(at) => {
            let mb = value_at(line, at, "Memory Size", "MB")?;
            if !(1.0..=65535.0).contains(&mb) || mb.fract() != 0.0 {
                return Err(ReportFault {
                    name: "Memory Size",
                    why: "must be a whole number of MB from 1 to 65535",
                    offset: at,
                });
            }
            Some(mb as u16)
        }
        None => None,
    };
    Ok(ReportLine {
        duration_ms,
        init_ms,
        memory_mb,
    })
}

/// The offset just after `label` in `line`. For the bare `Duration:`, occurrences that end
/// `Billed Duration:`, `Init Duration:` or `Restore Duration:` are not it.
fn find_label(line: &str, label: &str, bare: bool) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find(label) {
        let at = from + i;
        let before = line[..at].trim_end();
        let qualified = ["Billed", "Init", "Restore"]
            .iter()
            .any(|w| before.ends_with(w));
        if !bare || !qualified {
            return Some(at + label.len());
        }
        from = at + label.len();
    }
    None
}

/// The number after a label (at `at`) and its unit.
fn value_at(line: &str, at: usize, name: &'static str, unit: &str) -> Result<f64, ReportFault> {
    let rest = &line[at..];
    let start = at + (rest.len() - rest.trim_start().len());
    let mut words = line[start..].split_whitespace();
    let bad = |why| ReportFault {
        name,
        why,
        offset: start,
    };
    let v: f64 = words
        .next()
        .ok_or(bad("no value"))?
        .parse()
        .map_err(|_| bad("not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(bad("must be a finite number >= 0"));
    }
    if v > MAX_DURATION_MS {
        return Err(bad("longer than 10 days: not a Lambda duration"));
    }
    if words.next() != Some(unit) {
        return Err(bad(if unit == "ms" {
            "the unit must be ms"
        } else {
            "the unit must be MB"
        }));
    }
    Ok(v)
}

/// Parses a log timestamp to microseconds since the Unix epoch: RFC 3339 / ISO 8601
/// (`2024-03-01T09:00:12.345Z`, `2024-03-01 09:00:12.345`, with `Z`, `+hh:mm` or no zone, which
/// means UTC as CloudWatch writes it), or a number of milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let ms: f64 = s.parse().ok()?;
        return (ms.is_finite() && ms < 9e15).then(|| (ms * 1e3).round() as i64);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_us = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let mut scale = 100_000;
        for &c in &b[i..i + digits] {
            frac_us += i64::from(c - b'0') * scale;
            scale /= 10;
        }
        i += digits;
    }
    let offset_s = match &s[i..] {
        "" | "Z" | "z" | " UTC" | "UTC" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = zone[1..].replace(':', "");
            if z.len() != 4 || !z.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (zh, zm): (i64, i64) = (z[..2].parse().ok()?, z[2..].parse().ok()?);
            sign * (zh * 3600 + zm * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1_000_000 + frac_us)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Accumulates accepted invocations.
struct Collect<'b> {
    b: &'b mut TraceBuilder,
    inits: Vec<f64>,
    accepted: u64,
    skips: Skips,
}

impl<'b> Collect<'b> {
    fn new(b: &'b mut TraceBuilder) -> Self {
        Collect {
            b,
            inits: Vec::new(),
            accepted: 0,
            skips: Skips::default(),
        }
    }

    /// `end_us`: the REPORT timestamp, microseconds since the epoch.
    fn push(&mut self, function: &str, end_us: i64, r: ReportLine) {
        let f = self.b.function_id(function);
        if let Some(i) = r.init_ms {
            self.inits.push(i);
        }
        self.b.push(
            arrival_us(end_us, &r),
            f,
            time::ms_to_us(r.duration_ms),
            r.memory_mb.unwrap_or(0),
            Trigger::Sync,
        );
        self.accepted += 1;
    }

    fn finish(self, path: &Path, mut notes: Vec<String>, what: &str) -> Result<Logs, TraceError> {
        let Collect {
            b,
            inits,
            accepted,
            skips,
        } = self;
        if accepted == 0 && skips.rows == 0 {
            return Err(TraceError::Invalid {
                path: path.to_path_buf(),
                reason: format!("no Lambda REPORT {what} found"),
            });
        }
        let report = skips.report(path, accepted)?;
        let cold_starts = ColdStartStats::new(accepted, inits);
        notes.insert(
            0,
            format!(
                "{} invocations of {} function(s) from REPORT {what}; arrival = timestamp - \
                 Duration - Init Duration (the REPORT is written at the end); rows are sync",
                b.rows(),
                b.functions()
            ),
        );
        notes.push(describe(&cold_starts));
        Ok(Logs {
            report,
            notes,
            cold_starts,
        })
    }
}

/// One line on the observed cold starts.
pub fn describe(s: &ColdStartStats) -> String {
    match s.init_ms {
        None => format!(
            "observed cold starts: 0 of {} invocations (no Init Duration in the logs)",
            s.invocations
        ),
        Some(p) => format!(
            "observed cold starts: {} of {} invocations ({:.2} %); Init Duration p50 {:.1} ms, \
             p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            s.cold_starts,
            s.invocations,
            s.ratio * 100.0,
            p.p50,
            p.p90,
            p.p99,
            p.max
        ),
    }
}

/// Reads raw log text: REPORT lines are rows, every other line (START, END, the function's own
/// output) is counted and ignored. All rows belong to one function named after the file.
pub fn read_raw<R: Read>(
    reader: R,
    path: &Path,
    skip: bool,
    sink: &mut TraceBuilder,
) -> Result<Logs, TraceError> {
    let function = stem(path);
    let mut lines = Lines::new(reader, path);
    let mut c = Collect::new(sink);
    let mut other = 0u64;
    while let Some((line_no, raw)) = lines.next_line()? {
        let Some(at) = find_bytes(raw, REPORT.as_bytes()) else {
            if !raw.trim_ascii().is_empty() {
                other += 1;
            }
            continue;
        };
        let parsed = (|| -> Result<(i64, ReportLine), Box<(Fault, TraceError)>> {
            let line = text(raw, 0, "line").map_err(|f| {
                let e = f.to_error(path, line_no, |_| raw);
                Box::new((f, e))
            })?;
            let value_error = |rf: ReportFault| {
                let column = line[..rf.offset.min(line.len())].chars().count() + 1;
                let value: String = line
                    .get(rf.offset..)
                    .unwrap_or("")
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                Box::new((
                    Fault::value(0, rf.name, rf.why),
                    TraceError::BadValue {
                        path: path.to_path_buf(),
                        line: line_no,
                        column,
                        name: rf.name.to_string(),
                        value: shorten(&value),
                        reason: rf.why.to_string(),
                    },
                ))
            };
            let prefix = line[..at].trim();
            let stamp = prefix.split_whitespace().next().unwrap_or("");
            let end = if stamp.is_empty() {
                None
            } else {
                // `2024-03-01 09:00:12.345` has a space: try the first two words too.
                parse_timestamp(stamp).or_else(|| {
                    let two: Vec<&str> = prefix.splitn(3, char::is_whitespace).take(2).collect();
                    parse_timestamp(&two.join(" "))
                })
            };
            let Some(end) = end else {
                return Err(value_error(ReportFault {
                    name: "timestamp",
                    why: "a REPORT line must start with its timestamp (RFC 3339, e.g. \
                          2024-03-01T09:00:12.345Z, or epoch milliseconds)",
                    offset: 0,
                }));
            };
            let r = parse_report(line).map_err(value_error)?;
            Ok((end, r))
        })();
        match parsed {
            Ok((end, r)) => c.push(&function, end, r),
            Err(boxed) => {
                let (fault, error) = *boxed;
                c.skips.fail_or_count(skip, fault.key(), || error)?;
            }
        }
    }
    let mut notes = Vec::new();
    if other > 0 {
        notes.push(format!(
            "{other} other log lines (START, END, function output) are not invocations and were \
             ignored"
        ));
    }
    notes.push(format!(
        "raw logs name no function: every invocation is function `{function}` (the file name)"
    ));
    c.finish(path, notes, "lines")
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The function in a `@log` value such as `123456789012:/aws/lambda/my-fn`.
fn function_from_log(log: &str) -> &str {
    if let Some(i) = log.rfind("/aws/lambda/") {
        return &log[i + "/aws/lambda/".len()..];
    }
    match log.split_once(':') {
        Some((_, group)) if !group.is_empty() => group,
        _ => log,
    }
}

/// `@memorySize` as MB. Logs Insights reports bytes (128 MB as 128000000 or 134217728); a value
/// up to 65535 is taken as MB already.
fn memory_mb(v: f64) -> Option<u16> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let mb = if v <= 65535.0 {
        v
    } else if v % 1_048_576.0 == 0.0 {
        v / 1_048_576.0
    } else {
        (v / 1e6).round()
    };
    ((1.0..=65535.0).contains(&mb) && mb.fract() == 0.0).then_some(mb as u16)
}

/// Reads the CSV of a Logs Insights query. Rows with an empty `@duration` (and no REPORT in
/// `@message`) are other log events: counted and ignored.
pub fn read_insights<R: Read>(
    reader: R,
    path: &Path,
    skip: bool,
    sink: &mut TraceBuilder,
) -> Result<Logs, TraceError> {
    let mut records = Records::new(reader, path);
    let header = Header::read(&mut records, "@timestamp,@duration,@initDuration,...")?;
    let ts = header.require(
        path,
        "@timestamp",
        "a Logs Insights CSV: @timestamp,@requestId,@duration,@billedDuration,@memorySize,\
         @maxMemoryUsed,@initDuration",
    )?;
    let duration = header.find(path, "@duration")?;
    let message = header.find(path, "@message")?;
    if duration.is_none() && message.is_none() {
        return Err(TraceError::BadRow {
            path: path.to_path_buf(),
            line: header.line,
            reason: format!(
                "missing column `@duration` (or `@message` with the REPORT text); the header \
                 has: {}",
                header.describe()
            ),
        });
    }
    let init = header.find(path, "@initDuration")?;
    let memory = header.find(path, "@memorySize")?;
    let mut function_col = None;
    for name in ["function", "@log", "@logGroup"] {
        if let Some(i) = header.find(path, name)? {
            function_col = Some((i, name));
            break;
        }
    }
    let fallback = stem(path);
    let fields = header.names.len();
    let mut c = Collect::new(sink);
    let mut other = 0u64;
    let mut function = String::new();
    let mut skips = std::mem::take(&mut c.skips);
    records.for_each_row(fields, skip, &mut skips, |rec| {
        let from_fields = match duration {
            Some(d) if !rec.get(d).is_empty() => {
                let ms = ms_field(rec.get(d), d, "@duration")?;
                let init_ms = match init {
                    Some(i) if !rec.get(i).is_empty() => {
                        Some(ms_field(rec.get(i), i, "@initDuration")?)
                    }
                    _ => None,
                };
                let memory_mb = match memory {
                    Some(m) if !rec.get(m).is_empty() => {
                        let v = text(rec.get(m), m, "@memorySize")?
                            .parse::<f64>()
                            .map_err(|_| Fault::value(m, "@memorySize", "not a number"))?;
                        Some(memory_mb(v).ok_or(Fault::value(
                            m,
                            "@memorySize",
                            "must be whole MB from 1 to 65535, or bytes",
                        ))?)
                    }
                    _ => None,
                };
                Some(ReportLine {
                    duration_ms: ms,
                    init_ms,
                    memory_mb,
                })
            }
            _ => None,
        };
        let r = match (from_fields, message) {
            (Some(r), _) => r,
            (None, Some(m)) => {
                let msg = text(rec.get(m), m, "@message")?;
                if !msg.contains(REPORT) {
                    other += 1;
                    return Ok(());
                }
                parse_report(msg).map_err(|rf| Fault::value(m, "@message", rf.why))?
            }
            (None, None) => {
                other += 1;
                return Ok(());
            }
        };
        let stamp = text(rec.get(ts), ts, "@timestamp")?;
        let end = parse_timestamp(stamp).ok_or(Fault::value(
            ts,
            "@timestamp",
            "not a timestamp (expected e.g. 2024-03-01 09:00:12.345, RFC 3339, or epoch ms)",
        ))?;
        function.clear();
        match function_col {
            Some((i, name)) => {
                let v = text(rec.get(i), i, name)?;
                let v = if name == "function" {
                    v
                } else {
                    function_from_log(v)
                };
                if v.is_empty() {
                    return Err(Fault::value(i, name, "must not be empty"));
                }
                function.push_str(v);
            }
            None => function.push_str(&fallback),
        }
        c.push(&function, end, r);
        Ok(())
    })?;
    c.skips = skips;
    let mut notes = Vec::new();
    if other > 0 {
        notes.push(format!(
            "{other} rows are not REPORT events (empty @duration) and were ignored"
        ));
    }
    if function_col.is_none() {
        notes.push(format!(
            "no function/@log column: every invocation is function `{fallback}` (the file name)"
        ));
    }
    c.finish(path, notes, "rows")
}

fn ms_field(raw: &[u8], column: usize, name: &'static str) -> Result<f64, Fault> {
    let v = crate::trace::records::number(raw, column, name)?;
    if v < 0.0 {
        return Err(Fault::value(column, name, "must be >= 0 (ms)"));
    }
    if v > MAX_DURATION_MS {
        return Err(Fault::value(
            column,
            name,
            "longer than 10 days: not a Lambda duration",
        ));
    }
    Ok(v)
}

/// The arrival of an invocation whose REPORT was written at `end_us`, microseconds.
pub fn arrival_us(end_us: i64, r: &ReportLine) -> i64 {
    let d: Micros = time::ms_to_us(r.duration_ms) + r.init_ms.map_or(0, time::ms_to_us);
    end_us - d as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2024-03-01T09:00:12.345Z"),
            Some(1_709_283_612_345_000)
        );
        assert_eq!(
            parse_timestamp("2024-03-01 09:00:12.345"),
            Some(1_709_283_612_345_000)
        );
        assert_eq!(
            parse_timestamp("2024-03-01T10:00:12.345678+01:00"),
            Some(1_709_283_612_345_678)
        );
        assert_eq!(
            parse_timestamp("1709283612345"),
            Some(1_709_283_612_345_000)
        );
        assert_eq!(parse_timestamp("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-03-01T09:00:12.345Q"), None);
    }

    #[test]
    fn report_lines() {
        let line = "2024-03-01T09:00:12.345Z REPORT RequestId: 1b2c\tDuration: 102.25 ms\t\
                    Billed Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\t\
                    Init Duration: 150.12 ms\t";
        assert_eq!(
            parse_report(line),
            Ok(ReportLine {
                duration_ms: 102.25,
                init_ms: Some(150.12),
                memory_mb: Some(128)
            })
        );
        // Spaces instead of tabs, no init.
        let warm = "REPORT RequestId: x Duration: 3.5 ms Billed Duration: 4 ms Memory Size: 512 MB";
        assert_eq!(
            parse_report(warm),
            Ok(ReportLine {
                duration_ms: 3.5,
                init_ms: None,
                memory_mb: Some(512)
            })
        );
        let bad = "REPORT RequestId: x Duration: fast ms";
        assert_eq!(
            parse_report(bad).map_err(|f| (f.name, f.why, f.offset)),
            Err(("Duration", "not a number", 30))
        );
        assert!(parse_report("REPORT RequestId: x Billed Duration: 3 ms").is_err());
        assert!(parse_report("REPORT RequestId: x Duration: 3 s").is_err());
    }

    #[test]
    fn raw_logs_give_arrivals_and_cold_starts() {
        let log = "2024-03-01T09:00:00.000Z START RequestId: a Version: $LATEST\n\
                   2024-03-01T09:00:01.000Z END RequestId: a\n\
                   2024-03-01T09:00:01.000Z REPORT RequestId: a\tDuration: 700.00 ms\tBilled \
                   Duration: 700 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\tInit \
                   Duration: 250.00 ms\n\
                   2024-03-01T09:00:05.000Z REPORT RequestId: b\tDuration: 100.00 ms\tBilled \
                   Duration: 100 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\n";
        let mut b = TraceBuilder::new();
        let logs = match read_raw(log.as_bytes(), Path::new("dir/my-fn.log"), false, &mut b) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let t = &b.finish();
        assert_eq!(t.functions[0].name, "my-fn");
        // 09:00:01 - 0.7 s - 0.25 s = 09:00:00.050; the origin is 09:00:00.
        assert_eq!(t.origin_us, 1_709_283_600_000_000);
        assert_eq!(t.invocations[0].arrival, 50_000);
        assert_eq!(t.invocations[0].duration, 700_000);
        assert_eq!(t.invocations[0].memory_mb, 256);
        assert_eq!(t.invocations[1].arrival, 4_900_000);
        assert_eq!(logs.cold_starts.cold_starts, 1);
        assert_eq!(logs.cold_starts.ratio, 0.5);
        assert_eq!(logs.report.rows_read, 2);
        assert!(
            logs.notes
                .iter()
                .any(|n| n.starts_with("2 other log lines"))
        );
    }

    #[test]
    fn raw_errors_point_at_the_value() {
        let log = "2024-03-01T09:00:01.000Z REPORT RequestId: a\tDuration: -3 ms\n";
        match read_raw(
            log.as_bytes(),
            Path::new("f.log"),
            false,
            &mut TraceBuilder::new(),
        ) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert_eq!(
                e.to_string(),
                "f.log:1:56: Duration \"-3\": must be a finite number >= 0"
            ),
        }
        let log = "REPORT RequestId: a\tDuration: 3 ms\n";
        match read_raw(
            log.as_bytes(),
            Path::new("f.log"),
            false,
            &mut TraceBuilder::new(),
        ) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert!(
                e.to_string()
                    .starts_with("f.log:1:1: timestamp \"REPORT\": a REPORT line must start"),
                "{e}"
            ),
        }
    }

    #[test]
    fn insights_csv() {
        let csv = "@timestamp,@requestId,@duration,@billedDuration,@memorySize,@maxMemoryUsed,\
                   @initDuration,@log\n\
                   2024-03-01 09:00:01.000,a,500,500,128000000,70000000,200,123:/aws/lambda/api\n\
                   2024-03-01 09:00:02.000,b,100,100,134217728,70000000,,123:/aws/lambda/api\n\
                   2024-03-01 09:00:03.000,c,,,,,,123:/aws/lambda/api\n";
        let mut b = TraceBuilder::new();
        let logs = match read_insights(csv.as_bytes(), Path::new("q.csv"), false, &mut b) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let trace = b.finish();
        assert_eq!(trace.functions[0].name, "api");
        assert_eq!(trace.len(), 2);
        assert_eq!(trace.invocations[0].arrival, 300_000);
        assert_eq!(trace.invocations[0].memory_mb, 128);
        assert_eq!(trace.invocations[1].memory_mb, 128);
        assert_eq!(logs.cold_starts.cold_starts, 1);
        assert_eq!(logs.cold_starts.init_ms_flag().as_deref(), Some("200"));
        assert!(
            logs.notes
                .iter()
                .any(|n| n.starts_with("1 rows are not REPORT"))
        );
    }

    #[test]
    fn stats_and_fit() {
        let s = ColdStartStats::new(10, vec![100.0, 300.0, 200.0]);
        assert_eq!(s.cold_starts, 3);
        let p = s.init_ms.unwrap_or_else(|| panic!("no percentiles"));
        assert_eq!((p.min, p.p50, p.max), (100.0, 200.0, 300.0));
        assert_eq!(s.init_ms_flag().as_deref(), Some("lognormal:200,298"));
        assert_eq!(ColdStartStats::new(5, vec![]).init_ms_flag(), None);
    }
}
