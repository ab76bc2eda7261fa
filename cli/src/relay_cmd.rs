//! `lichen relay`: an alias of the `lichen-relay` binary (`lichen_relay::cli`), which parses
//! the options, runs the relay and shuts it down on Ctrl-C or SIGTERM.

use std::process::ExitCode;

pub use lichen_relay::cli::RelayArgs;

/// Runs the relay until Ctrl-C (or SIGTERM), then shuts it down.
pub fn run(args: &RelayArgs) -> anyhow::Result<ExitCode> {
    match lichen_relay::cli::run(args) {
        // The reader of stdout went away: what it wanted, it has.
        Err(e) if lichen_relay::cli::is_closed_stdout(&e) => Ok(ExitCode::SUCCESS),
        r => r.map(|()| ExitCode::SUCCESS),
    }
}
