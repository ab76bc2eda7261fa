//! Reference layout → store, verifying everything.
//!
//! Per feed: frame `log.bin` forward (packet, the slots its length varint implies, and a
//! trailing offset that must point back at the packet), verify the framed entries in batches
//! from seq 1, check that what the store already holds is the same chain, append the new
//! entries, then walk every side chain through its slots with the hash chain and store the
//! chunks that verify. `frontier.bin` and `mid.bin` are compared with what was found, never
//! trusted.

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    io_err, slots_for, FeedImport, ImportReport, RefFrontier, ReferenceError, ANDROID_VERSION,
    FEEDS_DIR,
};
use crate::identity::FeedId;
use crate::store::Store;
use crate::wire::entry::{first_prev, verify_run, Entry};
use crate::wire::network::Network;
use crate::wire::sidechain::{Chain20, Reassembly};
use crate::wire::{Mid, HASH_LEN, PKT_LEN};

/// Entries verified per batch.
const RUN: usize = 256;
/// Entries appended per store batch.
const APPEND: usize = 1024;

/// Imports every feed directory under `dir/feeds/` (or under `dir` itself if it has no
/// `feeds/`), checking every entry and chunk, then syncs the store. Problems with single
/// feeds or entries are reported, not fatal; only store failures and an unreadable or
/// feedless `dir` are errors.
pub fn import_reference(
    store: &dyn Store,
    net: &Network,
    dir: &Path,
) -> Result<ImportReport, ReferenceError> {
    let feeds_dir = if dir.join(FEEDS_DIR).is_dir() {
        dir.join(FEEDS_DIR)
    } else {
        dir.to_path_buf()
    };
    let mut report = ImportReport {
        dir: feeds_dir.clone(),
        ..ImportReport::default()
    };
    let mut feeds: Vec<(FeedId, PathBuf)> = Vec::new();
    for item in fs::read_dir(&feeds_dir).map_err(io_err(&feeds_dir))? {
        let item = item.map_err(io_err(&feeds_dir))?;
        let path = item.path();
        let name = item.file_name().to_string_lossy().into_owned();
        if name == "version" && path.is_file() {
            let v = fs::read_to_string(&path).unwrap_or_default();
            if v.trim() != ANDROID_VERSION {
                report.skipped.push((
                    path,
                    format!(
                        "layout version {:?}, expected {ANDROID_VERSION:?}; read anyway",
                        v.trim()
                    ),
                ));
            }
            continue;
        }
        match (path.is_dir(), name.parse::<FeedId>()) {
            (true, Ok(fid)) if name.len() == 64 => feeds.push((fid, path)),
            _ => report
                .skipped
                .push((path, "not a feed directory (64 hex digits)".into())),
        }
    }
    if feeds.is_empty() {
        return Err(ReferenceError::NoFeeds(dir.to_path_buf()));
    }
    feeds.sort();
    for (fid, path) in feeds {
        match import_feed(store, net, &fid, &path) {
            Ok(f) => report.feeds.push(f),
            Err(ReferenceError::Store(e)) => return Err(ReferenceError::Store(e)),
            Err(e) => report.skipped.push((path, e.to_string())),
        }
    }
    store.sync()?;
    Ok(report)
}

/// Reads a file that may be missing.
fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, ReferenceError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// An entry found in `log.bin`.
struct Framed {
    pos: usize,
    slots: u32,
}

/// Splits `log.bin` into entries; reports where and why it stops early.
fn frame(log: &[u8], problems: &mut Vec<String>) -> Vec<Framed> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < log.len() {
        let seq = out.len() + 1;
        let rest = log.len() - pos;
        let Some(pkt) = log.get(pos..pos + PKT_LEN) else {
            problems.push(format!(
                "log.bin: {rest} trailing bytes at offset {pos} are not a whole entry; ignored"
            ));
            break;
        };
        let slots = Entry::from_bytes(pkt).map_or(0, |e| slots_for(&e));
        let len = (1 + slots as usize)
            .checked_mul(PKT_LEN)
            .and_then(|n| n.checked_add(4));
        let Some(trailer) = len.and_then(|n| log.get(pos + n - 4..pos + n)) else {
            problems.push(format!(
                "log.bin: entry {seq} at offset {pos} needs {slots} chunk slots and an offset, \
                 more than the {rest} bytes left; ignored from there"
            ));
            break;
        };
        let back = u32::from_be_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        if back as usize != pos {
            problems.push(format!(
                "log.bin: entry {seq} at offset {pos} ends with offset {back}, not {pos} \
                 (garbage or another layout); {rest} bytes ignored from there"
            ));
            break;
        }
        out.push(Framed { pos, slots });
        pos += len.unwrap_or(rest);
    }
    out
}

fn import_feed(
    store: &dyn Store,
    net: &Network,
    fid: &FeedId,
    dir: &Path,
) -> Result<FeedImport, ReferenceError> {
    let mut problems = Vec::new();
    let key = fid.key().map_err(|e| ReferenceError::Feed {
        path: dir.to_path_buf(),
        why: format!("the directory name is not a feed: {e}"),
    })?;
    let log = match read_opt(&dir.join("log.bin"))? {
        Some(l) => l,
        None if dir.join("log").is_file() => {
            return Err(ReferenceError::Feed {
                path: dir.to_path_buf(),
                why: "old Android layout (log, mid, -<seq>); open it once in the app to upgrade"
                    .into(),
            })
        }
        None => Vec::new(),
    };
    let frontier = match read_opt(&dir.join("frontier.bin"))? {
        None if log.is_empty() => None,
        None => {
            problems.push("no frontier.bin; log.bin read on its own".into());
            None
        }
        Some(b) => match RefFrontier::decode(&b) {
            Ok(f) => Some(f),
            Err(e) => {
                problems.push(format!("frontier.bin: {e}; ignored"));
                None
            }
        },
    };
    let mid_bin = read_opt(&dir.join("mid.bin"))?;

    // Frame, then verify from seq 1.
    let framed = frame(&log, &mut problems);
    let mut verified: Vec<(Entry, Mid)> = Vec::with_capacity(framed.len());
    let mut prev = first_prev(fid);
    for run in framed.chunks(RUN) {
        let pkts: Vec<&[u8]> = run.iter().map(|f| &log[f.pos..f.pos + PKT_LEN]).collect();
        let first = verified.len() + 1;
        let (good, err) = verify_run(net, &key, first as u32, prev, &pkts);
        if let Some((_, mid)) = good.last() {
            prev = *mid;
        }
        let n = good.len();
        verified.extend(good);
        if let Some(e) = err {
            let seq = verified.len() + 1;
            let pos = framed.get(seq - 1).map_or(0, |f| f.pos);
            problems.push(format!(
                "entry {seq} (offset {pos}) does not verify: {e}; it and the {} entries after \
                 it are skipped",
                framed.len() - seq
            ));
            break;
        }
        if n < run.len() {
            break;
        }
    }
    let found = verified.len() as u64;
    cross_check(&frontier, &framed, &verified, found, fid, &mut problems);
    if let Some(mids) = &mid_bin {
        let differ = verified
            .iter()
            .enumerate()
            .filter(|(i, (_, mid))| {
                mids.get(i * HASH_LEN..(i + 1) * HASH_LEN)
                    .is_some_and(|m| m != mid.0)
            })
            .count();
        if differ > 0 {
            problems.push(format!(
                "mid.bin disagrees with {differ} verified entries; ignored"
            ));
        }
    }

    // What the store holds must be the same chain.
    let held = store.frontier(fid)?.map_or(0, |f| f.seq);
    let overlap = held.min(verified.len() as u32);
    if overlap > 0 {
        let ours = store.entry(fid, overlap)?.map(|s| s.mid);
        let theirs = verified.get(overlap as usize - 1).map(|(_, m)| *m);
        if ours != theirs {
            problems.push(format!(
                "entry {overlap} differs from the one already held (a fork, or another \
                 network key); nothing of this feed imported"
            ));
            return Ok(FeedImport {
                fid: *fid,
                verified: verified.len() as u32,
                new_entries: 0,
                new_chunks: 0,
                open_chains: store.open_chains(fid)?.len(),
                new_member: store.add_member(fid)?,
                problems,
            });
        }
    }
    let fresh: Vec<(FeedId, u32, Entry, Mid)> = verified
        .iter()
        .enumerate()
        .skip(held as usize)
        .map(|(i, (e, m))| (*fid, i as u32 + 1, e.clone(), *m))
        .collect();
    let mut new_entries = 0u32;
    for batch in fresh.chunks(APPEND) {
        let n = store.append_batch(batch)?;
        new_entries += n as u32;
        if n < batch.len() {
            problems.push("the store's frontier moved during the import; stopped".into());
            break;
        }
    }

    // Side chains, for every entry the store now holds.
    let mut new_chunks = 0u64;
    let now_held = store.frontier(fid)?.map_or(0, |f| f.seq);
    for (i, (f, (entry, _))) in framed.iter().zip(&verified).enumerate() {
        let seq = i as u32 + 1;
        if f.slots == 0 || seq > now_held {
            continue;
        }
        let have = store.chunks(fid, seq)?.len() as u32;
        let header = match Chain20::parse(entry.payload()) {
            Ok(h) => h,
            Err(e) => {
                problems.push(format!("entry {seq}: {e}; its chunk slots are ignored"));
                continue;
            }
        };
        if u64::from(have) >= header.chunk_count() {
            continue;
        }
        let mut chain = Reassembly::new(&header);
        for cnr in 0..f.slots {
            let at = f.pos + PKT_LEN * (1 + cnr as usize);
            let Some(slot) = log.get(at..at + PKT_LEN) else {
                break;
            };
            if let Err(e) = chain.push(slot) {
                let expected = frontier.as_ref().map(|fr| {
                    fr.pend_sc
                        .get(&u64::from(seq))
                        .map_or(u64::from(f.slots), |p| p.cnr)
                });
                let received = expected.is_some_and(|x| u64::from(cnr) < x);
                if slot != [0u8; PKT_LEN] || received {
                    problems.push(format!(
                        "entry {seq} chunk {cnr}: {e}; it and the chunks after it are skipped"
                    ));
                }
                break;
            }
            if cnr >= have {
                let chunk: &[u8; PKT_LEN] = slot
                    .try_into()
                    .map_err(|_| crate::store::StoreError::Corrupt("chunk slot".into()))?;
                store.put_chunk(fid, seq, cnr, chunk)?;
                new_chunks += 1;
            }
        }
    }
    Ok(FeedImport {
        fid: *fid,
        verified: verified.len() as u32,
        new_entries,
        new_chunks,
        open_chains: store.open_chains(fid)?.len(),
        new_member: store.add_member(fid)?,
        problems,
    })
}

/// Compares `frontier.bin` with what `log.bin` turned out to hold.
fn cross_check(
    frontier: &Option<RefFrontier>,
    framed: &[Framed],
    verified: &[(Entry, Mid)],
    found: u64,
    fid: &FeedId,
    problems: &mut Vec<String>,
) {
    let Some(f) = frontier else { return };
    if found > f.max_seq {
        problems.push(format!(
            "log.bin holds {} entries past max_seq {} (appended before a crash, frontier not \
             updated); they verified and are imported",
            found - f.max_seq,
            f.max_seq
        ));
    } else if found < f.max_seq && framed.len() as u64 == found {
        problems.push(format!(
            "frontier.bin says {} entries, log.bin holds {found}",
            f.max_seq
        ));
    }
    if found >= f.max_seq {
        let at = usize::try_from(f.max_seq).unwrap_or(usize::MAX);
        let prev = match at.checked_sub(1).and_then(|i| verified.get(i)) {
            Some((_, mid)) => mid.0.to_vec(),
            None => first_prev(fid).0.to_vec(),
        };
        if f.prev != prev {
            problems.push(format!(
                "frontier.bin: prev is not the message id of entry {}",
                f.max_seq
            ));
        }
        let end = match framed.get(at) {
            Some(next) => next.pos as u64,
            None => framed
                .last()
                .map_or(0, |l| (l.pos + PKT_LEN * (1 + l.slots as usize) + 4) as u64),
        };
        if f.max_pos != end {
            problems.push(format!(
                "frontier.bin: max_pos {} is not {end}, the end of entry {}",
                f.max_pos, f.max_seq
            ));
        }
    }
}
