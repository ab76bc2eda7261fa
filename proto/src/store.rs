//! The storage interface the replication engine is written against: the domain-level
//! [`Store`] trait and its error. Implementations (sled, memory) live in the `lichen` crate;
//! this crate holds only what the engine needs to call them, so it stays free of file code.
//!
//! A store holds validated data only: callers verify entries (DMX, signature) and chunks (hash
//! chain) before they reach it. The store re-checks continuity: an entry's seq must follow
//! the frontier, a chunk must be the next one of an entry held and hash to what its
//! predecessor promised.

use thiserror::Error;

use crate::identity::FeedId;
use crate::wire::entry::Entry;
use crate::wire::{Mid, PKT_LEN};

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
    /// The entry has no side chain waiting for chunks.
    #[error("feed {fid:?} entry {seq}: no side chain is waiting for chunks")]
    ChunkNotWanted {
        /// The feed.
        fid: FeedId,
        /// Entry.
        seq: u32,
    },
    /// The chunk does not hash to what the entry (or the previous chunk) points to.
    #[error("feed {fid:?} entry {seq}: chunk {cnr} does not match the side chain's hash")]
    ChunkHash {
        /// The feed.
        fid: FeedId,
        /// Entry.
        seq: u32,
        /// Chunk offered.
        cnr: u32,
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
    /// The file system is full (or the quota is used up). Nothing reported durable is lost;
    /// free some space and try again.
    #[error("disk full: {0}; free some space and try again (nothing stored so far is lost)")]
    DiskFull(String),
    /// This device once signed entries of `fid` up to `signed`, but the store now holds only
    /// up to `held` (damage or a power loss cut the log). Signing `held + 1` again would fork
    /// the feed, so posting waits until a peer gives the entries back.
    #[error(
        "your feed was rolled back from {signed} to {held}; connect to a peer that holds it to \
         recover (lichen connect/serve) before posting"
    )]
    RolledBack {
        /// The feed.
        fid: FeedId,
        /// The highest sequence number ever signed on this device.
        signed: u32,
        /// The frontier the store holds.
        held: u32,
    },
    /// Another entry of the same feed is being signed right now (by another thread).
    #[error("feed {0:?}: another entry is being signed; try again")]
    Busy(FeedId),
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

    /// Appends many validated entries, of any feeds, in order. Stops at the first entry that
    /// does not continue its feed and returns how many were stored before it (all of them
    /// if it equals `items.len()`). Errors only when the backend fails (then a prefix may be
    /// stored: read the frontiers). Like [`append`](Store::append), durable after the next
    /// [`flush`](Store::flush).
    fn append_batch(&self, items: &[(FeedId, u32, Entry, Mid)]) -> Result<usize, StoreError> {
        for (i, (fid, seq, entry, mid)) in items.iter().enumerate() {
            match self.append(fid, *seq, entry, mid) {
                Ok(()) => {}
                Err(StoreError::NotNext { .. }) => return Ok(i),
                Err(e) => return Err(e),
            }
        }
        Ok(items.len())
    }

    /// Appends the next side-chain chunk of entry `seq` (validated by the caller against the
    /// hash chain, and checked again here); `cnr` must be the number of chunks already held.
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

    /// The highest sequence number of `fid` that this store let be signed (0 if none): the
    /// signing high-water mark. It is kept outside the entry logs and the map's frontiers
    /// (see [`claim_next`](Store::claim_next)), so a rollback of the feed does not lower it.
    fn signed_mark(&self, fid: &FeedId) -> Result<u32, StoreError>;

    /// Reserves the next sequence number of `fid` for an entry this device is about to sign,
    /// and returns the frontier to continue (`None`: the feed is empty; a frontier at
    /// `u32::MAX` is returned without a claim). The mark is raised to the new seq before this
    /// returns: durably against power loss if `durable`, else against the death of the
    /// process (then the next [`sync`](Store::sync) makes it durable).
    ///
    /// Refuses with [`StoreError::RolledBack`] when the frontier is below the mark: a seq
    /// this device signed before may be held by peers, and signing it again would fork the
    /// feed. Posting works again once the feed is refilled up to the mark (from a peer).
    /// [`StoreError::Busy`] if another claim of the feed is under way. Every claim must be
    /// ended with [`finish_claim`](Store::finish_claim).
    fn claim_next(&self, fid: &FeedId, durable: bool) -> Result<Option<Frontier>, StoreError>;

    /// Ends the claim of `seq` of `fid`. While a claim is under way, readers
    /// ([`frontier`](Store::frontier), [`entry`](Store::entry), [`feeds`](Store::feeds), …) do
    /// not see the claimed entry, so it cannot leave the device yet. `stored`: the entry and
    /// its chunks are stored (and synced, if the caller wanted that); it becomes visible.
    /// Otherwise (signing, appending or syncing failed) the entry, if appended, is taken back
    /// out of the store and the mark lowered again: nobody can hold it.
    fn finish_claim(&self, fid: &FeedId, seq: u32, stored: bool) -> Result<(), StoreError>;

    /// The commit point: everything appended before this call survives the death of the
    /// process once it returns `Ok` (not necessarily a power loss; see [`sync`](Store::sync)).
    fn flush(&self) -> Result<(), StoreError>;

    /// [`flush`](Store::flush), and everything appended before this call also survives a power
    /// loss or OS crash once it returns `Ok` (`fsync`). Slower: use it for the own feed and
    /// periodically, not per received entry.
    fn sync(&self) -> Result<(), StoreError> {
        self.flush()
    }
}
