//! The identity rule of the front door (ADR 0019): an imported key may already have entries
//! on another device; signing a new entry 1 here would fork its feed for good. So posting is
//! held until the own feed has been recovered from a peer (a peer showed entries of it and
//! we hold at least as much as any peer showed), or the person says the key is new.
//!
//! Rollbacks after damage are the store's business (`Store::claim_next`, ADR 0014): once the
//! gate is released, that guard still refuses to sign below the signing mark.

use tokio::sync::broadcast;

use crate::app::{App, AppError, AppEvent, KeyState};
use crate::node::NodeEvent;
use crate::sync::Event;

/// Why posting is refused while an imported key's feed has not been recovered.
pub const UNRECOVERED: &str = "this key may already have messages elsewhere; connect to a \
     device that holds them first, or confirm the key is new";

/// What the person says about a key being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyIs {
    /// Never used anywhere: posting works at once.
    New,
    /// May have entries on another device: posting waits for its feed to be recovered.
    MayHaveEntries,
}

impl App {
    /// Whether the own key may sign.
    pub fn key_state(&self) -> KeyState {
        if self.gate.is_open() {
            KeyState::Ready
        } else {
            KeyState::Unrecovered
        }
    }

    /// The person says the key is new (or accepts the risk): posting works from now on, also
    /// after a restart.
    pub fn confirm_new_key(&self) -> Result<(), AppError> {
        self.update_key(KeyState::Ready)?;
        self.gate.release();
        self.running()?.remote().set_own_feed(*self.fid())?;
        Ok(())
    }

    fn update_key(&self, key: KeyState) -> Result<(), AppError> {
        let mut s = self.settings.lock().map_err(|_| AppError::Stopped)?;
        let mut next = s.clone();
        next.key = key;
        next.save(&self.layout.settings_file())?;
        *s = next;
        Ok(())
    }

    /// Refuses with the gate's reason while signing is held.
    pub(crate) fn may_sign(&self) -> Result<(), AppError> {
        match self.gate.reason() {
            Some(why) => Err(AppError::Chat(crate::chat::ChatError::Held(why))),
            None => Ok(()),
        }
    }

    /// Watches the node for the own feed's recovery and releases the gate then: whenever a
    /// peer shows how much of the own feed it holds, or an entry of it arrives, the engine's
    /// progress is checked (the own feed is not named to the engine while held, so what
    /// peers show of it is not capped at what we hold).
    pub(crate) fn watch_recovery(&self) -> Result<(), AppError> {
        let node = self.running()?;
        let link = node.link();
        let remote = node.remote();
        let mut rx = node.subscribe();
        let me = *self.fid();
        let gate = self.gate.clone();
        let settings = self.settings.clone();
        let path = self.layout.settings_file();
        let events = self.events.clone();
        node.handle().spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(NodeEvent::Sync(
                        Event::PeerHolds { fid, .. } | Event::EntryAdded { fid, .. },
                    )) if fid == me => {}
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
                if gate.is_open() {
                    break; // confirmed by the person meanwhile
                }
                let Some(snap) = link.snapshot().await else {
                    break;
                };
                let Some(p) = snap.progress.iter().find(|p| p.fid == me) else {
                    continue;
                };
                if p.peer_max == 0 || p.held < p.peer_max {
                    continue;
                }
                let held = p.held;
                let saved = tokio::task::spawn_blocking(move || {
                    let mut s = settings.lock().map_err(|_| AppError::Stopped)?;
                    let mut next = s.clone();
                    next.key = KeyState::Ready;
                    next.save(&path)?;
                    *s = next;
                    Ok::<(), AppError>(())
                })
                .await;
                if let Ok(Err(e)) = &saved {
                    tracing::warn!(%e, "saving the recovered key state failed");
                }
                gate.release();
                let _ = remote.set_own_feed(me);
                let _ = events.send(AppEvent::KeyRecovered { held });
                break;
            }
        });
        Ok(())
    }
}
