//! `--trace-format auto`: sniffing picks a reader from the head, which then reads the input from
//! its first byte (every format, and the CloudWatch raw/Insights choice). First byte: bit 0
//! `--skip-bad-rows`. An Azure 2019 pick fails for want of `--durations`, naming the input.
#![no_main]

use faasplan::trace::format::{LoadOptions, load_input};
use faasplan_fuzz::{check_report, check_trace_error, input, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let load = LoadOptions {
        skip_bad_rows: skip,
        // Counts and rates describe invocations in a few bytes: hold at most a million (the
        // bound a run checks before taking the memory, `--max-invocations`).
        max_invocations: Some(1_000_000),
        ..LoadOptions::default()
    };
    match load_input(input("fuzz.csv", data), &load) {
        Ok((_, report)) => check_report(&report.rows, data, skip),
        Err(e) => check_trace_error(&e, "fuzz.csv", data),
    }
});
