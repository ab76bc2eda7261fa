//! Upgrade of a format-1 store (the first layout: one sled key per entry and per chunk) to the
//! current layout, in place, when it is opened.
//!
//! Format 1 keys: `E ‖ fid ‖ seq` → `pkt ‖ mid`, `C ‖ fid ‖ seq ‖ cnr` → chunk, `F ‖ fid` →
//! `seq ‖ mid`, `M ‖ mid` → `fid ‖ seq`, `O ‖ fid ‖ seq` → chunks needed; `G` and `D` keys are
//! the same in both formats. The entries and chunks are re-appended through the normal store
//! logic (so the result is exactly what appending them today gives), synced, and only then
//! are the old keys deleted and the version raised, in one batch. A crash at any point leaves
//! version 1 and the old keys in place, and the next open starts over.

use super::kv::Kv;
use super::kv_store::KvStore;
use super::{keys, Store, StoreError, FORMAT_VERSION};
use crate::identity::FeedId;
use crate::wire::entry::Entry;
use crate::wire::{Mid, HASH_LEN, PKT_LEN};

/// The version this module upgrades from.
pub(super) const FROM: u32 = 1;

const V1_ENTRY: u8 = b'E';
const V1_CHUNK: u8 = b'C';
const V1_MID: u8 = b'M';
const V1_OPEN: u8 = b'O';

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("format-1 store: {what}"))
}

fn fid_seq(key: &[u8]) -> Result<(FeedId, u32), StoreError> {
    let fid = keys::fid_of(key).ok_or_else(|| corrupt("key without a feed id"))?;
    let seq = key
        .get(33..37)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| corrupt("key without a seq"))?;
    Ok((fid, seq))
}

/// Upgrades the format-1 data in `kv` and returns the opened store.
pub(super) fn upgrade<B: Kv>(kv: B) -> Result<KvStore<B>, StoreError> {
    // Frontier records of an earlier, interrupted attempt (or of format 1) go first: the
    // feeds are rebuilt from the entry keys alone.
    let stale: Vec<Vec<u8>> = [keys::FRONTIER, keys::CHAINS]
        .iter()
        .map(|p| kv.scan(&[*p]))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    kv.apply(Vec::new(), stale)?;
    let store = KvStore::with_checked_backend(kv);
    let mut old_keys = Vec::new();
    let mut batch: Vec<(FeedId, u32, Entry, Mid)> = Vec::new();
    for (k, v) in store.kv.scan(&[V1_ENTRY])? {
        let (fid, seq) = fid_seq(&k)?;
        let (pkt, mid) = v
            .split_at_checked(PKT_LEN)
            .ok_or_else(|| corrupt("entry record"))?;
        let entry = Entry::from_bytes(pkt).map_err(|_| corrupt("entry record"))?;
        let mid: [u8; HASH_LEN] = mid.try_into().map_err(|_| corrupt("entry mid"))?;
        batch.push((fid, seq, entry, Mid(mid)));
        old_keys.push(k);
        if batch.len() == 1024 {
            append_all(&store, &batch)?;
            batch.clear();
        }
    }
    append_all(&store, &batch)?;
    for (k, v) in store.kv.scan(&[V1_CHUNK])? {
        let (fid, seq) = fid_seq(&k)?;
        let cnr = k
            .get(37..41)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| corrupt("chunk key"))?;
        let chunk: [u8; PKT_LEN] = v.as_slice().try_into().map_err(|_| corrupt("chunk"))?;
        match store.put_chunk(&fid, seq, cnr, &chunk) {
            Ok(()) => {}
            // Format 1 accepted one chunk too many and did not check hashes: drop such chunks.
            Err(
                e @ (StoreError::ChunkOutOfOrder { .. }
                | StoreError::ChunkNotWanted { .. }
                | StoreError::ChunkHash { .. }),
            ) => {
                tracing::warn!("store upgrade: chunk {cnr} of entry {seq} of {fid:?} dropped: {e}");
            }
            Err(e) => return Err(e),
        }
        old_keys.push(k);
    }
    store.sync()?;
    for p in [V1_MID, V1_OPEN] {
        old_keys.extend(store.kv.scan(&[p])?.into_iter().map(|(k, _)| k));
    }
    store.kv.apply(
        vec![(
            keys::VERSION.to_vec(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        )],
        old_keys,
    )?;
    store.kv.sync()?;
    tracing::info!("store: upgraded from format {FROM} to {FORMAT_VERSION}");
    Ok(store)
}

fn append_all<B: Kv>(
    store: &KvStore<B>,
    batch: &[(FeedId, u32, Entry, Mid)],
) -> Result<(), StoreError> {
    if store.append_batch(batch)? != batch.len() {
        return Err(corrupt("entries do not continue their feeds"));
    }
    Ok(())
}
