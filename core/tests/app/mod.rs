//! Helpers shared by the `app_*` tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use lichen::app::AppEvent;
use tokio::sync::broadcast::{self, error::TryRecvError};

/// Reads events until `want` returns a value; fails after `limit`.
pub fn wait_event<T>(
    rx: &mut broadcast::Receiver<AppEvent>,
    limit: Duration,
    mut want: impl FnMut(&AppEvent) -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < limit, "no such event within {limit:?}");
        match rx.try_recv() {
            Ok(e) => {
                if let Some(t) = want(&e) {
                    return t;
                }
            }
            Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(20)),
            Err(TryRecvError::Lagged(_)) => {}
            Err(TryRecvError::Closed) => panic!("event stream closed"),
        }
    }
}

/// Polls `done` until it holds; fails after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
