//! Selective repair on lossy links: how to answer a request for something this face sent
//! moments ago.
//!
//! A receiver accepts only the next entry of a feed (its DMX hangs on the previous entry's
//! message id) and only the next chunk of a side chain (its hash is in the previous chunk),
//! so one lost frame makes a deployed receiver drop everything after it in the burst, and its
//! next WANT asks for the lost frame again. A Lichen receiver keeps such frames in its
//! [`Stash`](super::stash::Stash) instead, so resending the whole burst would send most of it
//! twice. The sender therefore answers a request for something it already sent with that one
//! packet (a *repair*), and falls back to resending the burst (go-back-N)
//! when the peer asks for the packet right after a repaired one [`GO_BACK_AFTER`] times in a
//! row: the sign of a receiver that keeps nothing. Deployed receivers therefore still get
//! everything, one request round later than a Lichen receiver.

use crate::time::Millis;

/// Consecutive repairs (n, n+1, …) after which a request means "resend from here".
pub const GO_BACK_AFTER: u32 = 2;

/// What to send for a request of packet number `n` (entry seq or chunk number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Send from `n` on, within credit.
    Burst,
    /// Send `n` alone.
    Repair,
    /// Send nothing now: `n` is (probably) still in flight.
    Hold,
}

/// The last repair of one feed or side chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repaired {
    /// The packet number repaired.
    pub n: u32,
    /// When.
    pub at: Millis,
    /// How many consecutive numbers were repaired, ending with `n`.
    pub run: u32,
}

/// When a face may repeat or repair, from its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Without repairs, sent packets are resent in full once this long has passed.
    pub resend_after: Millis,
    /// Repair single packets already sent (`None`: hold for the resend window instead), and
    /// repeat the same repair no sooner than this.
    pub repair_after: Option<Millis>,
}

impl Policy {
    /// How to answer a request for `n`, given the highest number sent in the last answer
    /// (`sent`: number and time) and the last repair.
    pub fn answer(
        &self,
        sent: Option<(u32, Millis)>,
        repaired: Option<Repaired>,
        n: u32,
        now: Millis,
    ) -> Answer {
        let Some((upto, at)) = sent else {
            return Answer::Burst;
        };
        if n > upto {
            return Answer::Burst;
        }
        let Some(gap) = self.repair_after else {
            return if now >= at.saturating_add(self.resend_after) {
                Answer::Burst
            } else {
                Answer::Hold
            };
        };
        // However long ago the burst went out: a receiver that stashes still holds most of
        // it, and one that does not shows it by asking for the next number right away.
        match repaired {
            Some(r) if r.n == n && now < r.at.saturating_add(gap) => Answer::Hold,
            Some(r) if r.n.checked_add(1) == Some(n) && r.run >= GO_BACK_AFTER => Answer::Burst,
            _ => Answer::Repair,
        }
    }
}

/// The record after repairing `n` at `now`.
pub fn note(previous: Option<Repaired>, n: u32, now: Millis) -> Repaired {
    let run = match previous {
        Some(r) if r.n.checked_add(1) == Some(n) => r.run + 1,
        Some(r) if r.n == n => r.run,
        _ => 1,
    };
    Repaired { n, at: now, run }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        resend_after: 5_000,
        repair_after: Some(1_000),
    };

    #[test]
    fn new_data_gets_a_burst_and_old_data_a_repair() {
        assert_eq!(P.answer(None, None, 1, 0), Answer::Burst);
        assert_eq!(P.answer(Some((10, 0)), None, 11, 100), Answer::Burst);
        assert_eq!(P.answer(Some((10, 0)), None, 3, 60_000), Answer::Repair);
    }

    #[test]
    fn a_gap_is_repaired_once_per_repair_interval() {
        assert_eq!(P.answer(Some((10, 0)), None, 4, 100), Answer::Repair);
        let r = note(None, 4, 100);
        assert_eq!(P.answer(Some((10, 0)), Some(r), 4, 500), Answer::Hold);
        assert_eq!(P.answer(Some((10, 0)), Some(r), 4, 1_100), Answer::Repair);
        // A later, separate gap is repaired too.
        assert_eq!(P.answer(Some((10, 0)), Some(r), 8, 600), Answer::Repair);
    }

    #[test]
    fn a_receiver_that_keeps_nothing_gets_go_back_n() {
        let r1 = note(None, 4, 100);
        assert_eq!(P.answer(Some((10, 0)), Some(r1), 5, 200), Answer::Repair);
        let r2 = note(Some(r1), 5, 200);
        assert_eq!(r2.run, 2);
        assert_eq!(P.answer(Some((10, 0)), Some(r2), 6, 300), Answer::Burst);
    }

    #[test]
    fn without_repair_the_window_holds() {
        let p = Policy {
            resend_after: 5_000,
            repair_after: None,
        };
        assert_eq!(p.answer(Some((10, 0)), None, 4, 100), Answer::Hold);
        assert_eq!(p.answer(Some((10, 0)), None, 4, 5_000), Answer::Burst);
    }
}
