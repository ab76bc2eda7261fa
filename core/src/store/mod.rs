//! Feed storage: the domain-level [`Store`] trait, a [`sled`](SledStore) backend (the
//! default, one database per node directory) and a [`memory`](MemoryStore) backend, both held
//! to one conformance suite.
//!
//! A store holds validated data only: callers verify entries (DMX, signature) and chunks (hash
//! chain) before they reach it, and the store refuses anything that does not continue a feed
//! (`seq` must be the frontier + 1). Keys are `prefix byte ‖ feed id ‖ big-endian seq`, so a
//! feed's entries are contiguous and ordered.

mod keys;
mod kv;
mod memory;
mod sled_store;

#[cfg(test)]
mod conformance;

pub use kv::{Kv, KvStore};
pub use memory::{MemoryKv, MemoryStore};
pub use sled_store::{SledKv, SledStore};

use thiserror::Error;

use crate::identity::FeedId;
use crate::wire::entry::Entry;
use crate::wire::{Mid, PKT_LEN};

/// Version of the on-disk layout; stored under a format-version key.
pub const FORMAT_VERSION: u32 = 1;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The entry does not continue the feed.
    #[error("feed {fid:?}: entry {seq} does not follow the frontier {frontier}")]
    NotNext {
        /// The feed.
        fid: FeedId,
        /// The sequence number offered.
        seq: u32,
        /// The last sequence number held (0 = none).
        frontier: u32,
    },
    /// A chunk for an entry that is not held, or out of order.
    #[error("feed {fid:?} entry {seq}: chunk {cnr} is not the next chunk ({next})")]
    ChunkOutOfOrder {
        /// The feed.
        fid: FeedId,
        /// Entry.
        seq: u32,
        /// Chunk offered.
        cnr: u32,
        /// Chunk expected.
        next: u32,
    },
    /// The database was written by a newer or unknown layout.
    #[error("store format version {found}, this build reads {expected}")]
    Version {
        /// Found on disk.
        found: u32,
        /// Understood by this build.
        expected: u32,
    },
    /// Stored bytes are not what this layout writes (corruption or a foreign database).
    #[error("corrupt store record: {0}")]
    Corrupt(String),
    /// The backend failed.
    #[error("storage backend: {0}")]
    Backend(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// The last entry held of a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontier {
    /// Its sequence number (≥ 1).
    pub seq: u32,
    /// Its message id (the `prev` of the next entry).
    pub mid: Mid,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The packet.
    pub entry: Entry,
    /// Its message id.
    pub mid: Mid,
}

/// Feed storage. Implementations are safe to share between threads.
pub trait Store: Send + Sync {
    /// Appends a validated entry; `seq` must be the frontier + 1.
    fn append(&self, fid: &FeedId, seq: u32, entry: &Entry, mid: &Mid) -> Result<(), StoreError>;

    /// Appends the next side-chain chunk of entry `seq` (validated by the caller against the
    /// hash chain); `cnr` must be the number of chunks already held.
    fn put_chunk(
        &self,
        fid: &FeedId,
        seq: u32,
        cnr: u32,
        chunk: &[u8; PKT_LEN],
    ) -> Result<(), StoreError>;

    /// The last entry held of a feed.
    fn frontier(&self, fid: &FeedId) -> Result<Option<Frontier>, StoreError>;

    /// Entry `seq` of a feed.
    fn entry(&self, fid: &FeedId, seq: u32) -> Result<Option<Stored>, StoreError>;

    /// Where the entry with this message id is: (feed, seq).
    fn locate(&self, mid: &Mid) -> Result<Option<(FeedId, u32)>, StoreError>;

    /// The side-chain chunks held for entry `seq`, in order.
    fn chunks(&self, fid: &FeedId, seq: u32) -> Result<Vec<[u8; PKT_LEN]>, StoreError>;

    /// Every feed with at least one entry, with its frontier, sorted by feed id.
    fn feeds(&self) -> Result<Vec<(FeedId, Frontier)>, StoreError>;

    /// Entries of a feed whose side chain is not complete yet, in ascending order. An entry
    /// joins this list when a chain20 entry needing chunks is appended, and leaves it when
    /// its last chunk is stored.
    fn open_chains(&self, fid: &FeedId) -> Result<Vec<u32>, StoreError>;

    /// Adds a feed to the persisted GOset (the set of replicated feeds); true if it was new.
    fn add_member(&self, fid: &FeedId) -> Result<bool, StoreError>;

    /// The persisted GOset, sorted.
    fn members(&self) -> Result<Vec<FeedId>, StoreError>;

    /// Sets a per-feed metadata value (e.g. trust level, alias); an empty value deletes it.
    fn set_meta(&self, fid: &FeedId, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// A per-feed metadata value.
    fn meta(&self, fid: &FeedId, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Makes everything appended so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}
