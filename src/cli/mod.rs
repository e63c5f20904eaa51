//! The command line: clap definitions, validation into the types the library trusts, and the
//! commands, one file each. `main.rs` only calls [`run`].

mod breakeven;
mod calibrate;
mod compare;
mod fleet;
mod generate;
mod merge;
mod offerings;
mod origin;
mod platform;
mod progress;
mod quick;
mod report_args;
mod scenario;
mod simulate;
mod sweep;
mod trace_args;

pub use offerings::OfferingArgs;
pub use platform::{PlatformArgs, platform_config_for, validate_for};
pub use trace_args::TraceArgs;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use faasplan::error::ConfigError;

#[derive(Debug, Parser)]
#[command(
    name = "faasplan",
    version,
    about = "Capacity planner for serverless functions: replays a workload trace through a model of a FaaS platform",
    long_about = None,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a trace and report cold starts, throttles, latency and instances.
    Simulate(Box<simulate::SimulateArgs>),
    /// Write a synthetic trace (canonical CSV) from a workload spec (workloads/*.toml).
    Generate(generate::GenerateArgs),
    /// Fit --init-ms to the cold starts in CloudWatch Lambda logs.
    Calibrate(calibrate::CalibrateArgs),
    /// List the shipped offerings (pricing/*.toml) that --offering can name.
    Offerings(offerings::OfferingsArgs),
    /// List the server types (pricing/servers/*.toml) that --fleet can name, with prices and
    /// billing rules.
    Servers(offerings::ServersArgs),
    /// Replay one trace on FaaS offerings and on server fleets, side by side.
    Compare(Box<compare::CompareArgs>),
    /// Scale the traffic and find where a FaaS offering and a server fleet cost the same.
    Breakeven(Box<breakeven::BreakevenArgs>),
    /// Compare provisioned-concurrency settings over a grid, with replicas and an SLO search.
    Sweep(Box<sweep::SweepArgs>),
    /// Put the partial results of a sharded run (--shard I/N --partial FILE) back together and
    /// write the whole run's output.
    Merge(merge::MergeArgs),
}

pub use faasplan::export::exporter::Format;

/// `--format`'s parser: the values, and their order in `--help`, come from the exporter registry
/// (`faasplan::export::exporter::EXPORTERS`).
pub(crate) fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::names())
        .map(|name| Format::named(&name).unwrap_or_default())
}

/// Parses and runs the command line. Errors carry their context; `main` prints them.
pub fn run() -> anyhow::Result<ExitCode> {
    let (args, origin) = scenario::expand(std::env::args_os().collect())?;
    let _ = merge::ARGS.set(args.clone());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(note) = origin.locate(&e) {
                eprintln!("{note}");
            }
            e.exit()
        }
    };
    match cli.command {
        Command::Simulate(args) => simulate::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Offerings(args) => offerings::run(&args),
        Command::Servers(args) => offerings::run_servers(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Breakeven(args) => breakeven::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Merge(args) => merge::run(&args),
    }
}

/// Where a command's result goes instead of stdout (`merge --out FILE`), if set.
pub(crate) static RESULT_TO: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Writes a command's result to stdout through one buffer (or, with `merge --out`, to a file,
/// written whole or not at all). A closed pipe comes back as an I/O error that `main` treats as
/// success.
pub(crate) fn to_stdout(
    f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(path) = RESULT_TO.get() {
        return faasplan::export::write_atomic(path, |w| f(w))
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    f(&mut out)
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

/// Refuses an output `out` (given with `flag`) that is one of the run's `inputs`, before anything
/// is read or written: writing it would destroy the input (`--per-minute trace.csv`).
pub fn refuse_output_over_input(
    flag: &'static str,
    out: &std::path::Path,
    inputs: &[std::path::PathBuf],
) -> Result<(), faasplan::error::ConfigError> {
    match inputs.iter().find(|i| faasplan::export::same_file(out, i)) {
        Some(i) => Err(faasplan::error::ConfigError::invalid(
            flag,
            format!(
                "{}: is an input of this run ({}); writing it would overwrite the input, so \
                 choose another file",
                out.display(),
                i.display()
            ),
        )),
        None => Ok(()),
    }
}

/// What every command that runs the engine takes: the trace, how to read it, the platform
/// flags and the offerings.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The trace: a canonical CSV (timestamp_ms,function,duration_ms[,memory_mb][,trigger]), an
    /// Azure 2019 or 2021 file, CloudWatch Lambda logs, or a workload spec (TOML, its
    /// invocations generated in memory with --seed); see --trace-format. `-` is standard input.
    /// Without one, --rate and --duration-ms describe the traffic.
    #[arg(required_unless_present = "rate", conflicts_with = "rate")]
    pub trace: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub trace_args: TraceArgs,

    #[command(flatten)]
    pub quick: quick::QuickArgs,

    /// A scenario file: the trace and these flags saved as TOML (see workloads/scenario-*.toml);
    /// flags on the command line win over the file's. Without it, ./faasplan.toml is read if
    /// there is one.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub platform: PlatformArgs,

    #[command(flatten)]
    pub offering: OfferingArgs,
}

impl RunArgs {
    /// The trace as named on the command line (with --rate, the quick form's flags).
    pub fn name(&self) -> String {
        match (&self.trace, self.quick.rate) {
            (Some(t), _) => t.display().to_string(),
            (None, Some(rate)) => self.quick.name(rate),
            (None, None) => String::new(),
        }
    }

    /// The trace's path, for messages and the report's default folder (with --rate, a name
    /// that stands for the quick form's workload).
    pub fn trace_path(&self) -> std::path::PathBuf {
        self.trace
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("rate"))
    }

    /// Every file this run reads: the trace, the Azure 2019 companions, an `empirical:` init
    /// file, a `--power-tuning` file and offering files. An output must be none of them.
    pub fn input_paths(&self) -> Vec<std::path::PathBuf> {
        let t = &self.trace_args;
        let mut paths: Vec<std::path::PathBuf> = self.trace.iter().cloned().collect();
        paths.extend(
            t.durations
                .iter()
                .chain(&t.memory)
                .chain(&t.next_day)
                .cloned(),
        );
        if let Some(faasplan::engine::InitSpec::Empirical(p)) = &self.platform.init_ms {
            paths.push(p.clone());
        }
        paths.extend(self.platform.power_tuning.iter().cloned());
        paths.extend(self.offering.offerings.iter().map(std::path::PathBuf::from));
        paths
    }

    /// Opens the trace (`-`: standard input) once; sniffing and reading then share it.
    /// With --rate, the quick form's workload spec, from memory.
    pub fn open(&self) -> anyhow::Result<faasplan::trace::input::Input> {
        use faasplan::trace::input::Input;
        match (&self.trace, self.quick.rate) {
            (Some(t), _) => Ok(Input::open(t)?),
            (None, Some(rate)) => {
                let spec = self.quick.spec(rate)?;
                let name = std::path::PathBuf::from(self.name());
                Ok(Input::from_reader(
                    &name,
                    Box::new(std::io::Cursor::new(spec.into_bytes())),
                ))
            }
            (None, None) => Err(faasplan::error::ConfigError::invalid(
                "TRACE",
                "give a trace, or --rate and --duration-ms",
            )
            .into()),
        }
    }

    /// Reads the trace in any format, drawing per-minute expansions from `seed`; with `announce`
    /// the reader's report goes to stderr.
    pub fn load(
        &self,
        seed: u64,
        announce: bool,
    ) -> anyhow::Result<(faasplan::trace::Trace, faasplan::trace::format::LoadReport)> {
        Ok(self.load_input(self.open()?, seed, announce)?)
    }

    /// As [`RunArgs::load`], from an input already opened (and perhaps sniffed).
    pub fn load_input(
        &self,
        input: faasplan::trace::input::Input,
        seed: u64,
        announce: bool,
    ) -> Result<
        (faasplan::trace::Trace, faasplan::trace::format::LoadReport),
        faasplan::error::TraceError,
    > {
        self.load_shard(input, seed, announce, None)
    }

    /// As [`RunArgs::load_input`], for a shard: a format that synthesises arrivals expands only
    /// `only`'s functions.
    pub fn load_shard(
        &self,
        input: faasplan::trace::input::Input,
        seed: u64,
        announce: bool,
        only: Option<faasplan::shard::Shard>,
    ) -> Result<
        (faasplan::trace::Trace, faasplan::trace::format::LoadReport),
        faasplan::error::TraceError,
    > {
        let mut opts = self.trace_args.load_options(seed);
        opts.only = only;
        let (mut trace, load) = faasplan::trace::format::load_input(input, &opts)?;
        if announce {
            trace_args::print_report(&self.name(), &load.rows, Some(&load));
        }
        self.set_triggers(&mut trace)?;
        Ok((trace, load))
    }

    /// Each function's `--trigger-for` trigger, checked against the trace's functions (empty
    /// without the flag).
    pub fn triggers_of(
        &self,
        trace: &(impl faasplan::trace::facts::TraceFacts + ?Sized),
    ) -> Result<Vec<Option<faasplan::trace::Trigger>>, faasplan::error::TraceError> {
        if self.platform.trigger_for.is_empty() {
            return Ok(Vec::new());
        }
        platform::triggers_for(&self.platform.trigger_for, trace).map_err(|e| {
            faasplan::error::TraceError::Invalid {
                path: self.trace_path(),
                reason: e.to_string(),
            }
        })
    }

    /// Applies `--trigger-for` to a trace read.
    pub fn set_triggers(
        &self,
        trace: &mut faasplan::trace::Trace,
    ) -> Result<(), faasplan::error::TraceError> {
        let of = self.triggers_of(&*trace)?;
        if !of.is_empty() {
            trace.set_triggers(|f| of[f]);
        }
        Ok(())
    }
}

/// The most worker threads `--threads` takes: more only adds stacks and start-up time.
pub(crate) const MAX_THREADS: u64 = 256;

/// `--threads`: a whole number in 1..=[`MAX_THREADS`], refused by clap (exit 2, naming the flag)
/// before any thread starts.
pub(crate) fn threads_parser() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS)
}

pub(crate) fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(ConfigError::invalid("--threads", "must be at least 1").into());
        }
        b = b.num_threads(n);
    }
    b.build().context("cannot start the worker threads")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
