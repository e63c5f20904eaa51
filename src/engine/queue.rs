//! The coupled driver's queue of functions: [`Tournament`] orders them by their next event,
//! (time, phase, function), one entry per function. It replaced a `BinaryHeap` with lazy
//! deletion after measurement (BENCHMARKS.md, "Coupled engine: event queue (issue 16)").

use super::function::Phase;
use crate::time::Micros;

/// The coupled driver's order of events across functions, `(time, phase, function)`, packed so
/// that one integer comparison decides it: time in the high 64 bits, the phase in bits 32..64,
/// the function index in the low 32. The phase's bits are never all ones, so no key equals
/// [`Key::NONE`], which sorts after every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key(u128);

impl Key {
    /// No event: greater than every key.
    pub const NONE: Key = Key(u128::MAX);

    #[inline]
    pub fn new(time: Micros, phase: Phase, function: u32) -> Key {
        Key((u128::from(time) << 64) | ((phase as u128) << 32) | u128::from(function))
    }

    #[inline]
    pub fn time(self) -> Micros {
        (self.0 >> 64) as Micros
    }

    #[inline]
    pub fn phase(self) -> Phase {
        match (self.0 >> 32) as u32 {
            0 => Phase::Timer,
            1 => Phase::Acquisition,
            _ => Phase::Arrival,
        }
    }

    #[inline]
    pub fn function(self) -> u32 {
        self.0 as u32
    }
}

/// A winner tree over a fixed set of slots (the functions of a coupled epoch), each holding at
/// most one key: [`Tournament::set`] replaces a slot's key and replays its path to the root, so
/// the smallest key is always at the root and a key that a slot no longer holds is never seen
/// (no stale entries, unlike a heap with lazy deletion). Equal keys cannot occur: every key
/// carries its slot's index.
#[derive(Debug, Clone)]
pub(crate) struct Tournament {
    /// Leaves: the slot count rounded up to a power of two (at least 1).
    leaves: usize,
    /// `tree[1]` is the root; node `i` holds the smaller of `tree[2i]` and `tree[2i + 1]`; slot
    /// `s` is leaf `leaves + s`. `tree[0]` is unused.
    tree: Vec<Key>,
}

impl Tournament {
    /// `slots` empty slots.
    pub fn new(slots: usize) -> Tournament {
        let leaves = slots.next_power_of_two().max(1);
        Tournament {
            leaves,
            tree: vec![Key::NONE; 2 * leaves],
        }
    }

    /// The smallest key held, if any.
    #[inline]
    pub fn min(&self) -> Option<Key> {
        Some(self.tree[1]).filter(|&k| k != Key::NONE)
    }

    /// Slot `key.function()` now holds `key`.
    #[inline]
    pub fn set(&mut self, key: Key) {
        self.replay(key.function() as usize, key);
    }

    /// Slot `slot` now holds nothing.
    #[inline]
    pub fn clear(&mut self, slot: u32) {
        self.replay(slot as usize, Key::NONE);
    }

    #[inline]
    fn replay(&mut self, slot: usize, key: Key) {
        let mut i = self.leaves + slot;
        self.tree[i] = key;
        let mut winner = key;
        while i > 1 {
            // SAFETY: `i` starts at a leaf, checked by the store above (`i < tree.len()`), and
            // only shrinks; `i ^ 1` differs from `i` in bit 0 only, and `tree.len()` is even.
            let other = unsafe { *self.tree.get_unchecked(i ^ 1) };
            if other < winner {
                winner = other;
            }
            i >>= 1;
            // SAFETY: as above.
            unsafe { *self.tree.get_unchecked_mut(i) = winner };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use proptest::prelude::*;

    use super::*;

    const PHASES: [Phase; 3] = [Phase::Timer, Phase::Acquisition, Phase::Arrival];

    #[test]
    fn a_key_orders_by_time_then_phase_then_function_and_gives_its_parts_back() {
        let parts = [
            (6, Phase::Timer, 0u32),
            (5, Phase::Arrival, 0),
            (5, Phase::Acquisition, 2),
            (5, Phase::Timer, 3),
            (5, Phase::Acquisition, 1),
            (u64::MAX, Phase::Arrival, u32::MAX),
            (0, Phase::Timer, u32::MAX),
            (1, Phase::Timer, 0),
        ];
        let mut by_tuple = parts.to_vec();
        by_tuple.sort();
        let mut by_key: Vec<Key> = parts.iter().map(|&(t, p, f)| Key::new(t, p, f)).collect();
        by_key.sort();
        let back: Vec<_> = by_key
            .iter()
            .map(|k| (k.time(), k.phase(), k.function()))
            .collect();
        assert_eq!(back, by_tuple);
        assert!(by_key.iter().all(|&k| k < Key::NONE));
    }

    #[test]
    fn the_tournament_gives_the_smallest_key_and_forgets_replaced_ones() {
        let mut t = Tournament::new(5);
        assert_eq!(t.min(), None);
        t.set(Key::new(10, Phase::Arrival, 4));
        t.set(Key::new(10, Phase::Timer, 2));
        t.set(Key::new(7, Phase::Arrival, 0));
        assert_eq!(t.min(), Some(Key::new(7, Phase::Arrival, 0)));
        // Slot 0 moves later: its old key is gone, not left behind as a stale entry.
        t.set(Key::new(12, Phase::Timer, 0));
        assert_eq!(t.min(), Some(Key::new(10, Phase::Timer, 2)));
        t.clear(2);
        assert_eq!(t.min(), Some(Key::new(10, Phase::Arrival, 4)));
        // Equal time and phase: the lower function first.
        t.set(Key::new(10, Phase::Arrival, 1));
        assert_eq!(t.min(), Some(Key::new(10, Phase::Arrival, 1)));
        for s in [0, 1, 4] {
            t.clear(s);
        }
        assert_eq!(t.min(), None);
        // One slot, and none.
        let mut one = Tournament::new(1);
        one.set(Key::new(3, Phase::Acquisition, 0));
        assert_eq!(one.min(), Some(Key::new(3, Phase::Acquisition, 0)));
        assert_eq!(Tournament::new(0).min(), None);
    }

    /// An operation on the coupled driver's queue: give a function a next event, or none, or
    /// take the first event (whose function then has none until it is given one).
    #[derive(Debug, Clone)]
    enum Op {
        Set(u32, Micros, usize),
        Clear(u32),
        Pop,
    }

    fn ops(slots: u32) -> impl Strategy<Value = Vec<Op>> {
        // Few distinct times, so equal times and equal phases are common.
        let op = prop_oneof![
            4 => (0..slots, 0..8u64, 0..3usize).prop_map(|(f, t, p)| Op::Set(f, t, p)),
            1 => (0..slots).prop_map(Op::Clear),
            3 => Just(Op::Pop),
        ];
        proptest::collection::vec(op, 0..200)
    }

    proptest! {
        /// The tournament takes events in the order the old driver did: a `BinaryHeap` of
        /// `(time, phase, function)` with lazy deletion, an entry being stale unless it is its
        /// function's current next event.
        #[test]
        fn the_tournament_pops_what_a_binary_heap_with_lazy_deletion_pops(
            slots in 1..70u32, seq in ops(70)
        ) {
            let mut t = Tournament::new(slots as usize);
            let mut heap = BinaryHeap::new();
            let mut current: Vec<Option<(Micros, Phase)>> = vec![None; slots as usize];
            for op in seq {
                match op {
                    Op::Set(f, time, p) => {
                        let f = f % slots;
                        t.set(Key::new(time, PHASES[p], f));
                        heap.push(Reverse((time, PHASES[p], f)));
                        current[f as usize] = Some((time, PHASES[p]));
                    }
                    Op::Clear(f) => {
                        let f = f % slots;
                        t.clear(f);
                        current[f as usize] = None;
                    }
                    Op::Pop => {
                        let old = std::iter::from_fn(|| heap.pop())
                            .find(|Reverse((time, p, f))| current[*f as usize] == Some((*time, *p)))
                            .map(|Reverse(k)| k);
                        let new = t.min().map(|k| (k.time(), k.phase(), k.function()));
                        prop_assert_eq!(new, old);
                        if let Some(k) = t.min() {
                            t.clear(k.function());
                            current[k.function() as usize] = None;
                        }
                    }
                }
            }
        }
    }
}
