//! The processor-sharing benchmark (run: `cargo bench --bench ps`): one 1-vCPU fleet server,
//! 1,000 slots, fully CPU-bound exponential work of mean 100 ms under Poisson arrivals at
//! ρ = 0.9, 1 M requests. Median of 5 runs of `simulate_fleet` (the whole fleet engine: queue,
//! slots, latency histograms), of the bare `Ps` primitive on the same requests, and of the
//! function engine (`simulate`) with the same requests sharing one FaaS instance of 1 vCPU
//! (Lambda at 1,769 MB, one provisioned instance, per-instance concurrency 100,000, issue 12
//! part 4).
//!
//! `FAASPLAN_BENCH_ROWS` changes the request count; `FAASPLAN_BENCH_RHO` the load.

use std::time::Instant;

use faasplan::engine::fleet::{FleetConfig, FleetCpu, FleetSize, Speed, simulate_fleet};
use faasplan::engine::ps::{Ps, milli_vcpu};
use faasplan::engine::{
    CpuModel, CpuReference, InitDist, PlatformConfig, RunOptions, Warmup, simulate_with,
};
use faasplan::trace::{TraceBuilder, Trigger};
use rand::{RngExt, SeedableRng};

/// Seconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`), or `None`
/// elsewhere: on a shared machine the wall clock also counts the time others had the core.
fn cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Runs `f` and returns (wall seconds, CPU seconds or NaN).
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let (c0, start) = (cpu_s(), Instant::now());
    f();
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_s()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    (wall, cpu)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rows: u64 = env("FAASPLAN_BENCH_ROWS", 1_000_000);
    let rho: f64 = env("FAASPLAN_BENCH_RHO", 0.9);
    let mean_us = 100_000.0;
    let gap_us = mean_us / rho;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2026);
    let mut jobs = Vec::with_capacity(rows as usize);
    let mut t = 0.0f64;
    for _ in 0..rows {
        let u: f64 = rng.random();
        t += -(1.0 - u).ln() * gap_us;
        let v: f64 = rng.random();
        let work = (-(1.0 - v).ln() * mean_us).round() as u64;
        jobs.push((t.round() as u64, work));
    }
    let mut b = TraceBuilder::new();
    let id = b.function_id("api");
    for &(at, d) in &jobs {
        b.push(at as i64, id, d, 0, Trigger::Sync);
    }
    let trace = b.finish();
    let cfg = FleetConfig {
        slots: 1_000,
        size: FleetSize::Fixed(1),
        speed: Speed::Factor(1.0),
        queue_limit: None,
        max_wait: None,
        horizon: None,
        cpu: Some(FleetCpu {
            vcpus: 1.0,
            bound: 1.0,
            threads: 1.0,
            reference: CpuReference::Vcpu(1.0),
            default_memory_mb: 128,
            burst: None,
        }),
    }
    .validated()
    .expect("a valid fleet");

    let (mut fleet_times, mut fleet_cpu) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..5 {
        let (wall, cpu) = timed(|| last = Some(simulate_fleet(&trace, &cfg)));
        fleet_times.push(wall);
        fleet_cpu.push(cpu);
    }
    let o = last.expect("5 runs");
    let (fleet, fleet_cpu) = (median(fleet_times), median(fleet_cpu));
    println!(
        "fleet engine, PS server: {rows} requests at rho {rho} in {fleet:.3} s = {:.2} M requests/s \
         wall, {fleet_cpu:.3} s = {:.2} M/s of CPU time (mean latency {:.1} ms, \
         E[S]/(1-rho) = {:.1} ms; CPU utilisation {:.3}; peak queue {})",
        rows as f64 / fleet / 1e6,
        rows as f64 / fleet_cpu / 1e6,
        o.latency.mean_us() / 1e3,
        mean_us / 1e3 / (1.0 - rho),
        o.cpu_utilisation().unwrap_or(0.0),
        o.peak_queue,
    );

    let (mut ps_times, mut ps_cpu) = (Vec::new(), Vec::new());
    let mut peak = 0;
    for _ in 0..5 {
        let (c0, start) = (cpu_s(), Instant::now());
        let mut ps: Ps<u32> = Ps::new(milli_vcpu(1.0), milli_vcpu(1.0));
        let mut done = 0u64;
        let mut next = 0usize;
        while done < rows {
            let arrival = jobs.get(next).map(|j| j.0);
            match (ps.next_completion(), arrival) {
                (None, None) => break,
                (Some(c), a) if a.is_none_or(|a| c < a) => {
                    while ps.pop_done(c).is_some() {
                        done += 1;
                    }
                }
                (_, a) => {
                    ps.add(a.unwrap_or_default(), jobs[next].1, 0);
                    next += 1;
                    peak = peak.max(ps.len());
                }
            }
        }
        ps_times.push(start.elapsed().as_secs_f64());
        ps_cpu.push(match (c0, cpu_s()) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        });
    }
    let (bare, bare_cpu) = (median(ps_times), median(ps_cpu));
    println!(
        "bare Ps primitive: {rows} requests in {bare:.3} s = {:.2} M requests/s wall, \
         {bare_cpu:.3} s = {:.2} M/s of CPU time (peak {peak} in service)",
        rows as f64 / bare / 1e6,
        rows as f64 / bare_cpu / 1e6
    );

    // The function engine: the same requests on one CPU-sharing FaaS instance.
    let lambda = faasplan::offering::Offering::resolve("aws-lambda-x86").expect("aws-lambda-x86");
    let mut fcfg = PlatformConfig::lambda_defaults(InitDist::Constant(0));
    fcfg.memory_mb = 1769;
    fcfg.per_instance_concurrency = 100_000;
    fcfg.max_concurrency = Some(1);
    fcfg.provisioned = 1;
    fcfg.warmup = Warmup::None;
    fcfg.cpu = Some(CpuModel {
        bound: 1.0,
        threads: 1.0,
        platform: lambda.vcpu_rule(),
        reference: CpuReference::Vcpu(1.0),
        measured: None,
    });
    let fcfg = fcfg.validate_for(&trace).expect("a valid platform");
    let opts = RunOptions {
        force: None,
        single_thread: true,
    };
    let (mut f_times, mut f_cpu) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..5 {
        let (wall, cpu) = timed(|| last = Some(simulate_with(&trace, &fcfg, opts)));
        f_times.push(wall);
        f_cpu.push(cpu);
    }
    let o = last.expect("5 runs");
    let (fw, fc) = (median(f_times), median(f_cpu));
    println!(
        "function engine, one CPU-sharing instance: {rows} requests in {fw:.3} s = {:.2} M \
         requests/s wall, {fc:.3} s = {:.2} M/s of CPU time (mean latency {:.1} ms; the same \
         requests as the bare primitive, so peak {peak} in service)",
        rows as f64 / fw / 1e6,
        rows as f64 / fc / 1e6,
        o.latency.mean_us() / 1e3,
    );
}
