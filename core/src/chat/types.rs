//! The types the chat service hands to a UI: messages, chat summaries, delivery states,
//! cursors, contacts, events and errors.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::chat::chat_id::ChatId;
use crate::chat::content::Payload;
use crate::chat::private_box::BoxError;
use crate::chat::routes::Route;
use crate::feed::FeedError;
use crate::identity::FeedId;
use crate::node::NodeError;
use crate::store::StoreError;
use crate::wire::Mid;

/// How far one of my messages has come. Each state implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryState {
    /// In my log (on disk), not yet seen leaving this device.
    Written,
    /// Handed to a link for a peer.
    Sent,
    /// Another device holds it: a peer asked for a later entry of my feed.
    Stored,
    /// The recipient's device confirmed it arrived (DLV; one-to-one chats only).
    Delivered,
    /// The recipient saw it (ACK; one-to-one chats only).
    Read,
}

impl DeliveryState {
    /// A short lowercase name (`written`, `sent`, `stored`, `delivered`, `read`).
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Written => "written",
            DeliveryState::Sent => "sent",
            DeliveryState::Stored => "stored",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
        }
    }
}

/// Where a page of history ends; pass it back to get the next (older) page. Its text form
/// (hex) is stable for scripts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(pub(crate) Vec<u8>);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl FromStr for Cursor {
    type Err = ChatError;

    fn from_str(s: &str) -> Result<Cursor, ChatError> {
        match hex::decode(s) {
            Ok(b) if b.len() == crate::chat::index::MSG_KEY_LEN => Ok(Cursor(b)),
            _ => Err(ChatError::Invalid(format!("not a history cursor: {s}"))),
        }
    }
}

/// What a message shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageBody {
    /// A post.
    Post {
        /// The text as written (location prefix and data URLs intact); `None` for voice only.
        text: Option<String>,
        /// The text without the location prefix.
        body: Option<String>,
        /// The plus code of the location prefix.
        location: Option<String>,
        /// Codec2 voice data.
        voice: Option<Vec<u8>>,
        /// What the post carries.
        payload: Payload,
    },
    /// An entry meant for this chat that cannot be read (e.g. a public post with fields of
    /// the wrong type).
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id (the entry's message id; `to_b64` gives the app's ref).
    pub mid: Mid,
    /// The chat.
    pub chat: ChatId,
    /// The author.
    pub author: FeedId,
    /// The entry's sequence number in the author's feed.
    pub seq: u32,
    /// The author's timestamp (unix seconds; not trusted for order).
    pub ts: i64,
    /// What it shows.
    pub body: MessageBody,
    /// For my own messages: how far it has come.
    pub state: Option<DeliveryState>,
    /// Its position in the history (pass to `page` to continue after it).
    pub cursor: Cursor,
    /// The link it first arrived on (or, mine, first left by) and when; `None` if it has not
    /// travelled over a link this device saw (written here and not yet sent, or it came
    /// before routes were recorded).
    pub route: Option<Route>,
}

impl Message {
    /// The text to show (location prefix removed), if any.
    pub fn text(&self) -> Option<&str> {
        match &self.body {
            MessageBody::Post { body, .. } => body.as_deref(),
            MessageBody::Unreadable { .. } => None,
        }
    }
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// Where the next (older) page starts; `None` at the beginning of the chat.
    pub next: Option<Cursor>,
}

/// A chat in the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    /// Its id.
    pub id: ChatId,
    /// A name to show: "Public channel", "Notes to self", or the other members' names.
    pub title: String,
    /// Messages from others not yet marked read.
    pub unread: u32,
    /// Messages in the chat.
    pub total: u32,
    /// Timestamp of the newest message (0 if none).
    pub last_ts: i64,
}

/// A person I know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Their feed.
    pub fid: FeedId,
    /// The name I gave them (local only).
    pub alias: Option<String>,
    /// The name they announce (IAM).
    pub iam: Option<String>,
    /// The trust level I recorded (TRT): 0 untrusted, 1 trusted, 2 verified.
    pub trust: Option<i64>,
    /// The name to show: my alias, else theirs, else the short name.
    pub name: String,
}

/// Something a UI should redraw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// A message was added to a chat (or moved, when a late cause arrived).
    Message {
        /// The chat.
        chat: ChatId,
        /// The message.
        mid: Mid,
        /// Whether I wrote it.
        mine: bool,
    },
    /// One of my messages advanced.
    State {
        /// The chat.
        chat: ChatId,
        /// The message.
        mid: Mid,
        /// Its new state.
        state: DeliveryState,
    },
    /// A chat's unread count changed (marked read).
    Read {
        /// The chat.
        chat: ChatId,
    },
    /// Contacts, aliases or trust changed.
    Contacts,
    /// An entry that is not a chat message was listed (other app, unreadable, encrypted for
    /// others).
    Other {
        /// The author.
        fid: FeedId,
        /// The entry.
        seq: u32,
    },
    /// A member's delivery record moved what members hold or have read in a group
    /// (reload the messages' `Chats::delivery`).
    Members {
        /// The chat.
        chat: ChatId,
    },
    /// A member's signed record says an author's feed goes further than this device holds
    /// (`Chats::gaps` tells how many and over which link; it clears when they arrive).
    Gap {
        /// The chat.
        chat: ChatId,
        /// Whose messages are missing.
        author: FeedId,
        /// How many, on that record's word.
        missing: u32,
    },
    /// Too much changed to say what: reload what is shown.
    Reload,
}

/// Why a chat operation failed.
#[derive(Debug, Error)]
pub enum ChatError {
    /// The feed store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing failed.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// Encryption failed (e.g. too many recipients).
    #[error(transparent)]
    Box(#[from] BoxError),
    /// The chat index failed.
    #[error("chat index: {0}")]
    Index(String),
    /// I am not a member of the chat I tried to post to.
    #[error("you are not a member of this chat")]
    NotAMember,
    /// A name that is neither a feed id nor a contact's alias.
    #[error("unknown contact {0:?} (give @….ed25519, a feed id in hex, or a contact's alias)")]
    UnknownContact(String),
    /// A name several contacts go by.
    #[error("{0:?} names several contacts; use the feed id")]
    AmbiguousContact(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Signing on the own feed is held (see [`crate::chat::SignGate`]); says why and how
    /// to recover.
    #[error("{0}")]
    Held(String),
}

impl From<sled::Error> for ChatError {
    fn from(e: sled::Error) -> Self {
        ChatError::Index(e.to_string())
    }
}

impl From<serde_json::Error> for ChatError {
    fn from(e: serde_json::Error) -> Self {
        ChatError::Index(format!("corrupt record: {e}"))
    }
}

/// What an entry that is not a chat message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherKind {
    /// An entry of another app (KAN, TTT, …): kept, not shown in chats.
    OtherApp {
        /// Its app tag.
        tag: String,
    },
    /// A private box addressed to others.
    Sealed,
    /// Content that cannot be read.
    Unreadable {
        /// The app tag, if the content got that far.
        tag: Option<String>,
        /// Why.
        reason: String,
    },
}

/// An entry listed outside the chats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherEntry {
    /// The author.
    pub author: FeedId,
    /// Its sequence number.
    pub seq: u32,
    /// Its message id.
    pub mid: Mid,
    /// What it is.
    pub kind: OtherKind,
}
