//! The terminal chat client of `lichen chat` (`commands/chat.rs`), over the front door's
//! chat service.
//!
//! `app` is the model (keys and events in, state out), `view` draws it; this file owns the
//! loop. Tests drive the model with keys and read the screen from ratatui's
//! headless `TestBackend`.

pub mod app;
pub mod view;

use std::time::{Duration, Instant};

use lichen::chat::{ChatEvent, Chats};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::Terminal;
use tokio::sync::broadcast;

use app::{App, Flow, Status};

/// Reads keys, applies service events and redraws until the user quits.
pub fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    door: &lichen::App,
    online: bool,
) -> anyhow::Result<()> {
    let chats = door.chats();
    let mut app = App::new(chats)?;
    app.contacts = chats.contacts()?;
    let mut events = chats.subscribe();
    let mut next_status = Instant::now();
    loop {
        if Instant::now() >= next_status {
            app.status = match (online, door.sync_summary(), door.links()) {
                (true, Ok(s), Ok(l)) => Status::from_summary(&s, &l),
                _ => Status::default(),
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
