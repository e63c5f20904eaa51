//! Reading and simulating at once. A reader thread parses the trace while the engine replays the
//! rows already read, so `simulate` on a big file takes about as long as parsing it.
//!
//! The overlap needs rows that are final as they arrive: one function, in arrival order (see
//! [`TraceBuilder::final_rows`]). The engine runs an epoch only once a row at or after the
//! epoch's end has been read, so it never sees a partial minute. If a second function or an
//! out-of-order row turns up, the partial run is dropped and the whole trace is simulated after
//! reading, exactly as [`crate::engine::simulate`] would. Either way the outcome is the same.

use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};

use crate::engine::{
    MAX_WINDOW, PlatformConfig, Runner, WarmPlan, Warmup, cyclic_span, simulate_mode,
};
use crate::error::{ConfigError, TraceError};
use crate::outcome::{Mode, Outcome};
use crate::time::Micros;
use crate::trace::canonical::{ReadOptions, ReadReport, RowSink, read_rows};
use crate::trace::input::Input;
use crate::trace::{Invocation, Trace, TraceBuilder, Trigger};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Rows per batch handed from the reader thread to the engine.
const BATCH_ROWS: usize = 1 << 15;
/// Batches in flight between the two threads.
const BATCHES_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, Copy)]
struct RawRow {
    arrival_abs_us: i64,
    duration: Micros,
    function: u32,
    memory_mb: u16,
    trigger: Trigger,
}

#[derive(Debug, Default)]
struct Batch {
    /// Function names first seen in this batch, in order.
    names: Vec<String>,
    /// Applications first given to a function in this batch (the `app` column).
    apps: Vec<(u32, String)>,
    rows: Vec<RawRow>,
    bytes_read: u64,
}

/// The reader thread's sink: interns names in first-appearance order (as the consumer's builder
/// will) and sends rows in batches.
struct BatchSink {
    tx: SyncSender<Batch>,
    index: std::collections::HashMap<String, u32>,
    last: Option<(String, u32)>,
    /// Each function's application, as the consumer's builder keeps it, so that the same rows
    /// are refused for changing it.
    apps: Vec<Option<String>>,
    batch: Batch,
}

impl BatchSink {
    fn send(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.batch.rows.reserve(BATCH_ROWS);
        // The consumer only hangs up if it failed itself; its error is the one reported.
        let _ = self.tx.send(batch);
    }
}

impl RowSink for BatchSink {
    fn function_id(&mut self, name: &str) -> u32 {
        if let Some((n, id)) = &self.last
            && n == name
        {
            return *id;
        }
        let next = self.index.len() as u32;
        let id = *self.index.entry(name.to_string()).or_insert_with(|| {
            self.batch.names.push(name.to_string());
            next
        });
        self.last = Some((name.to_string(), id));
        id
    }

    #[inline]
    fn push(
        &mut self,
        arrival_abs_us: i64,
        function: u32,
        duration: Micros,
        memory_mb: u16,
        trigger: Trigger,
    ) {
        self.batch.rows.push(RawRow {
            arrival_abs_us,
            duration,
            function,
            memory_mb,
            trigger,
        });
        if self.batch.rows.len() >= BATCH_ROWS {
            self.send();
        }
    }

    fn progress(&mut self, bytes_read: u64) {
        self.batch.bytes_read = bytes_read;
    }

    fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        let f = function as usize;
        if self.apps.len() <= f {
            self.apps.resize(f + 1, None);
        }
        match &self.apps[f] {
            Some(a) if a == app => Ok(()),
            // The builder's message, which names the function: the reader only counts it.
            Some(_) => Err(String::new()),
            None => {
                self.apps[f] = Some(app.to_string());
                self.batch.apps.push((function, app.to_string()));
                Ok(())
            }
        }
    }
}

/// The rows a run replays: those before the horizon.
fn before_horizon(rows: &[Invocation], horizon: Option<Micros>) -> &[Invocation] {
    match horizon {
        Some(h) => &rows[..rows.partition_point(|i| i.arrival < h)],
        None => rows,
    }
}

/// Reads the canonical trace at `path` (`-`: standard input) and simulates it on `cfg`,
/// overlapping the two where the rows allow. Returns the trace, the reader's report and the outcome, which equals
/// `simulate_mode(&read_path(path)?.0, cfg, force)`. `cfg` is validated here.
pub fn read_and_simulate(
    path: &Path,
    opts: &ReadOptions,
    cfg: &PlatformConfig,
    force: Option<Mode>,
) -> Result<(Trace, ReadReport, Outcome), PipelineError> {
    read_and_simulate_streamed(path, opts, cfg, force).map(|(t, r, o, _)| (t, r, o))
}

/// As [`read_and_simulate`], on an input already opened (and perhaps sniffed): a pipe is read
/// once, from its first byte.
pub fn read_and_simulate_input(
    input: Input,
    opts: &ReadOptions,
    cfg: &PlatformConfig,
    force: Option<Mode>,
) -> Result<(Trace, ReadReport, Outcome), PipelineError> {
    run(input, opts, cfg, force).map(|(t, r, o, _)| (t, r, o))
}

/// As [`read_and_simulate`], and whether the outcome came from the overlapped (streamed) run.
pub fn read_and_simulate_streamed(
    path: &Path,
    opts: &ReadOptions,
    cfg: &PlatformConfig,
    force: Option<Mode>,
) -> Result<(Trace, ReadReport, Outcome, bool), PipelineError> {
    run(Input::open(path)?, opts, cfg, force)
}

fn run(
    input: Input,
    opts: &ReadOptions,
    cfg: &PlatformConfig,
    force: Option<Mode>,
) -> Result<(Trace, ReadReport, Outcome, bool), PipelineError> {
    // Only a regular file has a size to reserve rows by and a tail to plan a warm-up from.
    let regular_len = input.regular_len();
    let file_bytes = regular_len.unwrap_or(0);
    let (path, file) = input.into_parts();
    let path = path.as_path();
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    // One function is always run coupled; a forced parallel run cannot stream.
    // A provisioned plan ticks on its own clock until the function's work ends, which a
    // streaming run cannot know before the last row: such runs read first.
    // A cyclic warm-up replays the end of the trace first: it streams only when the file's tail
    // can be read first (a regular file), and the plan is checked against the whole trace at the
    // end.
    let tail_plan = match cfg.warmup {
        Warmup::Cyclic if regular_len.is_some() => cyclic_from_tail(path, opts, cfg),
        _ => None,
    };
    let mut streaming = force != Some(Mode::Parallel)
        && cfg.provisioned_plan.is_none()
        && (cfg.warmup != Warmup::Cyclic || tail_plan.is_some())
        && cfg.validate(1).is_ok();
    let (tx, rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);

    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut sink = BatchSink {
                tx,
                index: Default::default(),
                last: None,
                apps: Vec::new(),
                batch: Batch::default(),
            };
            let report = read_rows(file, path, opts, &mut sink);
            sink.send();
            report
        });

        let mut builder = TraceBuilder::new();
        let mut runner: Option<Runner> = None;
        let mut reserved = false;
        for batch in rx {
            for name in &batch.names {
                builder.function_id(name);
            }
            for (f, app) in &batch.apps {
                // A first application for the function: it cannot conflict.
                let _ = builder.set_app(*f, app);
            }
            if !reserved && batch.bytes_read > 0 {
                // Size the rows once from the first batch's bytes per row (+5 %).
                let per_row = batch.bytes_read as f64 / batch.rows.len().max(1) as f64;
                builder.reserve((file_bytes as f64 / per_row * 1.05) as usize);
                reserved = true;
            }
            for r in &batch.rows {
                builder.push(
                    r.arrival_abs_us,
                    r.function,
                    r.duration,
                    r.memory_mb,
                    r.trigger,
                );
            }
            if !streaming {
                continue;
            }
            let Some(rows) = builder.final_rows() else {
                streaming = false;
                runner = None;
                continue;
            };
            let Some(last) = rows.last().map(|i| i.arrival) else {
                continue;
            };
            if last > MAX_WINDOW && cfg.horizon.is_none_or(|h| h > MAX_WINDOW) {
                // A row too far out for any run (a wrong timestamp, most likely): stop simulating
                // towards it; `validate_for` below refuses the trace, naming the row's function.
                streaming = false;
                runner = None;
                continue;
            }
            // Every arrival before `last` has been read (later rows are no earlier).
            let complete_before = match cfg.horizon {
                Some(h) if last >= h => Micros::MAX,
                _ => last,
            };
            let slice = [before_horizon(rows, cfg.horizon)];
            let run = runner.get_or_insert_with(|| {
                let origin = builder.origin_us().unwrap_or(0);
                let plan = match &tail_plan {
                    Some(t) => t.plan.clone(),
                    None => WarmPlan::new(cfg, &[]),
                };
                let mut r = Runner::new(1, None, cfg, origin, plan, &[], Mode::Coupled, limit);
                // The reader thread has the other core.
                r.overlap_collector = false;
                r.start(&slice);
                r
            });
            while run.next_end().is_some_and(|end| end <= complete_before) {
                run.epoch(&slice, complete_before);
            }
        }
        let report = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;

        let outcome = match (runner, builder.final_rows()) {
            (Some(mut run), Some(rows))
                if streaming
                    && tail_plan.as_ref().is_none_or(|t| {
                        t.holds_for(cfg, builder.origin_us(), before_horizon(rows, cfg.horizon))
                    }) =>
            {
                let slice = [before_horizon(rows, cfg.horizon)];
                let excluded = (rows.len() - slice[0].len()) as u64;
                if !run.has_work() {
                    run.start(&slice);
                }
                while run.has_work() {
                    run.epoch(&slice, Micros::MAX);
                }
                let mut outcome = run.finish().expect("a coupled run always completes");
                outcome.excluded_after_horizon = excluded;
                Some(outcome)
            }
            _ => None,
        };
        let trace = builder.finish();
        // What depends on the whole trace (every function, every row's memory) is checked here,
        // also for a streamed run, so no caller gets an outcome of a config the trace refutes.
        let valid = cfg.validate_for(&trace)?;
        let streamed = outcome.is_some();
        let outcome = match outcome {
            Some(mut o) => {
                o.names = trace.functions().iter().map(|f| f.name.clone()).collect();
                o
            }
            None => simulate_mode(&trace, &valid, force),
        };
        Ok((trace, report, outcome, streamed))
    })
}

/// A cyclic warm-up planned from the end of a file before reading it from the start.
struct TailPlan {
    plan: WarmPlan,
    /// The origin the plan assumed (the first row's minute).
    origin: i64,
    period: Micros,
    replay: Micros,
}

impl TailPlan {
    /// True if the whole trace gives the same plan (it usually does; if not, the streamed run is
    /// dropped and the trace is simulated after reading).
    fn holds_for(&self, cfg: &PlatformConfig, origin: Option<i64>, rows: &[Invocation]) -> bool {
        let span = cyclic_span(cfg.keep_alive.longest(), cfg.horizon, &[rows]);
        origin == Some(self.origin)
            && span == (self.period, self.replay)
            && WarmPlan::cyclic(span.0, span.1, &[rows]).prefix == self.plan.prefix
    }
}

/// Bytes read from the start of the file to find its origin and header.
const HEAD_BYTES: u64 = 64 << 10;
/// The first tail read; doubled while it does not reach back far enough.
const TAIL_BYTES: u64 = 1 << 20;

/// Plans a cyclic warm-up from the head and tail of a regular file: `None` when the file is not
/// regular, is small, holds more than one function, is out of order in its tail, has a bad row
/// there, or needs more than half of itself replayed. The caller then reads before simulating.
fn cyclic_from_tail(path: &Path, opts: &ReadOptions, cfg: &PlatformConfig) -> Option<TailPlan> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let len = meta.len();
    if !meta.is_file() || len <= 4 * TAIL_BYTES {
        return None;
    }
    let mut head = Vec::new();
    (&mut file).take(HEAD_BYTES).read_to_end(&mut head).ok()?;
    head.truncate(head.iter().rposition(|&b| b == b'\n')? + 1);
    let mut first = TraceBuilder::new();
    read_rows(&head[..], path, opts, &mut first).ok()?;
    let head_rows = first.rows();
    let origin = first.origin_us()?;
    let reach = cfg.keep_alive.longest();
    let mut tail_bytes = TAIL_BYTES;
    while tail_bytes <= len / 2 {
        let start = len - tail_bytes;
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut tail = Vec::new();
        (&mut file).take(tail_bytes).read_to_end(&mut tail).ok()?;
        // Drop the partial line the seek landed in.
        let cut = tail.iter().position(|&b| b == b'\n')? + 1;
        let mut both = TraceBuilder::new();
        read_rows(head.as_slice().chain(&tail[cut..]), path, opts, &mut both).ok()?;
        let rows = both.final_rows()?;
        let tail_rows = before_horizon(rows.get(head_rows..)?, cfg.horizon);
        let first_tail = tail_rows.first()?.arrival;
        let (period, replay) = cyclic_span(reach, cfg.horizon, &[tail_rows]);
        // Every row from `period - replay` on is in the tail when an earlier one is.
        if first_tail < period - replay {
            return Some(TailPlan {
                plan: WarmPlan::cyclic(period, replay, &[tail_rows]),
                origin,
                period,
                replay,
            });
        }
        tail_bytes *= 2;
    }
    None
}
