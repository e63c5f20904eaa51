//! `faasplan calibrate`: read CloudWatch Lambda logs and print the `--init-ms` that reproduces the
//! cold starts they show, with the observed statistics.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::trace_args::print_report;
use crate::trace::TraceBuilder;
use crate::trace::cloudwatch::{self, ColdStartStats};
use crate::trace::format::LoadReport;

/// `faasplan calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// CloudWatch Lambda logs: raw exported text with REPORT lines, or a Logs Insights CSV.
    pub logs: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CalibrateFormat::Table)]
    pub format: CalibrateFormat,

    /// Skip malformed REPORT lines instead of stopping; the count and reasons go to stderr.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalibrateFormat {
    Table,
    Json,
}

/// Below this many cold starts the observed p99 is little more than the maximum.
const FEW_COLD_STARTS: u64 = 100;

#[derive(serde::Serialize)]
struct Calibration<'a> {
    logs: String,
    #[serde(flatten)]
    observed: &'a ColdStartStats,
    /// The value for `--init-ms`.
    init_ms_flag: String,
}

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
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match a.format {
        CalibrateFormat::Json => {
            let c = Calibration {
                logs: name,
                observed: s,
                init_ms_flag: flag,
            };
            serde_json::to_writer_pretty(&mut out, &c).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        CalibrateFormat::Table => {
            writeln!(out, "invocations      {}", s.invocations)?;
            writeln!(
                out,
                "cold starts      {} ({:.2} %)",
                s.cold_starts,
                s.ratio * 100.0
            )?;
            if let Some(p) = s.init_ms {
                for (label, v) in [
                    ("init min", p.min),
                    ("init p50", p.p50),
                    ("init p90", p.p90),
                    ("init p99", p.p99),
                    ("init max", p.max),
                    ("init mean", p.mean),
                ] {
                    writeln!(out, "{label:<16} {v:.2} ms")?;
                }
            }
            writeln!(out, "--init-ms {flag}")?;
        }
    }
    out.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
