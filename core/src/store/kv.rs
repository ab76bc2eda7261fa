//! The store's logic over a small ordered key-value interface, shared by both backends so that
//! they cannot drift apart: one place checks that an entry continues its feed, one place
//! encodes records.

use std::sync::Mutex;

use super::keys;
use super::{Frontier, Store, StoreError, Stored, FORMAT_VERSION};
use crate::identity::FeedId;
use crate::wire::entry::{Entry, EntryKind};
use crate::wire::sidechain::Chain20;
use crate::wire::{Mid, HASH_LEN, PKT_LEN};

/// Key-value pairs, in key order.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// An ordered key-value backend.
pub trait Kv: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes all pairs and removes all `removals` atomically.
    fn apply(&self, pairs: Pairs, removals: Vec<Vec<u8>>) -> Result<(), StoreError>;

    /// Writes all pairs atomically.
    fn put_all(&self, pairs: Pairs) -> Result<(), StoreError> {
        self.apply(pairs, Vec::new())
    }
    /// All pairs whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError>;
    /// Makes all writes durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// [`Store`] over any [`Kv`].
pub struct KvStore<B: Kv> {
    kv: B,
    /// Serialises check-then-write of appends.
    write: Mutex<()>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.into())
}

fn frontier_from(v: &[u8]) -> Result<Frontier, StoreError> {
    let (seq, mid) = v
        .split_first_chunk::<4>()
        .ok_or_else(|| corrupt("frontier record too short"))?;
    let mid: [u8; HASH_LEN] = mid
        .try_into()
        .map_err(|_| corrupt("frontier record has the wrong length"))?;
    Ok(Frontier {
        seq: u32::from_be_bytes(*seq),
        mid: Mid(mid),
    })
}

fn fid_from(key: &[u8]) -> Result<FeedId, StoreError> {
    key.get(1..33)
        .and_then(|s| s.try_into().ok())
        .map(FeedId)
        .ok_or_else(|| corrupt("key without a feed id"))
}

impl<B: Kv> KvStore<B> {
    /// Wraps a backend, writing or checking the format version.
    pub fn new(kv: B) -> Result<KvStore<B>, StoreError> {
        match kv.get(keys::VERSION)? {
            None => kv.put_all(vec![(
                keys::VERSION.to_vec(),
                FORMAT_VERSION.to_be_bytes().to_vec(),
            )])?,
            Some(v) => {
                let raw: [u8; 4] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("format version record"))?;
                let found = u32::from_be_bytes(raw);
                if found != FORMAT_VERSION {
                    return Err(StoreError::Version {
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            }
        }
        Ok(KvStore {
            kv,
            write: Mutex::new(()),
        })
    }

    /// Wraps a backend whose format version the caller has already written or checked.
    pub(super) fn with_checked_backend(kv: B) -> KvStore<B> {
        KvStore {
            kv,
            write: Mutex::new(()),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, ()>, StoreError> {
        self.write
            .lock()
            .map_err(|_| StoreError::Backend("writer lock poisoned".into()))
    }
}

impl<B: Kv> Store for KvStore<B> {
    fn append(&self, fid: &FeedId, seq: u32, entry: &Entry, mid: &Mid) -> Result<(), StoreError> {
        let _guard = self.lock()?;
        let frontier = self.frontier(fid)?.map_or(0, |f| f.seq);
        if Some(seq) != frontier.checked_add(1) {
            return Err(StoreError::NotNext {
                fid: *fid,
                seq,
                frontier,
            });
        }
        let mut record = Vec::with_capacity(PKT_LEN + HASH_LEN);
        record.extend_from_slice(entry.bytes());
        record.extend_from_slice(&mid.0);
        let mut front = seq.to_be_bytes().to_vec();
        front.extend_from_slice(&mid.0);
        let mut mid_key = vec![keys::MID];
        mid_key.extend_from_slice(&mid.0);
        let mut located = fid.0.to_vec();
        located.extend_from_slice(&seq.to_be_bytes());
        let mut pairs = vec![
            (keys::seq(keys::ENTRY, fid, seq), record),
            (keys::feed(keys::FRONTIER, fid), front),
            (mid_key, located),
        ];
        if let Some(need) = chunks_needed(entry) {
            pairs.push((keys::seq(keys::OPEN, fid, seq), need.to_be_bytes().to_vec()));
        }
        self.kv.put_all(pairs)
    }

    fn put_chunk(
        &self,
        fid: &FeedId,
        seq: u32,
        cnr: u32,
        chunk: &[u8; PKT_LEN],
    ) -> Result<(), StoreError> {
        let _guard = self.lock()?;
        if self.entry(fid, seq)?.is_none() {
            return Err(StoreError::ChunkOutOfOrder {
                fid: *fid,
                seq,
                cnr,
                next: 0,
            });
        }
        let next = self.kv.scan(&keys::seq(keys::CHUNK, fid, seq))?.len() as u32;
        if cnr != next {
            return Err(StoreError::ChunkOutOfOrder {
                fid: *fid,
                seq,
                cnr,
                next,
            });
        }
        let done = chunks_needed(
            &self
                .entry(fid, seq)?
                .map(|s| s.entry)
                .ok_or_else(|| corrupt("entry vanished"))?,
        )
        .is_some_and(|need| cnr + 1 >= need);
        let removals = if done {
            vec![keys::seq(keys::OPEN, fid, seq)]
        } else {
            Vec::new()
        };
        self.kv
            .apply(vec![(keys::chunk(fid, seq, cnr), chunk.to_vec())], removals)
    }

    fn frontier(&self, fid: &FeedId) -> Result<Option<Frontier>, StoreError> {
        self.kv
            .get(&keys::feed(keys::FRONTIER, fid))?
            .map(|v| frontier_from(&v))
            .transpose()
    }

    fn entry(&self, fid: &FeedId, seq: u32) -> Result<Option<Stored>, StoreError> {
        let Some(v) = self.kv.get(&keys::seq(keys::ENTRY, fid, seq))? else {
            return Ok(None);
        };
        let (pkt, mid) = v
            .split_at_checked(PKT_LEN)
            .ok_or_else(|| corrupt("entry record"))?;
        let entry = Entry::from_bytes(pkt).map_err(|_| corrupt("entry record"))?;
        let mid: [u8; HASH_LEN] = mid.try_into().map_err(|_| corrupt("entry record mid"))?;
        Ok(Some(Stored {
            entry,
            mid: Mid(mid),
        }))
    }

    fn locate(&self, mid: &Mid) -> Result<Option<(FeedId, u32)>, StoreError> {
        let mut key = vec![keys::MID];
        key.extend_from_slice(&mid.0);
        let Some(v) = self.kv.get(&key)? else {
            return Ok(None);
        };
        let (fid, seq) = v
            .split_first_chunk::<32>()
            .ok_or_else(|| corrupt("mid index record"))?;
        let seq: [u8; 4] = seq.try_into().map_err(|_| corrupt("mid index record"))?;
        Ok(Some((FeedId(*fid), u32::from_be_bytes(seq))))
    }

    fn chunks(&self, fid: &FeedId, seq: u32) -> Result<Vec<[u8; PKT_LEN]>, StoreError> {
        self.kv
            .scan(&keys::seq(keys::CHUNK, fid, seq))?
            .into_iter()
            .map(|(_, v)| v.as_slice().try_into().map_err(|_| corrupt("chunk record")))
            .collect()
    }

    fn feeds(&self) -> Result<Vec<(FeedId, Frontier)>, StoreError> {
        self.kv
            .scan(&[keys::FRONTIER])?
            .into_iter()
            .map(|(k, v)| Ok((fid_from(&k)?, frontier_from(&v)?)))
            .collect()
    }

    fn open_chains(&self, fid: &FeedId) -> Result<Vec<u32>, StoreError> {
        self.kv
            .scan(&keys::feed(keys::OPEN, fid))?
            .into_iter()
            .map(|(k, _)| {
                k.get(33..37)
                    .and_then(|s| s.try_into().ok())
                    .map(u32::from_be_bytes)
                    .ok_or_else(|| corrupt("open-chain key"))
            })
            .collect()
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
            .map(|(k, _)| fid_from(&k))
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

    fn flush(&self) -> Result<(), StoreError> {
        self.kv.flush()
    }
}

/// How many chunks a chain20 entry needs (None for none, or for other types).
fn chunks_needed(entry: &Entry) -> Option<u32> {
    if entry.kind() != EntryKind::Chain20 {
        return None;
    }
    let n = Chain20::parse(entry.payload()).ok()?.chunk_count();
    (n > 0).then(|| u32::try_from(n).unwrap_or(u32::MAX))
}
