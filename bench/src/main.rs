//! `lichen-bench`: Lichen's benchmarks and developer tools, kept out of the user binary.
//!
//! * `lichen-bench bench [--ws | --lora | --storage | --chat]`: speed figures against
//!   baselines measured in the same run (`docs/BENCHMARKS.md`);
//! * `lichen-bench sim`: engines on the simulated LoRa channel;
//! * `lichen-bench fill`: synthetic feeds with deterministic identities in a data directory.
//!
//! Output goes through [`out`] (a closed stdout ends a command quietly); exit codes: 0 ok,
//! 1 error (or `sim` did not converge), 2 usage, bad numbers included.

#[macro_use]
mod out;

mod args;
mod chat_bench;
mod data;
mod fill_cmd;
mod net_bench;
mod sim_cmd;
mod store_bench;
mod verify_bench;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Lichen's benchmarks and developer tools.
#[derive(Debug, Parser)]
#[command(name = "lichen-bench", version, about)]
struct Cli {
    /// The node's data directory (`fill` writes into its store).
    #[arg(long, global = true, env = "LICHEN_DATA")]
    data: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure speed against baselines taken in the same run.
    Bench(verify_bench::BenchArgs),
    /// Run engines on a simulated LoRa channel and report airtime and convergence.
    Sim(sim_cmd::SimArgs),
    /// Author synthetic feeds with deterministic identities (tests, demos, benchmarks).
    Fill(fill_cmd::FillArgs),
}

fn main() -> ExitCode {
    // The storage benchmark re-runs this binary as a writer it can kill.
    if let Some(code) = store_bench::child_main() {
        return code;
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(a) if a.lora => net_bench::run_lora(a.json).map(|_| ExitCode::SUCCESS),
        Command::Bench(a) if a.ws => {
            net_bench::run_ws(a.json, a.ws_entries).map(|_| ExitCode::SUCCESS)
        }
        Command::Bench(a) if a.chat => {
            chat_bench::run_chat(a.messages, a.json).map(|_| ExitCode::SUCCESS)
        }
        Command::Bench(a) if a.storage => {
            store_bench::run_storage(a.json).map(|_| ExitCode::SUCCESS)
        }
        Command::Bench(a) => verify_bench::run(a).map(|()| ExitCode::SUCCESS),
        Command::Sim(a) => sim_cmd::sim(a),
        Command::Fill(a) => fill_cmd::fill(&data::DataDir::new(cli.data.clone()), a),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`lichen-bench sim --json | head -1`): what it wanted, it has.
        Err(e) if out::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors can quote what a file said: no terminal controls, and continuation lines
            // indented so that none can pass for a line of ours.
            let text = format!("{e:#}");
            let lines: Vec<_> = text.lines().map(lichen::text::safe).collect();
            errln!("error: {}", lines.join("\n  "));
            ExitCode::FAILURE
        }
    }
}
