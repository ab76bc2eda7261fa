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
//! # Below the door
//!
//! The engine's rooms — the node runtime, the stores, links ("faces"), the own-feed
//! writer, the replication engine, the simulator — are private. The `internals` feature
//! makes them public for this repository's developer tools (benchmarks, fuzz targets, the
//! integration tests), which drive the machinery directly; no app enables it, and
//! `scripts/test.sh` checks the CLI, the bindings and the desktop app without it, so the
//! compiler keeps them on the door. Public besides the door, on purpose: [`chat`] (the
//! records a chat screen shows), [`ble`] (the central port a phone's Bluetooth implements,
//! pairing and status), [`emu`] (the dongle emulator, a product tool), and the protocol's
//! [`wire`] (message ids, packets) and [`lora`] (region plans, airtime). ADR 0035 gives the
//! rule; `docs/ARCHITECTURE.md` maps the rooms.

#![warn(unreachable_pub)]
// Without `internals` the engine's rooms are private, and what only the developer tools call
// (or the rooms re-export for them) is unused and unreachable from here; with it (every
// workspace build: clippy, tests) these lints apply in full.
#![cfg_attr(
    not(feature = "internals"),
    allow(dead_code, unreachable_pub, unused_imports)
)]

/// Declares one of the engine's rooms: public with the `internals` feature, private to the
/// crate without it.
macro_rules! room {
    ($(#[$meta:meta])* mod $name:ident;) => {
        $(#[$meta])*
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        mod $name;
    };
    ($(#[$meta:meta])* use $path:path as $name:ident;) => {
        $(#[$meta])*
        #[cfg(feature = "internals")]
        pub use $path as $name;
        #[cfg(not(feature = "internals"))]
        use $path as $name;
    };
}

// The front door.
pub mod app;
pub mod clock;
mod identity;
pub mod invite;
pub mod text;

// Public besides the door (see the crate doc).
/// The BLE dongle link: the central port apps implement, pairing, status, the GATT framing.
pub mod ble;
// The chat service is being rewritten by another change; its private items get the lint
// with it.
/// The chat service's records (re-exported at the root) and the service itself.
#[allow(unreachable_pub)]
pub mod chat;
/// The dongle emulator (GATT server, radio, scheduler): `lichen dongle-emu`, app tests.
pub mod emu;
/// LoRa time on air, region plans and the duty budget (from `lichen_proto`).
pub use lichen_proto::lora;
/// The bytes on the wire: packets, entries, message ids (from `lichen_proto`).
pub use lichen_proto::wire;

// Below the door: public only with `internals`.
room! {
    /// Retry delays with jitter (its [`BackoffConfig`] is also an option).
    mod backoff;
}
room! {
    /// Links ("faces"): WebSocket, UDP, relays and tunnels.
    mod face;
}
room! {
    /// Writing and reading the own feed's entries.
    mod feed;
}
room! {
    /// Bounded reads of small files (keys, PEM roots, records).
    mod fsutil;
}
room! {
    /// The node runtime that drives the engine over links and a store.
    mod node;
}
room! {
    /// A deterministic network simulator for many nodes.
    mod sim;
}
room! {
    /// The stores (sled, memory, the reference model).
    mod store;
}
room! {
    /// The sans-IO replication engine (from `lichen_proto`).
    use lichen_proto::sync as sync;
}
room! {
    /// Time as the protocol sees it: `time::Millis` (from `lichen_proto`).
    use lichen_proto::time as time;
}

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
