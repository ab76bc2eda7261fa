//! Lichen core: the tinySSB wire format, identities, feeds, replication and chat.
//!
//! The house is described in `docs/ARCHITECTURE.md`. This crate does the I/O — stores, the
//! node runtime, links, the chat service, BLE, invites — over the sans-IO protocol crate
//! `lichen_proto`, whose modules it re-exports under the same names. It knows nothing about
//! FFI, UI or a particular radio.

#![warn(unreachable_pub)]

pub mod app;
pub mod backoff;
pub mod ble;
// The chat service is being rewritten by another change; its private items get the lint
// with it.
#[allow(unreachable_pub)]
pub mod chat;
pub mod clock;
pub mod emu;
pub mod face;
pub mod feed;
pub mod fsutil;
pub mod identity;
pub mod invite;
pub mod node;
pub mod sim;
pub mod store;
pub mod text;

/// LoRa time on air, region plans and the duty budget (from `lichen_proto`).
pub use lichen_proto::lora;
/// The sans-IO replication engine (from `lichen_proto`).
pub use lichen_proto::sync;
/// Time as the protocol sees it: [`time::Millis`] (from `lichen_proto`).
pub use lichen_proto::time;
/// The bytes on the wire (from `lichen_proto`).
pub use lichen_proto::wire;

pub use app::{App, AppError, AppEvent, AppOptions, KeyIs};
pub use identity::{FeedId, FeedKey, Identity, IdentityError, IdentityFile};
pub use wire::{Dmx, Mid};
