//! The in-memory backend: a sorted map behind a lock. For tests, simulations and nodes that
//! keep nothing.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::kv::{Kv, KvStore, Pairs};
use super::{keys, StoreError, FORMAT_VERSION};

/// The in-memory ordered map.
#[derive(Default)]
pub struct MemoryKv(RwLock<BTreeMap<Vec<u8>, Vec<u8>>>);

fn poisoned() -> StoreError {
    StoreError::Backend("memory store lock poisoned".into())
}

impl Kv for MemoryKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.read().map_err(|_| poisoned())?.get(key).cloned())
    }

    fn apply(&self, pairs: Pairs, removals: Vec<Vec<u8>>) -> Result<(), StoreError> {
        let mut map = self.0.write().map_err(|_| poisoned())?;
        map.extend(pairs);
        for k in removals {
            map.remove(&k);
        }
        Ok(())
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        let map = self.0.read().map_err(|_| poisoned())?;
        Ok(map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A store that lives in memory only.
pub type MemoryStore = KvStore<MemoryKv>;

impl MemoryStore {
    /// An empty in-memory store.
    pub fn new_empty() -> MemoryStore {
        let mut map = BTreeMap::new();
        map.insert(
            keys::VERSION.to_vec(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        );
        KvStore::with_checked_backend(MemoryKv(RwLock::new(map)))
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new_empty()
    }
}
