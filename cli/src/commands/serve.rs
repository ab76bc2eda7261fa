//! `lichen serve`: runs a node — WebSocket peers and/or UDP multicast, the relays of saved
//! invites and the paired dongle, the chat service when there is an identity — until
//! stopped, the timeout, or synced.

use std::process::ExitCode;

use lichen::app::serve::UdpConfig;

use super::common::{finish, say, say_started, Door, RelayArgs, RunArgs};
use crate::data::DataDir;

/// Options of `lichen serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Accept WebSocket peers on this address (e.g. 127.0.0.1:8989).
    #[arg(long)]
    ws: Option<String>,
    /// Join the Wi-Fi UDP multicast group 239.5.5.8:1558.
    #[arg(long)]
    udp: bool,
    /// Local interface address for UDP multicast.
    #[arg(long, requires = "udp")]
    udp_if: Option<std::net::Ipv4Addr>,
    #[command(flatten)]
    run: RunArgs,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    /// Relay links of saved invites (`lichen invite`, `lichen accept`).
    #[command(flatten)]
    relay: RelayArgs,
}

/// `lichen serve`.
pub fn run(data: &DataDir, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let door = Door::open(data, args.relay.options()?)?;
    let watch = door.watch()?;
    if let Some(addr) = &args.ws {
        let bound = door.listen_ws(addr)?;
        say(
            args.json,
            &serde_json::json!({"event": "listening", "ws": bound}),
            &format!("listening on ws://{bound}"),
        );
    }
    if args.udp {
        let mut cfg = UdpConfig::default();
        if let Some(i) = args.udp_if {
            cfg.interface = i;
        }
        let group = door.udp(cfg)?;
        say(
            args.json,
            &serde_json::json!({"event": "udp", "group": group}),
            &format!("joined {group}"),
        );
    }
    let started = door.start()?;
    say_started(&started, args.json);
    let report = door.run(watch, args.run.until(), args.json)?;
    finish(door, &report, args.json, args.run.until_synced)
}
