//! The engine against queueing theory. Each check runs independent replications (different seeds)
//! and accepts when the theory lies within 4 standard errors of their mean, so the tolerance comes
//! from the sample, not from a guess.

use faasplan::engine::{InitDist, simulate};
use faasplan::time::{Micros, SECOND};

use crate::common::{self, Service, assert_conserved, mean_se};

/// Erlang-B blocking probability for `c` servers and offered load `a` Erlangs (stable recursion).
fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

#[test]
fn erlang_b_recursion_matches_known_values() {
    // Textbook values: B(1, 1) = 0.5; B(10, 8) ≈ 0.12166.
    assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
    assert!((erlang_b(10, 8.0) - 0.121661).abs() < 1e-5);
}

fn check_erlang_b(c: u32, rate: f64, service: Service) {
    let a = rate * service.mean_s();
    let expected = erlang_b(c, a);
    let mut ratios = Vec::new();
    for seed in 0..8 {
        let trace = common::poisson(rate, 4_000.0, service, 100 + seed);
        let mut cfg = common::unlimited(600.0, 100.0);
        cfg.provisioned = c;
        cfg.max_concurrency = Some(c);
        cfg.validate(1).unwrap();
        let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
        assert_conserved(&o);
        assert_eq!(
            o.totals.cold_starts, 0,
            "a full provisioned pool never cold-starts"
        );
        ratios.push(o.totals.throttled as f64 / o.totals.invocations as f64);
    }
    let (mean, se) = mean_se(&ratios);
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "c={c} a={a}: throttled {mean:.5} ± {se:.5}, Erlang-B {expected:.5}"
    );
}

#[test]
fn erlang_b_exponential_service() {
    check_erlang_b(10, 8.0, Service::Exponential(1.0));
}

#[test]
fn erlang_b_is_insensitive_to_the_service_distribution() {
    check_erlang_b(10, 8.0, Service::Constant(1.0));
    check_erlang_b(5, 20.0, Service::LogNormal(0.2, 1.0));
}

#[test]
fn m_g_infinity_mean_busy_is_lambda_times_mean_service() {
    // No limits and a keep-alive longer than the run: mean_busy = λ E[S].
    let (rate, horizon) = (5.0, 20_000.0);
    for service in [Service::Exponential(0.2), Service::LogNormal(0.3, 0.8)] {
        let trace = common::poisson(rate, horizon, service, 7);
        let mut cfg = common::unlimited(1e9, 250.0);
        cfg.horizon = Some((horizon * SECOND as f64) as Micros);
        let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
        assert_conserved(&o);
        let mean_busy = o.totals.busy_integral_us as f64 / o.window_us as f64;
        let expected = rate * service.mean_s();
        // SE of a Poisson sum of service times over the window: sqrt(λ T E[S²]) / T.
        let se = (rate * horizon * service.second_moment()).sqrt() / horizon;
        assert!(
            (mean_busy - expected).abs() < 4.0 * se,
            "{service:?}: mean_busy {mean_busy:.4}, λE[S] {expected:.4}, se {se:.4}"
        );
        // With an infinite keep-alive only the growth of the pool cold-starts.
        assert_eq!(o.totals.instances_started, o.totals.cold_starts);
        assert!(o.totals.cold_starts as u32 <= o.totals.peak_busy + 1);
    }
}

#[test]
fn sparse_traffic_cold_starts_when_the_gap_exceeds_the_keep_alive() {
    // At most one request in flight: request i is cold exactly when the gap since request i-1
    // completed is at least the keep-alive.
    let keep_alive_s = 600.0;
    let (init_ms, dur_s) = (50.0, 0.1);
    let rate = 1.0 / 600.0;
    // Gaps of 1 s plus an exponential: never two requests in flight, still memoryless.
    let trace = {
        let mut b = faasplan::trace::TraceBuilder::new();
        let id = b.function_id("sparse");
        let mut rng = <rand_pcg::Pcg64Mcg as rand::SeedableRng>::seed_from_u64(11);
        let mut t = 0.0;
        for _ in 0..20_000 {
            t += 1.0 + common::exp(&mut rng, rate);
            let at = (t * SECOND as f64).round() as i64;
            b.push(
                at,
                id,
                (dur_s * SECOND as f64) as Micros,
                0,
                faasplan::trace::Trigger::Sync,
            );
        }
        b.finish()
    };
    let mut cfg = common::unlimited(keep_alive_s, init_ms);
    cfg.init = InitDist::parse(&init_ms.to_string()).unwrap();
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    assert!(o.totals.peak_busy <= 1, "traffic must be sparse");

    // The exact count, replayed by hand from the trace.
    let ka = (keep_alive_s * SECOND as f64) as Micros;
    let init = (init_ms * 1e3) as Micros;
    let mut expected_cold = 0u64;
    let mut last_done: Option<Micros> = None;
    for inv in trace.function_invocations(0) {
        let cold = last_done.is_none_or(|done| inv.arrival - done >= ka);
        let start = if cold {
            inv.arrival + init
        } else {
            inv.arrival
        };
        expected_cold += cold as u64;
        last_done = Some(start + inv.duration);
    }
    assert_eq!(o.totals.cold_starts, expected_cold);

    // And the theory: gap = 1 s + Exp(λ) - d (- init when the previous request was cold, which
    // changes p by a factor exp(-λ·init) ≈ 1 - 1e-4, far inside the tolerance).
    let n = o.totals.invocations as f64;
    let p = (-rate * (keep_alive_s + dur_s - 1.0)).exp();
    let ratio = o.totals.cold_starts as f64 / n;
    let se = (p * (1.0 - p) / n).sqrt();
    assert!(
        (ratio - p).abs() < 4.0 * se,
        "cold ratio {ratio:.4}, theory {p:.4}, se {se:.4}"
    );
}
