//! The relay's wall clock, read in one place. The relay must not depend on `lichen` (the
//! core's tests run a relay), so this is the small twin of `lichen::clock`: a clock set
//! before 1970 reads as 0, never an error; the values are informative (notice timestamps,
//! a load run's nonce), never used to order anything.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Seconds since the Unix epoch with a fraction.
pub(crate) fn unix_secs_f64() -> f64 {
    since_epoch().as_secs_f64()
}

/// Nanoseconds since the Unix epoch, cut to 64 bits (a nonce, not a time).
pub(crate) fn unix_nanos_u64() -> u64 {
    since_epoch().as_nanos() as u64
}
