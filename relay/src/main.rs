//! `lichen-relay`: the Moneysocket rendezvous relay as its own binary (`lichen relay` is an
//! alias of it). Exit codes: 0 stopped cleanly (also when the reader of stdout went away),
//! 1 error, 2 usage, bad numbers included.

use std::process::ExitCode;

use clap::Parser;
use lichen_relay::cli::{self, RelayArgs};

/// Moneysocket rendezvous relay: pairs two nodes by beacon id and forwards their frames.
#[derive(Debug, Parser)]
#[command(name = "lichen-relay", version, about)]
struct Cli {
    #[command(flatten)]
    relay: RelayArgs,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICHEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Cli::parse();
    match cli::run(&args.relay) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if cli::is_closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line per cause, continuation lines indented; no terminal controls from
            // whatever a file said.
            let text = format!("{e:#}");
            let lines: Vec<String> = text
                .lines()
                .map(|l| l.chars().filter(|c| !c.is_control()).collect())
                .collect();
            eprintln!("error: {}", lines.join("\n  "));
            ExitCode::FAILURE
        }
    }
}
