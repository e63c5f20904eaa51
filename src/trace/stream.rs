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

    /// True while rows of function `f` (before the horizon) are still to be given.
    fn has_more(&self, f: usize) -> bool;

    /// Rows given so far.
    fn given(&self) -> u64;
}
