//! Store → reference layout.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{
    io_err, slots_for, ExportReport, FeedExport, Pending, RefFrontier, ReferenceError,
    ANDROID_VERSION, FEEDS_DIR, ZERO_SLOT,
};
use crate::identity::FeedId;
use crate::store::Store;
use crate::wire::entry::first_prev;
use crate::wire::sidechain::CHUNK_DATA;
use crate::wire::PKT_LEN;

/// Largest INT Kotlin's BIPF decoder reads right whatever its lowest byte (3 bytes, SIP-11).
const KOTLIN_SAFE_INT: u64 = (1 << 23) - 1;

/// Writes every feed of `store` (and every GOset member without entries, as an empty feed)
/// into `dir/feeds/` in the Android/Python layout, plus Android's `version` file.
///
/// Refuses if `dir/feeds/` already holds feed directories. Each feed's files are written to
/// temporary names and renamed, so an interrupted export leaves no half-written feed.
pub fn export_reference(store: &dyn Store, dir: &Path) -> Result<ExportReport, ReferenceError> {
    let feeds_dir = dir.join(FEEDS_DIR);
    fs::create_dir_all(&feeds_dir).map_err(io_err(&feeds_dir))?;
    let taken = fs::read_dir(&feeds_dir)
        .map_err(io_err(&feeds_dir))?
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_str().is_some_and(|n| n.len() == 64));
    if taken {
        return Err(ReferenceError::NotEmpty(feeds_dir));
    }
    let mut report = ExportReport {
        dir: feeds_dir.clone(),
        ..ExportReport::default()
    };
    let mut fids: Vec<FeedId> = store.feeds()?.into_iter().map(|(f, _)| f).collect();
    for m in store.members()? {
        if !fids.contains(&m) {
            fids.push(m);
        }
    }
    fids.sort();
    for fid in fids {
        let feed = export_feed(store, &fid, &feeds_dir, &mut report.warnings)?;
        report.feeds.push(feed);
    }
    let version = feeds_dir.join("version");
    fs::write(&version, ANDROID_VERSION).map_err(io_err(&version))?;
    Ok(report)
}

fn export_feed(
    store: &dyn Store,
    fid: &FeedId,
    feeds_dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<FeedExport, ReferenceError> {
    let dir = feeds_dir.join(fid.to_hex());
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let last = store.frontier(fid)?;
    let mut log = TmpFile::create(&dir, "log.bin")?;
    let mut mids = TmpFile::create(&dir, "mid.bin")?;
    let mut front = RefFrontier {
        prev: first_prev(fid).0.to_vec(),
        ..RefFrontier::default()
    };
    let (mut chunks_held, mut chunks_missing) = (0u64, 0u64);
    for seq in 1..=last.map_or(0, |f| f.seq) {
        let stored = store.entry(fid, seq)?.ok_or_else(|| {
            crate::store::StoreError::Corrupt(format!("entry {seq} of {fid:?} is missing"))
        })?;
        let pos = log.len;
        let slots = slots_for(&stored.entry);
        let Ok(pos32) = u32::try_from(pos) else {
            warnings.push(format!(
                "feed {}: log.bin reaches 4 GiB at entry {seq}; the reference layout cannot \
                 address more, so the export stops before it",
                fid.to_hex()
            ));
            break;
        };
        log.write(stored.entry.bytes())?;
        if slots > 0 {
            let held = store.chunks(fid, seq)?;
            for c in &held {
                log.write(c)?;
            }
            for _ in held.len() as u64..u64::from(slots) {
                log.write(&ZERO_SLOT)?;
            }
            let have = held.len() as u64;
            chunks_held += have;
            if have < u64::from(slots) {
                chunks_missing += u64::from(slots) - have;
                let hptr = match held.last() {
                    Some(c) => c[CHUNK_DATA..].to_vec(),
                    None => stored.entry.payload()[28..].to_vec(),
                };
                front.pend_sc.insert(
                    u64::from(seq),
                    Pending {
                        cnr: have,
                        rem: u64::from(slots) - have,
                        hptr,
                        pos: pos + PKT_LEN as u64 * (1 + have),
                    },
                );
            }
        }
        log.write(&pos32.to_be_bytes())?;
        mids.write(&stored.mid.0)?;
        front.max_seq = u64::from(seq);
        front.prev = stored.mid.0.to_vec();
    }
    front.max_pos = log.len;
    front.cnk_cnt = Some(chunks_held);
    if front.max_pos > KOTLIN_SAFE_INT {
        warnings.push(format!(
            "feed {}: log.bin is {} bytes; the Android app reads 4-byte BIPF INTs whose \
             lowest byte is >= 0x80 as 256 too small (Bipf.kt), so it may misread max_pos or \
             pend_sc offsets of this feed",
            fid.to_hex(),
            front.max_pos
        ));
    }
    log.commit()?;
    mids.commit()?;
    let mut fnt = TmpFile::create(&dir, "frontier.bin")?;
    fnt.write(&front.encode(chunks_missing))?;
    fnt.commit()?;
    Ok(FeedExport {
        fid: *fid,
        entries: u32::try_from(front.max_seq).unwrap_or(u32::MAX),
        chunks: chunks_held,
        open_chains: front.pend_sc.len(),
        log_bytes: front.max_pos,
    })
}

/// A file written under a temporary name, synced and renamed into place by `commit`.
struct TmpFile {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<fs::File>,
    len: u64,
}

impl TmpFile {
    fn create(dir: &Path, name: &str) -> Result<TmpFile, ReferenceError> {
        let tmp = dir.join(format!("{name}.tmp"));
        let f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        Ok(TmpFile {
            path: dir.join(name),
            out: BufWriter::with_capacity(1 << 16, f),
            tmp,
            len: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        self.out.write_all(bytes).map_err(io_err(&self.tmp))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn commit(self) -> Result<(), ReferenceError> {
        let f = self
            .out
            .into_inner()
            .map_err(|e| io_err(&self.tmp)(e.into_error()))?;
        f.sync_all().map_err(io_err(&self.tmp))?;
        fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))
    }
}
