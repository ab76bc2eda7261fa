//! One conformance suite, run against every backend.

use super::{MemoryStore, SledStore, Store, StoreError};
use crate::identity::Identity;
use crate::wire::entry::{self, first_prev, Signed};
use crate::wire::network::Network;
use crate::wire::Mid;

/// `n` signed entries of one author, some with side chains.
fn feed(seed: u8, n: u32) -> (Identity, Vec<Signed>) {
    let net = Network::deployed();
    let me = Identity::from_seed(&[seed; 32]);
    let mut prev = first_prev(me.fid());
    let mut out = Vec::new();
    for seq in 1..=n {
        let content = vec![seq as u8; (seq as usize * 37) % 400];
        let s = entry::sign_chain20(&net, &me, seq, &prev, &content).unwrap();
        prev = s.mid;
        out.push(s);
    }
    (me, out)
}

fn suite(store: &dyn Store) {
    let (a, fa) = feed(1, 6);
    let (b, fb) = feed(2, 2);
    assert!(store.feeds().unwrap().is_empty());
    assert!(store.frontier(a.fid()).unwrap().is_none());

    // Entries must continue the feed.
    assert!(matches!(
        store.append(a.fid(), 2, &fa[1].entry, &fa[1].mid),
        Err(StoreError::NotNext {
            seq: 2,
            frontier: 0,
            ..
        })
    ));
    for (i, s) in fa.iter().enumerate() {
        store
            .append(a.fid(), i as u32 + 1, &s.entry, &s.mid)
            .unwrap();
    }
    assert!(matches!(
        store.append(a.fid(), 3, &fa[2].entry, &fa[2].mid),
        Err(StoreError::NotNext {
            seq: 3,
            frontier: 6,
            ..
        })
    ));
    store.append(b.fid(), 1, &fb[0].entry, &fb[0].mid).unwrap();

    let front = store.frontier(a.fid()).unwrap().unwrap();
    assert_eq!((front.seq, front.mid), (6, fa[5].mid));
    let got = store.entry(a.fid(), 4).unwrap().unwrap();
    assert_eq!((got.entry, got.mid), (fa[3].entry.clone(), fa[3].mid));
    assert!(store.entry(a.fid(), 7).unwrap().is_none());
    assert_eq!(store.locate(&fa[2].mid).unwrap(), Some((*a.fid(), 3)));
    assert_eq!(store.locate(&Mid([9; 20])).unwrap(), None);

    // Chunks go in order, only for held entries.
    let with_chunks = fa.iter().position(|s| s.chunks.len() >= 2).unwrap();
    let seq = with_chunks as u32 + 1;
    let chunks = &fa[with_chunks].chunks;
    let open = store.open_chains(a.fid()).unwrap();
    let expect_open: Vec<u32> = fa
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.chunks.is_empty())
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert_eq!(open, expect_open);
    assert!(matches!(
        store.put_chunk(a.fid(), seq, 1, &chunks[1]),
        Err(StoreError::ChunkOutOfOrder {
            cnr: 1,
            next: 0,
            ..
        })
    ));
    assert!(store.put_chunk(b.fid(), 2, 0, &chunks[0]).is_err());
    for (cnr, c) in chunks.iter().enumerate() {
        store.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
    }
    assert_eq!(&store.chunks(a.fid(), seq).unwrap(), chunks);
    assert!(
        !store.open_chains(a.fid()).unwrap().contains(&seq),
        "complete chain closed"
    );
    assert_eq!(
        store.open_chains(a.fid()).unwrap().len(),
        expect_open.len() - 1
    );

    // GOset membership and metadata.
    assert!(store.members().unwrap().is_empty());
    assert!(store.add_member(b.fid()).unwrap());
    assert!(store.add_member(a.fid()).unwrap());
    assert!(!store.add_member(a.fid()).unwrap());
    assert_eq!(store.members().unwrap(), {
        let mut m = vec![*a.fid(), *b.fid()];
        m.sort();
        m
    });
    store.set_meta(a.fid(), "alias", b"ann").unwrap();
    assert_eq!(
        store.meta(a.fid(), "alias").unwrap().as_deref(),
        Some(&b"ann"[..])
    );
    assert_eq!(store.meta(b.fid(), "alias").unwrap(), None);
    store.set_meta(a.fid(), "alias", b"").unwrap();
    assert_eq!(store.meta(a.fid(), "alias").unwrap(), None);
    assert!(store.chunks(a.fid(), seq + 1).unwrap().is_empty());

    let mut expect = vec![*a.fid(), *b.fid()];
    expect.sort();
    let feeds: Vec<_> = store.feeds().unwrap().into_iter().map(|(f, _)| f).collect();
    assert_eq!(feeds, expect);
    store.flush().unwrap();
}

#[test]
fn memory_backend_conforms() {
    suite(&MemoryStore::new_empty());
}

#[test]
fn sled_backend_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let (a, fa) = feed(1, 6);
    {
        let store = SledStore::open(dir.path()).unwrap();
        suite(&store);
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.frontier(a.fid()).unwrap().unwrap().mid, fa[5].mid);
    assert_eq!(store.feeds().unwrap().len(), 2);
}

#[test]
fn sled_refuses_an_unknown_format_version() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert(super::keys::VERSION, &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        SledStore::open(dir.path()),
        Err(StoreError::Version {
            found: 99,
            expected: 1
        })
    ));
}
