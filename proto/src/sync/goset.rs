//! The GOset: the grow-only set of feed ids two peers must agree on before they replicate.
//!
//! Peers advertise the whole set as a claim (lo, hi, XOR, count). When claims differ, they
//! narrow the difference down: a peer "asks for help" by sending its own claim over the same
//! range, and "offers help" by splitting the range into smaller claims or novelties, until the
//! missing keys surface (spec §3.2). The set is capped at 100 keys as on every deployed device.
//!
//! This is pure logic: it returns the packets to send and never does I/O.

use std::collections::VecDeque;

use crate::identity::FeedId;
use crate::wire::goset::{self as wire, Claim};

/// Most keys any deployed device holds.
pub const MAX_KEYS: usize = 100;
/// Most pending claims kept (Android/Python).
const MAX_PENDING: usize = 20;
/// Help offers per round (Android/ESP32).
const MAX_OFFERS: usize = 2;

/// What a GOset round or a received packet asks us to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GosetOut {
    /// A claim.
    Claim(Claim),
    /// A novelty.
    Novelty(FeedId),
}

/// The set, its XOR state and the pending claims of peers.
#[derive(Debug, Clone)]
pub struct Goset {
    keys: Vec<FeedId>,
    state: [u8; 32],
    cap: usize,
    largest_claim_span: u8,
    pending: Vec<Claim>,
    novelties: VecDeque<FeedId>,
}

/// Result of offering a key to the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The key is new and was added.
    New,
    /// The key was already in the set.
    Known,
    /// The set is full; the key was refused.
    Full,
}

impl Goset {
    /// An empty set holding at most `cap` keys (at most 255, the claim count's limit).
    pub fn new(cap: usize) -> Goset {
        Goset {
            keys: Vec::new(),
            state: [0; 32],
            cap: cap.min(255),
            largest_claim_span: 0,
            pending: Vec::new(),
            novelties: VecDeque::new(),
        }
    }

    /// The sorted keys.
    pub fn keys(&self) -> &[FeedId] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the set holds as many keys as it may.
    pub fn is_full(&self) -> bool {
        self.keys.len() >= self.cap
    }

    /// XOR of all keys (32 zero bytes when empty): what the WANT/CHNK DMXs are bound to.
    pub fn state(&self) -> [u8; 32] {
        self.state
    }

    /// Index of a key in sorted order.
    pub fn index_of(&self, fid: &FeedId) -> Option<usize> {
        self.keys.binary_search(fid).ok()
    }

    /// The key at an index.
    pub fn get(&self, i: usize) -> Option<&FeedId> {
        self.keys.get(i)
    }

    /// The largest claim count seen from a peer: a peer with more keys than we hold.
    pub fn largest_claim_span(&self) -> u8 {
        self.largest_claim_span
    }

    /// Whether our set is at least as large as every peer's we have heard.
    pub fn in_sync(&self) -> bool {
        self.keys.len() >= usize::from(self.largest_claim_span)
    }

    /// Adds a key.
    pub fn add(&mut self, fid: FeedId) -> Added {
        match self.keys.binary_search(&fid) {
            Ok(_) => Added::Known,
            Err(_) if self.is_full() => Added::Full,
            Err(pos) => {
                self.keys.insert(pos, fid);
                self.state = wire::xor(&self.state, &fid.0);
                self.novelties.push_back(fid);
                if self.novelties.len() > self.cap {
                    self.novelties.pop_front();
                }
                Added::New
            }
        }
    }

    /// The claim over our whole set.
    pub fn full_claim(&self) -> Option<Claim> {
        Claim::over(&self.keys)
    }

    fn partial(&self, lo: usize, hi: usize) -> Option<Claim> {
        Claim::over(self.keys.get(lo..=hi)?)
    }

    /// Handles a peer's claim; returns the keys it added (the caller learns of refusals by
    /// comparing with [`Goset::is_full`]).
    pub fn on_claim(&mut self, c: Claim) -> Vec<(FeedId, Added)> {
        self.largest_claim_span = self.largest_claim_span.max(c.cnt);
        if usize::from(c.cnt) == self.keys.len() && c.xor == self.state {
            return Vec::new();
        }
        if let (Some(lo), Some(hi)) = (self.index_of(&c.lo), self.index_of(&c.hi)) {
            if hi == lo + 1 && c.cnt == 3 {
                // The one key between two neighbours of ours.
                let middle = FeedId(wire::xor(&wire::xor(&c.xor, &c.lo.0), &c.hi.0));
                return vec![(middle, self.add(middle))];
            }
        }
        let mut out = Vec::new();
        for k in [c.lo, c.hi] {
            let r = self.add(k);
            if r != Added::Known {
                out.push((k, r));
            }
        }
        if !self
            .pending
            .iter()
            .any(|p| p.cnt == c.cnt && p.xor == c.xor)
        {
            self.pending.push(c);
        }
        out
    }

    /// Handles a novelty.
    pub fn on_novelty(&mut self, fid: FeedId) -> Added {
        self.add(fid)
    }

    /// One GOset round: a queued novelty (at most one), the full claim, then asks for help and
    /// offers of help for pending claims (spec §3.2, Android's budgets).
    pub fn round(&mut self) -> Vec<GosetOut> {
        let mut out = Vec::new();
        if self.in_sync() {
            if let Some(n) = self.novelties.pop_front() {
                out.push(GosetOut::Novelty(n));
            }
        }
        if let Some(c) = self.full_claim() {
            out.push(GosetOut::Claim(c));
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|c| c.cnt);
        let (mut asked, mut offered) = (false, 0);
        for c in pending {
            let (Some(lo), Some(hi)) = (self.index_of(&c.lo), self.index_of(&c.hi)) else {
                continue;
            };
            if lo > hi || c.cnt == 0 {
                continue;
            }
            let Some(p) = self.partial(lo, hi) else {
                continue;
            };
            if p.xor == c.xor {
                continue;
            }
            if p.cnt <= c.cnt && !asked {
                out.push(GosetOut::Claim(p));
                asked = true;
            }
            if p.cnt < c.cnt {
                self.pending.push(c);
                continue;
            }
            if offered < MAX_OFFERS {
                out.extend(self.offer(lo, hi));
                offered += 1;
            } else {
                self.pending.push(c);
            }
        }
        self.pending.truncate(MAX_PENDING - 5);
        out
    }

    /// Help for a peer whose range [lo..hi] differs: our interior, split in up to two.
    fn offer(&self, lo: usize, hi: usize) -> Vec<GosetOut> {
        if hi < lo + 2 {
            return Vec::new();
        }
        let (a, b) = (lo + 1, hi - 1);
        let span = b + 1 - a;
        match span {
            1 => self
                .get(a)
                .map(|k| GosetOut::Novelty(*k))
                .into_iter()
                .collect(),
            2 | 3 => self
                .partial(a, b)
                .map(GosetOut::Claim)
                .into_iter()
                .collect(),
            _ => {
                let s = span / 2;
                [self.partial(a, a + s - 1), self.partial(a + s, b)]
                    .into_iter()
                    .flatten()
                    .map(GosetOut::Claim)
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fid(b: u8) -> FeedId {
        let mut k = [0u8; 32];
        k[0] = b;
        k[31] = 1;
        FeedId(k)
    }

    /// Exchanges rounds between two sets until both agree; returns the rounds needed.
    pub(crate) fn converge(a: &mut Goset, b: &mut Goset, max_rounds: usize) -> Option<usize> {
        for round in 1..=max_rounds {
            let from_a = a.round();
            let from_b = b.round();
            for (dst, msgs) in [(&mut *b, from_a), (&mut *a, from_b)] {
                for m in msgs {
                    match m {
                        GosetOut::Claim(c) => {
                            dst.on_claim(c);
                        }
                        GosetOut::Novelty(n) => {
                            dst.on_novelty(n);
                        }
                    }
                }
            }
            if a.state() == b.state() && a.len() == b.len() {
                return Some(round);
            }
        }
        None
    }

    #[test]
    fn disjoint_sets_converge() {
        let mut a = Goset::new(MAX_KEYS);
        let mut b = Goset::new(MAX_KEYS);
        for i in 0..20u8 {
            a.add(fid(i * 2));
        }
        for i in 0..13u8 {
            b.add(fid(i * 2 + 1));
        }
        let rounds = converge(&mut a, &mut b, 60).expect("converges");
        assert_eq!(a.len(), 33);
        assert_eq!(a.keys(), b.keys());
        assert!(rounds < 60);
    }

    #[test]
    fn middle_key_shortcut() {
        let mut a = Goset::new(MAX_KEYS);
        let mut b = Goset::new(MAX_KEYS);
        for k in [fid(1), fid(3)] {
            a.add(k);
            b.add(k);
        }
        b.add(fid(2));
        let c = b.full_claim().unwrap();
        assert_eq!(a.on_claim(c), vec![(fid(2), Added::New)]);
        assert_eq!(a.state(), b.state());
    }

    #[test]
    fn cap_refuses_more_keys() {
        let mut a = Goset::new(3);
        for i in 0..3 {
            assert_eq!(a.add(fid(i)), Added::New);
        }
        assert_eq!(a.add(fid(9)), Added::Full);
        assert_eq!(a.add(fid(1)), Added::Known);
        assert_eq!(a.len(), 3);
    }
}
