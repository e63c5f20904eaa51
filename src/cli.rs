//! The command line: clap definitions, validation into the types the library trusts, and the
//! commands. `main.rs` only calls [`run`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::{FixedKeepAlive, InitDist, PlatformConfig, ScalingRate};
use crate::error::ConfigError;
use crate::export;
use crate::export::summary::{RunInfo, Summary};
use crate::pipeline;
use crate::time::{SECOND, parse_duration};
use crate::trace::canonical::ReadOptions;

#[derive(Debug, Parser)]
#[command(
    name = "faasplan",
    version,
    about = "Capacity planner for serverless functions: replays a workload trace through a model of a FaaS platform",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a trace and report cold starts, throttles, latency and instances.
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The trace: a canonical CSV (timestamp_ms,function,duration_ms[,memory_mb][,trigger]).
    pub trace: PathBuf,

    /// Memory per instance for rows without memory_mb, in MB (default: 128).
    #[arg(long, default_value_t = 128, value_name = "MB")]
    pub memory_mb: u16,

    /// Pre-initialised (provisioned) instances per function, used first, never reclaimed (default: 0).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub provisioned: u32,

    /// Keep-alive after an instance's last request, in seconds (default: 600).
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    pub keep_alive: f64,

    /// Maximum instance lifetime, in seconds; older instances are reclaimed when idle (default: none).
    #[arg(long, value_name = "SECONDS")]
    pub max_lifetime: Option<f64>,

    /// Per-function limit on instances in use (reserved concurrency / max instances) (default: none).
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<u32>,

    /// Account-wide limit on instances in use, shared by all functions, or `none` (default: 1000).
    #[arg(long, default_value = "1000", value_name = "N|none")]
    pub account_concurrency: String,

    /// Requests one instance serves at once (default: 1, as on Lambda; Cloud Run uses 80).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub per_instance_concurrency: u32,

    /// Cold-start init time: N (ms), lognormal:P50,P99 (ms) or empirical:FILE (default: the measured
    /// Lambda init for --runtime/--package/--arch at the memory size).
    #[arg(long, value_name = "SPEC")]
    pub init_ms: Option<String>,

    /// Runtime whose measured Lambda init durations set the default --init-ms (default: python3.12).
    #[arg(long, default_value = "python3.12")]
    pub runtime: String,

    /// Packaging for the default --init-ms: zip or image (default: zip).
    #[arg(long, default_value = "zip")]
    pub package: String,

    /// Architecture for the default --init-ms: x86_64 or arm64 (default: x86_64).
    #[arg(long, default_value = "x86_64")]
    pub arch: String,

    /// Scaling-rate limit on new instances per function: N/DURATION or none (default: 1000/10s, Lambda).
    #[arg(long, default_value = "1000/10s", value_name = "N/DURATION")]
    pub scaling_rate: String,

    /// Longest a `queue` request waits for capacity before it is throttled, e.g. 900s, 6h (default: 6h).
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub queue_max_wait: String,

    /// Maximum event age for `async` retries before dead-lettering, e.g. 6h (default: 6h).
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub max_event_age: String,

    /// Window end, e.g. 3600, 90m, 2h; later arrivals are not simulated (default: the end of the
    /// minute of the last completion).
    #[arg(long, value_name = "DURATION")]
    pub horizon: Option<String>,

    /// Seed for all randomness (cold-start samples) (default: 0).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

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

/// Parses and runs the command line. Errors carry their context; `main` prints them.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Simulate(args) => simulate(&args),
    }
}

fn duration_flag(flag: &'static str, s: &str) -> Result<u64, ConfigError> {
    parse_duration(s).ok_or_else(|| {
        ConfigError::invalid(
            flag,
            format!("{s:?}: expected a duration such as 90, 90s, 15m, 6h"),
        )
    })
}

fn seconds_flag(flag: &'static str, s: f64) -> Result<u64, ConfigError> {
    if !s.is_finite() || !(0.0..=1e12).contains(&s) {
        return Err(ConfigError::invalid(
            flag,
            format!("{s}: must be a number of seconds >= 0"),
        ));
    }
    Ok((s * SECOND as f64).round() as u64)
}

/// Turns the raw flags into a validated platform configuration.
pub fn platform_config(a: &SimulateArgs) -> Result<PlatformConfig, ConfigError> {
    let init = match &a.init_ms {
        Some(spec) => InitDist::parse(spec)?,
        None => InitDist::lambda_default(&a.runtime, &a.package, &a.arch, a.memory_mb.into())?,
    };
    let mut cfg = PlatformConfig::lambda_defaults(init);
    cfg.memory_mb = a.memory_mb;
    cfg.per_instance_concurrency = a.per_instance_concurrency;
    cfg.provisioned = a.provisioned;
    cfg.keep_alive = Arc::new(FixedKeepAlive(seconds_flag("--keep-alive", a.keep_alive)?));
    cfg.max_lifetime = a
        .max_lifetime
        .map(|s| seconds_flag("--max-lifetime", s))
        .transpose()?;
    if cfg.max_lifetime == Some(0) {
        return Err(ConfigError::invalid(
            "--max-lifetime",
            "must be greater than 0",
        ));
    }
    cfg.max_concurrency = a.max_concurrency;
    cfg.account_concurrency = match a.account_concurrency.trim() {
        "none" | "unlimited" => None,
        s => Some(s.parse().map_err(|_| {
            ConfigError::invalid(
                "--account-concurrency",
                format!("{s:?}: expected a whole number or none"),
            )
        })?),
    };
    if cfg.account_concurrency == Some(0) {
        return Err(ConfigError::invalid(
            "--account-concurrency",
            "must be at least 1 (or none)",
        ));
    }
    cfg.scaling = ScalingRate::parse(&a.scaling_rate)?;
    cfg.queue_max_wait = duration_flag("--queue-max-wait", &a.queue_max_wait)?;
    cfg.retry.max_age = duration_flag("--max-event-age", &a.max_event_age)?;
    cfg.horizon = a
        .horizon
        .as_deref()
        .map(|h| duration_flag("--horizon", h))
        .transpose()?;
    cfg.seed = a.seed;
    Ok(cfg)
}

fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(ConfigError::invalid("--threads", "must be at least 1").into());
        }
        b = b.num_threads(n);
    }
    b.build().context("cannot start the worker threads")
}

fn simulate(a: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    let cfg = platform_config(a)?;
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
