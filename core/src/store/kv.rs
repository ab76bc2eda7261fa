//! The backend interface under [`KvStore`](super::KvStore): a small ordered key-value map for
//! the per-feed state, plus append-only *logs* for the bulk (entry records and side-chain
//! chunk slots). Both backends implement it, so the store's rules live in one place.
//!
//! Why two kinds of storage: sled is log-structured and rewrites B-tree leaves as keys arrive,
//! so one sled key per 140-byte entry costs 2.4–12× the entry's size on disk (measured, see
//! the module docs of [`store`](super)). Entries are written once and never change, which is
//! exactly what a plain file is good at; the map keeps only what is small or mutable.

use super::StoreError;
use crate::identity::FeedId;

/// Key-value pairs, in key order.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Which of a feed's two logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// Entry records, one fixed-size record per sequence number.
    Entries,
    /// Side-chain chunk slots, 120 bytes each, reserved per entry (holes until received).
    Chunks,
}

/// One log: a kind and a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogId {
    /// Which log.
    pub kind: LogKind,
    /// Whose.
    pub fid: FeedId,
}

impl LogId {
    /// The entry log of `fid`.
    pub fn entries(fid: &FeedId) -> LogId {
        LogId {
            kind: LogKind::Entries,
            fid: *fid,
        }
    }

    /// The chunk log of `fid`.
    pub fn chunks(fid: &FeedId) -> LogId {
        LogId {
            kind: LogKind::Chunks,
            fid: *fid,
        }
    }
}

/// An ordered key-value map with atomic batches, plus byte logs addressed by offset.
///
/// Durability contract: [`flush`](Kv::flush) makes every map write and every log write made
/// before it survive the death of the process; [`log_sync`](Kv::log_sync) and
/// [`sync`](Kv::sync) make them survive a power loss too. Map batches are atomic; log writes
/// are not (a crash may leave a torn tail, which the store detects and cuts).
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
    /// Makes all map writes survive a process crash.
    fn flush(&self) -> Result<(), StoreError>;
    /// Makes all map writes survive a power loss (a full `fsync`).
    fn sync(&self) -> Result<(), StoreError>;

    /// Length of a log in bytes (0 if it does not exist).
    fn log_len(&self, log: &LogId) -> Result<u64, StoreError>;
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (fewer only at
    /// the end of the log). Unwritten gaps read as zeros.
    fn log_read(&self, log: &LogId, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError>;
    /// Writes `data` at `offset`, extending the log (with a gap if `offset` is past its end).
    fn log_write(&self, log: &LogId, offset: u64, data: &[u8]) -> Result<(), StoreError>;
    /// Cuts a log to `len` bytes (creating it empty if it does not exist).
    fn log_truncate(&self, log: &LogId, len: u64) -> Result<(), StoreError>;
    /// Makes the given logs' contents survive a power loss (`fdatasync`, and the directory
    /// entry of any log created since the last call).
    fn log_sync(&self, logs: &[LogId]) -> Result<(), StoreError>;
    /// Every feed that has an entry log, in any order (to rebuild a lost map).
    fn log_feeds(&self) -> Result<Vec<FeedId>, StoreError>;

    /// The signing high-water mark of `fid` kept outside the map and the logs (seq 0 if there
    /// is none, or if it is unreadable: the store also keeps a copy in the map).
    fn mark_read(&self, fid: &FeedId) -> Result<Mark, StoreError>;
    /// Sets `fid`'s signing mark. It survives the death of the process once this returns, and
    /// a power loss too if `durable` (otherwise after the next [`sync`](Kv::sync)).
    fn mark_write(&self, fid: &FeedId, mark: Mark, durable: bool) -> Result<(), StoreError>;
}

/// A signing mark as the mark file holds it (ADR 0014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// The highest sequence number this device let be signed.
    pub seq: u32,
    /// The entry at `seq` was claimed but not yet shown to any reader: it cannot have left
    /// the device. Cleared (durably, for `publish`) before the entry becomes visible.
    pub pending: bool,
}
