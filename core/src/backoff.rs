//! When to try a link again: one reconnect policy for every link that retries (relay links,
//! dongle links), exponential with jitter, as pure logic.
//!
//! Retry `k` (from 0) waits `min(initial · factor^k, max)`, less a random share of up to
//! `jitter_permille` of it, so that many clients cut off at once (a relay restart, phones
//! that lost the same dongle) do not come back in lockstep; never less than 1 ms. A link
//! that stayed healthy for `good_after` (the relay answered and kept us; the dongle stayed
//! connected) resets the count, so a link that ran for hours comes back fast after a short
//! outage. The policy never gives up by itself: only [`Backoff::stop`] (unpairing) ends it.
//!
//! Time and randomness are inputs (milliseconds on the caller's clock, a seed), so the
//! policy runs under a fake clock in tests.

use std::time::Duration;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::time::Millis;

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay after the first failure (before jitter).
    pub initial: Duration,
    /// Longest delay (before jitter).
    pub max: Duration,
    /// Growth per failure (0 and 1 both mean: no growth).
    pub factor: u32,
    /// Largest share of a delay removed at random, in per mille (0 = none, 1000 = "full
    /// jitter": anything from 1 ms to the delay).
    pub jitter_permille: u16,
    /// A link healthy for this long resets the delay to `initial`.
    pub good_after: Duration,
}

impl Default for BackoffConfig {
    /// Relay links: 500 ms doubling to 30 s, half jitter, reset after 10 s of health.
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2,
            jitter_permille: 500,
            good_after: Duration::from_secs(10),
        }
    }
}

fn ms(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

impl BackoffConfig {
    /// Dongle links: 1 s doubling to 60 s, 30 % jitter, healthy after 30 s connected.
    pub fn dongle() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2,
            jitter_permille: 300,
            good_after: Duration::from_secs(30),
        }
    }

    /// The wait before retry `k` without jitter (at least 1 ms).
    pub fn base_delay(&self, k: u32) -> Duration {
        let max = ms(self.max).max(1);
        let growth = u64::from(self.factor.max(1)).checked_pow(k.min(64));
        let d = growth
            .and_then(|g| ms(self.initial).max(1).checked_mul(g))
            .unwrap_or(max);
        Duration::from_millis(d.min(max))
    }

    /// The shortest wait jitter can make of retry `k`.
    pub fn min_delay(&self, k: u32) -> Duration {
        let base = ms(self.base_delay(k));
        Duration::from_millis(base.saturating_sub(self.most_off(base)).max(1))
    }

    fn most_off(&self, base: Millis) -> Millis {
        let jitter = u128::from(self.jitter_permille.min(1000));
        Millis::try_from(u128::from(base) * jitter / 1000).unwrap_or(base)
    }
}

/// The reconnect state of one link.
#[derive(Debug, Clone)]
pub struct Backoff {
    cfg: BackoffConfig,
    failures: u32,
    healthy_since: Option<Millis>,
    stopped: bool,
    rng: ChaCha8Rng,
}

impl Backoff {
    /// A fresh policy (the first retry waits about `initial`), its jitter drawn from `seed`.
    pub fn new(cfg: BackoffConfig, seed: u64) -> Backoff {
        Backoff {
            cfg,
            failures: 0,
            healthy_since: None,
            stopped: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
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

    /// The link became healthy at `now` (the relay answered; the dongle connected). Marking
    /// it again before the next retry keeps the first instant.
    pub fn healthy(&mut self, now: Millis) {
        self.healthy_since.get_or_insert(now);
    }

    /// The link ended (or an attempt failed) at `now`: how long to wait before the next
    /// attempt; `None` once stopped.
    pub fn retry_delay(&mut self, now: Millis) -> Option<Duration> {
        if let Some(since) = self.healthy_since.take() {
            if now.saturating_sub(since) >= ms(self.cfg.good_after) {
                self.failures = 0;
            }
        }
        if self.stopped {
            return None;
        }
        let base = ms(self.cfg.base_delay(self.failures));
        self.failures = self.failures.saturating_add(1);
        let most_off = self.cfg.most_off(base);
        let off = if most_off == 0 {
            0
        } else {
            self.rng.next_u64() % (most_off.saturating_add(1))
        };
        Some(Duration::from_millis(base.saturating_sub(off).max(1)))
    }

    /// Stops retrying for good (the device was unpaired).
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether retries have stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dongle_like() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2,
            jitter_permille: 400,
            good_after: Duration::from_secs(10),
        }
    }

    fn wait(b: &mut Backoff, now: Millis) -> Millis {
        ms(b.retry_delay(now).unwrap())
    }

    #[test]
    fn waits_grow_exponentially_within_their_bounds_and_stop_growing_at_the_cap() {
        let mut b = Backoff::new(dongle_like(), 7);
        let mut now = 0;
        for k in 0..20u32 {
            let w = wait(&mut b, now);
            let hi = (500u64 << k.min(10)).min(30_000);
            let lo = hi - hi * 40 / 100;
            assert!(
                (lo..=hi).contains(&w),
                "retry {k}: waited {w} ms, expected {lo}..={hi}"
            );
            now += w;
        }
        let c = dongle_like();
        assert_eq!(c.base_delay(0), Duration::from_millis(500));
        assert_eq!(c.base_delay(3), Duration::from_millis(4_000));
        assert_eq!(c.base_delay(6), Duration::from_secs(30));
        assert_eq!(c.base_delay(u32::MAX), Duration::from_secs(30));
        assert_eq!(c.min_delay(6), Duration::from_secs(18));
    }

    #[test]
    fn never_gives_up() {
        let mut b = Backoff::new(dongle_like(), 1);
        let mut now = 0;
        for _ in 0..100_000 {
            let w = wait(&mut b, now);
            assert!(w > 0 && w <= 30_000);
            now += w;
        }
        // About 100 000 × 24 s on the fake clock: a month of failures, still retrying.
        assert!(now > 30 * 24 * 3600 * 1000 / 2);
        assert!(b.retry_delay(now).is_some());
    }

    #[test]
    fn jitter_spreads_the_waits_at_the_cap_and_seeds_differ() {
        let mut b = Backoff::new(dongle_like(), 99);
        let waits: Vec<Millis> = (0..200).map(|_| wait(&mut b, 0)).collect();
        let capped = &waits[10..];
        let (min, max) = (capped.iter().min().unwrap(), capped.iter().max().unwrap());
        assert!(*min >= 18_000 && *max <= 30_000);
        assert!(max - min > 8_000, "jitter spreads the waits: {min}..{max}");
        let distinct: std::collections::BTreeSet<_> = capped.iter().collect();
        assert!(distinct.len() > 150);
        // Two phones with different seeds do not retry in lockstep.
        let mut other = Backoff::new(dongle_like(), 100);
        let theirs: Vec<Millis> = (0..20).map(|_| wait(&mut other, 0)).collect();
        assert_ne!(&theirs[..], &waits[..20]);
    }

    #[test]
    fn a_healthy_link_resets_the_backoff_and_a_flapping_one_does_not() {
        let mut b = Backoff::new(dongle_like(), 3);
        let mut now = 0;
        for _ in 0..8 {
            now += wait(&mut b, now);
        }
        assert_eq!(b.failures(), 8);
        // Up for 2 s only: still backing off.
        b.healthy(now);
        now += 2_000;
        let w = wait(&mut b, now);
        assert!(w >= 18_000);
        now += w;
        // Up for 10 s: healthy, the next retry is quick again.
        b.healthy(now);
        now += 10_000;
        let w = wait(&mut b, now);
        assert!(w <= 500, "retried after {w} ms");
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn stops_on_unpair() {
        let mut b = Backoff::new(dongle_like(), 5);
        assert!(b.retry_delay(0).is_some());
        b.healthy(1_000);
        b.stop();
        assert!(b.is_stopped());
        assert_eq!(b.retry_delay(5_000), None);
        assert_eq!(b.retry_delay(6_000), None);
    }

    #[test]
    fn degenerate_settings_still_wait() {
        let c = BackoffConfig {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            factor: 0,
            jitter_permille: u16::MAX,
            good_after: Duration::ZERO,
        };
        let mut b = Backoff::new(c, 0);
        for now in 0..100 {
            assert!(b.retry_delay(now).unwrap() >= Duration::from_millis(1));
        }
        // Growth of 1 with a huge count neither loops nor overflows.
        let flat = BackoffConfig {
            factor: 1,
            ..dongle_like()
        };
        assert_eq!(flat.base_delay(u32::MAX), Duration::from_millis(500));
    }
}
