//! Frames that arrived before the frame they depend on.
//!
//! An entry is recognised by a DMX derived from the previous entry's message id, a chunk by
//! the hash the previous chunk carries. When a frame is lost on a radio link, the frames after
//! it cannot be placed yet; a deployed receiver drops them and asks for them all again. The
//! engine keeps the last few such 120-byte frames here instead and looks them up when a
//! repair arrives, so a single lost frame costs a single resend. Bounded, oldest out first;
//! nothing in here is trusted: a stashed entry is verified like any other when it is used.

use std::collections::VecDeque;

use crate::wire::sidechain::chunk_hash;
use crate::wire::{Dmx, HASH_LEN, PKT_LEN};

/// A bounded set of unplaced 120-byte packets.
#[derive(Debug, Default)]
pub struct Stash {
    cap: usize,
    pkts: VecDeque<([u8; HASH_LEN], [u8; PKT_LEN])>,
}

impl Stash {
    /// A stash of at most `cap` packets (0 keeps nothing).
    pub fn new(cap: usize) -> Stash {
        Stash {
            cap,
            pkts: VecDeque::new(),
        }
    }

    /// Keeps `pkt` if it is packet-sized and not already kept.
    pub fn keep(&mut self, pkt: &[u8]) -> bool {
        let Ok(p) = <[u8; PKT_LEN]>::try_from(pkt) else {
            return false;
        };
        if self.cap == 0 {
            return false;
        }
        let h = chunk_hash(&p);
        if self.pkts.iter().any(|(k, _)| *k == h) {
            return false;
        }
        if self.pkts.len() >= self.cap {
            self.pkts.pop_front();
        }
        self.pkts.push_back((h, p));
        true
    }

    /// Packets kept.
    pub fn len(&self) -> usize {
        self.pkts.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.pkts.is_empty()
    }

    /// Removes and returns every kept packet for which `wanted(dmx, hash)` holds.
    pub fn take(&mut self, mut wanted: impl FnMut(&Dmx, &[u8; HASH_LEN]) -> bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.pkts.retain(|(h, p)| {
            let Some(dmx) = Dmx::of(p) else {
                return true;
            };
            if wanted(&dmx, h) {
                out.push(p.to_vec());
                false
            } else {
                true
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DMX_LEN;

    fn pkt(b: u8) -> [u8; PKT_LEN] {
        [b; PKT_LEN]
    }

    #[test]
    fn keeps_only_packet_sized_distinct_frames_up_to_its_cap() {
        let mut s = Stash::new(2);
        assert!(!s.keep(&[1; 20]));
        assert!(s.keep(&pkt(1)));
        assert!(!s.keep(&pkt(1)));
        assert!(s.keep(&pkt(2)));
        assert!(s.keep(&pkt(3)));
        assert_eq!(s.len(), 2);
        // The oldest went out.
        assert!(s.take(|d, _| d.0 == [1; DMX_LEN]).is_empty());
        assert_eq!(
            s.take(|_, h| *h == chunk_hash(&pkt(3))),
            vec![pkt(3).to_vec()]
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_zero_cap_keeps_nothing() {
        let mut s = Stash::new(0);
        assert!(!s.keep(&pkt(1)));
        assert!(s.is_empty());
    }
}
