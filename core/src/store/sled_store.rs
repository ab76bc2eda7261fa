//! The sled backend: one directory per node store.
//!
//! ```text
//! <dir>/db, conf, blobs/, snap.*    sled: frontiers, open side chains, GOset, metadata, version
//! <dir>/feeds/<fid hex>.log         entry records, 148 bytes each, record k = entry k+1
//! <dir>/feeds/<fid hex>.chunks      side-chain chunk slots, 120 bytes each (holes until received)
//! <dir>/marks/<fid hex>             signing high-water mark of an own feed (ADR 0014)
//! ```
//!
//! sled's exclusive lock on `<dir>/db` also guards the logs: a second process cannot open the
//! same store.
//!
//! Durability of the pieces: log writes are `pwrite`s, in the OS page cache as soon as they
//! return (they survive a process kill). sled's own `flush` writes its buffers and calls
//! `sync_file_range` on Linux, which survives a process kill but is not a full `fsync`:
//! neither the file size nor the drive's cache is committed. Its background thread `fsync`s
//! every 500 ms. [`Kv::sync`] therefore `fsync`s sled's file itself after sled's flush, and
//! [`Kv::log_sync`] `fdatasync`s the logs (and the `feeds/` directory when a log was created).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::kv::{Kv, LogId, LogKind, Mark, Pairs};
use super::kv_store::KvStore;
use super::StoreError;
use crate::identity::FeedId;

/// Open log files kept at most; past this the cache is emptied (handles in use stay valid).
const MAX_OPEN_LOGS: usize = 256;
/// How long an open waits for sled's lock to be released by the same process.
const LOCK_WAIT: Duration = Duration::from_millis(1500);
/// sled's page cache limit: the map is small, entries are not in it.
const SLED_CACHE: u64 = 32 << 20;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    super::io_error(&format!("{what} {}", path.display()), e)
}

/// Removes sled snapshot files that would stop it from opening; returns whether there were
/// any. `unfinished`: the `snap.*.generating` files; otherwise every snapshot, if sled's data
/// file `db` is gone (they describe a log that no longer exists).
///
/// sled 0.34.7 writes a snapshot (at open, when its log has moved on) as
/// `snap.<lsn>.generating`, `fsync`s it and only then renames it to `snap.<lsn>`; on open it
/// takes the file with the greatest name among all `snap.*` (a `.generating` one included) and
/// fails with "Read corrupted data" if that file is short or fails its CRC. A `.generating`
/// file is therefore always an unfinished write (the disk filled up, or the process died),
/// never the only copy of anything: the complete snapshot before it, or a scan of sled's log,
/// has the same state.
fn clear_sled_snapshots(dir: &Path, unfinished: bool) -> Result<bool, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err("listing", dir, e)),
    };
    let mut removed = false;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("listing", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && (!unfinished || name.ends_with(".generating")) {
            let path = entry.path();
            tracing::warn!("store: removing sled's unfinished or orphaned snapshot {name}");
            std::fs::remove_file(&path).map_err(|e| io_err("removing", &path, e))?;
            removed = true;
        }
    }
    Ok(removed)
}

/// Opens sled, waiting a moment for a lock the same process is releasing.
fn open_sled(config: &sled::Config) -> Result<sled::Db, sled::Error> {
    // sled releases its file lock from a background thread a moment after the last
    // handle is dropped, so reopening in the same process can briefly see it taken.
    let started = Instant::now();
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// A sled database plus a directory of logs, as a [`Kv`] backend.
pub struct SledKv {
    db: sled::Db,
    /// sled's data file, opened again to `fsync` it.
    db_file: File,
    root: PathBuf,
    feeds: PathBuf,
    files: Mutex<HashMap<LogId, Arc<File>>>,
    /// A log (or the `feeds/` directory) was created since the last `log_sync`.
    created: AtomicBool,
    /// Open mark files, and whether each was written since its last `fdatasync`.
    marks: Mutex<HashMap<FeedId, (File, bool)>>,
}

/// Bytes of one slot of a mark file: seq (u32 BE) ‖ CRC-32 of (fid ‖ seq).
const MARK_SLOT: usize = 8;

/// One slot: seq ‖ CRC-32 of (fid ‖ seq), or of (fid ‖ seq ‖ 0x01) for a pending claim, so
/// slots written before pending claims existed read as settled marks.
fn mark_slot(fid: &FeedId, mark: Mark) -> [u8; MARK_SLOT] {
    let mut h = crc32fast::Hasher::new();
    h.update(&fid.0);
    h.update(&mark.seq.to_be_bytes());
    if mark.pending {
        h.update(&[1]);
    }
    let mut slot = [0u8; MARK_SLOT];
    slot[..4].copy_from_slice(&mark.seq.to_be_bytes());
    slot[4..].copy_from_slice(&h.finalize().to_be_bytes());
    slot
}

/// The greatest intact slot of a mark file's bytes (a settled mark before a pending one of
/// the same seq).
fn mark_of(fid: &FeedId, bytes: &[u8]) -> Option<Mark> {
    bytes
        .chunks_exact(MARK_SLOT)
        .take(2)
        .filter_map(|slot| {
            let seq = u32::from_be_bytes(slot.get(..4)?.try_into().ok()?);
            [false, true]
                .into_iter()
                .map(|pending| Mark { seq, pending })
                .find(|m| mark_slot(fid, *m) == slot)
        })
        .max_by_key(|m| (m.seq, !m.pending))
}

impl SledKv {
    /// Opens (or creates) sled and the log directory in `dir`.
    pub fn open(dir: &Path) -> Result<SledKv, StoreError> {
        if !dir.join("db").exists() {
            clear_sled_snapshots(dir, false)?;
        }
        let config = sled::Config::new().path(dir).cache_capacity(SLED_CACHE);
        let db = match open_sled(&config) {
            // sled takes its lock before it reads the snapshot, so no one else holds the
            // store now: an unfinished snapshot can go, and the open is tried again.
            Err(sled::Error::Corruption { .. }) if clear_sled_snapshots(dir, true)? => {
                open_sled(&config).map_err(super::backend)?
            }
            other => other.map_err(super::backend)?,
        };
        let db_path = dir.join("db");
        let db_file = File::open(&db_path).map_err(|e| io_err("opening", &db_path, e))?;
        let feeds = dir.join("feeds");
        let created = !feeds.is_dir();
        std::fs::create_dir_all(&feeds).map_err(|e| io_err("creating", &feeds, e))?;
        Ok(SledKv {
            db,
            db_file,
            root: dir.to_path_buf(),
            feeds,
            files: Mutex::new(HashMap::new()),
            created: AtomicBool::new(created),
            marks: Mutex::new(HashMap::new()),
        })
    }

    /// The file of a feed's signing mark: two 8-byte slots, written alternately (slot
    /// `seq % 2`) in place, so a torn write can only damage the slot being written and the
    /// other still holds the mark before it. In place, because the file's blocks exist once it
    /// was created: raising the mark needs no new disk space, even on a full disk.
    pub fn mark_path(&self, fid: &FeedId) -> PathBuf {
        self.root.join("marks").join(fid.to_hex())
    }

    /// Creates a mark file holding `mark` in both slots: written to a temporary name,
    /// `fsync`ed, renamed, and the directories `fsync`ed.
    fn create_mark(&self, fid: &FeedId, mark: Mark) -> Result<File, StoreError> {
        let dir = self.root.join("marks");
        let new_dir = !dir.is_dir();
        std::fs::create_dir_all(&dir).map_err(|e| io_err("creating", &dir, e))?;
        let path = self.mark_path(fid);
        let tmp = dir.join(format!("{}.tmp", fid.to_hex()));
        let slot = mark_slot(fid, mark);
        let mut bytes = [0u8; 2 * MARK_SLOT];
        bytes[..MARK_SLOT].copy_from_slice(&slot);
        bytes[MARK_SLOT..].copy_from_slice(&slot);
        let written = std::fs::write(&tmp, bytes)
            .and_then(|()| File::open(&tmp).and_then(|f| f.sync_all()))
            .map_err(|e| io_err("writing", &tmp, e));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, &path).map_err(|e| io_err("renaming", &tmp, e))?;
        sync_dir(&dir)?;
        if new_dir {
            sync_dir(&self.root)?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("opening", &path, e))
    }
    /// The file behind a log.
    pub fn log_path(&self, log: &LogId) -> PathBuf {
        let ext = match log.kind {
            LogKind::Entries => "log",
            LogKind::Chunks => "chunks",
        };
        self.feeds.join(format!("{}.{ext}", log.fid.to_hex()))
    }

    /// The open file of a log; `None` if it does not exist and `create` is false.
    fn file(&self, log: &LogId, create: bool) -> Result<Option<Arc<File>>, StoreError> {
        let mut files = self
            .files
            .lock()
            .map_err(|_| StoreError::Backend("log handle cache poisoned".into()))?;
        if let Some(f) = files.get(log) {
            return Ok(Some(Arc::clone(f)));
        }
        let path = self.log_path(log);
        let mut opts = OpenOptions::new();
        opts.read(true).write(true);
        let file = match opts.open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound && !create => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let f = opts
                    .create(true)
                    .open(&path)
                    .map_err(|e| io_err("creating", &path, e))?;
                self.created.store(true, Ordering::SeqCst);
                f
            }
            Err(e) => return Err(io_err("opening", &path, e)),
        };
        if files.len() >= MAX_OPEN_LOGS {
            files.clear();
        }
        let file = Arc::new(file);
        files.insert(*log, Arc::clone(&file));
        Ok(Some(file))
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(unix)]
fn write_all_at(f: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

#[cfg(windows)]
fn write_all_at(f: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(f, buf, offset)?;
        if n == 0 {
            return Err(ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

impl Kv for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(key)
            .map_err(super::backend)?
            .map(|v| v.to_vec()))
    }

    fn apply(&self, pairs: Pairs, removals: Vec<Vec<u8>>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in pairs {
            batch.insert(k, v);
        }
        for k in removals {
            batch.remove(k);
        }
        self.db.apply_batch(batch).map_err(super::backend)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.db
            .scan_prefix(prefix)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(super::backend)
            })
            .collect()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(super::backend)?;
        Ok(())
    }

    fn sync(&self) -> Result<(), StoreError> {
        let mut marks = self
            .marks
            .lock()
            .map_err(|_| StoreError::Backend("mark cache poisoned".into()))?;
        for (fid, (file, dirty)) in marks.iter_mut().filter(|(_, (_, d))| *d) {
            file.sync_data()
                .map_err(|e| io_err("syncing", &self.mark_path(fid), e))?;
            *dirty = false;
        }
        drop(marks);
        self.db.flush().map_err(super::backend)?;
        self.db_file
            .sync_all()
            .map_err(|e| io_err("syncing", &self.root.join("db"), e))
    }

    fn log_len(&self, log: &LogId) -> Result<u64, StoreError> {
        match self.file(log, false)? {
            None => Ok(0),
            Some(f) => f
                .metadata()
                .map(|m| m.len())
                .map_err(|e| io_err("reading the size of", &self.log_path(log), e)),
        }
    }

    fn log_read(&self, log: &LogId, offset: u64, buf: &mut [u8]) -> Result<usize, StoreError> {
        let Some(f) = self.file(log, false)? else {
            return Ok(0);
        };
        let mut n = 0;
        while n < buf.len() {
            match read_at(&f, &mut buf[n..], offset + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err("reading", &self.log_path(log), e)),
            }
        }
        Ok(n)
    }

    fn log_write(&self, log: &LogId, offset: u64, data: &[u8]) -> Result<(), StoreError> {
        let f = self
            .file(log, true)?
            .ok_or_else(|| StoreError::Backend("log not created".into()))?;
        write_all_at(&f, data, offset).map_err(|e| io_err("writing", &self.log_path(log), e))
    }

    fn log_truncate(&self, log: &LogId, len: u64) -> Result<(), StoreError> {
        let f = self
            .file(log, true)?
            .ok_or_else(|| StoreError::Backend("log not created".into()))?;
        f.set_len(len)
            .map_err(|e| io_err("truncating", &self.log_path(log), e))
    }

    fn log_feeds(&self) -> Result<Vec<FeedId>, StoreError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.feeds) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_err("listing", &self.feeds, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_err("listing", &self.feeds, e))?;
            let name = entry.file_name();
            let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".log")) else {
                continue;
            };
            let mut fid = [0u8; 32];
            if hex::decode_to_slice(hex, &mut fid).is_ok() {
                out.push(FeedId(fid));
            }
        }
        Ok(out)
    }

    fn mark_read(&self, fid: &FeedId) -> Result<Mark, StoreError> {
        let path = self.mark_path(fid);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(mark_of(fid, &bytes).unwrap_or_else(|| {
                tracing::warn!("store: the signing mark {} is damaged", path.display());
                Mark::default()
            })),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Mark::default()),
            Err(e) => Err(io_err("reading", &path, e)),
        }
    }

    fn mark_write(&self, fid: &FeedId, mark: Mark, durable: bool) -> Result<(), StoreError> {
        let seq = mark.seq;
        let mut marks = self
            .marks
            .lock()
            .map_err(|_| StoreError::Backend("mark cache poisoned".into()))?;
        let path = self.mark_path(fid);
        if !marks.contains_key(fid) {
            let existing = OpenOptions::new().read(true).write(true).open(&path);
            let file = match existing {
                Ok(f) if f.metadata().is_ok_and(|m| m.len() == 2 * MARK_SLOT as u64) => f,
                Ok(_) => self.create_mark(fid, mark)?,
                Err(e) if e.kind() == ErrorKind::NotFound => self.create_mark(fid, mark)?,
                Err(e) => return Err(io_err("opening", &path, e)),
            };
            marks.insert(*fid, (file, false));
        }
        let Some((file, dirty)) = marks.get_mut(fid) else {
            return Err(StoreError::Backend("mark file vanished".into()));
        };
        let at = u64::from(seq % 2) * MARK_SLOT as u64;
        let slot = mark_slot(fid, mark);
        write_all_at(file, &slot, at).map_err(|e| io_err("writing", &path, e))?;
        // Lowering the mark (a claim given back): the other slot may hold the higher value.
        let other = (MARK_SLOT as u64) - at;
        let mut old = [0u8; MARK_SLOT];
        let n = read_at(file, &mut old, other).map_err(|e| io_err("reading", &path, e))?;
        if mark_of(fid, &old[..n]).is_some_and(|o| o.seq > seq) {
            write_all_at(file, &slot, other).map_err(|e| io_err("writing", &path, e))?;
        }
        if durable {
            file.sync_data().map_err(|e| io_err("syncing", &path, e))?;
            *dirty = false;
        } else {
            *dirty = true;
        }
        Ok(())
    }

    fn log_sync(&self, logs: &[LogId]) -> Result<(), StoreError> {
        for log in logs {
            if let Some(f) = self.file(log, false)? {
                f.sync_data()
                    .map_err(|e| io_err("syncing", &self.log_path(log), e))?;
            }
        }
        if self.created.swap(false, Ordering::SeqCst) {
            let synced = sync_dir(&self.feeds).and_then(|()| sync_dir(&self.root));
            if let Err(e) = synced {
                self.created.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// `fsync` of a directory, so that files created in it survive a power loss.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_err("syncing the directory", dir, e))
    }
    #[cfg(not(unix))]
    {
        // Other systems cannot open a directory as a file; their file systems commit
        // directory entries with the file.
        let _ = dir;
        Ok(())
    }
}

/// A store in a sled database and its log directory.
pub type SledStore = KvStore<SledKv>;

impl SledStore {
    /// Opens (or creates) the store in `dir`, repairing what an unclean shutdown left (see
    /// [`KvStore::recovery`]).
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        KvStore::new(SledKv::open(dir)?)
    }
}

/// Bytes a directory tree takes: the sum of file lengths, and the blocks the file system
/// allocated for them (smaller for files with holes; a multiple of the block size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Sum of file lengths.
    pub apparent: u64,
    /// Allocated bytes (`st_blocks × 512` on Unix; the apparent size elsewhere).
    pub allocated: u64,
}

impl std::ops::Add for DiskUsage {
    type Output = DiskUsage;
    fn add(self, o: DiskUsage) -> DiskUsage {
        DiskUsage {
            apparent: self.apparent + o.apparent,
            allocated: self.allocated + o.allocated,
        }
    }
}

/// Measures the files under `path` whose names satisfy `pick` (recursively).
pub fn disk_usage(path: &Path, pick: &dyn Fn(&Path) -> bool) -> std::io::Result<DiskUsage> {
    let mut total = DiskUsage::default();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let p = entry.path();
        if meta.is_dir() {
            total = total + disk_usage(&p, pick)?;
        } else if pick(&p) {
            #[cfg(unix)]
            let allocated = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
            #[cfg(not(unix))]
            let allocated = meta.len();
            total = total
                + DiskUsage {
                    apparent: meta.len(),
                    allocated,
                };
        }
    }
    Ok(total)
}
