//! The chats area: the chat list, one [`Conversation`] per chat, sending, marking read,
//! search; messages and chats cross as plain records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use lichen::app::ffi_support::ChatEntry;
use lichen::chat::{ChatId, DeliveryState as CoreState, Message, MessageBody};
use lichen::{App, FeedId, Mid};

use crate::errors::ChatError;
use crate::root::Shared;
use crate::stream::{self, ChatListListener, TaskHandle, TimelineListener, TimelineState};

/// How far one of my messages has come; each state implies the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum DeliveryState {
    /// In my log, not yet seen leaving this device.
    Written,
    /// Handed to a link for a peer.
    Sent,
    /// Another device holds it.
    Stored,
    /// The recipient's device confirmed it arrived (one-to-one chats).
    Delivered,
    /// The recipient saw it (one-to-one chats).
    Read,
}

impl From<CoreState> for DeliveryState {
    fn from(s: CoreState) -> Self {
        match s {
            CoreState::Written => DeliveryState::Written,
            CoreState::Sent => DeliveryState::Sent,
            CoreState::Stored => DeliveryState::Stored,
            CoreState::Delivered => DeliveryState::Delivered,
            CoreState::Read => DeliveryState::Read,
        }
    }
}

/// What kind of chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChatKind {
    /// The public channel everyone reads.
    Public,
    /// Notes to self (only me).
    Notes,
    /// Me and one other person.
    OneToOne,
    /// Me and two to six others.
    Group,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatMessage {
    /// Its id (`%….sha256`-like base64 message id): the reference to pass back.
    pub id: String,
    /// The chat it belongs to.
    pub chat_id: String,
    /// The author's feed id (`@….ed25519`).
    pub author: String,
    /// The author's name to show.
    pub author_name: String,
    /// Whether I wrote it.
    pub mine: bool,
    /// The entry's number in the author's feed.
    pub seq: u32,
    /// The author's clock (unix seconds; not trusted for order).
    pub timestamp: i64,
    /// The text to show (location prefix removed); none for voice only or unreadable.
    pub text: Option<String>,
    /// Whether it carries Codec2 voice.
    pub has_voice: bool,
    /// Why it cannot be read, if it cannot.
    pub unreadable: Option<String>,
    /// For my own messages: how far it has come.
    pub state: Option<DeliveryState>,
    /// Its place in the history (pass to `page` to get older messages).
    pub cursor: String,
}

/// A chat in the list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatListItem {
    /// The chat's id: the reference to pass back.
    pub id: String,
    /// What kind of chat.
    pub kind: ChatKind,
    /// A name to show.
    pub title: String,
    /// The members' feed ids (empty for the public channel).
    pub members: Vec<String>,
    /// Messages from others not yet marked read.
    pub unread: u32,
    /// Messages in the chat.
    pub total: u32,
    /// Timestamp of the newest message (0: none).
    pub last_timestamp: i64,
    /// The newest message's text, shortened, to show beneath the title.
    pub preview: Option<String>,
}

/// A page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MessagePage {
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Where the next older page starts (`None`: this is the beginning of the chat).
    pub older: Option<String>,
}

/// How many characters of the newest message the list shows.
const PREVIEW_CHARS: usize = 80;

pub(crate) fn kind_of(id: &ChatId, me: &FeedId) -> ChatKind {
    match id {
        ChatId::Public => ChatKind::Public,
        ChatId::Private(m) if m.as_slice() == [*me] => ChatKind::Notes,
        ChatId::Private(m) if m.len() == 2 => ChatKind::OneToOne,
        ChatId::Private(_) => ChatKind::Group,
    }
}

pub(crate) fn list_item(app: &App, e: ChatEntry) -> ChatListItem {
    let preview = e.last.as_ref().and_then(|m| match &m.body {
        MessageBody::Post { body, voice, .. } => match body {
            Some(t) => Some(shorten(t)),
            None => voice.as_ref().map(|_| "(voice)".to_owned()),
        },
        MessageBody::Unreadable { .. } => Some("(cannot be read)".to_owned()),
    });
    ChatListItem {
        id: e.summary.id.to_string(),
        kind: kind_of(&e.summary.id, app.fid()),
        title: e.summary.title,
        members: e.summary.id.members().iter().map(FeedId::to_ref).collect(),
        unread: e.summary.unread,
        total: e.summary.total,
        last_timestamp: e.summary.last_ts,
        preview,
    }
}

fn shorten(t: &str) -> String {
    let one_line = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= PREVIEW_CHARS {
        return one_line;
    }
    let mut s: String = one_line.chars().take(PREVIEW_CHARS - 1).collect();
    s.push('…');
    s
}

/// Author names, looked up once per stream step.
#[derive(Default)]
pub(crate) struct Names(HashMap<FeedId, String>);

impl Names {
    fn of(&mut self, app: &App, fid: &FeedId) -> String {
        if let Some(n) = self.0.get(fid) {
            return n.clone();
        }
        let n = app
            .chats()
            .name_of(fid)
            .unwrap_or_else(|_| fid.short_display());
        self.0.insert(*fid, n.clone());
        n
    }
}

pub(crate) fn message(app: &App, names: &mut Names, m: Message) -> ChatMessage {
    let (text, has_voice, unreadable) = match &m.body {
        MessageBody::Post { body, voice, .. } => (body.clone(), voice.is_some(), None),
        MessageBody::Unreadable { reason } => (None, false, Some(reason.clone())),
    };
    ChatMessage {
        id: m.mid.to_b64(),
        chat_id: m.chat.to_string(),
        author: m.author.to_ref(),
        author_name: names.of(app, &m.author),
        mine: m.author == *app.fid(),
        seq: m.seq,
        timestamp: m.ts,
        text,
        has_voice,
        unreadable,
        state: m.state.map(DeliveryState::from),
        cursor: m.cursor.to_string(),
    }
}

pub(crate) fn parse_chat(id: &str) -> Result<ChatId, ChatError> {
    id.trim().parse().map_err(|e| ChatError::BadReference {
        reason: format!("not a chat id: {e}"),
    })
}

pub(crate) fn parse_mid(id: &str) -> Result<Mid, ChatError> {
    Mid::from_b64(id.trim()).ok_or_else(|| ChatError::BadReference {
        reason: format!(
            "not a message id: {:?}",
            id.chars().take(60).collect::<String>()
        ),
    })
}

fn parse_cursor(c: &str) -> Result<lichen::chat::Cursor, ChatError> {
    c.trim()
        .parse()
        .map_err(|e: lichen::chat::ChatError| ChatError::BadReference {
            reason: e.to_string(),
        })
}

fn resolve_all(app: &App, people: &[String]) -> Result<Vec<FeedId>, ChatError> {
    if people.is_empty() {
        return Err(ChatError::Invalid {
            reason: "name at least one person".into(),
        });
    }
    people
        .iter()
        .map(|p| app.chats().resolve(p).map_err(ChatError::from))
        .collect()
}

/// The chats of this identity.
#[derive(uniffi::Object)]
pub struct Chats {
    shared: Arc<Shared>,
}

impl Chats {
    pub(crate) fn new(shared: Arc<Shared>) -> Chats {
        Chats { shared }
    }
}

#[uniffi::export]
impl Chats {
    /// Every chat, most recent activity first, with unread counts and previews.
    pub async fn list(&self) -> Result<Vec<ChatListItem>, ChatError> {
        self.shared
            .blocking(|app| {
                Ok(app
                    .chat_list()?
                    .into_iter()
                    .map(|e| list_item(app, e))
                    .collect())
            })
            .await
    }

    /// Delivers the chat list to `listener`: first a `Reset` with the whole list, then each
    /// change as diffs, in order. Stops when the returned handle is dropped or cancelled.
    pub fn subscribe(
        &self,
        listener: Box<dyn ChatListListener>,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        stream::chat_list(self.shared.clone(), listener)
    }

    /// The conversation of the chat `chat_id` (a chat id from the list or a message).
    pub fn conversation(&self, chat_id: String) -> Result<Arc<Conversation>, ChatError> {
        let id = parse_chat(&chat_id)?;
        Ok(Conversation::new(self.shared.clone(), id))
    }

    /// The public channel.
    pub fn public_channel(&self) -> Arc<Conversation> {
        Conversation::new(self.shared.clone(), ChatId::Public)
    }

    /// The conversation of me and `people` (feed ids in any form, or contacts' aliases):
    /// one person makes a one-to-one chat, up to six a group.
    pub async fn with_people(&self, people: Vec<String>) -> Result<Arc<Conversation>, ChatError> {
        let shared = self.shared.clone();
        let id = self
            .shared
            .blocking(move |app| -> Result<ChatId, ChatError> {
                let fids = resolve_all(app, &people)?;
                Ok(app.chats().chat_with(&fids)?)
            })
            .await?;
        Ok(Conversation::new(shared, id))
    }

    /// Posts `text` on the public channel.
    pub async fn send_public(&self, text: String) -> Result<ChatMessage, ChatError> {
        self.shared
            .blocking(move |app| {
                let m = app.send(&ChatId::Public, &text)?;
                Ok(message(app, &mut Names::default(), m))
            })
            .await
    }

    /// Posts `text` to the chat of me and `people` (encrypted to them).
    pub async fn send_to(
        &self,
        people: Vec<String>,
        text: String,
    ) -> Result<ChatMessage, ChatError> {
        self.shared
            .blocking(move |app| {
                let fids = resolve_all(app, &people)?;
                let m = app.send_to(&fids, &text)?;
                Ok(message(app, &mut Names::default(), m))
            })
            .await
    }

    /// A message by its id.
    pub async fn message(&self, id: String) -> Result<Option<ChatMessage>, ChatError> {
        self.shared
            .blocking(move |app| {
                let mid = parse_mid(&id)?;
                Ok(app
                    .chats()
                    .message(&mid)?
                    .map(|m| message(app, &mut Names::default(), m)))
            })
            .await
    }

    /// Up to `limit` messages I can read containing every word of `query`, newest first.
    pub async fn search(&self, query: String, limit: u32) -> Result<Vec<ChatMessage>, ChatError> {
        self.shared
            .blocking(move |app| {
                let mut names = Names::default();
                Ok(app
                    .chats()
                    .search(&query, limit as usize)?
                    .into_iter()
                    .map(|m| message(app, &mut names, m))
                    .collect())
            })
            .await
    }
}

/// One chat: its history, its live timeline, sending and marking read.
#[derive(uniffi::Object)]
pub struct Conversation {
    shared: Arc<Shared>,
    id: ChatId,
    timelines: Mutex<Vec<(Arc<TimelineState>, Weak<TaskHandle>)>>,
}

impl Conversation {
    fn new(shared: Arc<Shared>, id: ChatId) -> Arc<Conversation> {
        Arc::new(Conversation {
            shared,
            id,
            timelines: Mutex::new(Vec::new()),
        })
    }

    fn live(&self) -> Vec<Arc<TimelineState>> {
        let Ok(mut t) = self.timelines.lock() else {
            return Vec::new();
        };
        // A stream lives while its handle does.
        t.retain(|(_, h)| h.upgrade().is_some_and(|h| !h.is_finished()));
        t.iter().map(|(s, _)| s.clone()).collect()
    }
}

#[uniffi::export]
impl Conversation {
    /// The chat's id.
    pub fn id(&self) -> String {
        self.id.to_string()
    }

    /// The chat's list entry (title, unread, preview).
    pub async fn summary(&self) -> Result<ChatListItem, ChatError> {
        let id = self.id.clone();
        self.shared
            .blocking(move |app| Ok(list_item(app, app.chat_entry(&id)?)))
            .await
    }

    /// Up to `limit` messages older than `before` (a cursor; the newest if none), oldest
    /// first.
    pub async fn page(&self, before: Option<String>, limit: u32) -> Result<MessagePage, ChatError> {
        let id = self.id.clone();
        self.shared
            .blocking(move |app| {
                let before = before.as_deref().map(parse_cursor).transpose()?;
                let (msgs, more) = app.timeline_page(&id, before.as_ref(), limit as usize)?;
                let older = if more {
                    msgs.first().map(|m| m.cursor.to_string())
                } else {
                    None
                };
                let mut names = Names::default();
                Ok(MessagePage {
                    messages: msgs
                        .into_iter()
                        .map(|m| message(app, &mut names, m))
                        .collect(),
                    older,
                })
            })
            .await
    }

    /// Delivers the timeline to `listener`: a `Reset` with the newest `page_size` messages
    /// (oldest first), then `Append` for new messages, `Set` for a changed message (its
    /// delivery state), `Insert`/`Remove` for a message placed later, `PushFront` for older
    /// pages (`page_back`). Stops when the handle is dropped or cancelled.
    pub fn subscribe(
        &self,
        listener: Box<dyn TimelineListener>,
        page_size: u32,
    ) -> Result<Arc<TaskHandle>, ChatError> {
        let (state, handle) =
            stream::timeline(self.shared.clone(), self.id.clone(), listener, page_size)?;
        if let Ok(mut t) = self.timelines.lock() {
            t.push((state, Arc::downgrade(&handle)));
        }
        Ok(handle)
    }

    /// Loads `count` older messages into every live timeline of this conversation (a
    /// `PushFront`); false once the beginning of the chat is shown.
    pub async fn page_back(&self, count: u32) -> Result<bool, ChatError> {
        let live = self.live();
        self.shared
            .blocking(move |app| {
                let mut more = false;
                for t in live {
                    more |= t.page_back(app, count as usize)?;
                }
                Ok(more)
            })
            .await
    }

    /// Posts `text` here.
    pub async fn send(&self, text: String) -> Result<ChatMessage, ChatError> {
        let id = self.id.clone();
        self.shared
            .blocking(move |app| {
                let m = app.send(&id, &text)?;
                Ok(message(app, &mut Names::default(), m))
            })
            .await
    }

    /// Marks the chat read (a read receipt goes to the other person of a one-to-one chat
    /// when receipts are on).
    pub async fn mark_read(&self) -> Result<(), ChatError> {
        let id = self.id.clone();
        self.shared
            .blocking(move |app| Ok(app.mark_read(&id)?))
            .await
    }
}
