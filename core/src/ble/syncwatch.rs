//! Honest sync state with a dongle: do our GOset and the dongle's agree?
//!
//! tinySSB peers replicate only while their GOsets are identical (the WANT/CHNK DMXs hang on
//! the set's XOR), and a dongle holds at most 100 feeds. Rather than stall silently, the
//! face feeds this watcher the dongle's claims and our own set, and tells the user what is
//! going on. Pure logic on an injected clock.
//!
//! The dongle's set is taken to be its largest claim heard within [`WINDOW`] (the ESP32
//! sends a full claim every 20 s; partial claims while reconciling are smaller, and sets
//! only grow).

use serde::{Deserialize, Serialize};

use crate::sync::Millis;
use crate::wire::goset::{decode, GosetPacket};
use crate::wire::network::Network;

/// How long a heard claim counts.
pub const WINDOW: Millis = 65_000;
/// How long the sets may differ before the state says "stalled".
pub const DEFAULT_GRACE: Millis = 60_000;

/// Whether this device and the dongle can replicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// No claim from the dongle heard yet.
    Unknown,
    /// Both hold the same feeds: replication runs.
    Agreed {
        /// Feeds on both sides.
        feeds: usize,
        /// The dongle holds as many feeds as it can.
        full: bool,
    },
    /// The feed lists differ and are being reconciled.
    Converging {
        /// Feeds on this device.
        ours: usize,
        /// Feeds on the dongle.
        theirs: usize,
    },
    /// The lists have differed for longer than the grace period; nothing replicates.
    Stalled {
        /// Feeds on this device.
        ours: usize,
        /// Feeds on the dongle.
        theirs: usize,
    },
    /// The dongle is full and does not hold all our feeds: those cannot pass through it.
    DongleFull {
        /// Feeds on this device.
        ours: usize,
        /// Feeds on the dongle (its cap).
        theirs: usize,
    },
}

impl SyncState {
    /// Whether the dongle holds as many feeds as it can (agreed at its most, or full and
    /// lacking some of ours): a new feed cannot pass through it.
    pub fn dongle_full(&self) -> bool {
        matches!(
            self,
            SyncState::DongleFull { .. } | SyncState::Agreed { full: true, .. }
        )
    }

    /// A sentence for the person at the screen.
    pub fn describe(&self) -> String {
        match self {
            SyncState::Unknown => "waiting for the dongle's list of feeds".into(),
            SyncState::Agreed {
                feeds: 1,
                full: false,
            } => "in sync: this device and the dongle replicate the same feed".into(),
            SyncState::Agreed { feeds, full: false } => {
                format!("in sync: this device and the dongle replicate the same {feeds} feeds")
            }
            SyncState::Agreed { feeds, full: true } => format!(
                "in sync on {feeds} feeds, but the dongle is full: a new feed (a new contact \
                 or group member) cannot be added through it"
            ),
            SyncState::Converging { ours, theirs } => format!(
                "reconciling feed lists (this device {ours}, dongle {theirs}); messages move \
                 once they match"
            ),
            SyncState::Stalled { ours, theirs } => format!(
                "stalled: this device has {ours} feeds and the dongle {theirs}, and they have \
                 not agreed for over a minute; tinySSB replicates nothing until they do"
            ),
            SyncState::DongleFull { ours, theirs } => format!(
                "the dongle is full ({theirs} feeds, the most it can hold) and does not hold \
                 all of this device's {ours}; until they match nothing replicates through it"
            ),
        }
    }
}

/// Watches the dongle's claims against our set.
#[derive(Debug, Clone)]
pub struct SyncWatch {
    net: Network,
    grace: Millis,
    cap: usize,
    claims: Vec<(u8, [u8; 32], Millis)>,
    ours: Option<(usize, [u8; 32])>,
    differs_since: Option<Millis>,
    state: SyncState,
}

impl SyncWatch {
    /// A watcher for a dongle on `net` holding at most `cap` feeds.
    pub fn new(net: Network, grace: Millis, cap: usize) -> SyncWatch {
        SyncWatch {
            net,
            grace,
            cap,
            claims: Vec::new(),
            ours: None,
            differs_since: None,
            state: SyncState::Unknown,
        }
    }

    /// A packet the dongle sent (only GOset claims matter).
    pub fn on_packet(&mut self, pkt: &[u8], now: Millis) {
        if pkt.get(..7) != Some(&self.net.goset_dmx().0[..]) {
            return;
        }
        if let Ok(GosetPacket::Claim(c)) = decode(&self.net, pkt) {
            self.on_claim(c.cnt, c.xor, now);
        }
    }

    /// A claim from the dongle.
    pub fn on_claim(&mut self, cnt: u8, xor: [u8; 32], now: Millis) {
        self.claims.push((cnt, xor, now));
        if self.claims.len() > 64 {
            self.claims.remove(0);
        }
    }

    /// Our own set: its size and XOR.
    pub fn set_ours(&mut self, len: usize, xor: [u8; 32]) {
        self.ours = Some((len, xor));
    }

    /// The state now.
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    /// Re-evaluates at `now`; returns the state if it changed.
    pub fn poll(&mut self, now: Millis) -> Option<SyncState> {
        self.claims
            .retain(|(_, _, at)| now.saturating_sub(*at) <= WINDOW);
        let theirs = self
            .claims
            .iter()
            .max_by_key(|(cnt, _, at)| (*cnt, *at))
            .copied();
        let next = match (theirs, self.ours) {
            (None, _) | (_, None) => {
                self.differs_since = None;
                SyncState::Unknown
            }
            (Some((cnt, xor, _)), Some((len, our_xor))) => {
                let theirs = usize::from(cnt);
                if theirs == len && xor == our_xor {
                    self.differs_since = None;
                    SyncState::Agreed {
                        feeds: len,
                        full: theirs >= self.cap,
                    }
                } else if theirs >= self.cap {
                    SyncState::DongleFull { ours: len, theirs }
                } else {
                    let since = *self.differs_since.get_or_insert(now);
                    if now.saturating_sub(since) >= self.grace {
                        SyncState::Stalled { ours: len, theirs }
                    } else {
                        SyncState::Converging { ours: len, theirs }
                    }
                }
            }
        };
        if next == self.state {
            return None;
        }
        self.state = next.clone();
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::wire::goset::Claim;
    use crate::FeedId;

    fn keys(n: u8) -> Vec<FeedId> {
        (1..=n).map(|i| FeedId([i; 32])).collect()
    }

    fn claim(k: &[FeedId]) -> Claim {
        Claim::over(k).unwrap()
    }

    fn watch() -> SyncWatch {
        SyncWatch::new(Network::deployed(), 10_000, crate::sync::goset::MAX_KEYS)
    }

    #[test]
    fn agreed_when_the_dongles_full_claim_matches_ours() {
        let net = Network::deployed();
        let mut w = watch();
        assert_eq!(w.poll(0), None);
        assert_eq!(w.state(), &SyncState::Unknown);
        let k = keys(3);
        w.set_ours(3, claim(&k).xor);
        // A partial claim, then the full one, arrive as packets.
        w.on_packet(&claim(&k[..2]).encode(&net), 100);
        w.on_packet(&claim(&k).encode(&net), 200);
        assert_eq!(
            w.poll(300),
            Some(SyncState::Agreed {
                feeds: 3,
                full: false
            })
        );
        assert_eq!(w.poll(400), None, "no repeat while nothing changes");
    }

    #[test]
    fn differing_sets_converge_or_are_reported_as_stalled() {
        let mut w = watch();
        let k = keys(5);
        w.set_ours(5, claim(&k).xor);
        w.on_claim(4, claim(&k[..4]).xor, 0);
        assert_eq!(
            w.poll(0),
            Some(SyncState::Converging { ours: 5, theirs: 4 })
        );
        assert_eq!(w.poll(9_999), None);
        // The ESP32 repeats its claim; the sets still differ after the grace period.
        w.on_claim(4, claim(&k[..4]).xor, 9_000);
        assert_eq!(
            w.poll(10_000),
            Some(SyncState::Stalled { ours: 5, theirs: 4 })
        );
        assert!(w.state().describe().contains("replicates nothing"));
        // The dongle learns the missing key: agreed again.
        w.on_claim(5, claim(&k).xor, 12_000);
        assert_eq!(
            w.poll(12_000),
            Some(SyncState::Agreed {
                feeds: 5,
                full: false
            })
        );
    }

    #[test]
    fn same_count_different_keys_is_not_agreement() {
        let mut w = watch();
        let mine: Vec<FeedId> = (10..13).map(|i| FeedId([i; 32])).collect();
        w.set_ours(3, claim(&mine).xor);
        w.on_claim(3, claim(&keys(3)).xor, 0);
        assert_eq!(
            w.poll(0),
            Some(SyncState::Converging { ours: 3, theirs: 3 })
        );
    }

    #[test]
    fn a_full_dongle_is_reported() {
        let mut w = watch();
        let k: Vec<FeedId> = (0..101u8).map(|i| FeedId([i; 32])).collect();
        w.set_ours(101, claim(&k).xor);
        w.on_claim(100, claim(&k[..100]).xor, 0);
        let s = w.poll(0).unwrap();
        assert_eq!(
            s,
            SyncState::DongleFull {
                ours: 101,
                theirs: 100
            }
        );
        assert!(s
            .describe()
            .contains("full (100 feeds, the most it can hold)"));
        // Full and agreed is in sync, with a warning.
        w.set_ours(100, claim(&k[..100]).xor);
        let s = w.poll(1).unwrap();
        assert_eq!(
            s,
            SyncState::Agreed {
                feeds: 100,
                full: true
            }
        );
        assert!(s.describe().contains("cannot be added"));
    }

    #[test]
    fn old_claims_expire() {
        let mut w = watch();
        let k = keys(2);
        w.set_ours(2, claim(&k).xor);
        w.on_claim(2, claim(&k).xor, 0);
        assert!(matches!(w.poll(0), Some(SyncState::Agreed { .. })));
        assert_eq!(w.poll(WINDOW + 1), Some(SyncState::Unknown));
    }

    #[test]
    fn other_packets_are_ignored() {
        let mut w = watch();
        w.on_packet(&[0u8; 120], 0);
        w.on_packet(&[], 0);
        let net = Network::deployed();
        let mut bad = claim(&keys(2)).encode(&net).to_vec();
        bad.truncate(50);
        w.on_packet(&bad, 0);
        w.set_ours(0, [0; 32]);
        assert_eq!(w.poll(0), None);
        assert_eq!(w.state(), &SyncState::Unknown);
    }
}
