//! Row files replayed as they are read (issue 16): a canonical CSV or an Azure 2021 file, one
//! row per invocation, in arrival order or out of it by a bounded lag (Azure 2021 orders its
//! rows by end time), given to the engine piecewise ([`ArrivalSource`]) while a second thread
//! parses the file. A first pass ([`survey`]) reads the file once, holding no row, for the
//! trace's [`Facts`] and what a replay needs (the origin, each function's rows before the
//! horizon); each [`SortedFile::stream`] reads it again from the start.
//!
//! Rows leave a reorder heap in (arrival, file order) once no row still to be read can come
//! before them: a row may arrive at most the window before the latest arrival read earlier
//! (the first pass measures the largest lag and the replays use it; a larger lag than allowed is
//! [`WindowTooSmall`], naming the line). The rows given are the held trace's, in its order: the
//! same parse, the origin at the earliest arrival's minute, each function's rows by arrival with
//! ties in file order.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{self, AtomicBool};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::TraceError;
use crate::time::{MINUTE, Micros};
use crate::trace::canonical::{self, ReadOptions, ReadReport, RowSink};
use crate::trace::facts::Facts;
use crate::trace::records::Interner;
use crate::trace::stream::ArrivalSource;
use crate::trace::{FunctionMeta, Invocation, Trigger, azure2021};

/// Rows per batch handed from the parsing thread to the replay.
const BATCH_ROWS: usize = 1 << 14;
/// Batches in flight between the two threads.
const BATCHES_IN_FLIGHT: usize = 8;

/// A format whose rows are invocations, read by its own reader (units, errors, skipped rows,
/// applications and triggers as when the trace is read whole).
#[derive(Debug, Clone)]
pub enum RowFormat {
    Canonical(ReadOptions),
    Azure2021 { skip_bad_rows: bool },
}

impl RowFormat {
    fn read<R: Read, S: RowSink + Interner>(
        &self,
        reader: R,
        path: &Path,
        sink: &mut S,
    ) -> Result<(ReadReport, Vec<String>), TraceError> {
        match self {
            RowFormat::Canonical(opts) => {
                Ok((canonical::read_rows(reader, path, opts, sink)?, Vec::new()))
            }
            RowFormat::Azure2021 { skip_bad_rows } => {
                azure2021::read(reader, path, *skip_bad_rows, sink)
            }
        }
    }
}

/// A row arrives further before one read earlier in the file than the reorder window allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}:{line}: this row arrives {} s before a row read earlier in the file; replaying the file \
     in arrival order as it is read needs a reorder window of at least that, and at most {} s is \
     allowed",
    path.display(),
    crate::time::us_to_s(*lag),
    crate::time::us_to_s(*allowed)
)]
pub struct WindowTooSmall {
    pub path: PathBuf,
    /// The first row that does not fit, 1-based.
    pub line: u64,
    /// How far it arrives before the latest arrival read before it, microseconds.
    pub lag: Micros,
    /// The window allowed, microseconds.
    pub allowed: Micros,
}

/// Why a file cannot be replayed as it is read.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Window(#[from] WindowTooSmall),
}

/// One row as parsed: the file's own clock.
#[derive(Debug, Clone, Copy)]
struct Raw {
    at: i64,
    duration: Micros,
    function: u32,
    memory_mb: u16,
    trigger: Trigger,
}

/// A row in the reorder heap, ordered by (arrival, file order).
#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u64,
    row: Raw,
}

impl Pending {
    fn key(&self) -> (i64, u64) {
        (self.row.at, self.seq)
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// The input, read until `stop` is set (then it ends, as if the file did).
struct Stoppable<R> {
    inner: R,
    stop: Arc<AtomicBool>,
}

impl<R: Read> Read for Stoppable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.load(atomic::Ordering::Relaxed) {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// The parsing thread's sink: interns names as a `TraceBuilder` does, puts rows through the
/// reorder heap and sends them in batches, in (arrival, file order).
struct Sorter {
    tx: SyncSender<Vec<Raw>>,
    stop: Arc<AtomicBool>,
    index: HashMap<String, u32>,
    functions: Vec<FunctionMeta>,
    last: Option<(String, u32)>,
    heap: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    latest: Option<i64>,
    window: Micros,
    line: u64,
    /// The largest lag seen, microseconds.
    lag: Micros,
    /// The first row whose lag is over the window: (line, lag).
    over: Option<(u64, Micros)>,
    batch: Vec<Raw>,
}

impl Sorter {
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        // The replay hangs up when it needs no more rows: stop reading.
        if self.tx.send(batch).is_err() {
            self.stop.store(true, atomic::Ordering::Relaxed);
        }
    }

    /// Every row still held, in order.
    fn flush(&mut self) {
        while let Some(Reverse(p)) = self.heap.pop() {
            self.batch.push(p.row);
            if self.batch.len() >= BATCH_ROWS {
                self.send();
            }
        }
        self.send();
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some((n, id)) = &self.last
            && n == name
        {
            return *id;
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
        self.last = Some((name.to_string(), id));
        id
    }
}

impl Interner for Sorter {
    fn functions(&self) -> usize {
        self.functions.len()
    }

    fn function_id(&mut self, name: &str) -> u32 {
        self.intern(name)
    }
}

impl RowSink for Sorter {
    fn function_id(&mut self, name: &str) -> u32 {
        self.intern(name)
    }

    #[inline]
    fn push(&mut self, at: i64, function: u32, duration: Micros, memory_mb: u16, trigger: Trigger) {
        if self.over.is_some() {
            return;
        }
        match self.latest {
            Some(latest) if at < latest => {
                let lag = (latest - at) as Micros;
                self.lag = self.lag.max(lag);
                if lag > self.window {
                    self.over = Some((self.line, lag));
                    self.stop.store(true, atomic::Ordering::Relaxed);
                    return;
                }
            }
            _ => self.latest = Some(at),
        }
        let row = Raw {
            at,
            duration,
            function,
            memory_mb,
            trigger,
        };
        self.heap.push(Reverse(Pending { seq: self.seq, row }));
        self.seq += 1;
        // No row still to be read arrives before `latest - window`.
        let bound = self.latest.unwrap_or(at) - self.window as i64;
        while let Some(Reverse(p)) = self.heap.peek()
            && p.row.at < bound
        {
            self.batch.push(p.row);
            self.heap.pop();
        }
        if self.batch.len() >= BATCH_ROWS {
            self.send();
        }
    }

    fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        // As `TraceBuilder::set_app`, so the same rows are refused.
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

    fn at_line(&mut self, line: u64) {
        self.line = line;
    }
}

/// What the parsing thread found once it stopped.
struct Ended {
    read: Result<(ReadReport, Vec<String>), TraceError>,
    functions: Vec<FunctionMeta>,
    lag: Micros,
    over: Option<(u64, Micros)>,
}

/// Parses `path` on a thread of its own; the rows come out of the receiver in order.
fn spawn(
    path: &Path,
    format: &RowFormat,
    window: Micros,
) -> std::io::Result<(Receiver<Vec<Raw>>, JoinHandle<Ended>)> {
    let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
    let (path, format) = (path.to_path_buf(), format.clone());
    let handle = std::thread::Builder::new()
        .name("faasplan-rows".into())
        .spawn(move || {
            let stop = Arc::new(AtomicBool::new(false));
            let mut sink = Sorter {
                tx,
                stop: stop.clone(),
                index: HashMap::new(),
                functions: Vec::new(),
                last: None,
                heap: BinaryHeap::new(),
                seq: 0,
                latest: None,
                window,
                line: 0,
                lag: 0,
                over: None,
                batch: Vec::with_capacity(BATCH_ROWS),
            };
            let read = match std::fs::File::open(&path) {
                Ok(file) => format.read(Stoppable { inner: file, stop }, &path, &mut sink),
                Err(error) => Err(TraceError::Io {
                    path: path.clone(),
                    error,
                }),
            };
            if read.is_ok() && sink.over.is_none() {
                sink.flush();
            }
            Ended {
                read,
                functions: std::mem::take(&mut sink.functions),
                lag: sink.lag,
                over: sink.over,
            }
        })?;
    Ok((rx, handle))
}

fn joined(handle: JoinHandle<Ended>) -> Ended {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A file that can be replayed as it is read, with what its first pass found.
#[derive(Debug)]
pub struct SortedFile {
    path: PathBuf,
    format: RowFormat,
    /// The reorder window the replays use: the largest lag of the file, microseconds.
    window: Micros,
    /// The file-clock time of the trace's 0 (the earliest arrival's minute).
    origin: i64,
    horizon: Option<Micros>,
    facts: Facts,
    /// Each function's rows before the horizon.
    before_horizon: Vec<u64>,
    report: ReadReport,
    notes: Vec<String>,
    /// The first failure of a replay's read (the file changed between passes, or cannot be
    /// read again).
    error: Mutex<Option<TraceError>>,
}

/// The first pass over the file at `path` in `format`, reading every row once and holding
/// none. `max_lag`: `None` wants rows in arrival order (otherwise `Ok(None)`: read the trace
/// whole instead); `Some(w)` allows rows up to `w` before a row read earlier, and a larger lag is
/// [`WindowTooSmall`]. A file without rows is `Ok(None)` too. `horizon` is the run's.
pub fn survey(
    path: &Path,
    format: RowFormat,
    max_lag: Option<Micros>,
    horizon: Option<Micros>,
) -> Result<Option<SortedFile>, SurveyError> {
    let io = |error| TraceError::Io {
        path: path.to_path_buf(),
        error,
    };
    let (rx, handle) = spawn(path, &format, max_lag.unwrap_or(0)).map_err(io)?;
    let mut origin: Option<i64> = None;
    let mut before_horizon: Vec<u64> = Vec::new();
    let mut sizes: Vec<Vec<u16>> = Vec::new();
    let mut last: Option<(Micros, u32)> = None;
    let mut count = 0u64;
    for batch in rx {
        for r in batch {
            let o = *origin.get_or_insert(r.at.div_euclid(MINUTE as i64) * MINUTE as i64);
            let rel = (r.at - o) as Micros;
            let f = r.function as usize;
            if f >= before_horizon.len() {
                before_horizon.resize(f + 1, 0);
                sizes.resize(f + 1, Vec::new());
            }
            if horizon.is_none_or(|h| rel < h) {
                before_horizon[f] += 1;
            }
            if !sizes[f].contains(&r.memory_mb) {
                sizes[f].push(r.memory_mb);
            }
            // The latest arrival, and the first function (in the trace's order) with it.
            if last.is_none_or(|(t, g)| rel > t || (rel == t && r.function < g)) {
                last = Some((rel, r.function));
            }
            count += 1;
        }
    }
    let ended = joined(handle);
    if let Some((line, lag)) = ended.over {
        return match max_lag {
            None => Ok(None),
            Some(allowed) => Err(WindowTooSmall {
                path: path.to_path_buf(),
                line,
                lag,
                allowed,
            }
            .into()),
        };
    }
    let (report, notes) = ended.read?;
    let Some(origin) = origin else {
        return Ok(None);
    };
    let n = ended.functions.len();
    before_horizon.resize(n, 0);
    sizes.resize(n, Vec::new());
    let mut row_memory_sizes = Vec::new();
    for s in sizes.iter().flatten() {
        if !row_memory_sizes.contains(s) {
            row_memory_sizes.push(*s);
        }
    }
    Ok(Some(SortedFile {
        path: path.to_path_buf(),
        format,
        window: ended.lag,
        origin,
        horizon,
        facts: Facts {
            functions: ended.functions,
            invocations: count,
            was_sorted: ended.lag > 0,
            last,
            row_memory_sizes,
        },
        before_horizon,
        report,
        notes,
        error: Mutex::new(None),
    }))
}

impl SortedFile {
    /// What the checks and outputs read of the trace.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The reader's report of the first pass.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// The reader's notes of the first pass.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The file-clock time the trace's 0 stands for (the earliest arrival's minute), as
    /// [`crate::trace::Trace::origin_us`].
    pub fn origin_us(&self) -> i64 {
        self.origin
    }

    /// The reorder window the replays hold: the file's largest lag, microseconds.
    pub fn window(&self) -> Micros {
        self.window
    }

    /// A replay of the file from its start, cut at the horizon, with function `f`'s rows given
    /// the trigger `triggers[f]` where that is `Some` (`--trigger-for`; empty: the rows' own).
    pub fn stream(&self, triggers: &[Option<Trigger>]) -> SortedStream<'_> {
        let mut s = SortedStream {
            file: self,
            rx: None,
            handle: None,
            batch: Vec::new().into_iter(),
            peek: None,
            received: 0,
            given: 0,
            given_of: vec![0; self.facts.functions.len()],
            triggers: triggers.to_vec(),
        };
        match spawn(&self.path, &self.format, self.window) {
            Ok((rx, handle)) => {
                (s.rx, s.handle) = (Some(rx), Some(handle));
                s.advance();
            }
            Err(error) => self.fail(TraceError::Io {
                path: self.path.clone(),
                error,
            }),
        }
        s
    }

    /// The first error a replay's read met; a run that met one gave no outcome of this file.
    pub fn check(&self) -> Result<(), TraceError> {
        match self.error.lock().map(|mut e| e.take()) {
            Ok(None) => Ok(()),
            Ok(Some(e)) => Err(e),
            Err(_) => Err(self.changed("a replay's reader failed")),
        }
    }

    fn fail(&self, e: TraceError) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
    }

    fn changed(&self, what: &str) -> TraceError {
        TraceError::Invalid {
            path: self.path.clone(),
            reason: format!(
                "changed while it was replayed ({what}): a streamed replay reads the file more \
                 than once; keep it unchanged during the run, or read it whole first"
            ),
        }
    }
}

/// One replay of a [`SortedFile`] (see [`ArrivalSource`]): its rows as the parsing thread
/// releases them, one row looked ahead.
pub struct SortedStream<'f> {
    file: &'f SortedFile,
    rx: Option<Receiver<Vec<Raw>>>,
    handle: Option<JoinHandle<Ended>>,
    batch: std::vec::IntoIter<Raw>,
    /// The next row not given, on the trace's clock; `None` once every row before the horizon
    /// has been given.
    peek: Option<Invocation>,
    /// Rows that came from the parsing thread.
    received: u64,
    given: u64,
    given_of: Vec<u64>,
    triggers: Vec<Option<Trigger>>,
}

impl SortedStream<'_> {
    /// Loads the next row into `peek`.
    fn advance(&mut self) {
        self.peek = None;
        let file = self.file;
        loop {
            if let Some(r) = self.batch.next() {
                self.received += 1;
                let rel = r.at - file.origin;
                let f = r.function as usize;
                if rel < 0 || f >= self.given_of.len() {
                    file.fail(file.changed("a row outside the first pass's trace"));
                    self.close(false);
                    return;
                }
                let arrival = rel as Micros;
                if file.horizon.is_some_and(|h| arrival >= h) {
                    // Rows come in arrival order: none after this one is replayed.
                    self.close(false);
                    return;
                }
                self.peek = Some(Invocation {
                    arrival,
                    duration: r.duration,
                    function: r.function,
                    memory_mb: r.memory_mb,
                    trigger: self.triggers.get(f).copied().flatten().unwrap_or(r.trigger),
                });
                return;
            }
            match self.rx.as_ref().map(Receiver::recv) {
                Some(Ok(batch)) => self.batch = batch.into_iter(),
                _ => {
                    self.close(true);
                    return;
                }
            }
        }
    }

    /// Stops the parsing thread; `complete`: it read the whole file, which must have given the
    /// first pass's rows.
    fn close(&mut self, complete: bool) {
        self.rx = None;
        self.batch = Vec::new().into_iter();
        let Some(handle) = self.handle.take() else {
            return;
        };
        let ended = joined(handle);
        if !complete {
            return;
        }
        let file = self.file;
        let what = match ended.read {
            Err(e) => return file.fail(e),
            Ok(_) if ended.over.is_some() => "a row out of order by more than before",
            Ok(_) if ended.functions != file.facts.functions => "other functions",
            Ok(_) if self.received != file.facts.invocations => "another number of rows",
            Ok(_) => return,
        };
        file.fail(file.changed(what));
    }
}

impl Drop for SortedStream<'_> {
    fn drop(&mut self) {
        // Hang up first, so that a thread waiting to send stops.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl ArrivalSource for SortedStream<'_> {
    fn fill(&mut self, until: Micros, bufs: &mut [Vec<Invocation>]) {
        while let Some(i) = self.peek {
            if i.arrival >= until {
                break;
            }
            let f = i.function as usize;
            bufs[f].push(i);
            self.given += 1;
            self.given_of[f] += 1;
            self.advance();
        }
    }

    fn next_arrival_minute(&self) -> Option<Micros> {
        self.peek.map(|i| i.arrival / MINUTE * MINUTE)
    }

    /// The earliest minute of any row not given while `f` has rows to come (rows come in
    /// arrival order across functions, so a function's own next row is not known before it is
    /// read): never later than `f`'s, and what [`crate::trace::stream::Window`] and the replay
    /// need, which take the least over functions and whether it is `None`.
    fn next_minute_of(&self, f: usize) -> Option<Micros> {
        if self.has_more(f) {
            self.next_arrival_minute()
        } else {
            None
        }
    }

    fn has_more(&self, f: usize) -> bool {
        self.given_of[f] < self.file.before_horizon[f]
    }

    fn given(&self) -> u64 {
        self.given
    }
}
