//! `faasplan generate`: write a synthetic trace from a workload spec.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use faasplan::export::write_atomic;
use faasplan::workload::{self, Generated};

/// `faasplan generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The workload spec, TOML (see workloads/README.md and workloads/*.toml).
    pub spec: PathBuf,

    /// Where to write the trace, a canonical CSV; `-` means stdout. A file is written whole or
    /// not at all.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Seed for every random draw (default: the spec's `seed`, else 0).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

pub fn run(a: &GenerateArgs) -> anyhow::Result<ExitCode> {
    super::refuse_output_over_input("--out", &a.out, std::slice::from_ref(&a.spec))?;
    let wl = workload::spec::load(&a.spec)?;
    let seed = a.seed.or(wl.seed).unwrap_or(0);
    let started = Instant::now();
    let stats: Generated = if a.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let stats = workload::generate(&mut out, &wl, seed).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
        stats
    } else if std::fs::metadata(&a.out).is_ok_and(|m| !m.is_file()) {
        // A device or a pipe (`/dev/null`, a FIFO): write straight to it. Renaming a finished
        // temporary file over it would replace the device itself.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&a.out)
            .with_context(|| format!("{}: cannot open for writing", a.out.display()))?;
        let mut out = std::io::BufWriter::new(file);
        workload::generate(&mut out, &wl, seed)
            .and_then(|s| out.flush().map(|()| s))
            .with_context(|| format!("{}: write failed", a.out.display()))?
    } else {
        let mut stats = None;
        write_atomic(&a.out, |w| {
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
        a.out.display(),
        secs,
        stats.rows as f64 / secs.max(1e-9) / 1e6
    );
    for (f, n) in wl.functions.iter().zip(&stats.per_function) {
        eprintln!("  {}: {n} rows", f.name);
    }
    Ok(ExitCode::SUCCESS)
}
