//! The speed benchmark of the core issue (run: `cargo bench --bench engine`).
//!
//! Trace: one function, 10 M Poisson arrivals at 100/s, lognormal durations around 100 ms, written
//! once to `target/bench/poisson-10m.csv` (about 280 MB). Three measurements, median of 5 runs:
//! 1. engine: `simulate` on the parsed trace, invocations per second on one thread;
//! 2. csv baseline: a bare csv-crate pass that reads the file and parses the same three columns;
//! 3. read + simulate: the library's reader plus the engine (what `faasplan simulate` does).
//!
//! `FAASPLAN_BENCH_ROWS` changes the row count (for a quick look).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faasplan::engine::{InitDist, PlatformConfig, simulate};
use faasplan::pipeline::read_and_simulate;
use faasplan::trace::canonical::{ReadOptions, read_path};
use rand::{RngExt, SeedableRng};

fn write_trace(path: &Path, rows: u64) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2026);
    writeln!(w, "timestamp_ms,function,duration_ms")?;
    let mut t_ms = 0.0f64;
    // Lognormal with median 100 ms and sigma 0.5.
    let (mu, sigma) = (100f64.ln(), 0.5);
    for _ in 0..rows {
        let u: f64 = rng.random();
        t_ms += -(1.0 - u).ln() * 10.0; // mean gap 10 ms = 100/s
        let (u1, u2): (f64, f64) = (rng.random(), rng.random());
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let d = (mu + sigma * z).exp();
        writeln!(w, "{t_ms:.3},api,{d:.3}")?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, path)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    (median(times), last.expect("runs >= 1"))
}

fn csv_baseline(path: &Path) -> u64 {
    let mut rdr = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 20)
        .from_path(path)
        .expect("open");
    let mut rec = csv::ByteRecord::new();
    let mut n = 0u64;
    let mut acc = 0.0;
    while rdr.read_byte_record(&mut rec).expect("read") {
        let t: f64 = std::str::from_utf8(&rec[0]).unwrap().parse().unwrap();
        let f = std::str::from_utf8(&rec[1]).unwrap();
        let d: f64 = std::str::from_utf8(&rec[2]).unwrap().parse().unwrap();
        acc += t + d + f.len() as f64;
        n += 1;
    }
    std::hint::black_box(acc);
    n
}

fn main() {
    let rows: u64 = std::env::var("FAASPLAN_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let path = PathBuf::from(format!("target/bench/poisson-{rows}.csv"));
    write_trace(&path, rows).expect("write the benchmark trace");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "trace: {} ({rows} rows, {:.1} MB)",
        path.display(),
        size as f64 / 1e6
    );

    let init = InitDist::lambda_default("python3.12", "zip", "x86_64", 128).expect("table");
    let cfg = PlatformConfig::lambda_defaults(init);
    let (trace, _) = read_path(&path, &ReadOptions::default()).expect("read");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let valid = cfg.validate_for(&trace).expect("valid");

    let (t_engine, outcome) = time(5, || pool.install(|| simulate(&trace, &valid)));
    println!(
        "engine (1 thread):      {:.3} s  = {:.1} M invocations/s  ({} cold starts)",
        t_engine,
        rows as f64 / t_engine / 1e6,
        outcome.totals.cold_starts
    );
    let threads = rayon::current_num_threads();
    let (t_engine_all, _) = time(5, || simulate(&trace, &valid));
    println!(
        "engine ({threads} threads):      {:.3} s  = {:.1} M invocations/s (collector on the second core)",
        t_engine_all,
        rows as f64 / t_engine_all / 1e6
    );
    if std::env::var("FAASPLAN_BENCH_ONLY").as_deref() == Ok("engine") {
        return;
    }
    let (t_csv, n) = time(5, || csv_baseline(&path));
    assert_eq!(n, rows);
    println!(
        "csv baseline:           {:.3} s  = {:.1} M rows/s, {:.0} MB/s",
        t_csv,
        rows as f64 / t_csv / 1e6,
        size as f64 / t_csv / 1e6
    );
    drop(trace);
    let (t_read, _) = time(5, || {
        read_path(&path, &ReadOptions::default()).expect("read")
    });
    println!(
        "reader only:            {:.3} s  = {:.2}x the csv baseline",
        t_read,
        t_read / t_csv
    );
    let (t_seq, _) = time(5, || {
        let (trace, _) = read_path(&path, &ReadOptions::default()).expect("read");
        // As `faasplan simulate` does after reading: validate for the trace, then run.
        simulate(&trace, &cfg.validate_for(&trace).expect("valid"))
    });
    println!(
        "read, then simulate:    {:.3} s  = {:.2}x the csv baseline",
        t_seq,
        t_seq / t_csv
    );
    let (t_e2e, _) = time(5, || {
        read_and_simulate(&path, &ReadOptions::default(), &cfg, None).expect("read")
    });
    println!(
        "read + simulate (overlapped, as `faasplan simulate`): {:.3} s  = {:.2}x the csv baseline",
        t_e2e,
        t_e2e / t_csv
    );
}
