//! The chat index's message records: an append-only file (`msgs.log`) beside the index
//! database, as the feed store keeps its entries (ADR 0025).
//!
//! Each record is `len (u32 BE) ‖ body ‖ CRC-32 of body (u32 BE)`. A body is either a
//! message (`1 ‖ chat number ‖ rank ‖ ts ‖ seq ‖ mid ‖ author ‖ flags ‖ tips ‖ fields`) or a
//! rank change of an earlier message (`2 ‖ mid ‖ rank`), written when a late cause arrives.
//! The file is only ever appended to; its valid length is recorded in the database at the end
//! of each indexing pass. When the file is missing, shorter than recorded, or a record fails
//! its CRC, the index is damaged and is derived again from the feed logs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::chat::types::ChatError;
use crate::identity::FeedId;
use crate::wire::Mid;

/// A message as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsgRec {
    /// Author.
    pub a: FeedId,
    /// Sequence number.
    pub s: u32,
    /// Timestamp.
    pub t: i64,
    /// Text.
    pub x: Option<String>,
    /// Codec2 voice.
    pub v: Option<Vec<u8>>,
    /// Why it is unreadable.
    pub u: Option<String>,
}

/// A message record with where it sits in its chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub num: u32,
    pub rank: u32,
    pub mid: Mid,
    pub prevs: Vec<Mid>,
    pub rec: MsgRec,
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogRec {
    /// A message.
    Msg(Box<Stored>),
    /// A message's rank rose.
    Rank(Mid, u32),
}

const MSG: u8 = 1;
const RANK: u8 = 2;
const F_TEXT: u8 = 1;
const F_VOICE: u8 = 2;
const F_UNREADABLE: u8 = 4;
/// At most this many tips are kept per message (the service writes at most 10).
const MAX_PREVS: usize = 16;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Encodes a record (length, body, CRC).
pub(crate) fn encode(r: &LogRec) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    match r {
        LogRec::Msg(m) => {
            body.push(MSG);
            body.extend_from_slice(&m.num.to_be_bytes());
            body.extend_from_slice(&m.rank.to_be_bytes());
            body.extend_from_slice(&m.rec.t.to_be_bytes());
            body.extend_from_slice(&m.rec.s.to_be_bytes());
            body.extend_from_slice(&m.mid.0);
            body.extend_from_slice(&m.rec.a.0);
            let mut flags = 0;
            for (has, f) in [
                (m.rec.x.is_some(), F_TEXT),
                (m.rec.v.is_some(), F_VOICE),
                (m.rec.u.is_some(), F_UNREADABLE),
            ] {
                if has {
                    flags |= f;
                }
            }
            body.push(flags);
            let prevs = &m.prevs[..m.prevs.len().min(MAX_PREVS)];
            body.push(prevs.len() as u8);
            for p in prevs {
                body.extend_from_slice(&p.0);
            }
            for f in [m.rec.x.as_deref().map(str::as_bytes), m.rec.v.as_deref()]
                .into_iter()
                .chain([m.rec.u.as_deref().map(str::as_bytes)])
                .flatten()
            {
                put_bytes(&mut body, f);
            }
        }
        LogRec::Rank(mid, rank) => {
            body.push(RANK);
            body.extend_from_slice(&mid.0);
            body.extend_from_slice(&rank.to_be_bytes());
        }
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    out
}

/// Reads fields off a body.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        Some(self.take(n)?.to_vec())
    }
    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?).ok()
    }
}

fn decode_body(body: &[u8]) -> Option<LogRec> {
    let mut c = Cur(body);
    let r = match c.u8()? {
        MSG => {
            let num = c.u32()?;
            let rank = c.u32()?;
            let t = c.i64()?;
            let s = c.u32()?;
            let mid = Mid(c.arr()?);
            let a = FeedId(c.arr()?);
            let flags = c.u8()?;
            let n = usize::from(c.u8()?);
            let mut prevs = Vec::with_capacity(n);
            for _ in 0..n {
                prevs.push(Mid(c.arr()?));
            }
            let x = if flags & F_TEXT != 0 {
                Some(c.text()?)
            } else {
                None
            };
            let v = if flags & F_VOICE != 0 {
                Some(c.bytes()?)
            } else {
                None
            };
            let u = if flags & F_UNREADABLE != 0 {
                Some(c.text()?)
            } else {
                None
            };
            LogRec::Msg(Box::new(Stored {
                num,
                rank,
                mid,
                prevs,
                rec: MsgRec { a, s, t, x, v, u },
            }))
        }
        RANK => LogRec::Rank(Mid(c.arr()?), c.u32()?),
        _ => return None,
    };
    c.0.is_empty().then_some(r)
}

/// Decodes the record at the start of `b`: the record and its total length, or `None` if it
/// is cut off or damaged.
pub(crate) fn decode(b: &[u8]) -> Option<(LogRec, usize)> {
    let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let body = b.get(4..4 + n)?;
    let crc = u32::from_be_bytes(b.get(4 + n..8 + n)?.try_into().ok()?);
    if crc32fast::hash(body) != crc {
        return None;
    }
    Some((decode_body(body)?, n + 8))
}

/// Where the records are kept: a file beside the database, or memory (a temporary index).
pub(crate) enum MsgLog {
    File {
        path: PathBuf,
        state: Mutex<FileState>,
    },
    Memory(Mutex<Vec<u8>>),
}

/// The open file and the records appended since the last flush.
#[derive(Default)]
pub(crate) struct FileState {
    file: Option<std::fs::File>,
    /// Records not yet written, starting at byte `buf_at` of the log.
    buf: Vec<u8>,
    buf_at: u64,
}

/// Appended records are written in one go once this many are buffered (and at each flush).
const BUF_MAX: usize = 1 << 20;

fn io_err(p: &Path, e: std::io::Error) -> ChatError {
    ChatError::Index(format!("{}: {e}", p.display()))
}

fn poisoned() -> ChatError {
    ChatError::Index("lock poisoned".into())
}

impl FileState {
    fn file(&mut self, path: &Path) -> Result<&mut std::fs::File, ChatError> {
        if self.file.is_none() {
            self.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .read(true)
                    .open(path)
                    .map_err(|e| io_err(path, e))?,
            );
        }
        self.file.as_mut().ok_or_else(poisoned)
    }

    fn flush(&mut self, path: &Path) -> Result<(), ChatError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        self.file(path)?
            .write_all(&buf)
            .map_err(|e| io_err(path, e))
    }
}

impl MsgLog {
    /// The log in `path` (opened on first use).
    pub fn file(path: PathBuf) -> MsgLog {
        MsgLog::File {
            path,
            state: Mutex::new(FileState::default()),
        }
    }

    /// Every byte of the log (empty if there is none).
    pub fn read_all(&self) -> Result<Vec<u8>, ChatError> {
        match self {
            MsgLog::File { path, state } => {
                state.lock().map_err(|_| poisoned())?.flush(path)?;
                match std::fs::read(path) {
                    Ok(b) => Ok(b),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                    Err(e) => Err(io_err(path, e)),
                }
            }
            MsgLog::Memory(m) => Ok(m.lock().map_err(|_| poisoned())?.clone()),
        }
    }

    /// Cuts the log to `len` bytes (records of a pass the database does not remember).
    pub fn truncate(&self, len: u64) -> Result<(), ChatError> {
        match self {
            MsgLog::File { path, state } => {
                *state.lock().map_err(|_| poisoned())? = FileState::default();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(len))
                    .map_err(|e| io_err(path, e))
            }
            MsgLog::Memory(m) => {
                m.lock().map_err(|_| poisoned())?.truncate(len as usize);
                Ok(())
            }
        }
    }

    /// Forgets every record.
    pub fn clear(&self) -> Result<(), ChatError> {
        match self {
            MsgLog::File { path, state } => {
                *state.lock().map_err(|_| poisoned())? = FileState::default();
                match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path, e)),
                    _ => Ok(()),
                }
            }
            MsgLog::Memory(m) => {
                m.lock().map_err(|_| poisoned())?.clear();
                Ok(())
            }
        }
    }

    /// Appends a record that starts at byte `at` of the log (its length, kept by the
    /// caller). Buffered: [`MsgLog::flush`] writes it.
    pub fn append(&self, at: u64, bytes: &[u8]) -> Result<(), ChatError> {
        match self {
            MsgLog::File { path, state } => {
                let mut g = state.lock().map_err(|_| poisoned())?;
                if g.buf.is_empty() {
                    g.buf_at = at;
                }
                g.buf.extend_from_slice(bytes);
                if g.buf.len() >= BUF_MAX {
                    g.flush(path)?;
                }
                Ok(())
            }
            MsgLog::Memory(m) => {
                m.lock().map_err(|_| poisoned())?.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Writes buffered records to the file.
    pub fn flush(&self) -> Result<(), ChatError> {
        match self {
            MsgLog::File { path, state } => state.lock().map_err(|_| poisoned())?.flush(path),
            MsgLog::Memory(_) => Ok(()),
        }
    }

    /// The record at byte offset `at`.
    pub fn read_at(&self, at: u64) -> Result<LogRec, ChatError> {
        let bad = || ChatError::Index(format!("damaged message record at {at}"));
        match self {
            MsgLog::File { path, state } => {
                let mut g = state.lock().map_err(|_| poisoned())?;
                if !g.buf.is_empty() && at >= g.buf_at {
                    let from = usize::try_from(at - g.buf_at).map_err(|_| bad())?;
                    let b = g.buf.get(from..).ok_or_else(bad)?;
                    return decode(b).map(|(r, _)| r).ok_or_else(bad);
                }
                let f = g.file(path)?;
                let mut head = [0u8; 4];
                read_exact_at(f, &mut head, at).map_err(|e| io_err(path, e))?;
                let n = u32::from_be_bytes(head) as usize;
                let mut buf = vec![0u8; n + 8];
                read_exact_at(f, &mut buf, at).map_err(|e| io_err(path, e))?;
                decode(&buf).map(|(r, _)| r).ok_or_else(bad)
            }
            MsgLog::Memory(m) => {
                let g = m.lock().map_err(|_| poisoned())?;
                let b = g.get(at as usize..).ok_or_else(bad)?;
                decode(b).map(|(r, _)| r).ok_or_else(bad)
            }
        }
    }
}

#[cfg(unix)]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(windows)]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = std::os::windows::fs::FileExt::seek_read(f, &mut buf[done..], at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        done += n;
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn msg() -> LogRec {
        LogRec::Msg(Box::new(Stored {
            num: 3,
            rank: 7,
            mid: Mid([9; 20]),
            prevs: vec![Mid([1; 20]), Mid([2; 20])],
            rec: MsgRec {
                a: FeedId([4; 32]),
                s: 12,
                t: -5,
                x: Some("héllo".into()),
                v: Some(vec![0, 1, 2]),
                u: None,
            },
        }))
    }

    #[test]
    fn records_round_trip_and_any_damage_is_found() {
        for r in [msg(), LogRec::Rank(Mid([3; 20]), 99)] {
            let b = encode(&r);
            assert_eq!(decode(&b), Some((r.clone(), b.len())));
            for i in 0..b.len() {
                let mut d = b.clone();
                d[i] ^= 0x40;
                assert_ne!(decode(&d).map(|x| x.0), Some(r.clone()), "byte {i}");
            }
            for cut in 0..b.len() {
                assert!(decode(&b[..cut]).is_none());
            }
        }
    }
}
