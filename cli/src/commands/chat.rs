//! `lichen chat`: the terminal chat client (`crate::tui`) on the front door: the chat
//! service, and a node behind it with the links asked for, the saved invites' relays and the
//! paired dongle.

use std::process::ExitCode;

use anyhow::Context;
use lichen::app::serve::UdpConfig;

use super::common::{open_app, RelayArgs};
use crate::data::DataDir;

/// Options of `lichen chat`.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Also accept WebSocket peers on this address (e.g. 0.0.0.0:8989).
    #[arg(long)]
    ws: Option<String>,
    /// Connect to these WebSocket peers (repeatable).
    #[arg(long)]
    connect: Vec<String>,
    /// Join the Wi-Fi UDP multicast group 239.5.5.8:1558.
    #[arg(long)]
    udp: bool,
    /// Open no link: read and write locally only.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    relay: RelayArgs,
}

/// `lichen chat`.
pub fn run(data: &DataDir, args: &ChatArgs) -> anyhow::Result<ExitCode> {
    let app = open_app(data, args.relay.options()?)?;
    if !args.offline {
        if let Some(addr) = &args.ws {
            app.listen_ws(addr)?;
        }
        for url in &args.connect {
            app.dial_ws(url)
                .with_context(|| format!("connecting to {url}"))?;
        }
        if args.udp {
            app.udp_multicast(UdpConfig::default())?;
        }
        app.start()?;
    }
    let mut terminal = ratatui::init();
    let result = crate::tui::event_loop(&mut terminal, &app, !args.offline);
    ratatui::restore();
    app.stop();
    result.map(|()| ExitCode::SUCCESS)
}
