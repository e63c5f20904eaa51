//! The validated workload trace: every invocation the engine will replay, grouped by function and
//! sorted by arrival. Readers (one file per format) turn raw input into a [`Trace`]; the engine takes
//! a `&Trace` and never re-checks it.

pub mod azure2019;
pub mod azure2021;
pub mod canonical;
pub mod cloudwatch;
pub mod facts;
pub mod format;
pub mod held;
pub mod input;
pub mod minute_counts;
pub mod power_tuning;
pub(crate) mod records;
pub mod resample;
pub mod scale;
pub mod sorted;
pub mod stream;
pub mod units;

use std::fmt;
use std::ops::Range;

use crate::time::{MINUTE, Micros};

/// How the platform treats a request that finds no capacity (see `engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Trigger {
    /// Request/response (HTTP, direct invoke): over the limit the request is throttled.
    Sync = 0,
    /// Event invoke: over the limit it is retried with exponential backoff, then dead-lettered.
    Async = 1,
    /// Queue poller: over the limit it waits in the queue up to a maximum wait.
    Queue = 2,
}

impl Trigger {
    pub fn parse(s: &str) -> Option<Trigger> {
        match s.trim() {
            "" | "sync" | "SYNC" | "Sync" => Some(Trigger::Sync),
            "async" | "ASYNC" | "Async" => Some(Trigger::Async),
            "queue" | "QUEUE" | "Queue" => Some(Trigger::Queue),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Sync => "sync",
            Trigger::Async => "async",
            Trigger::Queue => "queue",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invocation, 24 bytes. Times are relative to the trace origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    /// Arrival time since the trace origin, microseconds.
    pub arrival: Micros,
    /// Warm execution time, microseconds.
    pub duration: Micros,
    /// Index into [`Trace::functions`].
    pub function: u32,
    /// Configured or observed memory, MB; 0 when the trace has none (the run's `--memory-mb` applies).
    pub memory_mb: u16,
    pub trigger: Trigger,
}

// Never a record per invocation beyond the trace itself: the trace's row stays 24 bytes.
const _: () = assert!(std::mem::size_of::<Invocation>() == 24);

/// Per-function facts that hold for every invocation of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionMeta {
    pub name: String,
    /// The application the function belongs to (the trace's `app` column, Azure's `HashApp` /
    /// `app`); `None`: the function is its own application.
    pub app: Option<String>,
}

/// A validated trace.
///
/// Invariants (established by [`TraceBuilder::finish`], relied on by the engine):
/// - `invocations` is grouped by function in `functions` order, and each group is sorted by
///   arrival, stably (equal arrivals keep input row order);
/// - `ranges[f]` is the slice of `invocations` that belongs to function `f`, and a range may be empty
///   (a function named in the input with no rows of its own, e.g. one of another shard);
/// - arrival times are relative to `origin_unix_us` floored to the whole minute.
///
/// The fields are private: a `Trace` can only come out of [`TraceBuilder::finish`] (or a transform
/// in this module that keeps the invariants), so holding one means it was validated.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    functions: Vec<FunctionMeta>,
    invocations: Vec<Invocation>,
    ranges: Vec<Range<usize>>,
    /// The absolute time (in the input's own clock, microseconds) that arrival 0 stands for.
    origin_us: i64,
    /// True when the input rows were not in arrival order and had to be sorted.
    was_sorted: bool,
}

impl Trace {
    /// The functions, in order of first appearance in the input.
    pub fn functions(&self) -> &[FunctionMeta] {
        &self.functions
    }

    /// Every invocation, grouped by function in [`Trace::functions`] order, each group sorted by
    /// arrival.
    pub fn invocations(&self) -> &[Invocation] {
        &self.invocations
    }

    /// `ranges()[f]`: the slice of [`Trace::invocations`] of function `f` (may be empty).
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The absolute time (in the input's own clock, microseconds) that arrival 0 stands for.
    pub fn origin_us(&self) -> i64 {
        self.origin_us
    }

    /// True when the input rows were not in arrival order and had to be sorted.
    pub fn was_sorted(&self) -> bool {
        self.was_sorted
    }

    pub fn len(&self) -> usize {
        self.invocations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.invocations.is_empty()
    }

    pub fn function_invocations(&self, f: usize) -> &[Invocation] {
        &self.invocations[self.ranges[f].clone()]
    }

    /// Each function's application index and the applications' names, in order of first
    /// appearance; a function without an `app` is its own application (named after it).
    pub fn apps(&self) -> (Vec<u32>, Vec<String>) {
        apps_of(&self.functions)
    }

    /// A stable 64-bit fingerprint of everything a run reads from the trace: the origin, each
    /// function's name and application, and every row. Shards and their merge check that they
    /// read the same trace.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint_of(|_| true)
    }

    /// As [`Trace::fingerprint`], with the rows of the functions `rows_of` keeps only (every
    /// function's name and application still count): what a shard that expanded only its own
    /// functions' rows read.
    pub fn fingerprint_of(&self, rows_of: impl Fn(usize) -> bool) -> u64 {
        let metas = self.functions.iter().flat_map(|f| {
            [
                crate::seed::hash_bytes(f.name.as_bytes()),
                f.app
                    .as_ref()
                    .map_or(0, |a| crate::seed::hash_bytes(a.as_bytes()) | 1),
            ]
        });
        let kept: Vec<usize> = (0..self.functions.len()).filter(|&f| rows_of(f)).collect();
        let rows = kept.iter().flat_map(|&f| {
            let rows = self.function_invocations(f);
            std::iter::once(rows.len() as u64).chain(rows.iter().flat_map(|i| {
                [
                    i.arrival,
                    i.duration,
                    u64::from(i.function) << 32 | u64::from(i.memory_mb) << 8 | i.trigger as u64,
                ]
            }))
        });
        crate::seed::hash_words(
            [self.origin_us as u64, self.functions.len() as u64]
                .into_iter()
                .chain(metas)
                .chain(rows),
        )
    }

    /// Gives every row of each function the trigger `of` returns for it (a function's own
    /// trigger, `--trigger-for`); `None` keeps its rows as read.
    pub fn set_triggers(&mut self, of: impl Fn(usize) -> Option<Trigger>) {
        for (f, range) in self.ranges.iter().enumerate() {
            if let Some(t) = of(f) {
                for i in &mut self.invocations[range.clone()] {
                    i.trigger = t;
                }
            }
        }
    }

    /// The last arrival, microseconds since the origin.
    pub fn last_arrival(&self) -> Micros {
        self.ranges
            .iter()
            .filter_map(|r| self.invocations[r.clone()].last())
            .map(|i| i.arrival)
            .max()
            .unwrap_or(0)
    }
}

/// [`Trace::apps`] of these functions.
pub fn apps_of(functions: &[FunctionMeta]) -> (Vec<u32>, Vec<String>) {
    let mut index: std::collections::HashMap<(bool, &str), u32> = std::collections::HashMap::new();
    let mut names = Vec::new();
    let of = functions
        .iter()
        .map(|f| {
            // A function's own app is keyed apart from named apps with the same text.
            let (key, name) = match &f.app {
                Some(a) => ((true, a.as_str()), a.clone()),
                None => ((false, f.name.as_str()), f.name.clone()),
            };
            *index.entry(key).or_insert_with(|| {
                names.push(name);
                (names.len() - 1) as u32
            })
        })
        .collect();
    (of, names)
}

/// Function names interned to dense ids in order of first appearance, with their
/// applications: what a [`TraceBuilder`] and the streamed readers' sink both keep. Rows often
/// come a function at a time, so the name looked up last is checked before the hash.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    functions: Vec<FunctionMeta>,
    index: std::collections::HashMap<String, u32, foldhash::fast::FixedState>,
    last_name: String,
    last_id: u32,
}

impl Names {
    /// The id of `name`, interning it if new.
    #[inline]
    pub(crate) fn id(&mut self, name: &str) -> u32 {
        if !self.functions.is_empty() && self.last_name == name {
            return self.last_id;
        }
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.functions.len() as u32;
                self.functions.push(FunctionMeta {
                    name: name.to_string(),
                    app: None,
                });
                self.index.insert(name.to_string(), id);
                id
            }
        };
        self.last_name.clear();
        self.last_name.push_str(name);
        self.last_id = id;
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.functions.len()
    }

    /// Says that `function` belongs to application `app`; the error says which other
    /// application an earlier row gave it (a function belongs to one application).
    pub(crate) fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        let meta = &mut self.functions[function as usize];
        match &meta.app {
            Some(a) if a == app => Ok(()),
            Some(a) => Err(format!(
                "function {:?} is in app {a:?} on an earlier row, here {app:?}",
                meta.name
            )),
            None => {
                meta.app = Some(app.to_string());
                Ok(())
            }
        }
    }

    pub(crate) fn into_functions(self) -> Vec<FunctionMeta> {
        self.functions
    }
}

/// Collects raw rows (absolute times, input order) and turns them into a [`Trace`].
///
/// Arrivals are stored relative to `base`, the first row's time floored to the minute, as `i64`
/// bits in the `u64` field. When the rows come in order (the common case) that is already the
/// final relative time, so a streaming consumer can replay them while reading goes on.
#[derive(Debug, Default)]
pub struct TraceBuilder {
    names: Names,
    rows: Vec<Invocation>,
    base: Option<i64>,
    min_rel: i64,
    last_rel: i64,
    in_order: bool,
    /// The origin may not be later than this (absolute, microseconds).
    origin_at_most: Option<i64>,
    /// Rows come function by function by design: out of time order across functions is no news.
    grouped_input: bool,
}

impl TraceBuilder {
    pub fn new() -> Self {
        TraceBuilder {
            in_order: true,
            ..Self::default()
        }
    }

    /// Makes time 0 no later than `us` (in the input's clock) even when the first arrival is
    /// later, e.g. the start of a per-minute file whose first minutes are empty.
    pub fn origin_at_most(&mut self, us: i64) {
        self.origin_at_most = Some(us);
    }

    /// Says that the rows come function by function by design (each function's in time order), so
    /// the trace does not report them as sorted.
    pub fn grouped_input(&mut self) {
        self.grouped_input = true;
    }

    pub fn reserve(&mut self, rows: usize) {
        self.rows.reserve(rows);
    }

    /// The functions interned so far, without the rows.
    pub(crate) fn into_functions(self) -> Vec<FunctionMeta> {
        self.names.into_functions()
    }

    /// Interns a function name and returns its index (order of first appearance).
    pub fn function_id(&mut self, name: &str) -> u32 {
        self.names.id(name)
    }

    pub fn functions(&self) -> usize {
        self.names.len()
    }

    /// Says that `function` belongs to application `app`; the error says which other
    /// application an earlier row gave it (a function belongs to one application).
    #[inline]
    pub fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        self.names.set_app(function, app)
    }

    /// Adds one row. `arrival_abs_us` is in the input's own clock (relative or Unix epoch); its
    /// magnitude is below 2^53 (the reader checks).
    #[inline]
    pub fn push(
        &mut self,
        arrival_abs_us: i64,
        function: u32,
        duration: Micros,
        memory_mb: u16,
        trigger: Trigger,
    ) {
        let base = *self
            .base
            .get_or_insert_with(|| arrival_abs_us.div_euclid(MINUTE as i64) * MINUTE as i64);
        let rel = arrival_abs_us - base;
        if rel < self.last_rel {
            self.in_order = false;
        }
        self.last_rel = rel;
        self.min_rel = self.min_rel.min(rel);
        self.rows.push(Invocation {
            arrival: rel as u64,
            duration,
            function,
            memory_mb,
            trigger,
        });
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The first row's time floored to the minute (the origin while rows come in order).
    pub fn origin_us(&self) -> Option<i64> {
        self.base
    }

    /// The rows so far, if they are already final: one function, in arrival order, none before
    /// the first row's minute. A streaming consumer may replay them before `finish`.
    pub fn final_rows(&self) -> Option<&[Invocation]> {
        let final_ = self.names.len() <= 1
            && self.in_order
            && self.min_rel >= 0
            && self.origin_at_most.is_none();
        final_.then_some(&self.rows)
    }

    /// Builds the trace: sets the origin (first arrival floored to the minute), groups by
    /// function and sorts each group stably by arrival.
    pub fn finish(self) -> Trace {
        let TraceBuilder {
            names,
            mut rows,
            base,
            min_rel,
            in_order,
            origin_at_most,
            grouped_input,
            ..
        } = self;
        let Some(base) = base else {
            return Trace::default();
        };
        let functions = names.into_functions();
        let mut origin = (base + min_rel).div_euclid(MINUTE as i64) * MINUTE as i64;
        if let Some(limit) = origin_at_most {
            origin = origin.min(limit);
        }
        let shift = base - origin; // >= 0
        if shift > 0 {
            for r in &mut rows {
                r.arrival = (r.arrival as i64 + shift) as u64;
            }
        }

        // Group by function (stable counting scatter), unless there is only one function or the
        // rows already come function by function (as the per-minute readers write them): then
        // no second copy of the rows is made.
        let nf = functions.len();
        let already_grouped = rows.windows(2).all(|w| w[0].function <= w[1].function);
        let (mut invocations, ranges) = if nf == 1 {
            let n = rows.len();
            (rows, std::iter::once(0..n).collect())
        } else if already_grouped {
            let mut ranges: Vec<Range<usize>> = Vec::with_capacity(nf);
            let mut start = 0;
            for f in 0..nf as u32 {
                let end = start + rows[start..].partition_point(|r| r.function == f);
                ranges.push(start..end);
                start = end;
            }
            (rows, ranges)
        } else {
            let mut counts = vec![0usize; nf + 1];
            for r in &rows {
                counts[r.function as usize + 1] += 1;
            }
            for f in 0..nf {
                counts[f + 1] += counts[f];
            }
            let ranges: Vec<Range<usize>> = (0..nf).map(|f| counts[f]..counts[f + 1]).collect();
            let mut next = counts;
            let mut grouped = vec![rows[0]; rows.len()];
            for r in rows {
                let slot = &mut next[r.function as usize];
                grouped[*slot] = r;
                *slot += 1;
            }
            (grouped, ranges)
        };
        if !in_order {
            for r in &ranges {
                let slice = &mut invocations[r.clone()];
                if !slice.is_sorted_by_key(|i| i.arrival) {
                    slice.sort_by_key(|i| i.arrival); // stable
                }
            }
        }
        Trace {
            functions,
            invocations,
            ranges,
            origin_us: origin,
            was_sorted: !in_order && !grouped_input,
        }
    }
}
