//! One conformance suite, run against every backend, and the recovery rules, run against
//! both backends with a simulated crash ([`KvStore::abandon`]) and damaged logs.

use super::kv::{Kv, LogId};
use super::{
    records, KvStore, MemoryKv, MemoryStore, SledKv, SledStore, Store, StoreError, FORMAT_VERSION,
};
use crate::identity::{FeedId, Identity};
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

fn append_all(store: &dyn Store, fid: &FeedId, entries: &[Signed], first_seq: u32) {
    for (i, s) in entries.iter().enumerate() {
        store
            .append(fid, first_seq + i as u32, &s.entry, &s.mid)
            .unwrap();
    }
}

fn suite(store: &dyn Store) {
    let (a, fa) = feed(1, 6);
    let (b, fb) = feed(2, 2);
    assert!(store.feeds().unwrap().is_empty());
    assert!(store.frontier(a.fid()).unwrap().is_none());
    assert_eq!(store.locate(&fa[0].mid).unwrap(), None);

    // Entries must continue the feed.
    assert!(matches!(
        store.append(a.fid(), 2, &fa[1].entry, &fa[1].mid),
        Err(StoreError::NotNext {
            seq: 2,
            frontier: 0,
            ..
        })
    ));
    append_all(store, a.fid(), &fa, 1);
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
    assert!(store.entry(a.fid(), 0).unwrap().is_none());
    assert_eq!(store.locate(&fa[2].mid).unwrap(), Some((*a.fid(), 3)));
    assert_eq!(store.locate(&fb[0].mid).unwrap(), Some((*b.fid(), 1)));
    assert_eq!(store.locate(&Mid([9; 20])).unwrap(), None);

    // Chunks go in order, only for held entries, and must hash right.
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
    assert!(matches!(
        store.put_chunk(a.fid(), seq, 0, &chunks[1]),
        Err(StoreError::ChunkHash { cnr: 0, .. })
    ));
    assert!(store.put_chunk(b.fid(), 2, 0, &chunks[0]).is_err());
    let d = Identity::from_seed(&[4; 32]);
    let short =
        entry::sign_chain20(&Network::deployed(), &d, 1, &first_prev(d.fid()), b"hi").unwrap();
    store.append(d.fid(), 1, &short.entry, &short.mid).unwrap();
    assert!(matches!(
        store.put_chunk(d.fid(), 1, 0, &chunks[0]),
        Err(StoreError::ChunkNotWanted { seq: 1, .. })
    ));
    assert!(store.open_chains(d.fid()).unwrap().is_empty());
    store.put_chunk(a.fid(), seq, 0, &chunks[0]).unwrap();
    assert_eq!(store.chunks(a.fid(), seq).unwrap(), chunks[..1].to_vec());
    for (cnr, c) in chunks.iter().enumerate().skip(1) {
        store.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
    }
    assert_eq!(&store.chunks(a.fid(), seq).unwrap(), chunks);
    assert!(matches!(
        store.put_chunk(a.fid(), seq, chunks.len() as u32, &chunks[0]),
        Err(StoreError::ChunkOutOfOrder { .. })
    ));
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
    assert!(store.chunks(a.fid(), 99).unwrap().is_empty());

    let mut expect = vec![*a.fid(), *b.fid(), *d.fid()];
    expect.sort();
    let feeds: Vec<_> = store.feeds().unwrap().into_iter().map(|(f, _)| f).collect();
    assert_eq!(feeds, expect);
    store.flush().unwrap();
    store.sync().unwrap();

    // Batches: mixed feeds, stopping at the first entry that does not continue its feed.
    let (c, fc) = feed(3, 5);
    let item = |fid: &FeedId, seq: u32, s: &Signed| (*fid, seq, s.entry.clone(), s.mid);
    let batch = vec![
        item(c.fid(), 1, &fc[0]),
        item(c.fid(), 2, &fc[1]),
        item(b.fid(), 2, &fb[1]),
        item(c.fid(), 3, &fc[2]),
        item(c.fid(), 5, &fc[4]),
        item(c.fid(), 4, &fc[3]),
    ];
    assert_eq!(store.append_batch(&batch).unwrap(), 4);
    assert_eq!(store.frontier(c.fid()).unwrap().unwrap().seq, 3);
    assert_eq!(store.frontier(b.fid()).unwrap().unwrap().mid, fb[1].mid);
    assert_eq!(store.append_batch(&batch[5..]).unwrap(), 1);
    assert_eq!(store.append_batch(&batch[4..5]).unwrap(), 1);
    assert_eq!(store.append_batch(&[]).unwrap(), 0);
    assert_eq!(
        store.locate(&fc[4].mid).unwrap(),
        Some((*c.fid(), 5)),
        "index follows appends"
    );
    for (i, s) in fc.iter().enumerate() {
        assert_eq!(
            store.entry(c.fid(), i as u32 + 1).unwrap().unwrap().mid,
            s.mid
        );
    }
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
    assert_eq!(
        store.recovery(),
        &Default::default(),
        "a clean close needs no repair"
    );
    assert_eq!(store.frontier(a.fid()).unwrap().unwrap().mid, fa[5].mid);
    assert_eq!(store.feeds().unwrap().len(), 4);
    assert_eq!(store.locate(&fa[3].mid).unwrap(), Some((*a.fid(), 4)));
    let complete = fa.iter().position(|s| s.chunks.len() >= 2).unwrap();
    assert_eq!(
        store.chunks(a.fid(), complete as u32 + 1).unwrap(),
        fa[complete].chunks
    );
    assert!(!store
        .open_chains(a.fid())
        .unwrap()
        .contains(&(complete as u32 + 1)));
    assert_eq!(store.members().unwrap().len(), 2);
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
            expected: FORMAT_VERSION
        })
    ));
}

#[test]
fn a_format_1_store_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (a, fa) = feed(12, 6);
    let (b, fb) = feed(13, 2);
    let partial = fa.iter().position(|s| s.chunks.len() >= 2).unwrap();
    {
        // What the first layout wrote.
        let db = sled::open(dir.path()).unwrap();
        let key = |p: u8, fid: &FeedId, seq: u32| {
            let mut k = vec![p];
            k.extend_from_slice(&fid.0);
            k.extend_from_slice(&seq.to_be_bytes());
            k
        };
        db.insert(b"V", &1u32.to_be_bytes()).unwrap();
        for (fid, entries) in [(a.fid(), &fa), (b.fid(), &fb)] {
            for (i, s) in entries.iter().enumerate() {
                let seq = i as u32 + 1;
                let mut v = s.entry.bytes().to_vec();
                v.extend_from_slice(&s.mid.0);
                db.insert(key(b'E', fid, seq), v).unwrap();
                let mut m = vec![b'M'];
                m.extend_from_slice(&s.mid.0);
                db.insert(m, key(0, fid, seq)[1..].to_vec()).unwrap();
                let held = if i == partial { 1 } else { s.chunks.len() };
                for (cnr, c) in s.chunks.iter().take(held).enumerate() {
                    let mut k = key(b'C', fid, seq);
                    k.extend_from_slice(&(cnr as u32).to_be_bytes());
                    db.insert(k, c.to_vec()).unwrap();
                }
                if held < s.chunks.len() {
                    db.insert(key(b'O', fid, seq), &(s.chunks.len() as u32).to_be_bytes())
                        .unwrap();
                }
            }
            let last = entries.last().unwrap();
            let mut f = (entries.len() as u32).to_be_bytes().to_vec();
            f.extend_from_slice(&last.mid.0);
            db.insert(&key(b'F', fid, 0)[..33], f).unwrap();
        }
        db.insert(&key(b'G', b.fid(), 0)[..33], Vec::new()).unwrap();
        let mut d = key(b'D', a.fid(), 0)[..33].to_vec();
        d.extend_from_slice(b"alias");
        db.insert(d, b"ann".to_vec()).unwrap();
        db.flush().unwrap();
    }
    for _ in 0..2 {
        let s = SledStore::open(dir.path()).unwrap();
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().mid, fa[5].mid);
        assert_eq!(s.frontier(b.fid()).unwrap().unwrap().seq, 2);
        for (i, e) in fa.iter().enumerate() {
            let seq = i as u32 + 1;
            assert_eq!(s.entry(a.fid(), seq).unwrap().unwrap().entry, e.entry);
            let held = if i == partial { 1 } else { e.chunks.len() };
            assert_eq!(s.chunks(a.fid(), seq).unwrap(), e.chunks[..held].to_vec());
        }
        assert_eq!(s.open_chains(a.fid()).unwrap(), vec![partial as u32 + 1]);
        assert_eq!(s.locate(&fb[1].mid).unwrap(), Some((*b.fid(), 2)));
        assert_eq!(s.members().unwrap(), vec![*b.fid()]);
        assert_eq!(
            s.meta(a.fid(), "alias").unwrap().as_deref(),
            Some(&b"ann"[..])
        );
        assert!(
            s.backend().scan(b"E").unwrap().is_empty(),
            "old keys removed"
        );
        assert!(s.backend().scan(b"M").unwrap().is_empty());
    }
}

/// Opens, lets `before` work, abandons (a crash after its last commit), lets `damage` touch
/// the backend, reopens and returns the reopened store.
fn crash_memory(
    before: impl FnOnce(&MemoryStore),
    damage: impl FnOnce(&MemoryKv),
) -> Result<MemoryStore, StoreError> {
    let kv = MemoryKv::default();
    let store = KvStore::new(kv.clone()).unwrap();
    before(&store);
    store.abandon();
    damage(&kv);
    KvStore::new(kv.clone())
}

fn crash_sled(
    dir: &std::path::Path,
    before: impl FnOnce(&SledStore),
    damage: impl FnOnce(&SledKv),
) -> Result<SledStore, StoreError> {
    {
        let store = SledStore::open(dir).unwrap();
        before(&store);
        store.abandon();
    }
    {
        let kv = SledKv::open(dir).unwrap();
        damage(&kv);
    }
    SledStore::open(dir)
}

#[test]
fn unflushed_appends_are_dropped_and_the_feed_continues() {
    let (a, fa) = feed(4, 8);
    let before = |s: &dyn Store| {
        append_all(s, a.fid(), &fa[..3], 1);
        s.flush().unwrap();
        append_all(s, a.fid(), &fa[3..5], 4);
    };
    let check = |s: &dyn Store, cut: u64| {
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().seq, 3);
        assert!(s.entry(a.fid(), 4).unwrap().is_none());
        assert_eq!(cut, 2 * records::RECORD_LEN as u64);
        append_all(s, a.fid(), &fa[3..], 4);
        assert_eq!(s.entry(a.fid(), 8).unwrap().unwrap().mid, fa[7].mid);
    };
    let m = crash_memory(|s| before(s), |_| {}).unwrap();
    check(&m, m.recovery().bytes_cut);
    assert!(m.recovery().rolled_back.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| before(s), |_| {}).unwrap();
    check(&s, s.recovery().bytes_cut);
}

#[test]
fn a_feed_never_flushed_disappears() {
    let (a, fa) = feed(5, 3);
    let m = crash_memory(|s| append_all(s, a.fid(), &fa, 1), |_| {}).unwrap();
    assert!(m.feeds().unwrap().is_empty());
    append_all(&m, a.fid(), &fa, 1);
    assert_eq!(m.frontier(a.fid()).unwrap().unwrap().mid, fa[2].mid);
}

#[test]
fn chunks_written_before_a_crash_are_kept_when_their_chain_verifies() {
    let (a, fa) = feed(6, 12);
    let i = fa.iter().position(|s| s.chunks.len() >= 3).unwrap();
    let seq = i as u32 + 1;
    let chunks = fa[i].chunks.clone();
    let before = |s: &dyn Store| {
        append_all(s, a.fid(), &fa, 1);
        s.put_chunk(a.fid(), seq, 0, &chunks[0]).unwrap();
        s.flush().unwrap();
        s.put_chunk(a.fid(), seq, 1, &chunks[1]).unwrap();
    };
    let check = |s: &dyn Store| {
        assert!(s.open_chains(a.fid()).unwrap().contains(&seq));
        assert_eq!(s.chunks(a.fid(), seq).unwrap(), chunks[..2].to_vec());
        for (cnr, c) in chunks.iter().enumerate().skip(2) {
            s.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
        }
        assert!(!s.open_chains(a.fid()).unwrap().contains(&seq));
        s.sync().unwrap();
    };
    let m = crash_memory(|s| before(s), |_| {}).unwrap();
    check(&m);
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| before(s), |_| {}).unwrap();
    check(&s);
    drop(s);
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.chunks(a.fid(), seq).unwrap(), chunks);
    assert!(!s.open_chains(a.fid()).unwrap().contains(&seq));
}

#[test]
fn a_chunk_slot_lost_after_flush_reopens_the_chain() {
    // A power loss can lose chunk data that a flush (not a sync) covered.
    let (a, fa) = feed(7, 12);
    let i = fa.iter().position(|s| s.chunks.len() >= 3).unwrap();
    let seq = i as u32 + 1;
    let chunks = fa[i].chunks.clone();
    let m = crash_memory(
        |s| {
            append_all(s, a.fid(), &fa, 1);
            for (cnr, c) in chunks.iter().enumerate() {
                s.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
            }
            s.flush().unwrap();
        },
        |kv| {
            let rec = kv.inner_log_record(a.fid(), seq);
            kv.log_write(
                &LogId::chunks(a.fid()),
                (u64::from(rec.base) + 1) * 120,
                &[0; 120],
            )
            .unwrap();
        },
    )
    .unwrap();
    assert!(m.open_chains(a.fid()).unwrap().contains(&seq));
    assert_eq!(m.chunks(a.fid(), seq).unwrap(), chunks[..1].to_vec());
}

impl MemoryKv {
    fn inner_log_record(&self, fid: &FeedId, seq: u32) -> records::Record {
        let mut rec = [0u8; records::RECORD_LEN];
        self.log_read(&LogId::entries(fid), records::offset(seq), &mut rec)
            .unwrap();
        records::decode(&rec, seq).unwrap()
    }
}

/// A feed with 10 synced entries and 15 flushed ones, then a power loss that damages the
/// log after entry 12 in one of several ways.
fn power_loss(damage: impl Fn(&dyn Kv, &FeedId)) {
    let (a, fa) = feed(8, 20);
    let before = |s: &dyn Store| {
        append_all(s, a.fid(), &fa[..10], 1);
        s.sync().unwrap();
        append_all(s, a.fid(), &fa[10..15], 11);
        s.flush().unwrap();
    };
    let check = |s: &dyn Store, rec: &super::Recovery| {
        assert_eq!(rec.rolled_back, vec![(*a.fid(), 15, 12)]);
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().seq, 12);
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().mid, fa[11].mid);
        for (i, e) in fa[..12].iter().enumerate() {
            assert_eq!(
                s.entry(a.fid(), i as u32 + 1).unwrap().unwrap().entry,
                e.entry
            );
        }
        assert!(s.entry(a.fid(), 13).unwrap().is_none());
        assert!(s.open_chains(a.fid()).unwrap().iter().all(|&q| q <= 12));
        append_all(s, a.fid(), &fa[12..], 13);
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().seq, 20);
    };
    let m = crash_memory(|s| before(s), |kv| damage(kv, a.fid())).unwrap();
    check(&m, m.recovery());
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| before(s), |kv| damage(kv, a.fid())).unwrap();
    check(&s, &s.recovery().clone());
    drop(s);
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.frontier(a.fid()).unwrap().unwrap().seq, 20);
    assert!(s.recovery().rolled_back.is_empty());
}

#[test]
fn power_loss_cutting_the_log_rolls_back_to_the_intact_prefix() {
    let half = records::RECORD_LEN as u64 / 2;
    power_loss(|kv, fid| {
        kv.log_truncate(&LogId::entries(fid), records::offset(13) + half)
            .unwrap();
    });
}

#[test]
fn power_loss_damaging_a_record_rolls_back_before_it() {
    power_loss(|kv, fid| {
        kv.log_write(&LogId::entries(fid), records::offset(13) + 50, &[0xee; 3])
            .unwrap();
    });
}

#[test]
fn power_loss_zeroing_the_tail_rolls_back_before_it() {
    power_loss(|kv, fid| {
        let zeros = vec![0u8; 3 * records::RECORD_LEN];
        kv.log_write(&LogId::entries(fid), records::offset(13), &zeros)
            .unwrap();
    });
}

#[test]
fn an_intact_record_that_contradicts_the_frontier_refuses_the_open() {
    let (a, fa) = feed(9, 4);
    let result = crash_memory(
        |s| {
            append_all(s, a.fid(), &fa, 1);
            s.flush().unwrap();
        },
        |kv| {
            let forged = records::encode(&fa[3].entry, &Mid([7; 20]), 0);
            kv.log_write(&LogId::entries(a.fid()), records::offset(4), &forged)
                .unwrap();
        },
    );
    assert!(matches!(result, Err(StoreError::Corrupt(m)) if m.contains("message id")));
}

#[test]
fn sled_cuts_garbage_after_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let (a, fa) = feed(10, 5);
    {
        let s = SledStore::open(dir.path()).unwrap();
        append_all(&s, a.fid(), &fa, 1);
    }
    let log = dir
        .path()
        .join("feeds")
        .join(format!("{}.log", a.fid().to_hex()));
    let mut bytes = std::fs::read(&log).unwrap();
    assert_eq!(bytes.len(), 5 * records::RECORD_LEN);
    bytes.extend_from_slice(&[0xab; 200]);
    std::fs::write(&log, &bytes).unwrap();
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.recovery().bytes_cut, 200);
    assert_eq!(s.frontier(a.fid()).unwrap().unwrap().seq, 5);
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        5 * records::RECORD_LEN as u64
    );
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    assert!(SledStore::open(dir.path()).is_err());
}

#[test]
fn open_chains_survive_syncs_flushes_and_crashes() {
    let (a, fa) = feed(11, 30);
    let chained: Vec<u32> = (1..=30)
        .filter(|&s| !fa[s as usize - 1].chunks.is_empty())
        .collect();
    let before = |s: &dyn Store| {
        append_all(s, a.fid(), &fa[..20], 1);
        // Half of the chains up to 20 complete, then a sync lists the rest.
        for &seq in chained.iter().filter(|&&q| q <= 20 && q % 2 == 0) {
            for (cnr, c) in fa[seq as usize - 1].chunks.iter().enumerate() {
                s.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
            }
        }
        s.sync().unwrap();
        // Later entries are only flushed; one of their chains completes.
        append_all(s, a.fid(), &fa[20..], 21);
        let late = *chained.iter().find(|&&q| q > 20).unwrap();
        for (cnr, c) in fa[late as usize - 1].chunks.iter().enumerate() {
            s.put_chunk(a.fid(), late, cnr as u32, c).unwrap();
        }
        s.flush().unwrap();
        late
    };
    let expect = |late: u32| -> Vec<u32> {
        chained
            .iter()
            .copied()
            .filter(|&q| !(q <= 20 && q % 2 == 0) && q != late)
            .collect()
    };
    let mut late = 0;
    let m = crash_memory(|s| late = before(s), |_| {}).unwrap();
    assert_eq!(m.open_chains(a.fid()).unwrap(), expect(late));
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| late = before(s), |_| {}).unwrap();
    assert_eq!(s.open_chains(a.fid()).unwrap(), expect(late));
    drop(s);
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.open_chains(a.fid()).unwrap(), expect(late));
    for seq in expect(late) {
        assert!(s.chunks(a.fid(), seq).unwrap().is_empty());
    }
}

#[test]
fn damage_to_a_synced_record_in_the_middle_rolls_back_before_it() {
    let (a, fa) = feed(9, 12);
    let before = |s: &dyn Store| {
        append_all(s, a.fid(), &fa, 1);
        s.sync().unwrap();
    };
    let damage = |kv: &dyn Kv| {
        kv.log_write(
            &LogId::entries(a.fid()),
            records::offset(5) + 30,
            &[0x11; 2],
        )
        .unwrap();
    };
    let check = |s: &dyn Store, rec: &super::Recovery| {
        assert_eq!(rec.rolled_back, vec![(*a.fid(), 12, 4)]);
        assert_eq!(s.frontier(a.fid()).unwrap().unwrap().mid, fa[3].mid);
        assert!(s.entry(a.fid(), 5).unwrap().is_none());
        assert!(s.entry(a.fid(), 12).unwrap().is_none());
        append_all(s, a.fid(), &fa[4..], 5);
        assert_eq!(s.entry(a.fid(), 5).unwrap().unwrap().entry, fa[4].entry);
    };
    let m = crash_memory(|s| before(s), |kv| damage(kv)).unwrap();
    check(&m, m.recovery());
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| before(s), |kv| damage(kv)).unwrap();
    check(&s, &s.recovery().clone());
}

#[test]
fn the_signing_mark_outlives_a_rollback_in_both_backends() {
    let net = Network::deployed();
    let me = Identity::from_seed(&[0x42; 32]);
    let before = |s: &dyn Store| {
        for i in 0..6u8 {
            crate::feed::publish(s, &net, &me, &[i; 30]).unwrap();
        }
    };
    let cut = |kv: &dyn Kv| {
        kv.log_truncate(&LogId::entries(me.fid()), records::offset(4))
            .unwrap();
    };
    let check = |s: &dyn Store| {
        assert_eq!(s.frontier(me.fid()).unwrap().unwrap().seq, 3);
        assert_eq!(s.signed_mark(me.fid()).unwrap(), 6);
        match crate::feed::publish(s, &net, &me, b"fork") {
            Err(crate::feed::FeedError::Store(StoreError::RolledBack {
                signed: 6,
                held: 3,
                ..
            })) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.frontier(me.fid()).unwrap().unwrap().seq, 3);
    };
    let m = crash_memory(|s| before(s), |kv| cut(kv)).unwrap();
    check(&m);
    let dir = tempfile::tempdir().unwrap();
    let s = crash_sled(dir.path(), |s| before(s), |kv| cut(kv)).unwrap();
    check(&s);
}
