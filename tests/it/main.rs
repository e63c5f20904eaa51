//! The one integration-test binary (see STYLE.md): modules per feature.

mod cli;
mod common;
mod compare;
mod conservation;
mod cost;
mod cpu;
mod determinism;
mod domain;
mod fleet;
mod generate;
mod inputs;
mod offering;
mod outputs;
mod pipeline;
mod provisioned;
mod queueing;
mod readers;
mod report;
mod robust;
mod seeds;
mod sweep;
mod trust;
mod units;
mod warnings;
