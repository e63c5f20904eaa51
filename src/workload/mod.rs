//! Synthetic workloads: a spec (`workloads/*.toml`) names functions, their arrival processes and
//! duration distributions; [`generate`] turns it into a canonical trace CSV, seeded and fast.

pub mod azure_like;
pub mod generate;
pub mod reader;
pub mod spec;

pub use generate::{ArrivalStream, Generated, generate};
pub use spec::{FunctionSpec, Process, SpecError, Workload};
