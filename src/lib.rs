//! faasplan: a capacity planner for serverless functions.
//!
//! The pipeline reads like the folders: `trace` (readers) → `engine` (discrete-event platform model)
//! → `outcome` (aggregated results) → `export` (table, JSON, CSV). See `ARCHITECTURE.md`.

pub mod cost;
pub mod dist;
pub mod engine;
pub mod error;
pub mod export;
pub mod offering;
pub mod outcome;
pub mod partial;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod seed;
pub mod servers;
pub mod shard;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod warnings;
pub mod workload;
