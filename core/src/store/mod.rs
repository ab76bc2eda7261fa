//! Feed storage: the domain-level [`Store`] trait, a [`sled`](SledStore) backend (the
//! default, one directory per node) and a [`memory`](MemoryStore) backend, both held to one
//! conformance suite, plus [`reference`]: export and import in the on-disk layout of the
//! Android app and the Python pub.
//!
//! A store holds validated data only: callers verify entries (DMX, signature) and chunks (hash
//! chain) before they reach it. The store re-checks continuity: an entry's seq must follow
//! the frontier, a chunk must be the next one of an entry held and hash to what its
//! predecessor promised.
//!
//! # Layout (format version 2)
//!
//! Entries are written once and never change, so they live in one append-only *entry log* per
//! feed, outside sled: fixed 148-byte records (`pkt ‖ mid ‖ chunk slot ‖ CRC-32`, see
//! `records.rs`), record k = entry k+1, so `entry(fid, seq)` is one positioned read with no
//! index. Side-chain chunks go to a *chunk log* per feed, in slots reserved when their entry
//! is appended (holes on disk until a chunk arrives). sled keeps what is small or changes, one
//! value per feed and purpose: the committed frontier (rewritten by every flush), the list of
//! side chains a sync found incomplete (rewritten by syncs), GOset membership and metadata;
//! plus the format version. The message-id index behind [`Store::locate`] is built in memory
//! on first use (`mid_index.rs`). A format-1 store is upgraded in place when opened
//! (`migrate.rs`); any other version is refused.
//!
//! Why not sled for entries: measured with sled 0.34.7, 100 000 entries of 20 feeds, flushed
//! every 256 entries, disk bytes per entry ÷ 120 were 11.7 for the first layout (one key per
//! entry plus a message-id index key), 2.4 with short keys and no index, 5.4 with a short
//! index, and 2.1–2.9 with 32–64 entries packed per value. sled rewrites B-tree leaves as keys
//! arrive and only reclaims a segment once it is half garbage, so anything stored in it costs
//! about twice its size or more. The logs cost 148/120 = 1.23 plus file-system rounding.
//!
//! # Durability
//!
//! An appended entry or chunk is readable at once. It is **durable against the death of the
//! process** (SIGKILL, abort, OOM kill) once a [`Store::flush`] that started after the append
//! returned `Ok`, and **durable against power loss or an OS crash** once a [`Store::sync`]
//! that started after the append returned `Ok`. `flush` is the group commit (one atomic sled
//! batch plus sled's flush, which on Linux is `sync_file_range`, not `fsync`); `sync` adds
//! `fdatasync` of every log written since the last sync and an `fsync` of sled's file.
//! Dropping a store syncs. Entries appended but not yet flushed when the process dies are
//! dropped on the next open (they were never reported durable; replication fetches them
//! again). Entries flushed but not synced may be lost by a power loss; the next open then
//! rolls the feed back to its longest intact prefix (checked by CRC) and reports it in
//! [`KvStore::recovery`], so the store is never left inconsistent. Chunks are checked
//! against their hash chain when a feed's open side chains are loaded. See `commit.rs` for the
//! ordering that guarantees this.
//!
//! A node should `flush` at most every 100 ms or every 256 accepted entries, whichever comes
//! first, and `sync` before it reports its own new entry as published, every few seconds, and
//! on shutdown. A lost own entry must never be re-signed with other content (a fork): own
//! entries are signed through [`Store::claim_next`], which keeps a high-water mark outside the
//! logs and refuses to sign while the feed is rolled back below it (ADR 0014).
//!
//! Every open checks the CRC of every record, so damage in the middle of a log rolls the feed
//! back to before it; a lost map is rebuilt from the logs ([`Recovery::rebuilt`]); a full disk
//! is [`StoreError::DiskFull`] and loses nothing reported durable. A
//! `sync` costs one `fdatasync` per log written since the last one (about 2 ms each on the
//! benchmark machine), which is why it is not the per-group commit.

mod commit;
mod keys;
mod kv;
mod kv_store;
mod memory;
mod mid_index;
mod migrate;
mod records;
mod recovery;
pub mod reference;
mod sled_store;

#[cfg(test)]
mod conformance;

pub use kv::{Kv, LogId, LogKind, Pairs};
pub use kv_store::{KvStore, Recovery};
pub use memory::{MemoryKv, MemoryStore};
pub use records::RECORD_LEN;
pub use sled_store::{disk_usage, DiskUsage, SledKv, SledStore};

use thiserror::Error;

use crate::identity::FeedId;
use crate::wire::entry::Entry;
use crate::wire::{Mid, PKT_LEN};

/// Version of the on-disk layout; stored under a format-version key.
pub const FORMAT_VERSION: u32 = 2;

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

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => io_error("sled", io),
            sled::Error::Corruption { .. } => StoreError::Corrupt(format!(
                "{e} (the sled database of the store is damaged; the feed logs can rebuild it: \
                 move the store's `db` file aside and open again)"
            )),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Whether an I/O error means the file system is out of space (or quota).
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// An I/O error of `what` as a [`StoreError`]: [`StoreError::DiskFull`] when out of space.
pub(crate) fn io_error(what: &str, e: std::io::Error) -> StoreError {
    if is_disk_full(&e) {
        StoreError::DiskFull(format!("{what}: {e}"))
    } else {
        StoreError::Backend(format!("{what}: {e}"))
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
