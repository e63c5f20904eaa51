//! Reading and simulating at once gives the same outcome as reading, then simulating.

use std::io::Write;
use std::path::Path;

use faasplan::engine::{InitDist, simulate};
use faasplan::outcome::Outcome;
use faasplan::pipeline::read_and_simulate;
use faasplan::time::SECOND;
use faasplan::trace::canonical::{ReadOptions, read_path};
use rand::SeedableRng;

use crate::common;

fn fingerprint(o: &Outcome) -> String {
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
    let expected = simulate(&trace, cfg);
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
        let d = common::exp(&mut rng, 1.0 / 0.08) * 1e3;
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
