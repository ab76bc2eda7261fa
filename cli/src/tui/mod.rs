//! `lichen chat`: a terminal chat client on the chat service, with a node running behind it.
//!
//! `app` is the model (keys and events in, state out), `view` draws it; this file owns the
//! terminal and the loop. Tests drive the model with keys and read the screen from ratatui's
//! headless `TestBackend`.

pub mod app;
pub mod view;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use lichen::chat::{ChatEvent, Chats, ChatsConfig};
use lichen::node::Node;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::Terminal;
use tokio::sync::broadcast;

use crate::data::DataDir;
use app::{App, Flow, Status};

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
    /// Do not start a node: read and write locally only (another `lichen` may be serving).
    #[arg(long)]
    offline: bool,
}

/// `lichen chat`.
pub fn run(data: &DataDir, args: &ChatArgs) -> anyhow::Result<ExitCode> {
    if !data.has_identity() {
        anyhow::bail!(
            "no identity in {}: run `lichen init` first",
            data.root().display()
        );
    }
    let (node, chats) = if args.offline {
        let store: std::sync::Arc<dyn lichen::store::Store> = std::sync::Arc::new(data.store()?);
        let chats = Chats::open(
            &data.root().join("chats"),
            store,
            data.identity()?,
            ChatsConfig::default(),
        )
        .context("opening the chat index")?;
        (None, chats)
    } else {
        let (node, chats) = crate::node_cmds::start(data)?;
        let chats = chats.context("the chat service needs an identity")?;
        if let Some(addr) = &args.ws {
            node.listen_ws(addr)?;
        }
        for url in &args.connect {
            node.connect_ws(url)
                .with_context(|| format!("connecting to {url}"))?;
        }
        if args.udp {
            node.udp_multicast(lichen::face::udp::UdpConfig::default())?;
        }
        (Some(node), chats)
    };
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &chats, node.as_ref());
    ratatui::restore();
    if let Some(n) = node {
        n.shutdown(Duration::from_secs(2));
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Reads keys, applies service events and redraws until the user quits.
fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    chats: &Chats,
    node: Option<&Node>,
) -> anyhow::Result<()> {
    let mut app = App::new(chats)?;
    app.contacts = chats.contacts()?;
    let mut events = chats.subscribe();
    let mut next_status = Instant::now();
    loop {
        if Instant::now() >= next_status {
            app.status = match node.map(Node::snapshot) {
                Some(Ok(s)) => Status::from_snapshot(&s),
                Some(Err(_)) | None => Status::default(),
            };
            next_status = Instant::now() + Duration::from_millis(500);
        }
        drain_events(&mut app, chats, &mut events)?;
        terminal.draw(|f| view::draw(f, &app))?;
        if event::poll(Duration::from_millis(200))? {
            if let Event::Key(key) = event::read()? {
                if key.kind == KeyEventKind::Press && app.on_key(chats, key) == Flow::Quit {
                    return Ok(());
                }
            }
        }
    }
}

/// Applies every service event that arrived since the last call.
pub fn drain_events(
    app: &mut App,
    chats: &Chats,
    rx: &mut broadcast::Receiver<ChatEvent>,
) -> anyhow::Result<()> {
    loop {
        match rx.try_recv() {
            Ok(e) => app.on_event(chats, &e)?,
            Err(broadcast::error::TryRecvError::Lagged(_)) => {
                app.on_event(chats, &ChatEvent::Reload)?;
            }
            Err(_) => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
