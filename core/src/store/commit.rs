//! Group commit: what [`Store::flush`](super::Store::flush) and
//! [`Store::sync`](super::Store::sync) write, and in which order.
//!
//! Appends write entry records and chunks to the logs immediately (so reads see them) but
//! touch the map only here. That gives one ordering rule that makes every crash recoverable:
//! **the map never claims more than the logs hold.**
//!
//! * `flush`: one atomic map batch with the frontier record (last entry, `synced` mark) of
//!   every feed appended to since the last commit, then the backend's flush. The log writes
//!   were already handed to the OS, so after `flush` returns everything appended before it
//!   survives the death of the process.
//! * `sync`: `fdatasync` of every log written since the last sync (and of the directory if a
//!   log was created), then the same batch with each feed's `synced` mark raised and its
//!   open-chain list rewritten without the chains now complete on disk, then a full `fsync`
//!   of the map. After `sync` returns, everything appended before it survives a power loss
//!   too.
//!
//! A chain is dropped from its feed's list only by a sync, and entries after the list's end
//! are re-read on load, so after a power loss a chain whose chunks had only been flushed is
//! walked again (and found incomplete) instead of being trusted.
//! Flushes and syncs are serialised by their own lock; appends and reads go on while a sync
//! waits for the disk.

use std::collections::BTreeMap;

use super::kv::{Kv, LogId, LogKind, Pairs};
use super::kv_store::{KvStore, State};
use super::records::{ChainList, FrontierValue};
use super::{keys, StoreError};
use crate::identity::FeedId;

/// Frontier records of every dirty feed, marking them clean, and the map's copies of changed
/// signing marks (written with them; the mark files are the primary copy).
fn collect(state: &mut State) -> (Pairs, Vec<FeedId>) {
    let mut pairs = Vec::new();
    let mut feeds = Vec::new();
    let mut pending = Vec::new();
    for fid in std::mem::take(&mut state.marks_dirty) {
        let Some(mark) = state.marks.get(&fid).copied() else {
            continue;
        };
        // A claim under way is not settled yet: the map only ever holds settled marks, so
        // that a claim cut short by a crash can be told from an entry that left (ADR 0014).
        if state.claims.get(&fid).is_some_and(|c| c.seq == mark) {
            pending.push(fid);
            continue;
        }
        pairs.push((keys::feed(keys::SIGNED, &fid), mark.to_be_bytes().to_vec()));
    }
    state.marks_dirty.extend(pending);
    for (fid, feed) in state.feeds.iter_mut().filter(|(_, f)| f.dirty) {
        feed.dirty = false;
        let value = FrontierValue {
            seq: feed.seq,
            mid: feed.mid,
            synced: feed.synced.min(feed.seq),
        };
        pairs.push((keys::feed(keys::FRONTIER, fid), value.encode()));
        feeds.push(*fid);
    }
    (pairs, feeds)
}

fn commit_poisoned() -> StoreError {
    StoreError::Backend("commit lock poisoned".into())
}

impl<B: Kv> KvStore<B> {
    /// Writes frontier records; on failure marks their feeds dirty again so that the next
    /// commit retries.
    fn write_frontiers(&self, pairs: Pairs, feeds: &[FeedId]) -> Result<(), StoreError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let result = self.kv.put_all(pairs);
        if result.is_err() {
            let mut state = self.lock()?;
            for fid in feeds {
                if let Some(f) = state.feeds.get_mut(fid) {
                    f.dirty = true;
                }
            }
            let marks: Vec<FeedId> = state.marks.keys().copied().collect();
            state.marks_dirty.extend(marks);
        }
        result
    }

    pub(super) fn commit_flush(&self) -> Result<(), StoreError> {
        let _commit = self.commit.lock().map_err(|_| commit_poisoned())?;
        let (pairs, feeds) = collect(&mut *self.lock()?);
        self.write_frontiers(pairs, &feeds)?;
        self.kv.flush()
    }

    pub(super) fn commit_sync(&self) -> Result<(), StoreError> {
        let _commit = self.commit.lock().map_err(|_| commit_poisoned())?;
        // 1. What is about to reach the disk.
        let mut logs = Vec::new();
        let mut upto: BTreeMap<FeedId, u32> = BTreeMap::new();
        let mut complete: Vec<(FeedId, u32)> = Vec::new();
        let mut lists: Vec<(FeedId, u32)> = Vec::new();
        {
            let mut state = self.lock()?;
            for (fid, feed) in state.feeds.iter_mut() {
                if feed.unsynced_entries {
                    logs.push(LogId::entries(fid));
                    feed.unsynced_entries = false;
                }
                if feed.unsynced_chunks {
                    logs.push(LogId::chunks(fid));
                    feed.unsynced_chunks = false;
                }
                if feed.synced < feed.seq {
                    upto.insert(*fid, feed.seq);
                }
                let mut changed = feed.synced < feed.seq;
                for (seq, c) in feed.chains.iter().flatten() {
                    if c.have >= c.need {
                        complete.push((*fid, *seq));
                        changed = true;
                    }
                }
                if changed && feed.chains.is_some() {
                    lists.push((*fid, feed.seq));
                }
            }
        }
        // 2. Logs to stable storage.
        if let Err(e) = self.kv.log_sync(&logs) {
            let mut state = self.lock()?;
            for log in &logs {
                if let Some(f) = state.feeds.get_mut(&log.fid) {
                    match log.kind {
                        LogKind::Entries => f.unsynced_entries = true,
                        LogKind::Chunks => f.unsynced_chunks = true,
                    }
                }
            }
            return Err(e);
        }
        // 3. Record it.
        let (pairs, feeds) = {
            let mut state = self.lock()?;
            for (fid, seq) in &upto {
                if let Some(f) = state.feeds.get_mut(fid) {
                    f.synced = f.synced.max(*seq);
                    f.dirty = true;
                }
            }
            for (fid, seq) in &complete {
                if let Some(f) = state.feeds.get_mut(fid) {
                    if let Some(chains) = f.chains.as_mut() {
                        chains.remove(seq);
                        f.dirty = true;
                    }
                }
            }
            let (mut pairs, feeds) = collect(&mut state);
            for (fid, upto) in &lists {
                let Some(chains) = state.feeds.get(fid).and_then(|f| f.chains.as_ref()) else {
                    continue;
                };
                let list = ChainList {
                    upto: *upto,
                    open: chains.range(..=*upto).map(|(s, _)| *s).collect(),
                };
                pairs.push((keys::feed(keys::CHAINS, fid), list.encode()));
            }
            (pairs, feeds)
        };
        self.write_frontiers(pairs, &feeds)?;
        self.kv.sync()
    }
}
