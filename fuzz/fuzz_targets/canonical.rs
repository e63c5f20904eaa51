//! The canonical CSV reader (`timestamp_ms,function,duration_ms`, its other units and names,
//! ISO-8601 and epoch timestamps). First byte: bit 0 `--skip-bad-rows`, bits 1-2 `--time-unit`
//! (none, s, ms, us).
#![no_main]

use faasplan::trace::format::{LoadOptions, TraceFormat, load_input};
use faasplan::trace::units::TimeUnit;
use faasplan_fuzz::{check_trace, check_trace_error, input, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let time_unit = [
        None,
        Some(TimeUnit::S),
        Some(TimeUnit::Ms),
        Some(TimeUnit::Us),
    ][usize::from(opts >> 1 & 3)];
    let load = LoadOptions {
        format: Some(TraceFormat::CANONICAL),
        skip_bad_rows: skip,
        time_unit,
        ..LoadOptions::default()
    };
    match load_input(input("fuzz.csv", data), &load) {
        Ok((trace, report)) => check_trace(&trace, &report.rows, data, skip, true),
        Err(e) => check_trace_error(&e, "fuzz.csv", data),
    }
});
