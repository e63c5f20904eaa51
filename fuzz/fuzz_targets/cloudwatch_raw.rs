//! The CloudWatch reader of raw log text (REPORT lines; START, END and the function's own
//! output counted and ignored). First byte: bit 0 `--skip-bad-rows`.
#![no_main]

use faasplan::trace::TraceBuilder;
use faasplan::trace::cloudwatch::read_raw;
use faasplan_fuzz::{check_trace, check_trace_error, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let mut sink = TraceBuilder::new();
    let path = std::path::Path::new("fuzz.log");
    match read_raw(data, path, skip, &mut sink) {
        Ok(logs) => check_trace(&sink.finish(), &logs.report, data, skip, true),
        Err(e) => check_trace_error(&e, "fuzz.log", data),
    }
});
