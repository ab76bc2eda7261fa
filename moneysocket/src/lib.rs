//! Moneysocket for Lichen: beacons (invite and pairing strings), BigSize and
//! TLV, wad and provider info, message framing, the deployed v0 JSON
//! messages with their AES-256-CBC codec, and a sans-IO description of the
//! rendezvous relay protocol.
//!
//! Moneysocket exists in two incompatible wire generations. **v0** is what
//! every running app and relay speaks (big private TLV types, raw JSON
//! messages, static-key AES-CBC). **v1** is the RFC draft (small TLV types,
//! versions, a TLV envelope around JSON); only codecs of it were ever
//! written. Modules and types name their generation: [`beacon::v0`],
//! [`beacon::v1`], [`v0`] (messages), [`message`] (v1 framing).
//!
//! Everything here is pure: no sockets, no clocks and no randomness unless
//! the caller passes them in. Decoders never panic; every failure is a value
//! from [`error`].

// Every module decodes bytes or text from outside: no index or slice that could panic.
#![deny(clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::indexing_slicing))]

pub mod beacon;
pub mod bech32;
pub mod bigsize;
pub mod error;
pub mod iso4217;
pub mod json;
pub mod message;
pub mod provider_info;
pub mod rendezvous;
pub mod seed;
pub mod tlv;
pub mod uuid;
pub mod v0;
pub mod version;
pub mod wad;

/// Every beacon HRP starts with this (v0 beacons use exactly this).
pub const HRP_PREFIX: &str = "moneysocket";

pub use beacon::AnyBeacon;
pub use seed::{AesKey, RendezvousId, SharedSeed};
pub use version::Version;
