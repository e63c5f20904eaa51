//! A function's events: the three phases an instant is processed in, and the two queues of
//! scheduled events (timers; acquisitions), each a min-heap on `(time, sequence)` so that events
//! at equal times come out in the order they were scheduled (FIFO), whatever their kind.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use crate::time::Micros;
use crate::trace::Trigger;

/// The classes of events at one instant, in processing order. Across functions the coupled
/// driver orders events by `(time, phase, function index)`, so the derived `Ord` (declaration
/// order) is part of the model: releases before acquisitions, the function's own acquisitions
/// before the trace's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Phase {
    /// Completions, inits done and provisioned-plan steps: they release capacity or leave it
    /// unchanged.
    Timer,
    /// Async retries, queue wake-ups and provisioned raises: the function's own, scheduled
    /// attempts to take capacity.
    Acquisition,
    /// Trace arrivals, in row order.
    Arrival,
}

/// A phase-[`Phase::Timer`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// A request on this instance finishes.
    Completion(u32),
    /// This instance's init finishes.
    InitDone(u32),
    /// This CPU-sharing instance's next CPU event (a request's CPU work done, or a timeout);
    /// stale unless its time is the instance's current one (see `share`).
    CpuDue(u32),
    /// The provisioned plan's next step (schedule boundary or target-tracking evaluation).
    ProvisionTick,
}

/// A phase-[`Phase::Acquisition`] event. The three kinds share one queue because their order at
/// equal times is the order they were scheduled in, whatever their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquisition {
    /// An async request tries again after its backoff.
    AsyncRetry(Request),
    /// The queue head tries again (a scaling-rate token is due, or the account has room).
    QueueWake,
    /// Raise the provisioned level to this.
    ProvisionUp(u32),
}

/// A request that is not (yet) served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request {
    pub arrival: Micros,
    pub duration: Micros,
    pub memory_mb: u16,
    pub trigger: Trigger,
    /// Retries so far (async).
    pub attempt: u16,
    /// With CPU sharing (see `share`): the CPU work, vCPU-µs, and the rest of `duration`, µs.
    pub work: Micros,
    pub rest: Micros,
}

/// The scheduling order of one function's events: every queue of the function draws from it,
/// so sequence numbers are unique and increase with scheduling time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sequence(u64);

impl Sequence {
    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry<K> {
    time: Micros,
    seq: u64,
    kind: K,
}

// Ordered by (time, seq) only: sequence numbers are unique, so the kind never decides.
impl<K> PartialEq for Entry<K> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl<K> Eq for Entry<K> {}

impl<K> PartialOrd for Entry<K> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Entry<K> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.time.cmp(&other.time).then(self.seq.cmp(&other.seq))
    }
}

/// Events of kind `K`, earliest first; equal times in scheduling order.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue<K> {
    heap: BinaryHeap<Reverse<Entry<K>>>,
}

impl<K> Default for EventQueue<K> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Copy> EventQueue<K> {
    /// Schedules `kind` at `time`, after everything `seq` numbered before.
    #[inline]
    pub fn push(&mut self, seq: &mut Sequence, time: Micros, kind: K) {
        self.heap.push(Reverse(Entry {
            time,
            seq: seq.next(),
            kind,
        }));
    }

    /// The next event: its time and kind.
    #[inline]
    pub fn peek(&self) -> Option<(Micros, K)> {
        self.heap.peek().map(|Reverse(e)| (e.time, e.kind))
    }

    /// The time of the next event.
    #[cfg(test)]
    pub fn peek_time(&self) -> Option<Micros> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(Micros, K)> {
        self.heap.pop().map(|Reverse(e)| (e.time, e.kind))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Every pending kind, in no particular order.
    pub fn kinds(&self) -> impl Iterator<Item = K> + '_ {
        self.heap.iter().map(|Reverse(e)| e.kind)
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Gives back the space the queue does not use (issue 14, D10).
    pub fn shrink_to_fit(&mut self) {
        self.heap.shrink_to_fit();
    }

    /// Heap bytes held (capacity, not length).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Reverse<Entry<K>>>()
    }
}

/// Lanes a [`LaneQueue`] keeps before it puts events in its heap.
const LANES: usize = 16;

/// Events of kind `K`, earliest first, equal times in scheduling order: the order of an
/// [`EventQueue`], for events that are mostly scheduled at one of a few fixed delays after the
/// current time (async retries: a backoff of 1 s, 2 s, ... up to its cap). Issue 16: a function
/// whose async requests wait at the account limit held hundreds of thousands of retries in one
/// binary heap, and each pop walked its height through memory; that was most of a many-function
/// coupled run.
///
/// Each lane is a FIFO sorted by (time, sequence): an event goes to the back of the lane whose
/// last event is the latest not after it (so a lane holds the events of one delay, which are
/// scheduled in time order), to a new lane while there are fewer than [`LANES`], and else to a
/// heap. The next event is the least of the lanes' fronts and the heap's top; sequence numbers
/// are unique, so this is exactly the order of one heap.
#[derive(Debug, Clone)]
pub(crate) struct LaneQueue<K> {
    lanes: Vec<VecDeque<Entry<K>>>,
    rest: BinaryHeap<Reverse<Entry<K>>>,
    /// Events held, in lanes and heap.
    len: usize,
}

impl<K> Default for LaneQueue<K> {
    fn default() -> Self {
        LaneQueue {
            lanes: Vec::new(),
            rest: BinaryHeap::new(),
            len: 0,
        }
    }
}

/// Where the next event of a [`LaneQueue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Front {
    Lane(usize),
    Rest,
}

impl<K: Copy> LaneQueue<K> {
    /// Schedules `kind` at `time`, after everything `seq` numbered before.
    #[inline]
    pub fn push(&mut self, seq: &mut Sequence, time: Micros, kind: K) {
        let e = Entry {
            time,
            seq: seq.next(),
            kind,
        };
        self.len += 1;
        // The lane whose last event is the latest at or before `time`; an empty lane fits any.
        let mut best: Option<(usize, Option<Micros>)> = None;
        for (i, lane) in self.lanes.iter().enumerate() {
            let last = lane.back().map(|b| b.time);
            if last.is_some_and(|l| l > time) {
                continue;
            }
            if best.is_none_or(|(_, b)| last > b) {
                best = Some((i, last));
            }
        }
        match best {
            Some((i, _)) => self.lanes[i].push_back(e),
            None if self.lanes.len() < LANES => self.lanes.push(VecDeque::from([e])),
            None => self.rest.push(Reverse(e)),
        }
    }

    /// Where the next event is.
    #[inline]
    fn front(&self) -> Option<(Front, &Entry<K>)> {
        if self.len == 0 {
            return None;
        }
        let mut best = self.rest.peek().map(|Reverse(e)| (Front::Rest, e));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(e) = lane.front()
                && best.is_none_or(|(_, b)| e < b)
            {
                best = Some((Front::Lane(i), e));
            }
        }
        best
    }

    /// The time of the next event.
    #[inline]
    pub fn peek_time(&self) -> Option<Micros> {
        self.front().map(|(_, e)| e.time)
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(Micros, K)> {
        let e = match self.front()?.0 {
            Front::Lane(i) => self.lanes[i].pop_front(),
            Front::Rest => self.rest.pop().map(|Reverse(e)| e),
        }?;
        self.len -= 1;
        Some((e.time, e.kind))
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives back the space the queue does not use (issue 14, D10): empty lanes go.
    pub fn shrink_to_fit(&mut self) {
        self.lanes.retain(|l| !l.is_empty());
        for lane in &mut self.lanes {
            lane.shrink_to_fit();
        }
        self.lanes.shrink_to_fit();
        self.rest.shrink_to_fit();
    }

    /// Heap bytes held (capacity, not length).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<Entry<K>>();
        self.lanes.capacity() * std::mem::size_of::<VecDeque<Entry<K>>>()
            + self
                .lanes
                .iter()
                .map(|l| l.capacity() * entry)
                .sum::<usize>()
            + self.rest.capacity() * std::mem::size_of::<Reverse<Entry<K>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<K: Copy>(q: &mut EventQueue<K>) -> Vec<(Micros, K)> {
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn earlier_times_first() {
        let (mut seq, mut q) = (Sequence::default(), EventQueue::default());
        for t in [30, 10, 20] {
            q.push(&mut seq, t, t as u32);
        }
        assert_eq!(q.peek(), Some((10, 10)));
        assert_eq!(drain(&mut q), vec![(10, 10), (20, 20), (30, 30)]);
        assert!(q.is_empty());
    }

    #[test]
    fn equal_times_come_out_in_scheduling_order_whatever_the_kind() {
        let (mut seq, mut q) = (Sequence::default(), EventQueue::default());
        // Kinds chosen so that ordering by kind would give the opposite order.
        q.push(&mut seq, 5, Timer::ProvisionTick);
        q.push(&mut seq, 5, Timer::InitDone(9));
        q.push(&mut seq, 5, Timer::Completion(1));
        q.push(&mut seq, 4, Timer::Completion(7));
        assert_eq!(
            drain(&mut q),
            vec![
                (4, Timer::Completion(7)),
                (5, Timer::ProvisionTick),
                (5, Timer::InitDone(9)),
                (5, Timer::Completion(1)),
            ]
        );
    }

    #[test]
    fn fifo_holds_when_events_are_pushed_between_pops() {
        let (mut seq, mut q) = (Sequence::default(), EventQueue::default());
        q.push(&mut seq, 7, Acquisition::QueueWake);
        q.push(&mut seq, 3, Acquisition::ProvisionUp(2));
        assert_eq!(q.pop(), Some((3, Acquisition::ProvisionUp(2))));
        // Scheduled later for the same instant as the wake-up: it comes after it.
        q.push(&mut seq, 7, Acquisition::ProvisionUp(4));
        assert_eq!(q.len(), 2);
        assert_eq!(
            drain(&mut q),
            vec![
                (7, Acquisition::QueueWake),
                (7, Acquisition::ProvisionUp(4))
            ]
        );
    }

    #[test]
    fn one_sequence_numbers_every_queue_of_a_function() {
        let mut seq = Sequence::default();
        let mut timers = EventQueue::default();
        let mut acq = EventQueue::default();
        timers.push(&mut seq, 0, Timer::ProvisionTick); // 1
        acq.push(&mut seq, 0, Acquisition::QueueWake); // 2
        assert_eq!(seq.next(), 3);
        timers.clear();
        assert!(timers.is_empty());
        assert_eq!(
            acq.kinds().collect::<Vec<_>>(),
            vec![Acquisition::QueueWake]
        );
    }

    #[test]
    fn phases_order_timers_then_acquisitions_then_arrivals() {
        assert!(Phase::Timer < Phase::Acquisition && Phase::Acquisition < Phase::Arrival);
        // The driver's cross-function key (time, phase, function): time first, then phase, then
        // the function index.
        let mut keys = [
            (6, Phase::Timer, 0u32),
            (5, Phase::Arrival, 0),
            (5, Phase::Acquisition, 2),
            (5, Phase::Timer, 3),
            (5, Phase::Acquisition, 1),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                (5, Phase::Timer, 3),
                (5, Phase::Acquisition, 1),
                (5, Phase::Acquisition, 2),
                (5, Phase::Arrival, 0),
                (6, Phase::Timer, 0),
            ]
        );
    }

    /// A lane queue pops exactly what one heap pops, on a run like an async backlog's: events at
    /// a few fixed delays after a clock that only moves forward, others at any later time (more
    /// distinct delays than lanes, so the heap is used too), equal times, pops interleaved.
    #[test]
    fn a_lane_queue_pops_in_the_order_of_one_heap() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..20 {
            let (mut seq_a, mut heap) = (Sequence::default(), EventQueue::default());
            let (mut seq_b, mut lanes) = (Sequence::default(), LaneQueue::default());
            let mut now: Micros = 0;
            let (mut popped, mut used_rest) = (0, false);
            for i in 0..20_000u32 {
                match next(10) {
                    0..=5 => {
                        let at = match next(4) {
                            0 => now + next(1_000),
                            _ => now + 50 * (1 << next(20)),
                        };
                        heap.push(&mut seq_a, at, i);
                        lanes.push(&mut seq_b, at, i);
                    }
                    _ => {
                        assert_eq!(heap.peek_time(), lanes.peek_time());
                        let (a, b) = (heap.pop(), lanes.pop());
                        assert_eq!(a, b);
                        if let Some((t, _)) = a {
                            now = t;
                            popped += 1;
                        }
                    }
                }
                assert_eq!(heap.is_empty(), lanes.is_empty());
                used_rest |= !lanes.rest.is_empty();
            }
            assert!(popped > 5_000 && used_rest && lanes.lanes.len() == LANES);
            assert_eq!(
                drain(&mut heap),
                std::iter::from_fn(|| lanes.pop()).collect::<Vec<_>>()
            );
        }
    }
}
