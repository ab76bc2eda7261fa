//! Lichen core: the tinySSB wire format, identities, feeds, replication and chat.
//!
//! The house is described in `docs/ARCHITECTURE.md`. This crate knows nothing about FFI, UI
//! or a particular radio; its protocol code is sans-IO.

pub mod ble;
pub mod chat;
pub mod emu;
pub mod face;
pub mod feed;
pub mod fsutil;
pub mod identity;
pub mod invite;
pub mod node;
pub mod sim;
pub mod store;
pub mod sync;
pub mod text;
pub mod wire;

pub use identity::{FeedId, FeedKey, Identity, IdentityError};
pub use wire::{Dmx, Mid};
