//! The deployed tinySSB app's message formats, as pure codecs:
//!
//! * [`tav`]: text-and-voice posts (4-, 5- and 6-element forms);
//! * [`private_box`]: encryption to up to 7 recipients, byte-compatible with the app;
//! * [`content`]: what any entry means (post, receipt, alias, trust, other app, unreadable);
//! * [`holds`]: a member's signed record of how far it holds and has read a group;
//! * [`chat_id`]: chats named by their sorted member set, as deployed.
//!
//! The chat service over an index of these lives in `lichen::chat`.

pub mod chat_id;
pub mod content;
pub mod holds;
pub mod private_box;
pub mod tav;
