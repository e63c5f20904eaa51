//! What a shard's run keeps so that the shards merge into exactly the whole run's [`Outcome`]:
//! every part of an outcome is either additive (counts, integrals, billing sums, histogram
//! buckets) or, for the run-wide peaks of levels summed over functions, rebuilt by applying every
//! shard's level changes in time order (the [`DeltaLog`]s), as the whole run's collector does.
//!
//! [`Outcome`]: super::Outcome

use std::io::{Read, Seek, Write};

use super::{Collector, FunctionStats, Latency, Minute};
use crate::time::{MINUTE, Micros};

/// The level changes a peak needs, in time order: per time a collector applied a change of the
/// busy level or the account usage, their summed changes. (Alive instances and the provisioned
/// level have no run-wide peak: their per-minute integrals add up, [`ShardOutcome::integrals`].)
///
/// Stored compactly, one record per time: a byte of two 2-bit codes (0: no change, 1: +1,
/// 2: −1, 3: a zigzag varint follows; busy in bits 0-1, usage in bits 2-3), the time's step
/// from the previous record's low 3 bits (bits 4-6) and whether more of it follows (bit 7);
/// then the rest of the step as a varint, then the varints the codes call for. A request's
/// start or end a few hundred microseconds after the shard's last change takes 2 bytes.
///
/// Held in chunks of [`CHUNK`] bytes, no record split between two, so that a log of hundreds
/// of megabytes grows without copying itself. A shard that writes a partial file spills each
/// full chunk to a file as it goes ([`DeltaLog::spill_to`]), so its memory stays one chunk
/// (issue 16: holding the log cost a shard of the 46,000-function day 1.2 GB and seconds of
/// page zeroing). The bytes are not serialized with the log: they go to the partial as a
/// section of their own ([`DeltaLog::section`]), and a log read back is given them
/// ([`DeltaLog::attach`]).
#[derive(Debug, serde::Deserialize)]
#[serde(from = "LogMeta")]
pub struct DeltaLog {
    chunks: Vec<Vec<u8>>,
    /// Where full chunks go, if anywhere.
    spill: Option<Spill>,
    /// Where the bytes are instead of `chunks`, for a log read back from a partial: the file
    /// and the section's offset in it (the merge reads them as it goes, holding none).
    in_file: Option<(SectionFile, u64)>,
    /// Bytes of the log in all (spilled or held).
    bytes: u64,
    /// The time of the change applied last (logged or not), and of the record written last.
    last_t: Micros,
    logged_t: Micros,
    len: u64,
    /// False once a time came before the one applied last: such a log cannot be merged by time
    /// (the run applied that change late, which only its own order reproduces).
    monotone: bool,
}

/// A partial file opened once, whose checksum was checked through this handle: its logs are
/// read through it too, so a partial replaced at its path during a merge (a shard run again)
/// is not read in part; and a merge holds one handle per partial, not one per log.
#[derive(Debug, Clone)]
pub struct SectionFile {
    pub file: std::sync::Arc<std::fs::File>,
    pub path: std::path::PathBuf,
}

impl PartialEq for SectionFile {
    fn eq(&self, other: &SectionFile) -> bool {
        self.path == other.path
    }
}

impl Eq for SectionFile {}

/// The file a log's full chunks go to, and the checksum of what went there.
#[derive(Debug)]
struct Spill {
    file: std::fs::File,
    crc: crc32fast::Hasher,
    /// The first write that failed: the log stops spilling, and the run reports it.
    error: Option<std::io::Error>,
}

/// Bytes per chunk of a [`DeltaLog`].
const CHUNK: usize = 1 << 20;
/// The longest record: the codes and the step's low bits, the rest of the step and two
/// values, each varint at most 10 bytes.
const MAX_RECORD: usize = 1 + 3 * 10;

/// A [`DeltaLog`] as it is serialized: all but its bytes.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
struct LogMeta {
    bytes: u64,
    last_t: Micros,
    logged_t: Micros,
    len: u64,
    monotone: bool,
}

impl From<LogMeta> for DeltaLog {
    fn from(m: LogMeta) -> DeltaLog {
        DeltaLog {
            chunks: Vec::new(),
            spill: None,
            in_file: None,
            bytes: m.bytes,
            last_t: m.last_t,
            logged_t: m.logged_t,
            len: m.len,
            monotone: m.monotone,
        }
    }
}

/// Serialized as its [`LogMeta`] (not cloned: a held log may be large).
impl serde::Serialize for DeltaLog {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.meta().serialize(s)
    }
}

impl Clone for DeltaLog {
    /// A clone of a spilled log holds the chunks not spilled only: it is for tests and
    /// in-memory logs.
    fn clone(&self) -> DeltaLog {
        DeltaLog {
            chunks: self.chunks.clone(),
            in_file: self.in_file.clone(),
            ..DeltaLog::from(self.meta())
        }
    }
}

impl PartialEq for DeltaLog {
    fn eq(&self, other: &DeltaLog) -> bool {
        self.spill.is_none()
            && other.spill.is_none()
            && self.in_file == other.in_file
            && self.meta_tuple() == other.meta_tuple()
            && self
                .chunks
                .iter()
                .flatten()
                .eq(other.chunks.iter().flatten())
    }
}

impl Eq for DeltaLog {}

impl Default for DeltaLog {
    fn default() -> DeltaLog {
        DeltaLog {
            chunks: Vec::new(),
            spill: None,
            in_file: None,
            bytes: 0,
            last_t: 0,
            logged_t: 0,
            len: 0,
            monotone: true,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Why a log could not be read: corrupt (a partial that passed its checksum: a bug or a
/// forgery), or its file could not be read (it went, or too many are open).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorruptLog {
    #[error("the level-change log is corrupt at byte {0}")]
    At(usize),
    #[error("{0}")]
    Io(String),
}

/// An I/O error reading a log from `path`, as a [`CorruptLog`].
fn io_error(path: &std::path::Path, e: &std::io::Error) -> CorruptLog {
    CorruptLog::Io(format!(
        "{}: cannot read its level-change log: {e}",
        path.display()
    ))
}

/// The 2-bit code of a change (3: a varint follows).
fn code(v: i64) -> u8 {
    match v {
        0 => 0,
        1 => 1,
        -1 => 2,
        _ => 3,
    }
}

impl DeltaLog {
    /// A log whose full chunks are written to `file` as they fill (see the type's doc).
    pub fn spill_to(file: std::fs::File) -> DeltaLog {
        DeltaLog {
            spill: Some(Spill {
                file,
                crc: crc32fast::Hasher::new(),
                error: None,
            }),
            ..DeltaLog::default()
        }
    }

    fn meta(&self) -> LogMeta {
        LogMeta {
            bytes: self.bytes,
            last_t: self.last_t,
            logged_t: self.logged_t,
            len: self.len,
            monotone: self.monotone,
        }
    }

    fn meta_tuple(&self) -> (u64, Micros, Micros, u64, bool) {
        let m = self.meta();
        (m.bytes, m.last_t, m.logged_t, m.len, m.monotone)
    }

    /// Logs the changes `d` = (busy, alive, usage, provisioned) applied at `t`: those of busy
    /// and usage, if either moves. A change applied after a later one was (its time before the
    /// last) clears [`is_monotone`](Self::is_monotone), unless it is past the window's end
    /// `clip` and moves neither busy nor usage (an idle instance reclaimed, its time clipped to
    /// the window's end, after a later in-flight completion was applied): past the clip it
    /// changes no integral, no peak and no count, wherever it falls.
    pub(super) fn push(&mut self, t: Micros, d: [i64; 4], clip: Micros) {
        let [busy, _, usage, _] = d;
        let quiet = busy == 0 && usage == 0;
        if t < self.last_t {
            if !(quiet && t >= clip) {
                self.monotone = false;
            }
            if quiet {
                return;
            }
        } else {
            self.last_t = t;
        }
        if quiet {
            return;
        }
        if self
            .chunks
            .last()
            .is_none_or(|c| c.len() + MAX_RECORD > CHUNK)
        {
            self.next_chunk();
        }
        let out = self.chunks.last_mut().expect("a chunk was just made");
        let before = out.len();
        let step = t.saturating_sub(self.logged_t);
        let more = u8::from(step >= 8) << 7;
        out.push(code(busy) | code(usage) << 2 | ((step & 7) as u8) << 4 | more);
        if more != 0 {
            put_varint(out, step >> 3);
        }
        for v in [busy, usage] {
            if code(v) == 3 {
                put_varint(out, zigzag(v));
            }
        }
        self.bytes += (out.len() - before) as u64;
        self.logged_t = self.logged_t.max(t);
        self.len += 1;
    }

    /// Starts a chunk: a spilling log writes its full one and reuses its memory.
    fn next_chunk(&mut self) {
        if let Some(spill) = &mut self.spill
            && let Some(full) = self.chunks.last_mut()
        {
            if spill.error.is_none() {
                spill.crc.update(full);
                if let Err(e) = spill.file.write_all(full) {
                    spill.error = Some(e);
                }
            }
            full.clear();
            return;
        }
        self.chunks.push(Vec::with_capacity(CHUNK));
    }

    /// True while every time logged came at or after the one before.
    pub fn is_monotone(&self) -> bool {
        self.monotone
    }

    /// Changes logged.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the log takes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The log's bytes, as a section of a partial file. Errors if spilling them failed.
    pub fn section(&self) -> std::io::Result<LogSection<'_>> {
        let mut crc = crc32fast::Hasher::new();
        let mut file = None;
        if let Some(spill) = &self.spill {
            if let Some(e) = &spill.error {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("spilling the level-change log: {e}"),
                ));
            }
            // A `File` writes through: nothing to flush.
            crc = spill.crc.clone();
            file = Some(&spill.file);
        }
        for c in &self.chunks {
            crc.update(c);
        }
        Ok(LogSection {
            file,
            chunks: &self.chunks,
            len: self.bytes,
            crc,
        })
    }

    /// Gives a log read back from a partial (its record counts and times) its bytes. Errors if
    /// they are not as many as the log had.
    pub fn attach(&mut self, bytes: Vec<u8>) -> Result<(), CorruptLog> {
        if bytes.len() as u64 != self.bytes || self.spill.is_some() {
            return Err(CorruptLog::At(bytes.len()));
        }
        self.chunks = vec![bytes];
        Ok(())
    }

    /// Gives a log read back from a partial its bytes as a section of `file` (checked by its
    /// checksum) at `offset`, `len` long: they are read as the log is. Errors if `len` is not
    /// as many as the log had.
    pub fn attach_file(
        &mut self,
        file: SectionFile,
        offset: u64,
        len: u64,
    ) -> Result<(), CorruptLog> {
        if len != self.bytes || self.spill.is_some() {
            return Err(CorruptLog::At(0));
        }
        self.chunks.clear();
        self.in_file = Some((file, offset));
        Ok(())
    }

    /// A reader of the records; errors if the bytes are not all held or in a file (a log
    /// spilled, or not given its bytes back).
    fn reader(&self) -> Result<LogReader<'_>, CorruptLog> {
        let file = match &self.in_file {
            Some((f, offset)) => Some(FileBytes {
                file: &f.file,
                path: &f.path,
                pos: *offset,
                left: self.bytes,
                buf: Vec::new(),
                block: FILE_BLOCK,
            }),
            None => {
                let held: u64 = self.chunks.iter().map(|c| c.len() as u64).sum();
                if self.spill.is_some() || held != self.bytes {
                    return Err(CorruptLog::At(held as usize));
                }
                None
            }
        };
        Ok(LogReader {
            chunks: &self.chunks,
            bytes: &[],
            file,
            before: 0,
            at: 0,
            t: 0,
        })
    }
}

/// Bytes a file-backed log reader reads at a time.
const FILE_BLOCK: usize = 1 << 20;

/// A log's bytes read from its file a block at a time: `buf` holds the unread rest of the
/// last block, then the next (a record may span two reads).
struct FileBytes<'a> {
    /// The partial's one handle, shared by its logs: each read seeks to its own position
    /// first (the merge reads on one thread).
    file: &'a std::fs::File,
    path: &'a std::path::Path,
    /// Where the section's next unread byte is in the file.
    pos: u64,
    /// Bytes of the section not read yet.
    left: u64,
    buf: Vec<u8>,
    block: usize,
}

impl FileBytes<'_> {
    /// Reads up to `n` more bytes of the section into `buf`.
    fn read_more(&mut self, n: u64) -> Result<(), CorruptLog> {
        let io = |e: std::io::Error| io_error(self.path, &e);
        let mut f = self.file;
        f.seek(std::io::SeekFrom::Start(self.pos)).map_err(io)?;
        let n = n.min(self.left);
        let got = f.take(n).read_to_end(&mut self.buf).map_err(io)? as u64;
        self.pos += got;
        self.left -= got;
        Ok(())
    }
}

/// A log's bytes, to be written into a partial: what was spilled to its file, then the chunks
/// held.
pub struct LogSection<'a> {
    file: Option<&'a std::fs::File>,
    chunks: &'a [Vec<u8>],
    len: u64,
    crc: crc32fast::Hasher,
}

impl crate::partial::Section for LogSection<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn crc(&self) -> crc32fast::Hasher {
        self.crc.clone()
    }

    fn write_to(&self, w: &mut dyn Write) -> std::io::Result<()> {
        if let Some(mut file) = self.file {
            file.rewind()?;
            let spilled = self.len - self.chunks.iter().map(|c| c.len() as u64).sum::<u64>();
            let copied = std::io::copy(&mut file.take(spilled), w)?;
            if copied != spilled {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the spilled level-change log is shorter than written",
                ));
            }
        }
        for c in self.chunks {
            w.write_all(c)?;
        }
        Ok(())
    }
}

/// Reads a log's records in order: chunk by chunk (no record is split between two).
struct LogReader<'a> {
    /// The chunks not started yet.
    chunks: &'a [Vec<u8>],
    /// The chunk being read, and the bytes of the chunks before it.
    bytes: &'a [u8],
    /// Or the file the bytes are read from (then `bytes` and `chunks` are empty).
    file: Option<FileBytes<'a>>,
    before: usize,
    at: usize,
    t: Micros,
}

impl LogReader<'_> {
    /// The position read to, in bytes from the log's start (for errors).
    fn offset(&self) -> usize {
        self.before + self.at
    }

    /// The next record: its time and its changes of (busy, usage).
    fn next(&mut self) -> Result<Option<(Micros, [i64; 2])>, CorruptLog> {
        if let Some(f) = &mut self.file {
            if f.buf.len() - self.at < MAX_RECORD {
                // Keep the unread rest and read the next block after it.
                f.buf.drain(..self.at);
                self.before += self.at;
                self.at = 0;
                // At least a whole record, if the section has one.
                let want = (f.buf.len() + f.block).max(MAX_RECORD) - f.buf.len();
                f.read_more(want as u64)?;
            }
            if self.at == f.buf.len() {
                if f.left > 0 {
                    // The file ended before the section did.
                    return Err(CorruptLog::At(self.before));
                }
                return Ok(None);
            }
            return decode(&f.buf, &mut self.at, self.before, &mut self.t).map(Some);
        }
        while self.at == self.bytes.len() {
            let Some((next, rest)) = self.chunks.split_first() else {
                return Ok(None);
            };
            self.before += self.bytes.len();
            (self.bytes, self.chunks, self.at) = (next, rest, 0);
        }
        decode(self.bytes, &mut self.at, self.before, &mut self.t).map(Some)
    }
}

/// Decodes the record at `bytes[*at..]` (`before`: the bytes before `bytes`, for errors) after
/// the time `t`, and moves both past it.
fn decode(
    bytes: &[u8],
    at: &mut usize,
    before: usize,
    t: &mut Micros,
) -> Result<(Micros, [i64; 2]), CorruptLog> {
    let corrupt = |at: usize| CorruptLog::At(before + at);
    let varint = |at: &mut usize| -> Result<u64, CorruptLog> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *bytes.get(*at).ok_or(corrupt(*at))?;
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt(*at))
    };
    let head = *bytes.get(*at).ok_or(corrupt(*at))?;
    *at += 1;
    let mut step = u64::from(head >> 4 & 7);
    if head & 0x80 != 0 {
        let rest = varint(at)?;
        if rest > u64::MAX >> 3 {
            return Err(corrupt(*at));
        }
        step |= rest << 3;
    }
    *t = t.checked_add(step).ok_or(corrupt(*at))?;
    let mut d = [0i64; 2];
    for (i, v) in d.iter_mut().enumerate() {
        *v = match (head >> (2 * i)) & 3 {
            0 => 0,
            1 => 1,
            2 => -1,
            _ => unzigzag(varint(at)?),
        };
    }
    Ok((*t, d))
}

/// A latency distribution in a form that serializes: the histogram's recorded buckets (each
/// bucket's highest equivalent value and count) plus the exact sum and max. Recording the
/// values back puts each count in the bucket it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LatencyState {
    buckets: Vec<(u64, u64)>,
    sum_us: u128,
    max_us: Micros,
}

impl From<&Latency> for LatencyState {
    fn from(l: &Latency) -> LatencyState {
        LatencyState {
            buckets: l
                .hist
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
            sum_us: l.sum_us,
            max_us: l.max_us,
        }
    }
}

impl LatencyState {
    /// Adds these buckets, sum and max into `l`: the same counts per bucket as recording the
    /// values there. Saturating, so a forged partial cannot overflow the merge.
    fn add_to(&self, l: &mut Latency) {
        for &(v, n) in &self.buckets {
            // `record_n` grows the histogram to the value; saturate only if that fails.
            if l.hist.record_n(v, n).is_err() {
                l.hist.saturating_record_n(v, n);
            }
        }
        l.sum_us = l.sum_us.saturating_add(self.sum_us);
        l.max_us = l.max_us.max(self.max_us);
    }
}

/// One minute's counts (the additive part of a [`Minute`]), in `MinuteKind` order: invocations,
/// cold starts, throttled, dead-lettered, timed out.
pub type MinuteCounts = [u64; 5];

/// What one shard's run keeps: its functions' numbers (by index in the whole trace) and its
/// part of the run-wide series, before the window is closed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShardOutcome {
    /// The functions of the whole trace.
    pub functions_in_trace: u32,
    /// This shard's functions, by index in the trace, ascending.
    pub functions: Vec<(u32, FunctionStats)>,
    /// Per-minute counts from minute 0 of the engine's clock (warm-up included).
    pub minutes: Vec<MinuteCounts>,
    /// Per-minute integrals of the shard's alive instances and provisioned level
    /// (instance-microseconds, `Minute::alive_us` and `provisioned_us`), to the window's end:
    /// they add up to the whole run's, which has no peak of either.
    pub integrals: Vec<[u128; 2]>,
    pub latency_warm: LatencyState,
    pub latency_cold: LatencyState,
    pub init: LatencyState,
    /// The level changes of the run, then those of closing the functions at the window's end
    /// (the whole run applies the latter last, after any later-timed change of the run).
    pub log: DeltaLog,
    pub finish_log: DeltaLog,
    /// The shard's rows at or after the horizon (not simulated).
    pub excluded_after_horizon: u64,
    /// The engine's clock: where measuring starts, and the window's end (the horizon).
    pub lo: Micros,
    pub window_end: Micros,
}

impl ShardOutcome {
    /// A simulate partial's state (see [`crate::partial`]): its payload decoded, and its two
    /// logs given their bytes, the partial's two sections.
    pub fn from_partial(
        path: &std::path::Path,
        payload: &[u8],
        sections: Vec<Vec<u8>>,
    ) -> Result<ShardOutcome, crate::partial::PartialError> {
        let mut state: ShardOutcome = crate::partial::decode(path, payload)?;
        let corrupt = |why: String| crate::partial::PartialError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let [log, finish_log]: [Vec<u8>; 2] = sections
            .try_into()
            .map_err(|s: Vec<_>| corrupt(format!("it has {} sections, not 2", s.len())))?;
        state
            .log
            .attach(log)
            .and_then(|()| state.finish_log.attach(finish_log))
            .map_err(|_| corrupt("a level-change log's length is not its section's".into()))?;
        Ok(state)
    }

    /// [`ShardOutcome::from_partial`] for a partial indexed, not read (`partial::index`): the
    /// logs read their sections from `file` (the handle the index checked) as the merge goes,
    /// holding none of them.
    pub fn from_partial_file(
        file: &SectionFile,
        payload: &[u8],
        sections: &[(u64, u64)],
    ) -> Result<ShardOutcome, crate::partial::PartialError> {
        let path = file.path.as_path();
        let mut state: ShardOutcome = crate::partial::decode(path, payload)?;
        let corrupt = |why: String| crate::partial::PartialError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let &[(log_at, log_len), (finish_at, finish_len)] = sections else {
            return Err(corrupt(format!(
                "it has {} sections, not 2",
                sections.len()
            )));
        };
        state
            .log
            .attach_file(file.clone(), log_at, log_len)
            .and_then(|()| {
                state
                    .finish_log
                    .attach_file(file.clone(), finish_at, finish_len)
            })
            .map_err(|_| corrupt("a level-change log's length is not its section's".into()))?;
        Ok(state)
    }

    /// Takes a shard collector's parts (after its last `end_epoch`): `run_log` is the log of
    /// the run's epochs, the collector's own the log since. The collector's levels are
    /// integrated to `window_end`, as the whole run's are when it finishes.
    pub(crate) fn take_collector(
        &mut self,
        col: &mut Collector,
        run_log: DeltaLog,
        window_end: Micros,
    ) {
        col.clip = col.clip.min(window_end);
        col.integrate_to(window_end);
        self.integrals = col
            .minutes
            .iter()
            .map(|m| [m.alive_us, m.provisioned_us])
            .collect();
        self.minutes = col
            .minutes
            .iter()
            .map(|m| {
                [
                    m.invocations,
                    m.cold_starts,
                    m.throttled,
                    m.dead_lettered,
                    m.timed_out,
                ]
            })
            .collect();
        self.latency_warm = LatencyState::from(&col.latency_warm);
        self.latency_cold = LatencyState::from(&col.latency_cold);
        self.init = LatencyState::from(&col.init);
        self.log = run_log;
        self.finish_log = col.log.take().unwrap_or_default();
    }
}

impl Collector {
    /// The collector of the whole run, from its shards: counts and histograms added, and every
    /// shard's level changes applied in time order (changes at one time summed, as the whole
    /// run sums them before taking a peak). Ready for [`Collector::finish`].
    pub fn from_shards(
        lo: Micros,
        clip: Option<Micros>,
        parts: &[&ShardOutcome],
    ) -> Result<Collector, CorruptLog> {
        let mut col = Collector::new(lo, clip);
        // `finish` keeps the minutes before the window's end (the clip, or the warm-up's end if
        // later) only: a forged partial's longer series take no memory.
        let cap = clip.map_or(usize::MAX, |c| c.max(lo).div_ceil(MINUTE) as usize);
        for p in parts {
            let (minutes, integrals) = (
                &p.minutes[..p.minutes.len().min(cap)],
                &p.integrals[..p.integrals.len().min(cap)],
            );
            if col.minutes.len() < minutes.len() {
                col.minutes.resize(minutes.len(), Minute::default());
            }
            // Saturating: a forged partial may hold any numbers (a real one never comes near).
            for (m, c) in col.minutes.iter_mut().zip(minutes) {
                m.invocations = m.invocations.saturating_add(c[0]);
                m.cold_starts = m.cold_starts.saturating_add(c[1]);
                m.throttled = m.throttled.saturating_add(c[2]);
                m.dead_lettered = m.dead_lettered.saturating_add(c[3]);
                m.timed_out = m.timed_out.saturating_add(c[4]);
            }
            if col.minutes.len() < integrals.len() {
                col.minutes.resize(integrals.len(), Minute::default());
            }
            for (m, [alive, provisioned]) in col.minutes.iter_mut().zip(integrals) {
                m.alive_us = m.alive_us.saturating_add(*alive);
                m.provisioned_us = m.provisioned_us.saturating_add(*provisioned);
            }
            p.latency_warm.add_to(&mut col.latency_warm);
            p.latency_cold.add_to(&mut col.latency_cold);
            p.init.add_to(&mut col.init);
        }
        // The whole run applies its epochs' changes in time order, then, last, what closing the
        // functions changed. A function closed before its time there only when the whole run's
        // last epoch ended before that time (a shard's ends earlier): those changes (before the
        // clip) come after every change of the whole run's epochs, so they merge by time. The
        // changes at the clip (lives cut at the window's end) come after every epoch's
        // change, which may be later (requests still running past a horizon).
        let clip = col.clip;
        let before: Vec<Stream> = parts
            .iter()
            .map(|p| {
                Ok(Stream {
                    logs: vec![p.log.reader()?, p.finish_log.reader()?],
                    keep: |t, clip| t < clip,
                    clip,
                })
            })
            .collect::<Result<_, CorruptLog>>()?;
        col.apply_streams(before)?;
        let at_clip: Vec<Stream> = parts
            .iter()
            .map(|p| {
                Ok(Stream {
                    logs: vec![p.finish_log.reader()?],
                    keep: |t, clip| t >= clip,
                    clip,
                })
            })
            .collect::<Result<_, CorruptLog>>()?;
        col.apply_streams(at_clip)?;
        Ok(col)
    }

    /// Applies the streams in time order (a k-way merge: shards are few, so a linear scan of
    /// the heads), the changes at one time summed. Each stream must be in time order.
    fn apply_streams(&mut self, mut streams: Vec<Stream<'_>>) -> Result<(), CorruptLog> {
        let mut heads = streams
            .iter_mut()
            .map(Stream::next)
            .collect::<Result<Vec<_>, _>>()?;
        while let Some(t) = heads.iter().flatten().map(|h| h.0).min() {
            let mut sum = [0i64; 2];
            for (head, stream) in heads.iter_mut().zip(streams.iter_mut()) {
                if let Some((ht, d)) = *head
                    && ht == t
                {
                    for (s, v) in sum.iter_mut().zip(d) {
                        *s = s.checked_add(v).ok_or(CorruptLog::At(stream.at()))?;
                    }
                    *head = stream.next()?;
                    if head.is_some_and(|(next, _)| next <= t) {
                        return Err(CorruptLog::At(stream.at()));
                    }
                }
            }
            // Alive and provisioned come from the shards' integrals.
            self.apply(t, [sum[0], 0, sum[1], 0]);
        }
        Ok(())
    }
}

/// One shard's changes, as the merge reads them: some of its logs in turn, each entry kept if
/// its time passes a filter.
struct Stream<'a> {
    logs: Vec<LogReader<'a>>,
    keep: fn(Micros, Micros) -> bool,
    clip: Micros,
}

impl Stream<'_> {
    fn next(&mut self) -> Result<Option<(Micros, [i64; 2])>, CorruptLog> {
        while let Some(r) = self.logs.first_mut() {
            match r.next()? {
                Some((t, d)) if (self.keep)(t, self.clip) => return Ok(Some((t, d))),
                Some(_) => {}
                None => {
                    self.logs.remove(0);
                }
            }
        }
        Ok(None)
    }

    fn at(&self) -> usize {
        self.logs.first().map_or(0, LogReader::offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of a log: its time and (busy, usage) changes.
    fn records(log: &DeltaLog) -> Vec<(Micros, [i64; 2])> {
        let mut r = log.reader().unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next().unwrap() {
            out.push(rec);
        }
        out
    }

    /// The bytes a log's section writes.
    fn section_bytes(log: &DeltaLog) -> Vec<u8> {
        use crate::partial::Section;
        let s = log.section().unwrap();
        let mut out = Vec::new();
        s.write_to(&mut out).unwrap();
        assert_eq!(out.len() as u64, s.len());
        assert_eq!(s.crc().finalize(), crc32fast::hash(&out));
        out
    }

    #[test]
    fn a_log_reads_back_the_busy_and_usage_changes_pushed() {
        let mut log = DeltaLog::default();
        let items = [
            (0, [1, 1, 1, 0]),
            (5, [-1, 0, 0, 3]),
            // Neither busy nor usage moves: not logged.
            (6, [0, -1, 0, -2]),
            (6, [i64::MIN / 2, i64::MAX / 2, 1, -1]),
            (7, [0, 0, 2, 0]),
            (15, [1, 0, 0, 0]),
            (16, [1, 0, 0, 0]),
            (5_000_000_000, [i32::MAX as i64, 0, -(i32::MAX as i64), -7]),
            (u64::MAX, [0, 0, -1, 0]),
        ];
        for (t, d) in items {
            log.push(t, d, Micros::MAX);
        }
        let want: Vec<(Micros, [i64; 2])> = items
            .iter()
            .filter(|(_, d)| d[0] != 0 || d[2] != 0)
            .map(|&(t, d)| (t, [d[0], d[2]]))
            .collect();
        assert_eq!(records(&log), want);
        assert_eq!(log.len(), want.len() as u64);
        assert!(log.is_monotone());
        // A request's start or end within 8 µs of the last change takes one byte; a few
        // hundred microseconds, two.
        let mut small = DeltaLog::default();
        small.push(7, [1, 0, 1, 0], Micros::MAX);
        assert_eq!(small.bytes(), 1);
        small.push(400, [-1, 0, -1, 0], Micros::MAX);
        assert_eq!(small.bytes(), 3);
    }

    #[test]
    fn a_change_applied_late_clears_monotone_unless_it_is_idle_and_past_the_clip() {
        let late = |d: [i64; 4], t: Micros| {
            let mut log = DeltaLog::default();
            log.push(100, [1, 1, 1, 0], 50);
            log.push(t, d, 50);
            log.is_monotone()
        };
        assert!(
            late([0, -1, 0, 0], 60),
            "an idle instance reclaimed past the clip"
        );
        assert!(
            !late([0, -1, 0, 0], 40),
            "an idle instance reclaimed before the clip"
        );
        assert!(!late([-1, 0, -1, 0], 60), "a request's end");
        assert!(late([-1, 0, -1, 0], 100), "at the same time");
    }

    /// A log of several chunks reads back in order; spilled to a file it writes the same
    /// bytes as held; its metadata round-trips, and given its bytes back it reads the same.
    #[test]
    fn a_log_held_or_spilled_writes_the_same_bytes_and_reads_back() {
        let mut held = DeltaLog::default();
        let dir = tempfile::tempdir().unwrap();
        let file = tempfile::tempfile_in(dir.path()).unwrap();
        let mut spilled = DeltaLog::spill_to(file);
        let mut want = Vec::new();
        for i in 0..2_000_000u64 {
            let d = [
                (i % 3) as i64 - 1,
                1,
                if i % 1000 == 0 { 1 << 40 } else { -1 },
                0,
            ];
            let t = i * 300 + i % 7;
            held.push(t, d, Micros::MAX);
            spilled.push(t, d, Micros::MAX);
            want.push((t, [d[0], d[2]]));
        }
        assert!(held.chunks.len() >= 3, "{} chunks", held.chunks.len());
        assert_eq!(spilled.chunks.len(), 1, "a spilled log holds one chunk");
        assert_eq!(records(&held), want);
        assert!(
            spilled.reader().is_err(),
            "a spilled log is not read in place"
        );
        let bytes = section_bytes(&held);
        assert_eq!(section_bytes(&spilled), bytes);
        assert_eq!(bytes.len() as u64, held.bytes());
        let meta = postcard::to_stdvec(&held).unwrap();
        assert!(meta.len() < 64, "the bytes are not serialized with the log");
        assert_eq!(meta, postcard::to_stdvec(&spilled).unwrap());
        let mut back: DeltaLog = postcard::from_bytes(&meta).unwrap();
        assert!(back.reader().is_err(), "no bytes yet");
        assert!(back.attach(bytes[1..].to_vec()).is_err(), "a byte short");
        back.attach(bytes).unwrap();
        assert_eq!(back, held);
        assert_eq!(records(&back), want);
    }

    /// A log read from a file (a partial's section, after other bytes) reads the records it
    /// holds, whatever the block it is read by (records span blocks); a file that ends early
    /// is an error.
    #[test]
    fn a_log_read_from_its_file_reads_back_by_any_block() {
        let mut log = DeltaLog::default();
        let mut want = Vec::new();
        for i in 0..3_000u64 {
            let d = [
                if i % 2 == 0 { 1 } else { -1 },
                0,
                (i % 5) as i64 * 1000 - 2000,
                0,
            ];
            let t = i * i * 37;
            log.push(t, d, Micros::MAX);
            want.push((t, [d[0], d[2]]));
        }
        let bytes = section_bytes(&log);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.fpp");
        let mut file = b"other bytes first".to_vec();
        file.extend_from_slice(&bytes);
        file.extend_from_slice(b"and after");
        std::fs::write(&path, &file).unwrap();
        let meta = postcard::to_stdvec(&log).unwrap();
        let mut back: DeltaLog = postcard::from_bytes(&meta).unwrap();
        let handle = SectionFile {
            file: std::sync::Arc::new(std::fs::File::open(&path).unwrap()),
            path: path.clone(),
        };
        assert!(
            back.attach_file(handle.clone(), 17, bytes.len() as u64 - 1)
                .is_err()
        );
        back.attach_file(handle, 17, bytes.len() as u64).unwrap();
        for block in [1, 2, 7, 31, 32, 33, 1000, FILE_BLOCK] {
            let mut r = back.reader().unwrap();
            r.file.as_mut().unwrap().block = block;
            let mut got = Vec::new();
            while let Some(rec) = r.next().unwrap() {
                got.push(rec);
            }
            assert_eq!(got, want, "block {block}");
        }
        // A new file at the path (a shard run again) is not read: the handle is the old one's.
        let read_all = |log: &DeltaLog| {
            let mut r = log.reader().unwrap();
            let mut got = Vec::new();
            while let Some(rec) = r.next().unwrap() {
                got.push(rec);
            }
            got
        };
        let other = path.with_extension("new");
        std::fs::write(&other, b"something else entirely").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(read_all(&back), want);
        // The file cut inside the section (in place, through its own inode).
        std::fs::write(&path, &file[..17 + bytes.len() / 2]).unwrap();
        let mut back: DeltaLog = postcard::from_bytes(&meta).unwrap();
        let cut = SectionFile {
            file: std::sync::Arc::new(std::fs::File::open(&path).unwrap()),
            path: path.clone(),
        };
        back.attach_file(cut, 17, bytes.len() as u64).unwrap();
        let mut r = back.reader().unwrap();
        let end = loop {
            match r.next() {
                Ok(Some(_)) => {}
                other => break other,
            }
        };
        assert!(end.is_err(), "{end:?}");
    }

    #[test]
    fn a_truncated_log_is_an_error_not_a_panic() {
        let mut log = DeltaLog::default();
        log.push(300, [1, 2, 3, 4], Micros::MAX);
        let mut bytes = section_bytes(&log);
        bytes.pop();
        let mut cut = DeltaLog {
            bytes: bytes.len() as u64,
            ..log.clone()
        };
        cut.attach(bytes).unwrap();
        assert!(cut.reader().unwrap().next().is_err());
    }

    #[test]
    fn a_latency_survives_its_state() {
        let mut l = Latency::default();
        for v in [1, 17, 999, 1_001, 123_456_789, 5, 5, 5] {
            l.record(v);
        }
        let mut back = Latency::default();
        LatencyState::from(&l).add_to(&mut back);
        assert_eq!(back.count(), l.count());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(back.quantile_us(q), l.quantile_us(q), "q {q}");
        }
        assert_eq!((back.sum_us, back.max_us), (l.sum_us, l.max_us));
        // Forged states (counts and sums at their bounds) add without a panic.
        let forged = LatencyState {
            buckets: vec![(u64::MAX, u64::MAX), (5, u64::MAX)],
            sum_us: u128::MAX,
            max_us: u64::MAX,
        };
        let mut l = Latency::default();
        forged.add_to(&mut l);
        forged.add_to(&mut l);
        assert_eq!(l.sum_us, u128::MAX);
    }

    #[test]
    fn forged_logs_are_errors_or_saturate_never_a_panic() {
        let mut log = DeltaLog::default();
        log.push(
            60_000_000,
            [i64::MAX, i64::MIN, i64::MAX, i64::MIN],
            Micros::MAX,
        );
        let part = ShardOutcome {
            log,
            minutes: vec![[u64::MAX; 5]],
            integrals: vec![[u128::MAX; 2]; 3],
            ..ShardOutcome::default()
        };
        // Two shards' changes at one time overflow the sum: refused as corrupt.
        assert!(Collector::from_shards(0, Some(3_600_000_000), &[&part, &part]).is_err());
        // One alone saturates the levels and the counts.
        let mut col = Collector::from_shards(0, Some(3_600_000_000), &[&part]).unwrap();
        col.finish(3_600_000_000);
    }
}
