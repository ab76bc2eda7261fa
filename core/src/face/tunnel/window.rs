//! The receiver's replay window: a 128-wide sliding bitmap of DATA counters.

use super::frame::{TunnelError, WINDOW};

/// The counters a receiver has seen: the newest one and a bitmap of the 127 before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    newest: Option<u64>,
    /// Bit i set: counter `newest − i` was received.
    seen: u128,
}

impl ReplayWindow {
    /// An empty window.
    pub fn new() -> ReplayWindow {
        ReplayWindow::default()
    }

    /// Whether `counter` would be accepted now.
    pub fn check(&self, counter: u64) -> Result<(), TunnelError> {
        let Some(newest) = self.newest else {
            return Ok(());
        };
        if counter > newest {
            return Ok(());
        }
        let age = newest - counter;
        if age >= WINDOW {
            return Err(TunnelError::TooOld { counter, newest });
        }
        if self.seen & (1u128 << age) != 0 {
            return Err(TunnelError::Replayed(counter));
        }
        Ok(())
    }

    /// Records `counter` as received (call only after [`ReplayWindow::check`] and
    /// authentication succeeded).
    pub fn accept(&mut self, counter: u64) {
        match self.newest {
            None => {
                self.newest = Some(counter);
                self.seen = 1;
            }
            Some(newest) if counter > newest => {
                let shift = counter - newest;
                self.seen = if shift >= WINDOW {
                    0
                } else {
                    self.seen << shift
                };
                self.seen |= 1;
                self.newest = Some(counter);
            }
            Some(newest) => {
                let age = newest - counter;
                if age < WINDOW {
                    self.seen |= 1u128 << age;
                }
            }
        }
    }

    /// The newest counter received.
    pub fn newest(&self) -> Option<u64> {
        self.newest
    }
}
