//! Group delivery per member (ADR 0026), over real sled stores whose feeds are copied between
//! devices as replication would (entries and chunks, each device indexing what it gets):
//!
//! * members' signed HLD records give "stored by n of m · read by k" with who, learned from a
//!   member's record carried by another (A never has a link to C's device);
//! * the clamp: a lying member's records (an entry that does not exist, a wrong message id,
//!   a huge number) move no per-member state, and a message written after a record starts at
//!   *written*;
//! * a gap proved by a member's record names the author and the count, and clears when the
//!   entries arrive by another way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use lichen::chat::holds::{chat_tag, HoldRow, Holds};
use lichen::chat::{content, ChatEvent, ChatId, Chats, ChatsConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};
use tempfile::TempDir;

struct Dev {
    id: Identity,
    store: Arc<dyn Store>,
    chats: Chats,
    _dir: TempDir,
}

fn cfg() -> ChatsConfig {
    ChatsConfig {
        holds_every: Some(Duration::ZERO),
        ..ChatsConfig::default()
    }
}

fn dev(seed: u8) -> Dev {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("s")).unwrap());
    let chats = Chats::open(
        &dir.path().join("c"),
        store.clone(),
        Identity::from_seed(&[seed; 32]),
        cfg(),
    )
    .unwrap();
    Dev {
        id: Identity::from_seed(&[seed; 32]),
        store,
        chats,
        _dir: dir,
    }
}

/// Copies what `from` holds of `fid`'s feed that `to` does not, and lets `to` index it.
fn carry(from: &Dev, to: &Dev, fid: &FeedId) {
    let have = to.store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    let last = from.store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    for seq in have + 1..=last {
        let e = from.store.entry(fid, seq).unwrap().unwrap();
        to.store.append(fid, seq, &e.entry, &e.mid).unwrap();
        for (n, c) in from.store.chunks(fid, seq).unwrap().iter().enumerate() {
            to.store.put_chunk(fid, seq, n as u32, c).unwrap();
        }
    }
    to.chats.refresh().unwrap();
}

fn names(devs: &[&Dev]) {
    let n = ["alice", "bob", "carol", "dave"];
    for d in devs {
        for (i, o) in devs.iter().enumerate() {
            if d.id.fid() != o.id.fid() {
                d.chats.add_contact(*o.id.fid(), Some(n[i]), 2).unwrap();
            }
        }
    }
}

/// (stored by, read by) as names, for message `mid` on device `d`.
fn who(d: &Dev, mid: &lichen::Mid) -> (Vec<String>, Vec<String>) {
    let g = d.chats.delivery(mid).unwrap().expect("a group message");
    let pick = |f: fn(&lichen::chat::MemberState) -> bool| {
        let mut v: Vec<String> = g
            .members
            .iter()
            .filter(|m| f(m))
            .map(|m| m.name.clone())
            .collect();
        v.sort();
        v
    };
    (pick(|m| m.stored), pick(|m| m.read))
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A forged record from `liar` (a member) about `group`, sealed to the group.
fn forge(liar: &Dev, group: &ChatId, rows: Vec<HoldRow>) {
    let h = Holds {
        chat: chat_tag(group),
        rows,
        ts: 1,
    };
    let mut recps: Vec<FeedId> = group
        .members()
        .iter()
        .copied()
        .filter(|m| m != liar.id.fid())
        .collect();
    recps.push(*liar.id.fid());
    let c = content::seal_entry(&h.to_value(), &recps).unwrap();
    lichen::feed::append_own(liar.store.as_ref(), &Network::deployed(), &liar.id, &c).unwrap();
}

#[test]
fn members_records_give_stored_and_read_by_whom_and_a_liar_moves_nothing() {
    let (a, b, c, d) = (dev(0xa1), dev(0xb2), dev(0xc3), dev(0xd4));
    names(&[&a, &b, &c, &d]);
    let fa = *a.id.fid();
    let group = a
        .chats
        .chat_with(&[*b.id.fid(), *c.id.fid(), *d.id.fid()])
        .unwrap();
    let idx = |f: &FeedId| group.members().iter().position(|m| m == f).unwrap() as u8;
    let m1 = a.chats.send(&group, "water at the north hut").unwrap();
    assert_eq!(
        a.chats.delivery(&m1.mid).unwrap().unwrap().describe(),
        "stored by 1 of 4 (me) · read by 1 (me)"
    );
    // A → B → C: C never meets A. C reads it; C's record reaches A only through B.
    carry(&a, &b, &fa);
    carry(&b, &c, &fa);
    c.chats.mark_read(&group).unwrap();
    carry(&c, &b, c.id.fid());
    carry(&b, &a, b.id.fid());
    carry(&b, &a, c.id.fid());
    let mut rx = a.chats.subscribe();
    assert_eq!(
        who(&a, &m1.mid),
        (s(&["bob", "carol", "me"]), s(&["carol", "me"]))
    );
    assert_eq!(
        a.chats.delivery(&m1.mid).unwrap().unwrap().describe(),
        "stored by 3 of 4 (carol, bob, me) · read by 2 (carol, me)"
    );
    // B sees the same from C's record (B holds it, has not read it).
    assert_eq!(
        who(&b, &m1.mid),
        (s(&["alice", "carol", "me"]), s(&["alice", "carol"]))
    );

    // Dave lies: he holds nothing of A's feed, yet claims entry 1 with a wrong message id,
    // then a huge number, then the next entry before A has written it.
    let here = a.store.frontier(&fa).unwrap().unwrap();
    forge(
        &d,
        &group,
        vec![HoldRow {
            member: idx(&fa),
            held: here.seq,
            prefix: [0xee; 6],
            read: here.seq,
        }],
    );
    carry(&d, &a, d.id.fid());
    forge(
        &d,
        &group,
        vec![HoldRow {
            member: idx(&fa),
            held: u32::MAX,
            prefix: [0; 6],
            read: u32::MAX,
        }],
    );
    carry(&d, &a, d.id.fid());
    assert_eq!(
        who(&a, &m1.mid),
        (s(&["bob", "carol", "me"]), s(&["carol", "me"])),
        "a record for an entry it does not know counts nothing"
    );
    // A message written after every record starts at written, whatever the records said.
    let m2 = a.chats.send(&group, "leaving at dawn").unwrap();
    assert_eq!(who(&a, &m2.mid), (s(&["me"]), s(&["me"])));
    // A malformed record (read beyond held) is refused whole, and listed, not shown.
    let bad = lichen::wire::bipf::Value::List(vec![
        lichen::wire::bipf::Value::str("HLD"),
        lichen::wire::bipf::Value::Bytes(chat_tag(&group).to_vec()),
        lichen::wire::bipf::Value::List(vec![lichen::wire::bipf::Value::List(vec![
            lichen::wire::bipf::Value::Int(i64::from(idx(&fa))),
            lichen::wire::bipf::Value::Int(1),
            lichen::wire::bipf::Value::Bytes(m1.mid.0[..6].to_vec()),
            lichen::wire::bipf::Value::Int(9),
        ])]),
    ]);
    let c2 = content::seal_entry(&bad, group.members()).unwrap();
    lichen::feed::append_own(d.store.as_ref(), &Network::deployed(), &d.id, &c2).unwrap();
    carry(&d, &a, d.id.fid());
    assert_eq!(who(&a, &m1.mid).0, s(&["bob", "carol", "me"]));
    assert!(a
        .chats
        .other_entries(100)
        .unwrap()
        .iter()
        .any(|o| o.author == *d.id.fid()));
    // Nothing of that reached A's conversation as a message.
    assert_eq!(a.chats.summary(&group).unwrap().total, 2);

    // B gets m2 and says so: A's second message is now stored by B too.
    carry(&a, &b, &fa);
    carry(&b, &a, b.id.fid());
    assert_eq!(who(&a, &m2.mid).0, s(&["bob", "me"]));
    let mut moved = false;
    while let Ok(e) = rx.try_recv() {
        moved |= matches!(e, ChatEvent::Members { chat } if chat == group);
    }
    assert!(moved, "a Members event told the UI");
}

#[test]
fn a_gap_proved_by_a_members_record_names_the_author_and_heals() {
    let (a, b, c) = (dev(0x11), dev(0x22), dev(0x33));
    names(&[&a, &b, &c]);
    let group = c.chats.chat_with(&[*a.id.fid(), *b.id.fid()]).unwrap();
    let fc = *c.id.fid();
    a.chats.send(&group, "anyone at the ridge?").unwrap();
    for t in ["one", "two", "three"] {
        c.chats.send(&group, t).unwrap();
    }
    // B holds carol's three messages; its record reaches A; carol's feed does not.
    carry(&c, &b, &fc);
    let mut rx = a.chats.subscribe();
    carry(&b, &a, b.id.fid());
    let gaps = a.chats.gaps(&group).unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    // Entries of carol's feed: her two contact entries (TRT) and the three posts.
    let n = c.store.frontier(&fc).unwrap().unwrap().seq;
    assert_eq!(n, 5);
    assert_eq!((gaps[0].author, gaps[0].missing), (fc, n));
    assert_eq!(gaps[0].vouched_by, vec![*b.id.fid()]);
    assert_eq!(
        gaps[0].describe(),
        "5 messages from carol have not arrived yet (bob's signed record says so; could \
         come over a link)"
    );
    let mut told = None;
    while let Ok(e) = rx.try_recv() {
        if let ChatEvent::Gap {
            chat,
            author,
            missing,
        } = e
        {
            told = Some((chat, author, missing));
        }
    }
    assert_eq!(told, Some((group.clone(), fc, n)));
    // Carol's entries arrive another way (straight from carol): the gap clears.
    carry(&c, &a, &fc);
    assert!(a.chats.gaps(&group).unwrap().is_empty());
    assert_eq!(a.chats.summary(&group).unwrap().total, 4);
}
