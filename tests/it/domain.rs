//! The library without the command line: it builds without clap, anyhow and indicatif; its
//! errors name fields, which the binary maps to flags and the offering loader to file:line.

use std::process::Command;

use faasplan::engine::{ProvisionedPlan, TargetTracking, simulate};
use faasplan::time::SECOND;

use crate::common::{Service, faasplan, poisson, unlimited};

/// The library's own dependency tree (without the binary's `cli` feature) has no command-line
/// crate. `cargo tree --offline` reads the lock file only.
#[test]
fn the_library_does_not_depend_on_clap_anyhow_or_indicatif() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--edges",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(
        crates.contains(&"faasplan") && crates.contains(&"serde"),
        "{tree}"
    );
    for cli_only in ["clap", "anyhow", "indicatif"] {
        assert!(
            !crates.contains(&cli_only),
            "{cli_only} in the library's tree:\n{tree}"
        );
    }
    // The check itself can fail: with the default features the binary's crates are there.
    let all = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        String::from_utf8_lossy(&all.stdout)
            .lines()
            .any(|l| l.starts_with("clap "))
    );
}

fn target(interval: u64) -> ProvisionedPlan {
    ProvisionedPlan::Target(TargetTracking {
        target: 0.7,
        min: 1,
        max: 10,
        interval,
        scale_out_after: 3,
        scale_in_after: 15,
    })
}

/// Regression (issue 11): `simulate` ran any `PlatformConfig`, and a target-tracking interval
/// of 0 never advanced the clock. Now only a config checked for the trace runs, and the check
/// names the field.
#[test]
fn a_zero_target_tracking_interval_is_an_error_naming_the_field_not_a_hang() {
    let trace = poisson(2.0, 120.0, Service::Constant(0.1), 1);
    let mut cfg = unlimited(600.0, 100.0);
    cfg.provisioned_plan = Some(target(0));
    let err = cfg.validate_for(&trace).unwrap_err();
    assert_eq!(err.field_name(), Some("provisioned_plan.target.interval"));
    assert_eq!(
        err.to_string(),
        "provisioned_plan.target.interval: the evaluation interval must be > 0, got 0"
    );
    // A whole-minute interval runs.
    cfg.provisioned_plan = Some(target(60 * SECOND));
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!(o.totals.invocations, trace.invocations().len() as u64);
}

/// Library errors name fields, never flags.
#[test]
fn library_errors_name_fields_not_flags() {
    let trace = poisson(1.0, 60.0, Service::Constant(0.1), 2);
    type Set = fn(&mut faasplan::engine::PlatformConfig);
    let cases: [(Set, &str); 4] = [
        (
            |c| c.per_instance_concurrency = 0,
            "per_instance_concurrency",
        ),
        (|c| c.retry.initial = 0, "retry"),
        (|c| c.max_lifetime = Some(0), "max_lifetime"),
        (
            |c| {
                c.provisioned = 5;
                c.max_concurrency = Some(2)
            },
            "max_concurrency",
        ),
    ];
    for (set, field) in cases {
        let mut cfg = unlimited(600.0, 100.0);
        set(&mut cfg);
        let err = cfg.validate_for(&trace).unwrap_err();
        assert_eq!(err.field_name(), Some(field), "{err}");
        assert!(!err.to_string().contains("--"), "{err}");
    }
}

/// An offering file's bad `cold_start` is reported at its file and line, not as `--init-ms`
/// (a flag the user never typed).
#[test]
fn a_bad_cold_start_in_an_offering_file_names_the_file_and_line() {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/pricing/gcp-cloud-run-request.toml"
    ))
    .unwrap();
    let line = shipped
        .lines()
        .position(|l| l.starts_with("cold_start ="))
        .unwrap()
        + 1;
    let text = shipped.replace(
        "cold_start = \"lognormal:500,2000\"",
        "cold_start = \"lognormal:2000,500\"",
    );
    assert_ne!(text, shipped);
    let err = faasplan::offering::parse(&text, "my-offering.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("my-offering.toml:{line}: behaviour.cold_start: ")),
        "{err}"
    );
    assert!(err.contains("need 0 < p50 < p99"), "{err}");
    assert!(!err.contains("--init-ms"), "{err}");
}

/// The binary still names its flags: library field errors are mapped back.
#[test]
fn the_cli_names_the_flag_for_a_bad_value() {
    let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/api-steady.csv");
    for (args, expected) in [
        (
            vec!["--provisioned-target", "1.5@1..10"],
            "--provisioned-target: 1.5: the target utilisation must be in (0, 1]",
        ),
        (
            vec!["--provisioned-target", "0.7@9..2"],
            "--provisioned-target: need MIN <= MAX",
        ),
        (vec!["--provisioned-target", "x"], "'--provisioned-target"),
        (
            vec!["--per-instance-concurrency", "0"],
            "--per-instance-concurrency: must be at least 1",
        ),
        (
            vec!["--max-lifetime", "0"],
            "--max-lifetime: must be greater than 0",
        ),
        (
            vec!["--provisioned", "0,5"],
            "--provisioned: \"0,5\": expected one value",
        ),
    ] {
        let mut all = vec!["simulate", trace];
        all.extend(&args);
        let out = faasplan(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in {err}"
        );
        assert!(!err.contains("provisioned_plan"), "{err}");
    }
}

/// The same for fleets: `simulate_fleet` takes only a checked fleet, and an autoscaler that
/// evaluates every 0 µs (which would never advance the clock) is refused, naming the field.
#[test]
fn a_fleet_with_a_zero_evaluation_interval_is_refused_naming_the_field() {
    use faasplan::engine::fleet::{Autoscale, FleetConfig, FleetSize, Speed, simulate_fleet};
    let trace = poisson(2.0, 120.0, Service::Constant(0.1), 3);
    let fleet = |interval| FleetConfig {
        slots: 2,
        size: FleetSize::Auto(Autoscale {
            min: 1,
            max: 4,
            target: 0.6,
            interval,
            boot_delay: 10 * SECOND,
            cooldown: 60 * SECOND,
            doubling: None,
        }),
        speed: Speed::Factor(1.0),
        queue_limit: None,
        max_wait: None,
        horizon: None,
        cpu: None,
    };
    let err = fleet(0).validated().unwrap_err();
    assert_eq!(
        err.field_name(),
        Some("fleet.size.autoscale.interval"),
        "{err}"
    );
    assert!(!err.to_string().contains("--"), "{err}");
    let o = simulate_fleet(&trace, &fleet(60 * SECOND).validated().unwrap());
    assert_eq!(o.invocations, trace.invocations().len() as u64);
}
