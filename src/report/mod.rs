//! `--report DIR`: PNG charts, a self-contained `index.html` and a `summary.md`, for people who
//! would rather look than read. One file per page (`simulate`, `compare`, `sweep`, `breakeven`):
//! each defines a plain input struct of *precomputed* series and tables (built from the results by
//! a `from_*` function, never inside the plotting code) and a `write` function.
//!
//! `render.rs` draws with plotters on an RGB buffer with the embedded DejaVu Sans (no system font
//! is needed) and encodes PNGs; `html.rs` and `markdown.rs` write the same tables; `dir.rs` builds
//! the report in a temporary directory beside the target and renames it into place, so a report
//! is either complete or absent. A chart that cannot be drawn is a [`ReportError`], never a panic.

pub mod breakeven;
pub mod compare;
mod dir;
pub mod fmt;
mod html;
mod keepalive;
mod markdown;
mod render;
pub mod simulate;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use dir::{MARKER, ReportTarget, Written, default_dir};
pub use render::{HEIGHT, WIDTH};

use render::{Area, DrawError};

/// Why a report could not be written. Nothing is left behind in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{dir}: the report directory already exists; pass --force to replace it")]
    Exists { dir: PathBuf },
    #[error(
        "{dir}: exists and is not a faasplan report (no {MARKER} file), so it is not replaced even \
         with --force; choose another --report directory"
    )]
    NotAReport { dir: PathBuf },
    #[error("{dir}: --report needs a directory name (not `.`, `..` or `/`)")]
    BadDir { dir: PathBuf },
    // The io::Error is in the message, not `source()`, as in `TraceError`.
    #[error("{path}: {action}: {error}")]
    Io {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    #[error("chart {chart}: {reason}")]
    Chart { chart: String, reason: String },
    #[error("the embedded font cannot be loaded: {reason}")]
    Font { reason: String },
}

impl ReportError {
    pub(crate) fn io(path: &Path, action: &'static str, error: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }

    pub(crate) fn chart(chart: &str, reason: impl Into<String>) -> ReportError {
        ReportError::Chart {
            chart: chart.to_string(),
            reason: reason.into(),
        }
    }
}

pub use crate::export::page::{Align, Table};

type DrawFn<'a> = Box<dyn Fn(&Area) -> Result<(), DrawError> + 'a>;

/// A chart of a page: its file name, title, and the closure that draws it from precomputed series.
pub(crate) struct Chart<'a> {
    pub file: String,
    pub title: String,
    pub draw: DrawFn<'a>,
}

/// What goes into one report, in order.
pub(crate) enum Block<'a> {
    Heading(String),
    Text(String),
    Table(Table),
    Chart(Chart<'a>),
}

/// One report: a title, a line saying what produced it, and blocks in order. The HTML and the
/// Markdown show the same blocks; the Markdown lists the charts as links.
pub(crate) struct Document<'a> {
    pub title: String,
    pub subtitle: String,
    /// Shown in a box at the top of the page (and as lines at the top of the Markdown).
    pub warnings: Vec<String>,
    pub blocks: Vec<Block<'a>>,
}

impl<'a> Document<'a> {
    pub fn new(title: impl Into<String>, subtitle: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            subtitle: subtitle.into(),
            warnings: Vec::new(),
            blocks: Vec::new(),
        }
    }

    pub fn heading(&mut self, s: impl Into<String>) {
        self.blocks.push(Block::Heading(s.into()));
    }

    pub fn text(&mut self, s: impl Into<String>) {
        self.blocks.push(Block::Text(s.into()));
    }

    pub fn table(&mut self, t: Table) {
        self.blocks.push(Block::Table(t));
    }

    pub fn chart(
        &mut self,
        file: &str,
        title: impl Into<String>,
        draw: impl Fn(&Area) -> Result<(), DrawError> + 'a,
    ) {
        self.blocks.push(Block::Chart(Chart {
            file: file.to_string(),
            title: title.into(),
            draw: Box::new(draw),
        }));
    }
}

/// Checks that every value a chart will draw is finite; `what` names the series in the error.
pub(crate) fn check_finite(chart: &str, what: &str, values: &[f64]) -> Result<(), ReportError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(ReportError::chart(
            chart,
            format!(
                "{what}: value {} (index {i}) is not a finite number",
                values[i]
            ),
        )),
    }
}
