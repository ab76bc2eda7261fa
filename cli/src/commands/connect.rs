//! `lichen connect URL`: runs a node connected to a WebSocket peer.

use std::process::ExitCode;
use std::time::Duration;

use lichen::AppOptions;

use super::common::{finish, Door, RunArgs};
use crate::data::DataDir;

/// A dialled peer that went away ends an `--until-synced` run after this long.
const ALONE: Duration = Duration::from_millis(500);

/// Options of `lichen connect`.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The peer, e.g. ws://127.0.0.1:8989.
    url: String,
    #[command(flatten)]
    run: RunArgs,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
}

/// `lichen connect`.
pub fn run(data: &DataDir, args: &ConnectArgs) -> anyhow::Result<ExitCode> {
    let door = Door::open(data, AppOptions::default())?;
    let watch = door.watch()?;
    door.dial_ws(&args.url)?;
    let mut until = args.run.until();
    if args.run.until_synced {
        until.alone_after = Some(ALONE);
    }
    let report = door.run(watch, until, args.json)?;
    finish(door, &report, args.json, args.run.until_synced)
}
