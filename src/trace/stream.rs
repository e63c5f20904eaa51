//! Arrivals made as a replay advances, never all held (issue 16): a source gives each function's
//! rows before a time when the engine is about to need them, and the engine drops the rows it
//! has replayed. `engine::simulate_stream` drives one; the outcome equals the replay of the
//! whole trace the source would make.

use crate::time::Micros;
use crate::trace::Invocation;

/// A trace given piecewise, in time order per function.
pub trait ArrivalSource {
    /// Appends to `bufs[f]` every row of function `f` arriving before `until` that has not been
    /// given yet, in arrival order (ties in the trace's order); it may give some later rows too.
    /// Times are on the trace's clock (since its origin). Rows at or after the source's horizon
    /// are never given.
    fn fill(&mut self, until: Micros, bufs: &mut [Vec<Invocation>]);

    /// The start of the earliest minute that still holds rows not given; `None` once every row
    /// (before the horizon) has been given.
    fn next_arrival_minute(&self) -> Option<Micros>;

    /// The start of the earliest minute that still holds rows of function `f` not given (the
    /// start of the source's own clock if that minute began before it); `None` once every row of
    /// `f` has been given.
    fn next_minute_of(&self, f: usize) -> Option<Micros>;

    /// True while rows of function `f` (before the horizon) are still to be given.
    fn has_more(&self, f: usize) -> bool {
        self.next_minute_of(f).is_some()
    }

    /// Rows given so far.
    fn given(&self) -> u64;
}

/// The rows of `src` arriving in `[from, to)`, on a clock that starts at `from`: the end of a
/// trace replayed before it (a cyclic warm-up). The rows before `from` are made and dropped a
/// minute at a time when the window is made, so it holds no more than the source does.
pub struct Window<S> {
    src: S,
    from: Micros,
    to: Micros,
    scratch: Vec<Vec<Invocation>>,
    given: u64,
}

impl<S: ArrivalSource> Window<S> {
    /// The window of `src` (of `functions` functions) over `[from, to)`.
    pub fn new(mut src: S, functions: usize, from: Micros, to: Micros) -> Window<S> {
        let mut scratch = vec![Vec::new(); functions];
        while let Some(m) = src.next_arrival_minute() {
            if m + crate::time::MINUTE > from {
                break;
            }
            src.fill(m + crate::time::MINUTE, &mut scratch);
            scratch.iter_mut().for_each(Vec::clear);
        }
        Window {
            src,
            from,
            to,
            scratch,
            given: 0,
        }
    }
}

impl<S: ArrivalSource> ArrivalSource for Window<S> {
    fn fill(&mut self, until: Micros, bufs: &mut [Vec<Invocation>]) {
        let until = until.saturating_add(self.from).min(self.to);
        self.src.fill(until, &mut self.scratch);
        let (from, to) = (self.from, self.to);
        for (rows, buf) in self.scratch.iter_mut().zip(bufs.iter_mut()) {
            let before = buf.len();
            buf.extend(
                rows.iter()
                    .filter(|i| (from..to).contains(&i.arrival))
                    .map(|i| Invocation {
                        arrival: i.arrival - from,
                        ..*i
                    }),
            );
            self.given += (buf.len() - before) as u64;
            rows.clear();
        }
    }

    fn next_arrival_minute(&self) -> Option<Micros> {
        (0..self.scratch.len())
            .filter_map(|f| self.next_minute_of(f))
            .min()
    }

    fn next_minute_of(&self, f: usize) -> Option<Micros> {
        self.src
            .next_minute_of(f)
            .filter(|&t| t < self.to)
            .map(|t| t.saturating_sub(self.from))
    }

    fn given(&self) -> u64 {
        self.given
    }
}
