//! [`KvStore`]: the store's logic over any [`Kv`] backend, shared by both backends so that
//! they cannot drift apart. One place checks that an entry continues its feed, one place
//! encodes records, one place decides what a flush commits.
//!
//! In memory it keeps, per feed, the frontier (including appends not yet flushed), the next
//! free chunk slot and (loaded on first use) the side chains still open. Appends write their
//! records to the feed's entry log at once, so reads see them; the map is only written by
//! [`flush`](Store::flush) and [`sync`](Store::sync) (see [`super::commit`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::kv::{Kv, LogId, Mark};
use super::mid_index::MidIndex;
use super::records::{self, chain_start, chunks_needed, ChainList, RECORD_LEN};
use super::{keys, Frontier, Store, StoreError, Stored};
use crate::identity::FeedId;
use crate::wire::entry::Entry;
use crate::wire::sidechain::{chunk_hash, CHUNK_DATA};
use crate::wire::{Mid, HASH_LEN, PKT_LEN};

/// A side chain whose chunks are not all on stable storage yet.
#[derive(Debug, Clone)]
pub(super) struct Chain {
    /// Chunks the entry needs.
    pub need: u32,
    /// Chunks held (a prefix of the chain).
    pub have: u32,
    /// First slot in the chunk log.
    pub base: u32,
    /// Hash the next chunk must have.
    pub expect: [u8; HASH_LEN],
}

/// What the store knows about one feed.
#[derive(Debug)]
pub(super) struct Feed {
    /// Position in [`State::fids`] (for the message-id index).
    pub no: u32,
    /// Last entry held (including unflushed appends).
    pub seq: u32,
    /// Its message id.
    pub mid: Mid,
    /// Entries `1..=synced` are known to be on stable storage.
    pub synced: u32,
    /// The frontier record in the map is out of date.
    pub dirty: bool,
    /// The entry log was written since the last sync.
    pub unsynced_entries: bool,
    /// The chunk log was written since the last sync.
    pub unsynced_chunks: bool,
    /// Next free slot in the chunk log.
    pub chunk_slots: u32,
    /// Side chains not known complete on stable storage; `None` until loaded.
    pub chains: Option<BTreeMap<u32, Chain>>,
}

/// Everything behind the store's lock.
#[derive(Debug, Default)]
pub(super) struct State {
    pub feeds: BTreeMap<FeedId, Feed>,
    /// Feed ids by number.
    pub fids: Vec<FeedId>,
    /// Built on the first `locate`.
    pub index: Option<MidIndex>,
    /// Signing high-water marks loaded so far (see [`Store::claim_next`]).
    pub marks: HashMap<FeedId, u32>,
    /// Marks whose copy in the map is out of date.
    pub marks_dirty: BTreeSet<FeedId>,
    /// Own entries being signed and stored (see [`Store::claim_next`]).
    pub claims: HashMap<FeedId, Claim>,
}

/// An own entry being signed: until its claim ends, readers do not see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim {
    /// The seq claimed.
    pub seq: u32,
    /// The frontier before it.
    pub prev: Option<Frontier>,
    /// Whether its mark is written durably (`publish`) or not (`append_own`).
    pub durable: bool,
}

/// What opening the store had to repair after an unclean shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Feeds whose committed frontier was not fully on disk: (feed, frontier recorded,
    /// frontier kept). Only happens after a power loss (or a damaged disk).
    pub rolled_back: Vec<(FeedId, u32, u32)>,
    /// Bytes of uncommitted, torn or damaged records cut from entry logs.
    pub bytes_cut: u64,
    /// The map (sled's database) was missing and was rebuilt from the feed logs: frontiers
    /// and GOset members from the logs, open side chains from the chunk slots. Per-feed
    /// metadata (aliases) cannot be rebuilt and is gone.
    pub rebuilt: bool,
}

/// [`Store`] over any [`Kv`].
pub struct KvStore<B: Kv> {
    pub(super) kv: B,
    pub(super) state: Mutex<State>,
    /// Serialises flushes and syncs.
    pub(super) commit: Mutex<()>,
    pub(super) recovery: Recovery,
    /// Set by [`KvStore::abandon`]: drop without committing.
    pub(super) abandoned: std::sync::atomic::AtomicBool,
}

fn poisoned() -> StoreError {
    StoreError::Backend("store lock poisoned".into())
}

/// One entry to append, by reference.
struct Item<'a> {
    fid: &'a FeedId,
    seq: u32,
    entry: &'a Entry,
    mid: &'a Mid,
}

impl<B: Kv> KvStore<B> {
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| poisoned())
    }

    /// What opening had to repair (empty after a clean shutdown or a process crash).
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.kv
    }

    /// Drops the store without committing anything, as if the process died here: appends
    /// since the last flush are not recorded in the map. For tests and simulations (reopen
    /// the same backend, e.g. a cloned [`MemoryKv`](super::MemoryKv), to see the recovery).
    pub fn abandon(self) {
        self.abandoned
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Reads entry `seq`'s record.
    pub(super) fn read_record(
        &self,
        fid: &FeedId,
        seq: u32,
    ) -> Result<records::Record, StoreError> {
        let mut rec = [0u8; RECORD_LEN];
        let n = self
            .kv
            .log_read(&LogId::entries(fid), records::offset(seq), &mut rec)?;
        if n != RECORD_LEN {
            return Err(StoreError::Corrupt(format!(
                "entry log of {fid:?} ends inside record {seq}"
            )));
        }
        records::decode(&rec, seq)
    }

    /// Loads the open side chains of a feed (once): those the last sync listed, plus every
    /// chain20 entry after the list's end; each is walked along its hash chain through the
    /// chunk log to find how many chunks it holds.
    pub(super) fn load_chains(&self, fid: &FeedId, feed: &mut Feed) -> Result<(), StoreError> {
        if feed.chains.is_some() {
            return Ok(());
        }
        let list = match self.kv.get(&keys::feed(keys::CHAINS, fid))? {
            Some(v) => ChainList::decode(&v)?,
            None => ChainList::default(),
        };
        let mut candidates: Vec<(u32, records::Record)> = Vec::new();
        for &seq in list.open.iter().filter(|&&s| s <= feed.seq) {
            candidates.push((seq, self.read_record(fid, seq)?));
        }
        // Entries after the list's end: read their records in blocks.
        const BLOCK: u32 = 4096;
        let mut seq = list.upto.min(feed.seq) + 1;
        let mut buf = vec![0u8; BLOCK as usize * RECORD_LEN];
        while seq <= feed.seq {
            let n = BLOCK.min(feed.seq - seq + 1);
            let want = n as usize * RECORD_LEN;
            let got =
                self.kv
                    .log_read(&LogId::entries(fid), records::offset(seq), &mut buf[..want])?;
            if got != want {
                return Err(StoreError::Corrupt(format!(
                    "entry log of {fid:?} is short"
                )));
            }
            for (i, rec) in buf[..want].chunks_exact(RECORD_LEN).enumerate() {
                let s = seq + i as u32;
                let rec = records::decode(rec, s)?;
                if chunks_needed(&rec.entry) > 0 {
                    candidates.push((s, rec));
                }
            }
            seq += n;
        }
        let mut chains = BTreeMap::new();
        let log = LogId::chunks(fid);
        let mut slot = [0u8; PKT_LEN];
        for (seq, rec) in candidates {
            let mut chain = Chain {
                need: chunks_needed(&rec.entry),
                have: 0,
                base: rec.base,
                expect: chain_start(&rec.entry),
            };
            while chain.have < chain.need {
                let at = (u64::from(chain.base) + u64::from(chain.have)) * PKT_LEN as u64;
                if self.kv.log_read(&log, at, &mut slot)? != PKT_LEN
                    || chunk_hash(&slot) != chain.expect
                {
                    break;
                }
                chain.expect.copy_from_slice(&slot[CHUNK_DATA..]);
                chain.have += 1;
            }
            if chain.need > 0 {
                chains.insert(seq, chain);
            }
        }
        feed.chains = Some(chains);
        Ok(())
    }

    fn append_items(&self, items: &[Item<'_>]) -> Result<usize, StoreError> {
        let mut guard = self.lock()?;
        let state = &mut *guard;
        let mut done = 0;
        while done < items.len() {
            let Some(first) = items.get(done) else { break };
            let fid = first.fid;
            let run_len = items[done..].iter().take_while(|it| it.fid == fid).count();
            let run = &items[done..done + run_len];
            let stored = self.append_run(state, fid, run)?;
            done += stored;
            if stored < run_len {
                break;
            }
        }
        Ok(done)
    }

    /// Appends the longest continuing prefix of a run of one feed; returns its length.
    fn append_run(
        &self,
        state: &mut State,
        fid: &FeedId,
        run: &[Item<'_>],
    ) -> Result<usize, StoreError> {
        let (mut seq, mut mid, mut slots) = match state.feeds.get(fid) {
            Some(f) => (f.seq, f.mid, f.chunk_slots),
            None => (0, Mid([0; HASH_LEN]), 0),
        };
        let first_seq = seq + 1;
        let mut buf = Vec::with_capacity(run.len() * RECORD_LEN);
        let mut new_chains = Vec::new();
        let mut taken = 0;
        for it in run {
            if Some(it.seq) != seq.checked_add(1) {
                break;
            }
            let need = chunks_needed(it.entry);
            let base = slots;
            if need > 0 {
                slots = slots
                    .checked_add(need)
                    .ok_or_else(|| StoreError::Backend("chunk log full".into()))?;
                new_chains.push((it.seq, need, base, chain_start(it.entry)));
            }
            buf.extend_from_slice(&records::encode(it.entry, it.mid, base));
            seq = it.seq;
            mid = *it.mid;
            taken += 1;
        }
        if taken == 0 {
            return Ok(0);
        }
        match state.feeds.get_mut(fid) {
            Some(feed) if !new_chains.is_empty() => self.load_chains(fid, feed)?,
            Some(_) => {}
            None => {
                // A new feed: clear anything an uncommitted earlier life left in its logs.
                self.kv.log_truncate(&LogId::entries(fid), 0)?;
                self.kv.log_truncate(&LogId::chunks(fid), 0)?;
            }
        }
        self.kv
            .log_write(&LogId::entries(fid), records::offset(first_seq), &buf)?;
        if !state.feeds.contains_key(fid) {
            let no = u32::try_from(state.fids.len())
                .map_err(|_| StoreError::Backend("too many feeds".into()))?;
            state.fids.push(*fid);
            state.feeds.insert(
                *fid,
                Feed {
                    no,
                    seq: 0,
                    mid,
                    synced: 0,
                    dirty: false,
                    unsynced_entries: false,
                    unsynced_chunks: false,
                    chunk_slots: 0,
                    chains: Some(BTreeMap::new()),
                },
            );
        }
        let feed = state
            .feeds
            .get_mut(fid)
            .ok_or_else(|| StoreError::Backend("feed vanished".into()))?;
        feed.seq = seq;
        feed.mid = mid;
        feed.chunk_slots = slots;
        feed.dirty = true;
        feed.unsynced_entries = true;
        if let Some(chains) = feed.chains.as_mut() {
            for (s, need, base, expect) in new_chains {
                chains.insert(
                    s,
                    Chain {
                        need,
                        have: 0,
                        base,
                        expect,
                    },
                );
            }
        }
        let no = feed.no;
        if let Some(index) = state.index.as_mut() {
            for (i, it) in run.iter().take(taken).enumerate() {
                index.insert(it.mid, (no, first_seq + i as u32));
            }
        }
        Ok(taken)
    }

    /// The signing mark of `fid`: the greater of the mark file and its copy in the map.
    fn load_mark(&self, state: &mut State, fid: &FeedId) -> Result<u32, StoreError> {
        if let Some(m) = state.marks.get(fid) {
            return Ok(*m);
        }
        let file = self.kv.mark_read(fid)?;
        let map = match self.kv.get(&keys::feed(keys::SIGNED, fid))? {
            Some(v) => records::be_u32(&v, "signing mark")?,
            None => 0,
        };
        let held = Self::feed_frontier(state, fid);
        let mut file_seq = file.seq;
        // A claim that was still pending when the process died (or the power went) and whose
        // entry is not in the log: it was never shown to a reader, so it never left the
        // device, and its number can be signed again (ADR 0014). The map's copy only ever
        // holds settled marks.
        if file.pending && file.seq > held && file.seq > map {
            file_seq = file.seq - 1;
            tracing::info!(
                "store: post {} of {fid:?} was interrupted before it was stored; its number is free again",
                file.seq
            );
            self.kv.mark_write(
                fid,
                Mark {
                    seq: file_seq,
                    pending: false,
                },
                true,
            )?;
        }
        let mark = file_seq.max(map);
        // One copy lost (sled rebuilt, or the file deleted or damaged): restore it.
        if file_seq < mark {
            tracing::warn!("store: restoring the signing mark file of {fid:?} from the map");
            self.kv.mark_write(
                fid,
                Mark {
                    seq: mark,
                    pending: false,
                },
                true,
            )?;
        }
        if map < mark {
            state.marks_dirty.insert(*fid);
        }
        state.marks.insert(*fid, mark);
        Ok(mark)
    }

    /// Writes `fid`'s mark to its file (durably if asked); the map's copy is written by the
    /// next flush or sync (see `commit.rs`).
    fn write_mark(&self, fid: &FeedId, mark: Mark, durable: bool) -> Result<(), StoreError> {
        self.kv.mark_write(fid, mark, durable)
    }

    fn feed_frontier(state: &State, fid: &FeedId) -> u32 {
        state.feeds.get(fid).map_or(0, |f| f.seq)
    }

    /// The frontier readers see: an own entry whose claim is still under way is hidden, so it
    /// cannot leave the device before it is durable (or be served and then taken back).
    fn visible(state: &State, fid: &FeedId) -> Option<Frontier> {
        let feed = state.feeds.get(fid)?;
        match state.claims.get(fid) {
            Some(c) if c.seq == feed.seq => c.prev,
            _ => Some(Frontier {
                seq: feed.seq,
                mid: feed.mid,
            }),
        }
    }

    fn visible_seq(state: &State, fid: &FeedId) -> u32 {
        Self::visible(state, fid).map_or(0, |f| f.seq)
    }

    /// Takes back the last entry of a feed (an own entry whose claim failed, never seen by a
    /// reader): its record is cut from the log and the frontier goes back to `prev`.
    fn take_back(
        &self,
        state: &mut State,
        fid: &FeedId,
        seq: u32,
        prev: Option<Frontier>,
    ) -> Result<(), StoreError> {
        let Some(feed) = state.feeds.get_mut(fid) else {
            return Ok(());
        };
        if feed.seq != seq {
            return Ok(());
        }
        let Some(prev) = prev else {
            // The feed's first entry: the feed goes.
            state.feeds.remove(fid);
            self.kv
                .apply(Vec::new(), vec![keys::feed(keys::FRONTIER, fid)])?;
            self.kv.log_truncate(&LogId::chunks(fid), 0)?;
            return self.kv.log_truncate(&LogId::entries(fid), 0);
        };
        let prev = (prev.seq, prev.mid);
        if let Some(chains) = feed.chains.as_mut() {
            if let Some(c) = chains.remove(&seq) {
                feed.chunk_slots = c.base;
            }
        }
        feed.seq = prev.0;
        feed.mid = prev.1;
        feed.synced = feed.synced.min(prev.0);
        feed.dirty = true;
        self.kv
            .log_truncate(&LogId::entries(fid), records::offset(seq))
    }

    fn build_index(&self, state: &State) -> Result<MidIndex, StoreError> {
        let total: usize = state.feeds.values().map(|f| f.seq as usize).sum();
        let mut index = MidIndex::with_capacity(total);
        const BLOCK: u32 = 4096;
        let mut buf = vec![0u8; BLOCK as usize * RECORD_LEN];
        for (fid, feed) in &state.feeds {
            let mut seq = 1u32;
            while seq <= feed.seq {
                let n = BLOCK.min(feed.seq - seq + 1);
                let want = n as usize * RECORD_LEN;
                let got = self.kv.log_read(
                    &LogId::entries(fid),
                    records::offset(seq),
                    &mut buf[..want],
                )?;
                if got != want {
                    return Err(StoreError::Corrupt(format!(
                        "entry log of {fid:?} is short"
                    )));
                }
                for (i, rec) in buf[..want].chunks_exact(RECORD_LEN).enumerate() {
                    if let Some(mid) = records::mid_of(rec) {
                        index.insert(&mid, (feed.no, seq + i as u32));
                    }
                }
                seq += n;
            }
        }
        Ok(index)
    }
}

impl<B: Kv> Store for KvStore<B> {
    fn append(&self, fid: &FeedId, seq: u32, entry: &Entry, mid: &Mid) -> Result<(), StoreError> {
        let item = Item {
            fid,
            seq,
            entry,
            mid,
        };
        if self.append_items(std::slice::from_ref(&item))? == 1 {
            return Ok(());
        }
        let frontier = Self::feed_frontier(&*self.lock()?, fid);
        Err(StoreError::NotNext {
            fid: *fid,
            seq,
            frontier,
        })
    }

    fn append_batch(&self, items: &[(FeedId, u32, Entry, Mid)]) -> Result<usize, StoreError> {
        let refs: Vec<Item<'_>> = items
            .iter()
            .map(|(fid, seq, entry, mid)| Item {
                fid,
                seq: *seq,
                entry,
                mid,
            })
            .collect();
        self.append_items(&refs)
    }

    fn put_chunk(
        &self,
        fid: &FeedId,
        seq: u32,
        cnr: u32,
        chunk: &[u8; PKT_LEN],
    ) -> Result<(), StoreError> {
        let mut guard = self.lock()?;
        let out_of_order = |next| StoreError::ChunkOutOfOrder {
            fid: *fid,
            seq,
            cnr,
            next,
        };
        let feed = match guard.feeds.get_mut(fid) {
            Some(f) if seq >= 1 && seq <= f.seq => f,
            _ => return Err(out_of_order(0)),
        };
        self.load_chains(fid, feed)?;
        let chain = feed.chains.as_mut().and_then(|c| c.get_mut(&seq));
        let Some(chain) = chain else {
            let need = chunks_needed(&self.read_record(fid, seq)?.entry);
            return Err(if need == 0 {
                StoreError::ChunkNotWanted { fid: *fid, seq }
            } else {
                out_of_order(need)
            });
        };
        if cnr != chain.have || chain.have >= chain.need {
            return Err(out_of_order(chain.have));
        }
        if chunk_hash(chunk) != chain.expect {
            return Err(StoreError::ChunkHash {
                fid: *fid,
                seq,
                cnr,
            });
        }
        let slot = u64::from(chain.base) + u64::from(cnr);
        self.kv
            .log_write(&LogId::chunks(fid), slot * PKT_LEN as u64, chunk)?;
        chain.have += 1;
        chain.expect.copy_from_slice(&chunk[CHUNK_DATA..]);
        feed.unsynced_chunks = true;
        Ok(())
    }

    fn frontier(&self, fid: &FeedId) -> Result<Option<Frontier>, StoreError> {
        Ok(Self::visible(&*self.lock()?, fid))
    }

    fn entry(&self, fid: &FeedId, seq: u32) -> Result<Option<Stored>, StoreError> {
        let held = {
            let state = self.lock()?;
            seq >= 1 && seq <= Self::visible_seq(&state, fid)
        };
        if !held {
            return Ok(None);
        }
        let rec = self.read_record(fid, seq)?;
        Ok(Some(Stored {
            entry: rec.entry,
            mid: rec.mid,
        }))
    }

    fn locate(&self, mid: &Mid) -> Result<Option<(FeedId, u32)>, StoreError> {
        let candidates = {
            let mut state = self.lock()?;
            if state.index.is_none() {
                let built = self.build_index(&state)?;
                state.index = Some(built);
            }
            let cands = state.index.as_ref().map(|ix| ix.candidates(mid));
            cands
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(no, seq)| state.fids.get(no as usize).map(|f| (*f, seq)))
                .filter(|(f, seq)| *seq <= Self::visible_seq(&state, f))
                .collect::<Vec<_>>()
        };
        for (fid, seq) in candidates {
            if self.read_record(&fid, seq)?.mid == *mid {
                return Ok(Some((fid, seq)));
            }
        }
        Ok(None)
    }

    fn chunks(&self, fid: &FeedId, seq: u32) -> Result<Vec<[u8; PKT_LEN]>, StoreError> {
        let (have, base, complete) = {
            let mut guard = self.lock()?;
            let visible = Self::visible_seq(&guard, fid);
            let feed = match guard.feeds.get_mut(fid) {
                Some(f) if seq >= 1 && seq <= visible => f,
                _ => return Ok(Vec::new()),
            };
            self.load_chains(fid, feed)?;
            match feed.chains.as_ref().and_then(|c| c.get(&seq)) {
                Some(chain) => (chain.have, chain.base, None),
                None => {
                    let rec = self.read_record(fid, seq)?;
                    (chunks_needed(&rec.entry), rec.base, Some(rec.entry))
                }
            }
        };
        let mut buf = vec![0u8; have as usize * PKT_LEN];
        let at = u64::from(base) * PKT_LEN as u64;
        let got = self.kv.log_read(&LogId::chunks(fid), at, &mut buf)?;
        let Some(entry) = complete else {
            // An open chain's prefix was checked when it was loaded or stored.
            if got != buf.len() {
                return Err(StoreError::Corrupt(format!(
                    "chunk log of {fid:?} ends inside the side chain of entry {seq}"
                )));
            }
            return Ok(to_chunks(&buf));
        };
        // A chain counted complete is checked as it is read: after a power loss the map can say
        // complete while chunks written after the last sync are gone or garbage. Nothing that
        // does not hash is served; the chain opens again from the first bad chunk, so that the
        // sync engine fetches the rest from a peer.
        let mut expect = chain_start(&entry);
        let mut good = 0u32;
        for c in buf.get(..got).unwrap_or_default().chunks_exact(PKT_LEN) {
            if chunk_hash(c) != expect {
                break;
            }
            expect.copy_from_slice(c.get(CHUNK_DATA..).unwrap_or_default());
            good += 1;
        }
        if good < have {
            tracing::warn!(
                "store: the side chain of entry {seq} of {fid:?} is damaged from chunk {good}; it \
                 is open again, to be fetched from a peer"
            );
            let mut guard = self.lock()?;
            if let Some(feed) = guard.feeds.get_mut(fid) {
                if let Some(chains) = feed.chains.as_mut() {
                    chains.entry(seq).or_insert(Chain {
                        need: have,
                        have: good,
                        base,
                        expect,
                    });
                }
            }
            buf.truncate(good as usize * PKT_LEN);
        }
        Ok(to_chunks(&buf))
    }

    fn feeds(&self) -> Result<Vec<(FeedId, Frontier)>, StoreError> {
        let state = self.lock()?;
        Ok(state
            .feeds
            .keys()
            .filter_map(|fid| Self::visible(&state, fid).map(|f| (*fid, f)))
            .collect())
    }

    fn open_chains(&self, fid: &FeedId) -> Result<Vec<u32>, StoreError> {
        let mut guard = self.lock()?;
        let visible = Self::visible_seq(&guard, fid);
        let Some(feed) = guard.feeds.get_mut(fid) else {
            return Ok(Vec::new());
        };
        self.load_chains(fid, feed)?;
        Ok(feed
            .chains
            .iter()
            .flatten()
            .filter(|(s, c)| c.have < c.need && **s <= visible)
            .map(|(s, _)| *s)
            .collect())
    }

    fn add_member(&self, fid: &FeedId) -> Result<bool, StoreError> {
        let key = keys::feed(keys::MEMBER, fid);
        let _guard = self.lock()?;
        if self.kv.get(&key)?.is_some() {
            return Ok(false);
        }
        self.kv.put_all(vec![(key, Vec::new())])?;
        Ok(true)
    }

    fn members(&self) -> Result<Vec<FeedId>, StoreError> {
        self.kv
            .scan(&[keys::MEMBER])?
            .into_iter()
            .map(|(k, _)| keys::fid_of(&k).ok_or_else(|| StoreError::Corrupt("member key".into())))
            .collect()
    }

    fn set_meta(&self, fid: &FeedId, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut k = keys::feed(keys::META, fid);
        k.extend_from_slice(key.as_bytes());
        if value.is_empty() {
            self.kv.apply(Vec::new(), vec![k])
        } else {
            self.kv.put_all(vec![(k, value.to_vec())])
        }
    }

    fn meta(&self, fid: &FeedId, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut k = keys::feed(keys::META, fid);
        k.extend_from_slice(key.as_bytes());
        self.kv.get(&k)
    }

    fn signed_mark(&self, fid: &FeedId) -> Result<u32, StoreError> {
        let mut state = self.lock()?;
        self.load_mark(&mut state, fid)
    }

    fn claim_next(&self, fid: &FeedId, durable: bool) -> Result<Option<Frontier>, StoreError> {
        let (frontier, seq) = {
            let mut state = self.lock()?;
            if state.claims.contains_key(fid) {
                return Err(StoreError::Busy(*fid));
            }
            let mark = self.load_mark(&mut state, fid)?;
            let frontier = Self::visible(&state, fid);
            let held = frontier.map_or(0, |f| f.seq);
            if held < mark {
                return Err(StoreError::RolledBack {
                    fid: *fid,
                    signed: mark,
                    held,
                });
            }
            let Some(seq) = held.checked_add(1) else {
                return Ok(frontier);
            };
            state.claims.insert(
                *fid,
                Claim {
                    seq,
                    prev: frontier,
                    durable,
                },
            );
            (frontier, seq)
        };
        // Written outside the lock (an fsync): the claim keeps other signers of this feed out.
        let written = self.write_mark(fid, Mark { seq, pending: true }, durable);
        let mut state = self.lock()?;
        match written {
            Ok(()) => {
                state.marks.insert(*fid, seq);
                state.marks_dirty.insert(*fid);
                Ok(frontier)
            }
            Err(e) => {
                state.claims.remove(fid);
                Err(e)
            }
        }
    }

    fn finish_claim(&self, fid: &FeedId, seq: u32, stored: bool) -> Result<(), StoreError> {
        let claim = match self.lock()?.claims.get(fid) {
            Some(c) if c.seq == seq => *c,
            _ => return Ok(()),
        };
        // Settled before the entry becomes visible (outside the lock: an fsync; the claim
        // still hides the entry). If that fails, the entry is taken back below: it never left.
        let settled = if stored {
            self.write_mark(
                fid,
                Mark {
                    seq,
                    pending: false,
                },
                claim.durable,
            )
        } else {
            Ok(())
        };
        let mut state = self.lock()?;
        state.claims.remove(fid);
        if stored && settled.is_ok() {
            return Ok(());
        }
        // Readers never saw the entry, so it never left the device: take it back, and the
        // claim with it.
        let cut = self.take_back(&mut state, fid, seq, claim.prev);
        let back = Self::feed_frontier(&state, fid);
        if state.marks.get(fid) == Some(&seq) && back < seq {
            state.marks.insert(*fid, back);
            state.marks_dirty.insert(*fid);
            drop(state);
            self.write_mark(
                fid,
                Mark {
                    seq: back,
                    pending: false,
                },
                true,
            )?;
        }
        settled.and(cut)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.commit_flush()
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.commit_sync()
    }
}

impl<B: Kv> Drop for KvStore<B> {
    /// A clean shutdown syncs, so the next open has nothing to check.
    fn drop(&mut self) {
        if self.abandoned.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.commit_sync() {
            tracing::warn!("store: sync on close failed: {e}");
        }
    }
}

/// Whole packets of a chunk buffer.
fn to_chunks(buf: &[u8]) -> Vec<[u8; PKT_LEN]> {
    buf.chunks_exact(PKT_LEN)
        .filter_map(|c| c.try_into().ok())
        .collect()
}
