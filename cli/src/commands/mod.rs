//! One file per user command, each a few calls of the front door (`lichen::App`, or
//! `lichen::app::Pub` for a data directory without identity) or of plain library types
//! (`lichen::wire` decoding, `lichen::invite` beacons, the dongle pairing API). What several
//! commands share — argument groups, opening the door, printing a run — is in [`common`].

pub mod accept;
pub mod beacon;
pub mod chat;
pub mod chats;
pub mod common;
pub mod connect;
pub mod contacts;
pub mod dongle;
pub mod dongle_emu;
pub mod export;
pub mod feeds;
pub mod id;
pub mod import;
pub mod init;
pub mod inspect;
pub mod invite;
pub mod log;
pub mod messages;
pub mod post;
pub mod read;
pub mod send;
pub mod serve;
