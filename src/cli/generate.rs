//! `faasplan generate`: write a synthetic trace from a workload spec, or an Azure-scale
//! synthetic trace in the Azure Functions 2019 layout (`--azure-like DAYS`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use faasplan::export::write_atomic;
use faasplan::workload::azure_like::{self, MAX_DAYS, MAX_FUNCTIONS, Population};
use faasplan::workload::{self, Generated};

/// `faasplan generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The workload spec, TOML (see workloads/README.md and workloads/*.toml). Not with
    /// --azure-like.
    #[arg(required_unless_present = "azure_like", conflicts_with = "azure_like")]
    pub spec: Option<PathBuf>,

    /// Where to write the spec's trace, a canonical CSV; `-` means stdout. A file is written whole
    /// or not at all.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "azure_like",
        conflicts_with = "azure_like"
    )]
    pub out: Option<PathBuf>,

    /// Write an Azure-scale synthetic trace of DAYS days instead: per-minute counts, durations
    /// and memory files in the Azure Functions 2019 layout, with the published distributions
    /// (see workloads/README.md); 1 to 99 days. Needs --functions and --out-dir.
    #[arg(
        long,
        value_name = "DAYS",
        requires_all = ["functions", "out_dir"],
        allow_negative_numbers = true
    )]
    pub azure_like: Option<u64>,

    /// With --azure-like: the number of functions (the released Azure trace has about 46000 a
    /// day); 1 to 1000000.
    #[arg(
        long,
        value_name = "N",
        requires = "azure_like",
        allow_negative_numbers = true
    )]
    pub functions: Option<u64>,

    /// With --azure-like: the directory to write the files into (created if missing); each file
    /// is written whole or not at all.
    #[arg(long, value_name = "DIR", requires = "azure_like")]
    pub out_dir: Option<PathBuf>,

    /// Seed for every random draw (default: the spec's `seed`, else 0).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// The library's field names and the flags that set them.
const FLAG_OF_FIELD: &[(&str, &str)] = &[("days", "--azure-like"), ("functions", "--functions")];

pub fn run(a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    if let Some(days) = a.azure_like {
        return run_azure_like(a, days);
    }
    let (Some(spec), Some(out)) = (&a.spec, &a.out) else {
        anyhow::bail!("generate: give a workload spec and --out FILE, or --azure-like DAYS");
    };
    super::refuse_output_over_input("--out", out, std::slice::from_ref(spec))?;
    let wl = workload::spec::load(spec)?;
    let seed = a.seed.or(wl.seed).unwrap_or(0);
    let started = Instant::now();
    let stats: Generated = if out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let stats = workload::generate(&mut out, &wl, seed).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
        stats
    } else if std::fs::metadata(out).is_ok_and(|m| !m.is_file()) {
        // A device or a pipe (`/dev/null`, a FIFO): write straight to it. Renaming a finished
        // temporary file over it would replace the device itself.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .with_context(|| format!("{}: cannot open for writing", out.display()))?;
        let mut w = std::io::BufWriter::new(file);
        workload::generate(&mut w, &wl, seed)
            .and_then(|s| w.flush().map(|()| s))
            .with_context(|| format!("{}: write failed", out.display()))?
    } else {
        let mut stats = None;
        write_atomic(out, |w| {
            stats = Some(workload::generate(w, &wl, seed)?);
            Ok(())
        })?;
        stats.unwrap_or_default()
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {} rows for {} functions (seed {seed}) to {} in {:.2} s ({:.1} M rows/s)",
        stats.rows,
        wl.functions.len(),
        out.display(),
        secs,
        stats.rows as f64 / secs.max(1e-9) / 1e6
    );
    for (f, n) in wl.functions.iter().zip(&stats.per_function) {
        eprintln!("  {}: {n} rows", f.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// `generate --azure-like DAYS --functions N --out-dir DIR`.
fn run_azure_like(a: &GenerateArgs, days: u64) -> anyhow::Result<ExitCode> {
    let functions = a.functions.unwrap_or(0);
    let opts = azure_like::Options::new(days, functions, a.seed.unwrap_or(0))
        .map_err(|e| e.for_flags(FLAG_OF_FIELD))?;
    let Some(dir) = a.out_dir.as_deref() else {
        anyhow::bail!("--out-dir: required with --azure-like");
    };
    let started = Instant::now();
    let pop = Population::draw(&opts);
    eprintln!(
        "drew {} functions in {} applications (seed {}) in {:.2} s",
        pop.functions().len(),
        pop.apps().len(),
        opts.seed(),
        started.elapsed().as_secs_f64()
    );
    let written = azure_like::write(dir, &pop, &opts, |day, n| {
        eprintln!("  day {:02}: {n} invocations", day + 1);
    })?;
    let bytes: u64 = written
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "wrote {} invocations over {} day(s) in {} files ({:.1} MB) to {} in {:.2} s",
        written.invocations(),
        opts.days(),
        written.files.len(),
        bytes as f64 / 1e6,
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("replay it with:\n  {}", simulate_command(dir, opts.days()));
    Ok(ExitCode::SUCCESS)
}

/// The `faasplan simulate` command line that reads the trace back.
fn simulate_command(dir: &Path, days: u32) -> String {
    let mut cmd = String::from("faasplan simulate");
    let files: Vec<[PathBuf; 3]> = (0..days).map(|d| azure_like::day_files(dir, d)).collect();
    for (d, [inv, dur, mem]) in files.iter().enumerate() {
        if d == 0 {
            cmd.push_str(&format!(" {}", inv.display()));
        } else {
            cmd.push_str(&format!(" --next-day {}", inv.display()));
        }
        cmd.push_str(&format!(
            " --durations {} --memory {}",
            dur.display(),
            mem.display()
        ));
    }
    cmd
}

// The bounds the help text states.
const _: () = assert!(MAX_DAYS == 99 && MAX_FUNCTIONS == 1_000_000);
