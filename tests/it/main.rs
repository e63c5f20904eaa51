//! The one integration-test binary (see STYLE.md): modules per feature.

mod cli;
mod common;
mod conservation;
mod determinism;
mod fleet;
mod pipeline;
mod provisioned;
mod queueing;
