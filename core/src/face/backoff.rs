//! When to try a link again: exponential backoff with jitter, as a pure policy.
//!
//! The relay link reconnects forever. Each failed attempt doubles the delay, from `initial` up
//! to `max`; each delay is then shortened by a random fraction of up to `jitter`, so that many
//! clients cut off at once (a relay restart) do not come back in lockstep. A session that
//! stayed healthy for `good_after` (the relay answered and kept us) resets the delay, so a
//! link that ran for hours comes back fast after a short outage. The policy never gives up.
//!
//! Time and randomness are inputs (milliseconds and a random source), so the policy runs
//! under a fake clock in tests.

use std::time::Duration;

use rand_core::RngCore;

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay after the first failure (before jitter).
    pub initial: Duration,
    /// Longest delay (before jitter).
    pub max: Duration,
    /// Largest share of a delay removed at random, in per mille (0 = none, 1000 = "full
    /// jitter": anything from 0 to the delay).
    pub jitter_permille: u16,
    /// A session healthy for this long resets the delay to `initial`.
    pub good_after: Duration,
}

impl Default for BackoffConfig {
    /// 500 ms doubling to 30 s, half jitter, reset after 10 s of health.
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            jitter_permille: 500,
            good_after: Duration::from_secs(10),
        }
    }
}

/// The state of one link's backoff.
#[derive(Debug, Clone)]
pub struct Backoff {
    cfg: BackoffConfig,
    failures: u32,
    healthy_since: Option<u64>,
}

impl Backoff {
    /// A fresh policy (the first retry waits about `initial`).
    pub fn new(cfg: BackoffConfig) -> Backoff {
        Backoff {
            cfg,
            failures: 0,
            healthy_since: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &BackoffConfig {
        &self.cfg
    }

    /// Failures counted since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The session became healthy at `now_ms` (the relay answered our request).
    pub fn healthy(&mut self, now_ms: u64) {
        self.healthy_since.get_or_insert(now_ms);
    }

    /// The session ended at `now_ms`: how long to wait before the next attempt.
    pub fn retry_delay(&mut self, now_ms: u64, rng: &mut impl RngCore) -> Duration {
        let good_after = u64::try_from(self.cfg.good_after.as_millis()).unwrap_or(u64::MAX);
        if let Some(since) = self.healthy_since.take() {
            if now_ms.saturating_sub(since) >= good_after {
                self.failures = 0;
            }
        }
        let base = self.base();
        self.failures = self.failures.saturating_add(1);
        let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        let jitter = u64::from(self.cfg.jitter_permille.min(1000));
        let most_off = base_ms.saturating_mul(jitter) / 1000;
        let off = if most_off == 0 {
            0
        } else {
            rng.next_u64() % (most_off + 1)
        };
        Duration::from_millis(base_ms - off)
    }

    /// The delay before jitter for the next attempt.
    fn base(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.cfg
            .initial
            .checked_mul(factor)
            .unwrap_or(self.cfg.max)
            .min(self.cfg.max)
    }
}
