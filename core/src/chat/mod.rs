//! The app layer: the deployed tinySSB app's message formats and the `chats` service.
//!
//! * [`tav`]: text-and-voice posts (4-, 5- and 6-element forms);
//! * [`private_box`]: encryption to up to 7 recipients, byte-compatible with the app;
//! * [`content`]: what any entry means (post, receipt, alias, trust, other app, unreadable);
//! * [`chat_id`]: chats named by their sorted member set, as deployed;
//! * [`Chats`]: the service a UI uses — list, open, page, send, mark read, search, contacts,
//!   events — over a chat index derived from the feed logs (`index`, `ingest`, `search`).

pub mod contacts;
mod gap_claims;
mod gate;
mod index;
mod ingest;
mod inner;
mod members;
mod msglog;
mod other;
mod routes;
mod search;
mod service;
mod texts;
mod types;

pub use lichen_proto::chat::{chat_id, content, holds, private_box, tav};

pub use chat_id::{ChatId, ChatIdError};
pub use gap_claims::Gap;
pub use gate::SignGate;
pub use members::{GroupDelivery, MemberState};
pub use routes::{LinkKind, Route, RouteDirection};
pub use service::{Chats, ChatsConfig};
pub use types::{
    ChatError, ChatEvent, ChatSummary, Contact, Cursor, DeliveryState, Message, MessageBody,
    OtherEntry, OtherKind, Page,
};
