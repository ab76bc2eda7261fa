//! Lichen: offline group chat over tinySSB.
//!
//! # The front door
//!
//! An app opens one data directory with [`App::open`] and uses only what this root
//! re-exports: [`App`] and its [`AppOptions`], the one event type [`AppEvent`] (links,
//! chats, the dongle, runs), the error [`AppError`], and the records it hands back — ids
//! ([`FeedId`], [`Mid`], [`ChatId`]), chat records ([`Contact`], [`Cursor`], [`ChatEvent`]),
//! invites ([`Invite`]), runs ([`RunUntil`], [`RunReport`]) and settings. [`text::safe`]
//! shows a peer's words on a terminal; [`clock`] is the one wall clock. The desktop app uses
//! nothing else; the CLI and the FFI bindings add a few records of [`app`]'s modules.
//!
//! # The developer surface
//!
//! The modules below the front door — the wire format, the replication engine, stores,
//! the node runtime, links (faces), BLE, the emulator and simulator — are public for the
//! developer tools in this repository: benchmarks, fuzz targets, the dongle emulator and the
//! integration tests, which drive the machinery directly. They are documented, but they are
//! the engine, not the app API: an app should not need them. `docs/ARCHITECTURE.md` maps
//! them; ADR 0035 gives the rule for what is public.

#![warn(unreachable_pub)]

// The front door.
pub mod app;
pub mod clock;
mod identity;
pub mod invite;
pub mod text;

// The developer surface (see the crate doc).
/// Developer surface: retry delays with jitter (its [`BackoffConfig`] is also an option).
pub mod backoff;
/// Developer surface: the BLE dongle link (centrals, pairing, the GATT framing).
pub mod ble;
// The chat service is being rewritten by another change; its private items get the lint
// with it.
/// Developer surface: the chat service (its records are re-exported at the root).
#[allow(unreachable_pub)]
pub mod chat;
/// Developer surface: the dongle emulator (GATT server, radio, scheduler).
pub mod emu;
/// Developer surface: links ("faces"): WebSocket, UDP, relays and tunnels.
pub mod face;
/// Developer surface: writing and reading the own feed's entries.
pub mod feed;
/// Developer surface: bounded reads of small files (keys, PEM roots, records).
pub mod fsutil;
/// Developer surface: the node runtime that drives the engine over links and a store.
pub mod node;
/// Developer surface: a deterministic network simulator for many nodes.
pub mod sim;
/// Developer surface: the stores (sled, memory, the reference model).
pub mod store;

/// Developer surface: LoRa time on air, region plans and the duty budget (from
/// `lichen_proto`).
pub use lichen_proto::lora;
/// Developer surface: the sans-IO replication engine (from `lichen_proto`).
pub use lichen_proto::sync;
/// Developer surface: time as the protocol sees it: [`time::Millis`] (from `lichen_proto`).
pub use lichen_proto::time;
/// Developer surface: the bytes on the wire (from `lichen_proto`).
pub use lichen_proto::wire;

pub use app::serve::{DongleEvent, LinkInfo, RelayOptions, RelayStatus, UdpConfig};
pub use app::{
    App, AppError, AppEvent, AppOptions, Conversation, KeyIs, KeyState, Layout, LinkHandle, Pub,
    RunReport, RunUntil, Settings, Started, SyncSummary, Watch,
};
pub use backoff::BackoffConfig;
pub use chat::{ChatError, ChatEvent, ChatId, Contact, Cursor, DeliveryState};
pub use identity::IdentityFile;
pub use invite::{Invite, InviteError};
pub use lichen_proto::identity::{FeedId, FeedKey, Identity, IdentityError};
pub use wire::{Dmx, Mid};
