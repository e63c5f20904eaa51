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
use crate::trace::{Trace, TraceBuilder, Trigger};

/// How to treat rows that fail validation.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Count bad rows in the [`ReadReport`] and go on, instead of failing on the first one.
    /// Header problems (missing or duplicate column, empty file) still fail.
    pub skip_bad_rows: bool,
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
    let layout = Layout::from_header(&rec, path, header_line)?;

    let mut accepted = 0u64;
    let mut skipped = Skipped::default();
    while next_record(&mut rdr, &mut rec, path)? {
        match parse_row(&rec, &layout) {
            Ok(row) => {
                // Interned only once the row is valid, so no function ends up with no invocations.
                let f = sink.function_id(row.function);
                sink.push(row.arrival_us, f, row.duration, row.memory_mb, row.trigger);
                accepted += 1;
                if accepted.is_multiple_of(PROGRESS_EVERY) {
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

    let report = ReadReport {
        rows_read: accepted + skipped.rows,
        rows_accepted: accepted,
        rows_skipped: skipped.rows,
        skipped_by_reason: skipped.by_reason(),
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
    Ok(report)
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
enum Col {
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

    fn name(self) -> &'static str {
        match self {
            Col::Timestamp => "timestamp_ms",
            Col::Function => "function",
            Col::Duration => "duration_ms",
            Col::Memory => "memory_mb",
            Col::Trigger => "trigger",
        }
    }

    fn required(self) -> bool {
        matches!(self, Col::Timestamp | Col::Function | Col::Duration)
    }

    fn from_name(name: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where the used columns are (0-based field indices) and how many fields a row must have.
#[derive(Debug)]
struct Layout {
    fields: usize,
    timestamp: usize,
    function: usize,
    duration: usize,
    memory: Option<usize>,
    trigger: Option<usize>,
}

impl Layout {
    fn from_header(rec: &ByteRecord, path: &Path, line: u64) -> Result<Layout, TraceError> {
        let mut at: [Option<usize>; 5] = [None; 5];
        for (i, raw) in rec.iter().enumerate() {
            // A name that is not UTF-8 cannot be one of ours: an ignored column.
            let Ok(name) = std::str::from_utf8(raw) else {
                continue;
            };
            let Some(col) = Col::from_name(name.trim()) else {
                continue;
            };
            let slot = &mut at[col as usize];
            if let Some(first) = *slot {
                return Err(TraceError::DuplicateColumn {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: col.name().to_string(),
                    first: first + 1,
                });
            }
            *slot = Some(i);
        }
        let missing: Vec<&'static str> = Col::ALL
            .into_iter()
            .filter(|c| c.required() && at[*c as usize].is_none())
            .map(Col::name)
            .collect();
        let (Some(timestamp), Some(function), Some(duration)) = (
            at[Col::Timestamp as usize],
            at[Col::Function as usize],
            at[Col::Duration as usize],
        ) else {
            return Err(TraceError::MissingColumn {
                path: path.to_path_buf(),
                line,
                hint: header_hint(rec, &missing),
                missing,
                found: header_names(rec),
            });
        };
        Ok(Layout {
            fields: rec.len(),
            timestamp,
            function,
            duration,
            memory: at[Col::Memory as usize],
            trigger: at[Col::Trigger as usize],
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

/// A suggestion for the likely mistakes: a name in the wrong case, or no header line at all.
fn header_hint(rec: &ByteRecord, missing: &[&str]) -> String {
    for want in missing {
        for (i, raw) in rec.iter().enumerate() {
            let name = String::from_utf8_lossy(raw);
            if name.trim().eq_ignore_ascii_case(want) {
                return format!(
                    "; column {} is `{}`: names are case-sensitive, write `{want}`",
                    i + 1,
                    name.trim()
                );
            }
        }
    }
    let first = rec.get(0).map(|f| f.trim_ascii()).unwrap_or_default();
    let looks_like_data = std::str::from_utf8(first).is_ok_and(|s| s.parse::<f64>().is_ok());
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
    TimestampRange,
    DurationTooLong,
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
            Why::TimestampRange => {
                "out of range: more than 2^53 microseconds (about 285 years) from zero; \
                 are the timestamps in microseconds or nanoseconds rather than milliseconds?"
            }
            Why::DurationTooLong => {
                "longer than 10 days (864000000 ms): serverless platforms stop an invocation \
                 after minutes or at most hours, so this is likely a unit mistake \
                 (microseconds or nanoseconds given as milliseconds)"
            }
            Why::Memory => "must be a whole number of MB from 1 to 65535 (leave blank if unknown)",
            Why::EmptyName => "must not be empty",
            Why::Trigger => "must be sync, async or queue (blank means sync)",
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
                    name: col.name().to_string(),
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
            name: col.name().to_string(),
            value: shorten(&String::from_utf8_lossy(raw)),
            reason,
        }
    }
}

fn parse_row<'r>(rec: &'r ByteRecord, l: &Layout) -> Result<Row<'r>, Fault> {
    if rec.len() != l.fields {
        return Err(if is_blank(rec) {
            Fault::Blank
        } else {
            Fault::FieldCount { found: rec.len() }
        });
    }
    // The length check makes every index valid; `unwrap_or_default` only keeps this panic-free.
    let raw = |i: usize| rec.get(i).unwrap_or_default();

    let arrival_us = parse_timestamp(raw(l.timestamp))?;
    let function = text(raw(l.function), Col::Function)?;
    if function.is_empty() {
        return Err(Fault::Value {
            col: Col::Function,
            why: Why::EmptyName,
        });
    }
    let duration = parse_duration(raw(l.duration))?;
    let memory_mb = match l.memory {
        None => 0,
        Some(i) => parse_memory(text(raw(i), Col::Memory)?).map_err(|why| Fault::Value {
            col: Col::Memory,
            why,
        })?,
    };
    let trigger = match l.trigger {
        None => Trigger::Sync,
        Some(i) => Trigger::parse(text(raw(i), Col::Trigger)?).ok_or(Fault::Value {
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

/// A plain decimal number of milliseconds (`[+-]digits[.digits]`, already trimmed, at most 15 integer digits)
/// as the sign and the magnitude in whole microseconds, rounded half away from zero like
/// `f64::round`. `None` for anything else (exponents, `inf`, errors), which then takes the `f64`
/// path. This is the hot path: it needs no UTF-8 check (it accepts ASCII only), it is exact, and
/// it is faster than `str::parse::<f64>`.
fn plain_ms_to_us(mut b: &[u8]) -> Option<(bool, i64)> {
    let negative = match b.first()? {
        b'-' => true,
        b'+' => false,
        _ => false,
    };
    if matches!(b[0], b'-' | b'+') {
        b = &b[1..];
    }
    let mut i = 0;
    let mut ms: i64 = 0;
    while let Some(&c) = b.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i == 15 {
            return None; // 10^15 ms is beyond the range anyway; the `f64` path says so
        }
        ms = ms * 10 + i64::from(d);
        i += 1;
    }
    let int_digits = i;
    let mut us = ms * 1_000;
    if let Some(&c) = b.get(i) {
        if c != b'.' {
            return None;
        }
        let frac = &b[i + 1..];
        if int_digits == 0 && frac.is_empty() {
            return None;
        }
        let mut scale = 100;
        for (k, &c) in frac.iter().enumerate() {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            match k {
                0..=2 => {
                    us += i64::from(d) * scale;
                    scale /= 10;
                }
                3 => us += i64::from(d >= 5),
                _ => {}
            }
        }
    } else if int_digits == 0 {
        return None;
    }
    Some((negative, us))
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

/// Milliseconds (any sign, fractional allowed) to absolute microseconds, rounded to the nearest.
fn parse_timestamp(raw: &[u8]) -> Result<i64, Fault> {
    let bad = |why| Fault::Value {
        col: Col::Timestamp,
        why,
    };
    let us = match plain_ms_to_us(raw.trim_ascii()) {
        Some((negative, us)) => {
            if negative {
                -us
            } else {
                us
            }
        }
        // A saturating cast: out-of-range values stay out of range.
        None => (parse_number(text(raw, Col::Timestamp)?).map_err(bad)? * 1_000.0).round() as i64,
    };
    if us.unsigned_abs() > MAX_ABS_TIMESTAMP_US {
        return Err(bad(Why::TimestampRange));
    }
    Ok(us)
}

/// Milliseconds to microseconds; the 10-day limit applies after rounding.
fn parse_duration(raw: &[u8]) -> Result<Micros, Fault> {
    let bad = |why| Fault::Value {
        col: Col::Duration,
        why,
    };
    let us = match plain_ms_to_us(raw.trim_ascii()) {
        // Negative values take the `f64` path so that `-0.0001` is refused like any negative.
        Some((false, us)) => us as Micros,
        _ => {
            let ms = parse_number(text(raw, Col::Duration)?).map_err(bad)?;
            if ms < 0.0 {
                return Err(bad(Why::Negative));
            }
            time::ms_to_us(ms) // saturates, so huge values are caught below
        }
    };
    if us > MAX_DURATION_US {
        return Err(bad(Why::DurationTooLong));
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
    fn reason(self) -> String {
        match self {
            Key::FieldCount => "wrong number of fields".to_string(),
            Key::NotUtf8(col) => format!("{}: invalid UTF-8", col.name()),
            Key::Value(col, why) => format!("{}: {}", col.name(), why.text()),
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

    fn by_reason(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = self
            .counts
            .iter()
            .map(|&(key, n)| (key.reason(), n))
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
            &ReadOptions { skip_bad_rows },
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
                plain_ms_to_us(s.as_bytes()),
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
        check_err(
            b"timestamp_ms,fn,duration\n0,f,1\n",
            "trace.csv:1: missing required columns `function`, `duration_ms`; the header has: \
             `timestamp_ms`, `fn`, `duration`. The header must name timestamp_ms, function and \
             duration_ms (memory_mb and trigger are optional)",
        );
        check_err(
            b"\nTimestamp_ms,function,duration_ms\n0,f,1\n",
            "trace.csv:2: missing required column `timestamp_ms`; the header has: \
             `Timestamp_ms`, `function`, `duration_ms`. The header must name timestamp_ms, \
             function and duration_ms (memory_mb and trigger are optional); column 1 is \
             `Timestamp_ms`: names are case-sensitive, write `timestamp_ms`",
        );
        check_err(
            b"0,f,1\n",
            "trace.csv:1: missing required columns `timestamp_ms`, `function`, `duration_ms`; \
             the header has: `0`, `f`, `1`. The header must name timestamp_ms, function and \
             duration_ms (memory_mb and trigger are optional); the first line looks like data: \
             add a header line",
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
                "0,f,1,,http\n",
                "trace.csv:2:5: trigger \"http\": must be sync, async or queue (blank means sync)"
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
