//! The `faasplan` binary: parse, run, print the error chain once, exit 2 on error.

mod cli;

use std::process::ExitCode;

/// mimalloc rather than the system allocator: a replay frees and regrows per-function buffers
/// every epoch, and glibc's malloc spent about a tenth of a 46,000-function day on it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(err) => {
            // `faasplan ... | head` closes the pipe early: that is not an error.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
