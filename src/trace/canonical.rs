//! Reader for the canonical trace CSV (see `workloads/README.md`): a header naming the columns, then
//! one row per invocation. It streams the input through one reused `csv::ByteRecord`, validates the
//! fields it uses, and hands the rows to [`TraceBuilder`], which sorts them and sets the origin.
//!
//! Only the columns faasplan reads must be UTF-8: extra columns (and header names that are not ours)
//! may hold any bytes, because a trace exported from elsewhere often carries free-text columns.

use std::io::Read;
use std::path::Path;

use csv::ByteRecord;

use crate::dist::MAX_DURATION_US;
use crate::error::TraceError;
use crate::time::Micros;
use crate::trace::format::{
    FormatOption, Head, LoadOptions, ReadOutput, SNIFF_EXACT, SNIFF_FALLBACK, TraceReader,
};
use crate::trace::input::Input;
use crate::trace::records::{Csv, Skips, is_blank, shorten};
use crate::trace::units::{self, DateTimeError, Shape, TimeUnit, looks_like_date};
use crate::trace::{Trace, TraceBuilder, Trigger, azure2019};

/// How to read the rows.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Count bad rows in the [`ReadReport`] and go on, instead of failing on the first one.
    /// Header problems (missing or duplicate column, empty file) still fail.
    pub skip_bad_rows: bool,
    /// The unit of timestamp and duration columns whose name states none (`timestamp`, `time`,
    /// `duration`); it must agree with a unit a name states. Given, it also turns off the
    /// unit-mistake checks. `None`: epoch timestamps by magnitude, durations in ms, checks on.
    pub time_unit: Option<TimeUnit>,
}

/// What the reader saw. Blank lines are not rows and are not counted.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReadReport {
    /// Data rows seen, rows.
    pub rows_read: u64,
    /// Rows that became invocations, rows.
    pub rows_accepted: u64,
    /// Bad rows left out (only with `skip_bad_rows`), rows.
    pub rows_skipped: u64,
    /// Skipped rows per reason (`column: reason`), sorted by reason.
    pub skipped_by_reason: Vec<(String, u64)>,
    /// The full messages (`path:line:column: ...`) of the first skipped rows, at most 5, in file order.
    pub first_skipped: Vec<String>,
}

/// |timestamp| limit, microseconds: 2^53 (about 285 years), where `f64` stops holding every
/// integer. It also keeps `arrival - origin` far from `i64` overflow.
const MAX_ABS_TIMESTAMP_US: u64 = 1 << 53;
/// How often (rows) the sink hears how far the reader is.
const PROGRESS_EVERY: u64 = 1 << 16;

/// Opens `path` (`-`: standard input) and reads it as a canonical trace.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<(Trace, ReadReport), TraceError> {
    let (path, reader) = Input::open(path)?.into_parts();
    // No extra BufReader: `read` hands the reader to csv, which buffers 1 MiB itself.
    read(reader, &path, opts)
}

/// Reads a canonical trace from `reader`, streaming. `path` is only used in messages.
pub fn read<R: Read>(
    reader: R,
    path: &Path,
    opts: &ReadOptions,
) -> Result<(Trace, ReadReport), TraceError> {
    let mut builder = TraceBuilder::new();
    let report = read_rows(reader, path, opts, &mut builder)?;
    Ok((builder.finish(), report))
}

/// The canonical format in the registry.
pub struct Reader;

impl TraceReader for Reader {
    fn name(&self) -> &'static str {
        "canonical"
    }

    fn help(&self) -> &'static str {
        "faasplan's CSV: timestamp_ms,function,duration_ms[,memory_mb][,trigger]"
    }

    /// The exact header wins over every other format; the other names and units the reader
    /// knows (`timestamp_s`, `time`, `name`, ...) only after the formats whose headers are more
    /// specific.
    fn sniff(&self, head: &Head) -> u8 {
        if head.has("timestamp_ms") && head.has("function") && head.has("duration_ms") {
            SNIFF_EXACT
        } else if is_canonical_header(head.names.iter().copied()) {
            SNIFF_FALLBACK
        } else {
            0
        }
    }

    fn takes(&self, option: FormatOption) -> bool {
        option == FormatOption::TimeUnit
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        let read_opts = ReadOptions {
            skip_bad_rows: opts.skip_bad_rows,
            time_unit: opts.time_unit,
        };
        // No extra BufReader: csv buffers 1 MiB itself.
        let (path, reader) = input.into_parts();
        let rows = read_rows(reader, &path, &read_opts, sink)?;
        Ok(ReadOutput {
            rows,
            ..ReadOutput::default()
        })
    }
}

/// Where the reader puts valid rows: a [`TraceBuilder`], or a streaming consumer.
pub trait RowSink {
    /// Interns a function name (indices in order of first appearance).
    fn function_id(&mut self, name: &str) -> u32;
    /// One valid row; `arrival_abs_us` is in the file's own clock.
    fn push(
        &mut self,
        arrival_abs_us: i64,
        function: u32,
        duration: Micros,
        memory_mb: u16,
        trigger: Trigger,
    );
    /// Told now and then how far into the input the reader is, bytes (for pre-sizing).
    fn progress(&mut self, _bytes_read: u64) {}
    /// Function `function` belongs to application `app`; the error says which other application
    /// an earlier row gave it. A sink that keeps no applications accepts anything.
    fn set_app(&mut self, _function: u32, _app: &str) -> Result<(), String> {
        Ok(())
    }
    /// The next row pushed is on line `line` of the input (only readers whose rows a streamed
    /// replay may have to locate call it: Azure 2021's).
    fn at_line(&mut self, _line: u64) {}
}

impl RowSink for TraceBuilder {
    fn function_id(&mut self, name: &str) -> u32 {
        TraceBuilder::function_id(self, name)
    }

    #[inline]
    fn push(
        &mut self,
        arrival_abs_us: i64,
        function: u32,
        duration: Micros,
        memory_mb: u16,
        trigger: Trigger,
    ) {
        TraceBuilder::push(self, arrival_abs_us, function, duration, memory_mb, trigger);
    }

    fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        TraceBuilder::set_app(self, function, app)
    }
}

/// Reads a canonical trace from `reader` into `sink`, streaming, and reports what it read.
pub fn read_rows<R: Read, S: RowSink>(
    reader: R,
    path: &Path,
    opts: &ReadOptions,
    sink: &mut S,
) -> Result<ReadReport, TraceError> {
    let mut csv = Csv::new(reader, path);
    let mut rec = ByteRecord::new();

    // csv-core strips a UTF-8 BOM and skips empty lines; we also skip whitespace-only ones.
    let header_line = loop {
        if !csv.read(&mut rec)? {
            return Err(TraceError::Empty {
                path: path.to_path_buf(),
            });
        }
        if !is_blank(&rec) {
            break csv.line(&rec);
        }
    };
    let layout = Layout::from_header(&rec, path, header_line, opts.time_unit)?;
    let mut stamp = match layout.timestamp_unit {
        Some(unit) => Stamp::Number(unit),
        None => Stamp::Undecided,
    };
    // The first value of a unit-less, non-epoch numeric timestamp column and its line: such a
    // column is read as milliseconds to the end, so that the refusal can say what it looks like.
    let mut unitless: Option<(u64, String)> = None;

    let mut shape = Shape::default();
    let mut skipped: Skips<Key> = Skips::default();
    while csv.read(&mut rec)? {
        // Only a row of the right length decides (a short row's fields are not where the
        // header says).
        if stamp == Stamp::Undecided && rec.len() == layout.fields {
            let raw = rec.get(layout.timestamp).unwrap_or_default();
            stamp = decide_stamp(raw, opts.time_unit);
            if stamp == Stamp::Number(TimeUnit::Ms) && opts.time_unit.is_none() {
                let value = String::from_utf8_lossy(raw.trim_ascii());
                unitless = Some((csv.line(&rec), shorten(&value)));
            }
        }
        // The common case, milliseconds in both columns, gets a parser with the units fixed.
        let parsed = if stamp == Stamp::Number(TimeUnit::Ms) && layout.duration_unit == TimeUnit::Ms
        {
            parse_row::<true>(&rec, &layout, stamp)
        } else {
            parse_row::<false>(&rec, &layout, stamp)
        };
        match parsed {
            Ok(row) => {
                // Interned only once the row is valid, so no function ends up with no invocations.
                let f = sink.function_id(row.function);
                if let Some(app) = row.app
                    && sink.set_app(f, app).is_err()
                {
                    let fault = Fault::Value {
                        col: Col::App,
                        why: Why::AppChanged,
                    };
                    let error = || fault.to_error(&rec, &layout, path, csv.line(&rec));
                    skipped.fail_or_count(opts.skip_bad_rows, fault.key(), error)?;
                    continue;
                }
                sink.push(row.arrival_us, f, row.duration, row.memory_mb, row.trigger);
                shape.add(row.arrival_us, row.duration);
                if shape.rows.is_multiple_of(PROGRESS_EVERY) {
                    sink.progress(csv.bytes_read());
                }
            }
            Err(Fault::Blank) => {}
            Err(fault) => {
                let error = || fault.to_error(&rec, &layout, path, csv.line(&rec));
                skipped.fail_or_count(opts.skip_bad_rows, fault.key(), error)?;
            }
        }
    }

    let report = skipped.report_with(path, shape.rows, |key| key.reason(&layout))?;
    check_units(&layout, stamp, unitless, &shape, opts.time_unit).map_err(|reason| {
        TraceError::Invalid {
            path: path.to_path_buf(),
            reason,
        }
    })?;
    Ok(report)
}

/// How a unit-less timestamp column is read, from its first value: ISO-8601 date-times when it
/// looks like a date; else numbers in `--time-unit`; else Unix epoch times in the unit its
/// magnitude says; else milliseconds, provisionally (the column is refused at the end). A value
/// that is neither a number nor a date decides nothing.
fn decide_stamp(raw: &[u8], time_unit: Option<TimeUnit>) -> Stamp {
    let raw = raw.trim_ascii();
    if looks_like_date(raw) {
        return Stamp::Iso;
    }
    let Some(v) = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| v.is_finite())
    else {
        return Stamp::Undecided;
    };
    match (time_unit, units::epoch_unit(v)) {
        (Some(unit), _) => Stamp::Number(unit),
        (None, Some(unit)) => Stamp::Epoch(unit),
        (None, None) => Stamp::Number(TimeUnit::Ms),
    }
}

/// The unit-mistake rules (see `workloads/README.md`), applied once every row is read: the refusal
/// of a unit-less timestamp column that is not epoch times, and, unless `--time-unit` is given,
/// the shapes that a wrong unit makes. `Err` is the message.
fn check_units(
    l: &Layout,
    stamp: Stamp,
    unitless: Option<(u64, String)>,
    shape: &Shape,
    time_unit: Option<TimeUnit>,
) -> Result<(), String> {
    let ts = l.name(Col::Timestamp);
    let ts_col = l.timestamp + 1;
    let dur = l.name(Col::Duration);
    if let Some((line, value)) = unitless {
        let mut msg = format!(
            "column {ts_col} `{ts}` names no unit, and its values are not Unix epoch times \
             (line {line} has {value}; epoch seconds are 1e9..1e10, milliseconds 1e12..1e13, \
             microseconds 1e15..1e16)"
        );
        if shape.compressed() {
            msg.push_str(&format!(
                ". They look like seconds: read as milliseconds, all {} rows would arrive \
                 within {}",
                shape.rows,
                units::secs(shape.span())
            ));
            if !l.duration_named && shape.short_durations() {
                msg.push_str(" and every duration would be under 1 ms");
            }
            msg.push_str(": pass --time-unit s, or name the column timestamp_s");
        } else {
            msg.push_str(
                ": pass --time-unit s, ms or us, or name the column timestamp_s, timestamp_ms \
                 or timestamp_us",
            );
        }
        return Err(msg);
    }
    if time_unit.is_some() {
        return Ok(());
    }
    let mut found: Vec<String> = Vec::new();
    let ts_unit = match stamp {
        Stamp::Number(u) | Stamp::Epoch(u) => Some(u),
        Stamp::Iso | Stamp::Undecided => None,
    };
    if let (Stamp::Number(unit), Some(larger)) = (stamp, ts_unit.and_then(TimeUnit::larger))
        && shape.compressed()
    {
        found.push(format!(
            "read as {}, all {} rows arrive within {} (column {ts_col} `{ts}`): the \
             timestamps are likely {}, so name the column timestamp_{}",
            unit.plural(),
            shape.rows,
            units::secs(shape.span()),
            larger.plural(),
            larger.as_str()
        ));
    }
    if let Some(larger) = l.duration_unit.larger()
        && shape.short_durations()
    {
        let mut fix = format!("name the column duration_{}", larger.as_str());
        // --time-unit also sets a unit-less timestamp column: offer it only when it fits that
        // column too.
        let fits_timestamps = ts_unit.is_none_or(|u| u == larger);
        if !l.duration_named && fits_timestamps {
            fix.push_str(&format!(" or pass --time-unit {}", larger.as_str()));
        }
        found.push(format!(
            "read as {}, every duration is under 1 ms (the longest is {} us; column {} \
             `{dur}`): the durations are likely {}, so {fix}",
            l.duration_unit.plural(),
            shape.max_duration,
            l.duration + 1,
            larger.plural(),
        ));
    }
    if let Some(unit) = ts_unit
        && shape.decades()
    {
        found.push(format!(
            "read as {}, the timestamps span {:.0} years, from {} to {} (column {ts_col} \
             `{ts}`): probably a mix of units (Unix seconds and milliseconds, or relative \
             and Unix times)",
            unit.plural(),
            shape.span() as f64 / (365.25 * 86_400e6),
            units::format_epoch_us(shape.min_arrival),
            units::format_epoch_us(shape.max_arrival)
        ));
    }
    if found.is_empty() {
        return Ok(());
    }
    let mut msg = format!("this looks like a unit mistake: {}", found.join("; "));
    // The override, when one --time-unit fits every numeric column as it is read now.
    let read_in: Vec<TimeUnit> = ts_unit.into_iter().chain([l.duration_unit]).collect();
    if read_in.iter().all(|&u| u == l.duration_unit) {
        msg.push_str(&format!(
            ". If the values really are {}, pass --time-unit {} to turn these checks off",
            l.duration_unit.plural(),
            l.duration_unit.as_str()
        ));
    }
    Err(msg)
}

/// A column faasplan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Timestamp,
    Function,
    Duration,
    Memory,
    Trigger,
    App,
}

impl Col {
    const ALL: [Col; 6] = [
        Col::Timestamp,
        Col::Function,
        Col::Duration,
        Col::Memory,
        Col::Trigger,
        Col::App,
    ];

    /// The canonical header name.
    fn name(self) -> &'static str {
        match self {
            Col::Timestamp => "timestamp_ms",
            Col::Function => "function",
            Col::Duration => "duration_ms",
            Col::Memory => "memory_mb",
            Col::Trigger => "trigger",
            Col::App => "app",
        }
    }

    /// What the column gives, for messages.
    fn role(self) -> &'static str {
        match self {
            Col::Timestamp => "the timestamp",
            Col::Function => "the function name",
            Col::Duration => "the duration",
            Col::Memory => "the memory size",
            Col::Trigger => "the trigger",
            Col::App => "the application",
        }
    }

    fn required(self) -> bool {
        matches!(self, Col::Timestamp | Col::Function | Col::Duration)
    }
}

/// Every header name the reader knows (matched case-insensitively, after trimming): the column it
/// gives, the unit the name states, and its rank. When several columns give the same field the
/// lowest rank wins and the others are ignored like any extra column; two of the same rank are
/// an error.
const HEADER_NAMES: [(&str, Col, Option<TimeUnit>, u8); 15] = [
    ("timestamp_ms", Col::Timestamp, Some(TimeUnit::Ms), 0),
    ("timestamp_s", Col::Timestamp, Some(TimeUnit::S), 0),
    ("timestamp_us", Col::Timestamp, Some(TimeUnit::Us), 0),
    ("timestamp", Col::Timestamp, None, 1),
    ("time", Col::Timestamp, None, 2),
    ("function", Col::Function, None, 0),
    ("function_name", Col::Function, None, 1),
    ("name", Col::Function, None, 2),
    ("duration_ms", Col::Duration, Some(TimeUnit::Ms), 0),
    ("duration_s", Col::Duration, Some(TimeUnit::S), 0),
    ("duration_us", Col::Duration, Some(TimeUnit::Us), 0),
    ("duration", Col::Duration, None, 1),
    ("memory_mb", Col::Memory, None, 0),
    ("trigger", Col::Trigger, None, 0),
    ("app", Col::App, None, 0),
];

/// The column a header name gives, the unit it states and its rank.
fn header_name(name: &str) -> Option<(Col, Option<TimeUnit>, u8)> {
    let name = name.trim();
    HEADER_NAMES
        .iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(name))
        .map(|&(_, col, unit, rank)| (col, unit, rank))
}

/// True when `names` (a header) give a timestamp, a function and a duration: what `auto`
/// sniffing takes for a canonical trace.
pub fn is_canonical_header<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    let mut seen = [false; Col::ALL.len()];
    for n in names {
        if let Some((col, ..)) = header_name(n) {
            seen[col as usize] = true;
        }
    }
    Col::ALL.iter().all(|c| !c.required() || seen[*c as usize])
}

/// A header field that could give a column: (field index, header name, unit, rank).
type Candidate<'h> = (usize, &'h str, Option<TimeUnit>, u8);

/// Where the used columns are (0-based field indices), how many fields a row must have, the names
/// the header gives them (for messages) and the units of the time columns.
#[derive(Debug)]
struct Layout {
    fields: usize,
    timestamp: usize,
    function: usize,
    duration: usize,
    memory: Option<usize>,
    trigger: Option<usize>,
    app: Option<usize>,
    /// The header's name of each column (empty when absent), trimmed.
    names: [String; Col::ALL.len()],
    /// The unit the timestamp column's name states.
    timestamp_unit: Option<TimeUnit>,
    /// How durations are read: the unit the name states, else `--time-unit`, else ms.
    duration_unit: TimeUnit,
    /// Whether the duration column's name states its unit.
    duration_named: bool,
}

impl Layout {
    fn from_header(
        rec: &ByteRecord,
        path: &Path,
        line: u64,
        time_unit: Option<TimeUnit>,
    ) -> Result<Layout, TraceError> {
        // Per column: the best-ranked candidates.
        let mut at: [Vec<Candidate>; Col::ALL.len()] = Default::default();
        for (i, raw) in rec.iter().enumerate() {
            // A name that is not UTF-8 cannot be one of ours: an ignored column.
            let Ok(name) = std::str::from_utf8(raw) else {
                continue;
            };
            let Some((col, unit, rank)) = header_name(name) else {
                continue;
            };
            let slot = &mut at[col as usize];
            match slot.first() {
                Some(&(.., best)) if best < rank => continue,
                Some(&(.., best)) if best > rank => slot.clear(),
                _ => {}
            }
            slot.push((i, name.trim(), unit, rank));
        }
        for (col, cands) in Col::ALL.into_iter().zip(&at) {
            if let [(first, first_name, ..), (i, name, ..), ..] = cands[..] {
                if first_name.eq_ignore_ascii_case(name) {
                    return Err(TraceError::DuplicateColumn {
                        path: path.to_path_buf(),
                        line,
                        column: i + 1,
                        name: name.to_string(),
                        first: first + 1,
                    });
                }
                return Err(TraceError::BadRow {
                    path: path.to_path_buf(),
                    line,
                    reason: format!(
                        "columns {} (`{first_name}`) and {} (`{name}`) both give {}: keep one, \
                         or rename the other",
                        first + 1,
                        i + 1,
                        col.role()
                    ),
                });
            }
        }
        let pick = |col: Col| at[col as usize].first().copied();
        let missing: Vec<&'static str> = Col::ALL
            .into_iter()
            .filter(|c| c.required() && pick(*c).is_none())
            .map(Col::name)
            .collect();
        let (Some(timestamp), Some(function), Some(duration)) = (
            pick(Col::Timestamp),
            pick(Col::Function),
            pick(Col::Duration),
        ) else {
            if let Some(reason) = separator_hint(rec) {
                return Err(TraceError::BadRow {
                    path: path.to_path_buf(),
                    line,
                    reason,
                });
            }
            return Err(TraceError::MissingColumn {
                path: path.to_path_buf(),
                line,
                hint: header_hint(rec),
                missing,
                found: header_names(rec),
            });
        };
        // A unit in the name and a different --time-unit cannot both be right.
        if let Some(flag) = time_unit {
            for (i, name, unit, _) in [timestamp, duration] {
                if let Some(unit) = unit.filter(|&u| u != flag) {
                    return Err(TraceError::BadRow {
                        path: path.to_path_buf(),
                        line,
                        reason: format!(
                            "column {} `{name}` is in {} by its name, but --time-unit {} says {}: \
                             --time-unit is for columns whose name has no unit; drop it, or \
                             rename the column",
                            i + 1,
                            unit.plural(),
                            flag.as_str(),
                            flag.plural()
                        ),
                    });
                }
            }
        }
        let mut names: [String; Col::ALL.len()] = Default::default();
        for (col, cands) in Col::ALL.into_iter().zip(&at) {
            if let Some(&(_, name, ..)) = cands.first() {
                names[col as usize] = name.to_string();
            }
        }
        Ok(Layout {
            fields: rec.len(),
            timestamp: timestamp.0,
            function: function.0,
            duration: duration.0,
            memory: pick(Col::Memory).map(|c| c.0),
            trigger: pick(Col::Trigger).map(|c| c.0),
            app: pick(Col::App).map(|c| c.0),
            names,
            timestamp_unit: timestamp.2,
            duration_unit: duration.2.or(time_unit).unwrap_or(TimeUnit::Ms),
            duration_named: duration.2.is_some(),
        })
    }

    fn index(&self, col: Col) -> Option<usize> {
        match col {
            Col::Timestamp => Some(self.timestamp),
            Col::Function => Some(self.function),
            Col::Duration => Some(self.duration),
            Col::Memory => self.memory,
            Col::Trigger => self.trigger,
            Col::App => self.app,
        }
    }

    /// The column's name as the header gives it.
    fn name(&self, col: Col) -> &str {
        &self.names[col as usize]
    }
}

/// The header's names for a message: backticked, at most 12, each shortened.
fn header_names(rec: &ByteRecord) -> String {
    const MAX_NAMES: usize = 12;
    let mut names: Vec<String> = rec
        .iter()
        .take(MAX_NAMES)
        .map(|raw| format!("`{}`", shorten(String::from_utf8_lossy(raw).trim())))
        .collect();
    if rec.len() > MAX_NAMES {
        names.push(format!("... ({} columns in all)", rec.len()));
    }
    names.join(", ")
}

/// The message for a header whose names are separated by `;` or tabs rather than commas.
fn separator_hint(rec: &ByteRecord) -> Option<String> {
    for (sep, what) in [(b';', "`;`"), (b'\t', "tab")] {
        let known = rec
            .iter()
            .flat_map(|f| f.split(move |&b| b == sep))
            .filter(|n| std::str::from_utf8(n).is_ok_and(|n| header_name(n).is_some()))
            .count();
        if known > 0 && rec.iter().any(|f| f.contains(&sep)) {
            let line: Vec<String> = rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            return Some(format!(
                "the header `{}` looks like a {what}-separated file: faasplan reads \
                 comma-separated CSV (with `.` as the decimal point); save or convert the file \
                 with commas between the fields",
                shorten(&line.join(","))
            ));
        }
    }
    None
}

/// A suggestion for the likely mistake: no header line at all.
fn header_hint(rec: &ByteRecord) -> String {
    let first = rec.get(0).map(|f| f.trim_ascii()).unwrap_or_default();
    let looks_like_data = std::str::from_utf8(first)
        .is_ok_and(|s| s.parse::<f64>().is_ok() || looks_like_date(s.as_bytes()));
    if looks_like_data {
        return "; the first line looks like data: add a header line".to_string();
    }
    String::new()
}

/// One valid row, borrowing the function name from the record.
struct Row<'r> {
    arrival_us: i64,
    function: &'r str,
    duration: Micros,
    memory_mb: u16,
    trigger: Trigger,
    /// The application, when the trace has an `app` column and the row fills it.
    app: Option<&'r str>,
}

/// How the timestamp column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// Numbers in this unit (named by the header or `--time-unit`, or the provisional
    /// milliseconds of a unit-less column that is refused at the end).
    Number(TimeUnit),
    /// Unix epoch times in this unit, chosen from the first value's magnitude: every value must be
    /// in [`units::EPOCH_US`].
    Epoch(TimeUnit),
    /// ISO-8601 date-times.
    Iso,
    /// A unit-less column before its first usable value.
    Undecided,
}

/// Why a row was refused. `Copy` and allocation-free: skipping millions of bad rows costs no
/// allocation per row; the message is only built when it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Not a row at all (a whitespace-only line); skipped silently, like empty lines.
    Blank,
    FieldCount {
        found: usize,
    },
    NotUtf8 {
        col: Col,
        byte: u8,
        offset: usize,
    },
    Value {
        col: Col,
        why: Why,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Empty,
    NotANumber,
    NotFinite,
    Negative,
    /// Out of the 2^53 µs range when read in this unit (`None`: a date-time).
    TimestampRange(Option<TimeUnit>),
    DurationTooLong(TimeUnit),
    /// Not an epoch time in the unit the first value's magnitude chose.
    NotEpoch(TimeUnit),
    DateTime(DateTimeError),
    /// A unit-less timestamp that is neither a number nor a date-time.
    NotATimestamp,
    Memory,
    EmptyName,
    Trigger,
    AppChanged,
}

impl Why {
    fn text(self) -> &'static str {
        match self {
            Why::Empty => "is empty: a number is required",
            Why::NotANumber => "not a number",
            Why::NotFinite => "must be a finite number",
            Why::Negative => "must be >= 0",
            Why::TimestampRange(Some(TimeUnit::Ms)) => {
                "out of range: more than 2^53 microseconds (about 285 years) from zero; \
                 are the timestamps in microseconds or nanoseconds rather than milliseconds?"
            }
            Why::TimestampRange(Some(TimeUnit::S)) => {
                "out of range: more than 2^53 microseconds (about 285 years) from zero; \
                 are the timestamps in milliseconds or smaller units rather than seconds?"
            }
            Why::TimestampRange(Some(TimeUnit::Us)) => {
                "out of range: more than 2^53 microseconds (about 285 years) from zero; \
                 are the timestamps in nanoseconds rather than microseconds?"
            }
            Why::TimestampRange(None) => {
                "out of range: more than 2^53 microseconds (about 285 years) from 1970"
            }
            Why::DurationTooLong(TimeUnit::Ms) => {
                "longer than 10 days (864000000 ms): serverless platforms stop an invocation \
                 after minutes or at most hours, so this is likely a unit mistake \
                 (microseconds or nanoseconds given as milliseconds)"
            }
            Why::DurationTooLong(TimeUnit::S) => {
                "longer than 10 days (864000 s): serverless platforms stop an invocation \
                 after minutes or at most hours, so this is likely a unit mistake \
                 (milliseconds or smaller units given as seconds)"
            }
            Why::DurationTooLong(TimeUnit::Us) => {
                "longer than 10 days (864000000000 us): serverless platforms stop an invocation \
                 after minutes or at most hours, so this is likely a unit mistake \
                 (nanoseconds given as microseconds)"
            }
            Why::NotEpoch(TimeUnit::S) => {
                "not a Unix time in seconds (1e9..1e10) like the first row's: are the units mixed? \
                 (--time-unit sets the unit and turns this check off)"
            }
            Why::NotEpoch(TimeUnit::Ms) => {
                "not a Unix time in milliseconds (1e12..1e13) like the first row's: are the units \
                 mixed? (--time-unit sets the unit and turns this check off)"
            }
            Why::NotEpoch(TimeUnit::Us) => {
                "not a Unix time in microseconds (1e15..1e16) like the first row's: are the units \
                 mixed? (--time-unit sets the unit and turns this check off)"
            }
            Why::DateTime(e) => e.text(),
            Why::NotATimestamp => {
                "neither a number nor an ISO-8601 date-time (e.g. 2024-05-01T12:00:00.123Z)"
            }
            Why::Memory => "must be a whole number of MB from 1 to 65535 (leave blank if unknown)",
            Why::EmptyName => "must not be empty",
            Why::AppChanged => {
                "differs from the app an earlier row gave this function (a function belongs to \
                 one application)"
            }
            Why::Trigger => {
                "must be sync, async or queue, or an Azure trigger name (http, timer, others: \
                 sync; event, storage: async; orchestration: queue); blank means sync"
            }
        }
    }
}

impl Fault {
    /// The grouping key in [`ReadReport::skipped_by_reason`]: the fault without per-row details.
    fn key(self) -> Key {
        match self {
            Fault::Blank | Fault::FieldCount { .. } => Key::FieldCount,
            Fault::NotUtf8 { col, .. } => Key::NotUtf8(col),
            Fault::Value { col, why } => Key::Value(col, why),
        }
    }

    fn to_error(self, rec: &ByteRecord, layout: &Layout, path: &Path, line: u64) -> TraceError {
        let path = path.to_path_buf();
        let (col, why) = match self {
            Fault::Blank | Fault::FieldCount { .. } => {
                let found = rec.len();
                return TraceError::BadRow {
                    path,
                    line,
                    reason: format!(
                        "expected {} fields (as in the header), found {found}",
                        layout.fields
                    ),
                };
            }
            Fault::NotUtf8 { col, byte, offset } => {
                return TraceError::NotUtf8 {
                    path,
                    line,
                    column: layout.index(col).map_or(0, |i| i + 1),
                    name: layout.name(col).to_string(),
                    byte,
                    offset,
                };
            }
            Fault::Value { col, why } => (col, why),
        };
        let index = layout.index(col);
        let raw = index.and_then(|i| rec.get(i)).unwrap_or_default();
        let mut reason = why.text().to_string();
        if raw.contains(&b'\n') {
            reason.push_str("; the field spans several lines: is a quote left open?");
        }
        TraceError::BadValue {
            path,
            line,
            column: index.map_or(0, |i| i + 1),
            name: layout.name(col).to_string(),
            value: shorten(&String::from_utf8_lossy(raw)),
            reason,
        }
    }
}

/// One row. With `MS`, the caller guarantees that `stamp` is `Number(Ms)` and durations are in ms,
/// and the units become constants (the measured fast path of plain `timestamp_ms,duration_ms`).
#[inline(always)]
fn parse_row<'r, const MS: bool>(
    rec: &'r ByteRecord,
    l: &Layout,
    stamp: Stamp,
) -> Result<Row<'r>, Fault> {
    let (stamp, duration_unit) = if MS {
        (Stamp::Number(TimeUnit::Ms), TimeUnit::Ms)
    } else {
        (stamp, l.duration_unit)
    };
    if rec.len() != l.fields {
        return Err(if is_blank(rec) {
            Fault::Blank
        } else {
            Fault::FieldCount { found: rec.len() }
        });
    }
    // The length check makes every index valid; `unwrap_or_default` only keeps this panic-free.
    let raw = |i: usize| rec.get(i).unwrap_or_default();

    let arrival_us = parse_timestamp(raw(l.timestamp), stamp)?;
    let function = text(raw(l.function), Col::Function)?;
    if function.is_empty() {
        return Err(Fault::Value {
            col: Col::Function,
            why: Why::EmptyName,
        });
    }
    let duration = parse_duration(raw(l.duration), duration_unit)?;
    let memory_mb = match l.memory {
        None => 0,
        Some(i) => parse_memory(text(raw(i), Col::Memory)?).map_err(|why| Fault::Value {
            col: Col::Memory,
            why,
        })?,
    };
    let trigger = match l.trigger {
        None => Trigger::Sync,
        Some(i) => parse_trigger(text(raw(i), Col::Trigger)?).ok_or(Fault::Value {
            col: Col::Trigger,
            why: Why::Trigger,
        })?,
    };
    let app = match l.app {
        None => None,
        Some(i) => Some(text(raw(i), Col::App)?.trim()).filter(|a| !a.is_empty()),
    };
    Ok(Row {
        arrival_us,
        function,
        duration,
        memory_mb,
        trigger,
        app,
    })
}

/// `sync`, `async`, `queue` (any case), or an Azure trigger name mapped as the Azure 2019 reader
/// maps it.
fn parse_trigger(s: &str) -> Option<Trigger> {
    Trigger::parse(s).or_else(|| azure2019::map_trigger(s).map(|(_, t)| t))
}

/// A field as UTF-8 with surrounding ASCII whitespace (including a CRLF's `\r`) removed.
fn text(raw: &[u8], col: Col) -> Result<&str, Fault> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(s.trim_ascii()),
        Err(e) => {
            let offset = e.valid_up_to();
            Err(Fault::NotUtf8 {
                col,
                byte: raw.get(offset).copied().unwrap_or(0),
                offset,
            })
        }
    }
}

fn parse_number(s: &str) -> Result<f64, Why> {
    if s.is_empty() {
        return Err(Why::Empty);
    }
    let v: f64 = s.parse().map_err(|_| Why::NotANumber)?;
    if !v.is_finite() {
        return Err(Why::NotFinite);
    }
    Ok(v)
}

/// A timestamp read as `stamp` says, to absolute microseconds (rounded to the nearest).
#[inline(always)]
fn parse_timestamp(raw: &[u8], stamp: Stamp) -> Result<i64, Fault> {
    let bad = |why| Fault::Value {
        col: Col::Timestamp,
        why,
    };
    let (us, unit) = match stamp {
        Stamp::Number(unit) => (number_to_us(raw, unit)?, Some(unit)),
        Stamp::Epoch(unit) => {
            let us = number_to_us(raw, unit)?;
            if !units::EPOCH_US.contains(&us) {
                return Err(bad(Why::NotEpoch(unit)));
            }
            (us, Some(unit))
        }
        Stamp::Iso => {
            let s = text(raw, Col::Timestamp)?;
            if s.is_empty() {
                return Err(bad(Why::Empty));
            }
            let us = units::parse_datetime(s.as_bytes()).map_err(|e| bad(Why::DateTime(e)))?;
            (us, None)
        }
        Stamp::Undecided => {
            let s = text(raw, Col::Timestamp)?;
            return Err(bad(if s.is_empty() {
                Why::Empty
            } else {
                Why::NotATimestamp
            }));
        }
    };
    if us.unsigned_abs() > MAX_ABS_TIMESTAMP_US {
        return Err(bad(Why::TimestampRange(unit)));
    }
    Ok(us)
}

/// A number of `unit` (any sign, fractional allowed) to microseconds; no range check.
#[inline(always)]
fn number_to_us(raw: &[u8], unit: TimeUnit) -> Result<i64, Fault> {
    Ok(match units::plain_to_us(raw.trim_ascii(), unit) {
        Some((negative, us)) => {
            if negative {
                -us
            } else {
                us
            }
        }
        // A saturating cast: out-of-range values stay out of range.
        None => units::float_to_us(
            parse_number(text(raw, Col::Timestamp)?).map_err(|why| Fault::Value {
                col: Col::Timestamp,
                why,
            })?,
            unit,
        ),
    })
}

/// A duration in `unit` to microseconds; the 10-day limit applies after rounding.
#[inline(always)]
fn parse_duration(raw: &[u8], unit: TimeUnit) -> Result<Micros, Fault> {
    let bad = |why| Fault::Value {
        col: Col::Duration,
        why,
    };
    let us = match units::plain_to_us(raw.trim_ascii(), unit) {
        // Negative values take the `f64` path so that `-0.0001` is refused like any negative.
        Some((false, us)) => us as Micros,
        _ => {
            let v = parse_number(text(raw, Col::Duration)?).map_err(bad)?;
            if v < 0.0 {
                return Err(bad(Why::Negative));
            }
            units::float_to_us(v, unit).max(0) as Micros // saturates, so huge values are caught below
        }
    };
    if us > MAX_DURATION_US {
        return Err(bad(Why::DurationTooLong(unit)));
    }
    Ok(us)
}

/// Blank means "not given" (0); otherwise a whole number in 1..=65535 (`512` or `512.0`).
fn parse_memory(s: &str) -> Result<u16, Why> {
    if s.is_empty() {
        return Ok(0);
    }
    let mb = match s.parse::<u16>() {
        Ok(mb) => f64::from(mb),
        Err(_) => s.parse::<f64>().map_err(|_| Why::NotANumber)?,
    };
    if !(1.0..=65535.0).contains(&mb) || mb.fract() != 0.0 {
        return Err(Why::Memory);
    }
    Ok(mb as u16)
}

/// A [`Fault`] without its per-row details, for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    FieldCount,
    NotUtf8(Col),
    Value(Col, Why),
}

impl Key {
    fn reason(self, layout: &Layout) -> String {
        match self {
            Key::FieldCount => "wrong number of fields".to_string(),
            Key::NotUtf8(col) => format!("{}: invalid UTF-8", layout.name(col)),
            Key::Value(col, why) => format!("{}: {}", layout.name(col), why.text()),
        }
    }
}

#[cfg(test)]
mod tests;
