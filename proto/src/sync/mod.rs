//! The sans-IO replication engine: demux tables, GOset, WANT/CHNK, per-link scheduling and the
//! LoRa airtime budget. Driven by calls with an injected clock and random source.

pub mod engine;
pub mod goset;
pub mod link;
pub mod repair;
pub mod stash;

pub use crate::time::Millis;
pub use engine::{Config, Engine, Event, FeedProgress, Outgoing, Stats};
pub use link::{FaceId, FaceProfile, Pace};
