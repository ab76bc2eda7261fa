//! The in-memory backend: a sorted map and byte vectors behind locks. For tests, simulations
//! and nodes that keep nothing. Flush and sync do nothing; everything is gone on drop.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use super::kv::{Kv, LogId, LogKind, Mark, Pairs};
use super::kv_store::KvStore;
use super::{keys, StoreError, FORMAT_VERSION};
use crate::identity::FeedId;

/// The in-memory map and logs. Clones share the same data (so a test can reopen a store
/// over the backend of one it abandoned).
#[derive(Default, Clone)]
pub struct MemoryKv {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
    logs: RwLock<HashMap<LogId, Vec<u8>>>,
    marks: RwLock<HashMap<FeedId, Mark>>,
}

fn poisoned() -> StoreError {
    StoreError::Backend("memory store lock poisoned".into())
}

fn index(offset: u64) -> Result<usize, StoreError> {
    usize::try_from(offset).map_err(|_| StoreError::Backend("log offset too large".into()))
}

impl Kv for MemoryKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .inner
            .map
            .read()
            .map_err(|_| poisoned())?
            .get(key)
            .cloned())
    }

    fn apply(&self, pairs: Pairs, removals: Vec<Vec<u8>>) -> Result<(), StoreError> {
        let mut map = self.inner.map.write().map_err(|_| poisoned())?;
        map.extend(pairs);
        for k in removals {
            map.remove(&k);
        }
        Ok(())
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        let map = self.inner.map.read().map_err(|_| poisoned())?;
        Ok(map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn log_len(&self, log: &LogId) -> Result<u64, StoreError> {
        let logs = self.inner.logs.read().map_err(|_| poisoned())?;
        Ok(logs.get(log).map_or(0, |l| l.len() as u64))
    }

    fn log_read(&self, log: &LogId, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError> {
        let logs = self.inner.logs.read().map_err(|_| poisoned())?;
        let data = logs.get(log).map(Vec::as_slice).unwrap_or_default();
        let src = data.get(index(offset)?..).unwrap_or_default();
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn log_write(&self, log: &LogId, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        let mut logs = self.inner.logs.write().map_err(|_| poisoned())?;
        let l = logs.entry(*log).or_default();
        let at = index(offset)?;
        let end = at
            .checked_add(data.len())
            .ok_or_else(|| StoreError::Backend("log offset too large".into()))?;
        if l.len() < end {
            l.resize(end, 0);
        }
        l[at..end].copy_from_slice(data);
        Ok(())
    }

    fn log_truncate(&self, log: &LogId, len: u64) -> Result<(), StoreError> {
        let mut logs = self.inner.logs.write().map_err(|_| poisoned())?;
        let l = logs.entry(*log).or_default();
        l.truncate(index(len)?);
        Ok(())
    }

    fn log_sync(&self, _logs: &[LogId]) -> Result<(), StoreError> {
        Ok(())
    }

    fn log_feeds(&self) -> Result<Vec<FeedId>, StoreError> {
        let logs = self.inner.logs.read().map_err(|_| poisoned())?;
        Ok(logs
            .keys()
            .filter(|l| l.kind == LogKind::Entries)
            .map(|l| l.fid)
            .collect())
    }

    fn mark_read(&self, fid: &FeedId) -> Result<Mark, StoreError> {
        let marks = self.inner.marks.read().map_err(|_| poisoned())?;
        Ok(marks.get(fid).copied().unwrap_or_default())
    }

    fn mark_write(&self, fid: &FeedId, mark: Mark, _durable: bool) -> Result<(), StoreError> {
        let mut marks = self.inner.marks.write().map_err(|_| poisoned())?;
        marks.insert(*fid, mark);
        Ok(())
    }
}

/// A store that lives in memory only.
pub type MemoryStore = KvStore<MemoryKv>;

impl MemoryStore {
    /// An empty in-memory store.
    pub fn new_empty() -> MemoryStore {
        let kv = MemoryKv::default();
        if let Ok(mut map) = kv.inner.map.write() {
            map.insert(
                keys::VERSION.to_vec(),
                FORMAT_VERSION.to_be_bytes().to_vec(),
            );
        }
        KvStore::with_checked_backend(kv)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new_empty()
    }
}
