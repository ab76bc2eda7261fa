//! Rollback honesty of the sled store, on real stores in temp dirs with real signed feeds:
//! damage in the middle of a log is found at open, a rolled-back own feed is never signed over
//! (the signing high-water mark), a lost sled database is rebuilt from the logs, and the chat
//! index forgets messages whose entries were rolled back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lichen::chat::{ChatId, Chats, ChatsConfig};
use lichen::feed::{self, Content, FeedError};
use lichen::store::{SledStore, Store, StoreError, Stored, RECORD_LEN};
use lichen::wire::network::Network;
use lichen::wire::PKT_LEN;
use lichen::{FeedId, Identity};

fn me() -> Identity {
    Identity::from_seed(&[0x51; 32])
}

/// Long enough for a side chain of a few chunks.
fn text(i: u32) -> Vec<u8> {
    format!(
        "post {i}: {}",
        "over the ridge and down to the lake ".repeat(i as usize % 4)
    )
    .into_bytes()
}

fn log_path(dir: &Path, fid: &FeedId) -> PathBuf {
    dir.join("feeds").join(format!("{}.log", fid.to_hex()))
}

/// Publishes posts 1..=n and returns what a peer would hold: every entry with its chunks.
fn publish_n(store: &SledStore, n: u32) -> Vec<(Stored, Vec<[u8; PKT_LEN]>)> {
    let net = Network::deployed();
    for i in 1..=n {
        let p = feed::publish(store, &net, &me(), &text(i)).unwrap();
        assert_eq!(p.seq, i);
    }
    (1..=n)
        .map(|s| {
            let e = store.entry(me().fid(), s).unwrap().unwrap();
            (e, store.chunks(me().fid(), s).unwrap())
        })
        .collect()
}

/// Gives entries back as the sync engine does: validated entries appended, then their chunks.
fn refill(store: &SledStore, peer: &[(Stored, Vec<[u8; PKT_LEN]>)], from: u32) {
    let id = me();
    let fid = id.fid();
    for (i, (e, chunks)) in peer.iter().enumerate().skip(from as usize - 1) {
        let seq = i as u32 + 1;
        store.append(fid, seq, &e.entry, &e.mid).unwrap();
        for (cnr, c) in chunks.iter().enumerate() {
            store.put_chunk(fid, seq, cnr as u32, c).unwrap();
        }
    }
    store.sync().unwrap();
}

fn flip_byte(path: &Path, at: u64) {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    b[0] ^= 0x40;
    f.write_all_at(&b, at).unwrap();
    f.sync_all().unwrap();
}

fn post_error(store: &SledStore) -> FeedError {
    let net = Network::deployed();
    match feed::publish(store, &net, &me(), b"a fork?") {
        Ok(p) => panic!("signed entry {} over a rolled-back feed", p.seq),
        Err(e) => e,
    }
}

#[test]
fn a_rolled_back_feed_is_not_signed_over_until_a_peer_refills_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let peer = publish_n(&SledStore::open(&dir).unwrap(), 10);
    // The log loses its last six records (as after damage or a power loss).
    let log = log_path(&dir, me().fid());
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(4 * RECORD_LEN as u64)
        .unwrap();

    let store = SledStore::open(&dir).unwrap();
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, 4);
    assert_eq!(store.signed_mark(me().fid()).unwrap(), 10);
    let err = post_error(&store);
    assert!(
        matches!(
            err,
            FeedError::Store(StoreError::RolledBack {
                signed: 10,
                held: 4,
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("your feed was rolled back from 10 to 4; connect to a peer"),
        "{err}"
    );
    // The store level refuses the same way, and the refusal leaves nothing behind.
    assert!(matches!(
        store.claim_next(me().fid(), true),
        Err(StoreError::RolledBack { .. })
    ));
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, 4);

    // Part of the feed comes back: still below the mark.
    refill(&store, &peer[..7], 5);
    assert!(matches!(
        post_error(&store),
        FeedError::Store(StoreError::RolledBack {
            signed: 10,
            held: 7,
            ..
        })
    ));
    // All of it: posting continues after the highest entry ever signed.
    refill(&store, &peer, 8);
    let net = Network::deployed();
    let p = feed::publish(&store, &net, &me(), b"back").unwrap();
    assert_eq!(p.seq, 11);
    assert_eq!(store.signed_mark(me().fid()).unwrap(), 11);
    drop(store);

    // The mark survives a restart with neither copy alone: sled's map lost...
    std::fs::remove_file(dir.join("db")).unwrap();
    let store = SledStore::open(&dir).unwrap();
    assert_eq!(store.signed_mark(me().fid()).unwrap(), 11);
    drop(store);
    // ...or the mark file lost (the map keeps a copy).
    std::fs::remove_dir_all(dir.join("marks")).unwrap();
    let store = SledStore::open(&dir).unwrap();
    assert_eq!(store.signed_mark(me().fid()).unwrap(), 11);
}

#[test]
fn a_failed_append_gives_its_claim_back() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SledStore::open(tmp.path()).unwrap();
    let id = me();
    let fid = id.fid();
    assert!(store.claim_next(fid, true).unwrap().is_none());
    // A second signer of the same feed waits for the first.
    assert!(matches!(
        store.claim_next(fid, true),
        Err(StoreError::Busy(_))
    ));
    assert_eq!(store.signed_mark(fid).unwrap(), 1);
    // Nothing was appended: the claim is given back, and seq 1 can be signed after all.
    store.finish_claim(fid, 1, false).unwrap();
    assert_eq!(store.signed_mark(fid).unwrap(), 0);
    drop(store);
    let store = SledStore::open(tmp.path()).unwrap();
    assert_eq!(store.signed_mark(fid).unwrap(), 0);
    let p = feed::publish(&store, &Network::deployed(), &me(), b"first").unwrap();
    assert_eq!(p.seq, 1);
}

/// The process dies after the mark was raised for post 3 but before its entry was stored
/// (here even after a commit of the map, as a `publish` syncs while its claim is open): the
/// entry was never shown to a reader, so it cannot be on any peer, and post 3 may be signed
/// after all — the feed must not stay refused forever (ADR 0014).
#[test]
fn a_post_cut_short_before_it_was_stored_does_not_wedge_the_feed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let fid = *me().fid();
    {
        let store = SledStore::open(&dir).unwrap();
        publish_n(&store, 2);
        assert!(store.claim_next(&fid, true).unwrap().is_some());
        store.sync().unwrap();
        store.abandon();
    }
    let store = SledStore::open(&dir).unwrap();
    assert_eq!(store.signed_mark(&fid).unwrap(), 2);
    let p = feed::publish(&store, &Network::deployed(), &me(), b"after the crash").unwrap();
    assert_eq!(p.seq, 3);
    drop(store);

    // The same once the entry was appended and the claim settled, but the log then lost the
    // record (a damaged disk): the entry may have left, so posting stays refused.
    {
        let store = SledStore::open(&dir).unwrap();
        assert_eq!(publish_n_from(&store, 4, 4), 4);
    }
    let log = log_path(&dir, &fid);
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(3 * RECORD_LEN as u64)
        .unwrap();
    let store = SledStore::open(&dir).unwrap();
    assert!(matches!(
        post_error(&store),
        FeedError::Store(StoreError::RolledBack {
            signed: 4,
            held: 3,
            ..
        })
    ));
}

/// A side chain counted complete whose chunks were damaged on disk afterwards (a power cut
/// after the chain list was written, a bad sector) is never served: `chunks` returns the prefix
/// that hashes, and the chain is open again so that the sync engine fetches the rest.
#[test]
fn a_damaged_complete_side_chain_is_not_served_and_opens_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let fid = *me().fid();
    let (seq, chunks) = {
        let store = SledStore::open(&dir).unwrap();
        let long = "a long way over the pass before the storm ".repeat(12);
        let p = feed::publish(&store, &Network::deployed(), &me(), long.as_bytes()).unwrap();
        (p.seq, store.chunks(&fid, p.seq).unwrap())
    };
    let chunks = &chunks;
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let store = SledStore::open(&dir).unwrap();
    assert!(store.open_chains(&fid).unwrap().is_empty());
    let base = {
        // Slot of its chunk 1: find it by content in the chunk file.
        let bytes =
            std::fs::read(dir.join("feeds").join(format!("{}.chunks", fid.to_hex()))).unwrap();
        bytes
            .chunks_exact(PKT_LEN)
            .position(|c| c == chunks[1].as_slice())
            .unwrap() as u64
    };
    drop(store);
    flip_byte(
        &dir.join("feeds").join(format!("{}.chunks", fid.to_hex())),
        base * PKT_LEN as u64 + 5,
    );
    let store = SledStore::open(&dir).unwrap();
    let served = store.chunks(&fid, seq).unwrap();
    assert_eq!(
        served,
        vec![chunks[0]],
        "only the chunk that hashes is served"
    );
    assert_eq!(store.open_chains(&fid).unwrap(), vec![seq]);
    assert!(matches!(
        feed::content(&store, &fid, seq).unwrap(),
        Some(Content::Partial { .. })
    ));
    // A peer gives the chunk back: the chain completes again.
    for (cnr, c) in chunks.iter().enumerate().skip(1) {
        store.put_chunk(&fid, seq, cnr as u32, c).unwrap();
    }
    assert_eq!(&store.chunks(&fid, seq).unwrap(), chunks);
    assert!(store.open_chains(&fid).unwrap().is_empty());
}

fn publish_n_from(store: &SledStore, from: u32, to: u32) -> u32 {
    let net = Network::deployed();
    let mut last = 0;
    for i in from..=to {
        last = feed::publish(store, &net, &me(), &text(i)).unwrap().seq;
    }
    last
}

#[test]
fn a_broken_record_in_the_middle_rolls_the_feed_back_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let peer = publish_n(&SledStore::open(&dir).unwrap(), 10);
    // One bit of entry 3's packet changes on disk (its CRC no longer matches).
    flip_byte(&log_path(&dir, me().fid()), 2 * RECORD_LEN as u64 + 60);

    let store = SledStore::open(&dir).unwrap();
    assert_eq!(
        store.recovery().rolled_back,
        vec![(*me().fid(), 10, 2)],
        "the damaged record is found at open"
    );
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, 2);
    assert_eq!(
        store.feeds().unwrap()[0].1.seq,
        2,
        "nothing after a broken record is listed"
    );
    assert!(store.entry(me().fid(), 3).unwrap().is_none());
    assert!(store.entry(me().fid(), 9).unwrap().is_none());
    assert!(matches!(
        post_error(&store),
        FeedError::Store(StoreError::RolledBack {
            signed: 10,
            held: 2,
            ..
        })
    ));
    refill(&store, &peer, 3);
    for s in 1..=10 {
        assert_eq!(
            feed::content(&store, me().fid(), s).unwrap(),
            Some(Content::Complete(text(s)))
        );
    }
    let p = feed::publish(&store, &Network::deployed(), &me(), b"on").unwrap();
    assert_eq!(p.seq, 11);
}

#[test]
fn a_lost_sled_database_is_rebuilt_from_the_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let other = Identity::from_seed(&[0x77; 32]);
    let (peer, open_before) = {
        let store = SledStore::open(&dir).unwrap();
        let peer = publish_n(&store, 6);
        // Another feed whose last entry's side chain is still missing two of its chunks.
        let net = Network::deployed();
        let mut prev = lichen::wire::entry::first_prev(other.fid());
        for seq in 1..=3u32 {
            let long = text(3).repeat(3);
            let s = lichen::wire::entry::sign_chain20(&net, &other, seq, &prev, &long).unwrap();
            store.append(other.fid(), seq, &s.entry, &s.mid).unwrap();
            let keep = if seq == 3 { 1 } else { s.chunks.len() };
            for (cnr, c) in s.chunks.iter().enumerate().take(keep) {
                store.put_chunk(other.fid(), seq, cnr as u32, c).unwrap();
            }
            prev = s.mid;
        }
        store.sync().unwrap();
        let open = store.open_chains(other.fid()).unwrap();
        assert_eq!(open, vec![3]);
        (peer, open)
    };
    // sled's data file is gone (its snapshot and config stay, as a careless cleanup leaves them).
    std::fs::remove_file(dir.join("db")).unwrap();

    let store = SledStore::open(&dir).unwrap();
    assert!(store.recovery().rebuilt);
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, 6);
    assert_eq!(store.frontier(other.fid()).unwrap().unwrap().seq, 3);
    let mut members = store.members().unwrap();
    members.sort();
    let mut want = vec![*me().fid(), *other.fid()];
    want.sort();
    assert_eq!(members, want);
    assert_eq!(store.open_chains(other.fid()).unwrap(), open_before);
    assert_eq!(store.chunks(other.fid(), 3).unwrap().len(), 1);
    for (i, (e, _)) in peer.iter().enumerate() {
        let s = i as u32 + 1;
        assert_eq!(store.entry(me().fid(), s).unwrap().as_ref(), Some(e));
        assert_eq!(
            feed::content(&store, me().fid(), s).unwrap(),
            Some(Content::Complete(text(s)))
        );
    }
    assert_eq!(
        store.locate(&peer[3].0.mid).unwrap(),
        Some((*me().fid(), 4))
    );
    let p = feed::publish(&store, &Network::deployed(), &me(), b"after").unwrap();
    assert_eq!(p.seq, 7);
    drop(store);
    // And the rebuilt store opens as an ordinary one afterwards.
    let store = SledStore::open(&dir).unwrap();
    assert!(!store.recovery().rebuilt);
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, 7);
}

#[test]
fn the_chat_index_forgets_messages_whose_entries_were_rolled_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (sdir, cdir) = (tmp.path().join("store"), tmp.path().join("chats"));
    let open = || {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&sdir).unwrap());
        let chats = Chats::open(&cdir, store.clone(), me(), ChatsConfig::default()).unwrap();
        (store, chats)
    };
    let (store, chats) = open();
    for i in 1..=6 {
        chats
            .send(&ChatId::Public, &format!("message {i}"))
            .unwrap();
    }
    let page = chats.page(&ChatId::Public, None, 50).unwrap();
    assert_eq!(page.messages.len(), 6);
    let held = store.frontier(me().fid()).unwrap().unwrap().seq;
    drop(chats);
    drop(store);
    // A rollback cuts the own log after the entry of message 3.
    let keep = (1..=held)
        .find(|&s| {
            let store = SledStore::open(&sdir).unwrap();
            let c = feed::content(&store, me().fid(), s).unwrap();
            matches!(c, Some(Content::Complete(b)) if String::from_utf8_lossy(&b).contains("message 3"))
        })
        .unwrap();
    OpenOptions::new()
        .write(true)
        .open(log_path(&sdir, me().fid()))
        .unwrap()
        .set_len(u64::from(keep) * RECORD_LEN as u64)
        .unwrap();

    let (store, chats) = open();
    assert_eq!(store.frontier(me().fid()).unwrap().unwrap().seq, keep);
    let page = chats.page(&ChatId::Public, None, 50).unwrap();
    let texts: Vec<_> = page.messages.iter().filter_map(|m| m.text()).collect();
    assert_eq!(texts, ["message 3", "message 2", "message 1"]);
    assert_eq!(chats.summary(&ChatId::Public).unwrap().total, 3);
    assert!(chats.search("message 5", 10).unwrap().is_empty());
    // Posting waits for the lost entries.
    let err = chats.send(&ChatId::Public, "message 7").unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
}
