//! The `callvault` binary: CLI, configuration, wiring and `serve`.

mod cli;
mod commands;
mod config;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: under many concurrent searches glibc's arenas
/// spent 15-19 % of a search's CPU allocating and freeing (BENCHMARKS.md, issue 4).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("callvault: error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.downcast_ref::<service::ServiceError>() {
                Some(service_error) => {
                    let rule = service_error
                        .rule
                        .as_deref()
                        .map(|r| format!(" (rule: {r})"))
                        .unwrap_or_default();
                    eprintln!(
                        "callvault: error[{}]: {}{rule}",
                        service_error.code, service_error.message
                    );
                }
                None => eprintln!("callvault: error: {}", one_line(&err)),
            }
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    err.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}
