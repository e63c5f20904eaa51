//! A function's events: the three phases an instant is processed in, and the two queues of
//! scheduled events (timers; acquisitions), each a min-heap on `(time, sequence)` so that events
//! at equal times come out in the order they were scheduled (FIFO), whatever their kind.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

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
    #[inline]
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
}
