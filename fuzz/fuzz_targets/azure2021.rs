//! The Azure Functions 2021 reader (`app,func,end_timestamp,duration`). First byte: bit 0
//! `--skip-bad-rows`.
#![no_main]

use faasplan::trace::format::{LoadOptions, TraceFormat, load_input};
use faasplan_fuzz::{check_trace, check_trace_error, input, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let load = LoadOptions {
        format: Some(TraceFormat::AZURE2021),
        skip_bad_rows: skip,
        ..LoadOptions::default()
    };
    match load_input(input("fuzz.csv", data), &load) {
        Ok((trace, report)) => check_trace(&trace, &report.rows, data, skip, true),
        Err(e) => check_trace_error(&e, "fuzz.csv", data),
    }
});
