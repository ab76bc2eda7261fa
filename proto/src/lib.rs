//! Lichen's protocol core, sans-IO: the tinySSB wire format, identities, the replication
//! engine with its schedulers and LoRa airtime budget, the chat codecs and private boxes, and
//! the simulated radio media.
//!
//! Nothing here opens a file or a socket, and nothing depends on a runtime: every input —
//! bytes, the time, randomness, storage — is handed in by the caller (the `lichen` crate's
//! node, a test, a simulation). The dependency tree is checked to stay that way
//! (`scripts/check-proto-deps.sh`).

pub mod chat;
pub mod identity;
pub mod lora;
pub mod sim;
pub mod store;
pub mod sync;
pub mod time;
// Decoders of outside bytes: no index or slice that could panic (`get` and friends instead).
#[deny(clippy::indexing_slicing)]
pub mod wire;

pub use identity::{FeedId, FeedKey, Identity, IdentityError};
pub use time::Millis;
pub use wire::{Dmx, Mid};
