//! Reading and simulating at once gives the same outcome as reading, then simulating.

use std::io::Write;
use std::path::Path;

use faasplan::engine::Warmup;
use faasplan::engine::{InitDist, simulate};
use faasplan::outcome::Outcome;
use faasplan::pipeline::{read_and_simulate, read_and_simulate_streamed};
use faasplan::time::SECOND;
use faasplan::trace::canonical::{ReadOptions, read_path};
use rand::SeedableRng;

use crate::common;

pub(crate) fn fingerprint(o: &Outcome) -> String {
    let mut pm = Vec::new();
    faasplan::export::per_minute::write(&mut pm, o).unwrap();
    format!(
        "{:?}\n{:?}\n{}\n{}\n{}\n{}",
        o.totals,
        o.functions,
        o.window_us,
        o.excluded_after_horizon,
        o.latency.sum_us,
        String::from_utf8(pm).unwrap()
    )
}

fn check(path: &Path, cfg: &faasplan::engine::PlatformConfig) {
    let (trace, _) = read_path(path, &ReadOptions::default()).unwrap();
    let expected = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let (trace2, report, got) =
        read_and_simulate(path, &ReadOptions::default(), cfg, None).unwrap();
    assert_eq!(trace2.len(), trace.len());
    assert_eq!(report.rows_accepted, trace.len() as u64);
    assert_eq!(got.names, expected.names);
    assert_eq!(
        fingerprint(&got),
        fingerprint(&expected),
        "{}",
        path.display()
    );
}

/// A sorted one-function trace with bursts and hour-long gaps, large enough for many batches.
fn write_sparse_bursty(path: &Path, rows: usize) {
    write_bursty_with(path, rows, None);
}

/// As `write_sparse_bursty`, with one row's duration replaced: `(row, duration_ms)`.
fn write_bursty_with(path: &Path, rows: usize, long: Option<(usize, f64)>) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(4);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms").unwrap();
    let mut t = 1_700_000_000_000.0; // Unix epoch ms
    for i in 0..rows {
        let rate = if (i / 5_000) % 2 == 0 { 200.0 } else { 0.5 };
        t += common::exp(&mut rng, rate) * 1e3;
        if i % 20_000 == 19_999 {
            t += 3_600_000.0; // an hour of silence
        }
        let mut d = common::exp(&mut rng, 1.0 / 0.08) * 1e3;
        if let Some((row, ms)) = long
            && row == i
        {
            d = ms;
        }
        writeln!(w, "{t:.3},api,{d:.3}").unwrap();
    }
}

#[test]
fn streaming_equals_read_then_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bursty.csv");
    write_sparse_bursty(&path, 150_000);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.init = InitDist::lognormal(90.0, 300.0).unwrap();
    check(&path, &cfg);
    // With limits, a horizon inside the trace, and one past its end.
    cfg.max_concurrency = Some(20);
    cfg.account_concurrency = Some(15);
    cfg.provisioned = 3;
    for h in [2 * 3600, 100 * 3600] {
        cfg.horizon = Some(h * SECOND);
        check(&path, &cfg);
    }
}

#[test]
fn shipped_workloads_give_the_same_outcome_either_way() {
    let cfg = common::unlimited(600.0, 100.0);
    for name in [
        "api-steady.csv",
        "bursty-unsorted.csv",
        "multi-function.csv",
    ] {
        check(&Path::new("workloads").join(name), &cfg);
    }
}

/// Checks the cyclic warm-up's streamed run against read-then-simulate and says whether it streamed.
fn check_cyclic(path: &Path, cfg: &faasplan::engine::PlatformConfig) -> bool {
    let (trace, _) = read_path(path, &ReadOptions::default()).unwrap();
    let expected = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let (_, _, got, streamed) =
        read_and_simulate_streamed(path, &ReadOptions::default(), cfg, None).unwrap();
    assert_eq!(fingerprint(&got), fingerprint(&expected));
    assert_eq!(got.warmup, expected.warmup);
    streamed
}

#[test]
fn a_cyclic_warmup_streams_from_the_files_tail_and_equals_read_then_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bursty.csv");
    write_sparse_bursty(&path, 200_000);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.init = InitDist::lognormal(90.0, 300.0).unwrap();
    cfg.warmup = Warmup::Cyclic;
    assert!(check_cyclic(&path, &cfg), "a plain sorted file streams");
    cfg.horizon = Some(5 * 3600 * SECOND);
    check_cyclic(&path, &cfg);
    cfg.horizon = None;
    // A request in the middle of the file that runs past the end widens the replay beyond the
    // tail the plan was made from: the streamed run is dropped, and the result is still exact.
    let long = dir.path().join("long.csv");
    write_bursty_with(&long, 200_000, Some((60_000, 9.0 * 86_400_000.0)));
    assert!(!check_cyclic(&long, &cfg));
}
