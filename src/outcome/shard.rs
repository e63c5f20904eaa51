//! What a shard's run keeps so that the shards merge into exactly the whole run's [`Outcome`]:
//! every part of an outcome is either additive (counts, integrals, billing sums, histogram
//! buckets) or, for the run-wide peaks of levels summed over functions, rebuilt by applying every
//! shard's level changes in time order (the [`DeltaLog`]s), as the whole run's collector does.
//!
//! [`Outcome`]: super::Outcome

use super::{Collector, FunctionStats, Latency, Minute};
use crate::time::Micros;

/// Every level change a collector applied, in time order: per time, the summed changes of
/// (busy, alive, account usage, provisioned level). Stored compactly, per time: one byte of
/// 2-bit codes (0: no change, 1: +1, 2: −1, 3: a zigzag varint follows), then the time as a
/// varint step from the previous one, then the varints (about 3 bytes per time).
///
/// Held in chunks of [`CHUNK`] bytes, no record split between two, so that a log of hundreds
/// of megabytes grows without copying itself (issue 16: doubling one vector cost a shard of the
/// 46,000-function day seconds of page faults). It serializes as one byte sequence, so the
/// chunking is not part of the partial's format.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(from = "LogData")]
pub struct DeltaLog {
    chunks: Vec<Vec<u8>>,
    last_t: Micros,
    len: u64,
    /// False once a time came before the one logged last: such a log cannot be merged by time
    /// (the run applied that change late, which only its own order reproduces).
    monotone: bool,
}

/// Bytes per chunk of a [`DeltaLog`].
const CHUNK: usize = 1 << 20;
/// The longest record: the codes, the time step and four values, each varint at most 10 bytes.
const MAX_RECORD: usize = 1 + 10 + 4 * 10;

/// A [`DeltaLog`] as it is serialized.
#[derive(serde::Serialize, serde::Deserialize)]
struct LogData {
    bytes: Vec<u8>,
    last_t: Micros,
    len: u64,
    monotone: bool,
}

impl From<LogData> for DeltaLog {
    fn from(d: LogData) -> DeltaLog {
        DeltaLog {
            chunks: vec![d.bytes],
            last_t: d.last_t,
            len: d.len,
            monotone: d.monotone,
        }
    }
}

/// The log's bytes, serialized as one sequence (what a `Vec<u8>` serializes as).
struct Bytes<'a>(&'a [Vec<u8>]);

impl serde::Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.iter().map(Vec::len).sum()))?;
        for b in self.0.iter().flatten() {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
}

impl serde::Serialize for DeltaLog {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // The fields of `LogData`, in its order.
        let mut st = s.serialize_struct("LogData", 4)?;
        st.serialize_field("bytes", &Bytes(&self.chunks))?;
        st.serialize_field("last_t", &self.last_t)?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("monotone", &self.monotone)?;
        st.end()
    }
}

impl PartialEq for DeltaLog {
    fn eq(&self, other: &DeltaLog) -> bool {
        (self.last_t, self.len, self.monotone) == (other.last_t, other.len, other.monotone)
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
            last_t: 0,
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

/// Why a log could not be read (a corrupt partial that passed its checksum: a bug or a forgery).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the level-change log is corrupt at byte {0}")]
pub struct CorruptLog(pub usize);

impl DeltaLog {
    /// Logs the changes `d` at `t`. A change past the window's end `clip` that moves neither
    /// the busy level nor the account usage (an idle instance reclaimed, its time clipped to the
    /// window's end, after a later in-flight completion was applied) is logged at the last time
    /// instead: past the clip it changes no integral, no peak and no count, wherever it falls.
    pub(super) fn push(&mut self, t: Micros, d: [i64; 4], clip: Micros) {
        let mut t = t;
        if t < self.last_t {
            if t >= clip && d[0] == 0 && d[2] == 0 {
                t = self.last_t;
            } else {
                self.monotone = false;
            }
        }
        let code = |v: i64| match v {
            0 => 0u8,
            1 => 1,
            -1 => 2,
            _ => 3,
        };
        let codes = d
            .iter()
            .enumerate()
            .fold(0u8, |acc, (i, &v)| acc | code(v) << (2 * i));
        if self
            .chunks
            .last()
            .is_none_or(|c| c.len() + MAX_RECORD > c.capacity())
        {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let out = self.chunks.last_mut().expect("a chunk was just made");
        out.push(codes);
        put_varint(out, t.saturating_sub(self.last_t));
        for v in d {
            if code(v) == 3 {
                put_varint(out, zigzag(v));
            }
        }
        self.last_t = t;
        self.len += 1;
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
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    fn reader(&self) -> LogReader<'_> {
        LogReader {
            chunks: &self.chunks,
            bytes: &[],
            before: 0,
            at: 0,
            t: 0,
        }
    }
}

/// Reads a log's records in order: chunk by chunk (no record is split between two).
struct LogReader<'a> {
    /// The chunks not started yet.
    chunks: &'a [Vec<u8>],
    /// The chunk being read, and the bytes of the chunks before it.
    bytes: &'a [u8],
    before: usize,
    at: usize,
    t: Micros,
}

impl LogReader<'_> {
    /// The position read to, in bytes from the log's start (for errors).
    fn offset(&self) -> usize {
        self.before + self.at
    }

    fn varint(&mut self) -> Result<u64, CorruptLog> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at).ok_or(CorruptLog(self.offset()))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(CorruptLog(self.offset()))
    }

    fn next(&mut self) -> Result<Option<(Micros, [i64; 4])>, CorruptLog> {
        while self.at == self.bytes.len() {
            let Some((next, rest)) = self.chunks.split_first() else {
                return Ok(None);
            };
            self.before += self.bytes.len();
            (self.bytes, self.chunks, self.at) = (next, rest, 0);
        }
        let codes = self.bytes[self.at];
        self.at += 1;
        let step = self.varint()?;
        self.t = self.t.checked_add(step).ok_or(CorruptLog(self.offset()))?;
        let mut d = [0i64; 4];
        for (i, v) in d.iter_mut().enumerate() {
            *v = match (codes >> (2 * i)) & 3 {
                0 => 0,
                1 => 1,
                2 => -1,
                _ => unzigzag(self.varint()?),
            };
        }
        Ok(Some((self.t, d)))
    }
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
    /// Takes a shard collector's parts (after its last `end_epoch`): `run_log` is the log of
    /// the run's epochs, the collector's own the log since.
    pub(crate) fn take_collector(&mut self, col: &mut Collector, run_log: DeltaLog) {
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
        for p in parts {
            if col.minutes.len() < p.minutes.len() {
                col.minutes.resize(p.minutes.len(), Minute::default());
            }
            // Saturating: a forged partial may hold any numbers (a real one never comes near).
            for (m, c) in col.minutes.iter_mut().zip(&p.minutes) {
                m.invocations = m.invocations.saturating_add(c[0]);
                m.cold_starts = m.cold_starts.saturating_add(c[1]);
                m.throttled = m.throttled.saturating_add(c[2]);
                m.dead_lettered = m.dead_lettered.saturating_add(c[3]);
                m.timed_out = m.timed_out.saturating_add(c[4]);
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
            .map(|p| Stream {
                logs: vec![p.log.reader(), p.finish_log.reader()],
                keep: |t, clip| t < clip,
                clip,
            })
            .collect();
        col.apply_streams(before)?;
        let at_clip: Vec<Stream> = parts
            .iter()
            .map(|p| Stream {
                logs: vec![p.finish_log.reader()],
                keep: |t, clip| t >= clip,
                clip,
            })
            .collect();
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
            let mut sum = [0i64; 4];
            for (head, stream) in heads.iter_mut().zip(streams.iter_mut()) {
                if let Some((ht, d)) = *head
                    && ht == t
                {
                    for (s, v) in sum.iter_mut().zip(d) {
                        *s = s.checked_add(v).ok_or(CorruptLog(stream.at()))?;
                    }
                    *head = stream.next()?;
                    if head.is_some_and(|(next, _)| next <= t) {
                        return Err(CorruptLog(stream.at()));
                    }
                }
            }
            self.apply(t, sum);
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
    fn next(&mut self) -> Result<Option<(Micros, [i64; 4])>, CorruptLog> {
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

    #[test]
    fn a_log_reads_back_what_was_pushed() {
        let mut log = DeltaLog::default();
        let items = [
            (0, [1, 1, 1, 0]),
            (5, [-1, 0, 0, 3]),
            (6, [0, -1, 2, -2]),
            (6, [i64::MIN / 2, i64::MAX / 2, 1, -1]),
            (5_000_000_000, [i32::MAX as i64, -(i32::MAX as i64), 0, -7]),
            (u64::MAX, [0, 0, 0, 0]),
        ];
        for (t, d) in items {
            log.push(t, d, Micros::MAX);
        }
        let mut r = log.reader();
        for want in items {
            assert_eq!(r.next(), Ok(Some(want)));
        }
        assert_eq!(r.next(), Ok(None));
        assert_eq!(log.len(), items.len() as u64);
    }

    /// A log of several chunks reads back in order, and serializes as the one byte sequence
    /// it always was (the partial's format does not see the chunks).
    #[test]
    fn a_log_of_several_chunks_reads_back_and_serializes_as_one_sequence() {
        let mut log = DeltaLog::default();
        let mut want = Vec::new();
        for i in 0..1_500_000u64 {
            let d = [
                (i % 3) as i64 - 1,
                1,
                -1,
                if i % 1000 == 0 { 1 << 40 } else { 0 },
            ];
            log.push(i * 7, d, Micros::MAX);
            want.push((i * 7, d));
        }
        assert!(log.chunks.len() >= 3, "{} chunks", log.chunks.len());
        let mut r = log.reader();
        for w in &want {
            assert_eq!(r.next(), Ok(Some(*w)));
        }
        assert_eq!(r.next(), Ok(None));
        let flat = LogData {
            bytes: log.chunks.concat(),
            last_t: log.last_t,
            len: log.len,
            monotone: log.monotone,
        };
        let bytes = postcard::to_stdvec(&log).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&flat).unwrap());
        let back: DeltaLog = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, log);
        assert_eq!(back.chunks.len(), 1);
    }

    #[test]
    fn a_truncated_log_is_an_error_not_a_panic() {
        let mut log = DeltaLog::default();
        log.push(300, [1, 2, 3, 4], Micros::MAX);
        log.chunks[0].pop();
        let mut r = log.reader();
        assert!(r.next().is_err());
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
            ..ShardOutcome::default()
        };
        // Two shards' changes at one time overflow the sum: refused as corrupt.
        assert!(Collector::from_shards(0, Some(3_600_000_000), &[&part, &part]).is_err());
        // One alone saturates the levels and the counts.
        let mut col = Collector::from_shards(0, Some(3_600_000_000), &[&part]).unwrap();
        col.finish(3_600_000_000);
    }
}
