//! The sans-IO replication engine: demux tables, GOset, WANT/CHNK, per-link scheduling and the
//! LoRa airtime budget. Driven by calls with an injected clock and random source.

/// The LoRa room under its old name here (`crate::lora`).
pub use crate::lora as airtime;
pub mod engine;
pub mod face;
pub mod goset;
pub mod repair;
pub mod stash;

pub use engine::{Config, Engine, Event, FeedProgress, Outgoing, Stats};
pub use face::{FaceId, FaceProfile, Millis, Pace};
