//! Diff streams to a UI: the chat list and each conversation's timeline reach a foreign
//! listener as a first `Reset`, then `Insert` / `Set` / `Remove` / `PushFront` / `Append`,
//! in order. Each subscription is a task on the node's runtime that stops when its
//! [`TaskHandle`] is dropped or cancelled. The work for one step (reading the index,
//! calling the listener) runs on the blocking pool, one step at a time, so diffs keep
//! their order and a slow listener never stalls the runtime's workers.

use std::sync::{Arc, Mutex};

use lichen::chat::{ChatEvent, ChatId, Cursor, Message};
use lichen::{App, AppEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::AbortHandle;

use crate::chats::{list_item, message, ChatListItem, ChatMessage, DeliveryState, Names};
use crate::errors::{CallbackError, ChatError};
use crate::root::Shared;

/// A change to the chat list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChatListDiff {
    /// The whole list (first, and after a gap).
    Reset {
        /// The list, most recent activity first.
        values: Vec<ChatListItem>,
    },
    /// A chat placed at `index`.
    Insert {
        /// Where.
        index: u32,
        /// The chat.
        value: ChatListItem,
    },
    /// The chat at `index` changed (unread, preview, title).
    Set {
        /// Where.
        index: u32,
        /// The chat now.
        value: ChatListItem,
    },
    /// The chat at `index` left its place.
    Remove {
        /// Where.
        index: u32,
    },
}

/// A change to a timeline (oldest message first).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TimelineDiff {
    /// The whole timeline (first, and after a gap).
    Reset {
        /// The messages shown, oldest first.
        values: Vec<ChatMessage>,
    },
    /// A message placed at `index` (it arrived late, or its cause did).
    Insert {
        /// Where.
        index: u32,
        /// The message.
        value: ChatMessage,
    },
    /// The message at `index` changed (its delivery state).
    Set {
        /// Where.
        index: u32,
        /// The message now.
        value: ChatMessage,
    },
    /// The message at `index` left its place.
    Remove {
        /// Where.
        index: u32,
    },
    /// Older messages before the first one (a page back).
    PushFront {
        /// Oldest first.
        values: Vec<ChatMessage>,
    },
    /// New messages after the last one.
    Append {
        /// Oldest first.
        values: Vec<ChatMessage>,
    },
}

/// Hears the chat list.
#[uniffi::export(callback_interface)]
pub trait ChatListListener: Send + Sync {
    /// The next changes, in order. An error is logged; the stream goes on.
    fn on_update(&self, diffs: Vec<ChatListDiff>) -> Result<(), CallbackError>;
}

/// Hears one conversation's timeline.
#[uniffi::export(callback_interface)]
pub trait TimelineListener: Send + Sync {
    /// The next changes, in order. An error is logged; the stream goes on.
    fn on_update(&self, diffs: Vec<TimelineDiff>) -> Result<(), CallbackError>;
}

/// A running subscription: stops when dropped or cancelled.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    task: AbortHandle,
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the subscription (no diffs after this returns, except one being delivered).
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// Whether it has stopped.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a stream does with one event: diffs to deliver, or nothing.
trait Step: Send + 'static {
    type Diff: Send;
    fn reset(&mut self, app: &App) -> Result<Vec<Self::Diff>, ChatError>;
    fn event(&mut self, app: &App, e: &ChatEvent) -> Result<Vec<Self::Diff>, ChatError>;
    fn deliver(&self, diffs: Vec<Self::Diff>);
}

/// Runs a stream: reset, then one step per chat event, until aborted or the app stops.
fn run<S: Step>(shared: Arc<Shared>, step: Arc<Mutex<S>>) -> Result<Arc<TaskHandle>, ChatError> {
    let app = shared.app::<ChatError>()?;
    let mut rx = app.subscribe();
    drop(app);
    let rt = shared.rt().clone();
    // Weak: a stream must not keep a dropped root's door (and so its own runtime) alive.
    let weak = Arc::downgrade(&shared);
    drop(shared);
    let task = rt.spawn(async move {
        let mut pending: Option<ChatEvent> = None; // None: reset
        loop {
            let s = step.clone();
            let Some(sh) = weak.upgrade() else { break };
            let ev = pending.take();
            let done = tokio::task::spawn_blocking(move || {
                let Ok(app) = sh.app::<ChatError>() else {
                    return false;
                };
                let Ok(mut st) = s.lock() else {
                    return false;
                };
                let diffs = match &ev {
                    None => st.reset(&app),
                    Some(e) => st.event(&app, e),
                };
                match diffs {
                    Ok(d) if d.is_empty() => {}
                    Ok(d) => st.deliver(d),
                    Err(e) => tracing::warn!(%e, "a stream step failed"),
                }
                true
            })
            .await;
            if !matches!(done, Ok(true)) {
                break;
            }
            loop {
                match rx.recv().await {
                    Ok(AppEvent::Chat(ChatEvent::Reload)) | Err(RecvError::Lagged(_)) => break,
                    Ok(AppEvent::Chat(e)) => {
                        pending = Some(e);
                        break;
                    }
                    Ok(_) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        }
    });
    Ok(Arc::new(TaskHandle {
        task: task.abort_handle(),
    }))
}

// --- the chat list ---

struct ChatList {
    items: Vec<ChatListItem>,
    listener: Box<dyn ChatListListener>,
}

impl Step for ChatList {
    type Diff = ChatListDiff;

    fn reset(&mut self, app: &App) -> Result<Vec<ChatListDiff>, ChatError> {
        self.items = load_list(app)?;
        Ok(vec![ChatListDiff::Reset {
            values: self.items.clone(),
        }])
    }

    fn event(&mut self, app: &App, e: &ChatEvent) -> Result<Vec<ChatListDiff>, ChatError> {
        if matches!(e, ChatEvent::Other { .. }) {
            return Ok(Vec::new());
        }
        let new = load_list(app)?;
        let diffs = list_diff(&mut self.items, &new);
        Ok(diffs)
    }

    fn deliver(&self, diffs: Vec<ChatListDiff>) {
        if let Err(e) = self.listener.on_update(diffs) {
            tracing::warn!(%e, "the chat list listener failed");
        }
    }
}

fn load_list(app: &App) -> Result<Vec<ChatListItem>, ChatError> {
    Ok(app
        .chat_list()?
        .into_iter()
        .map(|e| list_item(app, e))
        .collect())
}

/// The diffs that turn `cur` into `new` (items keyed by chat id); `cur` ends equal to `new`.
fn list_diff(cur: &mut Vec<ChatListItem>, new: &[ChatListItem]) -> Vec<ChatListDiff> {
    let mut out = Vec::new();
    // Chats no longer listed leave first, from the end.
    let mut i = cur.len();
    while i > 0 {
        i -= 1;
        if !new.iter().any(|n| n.id == cur[i].id) {
            cur.remove(i);
            out.push(ChatListDiff::Remove { index: i as u32 });
        }
    }
    for (i, n) in new.iter().enumerate() {
        match cur.get(i) {
            Some(c) if c.id == n.id => {
                if c != n {
                    cur[i] = n.clone();
                    out.push(ChatListDiff::Set {
                        index: i as u32,
                        value: n.clone(),
                    });
                }
            }
            _ => {
                if let Some(j) = cur.iter().skip(i).position(|c| c.id == n.id).map(|j| j + i) {
                    cur.remove(j);
                    out.push(ChatListDiff::Remove { index: j as u32 });
                }
                cur.insert(i, n.clone());
                out.push(ChatListDiff::Insert {
                    index: i as u32,
                    value: n.clone(),
                });
            }
        }
    }
    cur.truncate(new.len());
    out
}

pub(crate) fn chat_list(
    shared: Arc<Shared>,
    listener: Box<dyn ChatListListener>,
) -> Result<Arc<TaskHandle>, ChatError> {
    let step = ChatList {
        items: Vec::new(),
        listener,
    };
    run(shared, Arc::new(Mutex::new(step)))
}

// --- a timeline ---

struct Timeline {
    chat: ChatId,
    page_size: usize,
    /// The messages shown, oldest first, with their cursors.
    items: Vec<(Cursor, ChatMessage)>,
    /// Whether older messages exist beyond the first shown.
    more: bool,
    listener: Box<dyn TimelineListener>,
}

/// A live timeline, shared by its stream and its conversation's `page_back`.
pub(crate) struct TimelineState(Arc<Mutex<Timeline>>);

impl TimelineState {
    /// Loads up to `count` older messages and delivers them as a `PushFront`; false at the
    /// beginning.
    pub(crate) fn page_back(&self, app: &App, count: usize) -> Result<bool, ChatError> {
        let Ok(mut t) = self.0.lock() else {
            return Ok(false);
        };
        let Some(before) = t.items.first().map(|(c, _)| c.clone()) else {
            return Ok(false);
        };
        if !t.more {
            return Ok(false);
        }
        let (msgs, more) = app.timeline_page(&t.chat, Some(&before), count)?;
        t.more = more;
        if msgs.is_empty() {
            return Ok(false);
        }
        let mut names = Names::default();
        let rows: Vec<(Cursor, ChatMessage)> = msgs
            .into_iter()
            .map(|m| (m.cursor.clone(), message(app, &mut names, m)))
            .collect();
        let values = rows.iter().map(|(_, m)| m.clone()).collect();
        t.items.splice(0..0, rows);
        t.deliver(vec![TimelineDiff::PushFront { values }]);
        Ok(more)
    }
}

impl Step for Timeline {
    type Diff = TimelineDiff;

    fn reset(&mut self, app: &App) -> Result<Vec<TimelineDiff>, ChatError> {
        let (msgs, more) = app.timeline_page(&self.chat, None, self.page_size)?;
        let mut names = Names::default();
        self.items = msgs
            .into_iter()
            .map(|m| (m.cursor.clone(), message(app, &mut names, m)))
            .collect();
        self.more = more;
        Ok(vec![TimelineDiff::Reset {
            values: self.items.iter().map(|(_, m)| m.clone()).collect(),
        }])
    }

    fn event(&mut self, app: &App, e: &ChatEvent) -> Result<Vec<TimelineDiff>, ChatError> {
        match e {
            ChatEvent::Message { chat, mid, .. } if *chat == self.chat => {
                let Some(m) = app.chats().message(mid)? else {
                    return Ok(Vec::new());
                };
                Ok(self.place(app, m))
            }
            ChatEvent::State { chat, mid, state } if *chat == self.chat => {
                let id = mid.to_b64();
                let Some(i) = self.items.iter().position(|(_, m)| m.id == id) else {
                    return Ok(Vec::new());
                };
                let state = DeliveryState::from(*state);
                let item = &mut self.items[i].1;
                if item.state.is_some_and(|s| s >= state) {
                    return Ok(Vec::new());
                }
                item.state = Some(state);
                Ok(vec![TimelineDiff::Set {
                    index: i as u32,
                    value: item.clone(),
                }])
            }
            ChatEvent::Contacts => {
                // Names may have changed: show them again.
                self.reset(app)
            }
            _ => Ok(Vec::new()),
        }
    }

    fn deliver(&self, diffs: Vec<TimelineDiff>) {
        if let Err(e) = self.listener.on_update(diffs) {
            tracing::warn!(%e, "a timeline listener failed");
        }
    }
}

impl Timeline {
    /// Places a new (or moved) message by its cursor.
    fn place(&mut self, app: &App, m: Message) -> Vec<TimelineDiff> {
        let mut out = Vec::new();
        let value = message(app, &mut Names::default(), m.clone());
        if let Some(i) = self.items.iter().position(|(_, x)| x.id == value.id) {
            if self.items[i].0 == m.cursor {
                if self.items[i].1 != value {
                    self.items[i].1 = value.clone();
                    out.push(TimelineDiff::Set {
                        index: i as u32,
                        value,
                    });
                }
                return out;
            }
            self.items.remove(i);
            out.push(TimelineDiff::Remove { index: i as u32 });
        }
        let at = self.items.partition_point(|(c, _)| *c < m.cursor);
        if at == 0 && self.more && !self.items.is_empty() {
            // Older than everything shown: it comes with a page back.
            return out;
        }
        self.items.insert(at, (m.cursor, value.clone()));
        if at + 1 == self.items.len() {
            out.push(TimelineDiff::Append {
                values: vec![value],
            });
        } else {
            out.push(TimelineDiff::Insert {
                index: at as u32,
                value,
            });
        }
        out
    }
}

pub(crate) fn timeline(
    shared: Arc<Shared>,
    chat: ChatId,
    listener: Box<dyn TimelineListener>,
    page_size: u32,
) -> Result<(Arc<TimelineState>, Arc<TaskHandle>), ChatError> {
    let t = Arc::new(Mutex::new(Timeline {
        chat,
        page_size: page_size.clamp(1, 1000) as usize,
        items: Vec::new(),
        more: false,
        listener,
    }));
    let handle = run(shared, t.clone())?;
    Ok((Arc::new(TimelineState(t)), handle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chats::ChatKind;

    fn item(id: &str, unread: u32) -> ChatListItem {
        ChatListItem {
            id: id.into(),
            kind: ChatKind::Group,
            title: id.into(),
            members: Vec::new(),
            unread,
            total: 0,
            last_timestamp: 0,
            preview: None,
        }
    }

    fn apply(list: &mut Vec<ChatListItem>, diffs: &[ChatListDiff]) {
        for d in diffs {
            match d {
                ChatListDiff::Reset { values } => *list = values.clone(),
                ChatListDiff::Insert { index, value } => {
                    list.insert(*index as usize, value.clone())
                }
                ChatListDiff::Set { index, value } => list[*index as usize] = value.clone(),
                ChatListDiff::Remove { index } => {
                    list.remove(*index as usize);
                }
            }
        }
    }

    #[test]
    fn list_diffs_turn_the_old_list_into_the_new() {
        let old = vec![item("a", 0), item("b", 0), item("c", 0), item("d", 0)];
        let cases = vec![
            vec![item("c", 1), item("a", 0), item("b", 0), item("d", 0)],
            vec![item("a", 0), item("d", 2)],
            vec![
                item("e", 1),
                item("a", 0),
                item("b", 0),
                item("c", 0),
                item("d", 0),
            ],
            vec![],
            vec![item("d", 0), item("c", 0), item("b", 0), item("a", 0)],
            old.clone(),
        ];
        for new in cases {
            let mut cur = old.clone();
            let diffs = list_diff(&mut cur, &new);
            assert_eq!(cur, new);
            let mut shown = old.clone();
            apply(&mut shown, &diffs);
            assert_eq!(shown, new, "{diffs:?}");
        }
        let mut same = old.clone();
        assert!(list_diff(&mut same, &old).is_empty());
    }
}
