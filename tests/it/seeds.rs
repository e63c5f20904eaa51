//! Random streams through the engine: the seed derivation keeps functions and replicas apart.

use faasplan::engine::{InitDist, simulate};
use faasplan::time::SECOND;
use faasplan::trace::{Trace, TraceBuilder, Trigger};

const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

/// One row every 30 s for an hour per named function, so with a 10 s keep-alive every request
/// is a cold start and draws an init time.
fn every_30s(names: &[&str]) -> Trace {
    let mut b = TraceBuilder::new();
    for t in 0..120i64 {
        for name in names {
            let id = b.function_id(name);
            b.push(t * 30 * SECOND as i64, id, 50_000, 0, Trigger::Sync);
        }
    }
    b.finish()
}

/// The total init time one function drew (µs) and its cold starts.
fn inits(trace: &Trace, seed: u64, function: usize) -> (u64, u64) {
    let mut cfg = crate::common::unlimited(10.0, 0.0);
    cfg.init = InitDist::parse("lognormal:200,800").unwrap();
    cfg.seed = seed;
    let o = simulate(trace, &cfg.validate_for(trace).unwrap());
    let s = &o.functions[function];
    (s.usage.iter().map(|u| u.init.raw_us).sum(), s.cold_starts)
}

#[test]
fn seed_phi_function_1_and_seed_2phi_function_0_draw_different_init_times() {
    // Before the seed helper, function f's stream was mix(seed ^ (f + 1)·φ): seed φ, function 1
    // and seed 2φ, function 0 both got mix(3φ) (mod 2^64) and drew the same init times.
    let two = every_30s(&["other", "api"]);
    let one = every_30s(&["api"]);
    let (a, cold_a) = inits(&two, PHI, 1);
    let (b, cold_b) = inits(&one, PHI.wrapping_mul(2), 0);
    assert_eq!((cold_a, cold_b), (120, 120), "every request is cold");
    assert_ne!(a, b, "the same init draws");
    // The comparison means something: the same seed and function give the same draws, whatever
    // other functions run beside it.
    assert_eq!(inits(&two, PHI, 1).0, a);
    assert_eq!(
        inits(&two, 7, 1).0,
        inits(&every_30s(&["x", "api"]), 7, 1).0
    );
}
