//! An acknowledged event queue for a notification service: what a person should hear about
//! (a message from someone, the own key recovered, a fork, a warning) is kept in
//! `event-queue.json` until the app says it handled it, so nothing is lost when the process
//! dies between hearing an event and showing it. `next` returns the oldest unhandled event
//! (again, after a restart, until `handled`).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, Notify};
use tokio::task::AbortHandle;

use crate::app::{App, AppError, AppEvent};
use crate::chat::ChatEvent;

/// The file in the data directory.
pub const FILE: &str = "event-queue.json";
/// The most events kept; older unhandled ones are dropped first.
pub const MAX_QUEUED: usize = 1000;

/// One event a notification service handles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueuedEvent {
    /// A message from someone else arrived.
    MessageReceived {
        /// The chat's id (text form).
        chat: String,
        /// The message id (base64).
        mid: String,
    },
    /// The own feed was recovered from a peer: posting works now.
    KeyRecovered {
        /// Entries held.
        held: u32,
    },
    /// Another device writes this key: the own feed forked at `seq`.
    ForkDetected {
        /// The first sequence number with two entries.
        seq: u32,
    },
    /// Something the person should know.
    Warning {
        /// In words.
        message: String,
    },
}

impl QueuedEvent {
    fn of(e: AppEvent) -> Option<QueuedEvent> {
        Some(match e {
            AppEvent::Chat(ChatEvent::Message {
                chat,
                mid,
                mine: false,
            }) => QueuedEvent::MessageReceived {
                chat: chat.to_string(),
                mid: mid.to_b64(),
            },
            AppEvent::KeyRecovered { held } => QueuedEvent::KeyRecovered { held },
            AppEvent::ForkDetected { seq, .. } => QueuedEvent::ForkDetected { seq },
            AppEvent::Warning(message) => QueuedEvent::Warning { message },
            AppEvent::GosetFull { refused } => QueuedEvent::Warning {
                message: format!(
                    "the feed set is full (100 feeds): {} is not replicated",
                    refused.short_display()
                ),
            },
            _ => return None,
        })
    }
}

struct Inner {
    path: PathBuf,
    items: Mutex<VecDeque<QueuedEvent>>,
    more: Notify,
}

impl Inner {
    fn save(&self) -> Result<(), AppError> {
        let items: Vec<QueuedEvent> = self
            .items
            .lock()
            .map_err(|_| AppError::Stopped)?
            .iter()
            .cloned()
            .collect();
        let text = serde_json::to_string(&items)
            .map_err(|e| AppError::Invalid(format!("event queue: {e}")))?;
        write_atomic(&self.path, text.as_bytes()).map_err(|e| AppError::io(&self.path, e))
    }

    fn push(&self, e: QueuedEvent) {
        if let Ok(mut q) = self.items.lock() {
            if q.len() >= MAX_QUEUED {
                q.pop_front();
            }
            q.push_back(e);
        }
        if let Err(e) = self.save() {
            tracing::warn!(%e, "saving the event queue failed");
        }
        self.more.notify_waiters();
    }
}

/// Writes `bytes` to `path` through a synced temporary file, owner-only.
fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The queue of one data directory, filled from the app's events while it runs.
pub struct EventQueue {
    inner: Arc<Inner>,
    task: AbortHandle,
}

impl EventQueue {
    /// Loads what was left unhandled and starts queueing `app`'s events (attach it before
    /// [`App::start`] to hear the warnings of the open).
    pub fn attach(app: &App) -> Result<EventQueue, AppError> {
        let path = app.layout().root().join(FILE);
        let items: VecDeque<QueuedEvent> =
            match crate::fsutil::read_small_string(&path, crate::fsutil::RECORD_MAX) {
                Ok(t) => serde_json::from_str(&t).unwrap_or_else(|e| {
                    tracing::warn!(%e, "the event queue was damaged; starting it empty");
                    VecDeque::new()
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => VecDeque::new(),
                Err(e) => return Err(AppError::io(&path, e)),
            };
        let inner = Arc::new(Inner {
            path,
            items: Mutex::new(items),
            more: Notify::new(),
        });
        let mut rx = app.subscribe();
        let i = inner.clone();
        let task = app.runtime()?.spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        if let Some(q) = QueuedEvent::of(e) {
                            let i = i.clone();
                            let _ = tokio::task::spawn_blocking(move || i.push(q)).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let i = i.clone();
                        let w = QueuedEvent::Warning {
                            message: format!("{n} events were missed; reload what is shown"),
                        };
                        let _ = tokio::task::spawn_blocking(move || i.push(w)).await;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(EventQueue {
            inner,
            task: task.abort_handle(),
        })
    }

    /// The oldest unhandled event, if any.
    pub fn peek(&self) -> Option<QueuedEvent> {
        self.inner
            .items
            .lock()
            .ok()
            .and_then(|q| q.front().cloned())
    }

    /// Waits for the oldest unhandled event (returns it again until [`EventQueue::handled`]).
    pub async fn next(&self) -> QueuedEvent {
        loop {
            let more = self.inner.more.notified();
            if let Some(e) = self.peek() {
                return e;
            }
            more.await;
        }
    }

    /// The oldest event was handled: it is dropped (also from the file). False if the
    /// queue was empty.
    pub fn handled(&self) -> Result<bool, AppError> {
        let had = self
            .inner
            .items
            .lock()
            .map_err(|_| AppError::Stopped)?
            .pop_front()
            .is_some();
        if had {
            self.inner.save()?;
        }
        Ok(had)
    }

    /// Stops queueing (what is queued stays in the file).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppOptions;

    #[test]
    fn events_stay_queued_until_handled_also_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::create(dir.path(), AppOptions::default()).unwrap();
        let q = EventQueue::attach(&app).unwrap();
        assert_eq!(q.peek(), None);
        let rt = app.runtime().unwrap();
        let w = AppEvent::Warning("one".into());
        let _ = app.events.send(w);
        let got = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), q.next()).await
        });
        let one = QueuedEvent::Warning {
            message: "one".into(),
        };
        assert_eq!(got.ok(), Some(one.clone()));
        q.stop();
        drop(q);
        app.stop();
        let app = App::open(dir.path(), AppOptions::default()).unwrap();
        let q = EventQueue::attach(&app).unwrap();
        assert_eq!(q.peek(), Some(one));
        assert!(q.handled().unwrap());
        assert!(!q.handled().unwrap());
        drop(q);
        app.stop();
        let app = App::open(dir.path(), AppOptions::default()).unwrap();
        assert_eq!(EventQueue::attach(&app).unwrap().peek(), None);
        app.stop();
    }
}
