//! Export and import in the Android/Python on-disk layout: round trips, a hand-built
//! reference directory from the entry vectors, and damaged directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use common::{arr, hx, load};
use lichen::store::reference::{
    export_reference, import_reference, FeedImport, ImportReport, ReferenceError,
};
use lichen::store::{MemoryStore, SledStore, Store};
use lichen::wire::bipf::Value;
use lichen::wire::entry::{self, first_prev};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};

/// One vector entry: packet, message id, chunks.
#[derive(Clone)]
struct Vec1 {
    pkt: Vec<u8>,
    mid: Vec<u8>,
    chunks: Vec<Vec<u8>>,
}

fn vector_feeds() -> Vec<(FeedId, Vec<Vec1>)> {
    load("tinyssb-entries.json")["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let fid = FeedId(arr(&f["fid"]));
            let entries = f["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| Vec1 {
                    pkt: hx(&e["pkt"]),
                    mid: hx(&e["mid"]),
                    chunks: e["chunks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| hx(&c["pkt"]))
                        .collect(),
                })
                .collect();
            (fid, entries)
        })
        .collect()
}

/// Chunk slots the reference reserves: ceil((L − (28 − v)) / 100) from the length varint.
fn slots(pkt: &[u8]) -> usize {
    if pkt[7] != 1 {
        return 0;
    }
    let (mut len, mut v) = (0usize, 0usize);
    loop {
        let b = pkt[8 + v];
        len |= ((b & 0x7f) as usize) << (7 * v);
        v += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    (len.saturating_sub(28 - v)).div_ceil(100)
}

/// Writes a feed directory the way `replica.py` / `Replica.kt` do, by hand: `held[i]` chunks
/// of entry i are present (the rest are zero slots). Returns the log's byte offsets.
fn write_feed(
    dir: &Path,
    fid: &FeedId,
    entries: &[Vec1],
    held: &[usize],
    max_seq: usize,
) -> Vec<usize> {
    let d = dir.join("feeds").join(fid.to_hex());
    fs::create_dir_all(&d).unwrap();
    let (mut log, mut mids, mut starts) = (Vec::new(), Vec::new(), Vec::new());
    let mut pend = Vec::new();
    let mut max_pos = 0;
    for (i, e) in entries.iter().enumerate() {
        let pos = log.len();
        starts.push(pos);
        log.extend_from_slice(&e.pkt);
        let n = slots(&e.pkt);
        assert_eq!(n, e.chunks.len());
        for k in 0..n {
            if k < held[i] {
                log.extend_from_slice(&e.chunks[k]);
            } else {
                log.extend_from_slice(&[0; 120]);
            }
        }
        log.extend_from_slice(&(pos as u32).to_be_bytes());
        mids.extend_from_slice(&e.mid);
        if i < max_seq {
            max_pos = log.len();
            if held[i] < n {
                let hptr = if held[i] == 0 {
                    e.pkt[36..56].to_vec()
                } else {
                    e.chunks[held[i] - 1][100..].to_vec()
                };
                pend.push((
                    Value::Int(i as i64 + 1),
                    Value::List(vec![
                        Value::Int(held[i] as i64),
                        Value::Int((n - held[i]) as i64),
                        Value::Bytes(hptr),
                        Value::Int((pos + 120 * (1 + held[i])) as i64),
                    ]),
                ));
            }
        }
    }
    let prev = if max_seq == 0 {
        first_prev(fid).0.to_vec()
    } else {
        entries[max_seq - 1].mid.clone()
    };
    // Python's key order: pend_sc first (the state dict starts with it).
    let frontier = Value::Dict(vec![
        (Value::str("pend_sc"), Value::Dict(pend)),
        (Value::str("max_seq"), Value::Int(max_seq as i64)),
        (Value::str("max_pos"), Value::Int(max_pos as i64)),
        (Value::str("prev"), Value::Bytes(prev)),
    ]);
    fs::write(d.join("log.bin"), &log).unwrap();
    fs::write(d.join("mid.bin"), &mids).unwrap();
    fs::write(d.join("frontier.bin"), frontier.encode()).unwrap();
    starts
}

fn all_held(entries: &[Vec1]) -> Vec<usize> {
    entries.iter().map(|e| e.chunks.len()).collect()
}

fn feed_report<'a>(r: &'a ImportReport, fid: &FeedId) -> &'a FeedImport {
    r.feeds.iter().find(|f| f.fid == *fid).unwrap()
}

/// The store holds exactly `entries[..n]` of `fid`, with `held[i]` chunks each.
fn assert_holds(store: &dyn Store, fid: &FeedId, entries: &[Vec1], n: usize, held: &[usize]) {
    let front = store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    assert_eq!(front as usize, n, "frontier of {fid}");
    for (i, e) in entries.iter().take(n).enumerate() {
        let seq = i as u32 + 1;
        let got = store.entry(fid, seq).unwrap().unwrap();
        assert_eq!(
            got.entry.bytes().as_slice(),
            e.pkt.as_slice(),
            "entry {seq}"
        );
        assert_eq!(got.mid.0.as_slice(), e.mid.as_slice(), "mid {seq}");
        let chunks: Vec<Vec<u8>> = store
            .chunks(fid, seq)
            .unwrap()
            .iter()
            .map(|c| c.to_vec())
            .collect();
        assert_eq!(chunks, e.chunks[..held[i]].to_vec(), "chunks of {seq}");
    }
}

#[test]
fn a_hand_built_reference_directory_imports_to_exactly_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = vector_feeds();
    for (fid, entries) in &feeds {
        write_feed(dir.path(), fid, entries, &all_held(entries), entries.len());
    }
    fs::write(dir.path().join("feeds/version"), "3fpf-0.0.1").unwrap();
    let store = MemoryStore::new_empty();
    let report = import_reference(&store, &Network::deployed(), dir.path()).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for (fid, entries) in &feeds {
        let f = feed_report(&report, fid);
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(f.new_entries as usize, entries.len());
        assert!(f.new_member);
        assert_eq!(f.open_chains, 0);
        assert_holds(&store, fid, entries, entries.len(), &all_held(entries));
    }
    let chunks: usize = feeds
        .iter()
        .flat_map(|(_, e)| e)
        .map(|e| e.chunks.len())
        .sum();
    assert_eq!(report.new_chunks() as usize, chunks);
    assert_eq!(store.members().unwrap().len(), 2);

    // Importing again adds nothing.
    let again = import_reference(&store, &Network::deployed(), dir.path()).unwrap();
    assert_eq!((again.new_entries(), again.new_chunks()), (0, 0));
    assert!(!feed_report(&again, &feeds[0].0).new_member);
}

#[test]
fn partial_side_chains_import_as_open_chains_and_later_complete() {
    let dir = tempfile::tempdir().unwrap();
    let (fid, entries) = vector_feeds().remove(0);
    let mut held = all_held(&entries);
    held[5] = 4; // entry 6: 4 of 10 chunks received
    held[1] = 0; // entry 2: none of 3
    write_feed(dir.path(), &fid, &entries, &held, entries.len());
    let store = MemoryStore::new_empty();
    let report = import_reference(&store, &Network::deployed(), dir.path()).unwrap();
    let f = feed_report(&report, &fid);
    assert!(
        f.problems.is_empty(),
        "zero slots the frontier expects are no problem: {:?}",
        f.problems
    );
    assert_eq!(store.open_chains(&fid).unwrap(), vec![2, 6]);
    assert_holds(&store, &fid, &entries, entries.len(), &held);

    // A later, fuller copy fills the chains in.
    let fuller = tempfile::tempdir().unwrap();
    write_feed(
        fuller.path(),
        &fid,
        &entries,
        &all_held(&entries),
        entries.len(),
    );
    let r = import_reference(&store, &Network::deployed(), fuller.path()).unwrap();
    assert_eq!(feed_report(&r, &fid).new_chunks, 3 + 6);
    assert!(store.open_chains(&fid).unwrap().is_empty());
}

#[test]
fn store_export_import_round_trip_is_identical() {
    let net = Network::deployed();
    let src_dir = tempfile::tempdir().unwrap();
    let src = SledStore::open(src_dir.path()).unwrap();
    let mut expect_open = Vec::new();
    for author in 0..4u8 {
        let me = Identity::from_seed(&[author + 40; 32]);
        let mut prev = first_prev(me.fid());
        for seq in 1..=30u32 {
            let len = (seq as usize * 53 + author as usize * 17) % 700;
            let content: Vec<u8> = (0..len).map(|i| (i as u8) ^ author).collect();
            let s = entry::sign_chain20(&net, &me, seq, &prev, &content).unwrap();
            src.append(me.fid(), seq, &s.entry, &s.mid).unwrap();
            // Hold every chain in full except every fourth, which gets half.
            let keep = if seq % 4 == 0 {
                s.chunks.len() / 2
            } else {
                s.chunks.len()
            };
            for (cnr, c) in s.chunks.iter().take(keep).enumerate() {
                src.put_chunk(me.fid(), seq, cnr as u32, c).unwrap();
            }
            if keep < s.chunks.len() {
                expect_open.push((*me.fid(), seq));
            }
            prev = s.mid;
        }
        src.add_member(me.fid()).unwrap();
    }
    let lurker = Identity::from_seed(&[99; 32]);
    src.add_member(lurker.fid()).unwrap();
    src.flush().unwrap();

    let out = tempfile::tempdir().unwrap();
    let exported = export_reference(&src, out.path()).unwrap();
    assert_eq!(exported.feeds.len(), 5);
    assert_eq!(
        fs::read_to_string(out.path().join("feeds/version")).unwrap(),
        "3fpf-0.0.1"
    );
    let lurker_dir = out.path().join("feeds").join(lurker.fid().to_hex());
    assert_eq!(fs::read(lurker_dir.join("log.bin")).unwrap().len(), 0);
    assert!(exported.warnings.is_empty());
    assert_eq!(
        exported.feeds.iter().map(|f| f.open_chains).sum::<usize>(),
        expect_open.len()
    );

    let dst = MemoryStore::new_empty();
    let report = import_reference(&dst, &net, out.path()).unwrap();
    assert_eq!(report.problems(), 0, "{report:?}");
    assert_eq!(dst.feeds().unwrap(), src.feeds().unwrap());
    assert_eq!(dst.members().unwrap(), src.members().unwrap());
    for (fid, front) in src.feeds().unwrap() {
        assert_eq!(
            dst.open_chains(&fid).unwrap(),
            src.open_chains(&fid).unwrap()
        );
        for seq in 1..=front.seq {
            assert_eq!(dst.entry(&fid, seq).unwrap(), src.entry(&fid, seq).unwrap());
            assert_eq!(
                dst.chunks(&fid, seq).unwrap(),
                src.chunks(&fid, seq).unwrap()
            );
        }
    }

    // Exporting the imported store gives byte-identical files.
    let again = tempfile::tempdir().unwrap();
    export_reference(&dst, again.path()).unwrap();
    for f in &exported.feeds {
        for name in ["log.bin", "mid.bin", "frontier.bin"] {
            let p = |root: &Path| root.join("feeds").join(f.fid.to_hex()).join(name);
            assert_eq!(
                fs::read(p(out.path())).unwrap(),
                fs::read(p(again.path())).unwrap()
            );
        }
    }
    assert!(matches!(
        export_reference(&dst, again.path()),
        Err(ReferenceError::NotEmpty(_))
    ));
}

/// feed1 and feed2 of the vectors written out, `damage` applied, imported.
fn import_damaged(
    damage: impl FnOnce(&Path, &FeedId, &[usize]),
    max_seq1: usize,
) -> (MemoryStore, ImportReport, Vec<(FeedId, Vec<Vec1>)>) {
    let dir = tempfile::tempdir().unwrap();
    let feeds = vector_feeds();
    let starts = write_feed(
        dir.path(),
        &feeds[0].0,
        &feeds[0].1,
        &all_held(&feeds[0].1),
        max_seq1,
    );
    write_feed(
        dir.path(),
        &feeds[1].0,
        &feeds[1].1,
        &all_held(&feeds[1].1),
        feeds[1].1.len(),
    );
    let log1 = dir.path().join("feeds").join(feeds[0].0.to_hex());
    damage(&log1, &feeds[0].0, &starts);
    let store = MemoryStore::new_empty();
    let report = import_reference(&store, &Network::deployed(), dir.path()).unwrap();
    // The undamaged feed always comes through whole.
    assert_holds(&store, &feeds[1].0, &feeds[1].1, 2, &all_held(&feeds[1].1));
    assert!(feed_report(&report, &feeds[1].0).problems.is_empty());
    (store, report, feeds)
}

fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut b = fs::read(path).unwrap();
    b[at..at + bytes.len()].copy_from_slice(bytes);
    fs::write(path, b).unwrap();
}

#[test]
fn a_bad_signature_keeps_the_entries_before_it() {
    let (store, report, feeds) = import_damaged(
        |d, _, starts| patch(&d.join("log.bin"), starts[4] + 100, &[0xff]),
        9,
    );
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 4, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems.iter().any(|p| p.contains("entry 5")
            && p.contains("signature")
            && p.contains("4 entries after")),
        "{problems:?}"
    );
}

#[test]
fn a_bad_chunk_keeps_the_chunks_before_it_and_the_later_entries() {
    let (store, report, feeds) = import_damaged(
        |d, _, starts| patch(&d.join("log.bin"), starts[5] + 120 * 2 + 7, &[0x55]),
        9,
    );
    let (fid, entries) = &feeds[0];
    let mut held = all_held(entries);
    held[5] = 1;
    assert_holds(&store, fid, entries, 9, &held);
    assert_eq!(store.open_chains(fid).unwrap(), vec![6]);
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems.iter().any(|p| p.contains("entry 6 chunk 1")),
        "{problems:?}"
    );
}

#[test]
fn trailing_garbage_is_reported_and_skipped() {
    let (store, report, feeds) = import_damaged(
        |d, _, _| {
            let p = d.join("log.bin");
            let mut b = fs::read(&p).unwrap();
            b.extend_from_slice(&[0x5a; 300]);
            fs::write(&p, b).unwrap();
        },
        9,
    );
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 9, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems.iter().any(|p| p.contains("300 bytes")),
        "{problems:?}"
    );
}

#[test]
fn a_torn_last_entry_is_cut() {
    let (store, report, feeds) = import_damaged(
        |d, _, starts| {
            let p = d.join("log.bin");
            let b = fs::read(&p).unwrap();
            fs::write(&p, &b[..starts[8] + 60]).unwrap();
        },
        8,
    );
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 8, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems.iter().any(|p| p.contains("60 trailing bytes")),
        "{problems:?}"
    );
}

#[test]
fn a_log_longer_than_max_pos_is_read_as_far_as_it_verifies() {
    // Android appends the entry, then persists the frontier: a crash in between.
    let (store, report, feeds) = import_damaged(|_, _, _| {}, 6);
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 9, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("3 entries past max_seq 6")),
        "{problems:?}"
    );
}

#[test]
fn a_broken_frontier_or_mid_file_does_not_stop_the_import() {
    let (store, report, feeds) = import_damaged(
        |d, _, _| {
            fs::write(d.join("frontier.bin"), b"\xff\xff\xff").unwrap();
            patch(&d.join("mid.bin"), 45, &[0]);
        },
        9,
    );
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 9, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems.iter().any(|p| p.starts_with("frontier.bin")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("mid.bin disagrees with 1")),
        "{problems:?}"
    );
}

#[test]
fn a_wrong_trailing_offset_stops_the_feed_there() {
    let (store, report, feeds) = import_damaged(
        |d, _, starts| {
            let at = starts[3] + 120; // entry 4 has no chunks: its offset follows the packet
            patch(&d.join("log.bin"), at, &7u32.to_be_bytes());
        },
        9,
    );
    let (fid, entries) = &feeds[0];
    assert_holds(&store, fid, entries, 3, &all_held(entries));
    let problems = &feed_report(&report, fid).problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("entry 4") && p.contains("ends with offset 7")),
        "{problems:?}"
    );
}

#[test]
fn strays_are_skipped_and_an_empty_directory_is_an_error() {
    let (_, report, _) = import_damaged(
        |d, _, _| {
            let feeds = d.parent().unwrap();
            fs::create_dir(feeds.join("not-a-feed")).unwrap();
            fs::write(feeds.join("notes.txt"), "x").unwrap();
            let old = feeds.join(Identity::from_seed(&[77; 32]).fid().to_hex());
            fs::create_dir(&old).unwrap();
            fs::write(old.join("log"), [0u8; 120]).unwrap();
        },
        9,
    );
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped);
    assert!(
        report
            .skipped
            .iter()
            .any(|(_, why)| why.contains("old Android layout")),
        "{:?}",
        report.skipped
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        import_reference(
            &MemoryStore::new_empty(),
            &Network::deployed(),
            empty.path()
        ),
        Err(ReferenceError::NoFeeds(_))
    ));
}

#[test]
fn a_feed_that_forks_what_the_store_holds_is_refused() {
    let net = Network::deployed();
    let d = load("tinyssb-entries.json");
    let me = Identity::from_seed(&arr(&d["identities"][0]["ed25519_seed"]));
    let store = MemoryStore::new_empty();
    let other =
        entry::sign_chain20(&net, &me, 1, &first_prev(me.fid()), b"another first post").unwrap();
    store.append(me.fid(), 1, &other.entry, &other.mid).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (fid, entries) = vector_feeds().remove(0);
    assert_eq!(&fid, me.fid());
    write_feed(
        dir.path(),
        &fid,
        &entries,
        &all_held(&entries),
        entries.len(),
    );
    let report = import_reference(&store, &net, dir.path()).unwrap();
    let f = feed_report(&report, &fid);
    assert_eq!(f.new_entries, 0);
    assert!(
        f.problems.iter().any(|p| p.contains("differs")),
        "{:?}",
        f.problems
    );
    assert_eq!(store.entry(&fid, 1).unwrap().unwrap().mid, other.mid);
    assert!(store.entry(&fid, 2).unwrap().is_none());
}
