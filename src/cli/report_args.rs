//! `--report [DIR]` and `--force`, shared by every command that can write a report, and the
//! glue that turns a command's results into a report page.

use std::path::{Path, PathBuf};

use clap::Args;

use faasplan::engine::PlatformConfig;
use faasplan::export::summary::Summary;
use faasplan::outcome::Outcome;
use faasplan::report::{self, ReportError, ReportTarget, Written};

/// Where to write a report, if anywhere.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Also write PNG charts, index.html and summary.md to DIR (default DIR: reports/COMMAND-TRACE,
    /// e.g. reports/simulate-api-steady). The directory is written whole or not at all.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub report: Option<Option<PathBuf>>,

    /// Replace the --report directory if it exists (only a directory faasplan wrote).
    #[arg(long, requires = "report")]
    pub force: bool,
}

impl ReportArgs {
    /// The checked report directory, or `None` without `--report`. Call it before the run, so
    /// that an existing directory is an error before any work is done.
    pub fn target(&self, command: &str, trace: &Path) -> Result<Option<ReportTarget>, ReportError> {
        match &self.report {
            None => Ok(None),
            Some(dir) => {
                let dir = dir
                    .clone()
                    .unwrap_or_else(|| report::default_dir(command, trace));
                ReportTarget::new(dir, self.force).map(Some)
            }
        }
    }
}

/// Says where the report went (stderr: results go to stdout).
pub(crate) fn announce(w: &Written) {
    eprintln!("report: {}", w.index().display());
}

/// Writes the `simulate` report of one run.
pub(crate) fn write_simulate(
    target: &ReportTarget,
    outcome: &Outcome,
    summary: &Summary,
    cfg: &PlatformConfig,
) -> Result<(), ReportError> {
    let page = report::simulate::SimulatePage::from_outcome(outcome, summary, cfg);
    announce(&report::simulate::write(&page, target)?);
    Ok(())
}

/// Writes the comparison report of one trace priced on several offerings.
pub(crate) fn write_offerings(
    target: &ReportTarget,
    trace: &str,
    runs: &[Summary],
) -> Result<(), ReportError> {
    let page = report::compare::ComparePage::from_summaries(trace, runs);
    announce(&report::compare::write(&page, target)?);
    Ok(())
}
