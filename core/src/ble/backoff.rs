//! When to try a dropped link again: forever, with exponential backoff and jitter.
//!
//! Pure logic on an injected clock (milliseconds) and seed, so tests drive it through hours
//! of failures instantly. Retry `k` (from 0) waits `min(first · factor^k, max)` less a random
//! share of up to `jitter_percent` of it, so phones that lost the same dongle do not all
//! knock at once. A connection that stayed up for `healthy_after` resets the count: the next
//! drop is retried quickly again. Only [`Reconnect::stop`] (unpairing) ends the retries.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::sync::Millis;

/// The backoff settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Wait before the first retry.
    pub first: Millis,
    /// Longest wait between retries.
    pub max: Millis,
    /// Growth per failed retry.
    pub factor: u32,
    /// Up to this share (percent) of each wait is taken off at random.
    pub jitter_percent: u8,
    /// A connection up this long counts as healthy: the next drop starts from `first` again.
    pub healthy_after: Millis,
}

impl Default for ReconnectPolicy {
    /// 1 s, doubling up to 60 s, 30 % jitter; healthy after 30 s.
    fn default() -> Self {
        ReconnectPolicy {
            first: 1_000,
            max: 60_000,
            factor: 2,
            jitter_percent: 30,
            healthy_after: 30_000,
        }
    }
}

impl ReconnectPolicy {
    /// The wait before retry `k` without jitter.
    pub fn base_delay(&self, k: u32) -> Millis {
        let mut d = self.first.max(1);
        for _ in 0..k {
            d = d.saturating_mul(Millis::from(self.factor.max(1)));
            if d >= self.max {
                return self.max.max(1);
            }
        }
        d.min(self.max.max(1))
    }

    /// The shortest wait jitter can make of retry `k`.
    pub fn min_delay(&self, k: u32) -> Millis {
        let base = self.base_delay(k);
        (base - base * Millis::from(self.jitter_percent.min(100)) / 100).max(1)
    }
}

/// The reconnect state of one paired device.
#[derive(Debug, Clone)]
pub struct Reconnect {
    policy: ReconnectPolicy,
    failures: u32,
    connected_since: Option<Millis>,
    stopped: bool,
    rng: ChaCha8Rng,
}

impl Reconnect {
    /// A fresh state (the first attempt is due at once).
    pub fn new(policy: ReconnectPolicy, seed: u64) -> Reconnect {
        Reconnect {
            policy,
            failures: 0,
            connected_since: None,
            stopped: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &ReconnectPolicy {
        &self.policy
    }

    /// The link came up at `now`.
    pub fn connected(&mut self, now: Millis) {
        self.connected_since = Some(now);
    }

    /// The link went down at `now`; returns when to try again (`None` once stopped).
    pub fn disconnected(&mut self, now: Millis) -> Option<Millis> {
        if let Some(since) = self.connected_since.take() {
            if now.saturating_sub(since) >= self.policy.healthy_after {
                self.failures = 0;
            }
        }
        self.next(now)
    }

    /// A connection attempt failed at `now`; returns when to try again (`None` once stopped).
    pub fn failed(&mut self, now: Millis) -> Option<Millis> {
        self.connected_since = None;
        self.next(now)
    }

    /// Stops retrying for good (the device was unpaired).
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether retries have stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Failed attempts since the last healthy connection.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn next(&mut self, now: Millis) -> Option<Millis> {
        if self.stopped {
            return None;
        }
        let base = self.policy.base_delay(self.failures);
        let span = base * Millis::from(self.policy.jitter_percent.min(100)) / 100;
        let cut = if span == 0 {
            0
        } else {
            self.rng.next_u64() % (span + 1)
        };
        self.failures = self.failures.saturating_add(1);
        Some(now.saturating_add((base - cut).max(1)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy() -> ReconnectPolicy {
        ReconnectPolicy {
            first: 500,
            max: 30_000,
            factor: 2,
            jitter_percent: 40,
            healthy_after: 10_000,
        }
    }

    #[test]
    fn waits_grow_exponentially_within_their_bounds_and_stop_growing_at_the_cap() {
        let mut r = Reconnect::new(policy(), 7);
        let mut now = 0;
        for k in 0..20u32 {
            let at = r.failed(now).unwrap();
            let wait = at - now;
            let hi = (500u64 << k.min(10)).min(30_000);
            let lo = hi - hi * 40 / 100;
            assert!(
                (lo..=hi).contains(&wait),
                "retry {k}: waited {wait} ms, expected {lo}..={hi}"
            );
            now = at;
        }
        assert_eq!(r.policy().base_delay(0), 500);
        assert_eq!(r.policy().base_delay(3), 4_000);
        assert_eq!(r.policy().base_delay(6), 30_000);
        assert_eq!(r.policy().base_delay(u32::MAX), 30_000);
        assert_eq!(r.policy().min_delay(6), 18_000);
    }

    #[test]
    fn never_gives_up() {
        let mut r = Reconnect::new(policy(), 1);
        let mut now = 0;
        for _ in 0..100_000 {
            let at = r.failed(now).expect("still retrying");
            assert!(at > now && at - now <= 30_000);
            now = at;
        }
        // About 100 000 × 24 s on the fake clock: a month of failures, still retrying.
        assert!(now > 30 * 24 * 3600 * 1000 / 2);
        assert!(r.failed(now).is_some());
    }

    #[test]
    fn jitter_spreads_the_waits_at_the_cap() {
        let mut r = Reconnect::new(policy(), 99);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..200 {
            let at = r.failed(now).unwrap();
            waits.push(at - now);
            now = at;
        }
        let capped = &waits[10..];
        let (min, max) = (capped.iter().min().unwrap(), capped.iter().max().unwrap());
        assert!(*min >= 18_000 && *max <= 30_000);
        assert!(max - min > 8_000, "jitter spreads the waits: {min}..{max}");
        let distinct: std::collections::BTreeSet<_> = capped.iter().collect();
        assert!(distinct.len() > 150);
        // Two phones with different seeds do not retry in lockstep.
        let mut other = Reconnect::new(policy(), 100);
        let mut t = 0;
        let theirs: Vec<u64> = (0..20)
            .map(|_| {
                let at = other.failed(t).unwrap();
                let w = at - t;
                t = at;
                w
            })
            .collect();
        assert_ne!(&theirs[..], &waits[..20]);
    }

    #[test]
    fn a_healthy_connection_resets_the_backoff_and_a_flapping_one_does_not() {
        let mut r = Reconnect::new(policy(), 3);
        let mut now = 0;
        for _ in 0..8 {
            now = r.failed(now).unwrap();
        }
        assert_eq!(r.failures(), 8);
        // Up for 2 s only: still backing off.
        r.connected(now);
        let at = r.disconnected(now + 2_000).unwrap();
        assert!(at - (now + 2_000) >= 18_000);
        now = at;
        // Up for 10 s: healthy, the next retry is quick again.
        r.connected(now);
        now += 10_000;
        let at = r.disconnected(now).unwrap();
        assert!(at - now <= 500, "retried after {} ms", at - now);
        assert_eq!(r.failures(), 1);
    }

    #[test]
    fn stops_on_unpair() {
        let mut r = Reconnect::new(policy(), 5);
        assert!(r.failed(0).is_some());
        r.connected(1_000);
        r.stop();
        assert!(r.is_stopped());
        assert_eq!(r.disconnected(5_000), None);
        assert_eq!(r.failed(6_000), None);
    }

    #[test]
    fn degenerate_settings_still_wait() {
        let p = ReconnectPolicy {
            first: 0,
            max: 0,
            factor: 0,
            jitter_percent: 255,
            healthy_after: 0,
        };
        let mut r = Reconnect::new(p, 0);
        for now in 0..100 {
            assert!(r.failed(now).unwrap() > now);
        }
    }
}
