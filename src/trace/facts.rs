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
            let t = self.invocations()[r.end - 1].arrival;
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
}

/// The facts of a trace that is not held (a streamed replay's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub functions: Vec<FunctionMeta>,
    pub invocations: u64,
    pub was_sorted: bool,
    pub last: Option<(Micros, u32)>,
    pub row_memory_sizes: Vec<u16>,
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
}
