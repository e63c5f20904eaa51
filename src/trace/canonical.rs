//! Reader for the canonical trace CSV (see `workloads/README.md`): a header naming the columns, then
//! one row per invocation. It streams the input through one reused `csv::ByteRecord`, validates the
//! fields it uses, and hands the rows to [`TraceBuilder`], which sorts them and sets the origin.
//!
//! Only the columns faasplan reads must be UTF-8: extra columns (and header names that are not ours)
//! may hold any bytes, because a trace exported from elsewhere often carries free-text columns.

use std::io::{self, Read};
use std::path::Path;

use csv::ByteRecord;

use crate::error::TraceError;
use crate::time::{self, Micros};
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

/// The csv crate reads through its own `BufReader`; this is its capacity, bytes.
const BUFFER_BYTES: usize = 1 << 20;
/// |timestamp| limit, microseconds: 2^53 (about 285 years), where `f64` stops holding every
/// integer. It also keeps `arrival - origin` far from `i64` overflow.
const MAX_ABS_TIMESTAMP_US: u64 = 1 << 53;
/// Duration limit, microseconds: 10 days.
const MAX_DURATION_US: Micros = 10 * 24 * time::HOUR;
/// How often (rows) the sink hears how far the reader is.
const PROGRESS_EVERY: u64 = 1 << 16;
/// How many skipped rows keep their full message in [`ReadReport::first_skipped`].
const FIRST_SKIPPED: usize = 5;
/// Longest value quoted back in a message, characters.
const MAX_QUOTED_CHARS: usize = 60;

/// Opens `path` and reads it as a canonical trace.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<(Trace, ReadReport), TraceError> {
    let file = std::fs::File::open(path).map_err(|error| TraceError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    // No extra BufReader: `read` hands the file to csv, which buffers BUFFER_BYTES itself.
    read(file, path, opts)
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
}

/// Reads a canonical trace from `reader` into `sink`, streaming, and reports what it read.
pub fn read_rows<R: Read, S: RowSink>(
    reader: R,
    path: &Path,
    opts: &ReadOptions,
    sink: &mut S,
) -> Result<ReadReport, TraceError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        // Short and long rows reach us, so they get our message rather than csv's.
        .flexible(true)
        // Only `\n` ends a record, so csv's line count is exact for CRLF files too (with the default
        // terminator the `\n` of `\r\n` is counted with the next record). The `\r` left at the end
        // of the last field is trimmed like any other whitespace.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(Tail::new(reader));
    let mut rec = ByteRecord::new();

    // csv-core strips a UTF-8 BOM and skips empty lines; we also skip whitespace-only ones.
    let header_line = loop {
        if !next_record(&mut rdr, &mut rec, path)? {
            return Err(TraceError::Empty {
                path: path.to_path_buf(),
            });
        }
        if !is_blank(&rec) {
            break record_line(&rdr, &rec);
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
    let mut skipped = Skipped::default();
    while next_record(&mut rdr, &mut rec, path)? {
        // Only a row of the right length decides (a short row's fields are not where the
        // header says).
        if stamp == Stamp::Undecided && rec.len() == layout.fields {
            let raw = rec.get(layout.timestamp).unwrap_or_default();
            stamp = decide_stamp(raw, opts.time_unit);
            if stamp == Stamp::Number(TimeUnit::Ms) && opts.time_unit.is_none() {
                let value = String::from_utf8_lossy(raw.trim_ascii());
                unitless = Some((record_line(&rdr, &rec), shorten(&value)));
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
                sink.push(row.arrival_us, f, row.duration, row.memory_mb, row.trigger);
                shape.add(row.arrival_us, row.duration);
                if shape.rows.is_multiple_of(PROGRESS_EVERY) {
                    sink.progress(rdr.position().byte());
                }
            }
            Err(Fault::Blank) => {}
            Err(fault) => {
                let error = || fault.to_error(&rec, &layout, path, record_line(&rdr, &rec));
                if !opts.skip_bad_rows {
                    return Err(error());
                }
                skipped.add(fault, error);
            }
        }
    }

    let accepted = shape.rows;
    let report = ReadReport {
        rows_read: accepted + skipped.rows,
        rows_accepted: accepted,
        rows_skipped: skipped.rows,
        skipped_by_reason: skipped.by_reason(&layout),
        first_skipped: skipped.first.iter().map(|e| e.to_string()).collect(),
    };
    if accepted == 0 {
        return Err(match skipped.first.into_iter().next() {
            None => TraceError::NoRows {
                path: path.to_path_buf(),
            },
            Some(first) => TraceError::AllRowsBad {
                path: path.to_path_buf(),
                rows: skipped.rows,
                first: first.to_string(),
            },
        });
    }
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

fn next_record<R: Read>(
    rdr: &mut csv::Reader<Tail<R>>,
    rec: &mut ByteRecord,
    path: &Path,
) -> Result<bool, TraceError> {
    rdr.read_byte_record(rec).map_err(|e| {
        let line = rdr.position().line();
        let reason = format!("malformed CSV: {e}");
        match e.into_kind() {
            csv::ErrorKind::Io(error) => TraceError::ReadFailed {
                path: path.to_path_buf(),
                line,
                error,
            },
            // With byte records and `flexible` csv reports nothing else, but stay typed if it does.
            _ => TraceError::BadRow {
                path: path.to_path_buf(),
                line,
                reason,
            },
        }
    })
}

/// An empty line or one of whitespace only (e.g. a lone `\r`): not a row.
fn is_blank(rec: &ByteRecord) -> bool {
    rec.len() == 1 && rec.as_slice().trim_ascii().is_empty()
}

/// The 1-based line on which the record just read starts.
///
/// `ByteRecord::position` is the line where reading *began*, which is too early when blank lines
/// precede the record. Instead count back from where it ended: csv counts every `\n` it consumes,
/// which are the ones inside quoted fields plus the terminator. Only called on the error path.
fn record_line<R: Read>(rdr: &csv::Reader<Tail<R>>, rec: &ByteRecord) -> u64 {
    let end = rdr.position();
    let inside = rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
    let tail = rdr.get_ref();
    let at_end = tail.eof && end.byte() == tail.total;
    let terminated = if !at_end {
        true
    } else if tail.last != b'\n' {
        false
    } else {
        // The file ends in `\n`. It is part of the last field (already counted in `inside`) only
        // when a quote was left open; a closed quoted field ending in `\n` leaves `"\n` at the end.
        let field_ends_in_newline = rec.iter().next_back().is_some_and(|f| f.ends_with(b"\n"));
        !field_ends_in_newline || tail.before_last == b'"'
    };
    end.line()
        .saturating_sub(inside + u64::from(terminated))
        .max(1)
}

/// Passes bytes through and remembers how many there were, the last two and whether the input
/// ended, so [`record_line`] can tell whether the last record had a line terminator.
struct Tail<R> {
    inner: R,
    total: u64,
    before_last: u8,
    last: u8,
    eof: bool,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Self {
        Tail {
            inner,
            total: 0,
            before_last: b'\n',
            last: b'\n',
            eof: false,
        }
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // `get`: a misbehaving reader that claims more than `buf.len()` must not panic here.
        match *buf.get(..n).unwrap_or_default() {
            [] => self.eof = !buf.is_empty(),
            [.., a, b] => (self.before_last, self.last) = (a, b),
            [b] => (self.before_last, self.last) = (self.last, b),
        }
        self.total += n as u64;
        Ok(n)
    }
}

/// A column faasplan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Timestamp,
    Function,
    Duration,
    Memory,
    Trigger,
}

impl Col {
    const ALL: [Col; 5] = [
        Col::Timestamp,
        Col::Function,
        Col::Duration,
        Col::Memory,
        Col::Trigger,
    ];

    /// The canonical header name.
    fn name(self) -> &'static str {
        match self {
            Col::Timestamp => "timestamp_ms",
            Col::Function => "function",
            Col::Duration => "duration_ms",
            Col::Memory => "memory_mb",
            Col::Trigger => "trigger",
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
const HEADER_NAMES: [(&str, Col, Option<TimeUnit>, u8); 14] = [
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
    let mut seen = [false; 5];
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
    /// The header's name of each column (empty when absent), trimmed.
    names: [String; 5],
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
        let mut at: [Vec<Candidate>; 5] = Default::default();
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
        let mut names: [String; 5] = Default::default();
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

/// `s`, cut to at most [`MAX_QUOTED_CHARS`] characters.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}...", &s[..cut]),
    }
}

/// One valid row, borrowing the function name from the record.
struct Row<'r> {
    arrival_us: i64,
    function: &'r str,
    duration: Micros,
    memory_mb: u16,
    trigger: Trigger,
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
    Ok(Row {
        arrival_us,
        function,
        duration,
        memory_mb,
        trigger,
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

/// Bad rows counted by reason, plus the first few errors in full.
#[derive(Default)]
struct Skipped {
    rows: u64,
    /// (key, count) in order of first appearance; there are only a handful of distinct keys.
    counts: Vec<(Key, u64)>,
    first: Vec<TraceError>,
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

impl Skipped {
    fn add(&mut self, fault: Fault, error: impl FnOnce() -> TraceError) {
        let key = fault.key();
        self.rows += 1;
        match self.counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((key, 1)),
        }
        if self.first.len() < FIRST_SKIPPED {
            self.first.push(error());
        }
    }

    fn by_reason(&self, layout: &Layout) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = self
            .counts
            .iter()
            .map(|&(key, n)| (key.reason(layout), n))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Invocation;

    fn read_bytes(input: &[u8], skip_bad_rows: bool) -> Result<(Trace, ReadReport), TraceError> {
        read(
            input,
            Path::new("trace.csv"),
            &ReadOptions {
                skip_bad_rows,
                ..ReadOptions::default()
            },
        )
    }

    fn ok(input: &str) -> Trace {
        match read_bytes(input.as_bytes(), false) {
            Ok((trace, _)) => trace,
            Err(e) => panic!("expected a trace, got: {e}"),
        }
    }

    /// The whole message of the error `input` must give.
    fn check_err(input: &[u8], expected: &str) {
        match read_bytes(input, false) {
            Ok((trace, _)) => panic!("expected `{expected}`, got a trace of {} rows", trace.len()),
            Err(e) => assert_eq!(e.to_string(), expected),
        }
    }

    fn inv(
        arrival: Micros,
        duration: Micros,
        function: u32,
        memory_mb: u16,
        trigger: Trigger,
    ) -> Invocation {
        Invocation {
            arrival,
            duration,
            function,
            memory_mb,
            trigger,
        }
    }

    #[test]
    fn columns_in_any_order_extra_columns_ignored_defaults_applied() {
        let t = ok("note,duration_ms, function ,timestamp_ms\n\
                    x,80.5,api,1000\n\
                    \"a, b\",0,api,1000.25\n");
        assert_eq!(t.functions.len(), 1);
        assert_eq!(t.functions[0].name, "api");
        assert_eq!(t.origin_us, 0);
        assert!(!t.was_sorted);
        assert_eq!(
            t.invocations,
            vec![
                inv(1_000_000, 80_500, 0, 0, Trigger::Sync),
                inv(1_000_250, 0, 0, 0, Trigger::Sync),
            ]
        );
    }

    #[test]
    fn memory_and_trigger_columns() {
        let t = ok("timestamp_ms,function,duration_ms,memory_mb,trigger\n\
                    0,a,1,512,async\n\
                    1,a,1,,\n\
                    2,b,1,2048.0,queue\n\
                    3,b,1, 128 , sync \n");
        assert_eq!(t.functions.len(), 2);
        assert_eq!(t.ranges, vec![0..2, 2..4]);
        assert_eq!(
            t.invocations,
            vec![
                inv(0, 1_000, 0, 512, Trigger::Async),
                inv(1_000, 1_000, 0, 0, Trigger::Sync),
                inv(2_000, 1_000, 1, 2048, Trigger::Queue),
                inv(3_000, 1_000, 1, 128, Trigger::Sync),
            ]
        );
    }

    #[test]
    fn timestamps_round_to_the_nearest_microsecond() {
        let t = ok("timestamp_ms,function,duration_ms\n0.0004,f,0.0006\n1.2346,f,1e2\n");
        assert_eq!(
            t.invocations,
            vec![
                inv(0, 1, 0, 0, Trigger::Sync),
                inv(1_235, 100_000, 0, 0, Trigger::Sync)
            ]
        );
    }

    /// (absolute arrival, duration) in microseconds of a one-row trace.
    fn one_row(timestamp: &str, duration: &str) -> Result<(i64, Micros), String> {
        let input = format!("timestamp_ms,function,duration_ms\n{timestamp},f,{duration}\n");
        match read_bytes(input.as_bytes(), false) {
            Ok((t, _)) => Ok((
                t.origin_us + t.invocations[0].arrival as i64,
                t.invocations[0].duration,
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn number_forms() {
        let ok_cases: [(&str, &str, i64, Micros); 11] = [
            ("0.0005", "0.0005", 1, 1),
            ("-0.0005", "0.0004", -1, 0),
            ("1.23449", "1.2345", 1_234, 1_235),
            ("+5", "+5", 5_000, 5_000),
            (".5", "5.", 500, 5_000),
            ("-.25", "-0", -250, 0),
            ("1e3", "2.5e-1", 1_000_000, 250),
            ("  12 ", " 7\t", 12_000, 7_000),
            ("007", "00.10", 7_000, 100),
            ("-1700000000000.001", "0", -1_700_000_000_000_001, 0),
            (
                "9007199254740.992",
                "864000000.0004",
                9_007_199_254_740_992,
                864_000_000_000,
            ),
        ];
        for (ts, d, want_ts, want_d) in ok_cases {
            assert_eq!(one_row(ts, d), Ok((want_ts, want_d)), "{ts}, {d}");
        }
        let bad_cases: [(&str, &str, &str); 10] = [
            (
                "999999999999999",
                "1",
                "timestamp_ms \"999999999999999\": out of range",
            ),
            (
                "-1234567890123456",
                "1",
                "timestamp_ms \"-1234567890123456\": out of range",
            ),
            (".", "1", "timestamp_ms \".\": not a number"),
            ("-", "1", "timestamp_ms \"-\": not a number"),
            ("1_000", "1", "timestamp_ms \"1_000\": not a number"),
            ("0x10", "1", "timestamp_ms \"0x10\": not a number"),
            ("1.2.3", "1", "timestamp_ms \"1.2.3\": not a number"),
            ("0", "-0.0001", "duration_ms \"-0.0001\": must be >= 0"),
            (
                "0",
                "864000000.0005",
                "duration_ms \"864000000.0005\": longer than 10 days",
            ),
            (
                "9007199254740.993",
                "1",
                "timestamp_ms \"9007199254740.993\": out of range",
            ),
        ];
        for (ts, d, want) in bad_cases {
            match one_row(ts, d) {
                Ok(v) => panic!("{ts}, {d}: expected an error, got {v:?}"),
                Err(e) => assert!(e.contains(want), "{ts}, {d}: {e}"),
            }
        }
    }

    /// The decimal fast path is exact, and within 1 µs of `str::parse::<f64>` rounded, which is
    /// what every other number form goes through (`x * 1000.0` in `f64` can be off by half a µs
    /// for Unix-epoch milliseconds, e.g. 4408972300660.90 -> ...900.5).
    #[test]
    fn decimal_fast_path_is_exact_and_agrees_with_f64() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            // xorshift: deterministic, no dependency.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Up to 9e12 ms, the whole valid range of plain-decimal timestamps.
            let int = x % 9_000_000_000_000 / 10u64.pow((x % 13) as u32);
            let decimals = ((x >> 40) % 4) as u32;
            let frac = (x >> 20) % 10u64.pow(decimals);
            let (s, exact) = match decimals {
                0 => (format!("{int}"), int * 1_000),
                d => (
                    format!("{int}.{frac:0width$}", width = d as usize),
                    int * 1_000 + frac * 10u64.pow(3 - d),
                ),
            };
            assert_eq!(
                units::plain_to_us(s.as_bytes(), TimeUnit::Ms),
                Some((false, exact as i64)),
                "{s}"
            );
            let slow = match s.parse::<f64>() {
                Ok(v) => (v * 1_000.0).round() as i64,
                Err(e) => panic!("{s}: {e}"),
            };
            assert!((slow - exact as i64).abs() <= 1, "{s}: f64 gives {slow}");
        }
    }

    #[test]
    fn origin_is_the_first_arrival_floored_to_the_minute() {
        let t = ok("timestamp_ms,function,duration_ms\n1700000012345,f,1\n1700000072345.5,f,1\n");
        assert_eq!(t.origin_us, 1_699_999_980_000_000);
        assert_eq!(t.invocations[0].arrival, 32_345_000);
        assert_eq!(t.invocations[1].arrival, 92_345_500);

        // Negative times floor away from zero.
        let t = ok("timestamp_ms,function,duration_ms\n-1500,f,1\n");
        assert_eq!(t.origin_us, -60_000_000);
        assert_eq!(t.invocations[0].arrival, 58_500_000);
    }

    #[test]
    fn unsorted_rows_are_sorted_stably() {
        // Durations tag the rows; the rows at 5 ms must keep their input order 1, 2, 3.
        let t = ok("timestamp_ms,function,duration_ms\n\
                    9,f,0\n5,f,1\n7,g,9\n5,f,2\n0,g,8\n5,f,3\n");
        assert!(t.was_sorted);
        assert_eq!(t.origin_us, 0);
        let f: Vec<(Micros, Micros)> = t
            .function_invocations(0)
            .iter()
            .map(|i| (i.arrival, i.duration))
            .collect();
        assert_eq!(
            f,
            vec![(5_000, 1_000), (5_000, 2_000), (5_000, 3_000), (9_000, 0)]
        );
        let g: Vec<(Micros, Micros)> = t
            .function_invocations(1)
            .iter()
            .map(|i| (i.arrival, i.duration))
            .collect();
        assert_eq!(g, vec![(0, 8_000), (7_000, 9_000)]);
    }

    #[test]
    fn bom_crlf_and_blank_lines() {
        let t = ok("\u{feff}timestamp_ms,function,duration_ms\r\n\r\n0,f,1\r\n  \n\n1,f,2");
        assert_eq!(
            t.invocations,
            vec![
                inv(0, 1_000, 0, 0, Trigger::Sync),
                inv(1_000, 2_000, 0, 0, Trigger::Sync)
            ]
        );
        // The BOM is not part of the first name, so a BOM before `function` still matches.
        let t = ok("\u{feff}function,timestamp_ms,duration_ms\n\"f\",0,1\n");
        assert_eq!(t.functions[0].name, "f");
    }

    #[test]
    fn missing_column_lists_the_header() {
        let names = "The header must name timestamp_ms, function and duration_ms (or another name \
                     for each: timestamp_s, timestamp_us, timestamp, time; function_name, name; \
                     duration_s, duration_us, duration; memory_mb and trigger are optional)";
        check_err(
            b"timestamp_ms,fn,latency\n0,f,1\n",
            &format!(
                "trace.csv:1: missing required columns `function`, `duration_ms`; the header \
                 has: `timestamp_ms`, `fn`, `latency`. {names}"
            ),
        );
        check_err(
            b"0,f,1\n",
            &format!(
                "trace.csv:1: missing required columns `timestamp_ms`, `function`, \
                 `duration_ms`; the header has: `0`, `f`, `1`. {names}; the first line looks \
                 like data: add a header line"
            ),
        );
    }

    #[test]
    fn names_are_case_insensitive_and_aliases_are_ranked() {
        let t = ok("\nTimestamp_MS,Function,DURATION_ms\n0,f,1\n");
        assert_eq!(t.invocations, vec![inv(0, 1_000, 0, 0, Trigger::Sync)]);
        // `function` beats `name`, `timestamp_ms` beats `time`: the others are extra columns.
        let t = ok("time,name,timestamp_ms,function,duration_ms\nnoon,x,5,f,1\n");
        assert_eq!(t.functions[0].name, "f");
        assert_eq!(t.invocations, vec![inv(5_000, 1_000, 0, 0, Trigger::Sync)]);
        let t = ok("function_name,time,duration\ng,1714560000,2\n");
        assert_eq!(t.functions[0].name, "g");
        assert_eq!(t.origin_us, 1_714_560_000_000_000);
        assert_eq!(t.invocations, vec![inv(0, 2_000, 0, 0, Trigger::Sync)]);
        // Two columns of the same rank.
        check_err(
            b"timestamp_ms,function,duration_ms,timestamp_s\n0,f,1,0\n",
            "trace.csv:1: columns 1 (`timestamp_ms`) and 4 (`timestamp_s`) both give the \
             timestamp: keep one, or rename the other",
        );
        check_err(
            b"Function,timestamp_ms,duration_ms,function\nf,0,1,g\n",
            "trace.csv:1:4: duplicate column `function` (first seen in column 1)",
        );
    }

    #[test]
    fn separator_hint() {
        check_err(
            b"timestamp_ms;function;duration_ms\n0;f;1\n",
            "trace.csv:1: the header `timestamp_ms;function;duration_ms` looks like a \
             `;`-separated file: faasplan reads comma-separated CSV (with `.` as the decimal \
             point); save or convert the file with commas between the fields",
        );
        check_err(
            b"time\tname\tduration\n0\tf\t1\n",
            "trace.csv:1: the header `time\tname\tduration` looks like a tab-separated file: \
             faasplan reads comma-separated CSV (with `.` as the decimal point); save or convert \
             the file with commas between the fields",
        );
    }

    fn read_unit(input: &str, time_unit: Option<TimeUnit>) -> Result<Trace, String> {
        read(
            input.as_bytes(),
            Path::new("trace.csv"),
            &ReadOptions {
                skip_bad_rows: false,
                time_unit,
            },
        )
        .map(|(t, _)| t)
        .map_err(|e| e.to_string())
    }

    fn arrivals_and_durations(t: &Trace) -> Vec<(i64, Micros)> {
        t.invocations
            .iter()
            .map(|i| (t.origin_us + i.arrival as i64, i.duration))
            .collect()
    }

    #[test]
    fn units_in_names_and_from_the_flag() {
        let want = vec![(1_500_000, 250_000), (62_000_001, 1)];
        for (input, flag) in [
            (
                "timestamp_s,function,duration_s\n1.5,f,0.25\n62.000001,f,0.000001\n",
                None,
            ),
            (
                "timestamp_ms,function,duration_ms\n1500,f,250\n62000.001,f,0.001\n",
                None,
            ),
            (
                "timestamp_us,function,duration_us\n1500000,f,250000\n62000001,f,1\n",
                None,
            ),
            (
                "timestamp_s,function,duration\n1.5,f,0.25\n62.000001,f,1e-6\n",
                Some(TimeUnit::S),
            ),
            (
                "time,function,duration\n1.5,f,0.25\n62.000001,f,0.000001\n",
                Some(TimeUnit::S),
            ),
            (
                "timestamp,function,duration_ms\n1500,f,250\n62000.001,f,0.001\n",
                Some(TimeUnit::Ms),
            ),
        ] {
            match read_unit(input, flag) {
                Ok(t) => assert_eq!(arrivals_and_durations(&t), want, "{input}"),
                Err(e) => panic!("{input}: {e}"),
            }
        }
        // A bare `duration` is in ms by default.
        let t = read_unit("time,function,duration\n1714560000,f,250\n", None);
        assert_eq!(
            t.map(|t| arrivals_and_durations(&t)),
            Ok(vec![(1_714_560_000_000_000, 250_000)])
        );
        // A unit in a name and a different flag.
        assert_eq!(
            read_unit("timestamp_ms,function,duration\n0,f,1\n", Some(TimeUnit::S)).err(),
            Some(
                "trace.csv:1: column 1 `timestamp_ms` is in milliseconds by its name, but \
                 --time-unit s says seconds: --time-unit is for columns whose name has no unit; \
                 drop it, or rename the column"
                    .to_string()
            )
        );
        assert!(
            read_unit(
                "timestamp_ms,function,duration_ms\n0,f,1\n",
                Some(TimeUnit::Ms)
            )
            .is_ok()
        );
    }

    #[test]
    fn unit_specific_range_messages() {
        check_err(
            b"timestamp_s,function,duration_s\n1714560000000,f,1\n",
            "trace.csv:2:1: timestamp_s \"1714560000000\": out of range: more than 2^53 \
             microseconds (about 285 years) from zero; are the timestamps in milliseconds or \
             smaller units rather than seconds?",
        );
        check_err(
            b"timestamp_s,function,duration_s\n0,f,900000\n",
            "trace.csv:2:3: duration_s \"900000\": longer than 10 days (864000 s): serverless \
             platforms stop an invocation after minutes or at most hours, so this is likely a \
             unit mistake (milliseconds or smaller units given as seconds)",
        );
    }

    #[test]
    fn epoch_seconds_milliseconds_and_microseconds_by_magnitude() {
        let base = 1_714_564_800_000_000;
        for (a, b) in [
            ("1714564800", "1714564801.5"),
            ("1714564800000", "1714564801500"),
            ("1714564800000000", "1714564801500000"),
        ] {
            let input = format!("timestamp,function,duration\n{a},f,1\n{b},f,1\n");
            match read_unit(&input, None) {
                Ok(t) => assert_eq!(
                    arrivals_and_durations(&t),
                    vec![(base, 1_000), (base + 1_500_000, 1_000)],
                    "{input}"
                ),
                Err(e) => panic!("{input}: {e}"),
            }
        }
        // The first value sets the unit; a value of another magnitude is refused where it is.
        check_err(
            b"timestamp,function,duration\n1714564800,f,1\n\n1714564800000,f,1\n",
            "trace.csv:4:1: timestamp \"1714564800000\": not a Unix time in seconds (1e9..1e10) \
             like the first row's: are the units mixed? (--time-unit sets the unit and turns \
             this check off)",
        );
        // Neither: refused, with the fix.
        check_err(
            b"timestamp,function,duration\n\n5,f,1\n7,f,1\n",
            "trace.csv: column 1 `timestamp` names no unit, and its values are not Unix epoch \
             times (line 3 has 5; epoch seconds are 1e9..1e10, milliseconds 1e12..1e13, \
             microseconds 1e15..1e16): pass --time-unit s, ms or us, or name the column \
             timestamp_s, timestamp_ms or timestamp_us",
        );
        // With the flag the same values are plain numbers in that unit.
        let t = read_unit(
            "timestamp,function,duration\n5,f,1\n7,f,1\n",
            Some(TimeUnit::S),
        );
        assert_eq!(
            t.map(|t| arrivals_and_durations(&t)),
            Ok(vec![(5_000_000, 1_000_000), (7_000_000, 1_000_000)])
        );
    }

    #[test]
    fn iso_timestamps() {
        let t = read_unit(
            "time,function,duration_ms\n\
             2024-05-01T12:00:00.123Z,f,1\n\
             2024-05-01T14:00:00+02:00,f,1\n\
             2024-05-01 12:00:01,f,1\n",
            None,
        );
        let base = 1_714_564_800_000_000;
        assert_eq!(
            t.map(|t| arrivals_and_durations(&t)),
            Ok(vec![
                (base, 1_000),
                (base + 123_000, 1_000),
                (base + 1_000_000, 1_000)
            ])
        );
        // The flag does not change date-times (it is for the duration here).
        let t = read_unit(
            "time,function,duration\n2024-05-01T12:00:00Z,f,1\n",
            Some(TimeUnit::S),
        );
        assert_eq!(
            t.map(|t| arrivals_and_durations(&t)),
            Ok(vec![(base, 1_000_000)])
        );
        let h = "timestamp,function,duration_ms\n2024-05-01T12:00:00Z,f,1\n";
        for (row, expected) in [
            (
                "2024-05-01T12:00:60Z,f,1\n",
                "trace.csv:3:1: timestamp \"2024-05-01T12:00:60Z\": not a time of day (hour \
                 00-23, minute and second 00-59)",
            ),
            (
                "2024-02-30T12:00:00Z,f,1\n",
                "trace.csv:3:1: timestamp \"2024-02-30T12:00:00Z\": not a calendar date (month \
                 01-12, day within the month)",
            ),
            (
                "1714564800,f,1\n",
                "trace.csv:3:1: timestamp \"1714564800\": not an ISO-8601 date-time: expected \
                 YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm], e.g. 2024-05-01T12:00:00.123Z",
            ),
            (
                "2024-05-01T12:00:00+25:00,f,1\n",
                "trace.csv:3:1: timestamp \"2024-05-01T12:00:00+25:00\": bad UTC offset: \
                 expected Z, +hh:mm or -hh:mm (at most 23:59)",
            ),
        ] {
            check_err(format!("{h}{row}").as_bytes(), expected);
        }
        check_err(
            b"timestamp,function,duration_ms\nnoon,f,1\n",
            "trace.csv:2:1: timestamp \"noon\": neither a number nor an ISO-8601 date-time \
             (e.g. 2024-05-01T12:00:00.123Z)",
        );
    }

    #[test]
    fn trigger_synonyms() {
        let t = ok("timestamp_ms,function,duration_ms,trigger\n\
                    0,f,1,http\n1,f,1,TIMER\n2,f,1,others\n3,f,1,event\n4,f,1,Storage\n\
                    5,f,1,orchestration\n6,f,1,Queue\n7,f,1,ASYNC\n");
        let got: Vec<Trigger> = t.invocations.iter().map(|i| i.trigger).collect();
        use Trigger::*;
        assert_eq!(
            got,
            vec![Sync, Sync, Sync, Async, Async, Queue, Queue, Async]
        );
    }

    /// `n` rows of one function, `gap` and `duration` apart (as written in the file).
    fn rows(header: &str, n: usize, gap: f64, duration: f64) -> String {
        let mut s = format!("{header}\n");
        for i in 0..n {
            s.push_str(&format!("{},f,{duration}\n", i as f64 * gap));
        }
        s
    }

    #[test]
    fn unit_mistakes_are_refused_unless_the_flag_is_given() {
        // 1,001 rows 1.9 units apart: read as ms they all arrive within 1.9 s.
        let compressed = rows("timestamp_ms,function,duration_ms", 1_001, 1.9, 50.0);
        let msg = read_unit(&compressed, None).err().unwrap_or_default();
        assert_eq!(
            msg,
            "trace.csv: this looks like a unit mistake: read as milliseconds, all 1001 rows \
             arrive within 1.900 s (column 1 `timestamp_ms`): the timestamps are likely \
             seconds, so name the column timestamp_s. If the values really are milliseconds, \
             pass --time-unit ms to turn these checks off"
        );
        assert!(read_unit(&compressed, Some(TimeUnit::Ms)).is_ok());
        // At the thresholds: 1,000 rows, or a span of 2 s, pass.
        assert!(
            read_unit(
                &rows("timestamp_ms,function,duration_ms", 1_000, 1.0, 50.0),
                None
            )
            .is_ok()
        );
        assert!(
            read_unit(
                &rows("timestamp_ms,function,duration_ms", 1_001, 2.0, 50.0),
                None
            )
            .is_ok()
        );
        // Microseconds that are milliseconds.
        let msg = read_unit(
            &rows("timestamp_us,function,duration_ms", 1_001, 1.0, 50.0),
            None,
        );
        assert!(msg.err().unwrap_or_default().contains(
            "read as microseconds, all 1001 rows arrive within 0.001 s (column 1 \
                 `timestamp_us`): the timestamps are likely milliseconds, so name the column \
                 timestamp_ms"
        ));

        // Durations all under 1 ms, from 100 rows on.
        let short = rows("timestamp_ms,function,duration", 100, 1000.0, 0.2);
        assert_eq!(
            read_unit(&short, None).err().unwrap_or_default(),
            "trace.csv: this looks like a unit mistake: read as milliseconds, every duration is \
             under 1 ms (the longest is 200 us; column 3 `duration`): the durations are likely \
             seconds, so name the column duration_s. If the values really are milliseconds, \
             pass --time-unit ms to turn these checks off"
        );
        assert!(read_unit(&short, Some(TimeUnit::Ms)).is_ok());
        assert!(
            read_unit(
                &rows("timestamp_ms,function,duration", 99, 1000.0, 0.2),
                None
            )
            .is_ok()
        );
        assert!(
            read_unit(
                &rows("timestamp_ms,function,duration", 100, 1000.0, 0.0),
                None
            )
            .is_ok()
        );
        assert!(
            read_unit(
                &rows("timestamp_ms,function,duration", 100, 1000.0, 1.0),
                None
            )
            .is_ok()
        );
        // With ISO timestamps the flag fits the bare duration column.
        let mut iso = String::from("time,function,duration\n");
        for i in 0..100 {
            iso.push_str(&format!(
                "2024-05-01T12:{:02}:{:02}Z,f,0.5\n",
                i / 60,
                i % 60
            ));
        }
        let msg = read_unit(&iso, None).err().unwrap_or_default();
        assert!(
            msg.contains("so name the column duration_s or pass --time-unit s. If the values"),
            "{msg}"
        );

        // Decades: Unix seconds and milliseconds mixed under one name.
        let mixed = "timestamp_ms,function,duration_ms\n1714564800,f,1\n1714564800000,f,1\n";
        assert_eq!(
            read_unit(mixed, None).err().unwrap_or_default(),
            "trace.csv: this looks like a unit mistake: read as milliseconds, the timestamps \
             span 54 years, from 1970-01-20 20:16:04 UTC to 2024-05-01 12:00:00 UTC (column 1 \
             `timestamp_ms`): probably a mix of units (Unix seconds and milliseconds, or relative \
             and Unix times). If the values really are milliseconds, pass --time-unit ms \
             to turn these checks off"
        );
    }

    #[test]
    fn duplicate_column() {
        check_err(
            b"timestamp_ms,function,duration_ms, function\n0,f,1,g\n",
            "trace.csv:1:4: duplicate column `function` (first seen in column 2)",
        );
        // Duplicates among ignored columns do no harm.
        let t = ok("x,timestamp_ms,x,function,duration_ms\n1,0,2,f,1\n");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn bad_numbers() {
        let h = "timestamp_ms,function,duration_ms\n";
        let cases: [(&str, &str); 9] = [
            (
                "0,f,1\n0,f,abc\n",
                "trace.csv:3:3: duration_ms \"abc\": not a number",
            ),
            (
                "1h,f,1\n",
                "trace.csv:2:1: timestamp_ms \"1h\": not a number",
            ),
            (
                "0,f,-5\n",
                "trace.csv:2:3: duration_ms \"-5\": must be >= 0",
            ),
            (
                "0,f,NaN\n",
                "trace.csv:2:3: duration_ms \"NaN\": must be a finite number",
            ),
            (
                "0,f,-inf\n",
                "trace.csv:2:3: duration_ms \"-inf\": must be a finite number",
            ),
            (
                "inf,f,1\n",
                "trace.csv:2:1: timestamp_ms \"inf\": must be a finite number",
            ),
            (
                "0,f, \n",
                "trace.csv:2:3: duration_ms \" \": is empty: a number is required",
            ),
            (
                "0,f,864000000.5\n",
                "trace.csv:2:3: duration_ms \"864000000.5\": longer than 10 days (864000000 ms): \
                 serverless platforms stop an invocation after minutes or at most hours, so this \
                 is likely a unit mistake (microseconds or nanoseconds given as milliseconds)",
            ),
            (
                "1700000000000000,f,1\n",
                "trace.csv:2:1: timestamp_ms \"1700000000000000\": out of range: more than 2^53 \
                 microseconds (about 285 years) from zero; are the timestamps in microseconds or \
                 nanoseconds rather than milliseconds?",
            ),
        ];
        for (rows, expected) in cases {
            check_err(format!("{h}{rows}").as_bytes(), expected);
        }
        // The limits themselves are accepted.
        let t = ok("timestamp_ms,function,duration_ms\n-9007199254740.992,f,864000000\n");
        assert_eq!(t.invocations[0].duration, 864_000_000_000);
    }

    #[test]
    fn bad_memory_function_and_trigger() {
        let h = "timestamp_ms,function,duration_ms,memory_mb,trigger\n";
        let memory = "must be a whole number of MB from 1 to 65535 (leave blank if unknown)";
        let cases: [(&str, String); 6] = [
            (
                "0,f,1,0,\n",
                format!("trace.csv:2:4: memory_mb \"0\": {memory}"),
            ),
            (
                "0,f,1,65536,\n",
                format!("trace.csv:2:4: memory_mb \"65536\": {memory}"),
            ),
            (
                "0,f,1,1.5,\n",
                format!("trace.csv:2:4: memory_mb \"1.5\": {memory}"),
            ),
            (
                "0,f,1,lots,\n",
                "trace.csv:2:4: memory_mb \"lots\": not a number".to_string(),
            ),
            (
                "0,f,1,,webhook\n",
                "trace.csv:2:5: trigger \"webhook\": must be sync, async or queue, or an Azure \
                 trigger name (http, timer, others: sync; event, storage: async; orchestration: \
                 queue); blank means sync"
                    .to_string(),
            ),
            (
                "0, ,1,,\n",
                "trace.csv:2:2: function \" \": must not be empty".to_string(),
            ),
        ];
        for (rows, expected) in cases {
            check_err(format!("{h}{rows}").as_bytes(), &expected);
        }
    }

    #[test]
    fn empty_file_and_no_rows() {
        for input in ["", "\n", "  \r\n\t\n", "\u{feff}"] {
            check_err(
                input.as_bytes(),
                "trace.csv: the file is empty: expected a header line naming the columns \
                 (timestamp_ms,function,duration_ms, optionally memory_mb and trigger)",
            );
        }
        check_err(
            b"timestamp_ms,function,duration_ms\n\n",
            "trace.csv: the header is there but no data rows follow",
        );
    }

    #[test]
    fn wrong_number_of_fields() {
        check_err(
            b"timestamp_ms,function,duration_ms\n0,f,1\n1,f\n",
            "trace.csv:3: expected 3 fields (as in the header), found 2",
        );
        check_err(
            b"timestamp_ms,function,duration_ms\n0,f,1,x\n",
            "trace.csv:2: expected 3 fields (as in the header), found 4",
        );
    }

    #[test]
    fn non_utf8_rejected_in_used_columns_only() {
        check_err(
            b"timestamp_ms,function,duration_ms\n0,ab\xffc,1\n",
            "trace.csv:2:2: function: invalid UTF-8 (byte 0xff at offset 2 of the field); the \
             trace must be UTF-8 text",
        );
        let t = ok_bytes(b"notes\xe9,timestamp_ms,function,duration_ms\ncaf\xe9,0,f,1\n");
        assert_eq!(t.len(), 1);
    }

    fn ok_bytes(input: &[u8]) -> Trace {
        match read_bytes(input, false) {
            Ok((trace, _)) => trace,
            Err(e) => panic!("expected a trace, got: {e}"),
        }
    }

    #[test]
    fn line_numbers_count_blank_lines_crlf_and_quoted_newlines() {
        let h = "timestamp_ms,function,duration_ms";
        // Blank lines before the bad row.
        check_err(
            format!("{h}\n0,f,1\n\n\n0,f,x\n").as_bytes(),
            "trace.csv:5:3: duration_ms \"x\": not a number",
        );
        // CRLF, and the last row without a line terminator.
        check_err(
            format!("{h}\r\n0,f,1\r\n\r\n0,f,x").as_bytes(),
            "trace.csv:4:3: duration_ms \"x\": not a number",
        );
        check_err(
            format!("{h}\n0,f,1\n\n0,f,x").as_bytes(),
            "trace.csv:4:3: duration_ms \"x\": not a number",
        );
        // A quoted newline inside an earlier row, and inside the bad row itself.
        check_err(
            format!("{h}\n0,\"a\nb\",1\n0,\"c\nd\",x\n").as_bytes(),
            "trace.csv:4:3: duration_ms \"x\": not a number",
        );
        // A closed quoted field that ends in a newline, at the end of the file, with and without
        // a final terminator.
        for end in ["\n", ""] {
            check_err(
                format!("{h}\n0,f,1\n0,f,\"x\n\"{end}").as_bytes(),
                "trace.csv:3:3: duration_ms \"x\\n\": not a number; the field spans several \
                 lines: is a quote left open?",
            );
        }
        // An unclosed quote swallows the rest of the file; the message says so.
        check_err(
            format!("{h}\n0,f,\"1\n1,f,2\n").as_bytes(),
            "trace.csv:2:3: duration_ms \"1\\n1,f,2\\n\": not a number; the field spans several \
             lines: is a quote left open?",
        );
    }

    #[test]
    fn skip_bad_rows_counts_by_reason() {
        let input = "timestamp_ms,function,duration_ms\n\
                     0,f,1\n\
                     1,f,-1\n\
                     2,f\n\
                     3,g,-2\n\
                     x,f,1\n\
                     5,f,2\n\
                     6,f,NaN\n\
                     7,f,-3\n";
        let (t, report) = match read_bytes(input.as_bytes(), true) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        // `g` only had a bad row, so it is not a function of the trace.
        assert_eq!(t.functions.len(), 1);
        assert_eq!(t.ranges, vec![0..2]);
        assert_eq!(report.rows_read, 8);
        assert_eq!(report.rows_accepted, 2);
        assert_eq!(report.rows_skipped, 6);
        assert_eq!(
            report.skipped_by_reason,
            vec![
                ("duration_ms: must be >= 0".to_string(), 3),
                ("duration_ms: must be a finite number".to_string(), 1),
                ("timestamp_ms: not a number".to_string(), 1),
                ("wrong number of fields".to_string(), 1),
            ]
        );
        assert_eq!(
            report.first_skipped,
            vec![
                "trace.csv:3:3: duration_ms \"-1\": must be >= 0",
                "trace.csv:4: expected 3 fields (as in the header), found 2",
                "trace.csv:5:3: duration_ms \"-2\": must be >= 0",
                "trace.csv:6:1: timestamp_ms \"x\": not a number",
                "trace.csv:8:3: duration_ms \"NaN\": must be a finite number",
            ]
        );

        // Without the option the first bad row fails.
        check_err(
            input.as_bytes(),
            "trace.csv:3:3: duration_ms \"-1\": must be >= 0",
        );
    }

    #[test]
    fn skip_bad_rows_with_every_row_bad() {
        let input = b"timestamp_ms,function,duration_ms\n0,f,-1\n1,f,x\n";
        match read_bytes(input, true) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert_eq!(
                e.to_string(),
                "trace.csv: every data row is bad (2 skipped); the first: \
                 trace.csv:2:3: duration_ms \"-1\": must be >= 0"
            ),
        }
        // Header errors are not skipped.
        match read_bytes(b"timestamp_ms,function\n0,f\n", true) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert!(matches!(e, TraceError::MissingColumn { .. }), "{e}"),
        }
    }

    #[test]
    fn report_without_skipping() {
        let (_, report) = match read_bytes(
            b"timestamp_ms,function,duration_ms\n0,f,1\n\n1,f,1\n",
            false,
        ) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            (report.rows_read, report.rows_accepted, report.rows_skipped),
            (2, 2, 0)
        );
        assert!(report.skipped_by_reason.is_empty() && report.first_skipped.is_empty());
    }

    /// Yields `data`, then fails.
    struct Failing<'a> {
        data: &'a [u8],
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.data.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn io_errors_name_the_path() {
        let failing = Failing {
            data: b"timestamp_ms,function,duration_ms\n0,f,1\n1,f,1\n",
        };
        match read(failing, Path::new("trace.csv"), &ReadOptions::default()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert_eq!(e.to_string(), "trace.csv:4: cannot read: disk on fire"),
        }
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let missing = dir.path().join("nope.csv");
        match read_path(&missing, &ReadOptions::default()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("{}: cannot read: ", missing.display())),
                    "{msg}"
                );
            }
        }
    }

    #[test]
    fn read_path_reads_a_file() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let path = dir.path().join("t.csv");
        if let Err(e) = std::fs::write(&path, "timestamp_ms,function,duration_ms\n60000,f,2\n") {
            panic!("{e}");
        }
        match read_path(&path, &ReadOptions::default()) {
            Ok((t, r)) => {
                assert_eq!(t.origin_us, 60_000_000);
                assert_eq!(t.invocations, vec![inv(0, 2_000, 0, 0, Trigger::Sync)]);
                assert_eq!(r.rows_accepted, 1);
            }
            Err(e) => panic!("{e}"),
        }
    }
}
