//! Every command's result as the exporters see it (an [`Export`](super::exporter::Export) impl
//! per result): its JSON value, its CSV rows, its tables for people and its own aligned text.
//! One file per command.

pub mod breakeven;
pub mod calibrate;
pub mod compare;
pub mod offerings;
pub mod servers;
pub mod simulate;
pub mod sweep;
