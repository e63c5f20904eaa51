//! The Azure Functions 2019 reader: per-minute counts per function, with its durations-percentiles
//! file and its app-memory file. The data is the invocations file, then (after a line `#####`)
//! the durations file, then (after another) the memory file. First byte: bit 0
//! `--skip-bad-rows`, bits 1-2 `--arrivals` (uniform, poisson, equidistant).
#![no_main]

use faasplan::trace::format::{Arrivals, LoadOptions, TraceFormat, load_input};
use faasplan_fuzz::{check_trace, check_trace_error, input, scratch, split};
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"\n#####\n";

/// `data` cut at the first `n - 1` separators.
fn parts(mut data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while out.len() + 1 < n {
        match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                out.push(&data[..at]);
                data = &data[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(data);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((opts, data)) = split(data) else {
        return;
    };
    let skip = opts & 1 == 1;
    let arrivals = [
        Arrivals::Uniform,
        Arrivals::Poisson,
        Arrivals::Equidistant,
        Arrivals::Uniform,
    ][usize::from(opts >> 1 & 3)];
    let parts = parts(data, 3);
    let durations: Vec<_> = parts
        .get(1)
        .map(|d| scratch("durations.csv", d))
        .into_iter()
        .collect();
    let memory: Vec<_> = parts
        .get(2)
        .map(|m| scratch("memory.csv", m))
        .into_iter()
        .collect();
    let load = LoadOptions {
        format: Some(TraceFormat::AZURE2019),
        skip_bad_rows: skip,
        arrivals: Some(arrivals),
        durations: durations.clone(),
        memory: memory.clone(),
        seed: 1,
        // Counts and rates describe invocations in a few bytes: hold at most a million (the
        // bound a run checks before taking the memory, `--max-invocations`).
        max_invocations: Some(1_000_000),
        ..LoadOptions::default()
    };
    match load_input(input("fuzz.csv", parts[0]), &load) {
        Ok((trace, report)) => check_trace(&trace, &report.rows, parts[0], skip, false),
        Err(e) => {
            // The message names whichever of the three files is wrong, and a line within it.
            let msg = e.to_string();
            let files = [
                Some("fuzz.csv".into()),
                durations.first().cloned(),
                memory.first().cloned(),
            ];
            let (name, part) = files
                .iter()
                .zip(&parts)
                .filter_map(|(f, p)| Some((f.as_ref()?.display().to_string(), *p)))
                .find(|(f, _)| msg.starts_with(f.as_str()))
                .unwrap_or_else(|| panic!("the error names none of the files: {msg}"));
            check_trace_error(&e, &name, part);
        }
    }
});
