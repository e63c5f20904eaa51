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
mod fleet_cpu;
mod generate;
mod inputs;
mod keepalive;
mod limits;
mod offering;
mod outputs;
mod pipeline;
mod provisioned;
mod queueing;
mod readers;
mod report;
mod seeds;
mod sweep;
mod trust;
mod units;
mod warnings;
