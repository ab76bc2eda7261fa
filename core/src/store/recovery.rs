//! Opening a store: the format check (rebuilding a lost map from the logs), then making
//! every feed's logs agree with its committed frontier.
//!
//! Per feed, with `F = (seq, mid, synced)` from the map:
//!
//! * every record `1..=seq` is checked by its CRC, the synced ones too: after a process crash
//!   they are all fine (the OS had them), after a power loss some after `synced` may be
//!   missing or torn, and a damaged disk can break any of them;
//! * the feed keeps the longest intact prefix. If that is shorter than `seq`, the frontier is
//!   rolled back and reported in [`Recovery`] (nothing after a broken record is served or
//!   continued; the signing mark keeps the own feed from being signed over); an intact record
//!   whose message id differs from `F`'s is corruption and refuses the open;
//! * whatever follows in the log (appends never committed by a flush, a torn record) is cut.
//!
//! If the map has no format version but feed logs exist (sled's database was lost), the
//! frontiers and GOset members are first rebuilt from the logs ([`Recovery::rebuilt`]).
//!
//! Open side chains are not touched here: the ones a frontier record lists are walked along
//! their hash chains when the feed's chains are first needed ([`KvStore::load_chains`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::kv::{Kv, LogId};
use super::kv_store::{Feed, KvStore, Recovery, State};
use super::records::{self, chunks_needed, ChainList, FrontierValue, RECORD_LEN};
use super::{keys, StoreError, FORMAT_VERSION};
use crate::identity::FeedId;

/// Records read at a time while checking.
const BLOCK: u32 = 4096;

/// Writes frontiers and GOset members for every feed log found, when the map has none (sled's
/// database was lost): each frontier is the longest CRC-intact prefix of its log, marked as
/// not synced so that [`KvStore::recover`] checks it like any other. Side chains are found
/// again from the chunk slots when first needed (no open-chain list: every record is read).
/// Returns whether there was anything to rebuild.
fn rebuild_map<B: Kv>(kv: &B) -> Result<bool, StoreError> {
    let mut fids = kv.log_feeds()?;
    fids.sort();
    let mut pairs = Vec::new();
    let mut buf = vec![0u8; BLOCK as usize * RECORD_LEN];
    for fid in &fids {
        let log = LogId::entries(fid);
        let len = kv.log_len(&log)?;
        let whole = u32::try_from(len / RECORD_LEN as u64).unwrap_or(u32::MAX);
        let mut last = None;
        let mut seq = 1u32;
        'scan: while seq <= whole {
            let n = BLOCK.min(whole - seq + 1);
            let want = n as usize * RECORD_LEN;
            let got = kv.log_read(&log, records::offset(seq), &mut buf[..want])?;
            for (i, rec) in buf[..want].chunks_exact(RECORD_LEN).enumerate() {
                if (i + 1) * RECORD_LEN > got || !records::intact(rec) {
                    break 'scan;
                }
                last = Some((seq + i as u32, records::mid_of(rec)));
            }
            match seq.checked_add(n) {
                Some(next) => seq = next,
                None => break,
            }
        }
        pairs.push((keys::feed(keys::MEMBER, fid), Vec::new()));
        if let Some((top, Some(mid))) = last {
            let value = FrontierValue {
                seq: top,
                mid,
                synced: 0,
            };
            pairs.push((keys::feed(keys::FRONTIER, fid), value.encode()));
        }
    }
    if fids.is_empty() {
        return Ok(false);
    }
    tracing::warn!(
        "store: the map was missing; rebuilt it from {} feed logs (per-feed metadata such as \
         aliases is not in the logs and is gone)",
        fids.len()
    );
    kv.put_all(pairs)?;
    Ok(true)
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

impl<B: Kv> KvStore<B> {
    /// Opens a store over a backend: writes or checks the format version (upgrading a
    /// format-1 store in place), then recovers.
    pub fn new(kv: B) -> Result<KvStore<B>, StoreError> {
        match kv.get(keys::VERSION)? {
            None => {
                if !kv.scan(&[keys::FRONTIER])?.is_empty() {
                    return Err(corrupt(
                        "store has data but no format version (move the store's `db` file \
                         aside to rebuild the map from the feed logs)"
                            .into(),
                    ));
                }
                let rebuilt = rebuild_map(&kv)?;
                kv.put_all(vec![(
                    keys::VERSION.to_vec(),
                    FORMAT_VERSION.to_be_bytes().to_vec(),
                )])?;
                if rebuilt {
                    kv.sync()?;
                    let mut store = KvStore::with_checked_backend(kv);
                    store.recover()?;
                    store.recovery.rebuilt = true;
                    return Ok(store);
                }
            }
            Some(v) => {
                let found = records::be_u32(&v, "format version record")?;
                if found == super::migrate::FROM {
                    return super::migrate::upgrade(kv);
                }
                if found != FORMAT_VERSION {
                    return Err(StoreError::Version {
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            }
        }
        let mut store = KvStore::with_checked_backend(kv);
        store.recover()?;
        Ok(store)
    }

    /// Wraps a backend whose format version the caller has already written or checked, and
    /// which holds no feeds.
    pub(super) fn with_checked_backend(kv: B) -> KvStore<B> {
        KvStore {
            kv,
            state: Mutex::new(State::default()),
            commit: Mutex::new(()),
            recovery: Recovery::default(),
            abandoned: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(super) fn recover(&mut self) -> Result<(), StoreError> {
        let mut pairs = Vec::new();
        let mut removals = Vec::new();
        let mut feeds = BTreeMap::new();
        let mut fids = Vec::new();
        let mut recovery = Recovery::default();
        for (k, v) in self.kv.scan(&[keys::FRONTIER])? {
            let fid = keys::fid_of(&k).ok_or_else(|| corrupt("frontier key".into()))?;
            let committed = FrontierValue::decode(&v)?;
            let chains_key = keys::feed(keys::CHAINS, &fid);
            let Some(feed) = self.recover_feed(&fid, &committed, &mut recovery)? else {
                removals.push(k);
                removals.push(chains_key);
                continue;
            };
            if feed.seq < committed.seq {
                let kept = FrontierValue {
                    seq: feed.seq,
                    mid: feed.mid,
                    synced: feed.synced,
                };
                pairs.push((k, kept.encode()));
                if let Some(v) = self.kv.get(&chains_key)? {
                    let mut list = ChainList::decode(&v)?;
                    list.upto = list.upto.min(feed.seq);
                    list.open.retain(|&s| s <= feed.seq);
                    pairs.push((chains_key, list.encode()));
                }
            }
            let mut feed = feed;
            feed.no = u32::try_from(fids.len()).map_err(|_| corrupt("too many feeds".into()))?;
            fids.push(fid);
            feeds.insert(fid, feed);
        }
        if !pairs.is_empty() || !removals.is_empty() {
            self.kv.apply(pairs, removals)?;
            self.kv.sync()?;
        }
        for (fid, from, to) in &recovery.rolled_back {
            tracing::warn!(
                "store: feed {fid:?} rolled back from {from} to {to} (lost after a power loss)"
            );
        }
        let state = self
            .state
            .get_mut()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?;
        state.feeds = feeds;
        state.fids = fids;
        self.recovery = recovery;
        Ok(())
    }

    /// Brings one feed's entry log in line with its committed frontier. `None`: no entry of
    /// the feed survived.
    fn recover_feed(
        &self,
        fid: &FeedId,
        committed: &FrontierValue,
        recovery: &mut Recovery,
    ) -> Result<Option<Feed>, StoreError> {
        let log = LogId::entries(fid);
        let len = self.kv.log_len(&log)?;
        let whole = u32::try_from(len / RECORD_LEN as u64).unwrap_or(u32::MAX);
        let synced = committed.synced.min(committed.seq);
        let mut top = committed.seq.min(whole);
        // Every record is checked, synced ones too: a damaged disk (or a stray write) can
        // break a record in the middle, and nothing after a broken record may be served or
        // continued. Measured on 1M entries in 100 feeds, logs in the page cache, release
        // build: median 85 ms (55–145 ms) per open, against the 0.3 s target (ADR 0015).
        if let Some(bad) = self.first_torn(&log, 1, top)? {
            top = bad - 1;
        }
        // The last kept record must itself be intact (a damaged disk can break even synced ones).
        let mut last = None;
        while top > 0 {
            let mut rec = [0u8; RECORD_LEN];
            let n = self.kv.log_read(&log, records::offset(top), &mut rec)?;
            if n == RECORD_LEN && records::intact(&rec) {
                last = Some(records::decode(&rec, top)?);
                break;
            }
            top -= 1;
        }
        if top < committed.seq {
            recovery.rolled_back.push((*fid, committed.seq, top));
        }
        let keep = records::offset(top + 1);
        if len > keep {
            recovery.bytes_cut += len - keep;
            self.kv.log_truncate(&log, keep)?;
        }
        let Some(last) = last else {
            self.kv.log_truncate(&LogId::chunks(fid), 0)?;
            return Ok(None);
        };
        if top == committed.seq && last.mid != committed.mid {
            return Err(corrupt(format!(
                "feed {fid:?}: entry {top} has message id {} but the frontier says {}",
                last.mid, committed.mid
            )));
        }
        let chunk_slots = last
            .base
            .checked_add(chunks_needed(&last.entry))
            .ok_or_else(|| corrupt(format!("feed {fid:?}: chunk slot overflow")))?;
        Ok(Some(Feed {
            no: 0,
            seq: top,
            mid: last.mid,
            synced: synced.min(top),
            dirty: false,
            unsynced_entries: false,
            unsynced_chunks: false,
            chunk_slots,
            chains: None,
        }))
    }

    /// The first record in `from..=to` whose CRC fails.
    fn first_torn(&self, log: &LogId, from: u32, to: u32) -> Result<Option<u32>, StoreError> {
        let mut buf = vec![0u8; BLOCK as usize * RECORD_LEN];
        let mut seq = from;
        while seq <= to && seq > 0 {
            let n = BLOCK.min(to - seq + 1);
            let want = n as usize * RECORD_LEN;
            let got = self
                .kv
                .log_read(log, records::offset(seq), &mut buf[..want])?;
            for (i, rec) in buf[..want].chunks_exact(RECORD_LEN).enumerate() {
                if (i + 1) * RECORD_LEN > got || !records::intact(rec) {
                    return Ok(Some(seq + i as u32));
                }
            }
            match seq.checked_add(n) {
                Some(next) => seq = next,
                None => break,
            }
        }
        Ok(None)
    }
}
