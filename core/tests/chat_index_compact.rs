//! The compact chat index (ADR 0025): message records in an append-only file, the order in
//! memory, sled only for keyed state. It must stay small on disk, and re-derive itself from
//! the feed logs when its message log is missing, cut short or damaged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use lichen::chat::content;
use lichen::chat::tav::Tav;
use lichen::chat::{ChatId, Chats, ChatsConfig};
use lichen::feed;
use lichen::store::{disk_usage, SledStore, Store};
use lichen::wire::network::Network;
use lichen::wire::Mid;
use lichen::{FeedId, Identity};

fn person(i: u8) -> Identity {
    Identity::from_seed(&[i; 32])
}

fn cfg() -> ChatsConfig {
    ChatsConfig {
        receipts: false,
        ..ChatsConfig::default()
    }
}

/// Appends a post by `who` to `chat` (sealed to its members if private) citing `tips`.
fn post(store: &dyn Store, who: &Identity, chat: &ChatId, text: &str, tips: &[Mid]) -> Mid {
    let mut tav = Tav {
        tips: tips.iter().map(Mid::to_b64).collect(),
        text: Some(text.into()),
        voice: None,
        ts: 1_700_000_000,
        recps: None,
        old_format: false,
    };
    let bytes = match chat {
        ChatId::Public => tav.encode(),
        ChatId::Private(m) => {
            let mut recps: Vec<FeedId> = m.iter().copied().filter(|f| f != who.fid()).collect();
            recps.push(*who.fid());
            tav.recps = Some(recps.iter().map(FeedId::to_ref).collect());
            content::seal_entry(&tav.to_value(), &recps).unwrap()
        }
    };
    feed::append_own(store, &Network::deployed(), who, &bytes)
        .unwrap()
        .signed
        .mid
}

/// Every chat's full history as (mid, text), newest first.
type History = Vec<(String, Vec<(Mid, String)>)>;

fn history(chats: &Chats) -> History {
    let mut out = Vec::new();
    let mut list = chats.list().unwrap();
    list.sort_by_key(|s| s.id.to_string());
    for s in list {
        let page = chats.page(&s.id, None, 100_000).unwrap();
        let msgs = page
            .messages
            .iter()
            .map(|m| (m.mid, m.text().unwrap_or("").to_owned()))
            .collect();
        out.push((s.id.to_string(), msgs));
    }
    out
}

#[test]
fn the_index_takes_at_most_300_bytes_per_message() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let people: Vec<Identity> = (1..=7).map(person).collect();
    let fids: Vec<FeedId> = people.iter().map(|p| *p.fid()).collect();
    let chats_of = [
        ChatId::Public,
        ChatId::private([fids[0], fids[1]]).unwrap(),
        ChatId::private(fids[..4].iter().copied()).unwrap(),
        ChatId::private(fids[..6].iter().copied()).unwrap(),
    ];
    let words = [
        "mesh",
        "ridge",
        "battery",
        "storm",
        "camp",
        "back soon",
        "ok",
    ];
    let mut last: Vec<Option<Mid>> = vec![None; chats_of.len()];
    for i in 0..N {
        let c = i % chats_of.len();
        let author = match &chats_of[c] {
            ChatId::Public => &people[i % 7],
            ChatId::Private(m) => {
                let who = m[(i / chats_of.len()) % m.len()];
                people.iter().find(|p| *p.fid() == who).unwrap()
            }
        };
        let text = format!(
            "{} {} {} m{i}z",
            words[i % 7],
            words[(i / 7) % 7],
            words[(i / 49) % 7]
        );
        let tips: Vec<Mid> = last[c].iter().copied().collect();
        last[c] = Some(post(store.as_ref(), author, &chats_of[c], &text, &tips));
    }
    store.flush().unwrap();
    let ix_dir = dir.path().join("chats");
    let chats = Chats::open(&ix_dir, store.clone(), person(1), cfg()).unwrap();
    let indexed: u32 = chats.list().unwrap().iter().map(|s| s.total).sum();
    assert_eq!(indexed as usize, N);
    drop(chats);
    let bytes = disk_usage(&ix_dir, &|_| true).unwrap().allocated;
    let per = bytes as f64 / N as f64;
    println!("chat index: {bytes} bytes for {N} messages, {per:.0} B/message");
    assert!(per <= 300.0, "{per:.0} bytes per message (target ≤ 300)");
}

/// A history with a late cause (re-ranked), private and public chats, then a reopened index.
fn setup(dir: &Path) -> (Arc<dyn Store>, History) {
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.join("store")).unwrap());
    let (me, bob, carol) = (person(1), person(2), person(3));
    let group = ChatId::private([*me.fid(), *bob.fid(), *carol.fid()]).unwrap();
    let chats = Chats::open(&dir.join("chats"), store.clone(), person(1), cfg()).unwrap();
    // Bob's answer arrives before the message it answers (carol's feed comes later).
    let carol_store = SledStore::open(&dir.join("carol")).unwrap();
    let a = post(&carol_store, &carol, &group, "first, from carol", &[]);
    let b = post(store.as_ref(), &bob, &group, "answer to carol", &[a]);
    post(store.as_ref(), &bob, &group, "and more", &[b]);
    post(store.as_ref(), &bob, &ChatId::Public, "hello all", &[]);
    chats.refresh().unwrap();
    let e = carol_store.entry(carol.fid(), 1).unwrap().unwrap();
    store.append(carol.fid(), 1, &e.entry, &e.mid).unwrap();
    for (cnr, c) in carol_store
        .chunks(carol.fid(), 1)
        .unwrap()
        .iter()
        .enumerate()
    {
        store.put_chunk(carol.fid(), 1, cnr as u32, c).unwrap();
    }
    chats.refresh().unwrap();
    chats.send(&group, "mine").unwrap();
    let h = history(&chats);
    let g = &h.iter().find(|(id, _)| *id == group.to_string()).unwrap().1;
    let texts: Vec<&str> = g.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        ["mine", "and more", "answer to carol", "first, from carol"],
        "causal order"
    );
    drop(chats);
    (store, h)
}

fn reopened(dir: &Path, store: Arc<dyn Store>) -> History {
    let chats = Chats::open(&dir.join("chats"), store, person(1), cfg()).unwrap();
    history(&chats)
}

#[test]
fn a_reopened_index_reads_its_log_back_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let (store, h) = setup(dir.path());
    assert!(dir.path().join("chats/msgs.log").exists());
    assert_eq!(reopened(dir.path(), store), h);
}

#[test]
fn a_missing_message_log_is_derived_again_from_the_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let (store, h) = setup(dir.path());
    std::fs::remove_file(dir.path().join("chats/msgs.log")).unwrap();
    assert_eq!(reopened(dir.path(), store), h);
}

#[test]
fn a_damaged_or_cut_message_log_is_derived_again_from_the_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let (store, h) = setup(dir.path());
    let log = dir.path().join("chats/msgs.log");
    let mut bytes = std::fs::read(&log).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    std::fs::write(&log, &bytes).unwrap();
    assert_eq!(reopened(dir.path(), store.clone()), h, "one flipped bit");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() - 3]).unwrap();
    assert_eq!(reopened(dir.path(), store.clone()), h, "cut short");
    std::fs::write(&log, [0xffu8; 40]).unwrap();
    assert_eq!(reopened(dir.path(), store), h, "garbage");
}
