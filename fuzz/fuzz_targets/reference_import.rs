//! The store's import of the reference (Android / Python) on-disk layout: the fuzz input
//! becomes a feed directory (`log.bin`, `frontier.bin`, `mid.bin`) in a temp dir, which is
//! imported into an in-memory store. Import must never panic, and whatever it stores must be
//! exactly what the feed's author signed: the only valid chain for this key is the one the
//! target made itself, so every stored entry and chunk must equal it byte for byte.
//!
//! The first input byte chooses what the rest is: (0) the whole `log.bin`; (1) patches
//! (offset u16 BE, XOR byte) to a valid exported `log.bin`, then a cut at the end given by
//! the last two bytes; (2) `frontier.bin` and `mid.bin` (split at a u16 BE length) beside the
//! valid `log.bin`.
#![no_main]

use std::fs;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lichen::feed;
use lichen::store::reference::{export_reference, import_reference};
use lichen::store::{MemoryStore, Store};
use lichen::wire::entry::{first_prev, verify_run};
use lichen::wire::network::Network;
use lichen::Identity;

/// A feed as exported: its files and what it holds.
struct Valid {
    log: Vec<u8>,
    frontier: Vec<u8>,
    mid: Vec<u8>,
    /// Per seq (index 0 = seq 1): the packet and its chunks.
    entries: Vec<([u8; 120], Vec<[u8; 120]>)>,
}

fn me() -> Identity {
    Identity::from_seed(&[7; 32])
}

/// A feed of four entries (two with side chains) exported in the reference layout.
fn valid() -> &'static Valid {
    static VALID: OnceLock<Valid> = OnceLock::new();
    VALID.get_or_init(|| {
        let net = Network::deployed();
        let me = me();
        let store = MemoryStore::new_empty();
        let long: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for content in [&b"hello"[..], &long, b"", &long[..120]] {
            feed::append_own(&store, &net, &me, content).expect("authoring works");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        export_reference(&store, dir.path()).expect("export works");
        let feed_dir = dir.path().join("feeds").join(me.fid().to_hex());
        let read = |name: &str| fs::read(feed_dir.join(name)).unwrap_or_default();
        let mut entries = Vec::new();
        for seq in 1..=4 {
            let stored = store.entry(me.fid(), seq).expect("read").expect("present");
            let chunks = store.chunks(me.fid(), seq).expect("read");
            entries.push((*stored.entry.bytes(), chunks));
        }
        Valid {
            log: read("log.bin"),
            frontier: read("frontier.bin"),
            mid: read("mid.bin"),
            entries,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let valid = valid();
    let (log, frontier, mid) = match mode % 3 {
        0 => (rest.to_vec(), None, None),
        1 => {
            let mut log = valid.log.clone();
            let (patches, cut) = rest.split_at(rest.len() - rest.len() % 3);
            for p in patches.chunks_exact(3) {
                let at = usize::from(u16::from_be_bytes([p[0], p[1]])) % log.len();
                log[at] ^= p[2];
            }
            if let [a, b] = cut {
                log.truncate(log.len().saturating_sub(usize::from(u16::from_be_bytes([*a, *b])) % 512));
            }
            (log, Some(valid.frontier.clone()), Some(valid.mid.clone()))
        }
        _ => {
            let (len, body) = rest.split_at(rest.len().min(2));
            let n = match len {
                [a, b] => usize::from(u16::from_be_bytes([*a, *b])).min(body.len()),
                _ => 0,
            };
            let (frontier, mid) = body.split_at(n);
            (valid.log.clone(), Some(frontier.to_vec()), Some(mid.to_vec()))
        }
    };
    let me = me();
    let net = Network::deployed();
    let dir = tempfile::tempdir().expect("temp dir");
    let feed_dir = dir.path().join("feeds").join(me.fid().to_hex());
    fs::create_dir_all(&feed_dir).expect("feed dir");
    fs::write(feed_dir.join("log.bin"), &log).expect("write");
    if let Some(f) = frontier {
        fs::write(feed_dir.join("frontier.bin"), f).expect("write");
    }
    if let Some(m) = mid {
        fs::write(feed_dir.join("mid.bin"), m).expect("write");
    }
    let store = MemoryStore::new_empty();
    // Problems are reported, never panics; a store error would be a bug in the memory store.
    import_reference(&store, &net, dir.path()).expect("an import into memory runs");
    let Some(front) = store.frontier(me.fid()).expect("read") else {
        return;
    };
    assert!(front.seq as usize <= valid.entries.len(), "more entries than were signed");
    let mut pkts = Vec::new();
    for seq in 1..=front.seq {
        let stored = store.entry(me.fid(), seq).expect("read").expect("below the frontier");
        let (pkt, chunks) = &valid.entries[seq as usize - 1];
        assert_eq!(stored.entry.bytes(), pkt, "entry {seq} is not what was signed");
        let got = store.chunks(me.fid(), seq).expect("read");
        assert!(got.len() <= chunks.len(), "more chunks than entry {seq} has");
        assert_eq!(&got[..], &chunks[..got.len()], "chunks of entry {seq} differ");
        pkts.push(*pkt);
    }
    let key = me.fid().key().expect("own key");
    let refs: Vec<&[u8]> = pkts.iter().map(|p| &p[..]).collect();
    let (ok, err) = verify_run(&net, &key, 1, first_prev(me.fid()), &refs);
    assert!(err.is_none() && ok.len() == refs.len(), "a stored entry does not verify");
});
