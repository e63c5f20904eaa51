//! `faasplan calibrate`: read CloudWatch Lambda logs and print the `--init-ms` that reproduces the
//! cold starts they show, with the observed statistics.

use faasplan::export::results::calibrate::Calibration;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::trace_args::print_report;
use faasplan::trace::TraceBuilder;
use faasplan::trace::cloudwatch;
use faasplan::trace::format::LoadReport;

/// `faasplan calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// CloudWatch Lambda logs: raw exported text with REPORT lines, or a Logs Insights CSV.
    pub logs: PathBuf,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: super::Format,

    /// Skip malformed REPORT lines instead of stopping; the count and reasons go to stderr.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

/// Below this many cold starts the observed p99 is little more than the maximum.
const FEW_COLD_STARTS: u64 = 100;

pub fn run(a: &CalibrateArgs) -> anyhow::Result<ExitCode> {
    // The trace itself is not needed: calibrate reports the cold starts.
    let logs = cloudwatch::read_path(&a.logs, a.skip_bad_rows, &mut TraceBuilder::new())?;
    let name = a.logs.display().to_string();
    let load = LoadReport {
        notes: logs.notes.clone(),
        ..LoadReport::default()
    };
    print_report(&name, &logs.report, Some(&load));
    let s = &logs.cold_starts;
    let Some(flag) = s.init_ms_flag() else {
        anyhow::bail!(
            "{name}: no cold start to fit: none of the {} invocations has an Init Duration",
            s.invocations
        );
    };
    if s.cold_starts < FEW_COLD_STARTS {
        eprintln!(
            "warning: {name}: only {} cold starts: the fitted p99 is uncertain",
            s.cold_starts
        );
    }
    let result = Calibration {
        logs: name,
        observed: s.clone(),
        init_ms_flag: flag,
        notes: logs.notes.clone(),
    };
    super::to_stdout(|w| a.format.write(&result, w))?;
    Ok(ExitCode::SUCCESS)
}
