//! The flag-value parsers, one target (they are small): the first byte picks the parser, the rest
//! (UTF-8, as the OS hands clap a flag) is the value. A value the parser refuses gets an error
//! quoting it; one it accepts and the platform then refuses gets an error naming the field.
#![no_main]

use faasplan::engine::{
    InitSpec, PlatformConfig, ProvisionedPlan, ScalingRate, Schedule, TargetTracking, Warmup,
};
use faasplan::error::ConfigError;
use faasplan::plan::fleet::FleetDefaults;
use faasplan::plan::platform::PolicyChoice;
use faasplan::sweep::{Slo, parse_f64_list, parse_u32_list};
use faasplan::time::{SECOND, parse_duration};
use faasplan_fuzz::{check_value_error, split};
use libfuzzer_sys::fuzz_target;

fn platform() -> PlatformConfig {
    PlatformConfig::lambda_defaults(faasplan::engine::InitDist::Constant(0))
}

/// A value the parser accepted and the platform then refuses gets an error naming the field.
fn names_field(r: Result<(), ConfigError>) {
    if let Err(e) = r {
        assert!(
            e.field_name().is_some(),
            "a platform error names its field: {e}"
        );
    }
}

/// A provisioned plan the parser accepted, validated with the rest of the platform.
fn validate_plan(plan: ProvisionedPlan) {
    let mut cfg = platform();
    cfg.provisioned_plan = Some(plan);
    names_field(cfg.validate(1));
}

fn check<T>(value: &str, r: Result<T, ConfigError>) {
    if let Err(e) = r {
        check_value_error(&e.to_string(), value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((which, bytes)) = split(data) else {
        return;
    };
    let Ok(s) = std::str::from_utf8(bytes) else {
        return;
    };
    match which % 11 {
        // --keep-alive, --horizon, --timeout, ... (a bare number is seconds).
        0 => {
            let _ = parse_duration(s);
        }
        1 => check(s, InitSpec::parse(s)),
        2 => match Schedule::parse(s) {
            Ok(p) => validate_plan(ProvisionedPlan::Schedule(p)),
            Err(e) => check_value_error(&e.to_string(), s),
        },
        3 => match TargetTracking::parse(s) {
            Ok(t) => {
                names_field(t.validate());
                validate_plan(ProvisionedPlan::Target(t));
            }
            Err(e) => check_value_error(&e.to_string(), s),
        },
        4 => {
            let defaults = FleetDefaults {
                servers: Vec::new(),
                boot_delay: 90 * SECOND,
                eval_interval: 60 * SECOND,
                cooldown: 300 * SECOND,
                speed_factor: None,
                discount: 0.0,
                managed_instance_type: None,
                managed_runtime: None,
                min_instances: 2,
                alb: true,
            };
            check(s, defaults.parse(s, &platform(), None));
        }
        // Sweep grids: --provisioned, --memory-mb ranges and lists.
        5 => check(s, parse_u32_list("--provisioned", s)),
        6 => check(s, parse_f64_list("--keep-alive", s)),
        7 => check(s, Slo::parse(s)),
        8 => check(s, PolicyChoice::parse(s)),
        9 => check(s, ScalingRate::parse(s)),
        _ => check(s, Warmup::parse(s)),
    }
});
