//! The CloudWatch reader of Logs Insights CSV exports (`@timestamp,@duration,@initDuration,...`). First byte: bit 0 `--skip-bad-rows`.
#![no_main]

use faasplan::trace::TraceBuilder;
use faasplan::trace::cloudwatch::read_insights;
use faasplan_fuzz::{check_trace, check_trace_error, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let mut sink = TraceBuilder::new();
    let path = std::path::Path::new("fuzz.log");
    match read_insights(data, path, skip, &mut sink) {
        Ok(logs) => check_trace(&sink.finish(), &logs.report, data, skip, true),
        Err(e) => check_trace_error(&e, "fuzz.log", data),
    }
});
