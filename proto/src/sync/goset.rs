//! The GOset: the grow-only set of feed ids two peers must agree on before they replicate.
//!
//! Peers advertise the whole set as a claim (lo, hi, XOR, count). When claims differ, they
//! narrow the difference down: a peer "asks for help" by sending its own claim over the same
//! range, and "offers help" by splitting the range into smaller claims or novelties, until the
//! missing keys surface (spec §3.2). The set is capped at 100 keys as on every deployed device.
//!
//! Keys come in two kinds (ADR 0012). **Anchored** keys were added locally ([`Goset::add`]:
//! the own feed, contacts, invites) or hold at least one entry; the engine persists them.
//! **Provisional** keys were learned from a peer ([`Goset::learn`]) and have no entry yet:
//! they must be valid Ed25519 keys, they are the first to go when the set is full, and one
//! that gets no entry within the TTL of a chance to fetch it (our set agreeing with a peer's,
//! so that WANTs flow) is dropped ([`Goset::expire`]) and kept out for a while (a bounded
//! quarantine), so that two peers do not hand it back and forth. Without any agreement a key
//! goes after [`HARD_TTL_FACTOR`] TTLs.
//!
//! This is pure logic: it returns the packets to send and never does I/O.

use std::collections::{BTreeMap, VecDeque};

use crate::identity::FeedId;
use crate::time::Millis;
use crate::wire::goset::{self as wire, Claim};

/// Most keys any deployed device holds.
pub const MAX_KEYS: usize = 100;
/// Most pending claims kept (Android/Python).
const MAX_PENDING: usize = 20;
/// Help offers per round (Android/ESP32).
const MAX_OFFERS: usize = 2;
/// Most dropped provisional keys remembered.
pub const QUARANTINE_LEN: usize = 1024;
/// How long a provisional key may wait for its first entry, by default (10 min).
pub const DEFAULT_TTL: Millis = 600_000;
/// How long a dropped provisional key is kept out, by default (1 h).
pub const DEFAULT_QUARANTINE: Millis = 3_600_000;
/// A provisional key leaves after this many TTLs even if no set ever agreed with ours.
pub const HARD_TTL_FACTOR: u64 = 10;

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
    /// Keys learned from peers that hold no entry yet, with when they were learned.
    provisional: BTreeMap<FeedId, Millis>,
    /// Provisional keys dropped, oldest first, with when they were dropped.
    quarantine: VecDeque<(FeedId, Millis)>,
    ttl: Millis,
    quarantine_for: Millis,
    /// Keys removed since the last [`Goset::take_removed`].
    removed: Vec<FeedId>,
}

/// Result of offering a key to the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The key is new and was added.
    New,
    /// The key was already in the set.
    Known,
    /// The set is full (of anchored keys); the key was refused.
    Full,
    /// Not an Ed25519 public key: refused.
    Invalid,
    /// Dropped recently for getting no entry in time: refused for now.
    Quarantined,
}

impl Goset {
    /// An empty set holding at most `cap` keys (at most 255, the claim count's limit), with
    /// the default TTL and quarantine for provisional keys.
    pub fn new(cap: usize) -> Goset {
        Goset::with_ttl(cap, DEFAULT_TTL, DEFAULT_QUARANTINE)
    }

    /// An empty set holding at most `cap` keys; a provisional key is dropped `ttl` after it
    /// was learned unless it got an entry, and then refused for `quarantine_for`.
    pub fn with_ttl(cap: usize, ttl: Millis, quarantine_for: Millis) -> Goset {
        Goset {
            keys: Vec::new(),
            state: [0; 32],
            cap: cap.min(255),
            largest_claim_span: 0,
            pending: Vec::new(),
            novelties: VecDeque::new(),
            provisional: BTreeMap::new(),
            quarantine: VecDeque::new(),
            ttl,
            quarantine_for,
            removed: Vec::new(),
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

    /// The largest claim count a peer sent since the last round: a peer with more keys than
    /// we hold.
    pub fn largest_claim_span(&self) -> u8 {
        self.largest_claim_span
    }

    /// Whether our set is at least as large as every peer's we have heard.
    pub fn in_sync(&self) -> bool {
        self.keys.len() >= usize::from(self.largest_claim_span)
    }

    /// Adds an anchored key (a local decision: the own feed, a contact, an invite). A key that
    /// was provisional becomes anchored (reported as `Known`); a full set makes room by
    /// dropping its oldest provisional key.
    pub fn add(&mut self, fid: FeedId) -> Added {
        if self.index_of(&fid).is_some() {
            self.provisional.remove(&fid);
            return Added::Known;
        }
        if self.is_full() && !self.evict_oldest_provisional() {
            return Added::Full;
        }
        self.quarantine.retain(|(k, _)| *k != fid);
        self.insert(fid);
        Added::New
    }

    /// Adds a key learned from a peer at `now`, as provisional: it must be a valid key and
    /// not in quarantine; a full set makes room by dropping its oldest provisional key.
    pub fn learn(&mut self, fid: FeedId, now: Millis) -> Added {
        if self.index_of(&fid).is_some() {
            return Added::Known;
        }
        if fid.key().is_err() {
            return Added::Invalid;
        }
        if self.quarantined(&fid, now) {
            return Added::Quarantined;
        }
        if self.is_full() && !self.evict_oldest_provisional() {
            return Added::Full;
        }
        self.insert(fid);
        self.provisional.insert(fid, now);
        Added::New
    }

    /// Makes a provisional key anchored (its feed got an entry); true if it was provisional.
    pub fn anchor(&mut self, fid: &FeedId) -> bool {
        self.provisional.remove(fid).is_some()
    }

    /// Whether a key is in the set as provisional.
    pub fn is_provisional(&self, fid: &FeedId) -> bool {
        self.provisional.contains_key(fid)
    }

    /// Number of provisional keys.
    pub fn provisional_len(&self) -> usize {
        self.provisional.len()
    }

    /// Whether a key was dropped recently enough to be refused at `now`.
    pub fn quarantined(&self, fid: &FeedId, now: Millis) -> bool {
        self.quarantine
            .iter()
            .any(|(k, at)| k == fid && now < at.saturating_add(self.quarantine_for))
    }

    /// When a provisional key learned at `at` is due: one TTL after it could be fetched (it
    /// was learned and a peer's set agreed with ours since `agreed_since`), at the latest
    /// [`HARD_TTL_FACTOR`] TTLs after it was learned.
    fn due(&self, at: Millis, agreed_since: Option<Millis>) -> Millis {
        let hard = at.saturating_add(self.ttl.saturating_mul(HARD_TTL_FACTOR));
        match agreed_since {
            Some(s) => at.max(s).saturating_add(self.ttl).min(hard),
            None => hard,
        }
    }

    /// Drops the provisional keys due at `now` (into quarantine; see [`Goset::next_expiry`])
    /// and forgets quarantined keys whose time is up. `agreed_since`: since when a peer's set
    /// has matched ours (None: not now). The engine learns what went by
    /// [`Goset::take_removed`].
    pub fn expire(&mut self, now: Millis, agreed_since: Option<Millis>) {
        let old: Vec<FeedId> = self
            .provisional
            .iter()
            .filter(|(_, at)| now >= self.due(**at, agreed_since))
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            self.drop_key(&k, now);
        }
        let keep = self.quarantine_for;
        while let Some((_, at)) = self.quarantine.front() {
            if now >= at.saturating_add(keep) {
                self.quarantine.pop_front();
            } else {
                break;
            }
        }
    }

    /// When the next provisional key is due, if any.
    pub fn next_expiry(&self, agreed_since: Option<Millis>) -> Option<Millis> {
        self.provisional
            .values()
            .map(|at| self.due(*at, agreed_since))
            .min()
    }

    /// The keys removed from the set since the last call (expired or evicted provisional
    /// keys): whoever keeps state per key must drop it.
    pub fn take_removed(&mut self) -> Vec<FeedId> {
        std::mem::take(&mut self.removed)
    }

    fn insert(&mut self, fid: FeedId) {
        let Err(pos) = self.keys.binary_search(&fid) else {
            return;
        };
        self.keys.insert(pos, fid);
        self.state = wire::xor(&self.state, &fid.0);
        self.novelties.push_back(fid);
        if self.novelties.len() > self.cap {
            self.novelties.pop_front();
        }
    }

    /// Drops the provisional key learned first (ties: the smaller key); false if none.
    fn evict_oldest_provisional(&mut self) -> bool {
        let Some(oldest) = self
            .provisional
            .iter()
            .min_by_key(|(k, at)| (**at, **k))
            .map(|(k, at)| (*k, *at))
        else {
            return false;
        };
        // An evicted key is not quarantined: it did nothing wrong but be the oldest.
        self.remove(&oldest.0);
        true
    }

    /// Drops a provisional key into quarantine.
    fn drop_key(&mut self, fid: &FeedId, now: Millis) {
        self.remove(fid);
        self.quarantine.retain(|(k, _)| k != fid);
        self.quarantine.push_back((*fid, now));
        while self.quarantine.len() > QUARANTINE_LEN {
            self.quarantine.pop_front();
        }
    }

    /// Removes a key and everything that refers to it: the XOR state, the novelties queue,
    /// pending claims bounded by it.
    fn remove(&mut self, fid: &FeedId) {
        let Ok(pos) = self.keys.binary_search(fid) else {
            return;
        };
        self.keys.remove(pos);
        self.state = wire::xor(&self.state, &fid.0);
        self.novelties.retain(|k| k != fid);
        self.pending.retain(|c| c.lo != *fid && c.hi != *fid);
        self.provisional.remove(fid);
        self.removed.push(*fid);
    }

    /// The claim over our whole set.
    pub fn full_claim(&self) -> Option<Claim> {
        Claim::over(&self.keys)
    }

    fn partial(&self, lo: usize, hi: usize) -> Option<Claim> {
        Claim::over(self.keys.get(lo..=hi)?)
    }

    /// Handles a peer's claim received at `now`; returns what became of the keys it named
    /// that we did not hold (each learned as provisional, or refused).
    pub fn on_claim(&mut self, c: Claim, now: Millis) -> Vec<(FeedId, Added)> {
        self.largest_claim_span = self.largest_claim_span.max(c.cnt);
        if usize::from(c.cnt) == self.keys.len() && c.xor == self.state {
            return Vec::new();
        }
        if let (Some(lo), Some(hi)) = (self.index_of(&c.lo), self.index_of(&c.hi)) {
            if hi == lo + 1 && c.cnt == 3 {
                // The one key between two neighbours of ours.
                let middle = FeedId(wire::xor(&wire::xor(&c.xor, &c.lo.0), &c.hi.0));
                return vec![(middle, self.learn(middle, now))];
            }
        }
        let mut out = Vec::new();
        for k in [c.lo, c.hi] {
            let r = self.learn(k, now);
            if r != Added::Known {
                out.push((k, r));
            }
        }
        // Only claims over keys we hold can be answered; keep a bounded number of them.
        if self.index_of(&c.lo).is_some()
            && self.index_of(&c.hi).is_some()
            && self.pending.len() < MAX_PENDING
            && !self
                .pending
                .iter()
                .any(|p| p.cnt == c.cnt && p.xor == c.xor)
        {
            self.pending.push(c);
        }
        out
    }

    /// Handles a novelty received at `now` (learned as provisional, or refused).
    pub fn on_novelty(&mut self, fid: FeedId, now: Millis) -> Added {
        self.learn(fid, now)
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
        // Only claims heard since this round count for the next: one claim with a count of
        // 255 must not hold our novelties back for ever.
        self.largest_claim_span = 0;
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
    use crate::identity::Identity;

    /// The `b`-th of 256 valid keys in sorted order (so `fid(1) < fid(2) < fid(3)`).
    fn fid(b: u8) -> FeedId {
        let mut all: Vec<FeedId> = (0..=255u8)
            .map(|s| *Identity::from_seed(&[s; 32]).fid())
            .collect();
        all.sort();
        all[usize::from(b)]
    }

    /// 32 bytes that are not an Ed25519 point.
    fn junk(b: u8) -> FeedId {
        (0..=255u8)
            .map(|i| {
                let mut k = [b; 32];
                k[0] = i;
                FeedId(k)
            })
            .find(|f| f.key().is_err())
            .unwrap()
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
                            dst.on_claim(c, 0);
                        }
                        GosetOut::Novelty(n) => {
                            dst.on_novelty(n, 0);
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
        // Deterministic: 10 rounds today (ranges are halved until they differ by one key,
        // each step a claim and its answer). Converging within 60 is not the point; a change
        // that makes agreement slower must fail here.
        let rounds = converge(&mut a, &mut b, 60).expect("converges");
        assert_eq!(a.len(), 33);
        assert_eq!(a.keys(), b.keys());
        assert!(
            rounds <= 12,
            "{rounds} rounds to agree on 33 keys, expected at most 12"
        );
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
        assert_eq!(a.on_claim(c, 0), vec![(fid(2), Added::New)]);
        assert_eq!(a.state(), b.state());
        assert!(a.is_provisional(&fid(2)));
    }

    #[test]
    fn cap_refuses_more_keys() {
        let mut a = Goset::new(3);
        for i in 0..3 {
            assert_eq!(a.add(fid(i)), Added::New);
        }
        assert_eq!(a.add(fid(9)), Added::Full);
        assert_eq!(a.learn(fid(9), 0), Added::Full);
        assert_eq!(a.add(fid(1)), Added::Known);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn claims_and_novelties_with_invalid_keys_are_refused() {
        let mut a = Goset::new(MAX_KEYS);
        a.add(fid(0));
        let (lo, hi) = (junk(1), junk(200));
        let c = Claim {
            lo,
            hi,
            xor: wire::xor(&lo.0, &hi.0),
            cnt: 2,
        };
        assert_eq!(
            a.on_claim(c, 0),
            vec![(lo, Added::Invalid), (hi, Added::Invalid)]
        );
        assert_eq!(a.on_novelty(junk(7), 0), Added::Invalid);
        assert_eq!(a.keys(), &[fid(0)]);
        // A middle key that is not a key: our neighbours fid(1) and fid(3) around junk.
        let mut b = Goset::new(MAX_KEYS);
        b.add(fid(1));
        b.add(fid(3));
        let m = junk(9);
        let c = Claim {
            lo: fid(1),
            hi: fid(3),
            xor: wire::xor(&wire::xor(&fid(1).0, &fid(3).0), &m.0),
            cnt: 3,
        };
        assert_eq!(b.on_claim(c, 0), vec![(m, Added::Invalid)]);
        assert_eq!(b.len(), 2);
        assert_eq!(b.state(), wire::xor(&fid(1).0, &fid(3).0));
    }

    #[test]
    fn a_full_set_evicts_its_oldest_provisional_key_never_an_anchored_one() {
        let mut a = Goset::new(4);
        a.add(fid(10));
        a.add(fid(11));
        assert_eq!(a.learn(fid(20), 5), Added::New);
        assert_eq!(a.learn(fid(1), 7), Added::New);
        assert!(a.is_full());
        // The oldest provisional (fid 20, learned at 5) goes first, whatever its order.
        assert_eq!(a.learn(fid(30), 9), Added::New);
        assert_eq!(a.take_removed(), vec![fid(20)]);
        assert_eq!(a.keys(), &[fid(1), fid(10), fid(11), fid(30)]);
        // An anchored key makes room the same way.
        assert_eq!(a.add(fid(40)), Added::New);
        assert_eq!(a.take_removed(), vec![fid(1)]);
        // Once an entry anchors the last provisional key, nothing more gets in.
        assert!(a.anchor(&fid(30)));
        assert_eq!(a.learn(fid(50), 10), Added::Full);
        assert_eq!(a.add(fid(50)), Added::Full);
        assert_eq!(a.keys(), &[fid(10), fid(11), fid(30), fid(40)]);
        // The XOR state is that of the keys held.
        let x = a.keys().iter().fold([0u8; 32], |x, k| wire::xor(&x, &k.0));
        assert_eq!(a.state(), x);
    }

    #[test]
    fn provisional_keys_expire_into_a_quarantine() {
        let mut a = Goset::with_ttl(MAX_KEYS, 100, 1_000);
        a.add(fid(1));
        a.learn(fid(2), 0);
        a.learn(fid(3), 50);
        assert!(a.anchor(&fid(3)));
        // Without agreement the clock runs ten times slower; with it, from when it began.
        assert_eq!(a.next_expiry(None), Some(1_000));
        assert_eq!(a.next_expiry(Some(40)), Some(140));
        a.expire(139, Some(40));
        assert_eq!(a.len(), 3);
        a.expire(140, Some(40));
        assert_eq!(a.take_removed(), vec![fid(2)]);
        assert_eq!(a.keys(), &[fid(1), fid(3)]);
        assert_eq!(a.next_expiry(None), None);
        assert!(a.novelties.iter().all(|k| *k != fid(2)));
        // Handed back by a peer: refused while quarantined, welcome afterwards.
        assert_eq!(a.on_novelty(fid(2), 500), Added::Quarantined);
        a.expire(1_140, None);
        assert_eq!(a.on_novelty(fid(2), 1_140), Added::New);
        a.expire(2_139, None);
        assert!(a.is_provisional(&fid(2)));
        a.expire(2_140, None);
        assert!(!a.is_provisional(&fid(2)));
        // A local decision overrides the quarantine.
        let mut b = Goset::with_ttl(MAX_KEYS, 10, 1_000);
        b.learn(fid(4), 0);
        b.expire(10, Some(0));
        assert_eq!(b.learn(fid(4), 11), Added::Quarantined);
        assert_eq!(b.add(fid(4)), Added::New);
        assert!(!b.is_provisional(&fid(4)));
    }

    #[test]
    fn the_quarantine_is_bounded() {
        let mut a = Goset::with_ttl(255, 1, Millis::MAX);
        let keys: Vec<FeedId> = (0..1100u16)
            .map(|s| {
                let mut seed = [7u8; 32];
                seed[..2].copy_from_slice(&s.to_be_bytes());
                *Identity::from_seed(&seed).fid()
            })
            .collect();
        for (t, chunk) in keys.chunks(200).enumerate() {
            for k in chunk {
                assert_eq!(a.learn(*k, t as Millis), Added::New);
            }
            a.expire(t as Millis + 1, Some(0));
            assert_eq!(a.take_removed().len(), chunk.len());
        }
        assert!(a.is_empty());
        assert_eq!(a.quarantine.len(), QUARANTINE_LEN);
        // The oldest were forgotten, the newest are still kept out.
        assert_eq!(a.learn(keys[0], 10), Added::New);
        assert_eq!(a.learn(keys[1099], 10), Added::Quarantined);
    }

    #[test]
    fn one_huge_claim_does_not_silence_novelties_for_ever() {
        let mut a = Goset::new(MAX_KEYS);
        a.add(fid(1));
        let (lo, hi) = (fid(2), fid(3));
        a.on_claim(
            Claim {
                lo,
                hi,
                xor: [7; 32],
                cnt: 255,
            },
            0,
        );
        assert!(!a.in_sync());
        let first = a.round();
        assert!(!first.iter().any(|o| matches!(o, GosetOut::Novelty(_))));
        assert!(a.in_sync() || a.largest_claim_span() < 255);
        let second = a.round();
        assert!(second.iter().any(|o| matches!(o, GosetOut::Novelty(_))));
    }
}
