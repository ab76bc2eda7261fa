//! The relay link's reconnect policy under a fake clock: bounds, jitter, no giving up, reset
//! after a healthy session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use lichen::backoff::{Backoff, BackoffConfig};

/// Milliseconds on a clock only the test moves.
struct FakeClock(u64);

impl FakeClock {
    fn advance(&mut self, d: Duration) {
        self.0 += d.as_millis() as u64;
    }
}

fn cfg() -> BackoffConfig {
    BackoffConfig {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(10),
        factor: 2,
        jitter_permille: 500,
        good_after: Duration::from_secs(5),
    }
}

#[test]
fn delays_double_within_bounds_and_never_stop() {
    let seed = 1;
    let mut clock = FakeClock(0);
    let mut b = Backoff::new(cfg(), seed);
    for attempt in 0..10_000u32 {
        let d = b.retry_delay(clock.0).unwrap();
        let base = Duration::from_millis(100)
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(Duration::from_secs(10));
        assert!(d <= base, "attempt {attempt}: {d:?} > {base:?}");
        assert!(d >= base / 2, "attempt {attempt}: {d:?} < half of {base:?}");
        clock.advance(d);
    }
    assert_eq!(b.failures(), 10_000);
    // Ten thousand failures later it still answers, at the cap.
    let d = b.retry_delay(clock.0).unwrap();
    assert!(d <= Duration::from_secs(10) && d >= Duration::from_secs(5));
}

#[test]
fn jitter_spreads_clients_cut_off_together() {
    // A hundred clients lose the relay at the same instant: their retries spread out.
    let mut delays: Vec<Duration> = (0..100)
        .map(|i| {
            let seed = i;
            let mut b = Backoff::new(cfg(), seed);
            for _ in 0..5 {
                b.retry_delay(0).unwrap();
            }
            b.retry_delay(0).unwrap()
        })
        .collect();
    delays.sort();
    delays.dedup();
    assert!(delays.len() > 80, "only {} distinct delays", delays.len());
    let spread = *delays.last().unwrap() - delays[0];
    assert!(spread > Duration::from_millis(1000), "spread {spread:?}");
    // No jitter: every client waits exactly the base.
    let mut b = Backoff::new(
        BackoffConfig {
            jitter_permille: 0,
            ..cfg()
        },
        0,
    );
    assert_eq!(b.retry_delay(0).unwrap(), Duration::from_millis(100));
    assert_eq!(b.retry_delay(0).unwrap(), Duration::from_millis(200));
    assert_eq!(b.retry_delay(0).unwrap(), Duration::from_millis(400));
}

#[test]
fn a_healthy_session_resets_a_short_one_does_not() {
    let seed = 2;
    let mut clock = FakeClock(1_000);
    let mut b = Backoff::new(
        BackoffConfig {
            jitter_permille: 0,
            ..cfg()
        },
        seed,
    );
    for _ in 0..8 {
        let d = b.retry_delay(clock.0).unwrap();
        clock.advance(d);
    }
    assert_eq!(b.failures(), 8);
    // Healthy for 1 s only (below good_after): still backing off.
    b.healthy(clock.0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(b.retry_delay(clock.0).unwrap(), Duration::from_secs(10));
    // Healthy for 6 s: the next delay starts over.
    b.healthy(clock.0);
    clock.advance(Duration::from_secs(6));
    assert_eq!(b.retry_delay(clock.0).unwrap(), Duration::from_millis(100));
    assert_eq!(b.failures(), 1);
    // Marking health twice keeps the first instant.
    b.healthy(clock.0);
    clock.advance(Duration::from_secs(3));
    b.healthy(clock.0);
    clock.advance(Duration::from_secs(3));
    assert_eq!(b.retry_delay(clock.0).unwrap(), Duration::from_millis(100));
}

#[test]
fn full_jitter_and_huge_settings_do_not_overflow() {
    let seed = 3;
    let mut b = Backoff::new(
        BackoffConfig {
            initial: Duration::from_secs(u64::MAX / 4),
            max: Duration::MAX,
            factor: u32::MAX,
            jitter_permille: 1000,
            good_after: Duration::MAX,
        },
        seed,
    );
    for _ in 0..100 {
        let _ = b.retry_delay(u64::MAX);
        b.healthy(0);
    }
}

#[test]
fn full_jitter_never_retries_at_once() {
    // "Full jitter" may take the whole delay off; a zero wait would make a dead relay a busy
    // loop, so every wait is at least 1 ms.
    for seed in 0..200 {
        let mut b = Backoff::new(
            BackoffConfig {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(4),
                jitter_permille: 1000,
                ..cfg()
            },
            seed,
        );
        for _ in 0..5 {
            let d = b.retry_delay(0).unwrap();
            assert!(d >= Duration::from_millis(1), "seed {seed}: waited {d:?}");
        }
    }
}
