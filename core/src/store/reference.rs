//! Export and import in the on-disk layout of the reference implementations (the Android app
//! and the Python pub), so that a feed store can move between them and Lichen.
//!
//! ```text
//! <dir>/feeds/version                  "3fpf-0.0.1" (Android writes it; Python does not)
//! <dir>/feeds/<64-hex FID>/log.bin      per entry: pkt(120) ‖ N chunk slots × 120 (zeros until
//!                                       received) ‖ u32 BE file offset where the entry starts
//! <dir>/feeds/<64-hex FID>/mid.bin      20-byte message id per seq (Android only)
//! <dir>/feeds/<64-hex FID>/frontier.bin BIPF DICT {max_seq, max_pos, prev, pend_sc, cnk_cnt, cnk_ren}
//! ```
//!
//! `pend_sc` maps the seq (an INT key) of every entry whose side chain is incomplete to
//! `[cnr, rem, hptr, pos]`: chunks held, chunks still missing, the hash the next chunk must
//! have, and the file offset of its slot. N is what Android and Python compute from the
//! chain20 length varint L with v bytes: `ceil((L − (28 − v)) / 100)`, 0 for other types.
//! The last two keys are Android's (`cnk_ren` is its typo for `cnk_rem`, so Android never
//! reads it back); Python keeps unknown keys as they are.
//!
//! Both directions follow the reference code (`Replica.kt` at ssbc/tinySSB 39896b7,
//! `simplepub/replica.py`), not the draft spec. INTs are written per SIP-11 and read as
//! unsigned, which accepts both Kotlin's and Python's encodings (ADR 0001); Kotlin misreads a
//! 4-byte INT whose lowest byte is ≥ 0x80, which [`export_reference`] reports when a log grows
//! past 8 MiB.
//!
//! Import trusts nothing in the directory: every entry is checked (DMX, signature, message id,
//! in batches) and every chunk against its hash chain before it is stored; `frontier.bin` and
//! `mid.bin` are only cross-checked. A bad entry ends its feed's import (later entries cannot
//! be chained to it) and is reported; other feeds are not affected. The Android crash quirks
//! are tolerated: a log longer than `max_pos` (entries appended, frontier not yet written) is
//! read as far as it verifies, and trailing garbage is reported and skipped. (Android's own
//! re-scan of such a log swaps the two results of its varint decoder; that does not change
//! the slot count, since `L − (28 − v)` is symmetric in L and v.)

mod export;
mod import;

use std::collections::BTreeMap;
use std::path::PathBuf;

use thiserror::Error;

use super::StoreError;
use crate::identity::FeedId;
use crate::wire::bipf::{self, IntMode, Value};
use crate::wire::entry::{Entry, EntryKind};
use crate::wire::{varint, HASH_LEN, PKT_LEN};

pub use export::export_reference;
pub use import::import_reference;

/// Content of the `version` file the Android app writes into `feeds/`.
pub const ANDROID_VERSION: &str = "3fpf-0.0.1";
/// Name of the directory holding one directory per feed.
pub const FEEDS_DIR: &str = "feeds";

/// Why an export or import could not run at all (problems with single feeds are reported in
/// the reports instead).
#[derive(Debug, Error)]
pub enum ReferenceError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// Export refuses to write into a directory that already holds feeds.
    #[error("{0} already holds feed directories; export into an empty directory")]
    NotEmpty(PathBuf),
    /// A feed directory that cannot be read at all (it is skipped; others go on).
    #[error("{path}: {why}")]
    Feed {
        /// The feed directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// Import found no feed directories.
    #[error("{0} holds no feeds/ directory and no feed directories (64 hex digits)")]
    NoFeeds(PathBuf),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ReferenceError + '_ {
    move |source| ReferenceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What was exported of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedExport {
    /// The feed.
    pub fid: FeedId,
    /// Entries written (`max_seq`).
    pub entries: u32,
    /// Chunks written.
    pub chunks: u64,
    /// Entries whose side chain is incomplete (`pend_sc`).
    pub open_chains: usize,
    /// Size of `log.bin` (`max_pos`).
    pub log_bytes: u64,
}

/// What [`export_reference`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// The `feeds/` directory written.
    pub dir: PathBuf,
    /// One per feed (feeds with entries, and GOset members without entries).
    pub feeds: Vec<FeedExport>,
    /// Things a reference implementation may read differently.
    pub warnings: Vec<String>,
}

/// What was imported of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedImport {
    /// The feed.
    pub fid: FeedId,
    /// Entries that verified in `log.bin`.
    pub verified: u32,
    /// Of those, entries the store did not hold yet and now does.
    pub new_entries: u32,
    /// Chunks stored that the store did not hold yet.
    pub new_chunks: u64,
    /// Entries (of this feed, after the import) whose side chain is still incomplete.
    pub open_chains: usize,
    /// Whether the feed was new to the GOset.
    pub new_member: bool,
    /// What was wrong and skipped (bad entries, bad chunks, garbage, disagreeing metadata).
    pub problems: Vec<String>,
}

/// What [`import_reference`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The `feeds/` directory read.
    pub dir: PathBuf,
    /// One per feed directory.
    pub feeds: Vec<FeedImport>,
    /// Directory entries that are not feeds, and feeds that could not be imported at all.
    pub skipped: Vec<(PathBuf, String)>,
}

impl ImportReport {
    /// Total entries newly stored.
    pub fn new_entries(&self) -> u64 {
        self.feeds.iter().map(|f| u64::from(f.new_entries)).sum()
    }

    /// Total chunks newly stored.
    pub fn new_chunks(&self) -> u64 {
        self.feeds.iter().map(|f| f.new_chunks).sum()
    }

    /// Total problems reported.
    pub fn problems(&self) -> usize {
        self.feeds.iter().map(|f| f.problems.len()).sum::<usize>() + self.skipped.len()
    }
}

/// Number of chunk slots the reference implementations reserve after an entry.
pub fn slots_for(entry: &Entry) -> u32 {
    if entry.kind() != EntryKind::Chain20 {
        return 0;
    }
    let Ok((len, v)) = varint::decode(entry.payload(), 5) else {
        return 0;
    };
    let inline = 28u64.saturating_sub(v as u64);
    let rest = len.saturating_sub(inline);
    u32::try_from(rest.div_ceil(100)).unwrap_or(u32::MAX)
}

/// A pending side chain as `frontier.bin` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Chunks held.
    pub cnr: u64,
    /// Chunks missing.
    pub rem: u64,
    /// Hash of the next chunk.
    pub hptr: Vec<u8>,
    /// File offset of the next chunk's slot.
    pub pos: u64,
}

/// The parts of `frontier.bin` that matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefFrontier {
    /// Entries in the log.
    pub max_seq: u64,
    /// Bytes of the log that are committed.
    pub max_pos: u64,
    /// Message id of the last entry (FID[0:20] when empty).
    pub prev: Vec<u8>,
    /// Incomplete side chains by seq.
    pub pend_sc: BTreeMap<u64, Pending>,
    /// Chunks received (Android only).
    pub cnk_cnt: Option<u64>,
}

fn uint(v: &Value, what: &str) -> Result<u64, String> {
    v.as_int()
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| format!("{what} is not a non-negative INT ({v})"))
}

impl RefFrontier {
    /// Encodes in Android's key order.
    pub fn encode(&self, cnk_rem: u64) -> Vec<u8> {
        let int = |x: u64| Value::Int(i64::try_from(x).unwrap_or(i64::MAX));
        let pend = self
            .pend_sc
            .iter()
            .map(|(seq, p)| {
                (
                    int(*seq),
                    Value::List(vec![
                        int(p.cnr),
                        int(p.rem),
                        Value::Bytes(p.hptr.clone()),
                        int(p.pos),
                    ]),
                )
            })
            .collect();
        Value::Dict(vec![
            (Value::str("max_seq"), int(self.max_seq)),
            (Value::str("max_pos"), int(self.max_pos)),
            (Value::str("prev"), Value::Bytes(self.prev.clone())),
            (Value::str("pend_sc"), Value::Dict(pend)),
            (Value::str("cnk_cnt"), int(self.cnk_cnt.unwrap_or(0))),
            (Value::str("cnk_ren"), int(cnk_rem)),
        ])
        .encode()
    }

    /// Decodes what Android or Python wrote; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<RefFrontier, String> {
        let value = bipf::decode_with(bytes, IntMode::Unsigned).map_err(|e| e.to_string())?;
        let Value::Dict(pairs) = value else {
            return Err("not a BIPF DICT".into());
        };
        let mut out = RefFrontier::default();
        let (mut seen_seq, mut seen_pos) = (false, false);
        for (k, v) in &pairs {
            match k.as_str() {
                Some("max_seq") => {
                    out.max_seq = uint(v, "max_seq")?;
                    seen_seq = true;
                }
                Some("max_pos") => {
                    out.max_pos = uint(v, "max_pos")?;
                    seen_pos = true;
                }
                Some("prev") => {
                    out.prev = v
                        .as_bytes()
                        .filter(|b| b.len() == HASH_LEN)
                        .ok_or("prev is not 20 BYTES")?
                        .to_vec();
                }
                Some("cnk_cnt") => out.cnk_cnt = Some(uint(v, "cnk_cnt")?),
                Some("pend_sc") => {
                    let Value::Dict(pend) = v else {
                        return Err("pend_sc is not a DICT".into());
                    };
                    for (seq, item) in pend {
                        let seq = uint(seq, "pend_sc key")?;
                        let l = item
                            .as_list()
                            .filter(|l| l.len() == 4)
                            .ok_or_else(|| format!("pend_sc[{seq}] is not a 4-item LIST"))?;
                        out.pend_sc.insert(
                            seq,
                            Pending {
                                cnr: uint(&l[0], "pend_sc cnr")?,
                                rem: uint(&l[1], "pend_sc rem")?,
                                hptr: l[2].as_bytes().unwrap_or_default().to_vec(),
                                pos: uint(&l[3], "pend_sc pos")?,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        if !seen_seq || !seen_pos {
            return Err("max_seq or max_pos missing".into());
        }
        Ok(out)
    }
}

/// Empty chunk slot.
pub(crate) const ZERO_SLOT: [u8; PKT_LEN] = [0; PKT_LEN];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_round_trips_and_reads_kotlin_ints() {
        let mut f = RefFrontier {
            max_seq: 200,
            max_pos: 40_000,
            prev: vec![7; 20],
            cnk_cnt: Some(3),
            ..RefFrontier::default()
        };
        f.pend_sc.insert(
            130,
            Pending {
                cnr: 1,
                rem: 2,
                hptr: vec![9; 20],
                pos: 33_000,
            },
        );
        assert_eq!(RefFrontier::decode(&f.encode(2)).unwrap(), f);
        // Kotlin writes 200 as 0a c8 (unsigned, no sign byte): must read 200, not -56.
        let kotlin = Value::Dict(vec![
            (Value::str("max_seq"), Value::Int(0)),
            (Value::str("max_pos"), Value::Int(0)),
        ])
        .encode();
        let mut k = kotlin.clone();
        let at = k.iter().rposition(|&b| b == 0x0a).unwrap();
        k.splice(at..at + 2, [0x0a, 0xc8]);
        assert_eq!(RefFrontier::decode(&k).unwrap().max_pos, 200);
        assert!(RefFrontier::decode(b"\x00").is_err());
        assert!(RefFrontier::decode(&Value::Dict(vec![]).encode()).is_err());
    }
}
