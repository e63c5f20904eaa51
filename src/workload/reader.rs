//! A workload spec read as a trace: `faasplan simulate workloads/api-backend.toml` generates the
//! spec's invocations in memory, with the run's seed, and replays them: the same rows
//! `faasplan generate --seed S` would write and the canonical reader would read back, without
//! the CSV (registered in [`crate::trace::format::READERS`] as `spec`).

use std::io::Read;

use crate::error::TraceError;
use crate::trace::TraceBuilder;
use crate::trace::canonical::ReadReport;
use crate::trace::format::{Head, LoadOptions, ReadOutput, SNIFF_EXACT, TraceReader};
use crate::trace::held::HeldLimit;
use crate::trace::input::Input;
use crate::workload::{SpecError, generate, spec};

/// The `spec` format.
pub struct Reader;

impl TraceReader for Reader {
    fn name(&self) -> &'static str {
        "spec"
    }

    fn help(&self) -> &'static str {
        "a workload spec (TOML, workloads/*.toml): its invocations are generated in memory with \
         --seed, as `generate --seed` would write them"
    }

    fn title(&self) -> &'static str {
        "workload spec"
    }

    fn sniff(&self, head: &Head) -> u8 {
        // A spec has `[[function]]` tables; no CSV or log line looks like that.
        let text = String::from_utf8_lossy(head.bytes);
        let table = text.lines().any(|l| l.trim() == "[[function]]");
        if table { SNIFF_EXACT } else { 0 }
    }

    fn synthesises(&self) -> bool {
        true
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        let (path, mut reader) = input.into_parts();
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|error| TraceError::Io {
                path: path.clone(),
                error,
            })?;
        let text = crate::dist::text_of(bytes).map_err(|error| SpecError::Io {
            path: path.clone(),
            error,
        })?;
        let wl = spec::parse(&text, &path)?;
        // A few bytes of spec can ask for billions of rows: refuse what would not fit before
        // generating it (the expected count), and stop if the draws go past the bound anyway.
        let held = HeldLimit::resolve(opts.max_invocations);
        let seconds = wl.duration as f64 / 1e6;
        let expected: Vec<f64> = wl
            .functions
            .iter()
            .map(|f| f.arrivals.iter().map(|p| p.expected_count(seconds)).sum())
            .collect();
        let most = (0..expected.len())
            .max_by(|&a, &b| expected[a].total_cmp(&expected[b]))
            .unwrap_or(0);
        let too_many = |what: String| TraceError::Invalid {
            path: path.clone(),
            reason: format!(
                "the spec {what} more than the {} invocations a run may hold ({}), function \
                 \"{}\" the most: a replay holds every invocation in memory; shorten `duration` or \
                 lower the rates",
                held.max,
                held.explain(),
                wl.functions[most].name
            ),
        };
        let total: f64 = expected.iter().sum();
        if total > held.max as f64 {
            return Err(too_many(format!(
                "expects about {total:.0} invocations in its duration,"
            )));
        }
        let made =
            generate::build(&wl, opts.seed, held.max, sink).map_err(|_| too_many("drew".into()))?;
        if made.rows == 0 {
            return Err(TraceError::Invalid {
                path,
                reason: format!(
                    "the spec generated no invocation in its duration with seed {} (its rates are \
                     too low for its duration)",
                    opts.seed
                ),
            });
        }
        let mut notes = vec![format!(
            "generated {} invocations of {} function{} in memory from the spec, seed {}",
            made.rows,
            wl.functions.len(),
            if wl.functions.len() == 1 { "" } else { "s" },
            opts.seed
        )];
        if let Some(own) = wl.seed.filter(|&s| s != opts.seed) {
            notes.push(format!(
                "the spec's own seed ({own}) is what `generate` uses without --seed; a run draws \
                 the arrivals with its --seed ({}): give --seed {own} for the same rows",
                opts.seed
            ));
        }
        Ok(ReadOutput {
            rows: ReadReport {
                rows_read: made.rows,
                rows_accepted: made.rows,
                ..ReadReport::default()
            },
            notes,
            cold_starts: None,
        })
    }
}
