//! Typed errors of the library. Each message names what to fix: the flag, or the file with line and
//! column. The binary adds context with `anyhow` and exits 2 on any of them.

use std::path::PathBuf;

/// A problem with a trace file. `line` is 1-based (the header is line 1); `column` is the 1-based
/// field index, with the column name alongside.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty: expected a header line naming the columns")]
    Empty { path: PathBuf },
    #[error("{path}:1: missing required column `{column}` (the header has: {found})")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    #[error("{path}:1:{column}: duplicate column `{name}` (first seen in column {first})")]
    DuplicateColumn {
        path: PathBuf,
        column: usize,
        name: String,
        first: usize,
    },
    #[error("{path}:{line}:{column}: {name} {value:?}: {reason}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        value: String,
        reason: String,
    },
    #[error("{path}:{line}: {reason}")]
    BadRow {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("{path}:{line}:{column}: invalid UTF-8 in field (byte {byte_offset} of the file); the trace must be UTF-8 text")]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        column: usize,
        byte_offset: u64,
    },
    #[error("{path}: the header is there but no data rows follow")]
    NoRows { path: PathBuf },
}

/// A problem with options or other inputs that are not trace rows.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{flag}: {reason}")]
    Invalid { flag: &'static str, reason: String },
    #[error("{path}:{line}: {reason}")]
    File {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

impl ConfigError {
    pub fn invalid(flag: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            flag,
            reason: reason.into(),
        }
    }
}
