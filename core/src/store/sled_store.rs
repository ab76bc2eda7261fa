//! The sled backend: one sled database per node directory.
//!
//! Durability: sled writes go to its page cache and log; they are on disk after
//! [`Store::flush`](super::Store::flush) (which callers use as a group commit) or after sled's
//! background flusher runs (every 500 ms by default). On Linux sled's flush uses
//! `sync_file_range`, which survives a process crash but is not a full fsync: after a power
//! loss the most recent flushes may be lost (see `docs/ARCHITECTURE.md`, Storage).

use std::path::Path;

use super::kv::{Kv, KvStore, Pairs};
use super::StoreError;

/// A sled tree as an ordered key-value backend.
pub struct SledKv {
    db: sled::Db,
}

impl Kv for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn apply(&self, pairs: Pairs, removals: Vec<Vec<u8>>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in pairs {
            batch.insert(k, v);
        }
        for k in removals {
            batch.remove(k);
        }
        Ok(self.db.apply_batch(batch)?)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.db
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(Into::into))
            .collect()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// A store in a sled database.
pub type SledStore = KvStore<SledKv>;

impl SledStore {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new().path(dir).open()?;
        KvStore::new(SledKv { db })
    }
}
