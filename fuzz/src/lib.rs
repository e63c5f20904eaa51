//! The contract every fuzz target checks, in one place: no panic (libFuzzer reports one as a
//! crash); on success, row accounting (rows read = accepted + skipped); on failure, an error that
//! says where: `file:line[:column]` for file inputs (a line within the input, never `file:0:`),
//! the value for flag values.
//!
//! Targets feed the library bytes: trace readers through an in-memory `Input`, file loaders
//! through a scratch file (so that reading, UTF-8 checks included, is fuzzed too).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use faasplan::error::{ConfigError, TraceError};
use faasplan::trace::Trace;
use faasplan::trace::canonical::ReadReport;
use faasplan::trace::input::Input;

/// The first byte of the data selects options (or a parser); the rest is the input.
pub fn split(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(b, rest)| (*b, rest))
}

/// `data` as an input named `name` in messages.
pub fn input(name: &str, data: &[u8]) -> Input {
    Input::from_reader(Path::new(name), Box::new(Cursor::new(data.to_vec())))
}

/// Lines in `data` as a reader counts them (a last line without a newline counts).
pub fn lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!data.ends_with(b"\n") && !data.is_empty())
}

/// A file of this process for a loader that takes a path (`/dev/shm` when there is one, so that
/// writing it costs no disk).
pub fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let dir = Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!("faasplan-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("the scratch file can be written");
    path
}

/// Rows read = accepted + skipped, the reasons add up, and nothing is skipped unless asked.
pub fn check_report(r: &ReadReport, data: &[u8], skip: bool) {
    assert_eq!(
        r.rows_read,
        r.rows_accepted + r.rows_skipped,
        "rows read = accepted + skipped: {r:?}"
    );
    let by_reason: u64 = r.skipped_by_reason.iter().map(|(_, n)| n).sum();
    assert_eq!(by_reason, r.rows_skipped, "skips by reason add up: {r:?}");
    assert!(
        skip || r.rows_skipped == 0,
        "skipped without being asked: {r:?}"
    );
    assert!(
        r.rows_read <= lines(data),
        "more rows than lines ({}): {r:?}",
        lines(data)
    );
}

/// A successful read: the report's accounting, and (where a row is one invocation) the trace
/// holds exactly the accepted rows.
pub fn check_trace(trace: &Trace, r: &ReadReport, data: &[u8], skip: bool, one_per_row: bool) {
    check_report(r, data, skip);
    if one_per_row {
        assert_eq!(trace.len() as u64, r.rows_accepted, "{r:?}");
    }
}

/// `line` is a line of an input of `data`: 1 to its last line (one past it for a message about
/// the end of the file).
fn check_line(line: u64, data: &[u8], msg: &str) {
    assert!(
        line >= 1 && line <= lines(data) + 1,
        "line {line} of {} lines: {msg}",
        lines(data)
    );
}

/// `msg` starts with the input's name, and with no line 0 after it (`file:0:`).
pub fn check_named(msg: &str, name: &str) {
    let rest = msg
        .strip_prefix(name)
        .unwrap_or_else(|| panic!("the error names the input {name}: {msg}"));
    assert!(!rest.starts_with(":0:"), "no line 0: {msg}");
}

/// A trace error names the input, and row errors a line (and column) within it.
pub fn check_trace_error(e: &TraceError, name: &str, data: &[u8]) {
    let msg = e.to_string();
    check_named(&msg, name);
    match e {
        TraceError::BadValue { line, column, .. }
        | TraceError::NotUtf8 { line, column, .. }
        | TraceError::DuplicateColumn { line, column, .. } => {
            check_line(*line, data, &msg);
            assert!(*column >= 1, "column {column}: {msg}");
        }
        TraceError::MissingColumn { line, .. } => check_line(*line, data, &msg),
        TraceError::BadRow { line, .. } | TraceError::ReadFailed { line, .. } if *line > 0 => {
            check_line(*line, data, &msg)
        }
        _ => {}
    }
}

/// An error about a file names it, and a line within it when it names one.
pub fn check_file_error(e: &ConfigError, path: &Path, data: &[u8]) {
    let msg = e.to_string();
    check_named(&msg, &path.display().to_string());
    match e {
        ConfigError::File { line, .. } if *line > 0 => check_line(*line, data, &msg),
        ConfigError::File { .. } => {}
        other => panic!("a file's error is not a file error: {other:?}"),
    }
}

/// A flag value's error quotes the value, or the part of it that is wrong (a `key=value` of a
/// spec, an item of a list), so the user sees which one: some `"..."` in the message (Rust's
/// `{:?}` quoting) is a non-empty piece of the value, or the message holds an item of it.
pub fn check_value_error(msg: &str, value: &str) {
    assert!(!msg.is_empty());
    let escaped = format!("{value:?}");
    let escaped = &escaped[1..escaped.len() - 1];
    let quotes_a_piece = quoted_strings(msg).any(|q| !q.is_empty() && escaped.contains(q));
    // A check after parsing (a field's range) names the field and the number as parsed.
    let names_an_item = value
        .split([',', ':', '=', '@'])
        .map(str::trim)
        .any(|p| !p.is_empty() && msg.contains(p));
    assert!(
        value.trim().is_empty() || quotes_a_piece || names_an_item,
        "the error does not quote the value {value:?}: {msg}"
    );
}

/// The insides of the `"..."` strings in `msg`, still escaped.
fn quoted_strings(msg: &str) -> impl Iterator<Item = &str> {
    let bytes = msg.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = i + bytes[i..].iter().position(|&b| b == b'"')? + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(bytes.len());
        i = (end + 1).min(bytes.len());
        Some(&msg[start..end])
    })
}
