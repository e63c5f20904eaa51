//! The binary itself: flags, exit codes, and bad input.

use clap::CommandFactory;

#[test]
fn cli_definition_is_consistent() {
    faasplan::cli::Cli::command().debug_assert();
}
