//! Stateful target: two honest sync engines replicate two real feeds over an in-memory link
//! while the input drives a third peer that injects packets into either of them: arbitrary
//! bytes, frames of entry length, frames under the DMX a real feed's next entry has (with
//! garbage after it), frames under the current GOset/WANT/CHNK DMXs with garbage bodies, and
//! replays of real frames (authored entries and chunks, and anything the honest engines sent).
//!
//! Invariants: every entry and chunk either store holds is the authored one, verifies, and
//! continues its feed's hash chain (nothing invalid is stored); once the input ends, a bounded
//! number of clean rounds brings both stores to hold both feeds completely (they converge).
#![no_main]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use lichen::{FeedId, Identity};
use lichen::store::{Frontier, Store, StoreError, Stored};
use lichen::sync::{Config, Engine, FaceId, FaceProfile};
use lichen::wire::entry::{first_prev, sign_chain20, verify, Entry, EntryKind, Name};
use lichen::wire::network::Network;
use lichen::wire::sidechain::{Chain20, Reassembly};
use lichen::wire::{Mid, PKT_LEN};

/// Entries per authored feed (every third one has a side chain of a few chunks).
const ENTRIES: u32 = 8;
/// Simulated time the clean rounds after the input may take to converge, ms.
const CONVERGE_WITHIN: u64 = 600_000;
/// Most operations taken from one input (bounds the time of one execution).
const MAX_OPS: usize = 400;

/// What the authors wrote: per feed, per seq (index seq-1), the entry, its MID, its chunks.
struct Authored {
    fids: [FeedId; 2],
    feeds: [Vec<(Entry, Mid, Vec<[u8; PKT_LEN]>)>; 2],
    /// Every authored packet (entries and chunks), for replays.
    packets: Vec<[u8; PKT_LEN]>,
}

fn authored() -> &'static Authored {
    static A: OnceLock<Authored> = OnceLock::new();
    A.get_or_init(|| {
        let net = Network::deployed();
        let ids = [
            Identity::from_seed(&[0x51; 32]),
            Identity::from_seed(&[0x52; 32]),
        ];
        let mut packets = Vec::new();
        let mut feeds: [Vec<(Entry, Mid, Vec<[u8; PKT_LEN]>)>; 2] = [Vec::new(), Vec::new()];
        for (f, id) in ids.iter().enumerate() {
            let mut prev = first_prev(id.fid());
            for seq in 1..=ENTRIES {
                let len = if seq % 3 == 0 { 150 + 60 * f } else { 10 };
                let content: Vec<u8> = (0..len).map(|i| (i as u32 ^ seq) as u8).collect();
                let Ok(s) = sign_chain20(&net, id, seq, &prev, &content) else {
                    unreachable!("authoring a short entry cannot fail")
                };
                prev = s.mid;
                packets.push(*s.entry.bytes());
                packets.extend(s.chunks.iter().copied());
                feeds[f].push((s.entry, s.mid, s.chunks));
            }
        }
        Authored {
            fids: [*ids[0].fid(), *ids[1].fid()],
            feeds,
            packets,
        }
    })
}

/// One feed as held by [`MemStore`].
#[derive(Default)]
struct Log {
    entries: Vec<(Entry, Mid, Vec<[u8; PKT_LEN]>)>,
}

/// The simplest honest [`Store`]: everything in maps behind one lock. It re-checks
/// continuity (seq after the frontier, chunks in order and matching the hash chain), as the
/// trait asks.
#[derive(Default)]
struct MemStore {
    inner: Mutex<MemInner>,
}

#[derive(Default)]
struct MemInner {
    logs: BTreeMap<FeedId, Log>,
    members: Vec<FeedId>,
    meta: BTreeMap<(FeedId, String), Vec<u8>>,
}

fn chain_of(entry: &Entry) -> Option<Chain20> {
    if entry.kind() != EntryKind::Chain20 {
        return None;
    }
    Chain20::parse(entry.payload()).ok()
}

impl MemStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemInner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

impl Store for MemStore {
    fn append(&self, fid: &FeedId, seq: u32, entry: &Entry, mid: &Mid) -> Result<(), StoreError> {
        let mut g = self.lock();
        let log = g.logs.entry(*fid).or_default();
        let frontier = log.entries.len() as u32;
        if seq != frontier + 1 {
            return Err(StoreError::NotNext {
                fid: *fid,
                seq,
                frontier,
            });
        }
        log.entries.push((entry.clone(), *mid, Vec::new()));
        Ok(())
    }

    fn put_chunk(
        &self,
        fid: &FeedId,
        seq: u32,
        cnr: u32,
        chunk: &[u8; PKT_LEN],
    ) -> Result<(), StoreError> {
        let mut g = self.lock();
        let Some((entry, _, chunks)) = g
            .logs
            .get_mut(fid)
            .and_then(|l| l.entries.get_mut(seq.wrapping_sub(1) as usize))
        else {
            return Err(StoreError::ChunkNotWanted { fid: *fid, seq });
        };
        let Some(header) = chain_of(entry) else {
            return Err(StoreError::ChunkNotWanted { fid: *fid, seq });
        };
        let mut r = Reassembly::new(&header);
        if r.is_complete() {
            return Err(StoreError::ChunkNotWanted { fid: *fid, seq });
        }
        if cnr as usize != chunks.len() {
            return Err(StoreError::ChunkOutOfOrder {
                fid: *fid,
                seq,
                cnr,
                next: chunks.len() as u32,
            });
        }
        for c in chunks.iter() {
            r.push(c)
                .map_err(|e| StoreError::Corrupt(format!("held chunk: {e}")))?;
        }
        r.push(chunk).map_err(|_| StoreError::ChunkHash {
            fid: *fid,
            seq,
            cnr,
        })?;
        chunks.push(*chunk);
        Ok(())
    }

    fn frontier(&self, fid: &FeedId) -> Result<Option<Frontier>, StoreError> {
        let g = self.lock();
        Ok(g.logs.get(fid).and_then(|l| {
            l.entries.last().map(|(_, mid, _)| Frontier {
                seq: l.entries.len() as u32,
                mid: *mid,
            })
        }))
    }

    fn entry(&self, fid: &FeedId, seq: u32) -> Result<Option<Stored>, StoreError> {
        let g = self.lock();
        Ok(g.logs
            .get(fid)
            .and_then(|l| l.entries.get(seq.wrapping_sub(1) as usize))
            .map(|(e, mid, _)| Stored {
                entry: e.clone(),
                mid: *mid,
            }))
    }

    fn locate(&self, mid: &Mid) -> Result<Option<(FeedId, u32)>, StoreError> {
        let g = self.lock();
        for (fid, l) in &g.logs {
            if let Some(i) = l.entries.iter().position(|(_, m, _)| m == mid) {
                return Ok(Some((*fid, i as u32 + 1)));
            }
        }
        Ok(None)
    }

    fn chunks(&self, fid: &FeedId, seq: u32) -> Result<Vec<[u8; PKT_LEN]>, StoreError> {
        let g = self.lock();
        Ok(g.logs
            .get(fid)
            .and_then(|l| l.entries.get(seq.wrapping_sub(1) as usize))
            .map(|(_, _, c)| c.clone())
            .unwrap_or_default())
    }

    fn feeds(&self) -> Result<Vec<(FeedId, Frontier)>, StoreError> {
        let g = self.lock();
        Ok(g.logs
            .iter()
            .filter_map(|(fid, l)| {
                l.entries.last().map(|(_, mid, _)| {
                    (
                        *fid,
                        Frontier {
                            seq: l.entries.len() as u32,
                            mid: *mid,
                        },
                    )
                })
            })
            .collect())
    }

    fn open_chains(&self, fid: &FeedId) -> Result<Vec<u32>, StoreError> {
        let g = self.lock();
        Ok(g.logs
            .get(fid)
            .map(|l| {
                l.entries
                    .iter()
                    .enumerate()
                    .filter(|(_, (e, _, c))| {
                        chain_of(e).is_some_and(|h| (c.len() as u64) < h.chunk_count())
                    })
                    .map(|(i, _)| i as u32 + 1)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn add_member(&self, fid: &FeedId) -> Result<bool, StoreError> {
        let mut g = self.lock();
        if g.members.contains(fid) {
            return Ok(false);
        }
        g.members.push(*fid);
        g.members.sort();
        Ok(true)
    }

    fn members(&self) -> Result<Vec<FeedId>, StoreError> {
        Ok(self.lock().members.clone())
    }

    fn set_meta(&self, fid: &FeedId, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut g = self.lock();
        if value.is_empty() {
            g.meta.remove(&(*fid, key.to_string()));
        } else {
            g.meta.insert((*fid, key.to_string()), value.to_vec());
        }
        Ok(())
    }

    fn meta(&self, fid: &FeedId, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().meta.get(&(*fid, key.to_string())).cloned())
    }

    fn signed_mark(&self, _fid: &FeedId) -> Result<u32, StoreError> {
        Ok(0)
    }

    fn claim_next(&self, fid: &FeedId, _durable: bool) -> Result<Option<Frontier>, StoreError> {
        self.frontier(fid)
    }

    fn finish_claim(&self, _fid: &FeedId, _seq: u32, _stored: bool) -> Result<(), StoreError> {
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Face ids: the honest link as each side sees it, and the attacker's face on both.
const TO_B: FaceId = FaceId(1);
const TO_A: FaceId = FaceId(2);
const EVIL: FaceId = FaceId(3);

struct World {
    net: Network,
    stores: [Arc<MemStore>; 2],
    engines: [Engine; 2],
    now: u64,
    /// Packets the honest engines sent (for replays), bounded.
    seen: Vec<Vec<u8>>,
}

impl World {
    fn new() -> Option<World> {
        let a = authored();
        let net = Network::deployed();
        let stores = [Arc::new(MemStore::default()), Arc::new(MemStore::default())];
        // Each side starts with its own author's feed.
        for (f, store) in stores.iter().enumerate() {
            for (i, (e, mid, chunks)) in a.feeds[f].iter().enumerate() {
                store.append(&a.fids[f], i as u32 + 1, e, mid).ok()?;
                for (cnr, c) in chunks.iter().enumerate() {
                    store
                        .put_chunk(&a.fids[f], i as u32 + 1, cnr as u32, c)
                        .ok()?;
                }
            }
        }
        let mut engines = [
            Engine::new(net.clone(), stores[0].clone(), Config::default(), 1).ok()?,
            Engine::new(net.clone(), stores[1].clone(), Config::default(), 2).ok()?,
        ];
        for e in &mut engines {
            for fid in &a.fids {
                e.add_feed(*fid).ok()?;
            }
            e.add_face(EVIL, FaceProfile::fast());
        }
        engines[0].add_face(TO_B, FaceProfile::fast());
        engines[1].add_face(TO_A, FaceProfile::fast());
        Some(World {
            net,
            stores,
            engines,
            now: 0,
            seen: Vec::new(),
        })
    }

    /// One honest round: both poll, packets cross the link (the attacker's face hears
    /// what is sent to it and answers nothing), the clock moves to the next wakeup.
    fn round(&mut self, max_step: u64) {
        let now = self.now;
        let [ea, eb] = &mut self.engines;
        let out_a = ea.poll(now);
        let out_b = eb.poll(now);
        let to_b: Vec<&[u8]> = out_a
            .iter()
            .filter(|o| o.face == TO_B)
            .map(|o| o.pkt.as_slice())
            .collect();
        let to_a: Vec<&[u8]> = out_b
            .iter()
            .filter(|o| o.face == TO_A)
            .map(|o| o.pkt.as_slice())
            .collect();
        if !to_b.is_empty() {
            eb.on_packets(TO_A, &to_b, now);
        }
        if !to_a.is_empty() {
            ea.on_packets(TO_B, &to_a, now);
        }
        for o in out_a.iter().chain(&out_b) {
            if self.seen.len() < 256 {
                self.seen.push(o.pkt.clone());
            }
        }
        let next = ea.next_wakeup().min(eb.next_wakeup());
        self.now = next.clamp(now + 1, now + max_step.max(1));
    }

    /// The DMX the next entry of `fid` has at engine `side`.
    fn next_dmx(&self, side: usize, fid: &FeedId) -> [u8; 7] {
        let (seq, prev) = match self.stores[side].frontier(fid) {
            Ok(Some(f)) => (f.seq.saturating_add(1), f.mid),
            _ => (1, first_prev(fid)),
        };
        Name::new(&self.net, fid, seq, &prev).dmx().0
    }

    fn inject(&mut self, side: usize, pkt: &[u8]) {
        let now = self.now;
        self.engines[side].on_packets(EVIL, &[pkt], now);
    }

    fn converged(&self) -> bool {
        let a = authored();
        self.stores.iter().all(|s| {
            a.fids.iter().enumerate().all(|(f, fid)| {
                matches!(s.frontier(fid), Ok(Some(fr)) if fr.seq == ENTRIES)
                    && s.open_chains(fid).is_ok_and(|o| o.is_empty())
                    && (1..=ENTRIES).all(|seq| {
                        s.chunks(fid, seq).ok().map(|c| c.len())
                            == Some(a.feeds[f][seq as usize - 1].2.len())
                    })
            })
        })
    }

    /// Nothing invalid stored: every entry verifies against its feed's key and predecessor,
    /// is the authored one, and its chunks are a prefix of the authored chain that hashes.
    fn check_stored(&self) {
        let a = authored();
        for (side, s) in self.stores.iter().enumerate() {
            let feeds = s.feeds().unwrap_or_default();
            for (fid, fr) in feeds {
                let f = a
                    .fids
                    .iter()
                    .position(|x| *x == fid)
                    .unwrap_or_else(|| panic!("side {side} stores an unknown feed {fid:?}"));
                let key = fid.key().unwrap_or_else(|e| panic!("stored feed key: {e}"));
                let mut prev = first_prev(&fid);
                for seq in 1..=fr.seq {
                    let st = s
                        .entry(&fid, seq)
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| panic!("side {side}: entry {seq} missing"));
                    let (_, mid) = verify(&self.net, &key, seq, &prev, st.entry.bytes())
                        .unwrap_or_else(|e| panic!("side {side}: stored entry {seq}: {e}"));
                    assert_eq!(mid, st.mid, "side {side}: stored MID of {seq}");
                    let (want, want_mid, want_chunks) = &a.feeds[f][seq as usize - 1];
                    assert_eq!(
                        &st.entry, want,
                        "side {side}: entry {seq} is not the authored"
                    );
                    assert_eq!(&mid, want_mid);
                    let chunks = s.chunks(&fid, seq).unwrap_or_default();
                    assert!(
                        want_chunks.starts_with(&chunks),
                        "side {side}: chunks of {seq} are not the authored chain"
                    );
                    if let Some(h) = chain_of(&st.entry) {
                        let mut r = Reassembly::new(&h);
                        for c in &chunks {
                            r.push(c)
                                .unwrap_or_else(|e| panic!("side {side}: chunk of {seq}: {e}"));
                        }
                    }
                    prev = mid;
                }
            }
        }
    }
}

/// Reads bytes off the input.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }

    /// Exactly `n` bytes, padded with zeros when the input runs out.
    fn exact(&mut self, n: usize) -> Vec<u8> {
        let mut v = self.take(n);
        v.resize(n, 0);
        v
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(mut w) = World::new() else {
        panic!("setting up the world failed");
    };
    let a = authored();
    let mut input = Input(data);
    let mut ops = 0;
    while let Some(op) = input.byte() {
        ops += 1;
        if ops > MAX_OPS {
            break;
        }
        let side = usize::from(op & 1);
        match (op >> 1) % 8 {
            // Arbitrary bytes.
            0 => {
                let len = usize::from(input.byte().unwrap_or(0));
                let pkt = input.take(len);
                w.inject(side, &pkt);
            }
            // A frame of entry length.
            1 => {
                let pkt = input.exact(PKT_LEN);
                w.inject(side, &pkt);
            }
            // Under the DMX of a real feed's next entry, garbage after it (sometimes a
            // real entry's body, so only the signature is wrong).
            2 | 3 => {
                let f = usize::from(input.byte().unwrap_or(0) & 1);
                let mut pkt = w.next_dmx(side, &a.fids[f]).to_vec();
                if (op >> 1) % 8 == 3 {
                    let k = usize::from(input.byte().unwrap_or(0)) % a.packets.len();
                    pkt.extend_from_slice(&a.packets[k][7..]);
                    let at = 7 + usize::from(input.byte().unwrap_or(0)) % (PKT_LEN - 7);
                    pkt[at] ^= input.byte().unwrap_or(1) | 1;
                } else {
                    pkt.extend(input.exact(PKT_LEN - 7));
                }
                w.inject(side, &pkt);
            }
            // Under the GOset, WANT or CHNK DMX, with a garbage body of any length.
            4 => {
                let which = input.byte().unwrap_or(0);
                let dmx = match which % 3 {
                    0 => w.net.goset_dmx().0,
                    1 => w.engines[side].want_dmx().0,
                    _ => w.net.chnk_dmx(&w.engines[side].goset().state()).0,
                };
                let mut pkt = dmx.to_vec();
                let len = usize::from(input.byte().unwrap_or(0)) % 121;
                pkt.extend(input.take(len));
                w.inject(side, &pkt);
            }
            // A replay of an authored packet.
            5 => {
                let k = usize::from(input.byte().unwrap_or(0)) % a.packets.len();
                let pkt = a.packets[k];
                w.inject(side, &pkt);
            }
            // A replay of something an honest engine sent.
            6 => {
                let k = usize::from(input.byte().unwrap_or(0));
                if !w.seen.is_empty() {
                    let pkt = w.seen[k % w.seen.len()].clone();
                    w.inject(side, &pkt);
                }
            }
            // Honest rounds, the clock moving up to 2.5 s per round.
            _ => {
                let n = 1 + input.byte().unwrap_or(0) % 4;
                for _ in 0..n {
                    w.round(u64::from(input.byte().unwrap_or(0)) * 10);
                }
            }
        }
        w.check_stored();
    }
    // Clean rounds: the honest pair must converge.
    let until = w.now + CONVERGE_WITHIN;
    while !w.converged() {
        assert!(
            w.now < until,
            "no convergence within {CONVERGE_WITHIN} ms of clean rounds after the input"
        );
        w.round(10_000);
    }
    w.check_stored();
});
