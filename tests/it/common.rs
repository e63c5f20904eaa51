//! Helpers shared by the integration tests: synthetic traces and platform configurations.

use std::sync::Arc;

use faasplan::engine::{FixedKeepAlive, InitDist, PlatformConfig};
use faasplan::time::{Micros, SECOND};
use faasplan::trace::{Trace, TraceBuilder, Trigger};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// How a test draws service times.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Constant(f64),
    /// Exponential with this mean, seconds.
    Exponential(f64),
    /// Lognormal with this mean (seconds) and sigma of the underlying normal.
    LogNormal(f64, f64),
}

impl Service {
    pub fn mean_s(self) -> f64 {
        match self {
            Service::Constant(m) | Service::Exponential(m) | Service::LogNormal(m, _) => m,
        }
    }

    /// E[S^2], seconds squared.
    pub fn second_moment(self) -> f64 {
        match self {
            Service::Constant(m) => m * m,
            Service::Exponential(m) => 2.0 * m * m,
            Service::LogNormal(m, s) => m * m * (s * s).exp(),
        }
    }

    pub fn draw(self, rng: &mut Pcg64Mcg) -> Micros {
        let s = match self {
            Service::Constant(m) => m,
            Service::Exponential(m) => exp(rng, 1.0 / m),
            Service::LogNormal(m, sigma) => {
                // mean = exp(mu + sigma^2/2)
                let mu = m.ln() - sigma * sigma / 2.0;
                (mu + sigma * normal(rng)).exp()
            }
        };
        (s * SECOND as f64).round() as Micros
    }
}

pub fn exp(rng: &mut Pcg64Mcg, rate: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() / rate
}

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// One function with Poisson arrivals at `rate` per second over `[0, horizon_s)`.
pub fn poisson(rate: f64, horizon_s: f64, service: Service, seed: u64) -> Trace {
    poisson_multi(&[(rate, service, Trigger::Sync)], horizon_s, seed)
}

/// Several functions, each with its own Poisson stream, service and trigger.
pub fn poisson_multi(funcs: &[(f64, Service, Trigger)], horizon_s: f64, seed: u64) -> Trace {
    let mut b = TraceBuilder::new();
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut rows: Vec<(Micros, u32, Micros, Trigger)> = Vec::new();
    for (i, &(rate, service, trigger)) in funcs.iter().enumerate() {
        let id = b.function_id(&format!("f{i}"));
        let mut t = 0.0;
        loop {
            t += exp(&mut rng, rate);
            if t >= horizon_s {
                break;
            }
            let at = (t * SECOND as f64).round() as Micros;
            rows.push((at, id, service.draw(&mut rng), trigger));
        }
    }
    // Interleave in time order, as a real trace file would be.
    rows.sort_by_key(|r| (r.0, r.1));
    for (at, id, d, trig) in rows {
        b.push(at as i64, id, d, 0, trig);
    }
    b.finish()
}

/// A one-trigger (sync) trace from `(arrival_ms, function, duration_ms)` rows, in row order.
pub fn trace_from_rows(rows: &[(f64, &str, f64)]) -> Trace {
    let mut b = TraceBuilder::new();
    for &(at_ms, name, d_ms) in rows {
        let id = b.function_id(name);
        let ms = |x: f64| (x * 1_000.0).round() as i64;
        b.push(ms(at_ms), id, ms(d_ms) as Micros, 0, Trigger::Sync);
    }
    b.finish()
}

/// A platform with no limits, the given keep-alive and a constant init.
pub fn unlimited(keep_alive_s: f64, init_ms: f64) -> PlatformConfig {
    let mut cfg = PlatformConfig::lambda_defaults(InitDist::parse(&init_ms.to_string()).unwrap());
    cfg.keep_alive = Arc::new(FixedKeepAlive((keep_alive_s * SECOND as f64) as Micros));
    cfg.account_concurrency = None;
    cfg.scaling = None;
    cfg
}

/// Mean and standard error of a sample.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Checks the conservation laws on an outcome: every invocation is exactly one of warm, cold,
/// throttled or dead-lettered; functions add up to the totals; minutes add up to the totals.
pub fn assert_conserved(o: &faasplan::outcome::Outcome) {
    let t = &o.totals;
    assert_eq!(
        t.invocations,
        t.warm_starts + t.cold_starts + t.throttled + t.dead_lettered,
        "invocations = warm + cold + throttled + dead-lettered"
    );
    let sum = |f: fn(&faasplan::outcome::FunctionStats) -> u64| -> u64 {
        o.functions.iter().map(f).sum()
    };
    assert_eq!(sum(|s| s.invocations), t.invocations);
    assert_eq!(sum(|s| s.warm_starts), t.warm_starts);
    assert_eq!(sum(|s| s.cold_starts), t.cold_starts);
    assert_eq!(sum(|s| s.throttled), t.throttled);
    assert_eq!(sum(|s| s.dead_lettered), t.dead_lettered);
    for s in &o.functions {
        assert_eq!(
            s.invocations,
            s.warm_starts + s.cold_starts + s.throttled + s.dead_lettered
        );
        assert_eq!(
            s.throttled_account + s.throttled_function + s.throttled_rate,
            s.throttled + s.dead_lettered,
            "every refused request is blamed on exactly one limit"
        );
    }
    let minutes =
        |f: fn(&faasplan::outcome::Minute) -> u64| -> u64 { o.minutes.iter().map(f).sum() };
    assert_eq!(minutes(|m| m.invocations), t.invocations);
    assert_eq!(minutes(|m| m.cold_starts), t.cold_starts);
    assert_eq!(minutes(|m| m.throttled), t.throttled);
    assert_eq!(minutes(|m| m.dead_lettered), t.dead_lettered);
    assert_eq!(o.latency.count(), t.warm_starts + t.cold_starts);
    assert_eq!(o.latency_cold.count(), t.cold_starts);
    // Every served request ran its full duration somewhere.
    assert_eq!(t.executions(), t.warm_starts + t.cold_starts);
    let inits: u64 = t.usage.iter().map(|u| u.init.count).sum();
    assert_eq!(inits, t.instances_started);
    // Each instance's active periods end in a completion: as many as the instances that went idle.
    assert!(t.on_demand_active.count >= t.instances_started);
}

/// Runs the faasplan binary (for tests of the command line itself).
pub fn faasplan(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .expect("run the faasplan binary")
}

/// What a run printed on stderr.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON a successful run printed; fails the test with its stderr otherwise.
pub fn json_out(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Run info for tests that compare summaries: every option neutral, so only the numbers differ.
pub fn neutral_run_info(
    trace_rows: u64,
    rows_skipped: u64,
    sorted_on_read: bool,
    excluded_after_horizon: u64,
) -> faasplan::export::summary::RunInfo {
    faasplan::export::summary::RunInfo {
        trace: "test".into(),
        trace_rows,
        rows_skipped,
        sorted_on_read,
        memory_mb: 128,
        memory_sizes_mb: Vec::new(),
        per_instance_concurrency: 1,
        provisioned: 0,
        provisioned_plan: None,
        keep_alive: String::new(),
        max_lifetime_s: None,
        max_concurrency: None,
        account_concurrency: None,
        scaling_rate: None,
        init: String::new(),
        horizon_s: None,
        warmup: String::new(),
        timeout_s: None,
        seed: 0,
        mode: faasplan::outcome::Mode::Coupled,
        excluded_after_horizon,
    }
}

/// The shipped Azure 2019 sample's directory (60 functions, one day).
pub fn azure_2019_sample_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/azure-functions-2019-sample")
}

/// The command-line arguments that read the Azure 2019 sample with its durations and memory
/// files: the trace, `--durations FILE`, `--memory FILE`.
pub fn azure_2019_sample_args() -> Vec<String> {
    let dir = azure_2019_sample_dir();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    vec![
        path("invocations_per_function.csv"),
        "--durations".into(),
        path("function_durations_percentiles.csv"),
        "--memory".into(),
        path("app_memory_percentiles.csv"),
    ]
}

/// The options that read the Azure 2019 sample with its durations and memory files, `seed`
/// drawing its arrivals.
pub fn azure_2019_sample_options(seed: u64) -> faasplan::trace::format::LoadOptions {
    let dir = azure_2019_sample_dir();
    faasplan::trace::format::LoadOptions {
        durations: vec![dir.join("function_durations_percentiles.csv")],
        memory: vec![dir.join("app_memory_percentiles.csv")],
        seed,
        ..Default::default()
    }
}

/// The Azure 2019 sample expanded with seed 3.
pub fn azure_2019_sample() -> faasplan::trace::Trace {
    let path = azure_2019_sample_dir().join("invocations_per_function.csv");
    faasplan::trace::format::load(&path, &azure_2019_sample_options(3))
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}
