//! Row files replayed as they are read (issue 16): a canonical CSV or an Azure 2021 file, one
//! row per invocation, in arrival order or out of it by a bounded lag (Azure 2021 orders its
//! rows by end time), given to the engine piecewise ([`ArrivalSource`]) while a second thread
//! parses the file. A first pass ([`survey`]) reads the file once for the trace's [`Facts`] and
//! what a replay needs (the origin, each function's rows before the horizon), holding no row
//! (with a horizon, the arrival and function of the rows read before the origin is certain: the
//! first window's); each [`SortedFile::stream`] reads it again from the start.
//!
//! A row may arrive at most the window before the latest arrival read above it: the first pass
//! measures the largest lag (a larger one than allowed is [`WindowTooSmall`], naming the line)
//! and the replays hold back what that lag needs, releasing rows in (arrival, file order) once no
//! row still to be read can come before them. The rows given are the held trace's, in its
//! order: the same parse, the origin at the earliest arrival's minute, each function's rows by
//! arrival with ties in file order.

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
    names: crate::trace::Names,
    /// Rows read and not released: those kept back at the last release (sorted), then as read.
    pending: Vec<Raw>,
    /// How many rows were kept back at the last release: the next comes after as many again.
    kept: usize,
    latest: Option<i64>,
    /// The largest lag allowed, microseconds.
    window: Micros,
    /// Release rows in arrival order (a replay), or as read (the first pass, which needs no
    /// order and so holds no rows).
    reorder: bool,
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

    /// Releases the pending rows that arrive before `bound`, in (arrival, file order): a
    /// stable sort (the rows kept back are sorted and came earlier in the file than the rest,
    /// which come nearly in order, so the sort merges a few runs).
    fn release(&mut self, bound: i64) {
        self.pending.sort_by_key(|r| r.at);
        let n = self.pending.partition_point(|r| r.at < bound);
        let mut from = 0;
        while from < n {
            let room = BATCH_ROWS.saturating_sub(self.batch.len()).max(1);
            let take = room.min(n - from);
            self.batch
                .extend_from_slice(&self.pending[from..from + take]);
            from += take;
            if self.batch.len() >= BATCH_ROWS {
                self.send();
            }
        }
        self.pending.drain(..n);
        self.kept = self.pending.len();
    }

    /// Every row still held, in order.
    fn flush(&mut self) {
        self.release(i64::MAX);
        self.send();
    }
}

impl Interner for Sorter {
    fn functions(&self) -> usize {
        self.names.len()
    }

    fn function_id(&mut self, name: &str) -> u32 {
        self.names.id(name)
    }
}

impl RowSink for Sorter {
    fn function_id(&mut self, name: &str) -> u32 {
        self.names.id(name)
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
        if self.window == 0 || !self.reorder {
            // Rows in arrival order (any other is over the window), or no order wanted.
            self.batch.push(row);
            if self.batch.len() >= BATCH_ROWS {
                self.send();
            }
            return;
        }
        self.pending.push(row);
        // Sorting and releasing once the rows read since the last release outnumber those kept
        // back then keeps the work per row constant, and what is held within twice the window.
        if self.pending.len() >= 2 * self.kept + BATCH_ROWS {
            // No row still to be read arrives before `latest - window`.
            let bound = self.latest.unwrap_or(at) - self.window as i64;
            self.release(bound);
        }
    }

    fn set_app(&mut self, function: u32, app: &str) -> Result<(), String> {
        // As `TraceBuilder::set_app`, so the same rows are refused.
        self.names.set_app(function, app)
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
/// `window`: the largest lag allowed; `reorder`: release rows in arrival order, else as read.
fn spawn(
    path: &Path,
    format: &RowFormat,
    window: Micros,
    reorder: bool,
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
                names: Default::default(),
                pending: Vec::new(),
                kept: 0,
                latest: None,
                window,
                reorder,
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
                functions: std::mem::take(&mut sink.names).into_functions(),
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

/// The first pass over the file at `path` in `format`, reading every row once (see the module
/// documentation for what it holds). `max_lag`: `None` wants rows in arrival order (otherwise `Ok(None)`: read the trace
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
    let allowed = max_lag.unwrap_or(0);
    // Rows come as read: every fact but the rows before the horizon is a least or greatest, or
    // a count, whatever the order.
    let (rx, handle) = spawn(path, &format, allowed, false).map_err(io)?;
    let mut least: Option<i64> = None;
    let mut latest = i64::MIN;
    let mut rows_of: Vec<u64> = Vec::new();
    // Per function, each memory size with the (arrival, row) key of its first row in the
    // trace's order.
    let mut sizes: Vec<Vec<(u16, (i64, u64))>> = Vec::new();
    // The latest arrival, and the first function (in the trace's order) with it.
    let mut last: Option<(i64, u32)> = None;
    let mut count = 0u64;
    // With a horizon: the rows before it need the origin, which is final once no row still to
    // be read can arrive before the earliest so far (rows lag by at most `allowed`); until
    // then the rows' (arrival, function) wait here.
    let mut before_horizon: Vec<u64> = Vec::new();
    let mut waiting: Vec<(i64, u32)> = Vec::new();
    let mut origin: Option<i64> = None;
    let floor = |at: i64| at.div_euclid(MINUTE as i64) * MINUTE as i64;
    for batch in rx {
        for r in batch {
            let f = r.function as usize;
            if f >= rows_of.len() {
                rows_of.resize(f + 1, 0);
                sizes.resize(f + 1, Vec::new());
                before_horizon.resize(f + 1, 0);
            }
            rows_of[f] += 1;
            let key = (r.at, count);
            match sizes[f].iter_mut().find(|(m, _)| *m == r.memory_mb) {
                Some((_, first)) => *first = (*first).min(key),
                None => sizes[f].push((r.memory_mb, key)),
            }
            if last.is_none_or(|(t, g)| r.at > t || (r.at == t && r.function < g)) {
                last = Some((r.at, r.function));
            }
            least = Some(least.map_or(r.at, |l| l.min(r.at)));
            latest = latest.max(r.at);
            count += 1;
            if let Some(h) = horizon {
                match origin {
                    Some(o) => before_horizon[f] += u64::from(((r.at - o) as Micros) < h),
                    None => {
                        waiting.push((r.at, r.function));
                        let l = least.unwrap_or(r.at);
                        if latest.saturating_sub(allowed as i64) >= l {
                            let o = floor(l);
                            origin = Some(o);
                            for (at, g) in waiting.drain(..) {
                                before_horizon[g as usize] += u64::from(((at - o) as Micros) < h);
                            }
                        }
                    }
                }
            }
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
    let Some(least) = least else {
        return Ok(None);
    };
    let origin = floor(least);
    let n = ended.functions.len();
    rows_of.resize(n, 0);
    sizes.resize(n, Vec::new());
    before_horizon.resize(n, 0);
    match horizon {
        None => before_horizon = rows_of,
        Some(h) => {
            for (at, g) in waiting {
                before_horizon[g as usize] += u64::from(((at - origin) as Micros) < h);
            }
        }
    }
    let first_without_row_memory = sizes
        .iter()
        .position(|s| s.iter().any(|&(m, _)| m == 0))
        .map(|f| f as u32);
    // The last function with the largest size (the held trace's rows go function by function).
    let mut largest_row_memory: Option<(u16, u32)> = None;
    for (f, s) in sizes.iter().enumerate() {
        for &(m, _) in s {
            if largest_row_memory.is_none_or(|(mb, _)| m >= mb) {
                largest_row_memory = Some((m, f as u32));
            }
        }
    }
    let mut row_memory_sizes = Vec::new();
    for s in &mut sizes {
        s.sort_by_key(|&(_, first)| first);
        for &(m, _) in s.iter() {
            if !row_memory_sizes.contains(&m) {
                row_memory_sizes.push(m);
            }
        }
    }
    let last = last.map(|(at, f)| ((at - origin) as Micros, f));
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
            first_without_row_memory,
            largest_row_memory,
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
        match spawn(&self.path, &self.format, self.window, true) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;
    use rand::{RngExt, SeedableRng};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Every row a replay gives, per function, in the order given.
    fn replay(file: &SortedFile) -> Vec<Vec<(Micros, Micros)>> {
        let n = file.facts().functions.len();
        let mut bufs = vec![Vec::new(); n];
        let mut s = file.stream(&[]);
        while let Some(m) = s.next_arrival_minute() {
            s.fill(m + MINUTE, &mut bufs);
        }
        assert_eq!(s.given(), file.facts().invocations);
        drop(s);
        file.check().unwrap();
        bufs.iter()
            .map(|b| b.iter().map(|i| (i.arrival, i.duration)).collect())
            .collect()
    }

    const AZURE_2021: RowFormat = RowFormat::Azure2021 {
        skip_bad_rows: false,
    };

    /// Worked by hand: starts 9, 7 (2 s before the 9 read above it), 9, 12.5 s. The replay
    /// gives g's row first, then f's two rows at 9 s in file order; the window is the lag, 2 s.
    #[test]
    fn rows_come_out_by_arrival_with_ties_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "t.csv",
            "app,func,end_timestamp,duration\na,f,10,1\na,g,12,5\na,f,12,3\nb,h,13,0.5\n",
        );
        let file = survey(&p, AZURE_2021, Some(5 * SECOND), None)
            .unwrap()
            .unwrap();
        assert_eq!(file.window(), 2 * SECOND);
        assert_eq!(file.origin_us(), 0);
        assert!(file.facts().was_sorted);
        assert_eq!(file.facts().last, Some((12_500_000, 2)));
        let s = |x: f64| (x * 1e6) as Micros;
        assert_eq!(
            replay(&file),
            [
                vec![(s(9.0), s(1.0)), (s(9.0), s(3.0))],
                vec![(s(7.0), s(5.0))],
                vec![(s(12.5), s(0.5))]
            ]
        );
        // A window below the lag: the row on line 3 does not fit.
        match survey(&p, AZURE_2021, Some(SECOND), None) {
            Err(SurveyError::Window(w)) => assert_eq!((w.line, w.lag), (3, 2 * SECOND)),
            other => panic!("{other:?}"),
        }
        // Canonical rows out of order are not replayed as read.
        let c = write(
            dir.path(),
            "c.csv",
            "timestamp_ms,function,duration_ms\n0,a,1\n5,b,1\n3,a,1\n",
        );
        let got = survey(&c, RowFormat::Canonical(ReadOptions::default()), None, None).unwrap();
        assert!(got.is_none());
    }

    /// Many rows in end order with random durations (so the reorder releases many times, and
    /// keeps rows back across releases): each function's rows come by start, ties in file
    /// order, as a stable sort of the file says; the horizon's counts are the rows before it.
    #[test]
    fn a_large_end_ordered_file_replays_as_its_stable_sort_by_start() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(16);
        let mut rows: Vec<(u32, i64, i64)> = (0..120_000)
            .map(|_| {
                let f = rng.random_range(0..40u32);
                // Whole milliseconds, so many starts tie.
                let end = rng.random_range(0..3_600_000i64) * 1000;
                let d = rng.random_range(0..20_000i64).pow(2) / 20_000 * 1000;
                (f, end, d)
            })
            .collect();
        rows.sort_by_key(|&(_, end, _)| end);
        let mut text = String::from("app,func,end_timestamp,duration\n");
        for (f, end, d) in &rows {
            text.push_str(&format!(
                "a,f{f},{}.{:06},{}.{:06}\n",
                end / 1_000_000,
                end % 1_000_000,
                d / 1_000_000,
                d % 1_000_000
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "big.csv", &text);
        let horizon = 20 * MINUTE + 123;
        let file = survey(&p, AZURE_2021, Some(crate::time::HOUR), Some(horizon))
            .unwrap()
            .unwrap();
        let origin = rows
            .iter()
            .map(|&(_, e, d)| e - d)
            .min()
            .unwrap()
            .div_euclid(MINUTE as i64)
            * MINUTE as i64;
        assert_eq!(file.origin_us(), origin);
        // Functions in order of first appearance.
        let mut order: Vec<u32> = Vec::new();
        for &(f, ..) in &rows {
            if !order.contains(&f) {
                order.push(f);
            }
        }
        let mut by_start: Vec<(usize, (u32, i64, i64))> =
            rows.iter().copied().enumerate().collect();
        by_start.sort_by_key(|&(_, (_, e, d))| e - d);
        let mut want = vec![Vec::new(); order.len()];
        for (_, (f, e, d)) in by_start {
            let i = order.iter().position(|&g| g == f).unwrap();
            want[i].push(((e - d - origin) as Micros, d as Micros));
        }
        for (i, w) in want.iter().enumerate() {
            let before = w.iter().filter(|&&(a, _)| a < horizon).count() as u64;
            assert_eq!(file.before_horizon[i], before, "function {i}");
        }
        let all = survey(&p, AZURE_2021, Some(crate::time::HOUR), None)
            .unwrap()
            .unwrap();
        assert!(all.window() > 0);
        assert_eq!(replay(&all), want);
        let cut: Vec<Vec<_>> = want
            .iter()
            .map(|w| w.iter().copied().filter(|&(a, _)| a < horizon).collect())
            .collect();
        // The replay of the survey with the horizon stops there.
        let n = file.facts.functions.len();
        let mut bufs = vec![Vec::new(); n];
        let mut s = file.stream(&[]);
        while let Some(m) = s.next_arrival_minute() {
            s.fill(m + MINUTE, &mut bufs);
        }
        assert!((0..n).all(|f| !s.has_more(f)));
        let got: Vec<Vec<_>> = bufs
            .iter()
            .map(|b| b.iter().map(|i| (i.arrival, i.duration)).collect())
            .collect();
        assert_eq!(got, cut);
    }
}
