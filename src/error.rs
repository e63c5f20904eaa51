//! Typed errors of the library. Each message names what to fix: the flag, or the file with line and
//! column. The binary adds context with `anyhow` and exits 2 on any of them.

use std::path::PathBuf;

/// A problem with a trace file. `line` is 1-based (the header is line 1); `column` is the 1-based
/// field index, with the column name alongside.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    // The io::Error is printed in the message and deliberately not exposed as `source()`: the binary
    // prints the chain with `{:#}`, which would otherwise show the OS error twice.
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}{}: cannot read: {error}", path.display(), at_line(*line))]
    ReadFailed {
        path: PathBuf,
        line: u64,
        error: std::io::Error,
    },
    #[error(
        "{path}: the file is empty: expected a header line naming the columns \
         (timestamp_ms,function,duration_ms, optionally memory_mb and trigger)"
    )]
    Empty { path: PathBuf },
    #[error(
        "{path}:{line}: missing required column{} {}; the header has: {found}. The header must name \
         timestamp_ms, function and duration_ms (or another name for each: timestamp_s, \
         timestamp_us, timestamp, time; function_name, name; duration_s, duration_us, duration; \
         memory_mb and trigger are optional){hint}",
        if .missing.len() == 1 { "" } else { "s" },
        backticked(.missing)
    )]
    MissingColumn {
        path: PathBuf,
        line: u64,
        missing: Vec<&'static str>,
        /// The header's names, backticked and comma-separated (shortened when long).
        found: String,
        /// Empty, or a sentence starting with "; " that suggests the fix.
        hint: String,
    },
    #[error("{path}:{line}:{column}: duplicate column `{name}` (first seen in column {first})")]
    DuplicateColumn {
        path: PathBuf,
        line: u64,
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
    #[error("{}{}: {reason}", path.display(), at_line(*line))]
    BadRow {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(
        "{path}:{line}:{column}: {name}: invalid UTF-8 (byte {byte:#04x} at offset {offset} of the \
         field); the trace must be UTF-8 text"
    )]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        /// The first offending byte.
        byte: u8,
        /// Offset of that byte within the field, bytes.
        offset: usize,
    },
    /// A problem with the file as a whole: the wrong format, no header, a missing companion file.
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// A row that takes the trace past a bound on what one run can hold.
    #[error("{}:{line}: {reason}", path.display())]
    TooLarge {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("{path}: the header is there but no data rows follow")]
    NoRows { path: PathBuf },
    #[error("{path}: every data row is bad ({rows} skipped); the first: {first}")]
    AllRowsBad {
        path: PathBuf,
        rows: u64,
        /// The message for the first bad row.
        first: String,
    },
    /// A workload spec read as a trace (`simulate SPEC.toml`): its own file:line:column error.
    #[error(transparent)]
    Spec(#[from] crate::workload::SpecError),
}

fn backticked(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// A problem with options or other inputs that are not trace rows.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A command-line flag (the binary's errors, and the library's mapped by it).
    #[error("{flag}: {reason}")]
    Invalid { flag: &'static str, reason: String },
    /// A setting of the library's types, named by its field path (`provisioned_plan.target.interval`),
    /// never by a flag: the binary maps it to the flag that sets it ([`ConfigError::for_flags`]),
    /// a file loader to its line.
    #[error("{field}: {reason}")]
    Field { field: &'static str, reason: String },
    /// `line` 0 means the file as a whole (it cannot be read, or holds no samples): the message
    /// then names the file alone, never `file:0:`.
    #[error("{}{}: {reason}", path.display(), at_line(*line))]
    File {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

/// `:LINE` for a 1-based line, nothing for 0 (the whole file).
fn at_line(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

impl ConfigError {
    pub fn invalid(flag: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            flag,
            reason: reason.into(),
        }
    }

    /// An invalid value of the library field `field` (a path such as `cpu.bound`).
    pub fn field(field: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Field {
            field,
            reason: reason.into(),
        }
    }

    /// What is wrong, without the flag, field or file that says where.
    pub fn reason(&self) -> &str {
        match self {
            ConfigError::Invalid { reason, .. }
            | ConfigError::Field { reason, .. }
            | ConfigError::File { reason, .. } => reason,
        }
    }

    /// The field a [`ConfigError::Field`] names.
    pub fn field_name(&self) -> Option<&'static str> {
        match self {
            ConfigError::Field { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Renames a field error to the flag `flag_of` gives for its field (the longest matching
    /// prefix of the field path: `provisioned_plan.target` covers `provisioned_plan.target.min`).
    /// Other errors, and fields with no flag, are returned unchanged.
    pub fn for_flags(self, flag_of: &[(&'static str, &'static str)]) -> Self {
        let ConfigError::Field { field, reason } = self else {
            return self;
        };
        let covers = |prefix: &str| {
            field == prefix
                || field
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        match flag_of
            .iter()
            .filter(|(f, _)| covers(f))
            .max_by_key(|(f, _)| f.len())
        {
            Some((_, flag)) => ConfigError::Invalid { flag, reason },
            None => ConfigError::Field { field, reason },
        }
    }
}

/// A result that could not be written: `what` names the file (or stdout) and the step that
/// failed; the I/O error, when there is one, is the source (a closed stdout is a broken pipe
/// that the binary treats as success).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct WriteError {
    pub what: String,
    #[source]
    pub source: Option<std::io::Error>,
}

impl WriteError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        WriteError {
            what: what.into(),
            source: Some(source),
        }
    }
}
