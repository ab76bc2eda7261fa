//! The wall clock, read in one place.
//!
//! The engine runs on its own monotonic milliseconds ([`crate::time::Millis`], injected);
//! what is shown to people or written to files (status records, pairing dates, rendezvous
//! timestamps) is wall-clock time since the Unix epoch, read here. A clock set before 1970
//! reads as 0 rather than failing: these values are informative, never used for ordering
//! protocol data.

use std::time::{SystemTime, UNIX_EPOCH};

fn since_epoch() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    u64::try_from(since_epoch().as_millis()).unwrap_or(u64::MAX)
}

/// Whole seconds since the Unix epoch.
pub fn unix_secs() -> u64 {
    since_epoch().as_secs()
}

/// Seconds since the Unix epoch with a fraction (the Moneysocket rendezvous timestamp).
pub fn unix_secs_f64() -> f64 {
    since_epoch().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_readings_agree() {
        let ms = unix_ms();
        let s = unix_secs();
        let f = unix_secs_f64();
        // After 2020, and within a few seconds of each other.
        assert!(s > 1_577_836_800);
        assert!(ms / 1000 >= s.saturating_sub(2) && ms / 1000 <= s + 2);
        assert!((f - s as f64).abs() < 3.0);
    }
}
