//! Reader for the Azure Functions Invocation Trace 2021 (Zhang et al., "Faster and Cheaper
//! Serverless Computing on Harvested Resources", SOSP 2021; Azure Public Dataset, CC-BY 4.0): one
//! row per invocation, `app,func,end_timestamp,duration`, both in seconds.
//!
//! The arrival is `end_timestamp - duration`; the function is the pair (app, func), because `func`
//! is unique only within its app. The file has no memory or trigger: rows are sync, and the run's
//! `--memory-mb` applies.

use std::io::Read;
use std::path::Path;

use crate::dist::MAX_DURATION_US;
use crate::error::TraceError;
use crate::time::Micros;
use crate::trace::canonical::{ReadReport, RowSink};
use crate::trace::format::{Head, LoadOptions, ReadOutput, SNIFF_LIKELY, TraceReader};
use crate::trace::input::Input;
use crate::trace::records::{Fault, FunctionKeys, Header, Interner, Records, Skips, number, text};
use crate::trace::{TraceBuilder, Trigger};

/// |time| limit, microseconds: 2^53, as for the canonical reader.
const MAX_ABS_US: f64 = 9_007_199_254_740_992.0;

/// The Azure 2021 format in the registry.
pub struct Reader;

impl TraceReader for Reader {
    fn name(&self) -> &'static str {
        "azure2021"
    }

    fn help(&self) -> &'static str {
        "Azure Functions 2021: app,func,end_timestamp,duration (seconds)"
    }

    fn sniff(&self, head: &Head) -> u8 {
        let all = ["app", "func", "end_timestamp", "duration"];
        if all.iter().all(|n| head.has(n)) {
            SNIFF_LIKELY
        } else {
            0
        }
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        let (path, reader) = input.into_parts();
        let (rows, notes) = read(reader, &path, opts.skip_bad_rows, sink)?;
        Ok(ReadOutput {
            rows,
            notes,
            cold_starts: None,
        })
    }
}

/// Reads an Azure 2021 trace from `reader` into `b`, streaming; `path` is only used in messages.
/// Each row's line goes to [`RowSink::at_line`] before the row.
pub(crate) fn read<R: Read, B: RowSink + Interner + ?Sized>(
    reader: R,
    path: &Path,
    skip_bad_rows: bool,
    b: &mut B,
) -> Result<(ReadReport, Vec<String>), TraceError> {
    let mut records = Records::new(reader, path);
    let header = Header::read(&mut records, "app,func,end_timestamp,duration")?;
    let what = "an Azure 2021 invocations file: app,func,end_timestamp,duration";
    let app = header.require(path, "app", what)?;
    let func = header.require(path, "func", what)?;
    let end = header.require(path, "end_timestamp", what)?;
    let dur = header.require(path, "duration", what)?;
    let fields = header.names.len();

    let mut keys = FunctionKeys::default();
    let mut skips = Skips::default();
    let mut accepted = 0u64;
    let mut key = String::new();
    let mut negative_starts = 0u64;
    records.for_each_row(fields, skip_bad_rows, &mut skips, |rec| {
        let a = text(rec.get(app), app, "app")?;
        let f = text(rec.get(func), func, "func")?;
        if a.is_empty() {
            return Err(Fault::value(app, "app", "must not be empty"));
        }
        if f.is_empty() {
            return Err(Fault::value(func, "func", "must not be empty"));
        }
        let end_s = number(rec.get(end), end, "end_timestamp")?;
        let end_us = end_s * 1e6;
        if end_us.abs() > MAX_ABS_US {
            return Err(Fault::value(
                end,
                "end_timestamp",
                "out of range: more than 2^53 microseconds from zero (the unit is seconds)",
            ));
        }
        let d_s = number(rec.get(dur), dur, "duration")?;
        if d_s < 0.0 {
            return Err(Fault::value(dur, "duration", "must be >= 0 (seconds)"));
        }
        let d_us = d_s * 1e6;
        if d_us > MAX_DURATION_US as f64 {
            return Err(Fault::value(
                dur,
                "duration",
                "longer than 10 days (864000 s): likely a unit mistake (the unit is seconds)",
            ));
        }
        let d = d_us.round() as Micros;
        let start = end_us.round() as i64 - d as i64;
        key.clear();
        key.push_str(a);
        key.push('/');
        key.push_str(f);
        let id = keys.id(b, &key, &[a, f]);
        // The function key holds its app (app/func), so this never conflicts.
        let _ = b.set_app(id, a);
        if start < 0 {
            negative_starts += 1;
        }
        b.at_line(rec.line);
        b.push(start, id, d, 0, Trigger::Sync);
        accepted += 1;
        Ok(())
    })?;
    let report = skips.report(path, accepted)?;
    let mut notes = vec![format!(
        "{} invocations of {} functions (app, func); arrival = end_timestamp - duration; no memory \
         or trigger in this format: rows are sync and --memory-mb applies",
        accepted,
        keys.len()
    )];
    if negative_starts > 0 {
        notes.push(format!(
            "{negative_starts} invocations started before time 0 (end_timestamp < duration); time 0 \
             is the earliest start, floored to the minute"
        ));
    }
    Ok((report, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Trace;

    fn read_all(input: &str) -> Result<(Trace, ReadReport), TraceError> {
        let mut b = TraceBuilder::new();
        let (r, _) = read(input.as_bytes(), Path::new("inv.csv"), false, &mut b)?;
        Ok((b.finish(), r))
    }

    fn ok(input: &str) -> (Trace, ReadReport) {
        match read_all(input) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    fn err(input: &str) -> String {
        match read_all(input) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn start_is_end_minus_duration_and_key_is_app_func() {
        let (t, r) = ok("app,func,end_timestamp,duration\n\
                         a,f,10.5,0.5\n\
                         b,f,3.25,1.25\n\
                         a,f,2.0,1.0\n");
        assert_eq!(r.rows_accepted, 3);
        assert_eq!(t.functions.len(), 2);
        assert_eq!(t.functions[0].name, "a/f");
        let a = t.function_invocations(0);
        assert_eq!(
            a.iter()
                .map(|i| (i.arrival, i.duration))
                .collect::<Vec<_>>(),
            vec![(1_000_000, 1_000_000), (10_000_000, 500_000)]
        );
        assert_eq!(t.function_invocations(1)[0].arrival, 2_000_000);
        assert!(t.was_sorted);
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let h = "app,func,end_timestamp,duration\n";
        assert_eq!(
            err(&format!("{h}a,f,1,-1\n")),
            "inv.csv:2:4: duration \"-1\": must be >= 0 (seconds)"
        );
        assert_eq!(
            err(&format!("{h}a,f,1,1\na,f,x,1\n")),
            "inv.csv:3:3: end_timestamp \"x\": not a number"
        );
        assert_eq!(
            err(&format!("{h}a,,1,1\n")),
            "inv.csv:2:2: func \"\": must not be empty"
        );
        assert_eq!(
            err(&format!("{h}a,f,1\n")),
            "inv.csv:2: expected 4 fields (as in the header), found 3"
        );
        assert_eq!(
            err("app,function,end_timestamp,duration\n"),
            "inv.csv:1: missing column `func` (an Azure 2021 invocations file: \
             app,func,end_timestamp,duration); the header has: `app`, `function`, \
             `end_timestamp`, `duration`"
        );
        assert_eq!(
            err(h),
            "inv.csv: the header is there but no data rows follow"
        );
    }
}
