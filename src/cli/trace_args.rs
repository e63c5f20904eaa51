//! The trace flags shared by every command that reads a trace: the format and what the Azure 2019
//! format needs beside the trace file.

use std::path::PathBuf;

use clap::Args;

use clap::builder::{PossibleValue, PossibleValuesParser};
use faasplan::trace::canonical::{ReadOptions, ReadReport};

use faasplan::trace::format::{self, Arrivals, LoadOptions, LoadReport, TraceFormat};
use faasplan::trace::held;
use faasplan::trace::units::TimeUnit;

/// `--trace-format` values: `auto`, then every registered format ([`format::READERS`]), each with
/// its reader's help line.
fn format_values() -> PossibleValuesParser {
    let auto = PossibleValue::new(format::AUTO).help(format::AUTO_HELP);
    let formats = format::READERS
        .iter()
        .map(|r| PossibleValue::new(r.name()).help(r.help()));
    PossibleValuesParser::new(std::iter::once(auto).chain(formats))
}

/// `--arrivals` (the library's [`Arrivals`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ArrivalsArg {
    /// Uniform gaps scaled to fill the minute.
    Uniform,
    /// Exponential gaps scaled to fill the minute (a Poisson process given the count).
    Poisson,
    /// Evenly spaced.
    Equidistant,
}

impl From<ArrivalsArg> for Arrivals {
    fn from(a: ArrivalsArg) -> Arrivals {
        match a {
            ArrivalsArg::Uniform => Arrivals::Uniform,
            ArrivalsArg::Poisson => Arrivals::Poisson,
            ArrivalsArg::Equidistant => Arrivals::Equidistant,
        }
    }
}

/// `--time-unit` (the library's [`TimeUnit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeUnitArg {
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
}

impl From<TimeUnitArg> for TimeUnit {
    fn from(u: TimeUnitArg) -> TimeUnit {
        match u {
            TimeUnitArg::S => TimeUnit::S,
            TimeUnitArg::Ms => TimeUnit::Ms,
            TimeUnitArg::Us => TimeUnit::Us,
        }
    }
}

/// How to read the trace.
#[derive(Debug, Clone, Args)]
pub struct TraceArgs {
    /// Trace format; auto looks at the header.
    #[arg(long, value_parser = format_values(), default_value = format::AUTO, value_name = "FORMAT")]
    pub trace_format: String,

    /// Azure 2019: the durations-percentiles file (required for that format). Repeat it to add
    /// files; a function takes its row from the first file that lists it.
    #[arg(long, value_name = "FILE")]
    pub durations: Vec<PathBuf>,

    /// Azure 2019: the app-memory file; each function gets its app's AverageAllocatedMb_pct99
    /// (default: none, so --memory-mb applies). Repeatable like --durations.
    #[arg(long, value_name = "FILE")]
    pub memory: Vec<PathBuf>,

    /// Azure 2019: the next day's invocations file, appended after TRACE (day 2 starts at minute
    /// 1440). Repeat in day order.
    #[arg(long, value_name = "FILE")]
    pub next_day: Vec<PathBuf>,

    /// Azure 2019: how a minute's invocations are placed inside it, seeded by --seed (default:
    /// uniform).
    #[arg(long, value_enum, value_name = "HOW")]
    pub arrivals: Option<ArrivalsArg>,

    /// Skip malformed trace rows instead of stopping; the count and reasons go to stderr.
    #[arg(long)]
    pub skip_bad_rows: bool,

    /// Canonical CSV: the unit of the timestamp and duration columns whose name has none
    /// (`timestamp`, `time`, `duration`); a unit in a name (`_s`, `_ms`, `_us`) must agree.
    /// Giving it also turns off the unit-mistake checks (default: numeric `timestamp` values are
    /// Unix times in the unit their magnitude says, `duration` is in ms, and the checks are on).
    #[arg(long, value_enum, value_name = "UNIT")]
    pub time_unit: Option<TimeUnitArg>,

    /// Azure 2019 and workload specs: the most invocations their counts or rates may expand
    /// into when the trace is held whole (a spec; Azure 2019 in breakeven, with --read-first,
    /// and in a sweep with --resample; simulate, its shards, compare and sweep stream Azure 2019
    /// otherwise); a larger trace is refused (exit 2, naming the row or function) before the
    /// memory is taken. Default: what fits in the available memory at 40 bytes each, at most
    /// 2,000,000,000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=held::CEILING))]
    pub max_invocations: Option<u64>,
}

impl TraceArgs {
    /// The format `--trace-format` names; `None` for `auto`.
    pub fn format(&self) -> Option<TraceFormat> {
        format::by_name(&self.trace_format)
    }

    /// The validated options; `seed` is the run's `--seed`.
    pub fn load_options(&self, seed: u64) -> LoadOptions {
        LoadOptions {
            format: self.format(),
            skip_bad_rows: self.skip_bad_rows,
            next_days: self.next_day.clone(),
            durations: self.durations.clone(),
            memory: self.memory.clone(),
            arrivals: self.arrivals.map(Arrivals::from),
            seed,
            time_unit: self.time_unit.map(TimeUnit::from),
            only: None,
            max_invocations: self.max_invocations,
        }
    }

    /// The canonical reader's options (the streaming fast path reads with these).
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            skip_bad_rows: self.skip_bad_rows,
            time_unit: self.time_unit.map(TimeUnit::from),
        }
    }

    /// True when nothing but the canonical reader is needed (the streaming fast path applies).
    pub fn plain_canonical(&self) -> bool {
        self.durations.is_empty()
            && self.memory.is_empty()
            && self.next_day.is_empty()
            && self.arrivals.is_none()
    }
}

/// Prints what the reader skipped and noted to stderr.
pub fn print_report(trace: &str, rows: &ReadReport, load: Option<&LoadReport>) {
    if rows.rows_skipped > 0 {
        eprintln!(
            "warning: {trace}: skipped {} of {} rows (--skip-bad-rows):",
            rows.rows_skipped, rows.rows_read
        );
        for (reason, n) in &rows.skipped_by_reason {
            eprintln!("  {n} x {reason}");
        }
        for msg in &rows.first_skipped {
            eprintln!("  e.g. {msg}");
        }
    }
    if let Some(load) = load {
        for note in &load.notes {
            eprintln!("note: {trace}: {note}");
        }
    }
}
