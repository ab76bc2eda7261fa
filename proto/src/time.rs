//! Time as the protocol sees it: plain milliseconds on a clock the caller injects.
//!
//! The engine, its schedulers, the LoRa budget and the simulated media all take "now" as an
//! argument and never read a clock, so one type names that unit everywhere.

/// Milliseconds on the caller's clock (the node's: since it started; a test's: whatever it
/// likes). Only differences and order matter.
pub type Millis = u64;
