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

/// Version of the on-disk layout; stored under a format-version key.
pub const FORMAT_VERSION: u32 = 2;

pub use lichen_proto::store::{Frontier, Store, StoreError, Stored};

/// A sled failure as a [`StoreError`] (the error type lives in the protocol crate, which knows
/// nothing of sled, so this is a function rather than a `From`).
pub(crate) fn backend(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => io_error("sled", io),
        sled::Error::Corruption { .. } => StoreError::Corrupt(format!(
            "{e} (the sled database of the store is damaged; the feed logs can rebuild it: \
             move the store's `db` file aside and open again)"
        )),
        other => StoreError::Backend(other.to_string()),
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
