//! The input layer every reader shares: the one CSV reader ([`Csv`], the csv crate with exact
//! start lines; [`Records`] on top of it for the readers without a fast path), a line reader for
//! raw logs, the one bad-row system ([`Skips`]: fail, or count by reason and keep the first
//! messages), header lookup, and the mapping of compound function keys to short, unique names.
//!
//! Only one record is held at a time, so memory does not grow with the file.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::error::TraceError;
use crate::trace::TraceBuilder;
use crate::trace::canonical::ReadReport;

/// Buffer of the line reader, bytes.
const BUFFER_BYTES: usize = 1 << 20;
/// Buffer of the CSV reader, bytes. The csv crate zeroes it for every input, so it is kept at
/// 64 KiB: as fast as 1 MiB on large files (BENCHMARKS.md), and cheap for the many small inputs
/// a fuzzer or a test feeds it.
const CSV_BUFFER_BYTES: usize = 64 << 10;
/// Longest line of a raw log, bytes: a binary file must not be read into memory as one line.
const MAX_RECORD_BYTES: usize = 16 << 20;
/// How many skipped rows keep their full message.
const FIRST_SKIPPED: usize = 5;
/// Longest value quoted back in a message, characters.
const MAX_QUOTED_CHARS: usize = 60;

/// Opens `path` for reading, with the error naming it.
pub(crate) fn open(path: &Path) -> Result<std::fs::File, TraceError> {
    std::fs::File::open(path).map_err(|error| TraceError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Lines of a text file, without their terminator (`\n` or `\r\n`) and without a leading UTF-8
/// byte order mark, with 1-based line numbers.
pub(crate) struct Lines<R> {
    inner: BufReader<R>,
    buf: Vec<u8>,
    line: u64,
    path: PathBuf,
    /// Bytes consumed so far.
    bytes: u64,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(reader: R, path: &Path) -> Self {
        Lines {
            inner: BufReader::with_capacity(BUFFER_BYTES, reader),
            buf: Vec::new(),
            line: 0,
            path: path.to_path_buf(),
            bytes: 0,
        }
    }

    /// Reads the next line into the internal buffer; `false` at the end of the input.
    fn advance(&mut self) -> Result<bool, TraceError> {
        self.buf.clear();
        let n = (&mut self.inner)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|error| TraceError::ReadFailed {
                path: self.path.clone(),
                line: self.line + 1,
                error,
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        self.bytes += n as u64;
        if self.buf.len() > MAX_RECORD_BYTES {
            return Err(TraceError::BadRow {
                path: self.path.clone(),
                line: self.line,
                reason: format!(
                    "record longer than {} MiB: is this a text file, or is a quote left open?",
                    MAX_RECORD_BYTES >> 20
                ),
            });
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        if self.line == 1 && self.buf.starts_with(b"\xef\xbb\xbf") {
            self.buf.drain(..3);
        }
        Ok(true)
    }

    /// The next line and its number, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, TraceError> {
        Ok(if self.advance()? {
            Some((self.line, &self.buf))
        } else {
            None
        })
    }
}

/// The one CSV reader of every format: the csv crate with our settings, streaming one reused
/// `ByteRecord` at a time, plus what it takes to give the exact line a record starts on.
pub(crate) struct Csv<R> {
    rdr: csv::Reader<Tail<R>>,
    path: PathBuf,
}

impl<R: Read> Csv<R> {
    pub(crate) fn new(reader: R, path: &Path) -> Self {
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            // Short and long rows reach us, so they get our message rather than csv's.
            .flexible(true)
            // Only `\n` ends a record, so csv's line count is exact for CRLF files too (with the
            // default terminator the `\n` of `\r\n` is counted with the next record). The `\r`
            // left at the end of the last field is trimmed like any other whitespace.
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(CSV_BUFFER_BYTES)
            .from_reader(Tail::new(reader));
        Csv {
            rdr,
            path: path.to_path_buf(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next record into `rec`; `false` at the end of the input. csv-core strips a UTF-8
    /// BOM and skips empty lines (not whitespace-only ones: see [`is_blank`]).
    #[inline(always)]
    pub(crate) fn read(&mut self, rec: &mut ByteRecord) -> Result<bool, TraceError> {
        match self.rdr.read_byte_record(rec) {
            Ok(more) => Ok(more),
            Err(e) => Err(self.read_error(e)),
        }
    }

    #[cold]
    fn read_error(&self, e: csv::Error) -> TraceError {
        let line = self.rdr.position().line();
        let reason = format!("malformed CSV: {e}");
        match e.into_kind() {
            csv::ErrorKind::Io(error) => TraceError::ReadFailed {
                path: self.path.clone(),
                line,
                error,
            },
            // With byte records and `flexible` csv reports nothing else, but stay typed if it does.
            _ => TraceError::BadRow {
                path: self.path.clone(),
                line,
                reason,
            },
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.rdr.position().byte()
    }

    /// True when `rec`, the record just read, is the last one and ends inside a quoted field that
    /// spans lines: the file ends before a quote is closed (csv-core takes the rest of the file as
    /// the field). A closed field ends in `"`, `"\n` or `"\r\n`.
    pub(crate) fn open_quote_at_end(&self, rec: &ByteRecord) -> bool {
        let tail = self.rdr.get_ref();
        let at_end = tail.eof && self.rdr.position().byte() == tail.total;
        let closed = matches!(
            tail.end,
            [.., b'"'] | [_, b'"', b'\n'] | [b'"', b'\r', b'\n']
        );
        at_end && !closed && rec.iter().any(|f| f.contains(&b'\n'))
    }

    /// The 1-based line on which `rec`, the record just read, starts.
    ///
    /// `ByteRecord::position` is the line where reading *began*, which is too early when blank
    /// lines precede the record. Instead count back from where it ended: csv counts every `\n` it
    /// consumes, which are the ones inside quoted fields plus the terminator.
    pub(crate) fn line(&self, rec: &ByteRecord) -> u64 {
        let end = self.rdr.position();
        let inside = rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        let tail = self.rdr.get_ref();
        let at_end = tail.eof && end.byte() == tail.total;
        let [_, before_last, last] = tail.end;
        let terminated = if !at_end {
            true
        } else if last != b'\n' {
            false
        } else {
            // The file ends in `\n`. It is part of the last field (already counted in `inside`)
            // only when a quote was left open; a closed quoted field ending in `\n` leaves `"\n`
            // at the end.
            let field_ends_in_newline = rec.iter().next_back().is_some_and(|f| f.ends_with(b"\n"));
            !field_ends_in_newline || before_last == b'"'
        };
        end.line()
            .saturating_sub(inside + u64::from(terminated))
            .max(1)
    }
}

/// An empty line or one of whitespace only (e.g. a lone `\r`): not a row.
#[inline]
pub(crate) fn is_blank(rec: &ByteRecord) -> bool {
    rec.len() == 1 && rec.as_slice().trim_ascii().is_empty()
}

/// Passes bytes through and remembers how many there were, the last two and whether the input
/// ended, so [`Csv::line`] can tell whether the last record had a line terminator.
struct Tail<R> {
    inner: R,
    total: u64,
    /// The last three bytes read, oldest first (`\n` before the start).
    end: [u8; 3],
    eof: bool,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Self {
        Tail {
            inner,
            total: 0,
            end: [b'\n'; 3],
            eof: false,
        }
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // `get`: a misbehaving reader that claims more than `buf.len()` must not panic here.
        let got = buf.get(..n).unwrap_or_default();
        if got.is_empty() {
            self.eof = !buf.is_empty();
        }
        for &b in &got[got.len().saturating_sub(3)..] {
            self.end = [self.end[1], self.end[2], b];
        }
        self.total += n as u64;
        Ok(n)
    }
}

/// CSV records with their start line, blank lines skipped: what the non-canonical readers loop
/// over (the canonical reader drives [`Csv`] itself, for its fast path).
pub(crate) struct Records<R> {
    csv: Csv<R>,
    rec: ByteRecord,
}

/// One CSV record: its fields (unquoted) and the line it starts on.
pub(crate) struct Record<'a> {
    pub line: u64,
    rec: &'a ByteRecord,
}

impl<'a> Record<'a> {
    pub(crate) fn len(&self) -> usize {
        self.rec.len()
    }

    /// Field `i` (0-based) with surrounding ASCII whitespace removed; empty when out of range.
    pub(crate) fn get(&self, i: usize) -> &'a [u8] {
        self.rec.get(i).unwrap_or_default().trim_ascii()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<R: Read> Records<R> {
    pub(crate) fn new(reader: R, path: &Path) -> Self {
        Records {
            csv: Csv::new(reader, path),
            rec: ByteRecord::new(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.csv.path()
    }

    /// The next record that is not a blank line, or `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record<'_>>, TraceError> {
        loop {
            if !self.csv.read(&mut self.rec)? {
                return Ok(None);
            }
            if is_blank(&self.rec) {
                continue;
            }
            if self.csv.open_quote_at_end(&self.rec) {
                return Err(TraceError::BadRow {
                    path: self.csv.path.clone(),
                    line: self.csv.line(&self.rec),
                    reason: "a quoted field is not closed before the end of the file".into(),
                });
            }
            return Ok(Some(Record {
                line: self.csv.line(&self.rec),
                rec: &self.rec,
            }));
        }
    }

    /// The read loop of every CSV reader: each record after the header goes to `row`, once its
    /// field count matches the header's (`fields`); a row it refuses fails the read, or with
    /// `skip` is counted in `skips`, with the message at `file:line:column`.
    pub(crate) fn for_each_row(
        &mut self,
        fields: usize,
        skip: bool,
        skips: &mut Skips,
        mut row: impl FnMut(&Record<'_>) -> Result<(), Fault>,
    ) -> Result<(), TraceError> {
        let path = self.csv.path.clone();
        while let Some(rec) = self.next_record()? {
            let result = if rec.len() == fields {
                row(&rec)
            } else {
                Err(Fault::Fields {
                    expected: fields,
                    found: rec.len(),
                })
            };
            if let Err(fault) = result {
                let error = || fault.to_error(&path, rec.line, |i| rec.get(i));
                skips.fail_or_count(skip, fault.key(), error)?;
            }
        }
        Ok(())
    }
}

/// Why a row was refused. The message is built only when it is shown.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// The row has the wrong number of fields.
    Fields { expected: usize, found: usize },
    /// A field's value is wrong. `column` is 0-based; `why` has no per-row details (it is the
    /// grouping key in the report).
    Value {
        column: usize,
        name: &'static str,
        why: &'static str,
    },
    /// As `Value`, with a detail that only the message shows.
    ValueDetail {
        column: usize,
        name: &'static str,
        why: &'static str,
        detail: String,
    },
    NotUtf8 {
        column: usize,
        name: &'static str,
        byte: u8,
        offset: usize,
    },
    /// The row as a whole (e.g. a duplicate); `why` is the key, `detail` completes the message.
    Row { why: &'static str, detail: String },
}

impl Fault {
    pub(crate) fn value(column: usize, name: &'static str, why: &'static str) -> Fault {
        Fault::Value { column, name, why }
    }

    /// The grouping key in [`ReadReport::skipped_by_reason`]: the fault without per-row details.
    pub(crate) fn key(&self) -> FaultKey {
        match self {
            Fault::Fields { .. } => FaultKey {
                name: "",
                why: "wrong number of fields",
            },
            Fault::Value { name, why, .. } | Fault::ValueDetail { name, why, .. } => {
                FaultKey { name, why }
            }
            Fault::NotUtf8 { name, .. } => FaultKey {
                name,
                why: "invalid UTF-8",
            },
            Fault::Row { why, .. } => FaultKey { name: "", why },
        }
    }

    /// The full error for a row that starts on `line`; `raw` gives a field's text by index.
    pub(crate) fn to_error<'a>(
        &self,
        path: &Path,
        line: u64,
        raw: impl Fn(usize) -> &'a [u8],
    ) -> TraceError {
        let path = path.to_path_buf();
        match self {
            Fault::Fields { expected, found } => TraceError::BadRow {
                path,
                line,
                reason: format!("expected {expected} fields (as in the header), found {found}"),
            },
            Fault::Value { column, name, why } => TraceError::BadValue {
                path,
                line,
                column: column + 1,
                name: (*name).to_string(),
                value: shorten(&String::from_utf8_lossy(raw(*column))),
                reason: (*why).to_string(),
            },
            Fault::ValueDetail {
                column,
                name,
                why,
                detail,
            } => TraceError::BadValue {
                path,
                line,
                column: column + 1,
                name: (*name).to_string(),
                value: shorten(&String::from_utf8_lossy(raw(*column))),
                reason: format!("{why}{detail}"),
            },
            Fault::NotUtf8 {
                column,
                name,
                byte,
                offset,
            } => TraceError::NotUtf8 {
                path,
                line,
                column: column + 1,
                name: (*name).to_string(),
                byte: *byte,
                offset: *offset,
            },
            Fault::Row { why, detail } => TraceError::BadRow {
                path,
                line,
                reason: format!("{why}{detail}"),
            },
        }
    }
}

/// A field as UTF-8 (already trimmed by [`Record::get`]).
pub(crate) fn text<'a>(raw: &'a [u8], column: usize, name: &'static str) -> Result<&'a str, Fault> {
    std::str::from_utf8(raw).map_err(|e| {
        let offset = e.valid_up_to();
        Fault::NotUtf8 {
            column,
            name,
            byte: raw.get(offset).copied().unwrap_or(0),
            offset,
        }
    })
}

/// A finite number (`f64` syntax, no `NaN`/`inf`).
pub(crate) fn number(raw: &[u8], column: usize, name: &'static str) -> Result<f64, Fault> {
    let s = text(raw, column, name)?;
    if s.is_empty() {
        return Err(Fault::value(column, name, "is empty: a number is required"));
    }
    let v: f64 = s
        .parse()
        .map_err(|_| Fault::value(column, name, "not a number"))?;
    if !v.is_finite() {
        return Err(Fault::value(column, name, "must be a finite number"));
    }
    Ok(v)
}

/// `s`, cut to at most [`MAX_QUOTED_CHARS`] characters.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}...", &s[..cut]),
    }
}

/// A [`Fault`] without its per-row details: `name: why` (or `why` for the row as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FaultKey {
    name: &'static str,
    why: &'static str,
}

impl SkipKey for FaultKey {
    fn reason(&self) -> String {
        if self.name.is_empty() {
            self.why.to_string()
        } else {
            format!("{}: {}", self.name, self.why)
        }
    }
}

/// What bad rows are grouped by in the skip report. Keys are small and `Copy`, so skipping
/// millions of bad rows costs no allocation per row; the reason is only written at the end.
pub(crate) trait SkipKey: Copy + PartialEq {
    /// The reason as the report shows it.
    fn reason(&self) -> String;
}

/// The one bad-row system of every reader: fail on the first bad row, or (with
/// `--skip-bad-rows`) count bad rows by reason and keep the first few messages in full.
#[derive(Debug)]
pub(crate) struct Skips<K = FaultKey> {
    pub rows: u64,
    /// (key, count) in order of first appearance; there are only a handful of distinct keys.
    counts: Vec<(K, u64)>,
    first: Vec<String>,
}

impl<K> Default for Skips<K> {
    fn default() -> Self {
        Skips {
            rows: 0,
            counts: Vec::new(),
            first: Vec::new(),
        }
    }
}

impl<K: Copy + PartialEq> Skips<K> {
    /// Handles a bad row: the error when not skipping, else counts it under `key`. The message is
    /// only built when it is returned or kept.
    #[inline]
    pub(crate) fn fail_or_count(
        &mut self,
        skip: bool,
        key: K,
        error: impl FnOnce() -> TraceError,
    ) -> Result<(), TraceError> {
        if !skip {
            return Err(error());
        }
        self.rows += 1;
        match self.counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((key, 1)),
        }
        if self.first.len() < FIRST_SKIPPED {
            self.first.push(error().to_string());
        }
        Ok(())
    }

    /// The report, or the error for a file with no good row; `reason` writes a key as the report
    /// shows it (for keys whose wording depends on the file, such as its header's names).
    pub(crate) fn report_with(
        self,
        path: &Path,
        accepted: u64,
        reason: impl Fn(&K) -> String,
    ) -> Result<ReadReport, TraceError> {
        if accepted == 0 {
            return Err(match self.first.into_iter().next() {
                None => TraceError::NoRows {
                    path: path.to_path_buf(),
                },
                Some(first) => TraceError::AllRowsBad {
                    path: path.to_path_buf(),
                    rows: self.rows,
                    first,
                },
            });
        }
        Ok(ReadReport {
            rows_read: accepted + self.rows,
            rows_accepted: accepted,
            rows_skipped: self.rows,
            skipped_by_reason: {
                let mut by_reason: Vec<(String, u64)> =
                    self.counts.iter().map(|(k, n)| (reason(k), *n)).collect();
                by_reason.sort();
                by_reason
            },
            first_skipped: self.first,
        })
    }
}

impl<K: SkipKey> Skips<K> {
    /// The report, or the error for a file with no good row.
    pub(crate) fn report(self, path: &Path, accepted: u64) -> Result<ReadReport, TraceError> {
        self.report_with(path, accepted, K::reason)
    }

    /// One line for a note: `N bad rows skipped (reason x n; ...)`.
    pub(crate) fn summary(&self) -> String {
        let reasons: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{n} x {}", k.reason()))
            .collect();
        format!(
            "{} bad rows skipped ({}); the first: {}",
            self.rows,
            reasons.join("; "),
            self.first.first().map(String::as_str).unwrap_or("")
        )
    }
}

/// The header of a CSV file: where each name is.
pub(crate) struct Header {
    pub line: u64,
    pub names: Vec<String>,
}

impl Header {
    /// Reads the first record as the header; an empty file is an error that says what was expected.
    pub(crate) fn read<R: Read>(
        records: &mut Records<R>,
        expected: &str,
    ) -> Result<Header, TraceError> {
        let path = records.path().to_path_buf();
        let Some(rec) = records.next_record()? else {
            return Err(TraceError::Invalid {
                path,
                reason: format!("the file is empty: expected a header line ({expected})"),
            });
        };
        Ok(Header {
            line: rec.line,
            names: rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        })
    }

    /// The 0-based index of `name`; a name given twice is an error.
    pub(crate) fn find(&self, path: &Path, name: &str) -> Result<Option<usize>, TraceError> {
        let mut at = None;
        for (i, n) in self.names.iter().enumerate() {
            if n == name {
                if let Some(first) = at {
                    return Err(TraceError::DuplicateColumn {
                        path: path.to_path_buf(),
                        line: self.line,
                        column: i + 1,
                        name: name.to_string(),
                        first: first + 1,
                    });
                }
                at = Some(i);
            }
        }
        Ok(at)
    }

    /// As [`Header::find`], but a missing column is an error naming `what` the file should be.
    pub(crate) fn require(&self, path: &Path, name: &str, what: &str) -> Result<usize, TraceError> {
        self.find(path, name)?.ok_or_else(|| TraceError::BadRow {
            path: path.to_path_buf(),
            line: self.line,
            reason: format!(
                "missing column `{name}` ({what}); the header has: {}",
                self.describe()
            ),
        })
    }

    /// The header's names for a message: backticked, at most 12.
    pub(crate) fn describe(&self) -> String {
        const MAX_NAMES: usize = 12;
        let mut names: Vec<String> = self
            .names
            .iter()
            .take(MAX_NAMES)
            .map(|n| format!("`{}`", shorten(n)))
            .collect();
        if self.names.len() > MAX_NAMES {
            names.push(format!("... ({} columns in all)", self.names.len()));
        }
        names.join(", ")
    }
}

/// What interns function names in order of first appearance: a [`TraceBuilder`], or a sink
/// that keeps no rows (the first pass of a streamed replay, `trace::sorted`).
pub(crate) trait Interner {
    /// Functions interned so far.
    fn functions(&self) -> usize;
    /// The index of `name`, interning it on first use.
    fn function_id(&mut self, name: &str) -> u32;
}

impl Interner for TraceBuilder {
    fn functions(&self) -> usize {
        TraceBuilder::functions(self)
    }

    fn function_id(&mut self, name: &str) -> u32 {
        TraceBuilder::function_id(self, name)
    }
}

/// Maps compound function keys (e.g. app and function hashes) to trace functions with short,
/// readable and unique names. A function is interned only when it gets its first invocation, so no
/// function of the trace is empty.
#[derive(Debug, Default)]
pub(crate) struct FunctionKeys {
    by_key: HashMap<Box<str>, u32>,
}

/// How many characters of each key part a short name keeps.
const SHORT_PART_CHARS: usize = 16;

impl FunctionKeys {
    /// The trace function for `parts` (joined with `/`), interning it in `b` on first use. Its
    /// name keeps the first 16 characters of each distinct part (64-bit prefixes of the Azure
    /// hashes); should two keys share a short name, the later one gets its full key instead.
    pub(crate) fn id<B: Interner + ?Sized>(&mut self, b: &mut B, key: &str, parts: &[&str]) -> u32 {
        if let Some(&id) = self.by_key.get(key) {
            return id;
        }
        let mut short: Vec<&str> = Vec::with_capacity(parts.len());
        for p in parts {
            let cut = p
                .char_indices()
                .nth(SHORT_PART_CHARS)
                .map_or(*p, |(i, _)| &p[..i]);
            // The Azure 2019 sample repeats one hash in all three columns; say it once.
            if short.last() != Some(&cut) {
                short.push(cut);
            }
        }
        let mut name = short.join("/");
        let mut n = 1;
        let id = loop {
            let before = b.functions();
            let id = b.function_id(&name);
            if b.functions() > before {
                break id;
            }
            // The name belongs to another key.
            n += 1;
            name = if n == 2 {
                key.to_string()
            } else {
                format!("{key}#{n}")
            };
        };
        self.by_key.insert(key.into(), id);
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }
}

/// FNV-1a, 64 bits: a stable hash (the same on every platform and release) for seeding per key.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(input.as_bytes(), Path::new("t.csv"));
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap_or_else(|e| panic!("{e}")) {
            out.push((
                rec.line,
                rec.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn csv_records_with_quotes_blank_lines_and_crlf() {
        let got = records("\u{feff}a,b\r\n\r\n1, 2 \n\"x,\"\"y\",\"multi\nline\"\n3,4");
        assert_eq!(
            got,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (3, vec!["1".into(), "2".into()]),
                (4, vec!["x,\"y".into(), "multi\nline".into()]),
                (6, vec!["3".into(), "4".into()]),
            ]
        );
    }

    #[test]
    fn unclosed_quote_is_an_error_at_its_line() {
        let mut r = Records::new("a\n\"open\nmore\n".as_bytes(), Path::new("t.csv"));
        assert!(matches!(r.next_record(), Ok(Some(_))));
        match r.next_record() {
            Err(e) => assert_eq!(
                e.to_string(),
                "t.csv:2: a quoted field is not closed before the end of the file"
            ),
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn short_names_are_unique() {
        let mut b = TraceBuilder::new();
        let mut k = FunctionKeys::default();
        let a = "0123456789abcdef0000";
        let c = "0123456789abcdef1111";
        let x = k.id(&mut b, &format!("{a}/{a}"), &[a, a]);
        let y = k.id(&mut b, &format!("{c}/{c}"), &[c, c]);
        assert_ne!(x, y);
        assert_eq!(k.id(&mut b, &format!("{a}/{a}"), &[a, a]), x);
        let t = {
            b.push(0, x, 1, 0, crate::trace::Trigger::Sync);
            b.push(0, y, 1, 0, crate::trace::Trigger::Sync);
            b.finish()
        };
        assert_eq!(t.functions[0].name, "0123456789abcdef");
        assert_eq!(t.functions[1].name, format!("{c}/{c}"));
    }
}
