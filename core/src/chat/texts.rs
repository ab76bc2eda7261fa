//! The texts for search, kept apart from the index database so that the first search reads
//! them in one sequential read: `len (u32 BE) ‖ ts (i64 BE) ‖ mid (20) ‖ lower-case text`
//! records, appended at the end of each indexing pass.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::chat::types::ChatError;
use crate::wire::Mid;

/// Where the texts are kept: a file beside the database, or memory (a temporary index).
pub(crate) enum TextLog {
    File(PathBuf),
    Memory(Mutex<Vec<u8>>),
}

fn io_err(p: &std::path::Path, e: std::io::Error) -> ChatError {
    ChatError::Index(format!("{}: {e}", p.display()))
}

fn poisoned() -> ChatError {
    ChatError::Index("lock poisoned".into())
}

impl TextLog {
    /// Forgets every text.
    pub fn clear(&self) -> Result<(), ChatError> {
        match self {
            TextLog::File(p) => match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(p, e)),
                _ => Ok(()),
            },
            TextLog::Memory(m) => {
                m.lock().map_err(|_| poisoned())?.clear();
                Ok(())
            }
        }
    }

    /// Appends records.
    pub fn append(&self, bytes: &[u8]) -> Result<(), ChatError> {
        match self {
            TextLog::File(p) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(bytes))
                .map_err(|e| io_err(p, e)),
            TextLog::Memory(m) => {
                m.lock().map_err(|_| poisoned())?.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Every record (the last one may be cut off).
    pub fn read(&self) -> Result<Vec<u8>, ChatError> {
        match self {
            TextLog::File(p) => match std::fs::read(p) {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(io_err(p, e)),
            },
            TextLog::Memory(m) => Ok(m.lock().map_err(|_| poisoned())?.clone()),
        }
    }

    /// Replaces every record.
    pub fn replace(&self, bytes: &[u8]) -> Result<(), ChatError> {
        match self {
            TextLog::File(p) => std::fs::write(p, bytes).map_err(|e| io_err(p, e)),
            TextLog::Memory(m) => {
                *m.lock().map_err(|_| poisoned())? = bytes.to_vec();
                Ok(())
            }
        }
    }
}

/// Appends one record.
pub(crate) fn push_text(out: &mut Vec<u8>, ts: i64, mid: &Mid, text: &str) {
    let lower = text.to_lowercase();
    let len = u32::try_from(lower.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&mid.0);
    out.extend_from_slice(lower.as_bytes().get(..len as usize).unwrap_or_default());
}
