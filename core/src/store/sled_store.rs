//! The sled backend: one directory per node store.
//!
//! ```text
//! <dir>/db, conf, blobs/, snap.*    sled: frontiers, open side chains, GOset, metadata, version
//! <dir>/feeds/<fid hex>.log         entry records, 148 bytes each, record k = entry k+1
//! <dir>/feeds/<fid hex>.chunks      side-chain chunk slots, 120 bytes each (holes until received)
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

use super::kv::{Kv, LogId, LogKind, Pairs};
use super::kv_store::KvStore;
use super::StoreError;

/// Open log files kept at most; past this the cache is emptied (handles in use stay valid).
const MAX_OPEN_LOGS: usize = 256;
/// How long an open waits for sled's lock to be released by the same process.
const LOCK_WAIT: Duration = Duration::from_millis(1500);
/// sled's page cache limit: the map is small, entries are not in it.
const SLED_CACHE: u64 = 32 << 20;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what} {}: {e}", path.display()))
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
}

impl SledKv {
    /// Opens (or creates) sled and the log directory in `dir`.
    pub fn open(dir: &Path) -> Result<SledKv, StoreError> {
        let config = sled::Config::new().path(dir).cache_capacity(SLED_CACHE);
        // sled releases its file lock from a background thread a moment after the last
        // handle is dropped, so reopening in the same process can briefly see it taken.
        let started = Instant::now();
        let db = loop {
            match config.open() {
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && started.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => break other.map_err(super::backend)?,
            }
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
        })
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
