//! What a run's checks and outputs read of a trace besides replaying its rows: the functions,
//! how many invocations, the last arrival, the rows' memory sizes. A held [`Trace`] has them; a
//! streamed replay (see [`crate::trace::stream`]) has them as [`Facts`] without ever holding
//! every row, and the same checks and outputs take either.

use crate::time::Micros;
use crate::trace::{FunctionMeta, Trace};

/// See the module documentation.
pub trait TraceFacts {
    /// The functions, in the trace's order.
    fn functions(&self) -> &[FunctionMeta];
    /// Every invocation of the trace (also those after a horizon).
    fn invocation_count(&self) -> u64;
    /// True when the input rows were not in arrival order and had to be sorted.
    fn was_sorted(&self) -> bool;
    /// The last arrival (or a bound no earlier than it and in the same minute) and its function;
    /// `None` for an empty trace.
    fn last(&self) -> Option<(Micros, u32)>;
    /// The rows' memory sizes (0: none given), each once, in order of first appearance with
    /// the rows taken function by function.
    fn row_memory_sizes(&self) -> Vec<u16>;
    /// The first function (in the trace's order) with a row that gives no memory size.
    fn first_without_row_memory(&self) -> Option<u32>;
    /// The largest memory size of the rows, and the last function (in the trace's order) with
    /// a row of that size; `None` for a trace without rows.
    fn largest_row_memory(&self) -> Option<(u16, u32)>;
}

impl TraceFacts for Trace {
    fn functions(&self) -> &[FunctionMeta] {
        Trace::functions(self)
    }

    fn invocation_count(&self) -> u64 {
        self.len() as u64
    }

    fn was_sorted(&self) -> bool {
        Trace::was_sorted(self)
    }

    fn last(&self) -> Option<(Micros, u32)> {
        // Each function's rows are sorted: its last row is its latest. The first function with
        // the latest arrival, as a scan of the rows in order would find it.
        let mut last: Option<(Micros, u32)> = None;
        for (f, r) in self.ranges().iter().enumerate() {
            // A function can have no rows (a shard's other functions, a spec's silent one).
            let Some(i) = self.invocations()[r.clone()].last() else {
                continue;
            };
            let t = i.arrival;
            if last.is_none_or(|(l, _)| t > l) {
                last = Some((t, f as u32));
            }
        }
        last
    }

    fn row_memory_sizes(&self) -> Vec<u16> {
        let mut seen = [false; 1 << 16];
        let mut out = Vec::new();
        for i in self.invocations() {
            if !std::mem::replace(&mut seen[i.memory_mb as usize], true) {
                out.push(i.memory_mb);
            }
        }
        out
    }

    fn first_without_row_memory(&self) -> Option<u32> {
        // The rows are held function by function, in the trace's order.
        self.invocations()
            .iter()
            .find(|i| i.memory_mb == 0)
            .map(|i| i.function)
    }

    fn largest_row_memory(&self) -> Option<(u16, u32)> {
        // The last of equals, as `max_by_key` gives it.
        self.invocations()
            .iter()
            .max_by_key(|i| i.memory_mb)
            .map(|i| (i.memory_mb, i.function))
    }
}

/// The facts of a trace that is not held (a streamed replay's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub functions: Vec<FunctionMeta>,
    pub invocations: u64,
    pub was_sorted: bool,
    pub last: Option<(Micros, u32)>,
    pub row_memory_sizes: Vec<u16>,
    pub first_without_row_memory: Option<u32>,
    pub largest_row_memory: Option<(u16, u32)>,
}

impl TraceFacts for Facts {
    fn functions(&self) -> &[FunctionMeta] {
        &self.functions
    }

    fn invocation_count(&self) -> u64 {
        self.invocations
    }

    fn was_sorted(&self) -> bool {
        self.was_sorted
    }

    fn last(&self) -> Option<(Micros, u32)> {
        self.last
    }

    fn row_memory_sizes(&self) -> Vec<u16> {
        self.row_memory_sizes.clone()
    }

    fn first_without_row_memory(&self) -> Option<u32> {
        self.first_without_row_memory
    }

    fn largest_row_memory(&self) -> Option<(u16, u32)> {
        self.largest_row_memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{TraceBuilder, Trigger};

    #[test]
    fn the_last_arrival_skips_functions_without_rows_and_keeps_the_first_of_a_tie() {
        let mut b = TraceBuilder::new();
        let silent = b.function_id("silent");
        let a = b.function_id("a");
        let c = b.function_id("c");
        b.push(0, a, 1, 0, Trigger::Sync);
        b.push(5_000_000, c, 1, 0, Trigger::Sync);
        b.push(5_000_000, a, 1, 0, Trigger::Sync);
        let t = b.finish();
        assert_eq!(silent, 0);
        assert!(t.ranges()[0].is_empty());
        // Both `a` and `c` end at 5 s; `a` comes first in the trace's order.
        assert_eq!(TraceFacts::last(&t), Some((5_000_000, a)));
        assert_eq!(TraceFacts::last(&TraceBuilder::new().finish()), None);
    }
}
