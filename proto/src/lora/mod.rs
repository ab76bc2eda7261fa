//! LoRa time on air, the tinySSB frequency plans, and the duty-cycle budget a LoRa face spends.
//!
//! Three things live here because a LoRa scheduler needs all three at once:
//!
//! * **Time on air** by the Semtech formula (SX1276 datasheet §4.1.1.7, SX1261/2 datasheet
//!   §6.1.4, application note AN1200.13), computed in integer nanoseconds and reported in
//!   whole microseconds, rounded up. For the 125/250/500 kHz bandwidths every symbol lasts a
//!   whole number of microseconds, so the figures are exact, not rounded.
//! * **The plan table** of the current ESP32 firmware (spec §6.2): frequency, bandwidth,
//!   spreading factor, coding rate and sync word per plan name.
//! * **The duty-cycle budget** ([`AirtimeBudget`]): a sliding one-hour window over what this
//!   node sent, which refuses a frame that would break the region's limit and says when
//!   sending can resume — what Meshtastic does and deployed tinySSB dongles do not (spec §10.6).
//!
//! Time is a plain `u64` of milliseconds ([`Millis`], the same alias as the engine's), airtime
//! a `u64` of microseconds ([`Micros`]). Nothing here reads a clock or does I/O; randomness
//! (only for [`esp32_slot_gap`]) comes from the caller's RNG.
//!
//! The room is split by job: [`airtime`] (time on air and the reference pacing), [`plan`]
//! (regions and the firmware's plan table) and [`budget`] (the sliding-hour duty budget).
//! Their items are re-exported here, so `lora::Plan` and `lora::AirtimeBudget` name them.

pub mod airtime;
pub mod budget;
pub mod plan;

#[cfg(test)]
mod tests;

pub use airtime::*;
pub use budget::*;
pub use plan::*;

pub use crate::time::Millis;
/// Microseconds, the unit of airtime.
pub type Micros = u64;

/// Largest LoRa payload: the radio's length field is one byte.
pub const MAX_FRAME_LEN: usize = 255;
/// Preamble length used by every tinySSB dongle (symbols).
pub const TINYSSB_PREAMBLE: u16 = 8;
/// Symbol time above which low-data-rate optimisation is switched on (Semtech: 16 ms).
pub const LDRO_SYMBOL_THRESHOLD_US: u64 = 16_000;
/// The window ETSI EN 300 220 measures duty cycle over: one hour.
pub const DUTY_WINDOW_MS: Millis = 3_600_000;
