//! `faasplan generate`: the arrival processes against their theory (rates within a confidence
//! interval from the sample size, a Kolmogorov–Smirnov test of Poisson gaps, the diurnal peak and
//! trough, the MMPP's stationary mix), and the written trace.

use std::path::{Path, PathBuf};

use faasplan::time::{HOUR, MINUTE, Micros, SECOND};
use faasplan::trace::canonical::{ReadOptions, read};
use faasplan::workload::spec::{self, Process};
use faasplan::workload::{ArrivalStream, generate};
use statrs::distribution::{ContinuousCDF, Exp};

/// z for a two-sided 1e-4 error rate: a correct generator fails about once in 10,000 runs (and the
/// seeds are fixed, so it either always passes or never).
const Z: f64 = 3.89;

fn times(p: &Process, horizon: Micros, seed: u64) -> Vec<Micros> {
    ArrivalStream::new(p, horizon, seed).collect()
}

/// |observed - expected| within Z standard deviations, `var` the count's variance.
fn within_ci(observed: usize, expected: f64, var: f64, what: &str) {
    let tol = Z * var.sqrt();
    assert!(
        (observed as f64 - expected).abs() <= tol,
        "{what}: {observed} arrivals, expected {expected:.1} +- {tol:.1}"
    );
}

#[test]
fn poisson_rate_and_gaps() {
    let rate = 20.0;
    let p = Process::Poisson { rate };
    let t = times(&p, 2 * HOUR, 11);
    let mean = rate * 7200.0;
    within_ci(t.len(), mean, mean, "poisson count");
    assert!(t.is_sorted());

    // Kolmogorov–Smirnov against Exp(rate), alpha = 0.001: D_n <= sqrt(-ln(alpha/2)/2) / sqrt(n).
    let mut gaps: Vec<f64> = t
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / SECOND as f64)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let exp = Exp::new(rate).unwrap_or_else(|e| panic!("{e}"));
    let n = gaps.len() as f64;
    let d = gaps
        .iter()
        .enumerate()
        .map(|(i, &g)| {
            let f = exp.cdf(g);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    let critical = (-(0.001f64 / 2.0).ln() / 2.0).sqrt() / n.sqrt();
    assert!(d <= critical, "KS D = {d:.5} > {critical:.5} (n = {n})");

    // The same test tells a wrong rate apart: the gaps are not Exp(1.1 rate).
    let wrong = Exp::new(rate * 1.1).unwrap_or_else(|e| panic!("{e}"));
    let d_wrong = gaps
        .iter()
        .enumerate()
        .map(|(i, &g)| (wrong.cdf(g) - i as f64 / n).abs())
        .fold(0.0, f64::max);
    assert!(d_wrong > critical, "the KS test has no power: {d_wrong}");
}

#[test]
fn spike_and_scheduled_counts() {
    let spike = Process::Spike {
        base: 2.0,
        spike: 200.0,
        start: 600.0,
        end: 660.0,
    };
    let t = times(&spike, HOUR, 5);
    let expected = spike.expected_count(3600.0);
    within_ci(t.len(), expected, expected, "spike count");
    let inside = t
        .iter()
        .filter(|&&x| (600 * SECOND..660 * SECOND).contains(&x))
        .count();
    within_ci(inside, 60.0 * 200.0, 60.0 * 200.0, "arrivals in the spike");

    let batch = Process::Scheduled {
        every: 86_400.0,
        at: 7200.0,
        fan_out: 1000,
        within: 300.0,
    };
    let t = times(&batch, 3 * 24 * HOUR, 5);
    assert_eq!(t.len(), 3000);
    for day in 0..3u64 {
        let start = day * 24 * HOUR + 2 * HOUR;
        let n = t
            .iter()
            .filter(|&&x| (start..start + 5 * MINUTE).contains(&x))
            .count();
        assert_eq!(n, 1000, "day {day}");
    }
}

#[test]
fn diurnal_peak_and_trough_land_where_the_spec_puts_them() {
    let p = Process::Diurnal {
        peak: 10.0,
        trough: 1.0,
        period: 86_400.0,
        peak_at: 14.0 * 3600.0,
        weekly: None,
    };
    let days = 10;
    let t = times(&p, days * 24 * HOUR, 9);
    let expected = p.expected_count(days as f64 * 86_400.0);
    within_ci(t.len(), expected, expected, "diurnal count");
    // Hourly bins centred on the hour: bin h holds [h - 0.5 h, h + 0.5 h).
    let mut bins = [0usize; 24];
    for &x in &t {
        let h = ((x + HOUR / 2) / HOUR) % 24;
        bins[h as usize] += 1;
    }
    let argmax = (0..24).max_by_key(|&h| bins[h]).unwrap_or(99);
    let argmin = (0..24).min_by_key(|&h| bins[h]).unwrap_or(99);
    assert_eq!(argmax, 14, "{bins:?}");
    assert_eq!(argmin, 2, "{bins:?}");
    // And each bin holds its integral of the rate.
    for (h, &n) in bins.iter().enumerate() {
        let mut want = 0.0;
        for s in 0..3600 {
            let t = (h as f64 - 0.5) * 3600.0 + s as f64 + 0.5;
            want += p.rate_at(t.rem_euclid(86_400.0));
        }
        want *= days as f64;
        within_ci(n, want, want, &format!("hour {h}"));
    }
}

#[test]
fn weekly_factor_scales_each_day() {
    let weekly = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25];
    let p = Process::Diurnal {
        peak: 4.0,
        trough: 4.0,
        period: 86_400.0,
        peak_at: 0.0,
        weekly: Some(weekly),
    };
    let t = times(&p, 14 * 24 * HOUR, 2);
    for day in 0..14u64 {
        let n = t.iter().filter(|&&x| x / (24 * HOUR) == day).count();
        let want = 4.0 * 86_400.0 * weekly[(day % 7) as usize];
        within_ci(n, want, want, &format!("day {day}"));
    }
}

#[test]
fn mmpp_long_run_rate_is_its_stationary_mix() {
    let (r0, r1, s0, s1) = (1.0, 30.0, 120.0, 30.0);
    let p = Process::Mmpp {
        rates: [r0, r1],
        sojourn: [s0, s1],
    };
    let horizon = 400.0 * (s0 + s1);
    let t = times(&p, (horizon * 1e6) as Micros, 21);
    let rate = p.long_run_rate();
    assert_eq!(rate, (r0 * s0 + r1 * s1) / (s0 + s1));
    // Asymptotic variance of an MMPP-2 count: t * (rate + 2 (r0 - r1)^2 a b / (a + b)^3), with
    // switching rates a = 1/s0, b = 1/s1.
    let (a, b) = (1.0 / s0, 1.0 / s1);
    let var = horizon * (rate + 2.0 * (r0 - r1).powi(2) * a * b / (a + b).powi(3));
    within_ci(t.len(), rate * horizon, var, "MMPP count");
    // It is bursty: the variance of per-sojourn-sized windows is well above the mean.
    let w = ((s0 + s1) * 1e6) as Micros;
    let mut counts = vec![0f64; (horizon * 1e6) as usize / w as usize];
    for &x in &t {
        if let Some(c) = counts.get_mut((x / w) as usize) {
            *c += 1.0;
        }
    }
    let m = counts.iter().sum::<f64>() / counts.len() as f64;
    let v = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / (counts.len() - 1) as f64;
    assert!(v > 5.0 * m, "index of dispersion {} is too low", v / m);
}

fn spec_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("workloads")
        .join(name)
}

#[test]
fn every_example_spec_loads_and_is_documented() {
    let dir = spec_path("");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        // Scenario files (tests/it/scenario.rs) live beside the specs.
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("scenario-"))
        {
            continue;
        }
        let wl = spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!wl.functions.is_empty());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            text.starts_with('#'),
            "{}: starts with a comment",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 4, "the four example specs");
}

fn generate_to_vec(path: &Path, seed: u64) -> (Vec<u8>, faasplan::workload::Generated) {
    let wl = spec::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let stats = generate(&mut out, &wl, seed).unwrap_or_else(|e| panic!("{e}"));
    (out, stats)
}

#[test]
fn generated_trace_reads_back_sorted_and_seeded() {
    let path = spec_path("nightly-batch.toml");
    let (csv, stats) = generate_to_vec(&path, 4);
    assert_eq!(stats.per_function, vec![3, 15_000, 72]);
    let (t, report) = read(
        csv.as_slice(),
        Path::new("gen.csv"),
        &ReadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.rows_accepted, stats.rows);
    assert!(!t.was_sorted(), "rows are written in time order");
    assert_eq!(
        t.functions()[0].name,
        "housekeeping",
        "first arrival at 00:15"
    );
    let worker = t
        .functions()
        .iter()
        .position(|f| f.name == "batch-worker")
        .unwrap_or(99);
    let inv = t.function_invocations(worker);
    assert!(
        inv.iter()
            .all(|i| i.memory_mb == 1769 && i.trigger.as_str() == "async")
    );
    let (again, _) = generate_to_vec(&path, 4);
    assert_eq!(csv, again, "same seed, same bytes");
    let (other, _) = generate_to_vec(&path, 5);
    assert_ne!(csv, other);

    // A spec's function keeps its draws when another function is added.
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let extra = format!(
        "{text}\n[[function]]\nname = \"extra\"\nduration_ms = {{ dist = \"constant\", ms = 1 }}\n\
         [[function.arrivals]]\nprocess = \"poisson\"\nrate_per_s = 0.01\n"
    );
    let wl = spec::parse(&extra, Path::new("x.toml")).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    generate(&mut out, &wl, 4).unwrap_or_else(|e| panic!("{e}"));
    let keep = |b: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .filter(|l| l.contains(",batch-worker,"))
            .map(String::from)
            .collect()
    };
    assert_eq!(keep(&csv), keep(&out));
}

#[test]
fn cli_generate_writes_the_file_and_reports() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("q.csv");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(["generate"])
        .arg(spec_path("queue-pipeline.toml"))
        .arg("--out")
        .arg(&out)
        .args(["--seed", "8"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("(seed 8)"), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.starts_with("timestamp_ms,function,duration_ms,memory_mb,trigger\n"));

    // A bad spec: exit 2 and file:line:column.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\nduration = \"1h\"\n[[function]]\nname = \"a\"\nduration_ms = { dist = \"constant\", ms = -1 }\n[[function.arrivals]]\nprocess = \"poisson\"\nrate_per_s = 1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .arg("generate")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("never.csv"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr).trim(),
        format!(
            "error: {}:5:15: duration_ms: ms = -1: must be a finite number of ms >= 0",
            bad.display()
        )
    );
    assert!(!dir.path().join("never.csv").exists());
}
