//! The trace formats faasplan reads: the [`TraceReader`] trait, [`READERS`] (the one list a
//! format is registered in: `--trace-format` names, `auto` sniffing and `--help` come from it),
//! and [`load`], the one entry point every command uses to turn a file into a validated [`Trace`].
//!
//! A new format is one file with a `TraceReader` and one line in [`READERS`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::TraceError;
use crate::trace::canonical::{self, ReadReport};
use crate::trace::cloudwatch::ColdStartStats;
use crate::trace::input::Input;
use crate::trace::units::TimeUnit;
use crate::trace::{Trace, TraceBuilder, azure2019, azure2021, cloudwatch};

/// One input format.
pub trait TraceReader: Sync {
    /// The `--trace-format` value, lowercase.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn help(&self) -> &'static str;
    /// How the format is called in messages (default: its name).
    fn title(&self) -> &'static str {
        self.name()
    }
    /// How sure the reader is that a file starting with `head` is in its format: 0 is "not
    /// mine"; for `auto` the highest wins, ties going to the reader registered first. Use
    /// [`SNIFF_EXACT`] for a header only this format has, [`SNIFF_LIKELY`] for a specific
    /// signature, [`SNIFF_FALLBACK`] for a loose match.
    fn sniff(&self, head: &Head) -> u8;
    /// Whether the format uses a format-specific option; given to another format, it is refused.
    fn takes(&self, _option: FormatOption) -> bool {
        false
    }
    /// True when reading the same input with another seed gives other arrivals (a per-minute
    /// trace expanded within each minute, a workload spec): a sweep's replicas then each read
    /// their own.
    fn synthesises(&self) -> bool {
        false
    }
    /// Reads `input` (validating every row once) into `sink`. The input may be a pipe: read it
    /// once, front to back, from its first byte (the head sniffing looked at is still there).
    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError>;
}

/// Sniffing confidences (see [`TraceReader::sniff`]).
pub const SNIFF_EXACT: u8 = 3;
pub const SNIFF_LIKELY: u8 = 2;
pub const SNIFF_FALLBACK: u8 = 1;

/// The registry: every format faasplan reads, one line each. Order breaks sniffing ties and is the
/// order of `--help`.
pub static READERS: &[&dyn TraceReader] = &[
    &canonical::Reader,
    &azure2019::Reader,
    &azure2021::Reader,
    &cloudwatch::Reader,
    &crate::workload::reader::Reader,
];

/// Options that only some formats use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatOption {
    TimeUnit,
    Durations,
    Memory,
    NextDay,
    Arrivals,
}

impl FormatOption {
    pub fn flag(self) -> &'static str {
        match self {
            FormatOption::TimeUnit => "--time-unit",
            FormatOption::Durations => "--durations",
            FormatOption::Memory => "--memory",
            FormatOption::NextDay => "--next-day",
            FormatOption::Arrivals => "--arrivals",
        }
    }
}

/// The start of a file, as sniffing sees it.
#[derive(Debug)]
pub struct Head<'a> {
    /// The first bytes (at most 256 KiB).
    pub bytes: &'a [u8],
    /// The first non-blank line, trimmed, without a byte order mark.
    pub first_line: &'a str,
    /// `first_line` split at commas, each name trimmed and unquoted.
    pub names: Vec<&'a str>,
}

impl Head<'_> {
    /// True when the header has a field named `name` exactly.
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(&name)
    }
}

/// What a reader reports besides the rows it put into the sink.
#[derive(Debug, Clone, Default)]
pub struct ReadOutput {
    /// Rows read, accepted and skipped.
    pub rows: ReadReport,
    /// Facts the user should know: fallbacks applied and their counts, lines ignored.
    pub notes: Vec<String>,
    /// CloudWatch only: the cold starts the logs show.
    pub cold_starts: Option<ColdStartStats>,
}

/// A registered format (never `auto`: that is `None` where a format is optional).
#[derive(Clone, Copy)]
pub struct TraceFormat(&'static dyn TraceReader);

impl TraceFormat {
    pub const CANONICAL: TraceFormat = TraceFormat(&canonical::Reader);
    pub const AZURE2019: TraceFormat = TraceFormat(&azure2019::Reader);
    pub const AZURE2021: TraceFormat = TraceFormat(&azure2021::Reader);
    pub const CLOUDWATCH: TraceFormat = TraceFormat(&cloudwatch::Reader);
    pub const SPEC: TraceFormat = TraceFormat(&crate::workload::reader::Reader);

    pub fn new(reader: &'static dyn TraceReader) -> TraceFormat {
        TraceFormat(reader)
    }

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn reader(self) -> &'static dyn TraceReader {
        self.0
    }
}

impl PartialEq for TraceFormat {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TraceFormat {}

impl fmt::Debug for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceFormat({})", self.as_str())
    }
}

impl serde::Serialize for TraceFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The `--trace-format` value that sniffs.
pub const AUTO: &str = "auto";
/// Its line in `--help`.
pub const AUTO_HELP: &str = "Look at the header (or the first lines) and pick one of the others";

/// A list of formats to choose from: [`READERS`], or another list (a test's, a plugin's).
#[derive(Clone, Copy)]
pub struct Registry<'r>(pub &'r [&'static dyn TraceReader]);

impl Default for Registry<'static> {
    fn default() -> Self {
        Registry(READERS)
    }
}

impl<'r> Registry<'r> {
    /// The formats, in order.
    pub fn formats(self) -> impl Iterator<Item = TraceFormat> + 'r {
        self.0.iter().map(|r| TraceFormat(*r))
    }

    /// The format called `name`; `None` for `auto` or an unknown name.
    pub fn by_name(self, name: &str) -> Option<TraceFormat> {
        self.formats().find(|f| f.as_str() == name)
    }

    /// The format of a file that starts with `head`, if one of the list claims it.
    pub fn sniff(self, head: &[u8]) -> Option<TraceFormat> {
        let text = String::from_utf8_lossy(head);
        let first_line = text
            .trim_start_matches('\u{feff}')
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let head = Head {
            bytes: head,
            first_line,
            names: first_line
                .split(',')
                .map(|n| n.trim().trim_matches('"'))
                .collect(),
        };
        let mut best: Option<(u8, TraceFormat)> = None;
        for f in self.formats() {
            let c = f.reader().sniff(&head);
            if c > 0 && best.is_none_or(|(b, _)| c > b) {
                best = Some((c, f));
            }
        }
        best.map(|(_, f)| f)
    }

    /// Picks the format from the start of the input (at most 256 KiB), which the reader then
    /// continues from. Anything not recognised is read as canonical, whose reader then says
    /// precisely what is wrong with the header (or that the file is empty).
    pub fn sniff_input(self, input: &mut Input) -> Result<TraceFormat, TraceError> {
        let head = input.head(SNIFF_BYTES)?;
        Ok(self.sniff(head).unwrap_or(TraceFormat::CANONICAL))
    }

    /// Opens `path` and picks its format (see [`Registry::sniff_input`]).
    pub fn sniff_path(self, path: &Path) -> Result<TraceFormat, TraceError> {
        self.sniff_input(&mut Input::open(path)?)
    }

    /// The format to read `input` with: `format` itself, or the sniffed one for `None` (auto).
    pub fn resolve(
        self,
        input: &mut Input,
        format: Option<TraceFormat>,
    ) -> Result<TraceFormat, TraceError> {
        match format {
            None => self.sniff_input(input),
            Some(f) => Ok(f),
        }
    }

    /// Opens `path` (`-`: standard input) and reads it (see [`Registry::load_input`]).
    pub fn load(self, path: &Path, opts: &LoadOptions) -> Result<(Trace, LoadReport), TraceError> {
        self.load_input(Input::open(path)?, opts)
    }

    /// Reads `input` in the format `opts.format` says (sniffing it when `None`), once.
    pub fn load_input(
        self,
        mut input: Input,
        opts: &LoadOptions,
    ) -> Result<(Trace, LoadReport), TraceError> {
        let format = self.resolve(&mut input, opts.format)?;
        let path = input.path().to_path_buf();
        self.check_options(&path, format, opts)?;
        let mut sink = TraceBuilder::new();
        let out = format.reader().read(input, opts, &mut sink)?;
        let report = LoadReport {
            format: Some(format),
            rows: out.rows,
            notes: out.notes,
            cold_starts: out.cold_starts,
        };
        Ok((sink.finish(), report))
    }

    /// Parses an Azure 2019 trace without expanding it (see [`azure2019::Parsed`]), after the
    /// same checks as [`Registry::load_input`]; `input` must be of that format.
    pub fn parse_azure2019(
        self,
        mut input: Input,
        opts: &LoadOptions,
    ) -> Result<crate::trace::azure2019::Parsed, TraceError> {
        let format = self.resolve(&mut input, opts.format)?;
        let path = input.path().to_path_buf();
        self.check_options(&path, format, opts)?;
        if format != TraceFormat::AZURE2019 {
            return Err(TraceError::Invalid {
                path,
                reason: format!("expected an Azure 2019 trace, read as {}", format.as_str()),
            });
        }
        crate::trace::azure2019::parse(input, &crate::trace::azure2019::Options::of(opts))
    }

    /// Options that the format does not use are an error, not silently ignored. The message names
    /// the format that does take them.
    fn check_options(
        self,
        path: &Path,
        format: TraceFormat,
        opts: &LoadOptions,
    ) -> Result<(), TraceError> {
        let takes = |o: FormatOption| format.reader().takes(o);
        let refuse = |given: &[FormatOption], what: String| {
            let owner = self
                .formats()
                .find(|f| f.reader().takes(given[0]))
                .map_or("other", |f| f.reader().title());
            Err(TraceError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "{what} only appl{} to {owner} traces, and this trace is read as {}",
                    if given.len() == 1 { "ies" } else { "y" },
                    format.as_str()
                ),
            })
        };
        if let Some(unit) = opts.time_unit
            && !takes(FormatOption::TimeUnit)
        {
            return refuse(
                &[FormatOption::TimeUnit],
                format!("--time-unit {}", unit.as_str()),
            );
        }
        let given: Vec<FormatOption> = [
            (!opts.durations.is_empty(), FormatOption::Durations),
            (!opts.memory.is_empty(), FormatOption::Memory),
            (!opts.next_days.is_empty(), FormatOption::NextDay),
            (opts.arrivals.is_some(), FormatOption::Arrivals),
        ]
        .into_iter()
        .filter_map(|(on, o)| (on && !takes(o)).then_some(o))
        .collect();
        if given.is_empty() {
            return Ok(());
        }
        let flags: Vec<&str> = given.iter().map(|o| o.flag()).collect();
        refuse(&given, flags.join(", "))
    }
}

/// How the Azure 2019 reader places a minute's invocations inside the minute (see
/// [`azure2019::place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Uniform gaps scaled to fill the minute.
    #[default]
    Uniform,
    /// Exponential gaps scaled to fill the minute (a Poisson process given the count).
    Poisson,
    /// Evenly spaced.
    Equidistant,
}

impl Arrivals {
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Uniform => "uniform",
            Arrivals::Poisson => "poisson",
            Arrivals::Equidistant => "equidistant",
        }
    }
}

/// Validated reading options. Options that only one format uses are refused for the others.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `None`: sniff (`auto`).
    pub format: Option<TraceFormat>,
    pub skip_bad_rows: bool,
    /// Azure 2019: further day files, appended in order after the trace.
    pub next_days: Vec<PathBuf>,
    /// Azure 2019: durations-percentiles files.
    pub durations: Vec<PathBuf>,
    /// Azure 2019: app-memory files.
    pub memory: Vec<PathBuf>,
    /// Azure 2019: `None` means the default (uniform), and is the only value other formats accept.
    pub arrivals: Option<Arrivals>,
    /// Seed for synthesised arrivals and durations (the run's `--seed`).
    pub seed: u64,
    /// Canonical: the unit of time columns whose name states none (see [`ReadOptions`]).
    pub time_unit: Option<TimeUnit>,
    /// A shard's read (`--shard`): formats that synthesise arrivals (Azure 2019) expand only the
    /// functions this shard holds; every function is still listed, in the same order, so
    /// indices match the whole trace's. Other formats read every row.
    pub only: Option<crate::shard::Shard>,
    /// The most invocations a synthesising format (Azure 2019, a workload spec) may expand the
    /// input into (`--max-invocations`); `None`: what fits in the available memory (see
    /// [`crate::trace::held`]).
    pub max_invocations: Option<u64>,
}

/// What loading found out.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// The format read (never `auto`).
    pub format: Option<TraceFormat>,
    /// Rows read, accepted and skipped.
    pub rows: ReadReport,
    /// Facts the user should know: fallbacks applied and their counts, lines ignored.
    pub notes: Vec<String>,
    /// CloudWatch only: the cold starts the logs show.
    pub cold_starts: Option<ColdStartStats>,
}

/// Reads `path` with the registered formats (see [`Registry::load`]).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Trace, LoadReport), TraceError> {
    Registry::default().load(path, opts)
}

/// Reads `input` with the registered formats (see [`Registry::load_input`]).
pub fn load_input(input: Input, opts: &LoadOptions) -> Result<(Trace, LoadReport), TraceError> {
    Registry::default().load_input(input, opts)
}

/// Parses an Azure 2019 trace once, to expand it with several seeds (see
/// [`Registry::parse_azure2019`]).
pub fn parse_azure2019(
    input: Input,
    opts: &LoadOptions,
) -> Result<crate::trace::azure2019::Parsed, TraceError> {
    Registry::default().parse_azure2019(input, opts)
}

/// The format to read `input` with among the registered ones (see [`Registry::resolve`]).
pub fn resolve(input: &mut Input, format: Option<TraceFormat>) -> Result<TraceFormat, TraceError> {
    Registry::default().resolve(input, format)
}

/// How much of the file sniffing looks at, bytes.
const SNIFF_BYTES: usize = 256 << 10;

/// The registered format of the file at `path` (see [`Registry::sniff_path`]).
pub fn sniff_path(path: &Path) -> Result<TraceFormat, TraceError> {
    Registry::default().sniff_path(path)
}

/// The registered format of a file that starts with `head`, if one claims it.
pub fn sniff(head: &[u8]) -> Option<TraceFormat> {
    Registry::default().sniff(head)
}

/// The registered format called `name`; `None` for `auto` or an unknown name.
pub fn by_name(name: &str) -> Option<TraceFormat> {
    Registry::default().by_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry is what `--trace-format` offers: names are unique lowercase words, none is
    /// `auto`, each has a help line, and each format-only option has exactly one owner.
    #[test]
    fn registry_names_are_unique_and_documented() {
        let names: Vec<&str> = READERS.iter().map(|r| r.name()).collect();
        for (i, r) in READERS.iter().enumerate() {
            let name = r.name();
            assert!(!name.is_empty() && name != AUTO, "{name:?}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
            assert!(!names[..i].contains(&name), "{name} registered twice");
            assert!(!r.help().is_empty(), "{name} has no help line");
            assert_eq!(by_name(name), Some(TraceFormat::new(*r)));
        }
        assert_eq!(by_name(AUTO), None);
        for o in [
            FormatOption::TimeUnit,
            FormatOption::Durations,
            FormatOption::Memory,
            FormatOption::NextDay,
            FormatOption::Arrivals,
        ] {
            let owners = READERS.iter().filter(|r| r.takes(o)).count();
            assert_eq!(owners, 1, "{}", o.flag());
        }
    }

    #[test]
    fn sniffs_each_format() {
        let cases: [(&str, Option<TraceFormat>); 11] = [
            (
                "timestamp_ms,function,duration_ms\n0,f,1\n",
                Some(TraceFormat::CANONICAL),
            ),
            (
                "\u{feff}\n function , timestamp_ms,duration_ms\n",
                Some(TraceFormat::CANONICAL),
            ),
            (
                "HashOwner,HashApp,HashFunction,Trigger,1,2\n",
                Some(TraceFormat::AZURE2019),
            ),
            (
                "HashFunction,HashApp,HashOwner,minute_1\n",
                Some(TraceFormat::AZURE2019),
            ),
            (
                "app,func,end_timestamp,duration\n",
                Some(TraceFormat::AZURE2021),
            ),
            (
                "@timestamp,@requestId,@duration,@initDuration\n",
                Some(TraceFormat::CLOUDWATCH),
            ),
            (
                "2024-03-01T09:00:00.000Z START RequestId: a Version: $LATEST\n",
                Some(TraceFormat::CLOUDWATCH),
            ),
            ("time,name,ms\n", None),
            (
                "Timestamp,Function_Name,Duration\n",
                Some(TraceFormat::CANONICAL),
            ),
            ("time,name,duration_s\n", Some(TraceFormat::CANONICAL)),
            (
                "timestamp_ms;function;duration_ms\n",
                None, // read as canonical, whose reader explains the separator
            ),
        ];
        for (head, want) in cases {
            assert_eq!(sniff(head.as_bytes()), want, "{head:?}");
        }
    }
}
