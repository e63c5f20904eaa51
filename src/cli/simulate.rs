//! `faasplan simulate`: replay one trace on one platform and print the summary.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{Format, PlatformArgs, platform_config, thread_pool};
use crate::export;
use crate::export::summary::{RunInfo, Summary};
use crate::pipeline;
use crate::trace::canonical::ReadOptions;

/// `faasplan simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The trace: a canonical CSV (timestamp_ms,function,duration_ms[,memory_mb][,trigger]).
    pub trace: PathBuf,

    #[command(flatten)]
    pub platform: PlatformArgs,

    /// Output format (default: table).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write a per-minute CSV series to FILE.
    #[arg(long, value_name = "FILE")]
    pub per_minute: Option<PathBuf>,

    /// Skip malformed trace rows instead of stopping; the count and reasons go to stderr.
    #[arg(long)]
    pub skip_bad_rows: bool,

    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Interleave all functions in one event loop even when they are independent (for checking).
    #[arg(long, hide = true)]
    pub coupled: bool,
}

pub fn run(a: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    let cfg = platform_config(&a.platform)?;
    let force = a.coupled.then_some(crate::outcome::Mode::Coupled);
    let opts = ReadOptions {
        skip_bad_rows: a.skip_bad_rows,
    };
    let (trace, report, outcome) =
        pool.install(|| pipeline::read_and_simulate(&a.trace, &opts, &cfg, force))?;
    if report.rows_skipped > 0 {
        eprintln!(
            "warning: {}: skipped {} of {} rows (--skip-bad-rows):",
            a.trace.display(),
            report.rows_skipped,
            report.rows_read
        );
        for (reason, n) in &report.skipped_by_reason {
            eprintln!("  {n} x {reason}");
        }
        for msg in &report.first_skipped {
            eprintln!("  e.g. {msg}");
        }
    }
    if trace.was_sorted {
        eprintln!(
            "note: {}: rows were not in arrival order; sorted them (stably)",
            a.trace.display()
        );
    }
    if outcome.excluded_after_horizon > 0 {
        eprintln!(
            "note: {} rows arrive at or after the horizon and were not simulated",
            outcome.excluded_after_horizon
        );
    }
    let info = RunInfo {
        trace: a.trace.display().to_string(),
        trace_rows: report.rows_accepted,
        rows_skipped: report.rows_skipped,
        sorted_on_read: trace.was_sorted,
        memory_mb: cfg.memory_mb,
        memory_sizes_mb: outcome.totals.usage.iter().map(|u| u.memory_mb).collect(),
        per_instance_concurrency: cfg.per_instance_concurrency,
        provisioned: cfg.provisioned,
        keep_alive: cfg.keep_alive.describe(),
        max_lifetime_s: cfg.max_lifetime.map(crate::time::us_to_s),
        max_concurrency: cfg.max_concurrency,
        account_concurrency: cfg.account_concurrency,
        scaling_rate: cfg.scaling.map(|s| {
            format!(
                "{} new instances, refilled 1 per {} ms",
                s.burst,
                s.refill_every as f64 / 1e3
            )
        }),
        init: cfg.init.describe(),
        horizon_s: cfg.horizon.map(crate::time::us_to_s),
        seed: cfg.seed,
        mode: outcome.mode,
        excluded_after_horizon: outcome.excluded_after_horizon,
    };
    let summary = Summary::new(&outcome, info);
    if let Some(path) = &a.per_minute {
        export::write_atomic(path, |w| export::per_minute::write(w, &outcome))?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match a.format {
        Format::Table => export::table::write(&mut out, &summary),
        Format::Json => export::json::write(&mut out, &summary),
        Format::Csv => export::csv::write(&mut out, &summary),
    }
    .and_then(|()| out.flush())
    .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}
