//! Reader for the Azure Functions 2019 trace (Shahrad et al., "Serverless in the Wild", USENIX ATC
//! 2020; Azure Public Dataset, CC-BY 4.0): per-minute invocation counts per function, one file per
//! day, plus the durations-percentiles file and optionally the app-memory file.
//!
//! The counts become invocations: arrivals inside each minute are synthesised ([`Arrivals`]) and
//! durations drawn from the function's percentiles, all from the run's seed, so a run is
//! reproducible. See `workloads/README.md` for the mapping rules.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::dist::Quantiles;
use crate::error::TraceError;
use crate::seed::{self, Purpose};
use crate::time::{MINUTE, Micros};
use crate::trace::Invocation;
use crate::trace::canonical::ReadReport;
use crate::trace::facts::Facts;
use crate::trace::format::{
    Arrivals, FormatOption, Head, LoadOptions, ReadOutput, SNIFF_LIKELY, TraceReader,
};
use crate::trace::held::HeldLimit;
use crate::trace::input::Input;
use crate::trace::minute_counts::{Busy, MinuteCounts};
use crate::trace::records::{
    Fault, FunctionKeys, Header, Records, Skips, fnv1a, number, open, text,
};
use crate::trace::{TraceBuilder, Trigger};

/// Minutes in one day file.
pub const MINUTES_PER_DAY: usize = 1440;
/// Most invocations in one minute of one function: one per microsecond.
const MAX_PER_MINUTE: u64 = MINUTE;
/// The percentile columns of the durations file and the probabilities they stand for.
const DURATION_COLUMNS: [(&str, f64); 7] = [
    ("percentile_Average_0", 0.0),
    ("percentile_Average_1", 0.01),
    ("percentile_Average_25", 0.25),
    ("percentile_Average_50", 0.50),
    ("percentile_Average_75", 0.75),
    ("percentile_Average_99", 0.99),
    ("percentile_Average_100", 1.0),
];
/// The app-memory statistic used as the function's memory size (see `workloads/README.md`).
pub const MEMORY_COLUMN: &str = "AverageAllocatedMb_pct99";

/// What the Azure 2019 reader needs.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The invocation-count files of the days after the first, in order (day 2 starts at minute
    /// 1440).
    pub days: &'a [PathBuf],
    /// Durations-percentiles files; a function takes its row from the first file that lists it.
    pub durations: &'a [PathBuf],
    /// App-memory files (optional); an app takes its row from the first file that lists it.
    pub memory: &'a [PathBuf],
    pub arrivals: Arrivals,
    pub seed: u64,
    pub skip_bad_rows: bool,
    /// Expand only the functions of this shard (every function is still listed).
    pub only: Option<crate::shard::Shard>,
    /// The most invocations the counts may expand into. A trace that asks for more (a day of
    /// the whole Azure dataset is about 0.4 to 1.3 billion) is refused at the row that crosses
    /// the bound, before the memory is taken. (A `--shard` run expands only its functions, but
    /// `merge` reads the whole trace.)
    pub held: HeldLimit,
}

impl<'a> Options<'a> {
    /// The Azure 2019 options of `opts`.
    pub fn of(opts: &'a LoadOptions) -> Options<'a> {
        Options {
            days: &opts.next_days,
            durations: &opts.durations,
            memory: &opts.memory,
            arrivals: opts.arrivals.unwrap_or_default(),
            seed: opts.seed,
            skip_bad_rows: opts.skip_bad_rows,
            only: opts.only,
            held: HeldLimit::resolve(opts.max_invocations),
        }
    }
}

/// The Azure 2019 format in the registry.
pub struct Reader;

impl TraceReader for Reader {
    fn name(&self) -> &'static str {
        "azure2019"
    }

    fn help(&self) -> &'static str {
        "Azure Functions 2019: per-minute counts per function (+ --durations, --memory)"
    }

    fn title(&self) -> &'static str {
        "Azure 2019"
    }

    /// The durations and memory files are sniffed as Azure 2019 too, so that the reader can say
    /// which flag they belong to.
    fn synthesises(&self) -> bool {
        // Arrivals are drawn within each minute with the seed.
        true
    }

    fn sniff(&self, head: &Head) -> u8 {
        if head.has("HashFunction") || (head.has("HashApp") && head.has("HashOwner")) {
            SNIFF_LIKELY
        } else {
            0
        }
    }

    fn takes(&self, option: FormatOption) -> bool {
        matches!(
            option,
            FormatOption::Durations
                | FormatOption::Memory
                | FormatOption::NextDay
                | FormatOption::Arrivals
        )
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        let (rows, notes) = read(input, &Options::of(opts), sink)?;
        Ok(ReadOutput {
            rows,
            notes,
            cold_starts: None,
        })
    }
}

/// Reads the first day from `first`, then the further day files, into `sink`: the report on the
/// invocation files, and notes for the user (fallbacks applied and their counts).
pub fn read(
    first: Input,
    opts: &Options,
    sink: &mut TraceBuilder,
) -> Result<(ReadReport, Vec<String>), TraceError> {
    parse(first, opts)?.expand(opts.seed, opts.only, sink)
}

/// A parsed Azure 2019 trace: every function row's counts (its busy minutes only), durations,
/// memory and trigger, in file order, ready to be expanded into arrivals with any seed. A sweep's
/// replicas parse the files once and expand them each with its own seed.
pub struct Parsed {
    rows: Vec<ParsedRow>,
    /// Each distinct function key, once.
    names: Vec<Name>,
    /// The invocation files (the first, then the further days).
    paths: Vec<PathBuf>,
    report: ReadReport,
    /// The companion files' notes.
    notes: Vec<String>,
    stats: Stats,
    accepted: u64,
    have_memory: bool,
    arrivals: Arrivals,
    held: HeldLimit,
}

/// One function row with at least one invocation.
struct ParsedRow {
    /// The function's `owner/app/function`: an index into `Parsed::names` (one copy of each
    /// name for all its days: the Azure hashes are 64 characters each).
    name: u32,
    day: u32,
    /// Index into `Parsed::paths`, and the line, for messages.
    file: u32,
    line: u64,
    /// The minutes with invocations and their counts, in order.
    counts: MinuteCounts,
    total: u64,
    quantiles: Quantiles,
    memory_mb: u16,
    trigger: Trigger,
}

/// Reads and validates the invocation files and their companions, without expanding arrivals.
pub fn parse(mut first: Input, opts: &Options) -> Result<Parsed, TraceError> {
    // A companion file given as the trace gets told where it belongs before anything else; its
    // header is in the head the format was sniffed from, so nothing is read twice.
    let first_path = first.path().to_path_buf();
    let head = first.head(HEADER_BYTES)?;
    check_not_companion(&mut Records::new(head, &first_path), &first_path)?;
    if opts.durations.is_empty() {
        return Err(TraceError::Invalid {
            path: first_path.clone(),
            reason: "an Azure 2019 trace needs its durations-percentiles file: pass \
                     --durations FILE (e.g. function_durations_percentiles.anon.d01.csv)"
                .into(),
        });
    }
    let mut notes = Vec::new();
    let mut durations: HashMap<String, Quantiles> = HashMap::new();
    for path in opts.durations {
        read_durations(path, opts.skip_bad_rows, &mut durations, &mut notes)?;
    }
    let mut memory: HashMap<String, u16> = HashMap::new();
    for path in opts.memory {
        read_memory(path, opts.skip_bad_rows, &mut memory, &mut notes)?;
    }
    let mut state = Expand {
        durations,
        memory,
        have_memory: !opts.memory.is_empty(),
        skips: Skips::default(),
        accepted: 0,
        counts: Vec::with_capacity(MINUTES_PER_DAY),
        stats: Stats::default(),
        rows: Vec::new(),
        names: Vec::new(),
        name_of: HashMap::new(),
    };
    state.read_day(first.into_reader(), &first_path, 0, opts.skip_bad_rows)?;
    for (day, path) in opts.days.iter().enumerate() {
        state.read_day(open(path)?, path, day + 1, opts.skip_bad_rows)?;
    }
    let report = state.skips.report(&first_path, state.accepted)?;
    let mut paths = vec![first_path];
    paths.extend(opts.days.iter().cloned());
    Ok(Parsed {
        rows: state.rows,
        names: state.names,
        paths,
        report,
        notes,
        stats: state.stats,
        accepted: state.accepted,
        have_memory: state.have_memory,
        arrivals: opts.arrivals,
        held: opts.held,
    })
}

impl Parsed {
    /// The trace `seed` expands (all functions), as a reader's load returns it.
    pub fn load(
        &self,
        seed: u64,
    ) -> Result<(crate::trace::Trace, crate::trace::format::LoadReport), TraceError> {
        self.load_shard(seed, None)
    }

    /// As [`Parsed::load`], with `only`: the rows of that shard's functions only.
    pub fn load_shard(
        &self,
        seed: u64,
        only: Option<crate::shard::Shard>,
    ) -> Result<(crate::trace::Trace, crate::trace::format::LoadReport), TraceError> {
        let mut sink = TraceBuilder::new();
        let (rows, notes) = self.expand(seed, only, &mut sink)?;
        let report = crate::trace::format::LoadReport {
            format: Some(crate::trace::format::TraceFormat::AZURE2019),
            rows,
            notes,
            cold_starts: None,
        };
        Ok((sink.finish(), report))
    }

    /// Expands the counts into arrivals and durations drawn with `seed` (each function's and
    /// day's own stream, keyed by its name), into `sink`; with `only`, the rows of that shard's
    /// functions only (every function is still listed, in the same order). Returns the report
    /// on the invocation files and notes for the user.
    pub fn expand(
        &self,
        seed: u64,
        only: Option<crate::shard::Shard>,
        sink: &mut TraceBuilder,
    ) -> Result<(ReadReport, Vec<String>), TraceError> {
        // Time 0 is the start of minute 1 of the first day, even when it has no invocations, so
        // that per-minute results line up with the file's minute columns. The rows come function
        // by function, so "not in time order" is the layout, not news; each function's arrivals
        // are made in order.
        sink.origin_at_most(0);
        sink.grouped_input();
        let mut keys = FunctionKeys::default();
        let mut offsets = Vec::new();
        for r in &self.rows {
            let name = &self.names[r.name as usize];
            let parts = name.parts();
            let f = keys.id(sink, &name.key, &parts);
            // The function key holds its app (owner/app/function), so this never conflicts.
            let app = format!("{}/{}", parts[0], parts[1]);
            let _ = sink.set_app(f, &app);
            // Another shard's function: listed (its index is the whole trace's), not expanded.
            // The key is `engine::shard_key`'s for a function of an application.
            if let Some(shard) = only
                && !shard.holds(&crate::shard::Shard::app_key(&app))
            {
                continue;
            }
            if sink.rows() as u64 + r.total > self.held.max {
                return Err(TraceError::TooLarge {
                    path: self.paths[r.file as usize].clone(),
                    line: r.line,
                    reason: format!(
                        "this row takes the trace past the {} invocations a run may hold ({}): \
                         this run holds every invocation in memory (`simulate`, `compare` and \
                         `sweep` without --read-first or --resample stream them instead); give \
                         fewer days, or run it in shards (--shard)",
                        self.held.max,
                        self.held.explain()
                    ),
                });
            }
            let mut rng = row_rng(seed, &name.key, r);
            for b in r.counts.iter() {
                self.expand_minute(r, b, &mut rng, &mut offsets, |at, d| {
                    sink.push(at as i64, f, d, r.memory_mb, r.trigger)
                });
            }
        }
        if sink.rows() == 0 && only.is_none() {
            return Err(self.empty());
        }
        let notes = self.notes_for(seed, sink.rows() as u64, keys.len());
        Ok((self.report.clone(), notes))
    }
}

/// A function row's random stream: keyed by the function's name (`key`) and the row's day, not
/// by its index (which depends on reading order).
fn row_rng(seed: u64, key: &str, r: &ParsedRow) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed::derive(
        seed,
        0,
        fnv1a(key.as_bytes()),
        Purpose::ArrivalExpansion { day: r.day },
    ))
}

/// The start of minute `minute` of a row's day, microseconds since the trace's origin.
fn minute_start(r: &ParsedRow, minute: u16) -> Micros {
    (r.day as u64 * MINUTES_PER_DAY as u64 + u64::from(minute)) * MINUTE
}

impl Parsed {
    /// The error of a trace whose every row counts 0.
    fn empty(&self) -> TraceError {
        TraceError::Invalid {
            path: self.paths[0].clone(),
            reason: "every function row counts 0 invocations: the trace is empty".into(),
        }
    }

    /// The report on the invocation files and the notes for the user of the trace `seed`
    /// expands (as [`Parsed::expand`] gives them), without expanding it. Errors if it is empty.
    pub fn report(&self, seed: u64) -> Result<(ReadReport, Vec<String>), TraceError> {
        let rows: u64 = self.rows.iter().map(|r| r.total).sum();
        if rows == 0 {
            return Err(self.empty());
        }
        let functions = self.listing().0.len();
        Ok((self.report.clone(), self.notes_for(seed, rows, functions)))
    }

    /// The notes of an expansion with `seed` into `rows` invocations of `functions` functions.
    fn notes_for(&self, seed: u64, rows: u64, functions: usize) -> Vec<String> {
        let mut notes = self.notes.clone();
        let stats = &self.stats;
        notes.push(format!(
            "{} function rows over {} day file(s) became {} invocations of {} functions; arrivals \
             within each minute: {} (seed {})",
            self.accepted,
            self.paths.len(),
            rows,
            functions,
            self.arrivals.as_str(),
            seed
        ));
        if stats.zero_rows > 0 {
            notes.push(format!(
                "{} function rows count no invocation at all and add no function",
                stats.zero_rows
            ));
        }
        if stats.no_trigger_column {
            notes.push("no Trigger column: every function is sync".into());
        }
        if !stats.triggers.is_empty() {
            let parts: Vec<String> = stats
                .triggers
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            notes.push(format!(
                "function rows by Azure trigger: {} (http, timer, others -> sync; event, storage -> \
                 async; queue, orchestration -> queue)",
                parts.join(", ")
            ));
        }
        if !self.have_memory {
            notes.push("no --memory file: the run's --memory-mb applies to every function".into());
        } else if stats.no_memory_rows > 0 {
            notes.push(format!(
                "{} function rows have no app in the memory file: the run's --memory-mb applies \
                 to them",
                stats.no_memory_rows
            ));
        }
        notes.push(
            "durations are drawn from percentiles of 30-second average durations, not of single \
             invocations: the real tails are wider"
                .into(),
        );
        notes
    }

    /// Makes the arrivals (in order) and durations of row `r`'s busy minute `b` with the row's
    /// stream `rng`, which has made its earlier minutes: every reader of the counts (the whole
    /// expansion, a streamed replay) goes through here, so they make the same rows.
    #[inline]
    fn expand_minute(
        &self,
        r: &ParsedRow,
        b: Busy,
        rng: &mut Pcg64Mcg,
        offsets: &mut Vec<f64>,
        mut push: impl FnMut(Micros, Micros),
    ) {
        let start = minute_start(r, b.minute);
        place(self.arrivals, b.count, rng, offsets);
        for &off in offsets.iter() {
            let at = ((off * MINUTE as f64) as u64).min(MINUTE - 1);
            let d = r.quantiles.sample(rng);
            push(start + at, d);
        }
    }

    /// The functions [`Parsed::expand`] lists (names and applications, in the same order), and
    /// each function's rows (indices into the parsed rows, in day order).
    fn listing(&self) -> (Vec<crate::trace::FunctionMeta>, Vec<Vec<u32>>) {
        let mut sink = TraceBuilder::new();
        let mut keys = FunctionKeys::default();
        let mut rows_of: Vec<Vec<u32>> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let name = &self.names[r.name as usize];
            let parts = name.parts();
            let f = keys.id(&mut sink, &name.key, &parts) as usize;
            let _ = sink.set_app(f as u32, &format!("{}/{}", parts[0], parts[1]));
            if rows_of.len() <= f {
                rows_of.resize_with(f + 1, Vec::new);
            }
            rows_of[f].push(i as u32);
        }
        (sink.into_functions(), rows_of)
    }

    /// The facts of the trace [`Parsed::load`] would make, without making it: its last arrival
    /// is given as the last microsecond of its minute.
    pub fn facts(&self) -> (Facts, Vec<Vec<u32>>) {
        let (functions, rows_of) = self.listing();
        let mut last: Option<(Micros, u32)> = None;
        let mut sizes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut first_without_row_memory = None;
        let mut largest: Option<(u16, u32)> = None;
        for (f, rows) in rows_of.iter().enumerate() {
            for &i in rows {
                let r = &self.rows[i as usize];
                if seen.insert(r.memory_mb) {
                    sizes.push(r.memory_mb);
                }
                if r.memory_mb == 0 && first_without_row_memory.is_none() {
                    first_without_row_memory = Some(f as u32);
                }
                if largest.is_none_or(|(mb, _)| r.memory_mb >= mb) {
                    largest = Some((r.memory_mb, f as u32));
                }
                let end = minute_start(r, r.counts.last_minute()) + MINUTE - 1;
                if last.is_none_or(|(t, _)| end > t) {
                    last = Some((end, f as u32));
                }
            }
        }
        let facts = Facts {
            functions,
            invocations: self.rows.iter().map(|r| r.total).sum(),
            was_sorted: false,
            last,
            row_memory_sizes: sizes,
            first_without_row_memory,
            largest_row_memory: largest,
        };
        (facts, rows_of)
    }

    /// Every invocation of the functions `ids` (indices into the facts' functions), also those
    /// after a horizon.
    pub fn invocations_of(&self, ids: &[u32]) -> u64 {
        let (_, rows_of) = self.listing();
        ids.iter()
            .flat_map(|&f| &rows_of[f as usize])
            .map(|&i| self.rows[i as usize].total)
            .sum()
    }

    /// A stable fingerprint of what a replay drawn with `seed` reads: every function's name and
    /// application, and the rows (day, busy minutes and counts, durations, memory, trigger) of
    /// the functions `rows_of` keeps, and how arrivals are placed in a minute. Shards and their
    /// merge check that they read the same trace without expanding it.
    pub fn fingerprint_of(&self, seed: u64, rows_of: impl Fn(usize) -> bool) -> u64 {
        let (functions, rows) = self.listing();
        let metas = functions.iter().flat_map(|f| {
            [
                crate::seed::hash_bytes(f.name.as_bytes()),
                f.app
                    .as_ref()
                    .map_or(0, |a| crate::seed::hash_bytes(a.as_bytes()) | 1),
            ]
        });
        let kept = rows.iter().enumerate().filter(|&(f, _)| rows_of(f));
        let words = kept.flat_map(|(f, rows)| {
            std::iter::once(f as u64).chain(rows.iter().flat_map(|&i| {
                let r = &self.rows[i as usize];
                [
                    u64::from(r.day),
                    r.total,
                    u64::from(r.memory_mb) << 8 | r.trigger as u64,
                    r.counts.fingerprint(),
                ]
                .into_iter()
                .chain(r.quantiles.words())
            }))
        });
        crate::seed::hash_words(
            [seed, self.arrivals as u64, functions.len() as u64]
                .into_iter()
                .chain(metas)
                .chain(words),
        )
    }

    /// The replay of this trace's rows drawn with `seed`, made minute by minute as it is asked
    /// for (see [`Stream`]).
    pub fn stream(&self, seed: u64, horizon: Option<Micros>) -> Stream<'_> {
        self.stream_of(seed, horizon, None)
    }

    /// As [`Parsed::stream`], of the functions `ids` only (indices into the facts' functions,
    /// increasing): the source's function `k` is `ids[k]`, and its rows name `ids[k]` (a
    /// shard's replay, see `engine::simulate_shard_stream`).
    pub fn stream_of(&self, seed: u64, horizon: Option<Micros>, ids: Option<&[u32]>) -> Stream<'_> {
        let (_, mut rows_of) = self.listing();
        if let Some(ids) = ids {
            rows_of = ids
                .iter()
                .map(|&f| std::mem::take(&mut rows_of[f as usize]))
                .collect();
        }
        let functions: Vec<Cursor> = rows_of
            .into_iter()
            .map(|rows| Cursor {
                busy: rows.first().map(|&i| self.rows[i as usize].counts.first()),
                rows,
                at: 0,
                rng: None,
            })
            .collect();
        let next = functions
            .iter()
            .map(|c| c.next_minute(self, horizon))
            .collect();
        Stream {
            parsed: self,
            seed,
            horizon,
            ids: ids.map(<[u32]>::to_vec),
            functions,
            next,
            offsets: Vec::new(),
            given: 0,
            triggers: Vec::new(),
        }
    }
}

/// An Azure 2019 trace replayed as it is made: each function's arrivals, minute by minute, with
/// the streams [`Parsed::expand`] uses, so the rows are the same; only the rows not yet replayed
/// are held.
pub struct Stream<'p> {
    parsed: &'p Parsed,
    seed: u64,
    horizon: Option<Micros>,
    /// The whole trace's index of each function given (`None`: every function, in order).
    ids: Option<Vec<u32>>,
    functions: Vec<Cursor>,
    /// Each function's [`Cursor::next_minute`], kept apart so that finding the due functions
    /// each epoch reads one dense array rather than every cursor and its row (issue 16: those
    /// scans were a tenth of a 46,000-function day's replay).
    next: Vec<Micros>,
    offsets: Vec<f64>,
    given: u64,
    /// Each function's trigger where the run sets one (`--trigger-for`); empty: the rows'.
    triggers: Vec<Option<Trigger>>,
}

/// Where one function's expansion stands.
struct Cursor {
    /// Its rows, in day order.
    rows: Vec<u32>,
    /// The row being made, and its next busy minute (`None` once every row is made).
    at: usize,
    busy: Option<Busy>,
    /// The row's stream once it has started.
    rng: Option<Pcg64Mcg>,
}

impl Cursor {
    /// The start of the next busy minute not made yet, if before the horizon; else
    /// `Micros::MAX`.
    fn next_minute(&self, parsed: &Parsed, horizon: Option<Micros>) -> Micros {
        let Some((&i, b)) = self.rows.get(self.at).zip(self.busy) else {
            return Micros::MAX;
        };
        let t = minute_start(&parsed.rows[i as usize], b.minute);
        if horizon.is_none_or(|h| t < h) {
            t
        } else {
            Micros::MAX
        }
    }
}

impl Stream<'_> {
    /// Gives function `f` the trigger `triggers[f]` where it is `Some` (as
    /// [`crate::trace::Trace::set_triggers`] does to a held trace).
    pub fn with_triggers(mut self, triggers: Vec<Option<Trigger>>) -> Self {
        self.triggers = triggers;
        self
    }

    /// The start of function `f`'s next busy minute not made yet (before the horizon).
    fn next_minute(&self, f: usize) -> Option<Micros> {
        Some(self.next[f]).filter(|&t| t != Micros::MAX)
    }
}

impl crate::trace::stream::ArrivalSource for Stream<'_> {
    fn fill(&mut self, until: Micros, bufs: &mut [Vec<Invocation>]) {
        let parsed = self.parsed;
        for (f, buf) in bufs.iter_mut().enumerate() {
            while let Some(start) = self.next_minute(f) {
                if start >= until {
                    break;
                }
                let c = &mut self.functions[f];
                let r = &parsed.rows[c.rows[c.at] as usize];
                let key = &parsed.names[r.name as usize].key;
                let rng = c.rng.get_or_insert_with(|| row_rng(self.seed, key, r));
                let horizon = self.horizon.unwrap_or(Micros::MAX);
                let whole = self.ids.as_ref().map_or(f, |ids| ids[f] as usize);
                let trigger = self
                    .triggers
                    .get(whole)
                    .copied()
                    .flatten()
                    .unwrap_or(r.trigger);
                let before = buf.len();
                let b = c
                    .busy
                    .expect("a function with a next minute has a busy minute");
                parsed.expand_minute(r, b, rng, &mut self.offsets, |at, d| {
                    if at < horizon {
                        buf.push(Invocation {
                            arrival: at,
                            duration: d,
                            function: whole as u32,
                            memory_mb: r.memory_mb,
                            trigger,
                        });
                    }
                });
                self.given += (buf.len() - before) as u64;
                c.busy = r.counts.after(b);
                if c.busy.is_none() {
                    c.at += 1;
                    c.busy = c
                        .rows
                        .get(c.at)
                        .map(|&i| parsed.rows[i as usize].counts.first());
                    c.rng = None;
                }
                self.next[f] = c.next_minute(parsed, self.horizon);
            }
        }
    }

    fn next_arrival_minute(&self) -> Option<Micros> {
        Some(self.next.iter().copied().min()?).filter(|&t| t != Micros::MAX)
    }

    fn next_minute_of(&self, f: usize) -> Option<Micros> {
        self.next_minute(f)
    }

    fn given(&self) -> u64 {
        self.given
    }
}

/// The invocations file's header, as messages describe it.
const INVOCATIONS_HEADER: &str = "HashOwner,HashApp,HashFunction[,Trigger],1..1440";
/// How much of the first day file is looked at for its header before reading, bytes (the
/// header of 1,440 minute columns is about 10 kB).
const HEADER_BYTES: usize = 256 << 10;

/// Refuses a durations or memory file given as the invocations file, saying where it belongs.
fn check_not_companion<R: Read>(records: &mut Records<R>, path: &Path) -> Result<(), TraceError> {
    if let Some(rec) = records.next_record()? {
        let header = Header {
            line: rec.line,
            names: rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        };
        if let Some(hint) = companion_hint(&header) {
            return Err(TraceError::Invalid {
                path: path.to_path_buf(),
                reason: hint.into(),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Stats {
    zero_rows: u64,
    no_memory_rows: u64,
    no_trigger_column: bool,
    /// Function rows per Azure trigger name, in order of first appearance.
    triggers: Vec<(String, u64)>,
}

/// The parser's state across day files.
struct Expand {
    durations: HashMap<String, Quantiles>,
    memory: HashMap<String, u16>,
    have_memory: bool,
    skips: Skips,
    accepted: u64,
    counts: Vec<u32>,
    stats: Stats,
    rows: Vec<ParsedRow>,
    names: Vec<Name>,
    name_of: HashMap<Box<str>, u32>,
}

/// A function's key `owner/app/function`, and where its parts end.
struct Name {
    key: Box<str>,
    /// The ends of the owner and of the application in `key`.
    cut: [u32; 2],
}

impl Name {
    fn parts(&self) -> [&str; 3] {
        let [o, a] = self.cut.map(|c| c as usize);
        [&self.key[..o], &self.key[o + 1..a], &self.key[a + 1..]]
    }
}

/// Where the columns of an invocations file are.
struct Layout {
    fields: usize,
    owner: usize,
    app: usize,
    function: usize,
    trigger: Option<usize>,
    /// `minutes[m]` is the column of minute `m + 1`.
    minutes: Vec<usize>,
}

fn layout(header: &Header, path: &Path) -> Result<Layout, TraceError> {
    let what = "an Azure 2019 invocations file: HashOwner,HashApp,HashFunction[,Trigger],1..1440";
    let owner = header.require(path, "HashOwner", what)?;
    let app = header.require(path, "HashApp", what)?;
    let function = header.require(path, "HashFunction", what)?;
    let trigger = header.find(path, "Trigger")?;
    let mut at: Vec<Option<usize>> = vec![None; MINUTES_PER_DAY];
    for (i, name) in header.names.iter().enumerate() {
        let digits = name.strip_prefix("minute_").unwrap_or(name);
        let Ok(m) = digits.parse::<usize>() else {
            continue;
        };
        if !(1..=MINUTES_PER_DAY).contains(&m) || digits.starts_with(['+', '0']) {
            continue;
        }
        if let Some(first) = at[m - 1] {
            return Err(TraceError::DuplicateColumn {
                path: path.to_path_buf(),
                line: header.line,
                column: i + 1,
                name: format!("minute {m} (`{name}`)"),
                first: first + 1,
            });
        }
        at[m - 1] = Some(i);
    }
    let n = at.iter().take_while(|c| c.is_some()).count();
    if n == 0 {
        return Err(TraceError::BadRow {
            path: path.to_path_buf(),
            line: header.line,
            reason: format!(
                "no minute columns: expected `1`..`1440` or `minute_1`..`minute_1440`; the header \
                 has: {}",
                header.describe()
            ),
        });
    }
    if let Some(gap) = at[n..].iter().position(Option::is_some) {
        return Err(TraceError::BadRow {
            path: path.to_path_buf(),
            line: header.line,
            reason: format!(
                "minute column {} is missing but minute {} is there: the minute columns must run \
                 from 1 without gaps",
                n + 1,
                n + gap + 1
            ),
        });
    }
    at.truncate(n);
    Ok(Layout {
        fields: header.names.len(),
        owner,
        app,
        function,
        trigger,
        minutes: at.into_iter().flatten().collect(),
    })
}

/// The Azure trigger names and how faasplan treats each.
pub(crate) fn map_trigger(s: &str) -> Option<(&'static str, Trigger)> {
    const MAP: [(&str, Trigger); 7] = [
        ("http", Trigger::Sync),
        ("timer", Trigger::Sync),
        ("others", Trigger::Sync),
        ("event", Trigger::Async),
        ("storage", Trigger::Async),
        ("queue", Trigger::Queue),
        ("orchestration", Trigger::Queue),
    ];
    MAP.into_iter().find(|(n, _)| n.eq_ignore_ascii_case(s))
}

/// A whole, non-negative count of invocations in one minute.
fn parse_count(raw: &[u8], column: usize) -> Result<u32, Fault> {
    const NAME: &str = "invocations per minute";
    let mut v: u64 = 0;
    let plain = !raw.is_empty()
        && raw.len() <= 12
        && raw.iter().all(|&b| {
            let ok = b.is_ascii_digit();
            v = v * 10 + u64::from(b.wrapping_sub(b'0'));
            ok
        });
    if !plain {
        let f = number(raw, column, NAME)?;
        if f < 0.0 || f.fract() != 0.0 {
            return Err(Fault::value(column, NAME, "must be a whole number >= 0"));
        }
        v = if f > MAX_PER_MINUTE as f64 {
            u64::MAX
        } else {
            f as u64
        };
    }
    if v > MAX_PER_MINUTE {
        return Err(Fault::value(
            column,
            NAME,
            "more than 60000000 in one minute (one per microsecond)",
        ));
    }
    Ok(v as u32)
}

impl Expand {
    fn read_day<R: Read>(
        &mut self,
        reader: R,
        path: &Path,
        day: usize,
        skip: bool,
    ) -> Result<(), TraceError> {
        let mut records = Records::new(reader, path);
        let header = Header::read(&mut records, INVOCATIONS_HEADER)?;
        if let Some(hint) = companion_hint(&header) {
            return Err(TraceError::Invalid {
                path: path.to_path_buf(),
                reason: hint.into(),
            });
        }
        let l = layout(&header, path)?;
        if l.trigger.is_none() {
            self.stats.no_trigger_column = true;
        }
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut key = String::new();
        // The skip counts live across day files; the loop borrows them while `self` expands rows.
        let mut skips = std::mem::take(&mut self.skips);
        let read = records.for_each_row(l.fields, skip, &mut skips, |rec| {
            let row = self.parse_row(rec, &l, &mut key, &seen)?;
            seen.insert(key.clone(), rec.line);
            self.accepted += 1;
            self.keep(&key, row, day, rec.line);
            Ok(())
        });
        self.skips = skips;
        read
    }

    /// Validates a row: the key (into `key`), trigger and counts (into `self.counts`).
    fn parse_row<'r>(
        &mut self,
        rec: &crate::trace::records::Record<'r>,
        l: &Layout,
        key: &mut String,
        seen: &HashMap<String, u64>,
    ) -> Result<Row<'r>, Fault> {
        let part = |i: usize, name: &'static str| -> Result<&'r str, Fault> {
            let s = text(rec.get(i), i, name)?;
            if s.is_empty() {
                return Err(Fault::value(i, name, "must not be empty"));
            }
            Ok(s)
        };
        let owner = part(l.owner, "HashOwner")?;
        let app = part(l.app, "HashApp")?;
        let function = part(l.function, "HashFunction")?;
        key.clear();
        key.push_str(owner);
        key.push('/');
        key.push_str(app);
        key.push('/');
        key.push_str(function);
        if let Some(first) = seen.get(key.as_str()) {
            return Err(Fault::Row {
                why: "function listed twice in one day file",
                detail: format!(" (first on line {first})"),
            });
        }
        let (azure_trigger, trigger) = match l.trigger {
            None => ("", Trigger::Sync),
            Some(i) => map_trigger(text(rec.get(i), i, "Trigger")?).ok_or(Fault::value(
                i,
                "Trigger",
                "must be one of http, timer, event, queue, storage, orchestration, others",
            ))?,
        };
        let quantiles = match self.durations.get(key.as_str()) {
            Some(q) => q.clone(),
            None => {
                return Err(Fault::ValueDetail {
                    column: l.function,
                    name: "HashFunction",
                    why: "the durations file has no row for this function",
                    detail: "; pass --skip-bad-rows to leave such functions out (they are counted)"
                        .into(),
                });
            }
        };
        self.counts.clear();
        for &c in &l.minutes {
            self.counts.push(parse_count(rec.get(c), c)?);
        }
        let app_key = format!("{owner}/{app}");
        let memory_mb = match self.memory.get(&app_key) {
            Some(&mb) => mb,
            None => {
                // A row of zeros adds no function, so no fallback applies to it.
                if self.have_memory && self.counts.iter().any(|&c| c > 0) {
                    self.stats.no_memory_rows += 1;
                }
                0
            }
        };
        if !azure_trigger.is_empty() {
            match self
                .stats
                .triggers
                .iter_mut()
                .find(|(t, _)| t == azure_trigger)
            {
                Some((_, n)) => *n += 1,
                None => self.stats.triggers.push((azure_trigger.to_string(), 1)),
            }
        }
        Ok(Row {
            parts: [owner, app, function],
            quantiles,
            memory_mb,
            trigger,
        })
    }

    /// Keeps a row with invocations for expansion (its busy minutes only).
    fn keep(&mut self, key: &str, row: Row, day: usize, line: u64) {
        if self.counts.iter().all(|&c| c == 0) {
            self.stats.zero_rows += 1;
            return;
        }
        let Some(counts) = MinuteCounts::pack(&self.counts) else {
            return;
        };
        let name = match self.name_of.get(key) {
            Some(&i) => i,
            None => {
                let [owner, app, _] = row.parts;
                let i = self.names.len() as u32;
                self.names.push(Name {
                    key: key.into(),
                    cut: [owner.len() as u32, (owner.len() + 1 + app.len()) as u32],
                });
                self.name_of.insert(key.into(), i);
                i
            }
        };
        self.rows.push(ParsedRow {
            name,
            day: day as u32,
            file: day as u32,
            line,
            total: self.counts.iter().map(|&c| u64::from(c)).sum(),
            counts,
            quantiles: row.quantiles,
            memory_mb: row.memory_mb,
            trigger: row.trigger,
        });
    }
}

struct Row<'r> {
    parts: [&'r str; 3],
    quantiles: Quantiles,
    memory_mb: u16,
    trigger: Trigger,
}

/// Fills `out` with `count` increasing positions in [0, 1) (fractions of the minute).
///
/// - `Equidistant`: `(k + 1/2) / count`, evenly spaced.
/// - `Uniform`: `count + 1` gaps drawn uniform on (0, 1) and scaled to fill the minute; the
///   arrivals are the inner points. More regular than Poisson (the coefficient of variation of a
///   gap is about 0.58).
/// - `Poisson`: the same with exponential gaps. These are the order statistics of `count`
///   uniform points: exactly a Poisson process given the minute's count (gap CV about 1).
pub fn place(mode: Arrivals, count: u32, rng: &mut Pcg64Mcg, out: &mut Vec<f64>) {
    out.clear();
    let n = count as usize;
    match mode {
        Arrivals::Equidistant => {
            out.extend((0..n).map(|k| (k as f64 + 0.5) / n as f64));
        }
        Arrivals::Uniform | Arrivals::Poisson => {
            let mut sum = 0.0;
            for _ in 0..n {
                sum += gap(mode, rng);
                out.push(sum);
            }
            sum += gap(mode, rng);
            if sum <= 0.0 {
                // Every gap was zero (practically impossible): fall back to even spacing.
                return place(Arrivals::Equidistant, count, rng, out);
            }
            for x in out.iter_mut() {
                *x /= sum;
            }
        }
    }
}

#[inline]
fn gap(mode: Arrivals, rng: &mut Pcg64Mcg) -> f64 {
    match mode {
        Arrivals::Poisson => crate::dist::exp1(rng),
        _ => rng.random::<f64>(),
    }
}

/// A message for a companion file given as the trace.
fn companion_hint(h: &Header) -> Option<&'static str> {
    if h.names.iter().any(|n| n.starts_with("percentile_Average_")) {
        return Some(
            "this is an Azure 2019 durations-percentiles file: pass it with --durations FILE and \
             give the invocations-per-function file as the trace",
        );
    }
    if h.names.iter().any(|n| n.starts_with("AverageAllocatedMb")) {
        return Some(
            "this is an Azure 2019 app-memory file: pass it with --memory FILE and give the \
             invocations-per-function file as the trace",
        );
    }
    None
}

fn read_durations(
    path: &Path,
    skip: bool,
    out: &mut HashMap<String, Quantiles>,
    notes: &mut Vec<String>,
) -> Result<(), TraceError> {
    let mut records = Records::new(open(path)?, path);
    let header = Header::read(
        &mut records,
        "HashOwner,HashApp,HashFunction,...,percentile_Average_0..percentile_Average_100",
    )?;
    let what = "an Azure 2019 durations-percentiles file";
    let owner = header.require(path, "HashOwner", what)?;
    let app = header.require(path, "HashApp", what)?;
    let function = header.require(path, "HashFunction", what)?;
    let mut cols = [0usize; 7];
    for (slot, (name, _)) in cols.iter_mut().zip(DURATION_COLUMNS) {
        *slot = header.require(path, name, what)?;
    }
    let fields = header.names.len();
    let mut skips = Skips::default();
    let mut here: HashMap<String, u64> = HashMap::new();
    let mut accepted = 0;
    records.for_each_row(fields, skip, &mut skips, |rec| {
        let o = text(rec.get(owner), owner, "HashOwner")?;
        let a = text(rec.get(app), app, "HashApp")?;
        let f = text(rec.get(function), function, "HashFunction")?;
        let key = format!("{o}/{a}/{f}");
        if let Some(first) = here.get(&key) {
            return Err(Fault::Row {
                why: "function listed twice in the durations file",
                detail: format!(" (first on line {first})"),
            });
        }
        let mut points = [(0.0, 0.0); 7];
        for (k, (&c, (name, p))) in cols.iter().zip(DURATION_COLUMNS).enumerate() {
            let v = number(rec.get(c), c, name)?;
            if v < 0.0 {
                return Err(Fault::value(c, name, "must be >= 0 (ms)"));
            }
            points[k] = (p, v);
        }
        let q = Quantiles::new(&points).map_err(|why| Fault::ValueDetail {
            column: cols[0],
            name: "percentile_Average_0",
            why: "the percentiles must not decrease from 0 to 100",
            detail: format!(": {why}"),
        })?;
        accepted += 1;
        here.insert(key.clone(), rec.line);
        // Across files, the first file that lists a function wins.
        out.entry(key).or_insert(q);
        Ok(())
    })?;
    if skips.rows > 0 {
        notes.push(format!("{}: {}", path.display(), skips.summary()));
    }
    skips.report(path, accepted)?;
    Ok(())
}

fn read_memory(
    path: &Path,
    skip: bool,
    out: &mut HashMap<String, u16>,
    notes: &mut Vec<String>,
) -> Result<(), TraceError> {
    let mut records = Records::new(open(path)?, path);
    let header = Header::read(
        &mut records,
        "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1..pct100",
    )?;
    let what = "an Azure 2019 app-memory file";
    let owner = header.require(path, "HashOwner", what)?;
    let app = header.require(path, "HashApp", what)?;
    let mb = header.require(path, MEMORY_COLUMN, what)?;
    let fields = header.names.len();
    let mut skips = Skips::default();
    let mut here: HashMap<String, u64> = HashMap::new();
    let mut accepted = 0;
    records.for_each_row(fields, skip, &mut skips, |rec| {
        let o = text(rec.get(owner), owner, "HashOwner")?;
        let a = text(rec.get(app), app, "HashApp")?;
        let key = format!("{o}/{a}");
        if let Some(first) = here.get(&key) {
            return Err(Fault::Row {
                why: "app listed twice in the memory file",
                detail: format!(" (first on line {first})"),
            });
        }
        let v = number(rec.get(mb), mb, MEMORY_COLUMN)?;
        if !(v > 0.0 && v <= 65535.0) {
            return Err(Fault::value(
                mb,
                MEMORY_COLUMN,
                "must be more than 0 and at most 65535 (MB)",
            ));
        }
        let (key, v) = (key, v.ceil() as u16);
        accepted += 1;
        here.insert(key.clone(), rec.line);
        out.entry(key).or_insert(v);
        Ok(())
    })?;
    if skips.rows > 0 {
        notes.push(format!("{}: {}", path.display(), skips.summary()));
    }
    skips.report(path, accepted)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_are_sorted_inside_the_minute() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut out = Vec::new();
        for mode in [Arrivals::Uniform, Arrivals::Poisson, Arrivals::Equidistant] {
            for n in [1u32, 2, 7, 1000] {
                place(mode, n, &mut rng, &mut out);
                assert_eq!(out.len(), n as usize);
                assert!(out.is_sorted());
                assert!(out.iter().all(|&x| (0.0..1.0).contains(&x)), "{mode:?}");
            }
        }
        place(Arrivals::Equidistant, 4, &mut rng, &mut out);
        assert_eq!(out, vec![0.125, 0.375, 0.625, 0.875]);
    }

    #[test]
    fn trigger_mapping() {
        assert_eq!(map_trigger("HTTP").map(|t| t.1), Some(Trigger::Sync));
        assert_eq!(map_trigger("timer").map(|t| t.1), Some(Trigger::Sync));
        assert_eq!(map_trigger("event").map(|t| t.1), Some(Trigger::Async));
        assert_eq!(map_trigger("storage").map(|t| t.1), Some(Trigger::Async));
        assert_eq!(map_trigger("queue").map(|t| t.1), Some(Trigger::Queue));
        assert_eq!(
            map_trigger("orchestration").map(|t| t.1),
            Some(Trigger::Queue)
        );
        assert_eq!(map_trigger("others").map(|t| t.1), Some(Trigger::Sync));
        assert!(map_trigger("webhook").is_none());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(b"0", 0).ok(), Some(0));
        assert_eq!(parse_count(b"12", 0).ok(), Some(12));
        assert_eq!(parse_count(b"12.0", 0).ok(), Some(12));
        assert!(parse_count(b"1.5", 0).is_err());
        assert!(parse_count(b"-1", 0).is_err());
        assert!(parse_count(b"", 0).is_err());
        assert!(parse_count(b"60000001", 0).is_err());
        assert!(parse_count(b"1e300", 0).is_err());
    }
}
