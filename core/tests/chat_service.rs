//! The chat service over real sled stores and indexes, with feeds carried between people by
//! copying verified entries (replication itself is tested elsewhere; `chat_three_nodes.rs`
//! runs the chat over real nodes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use lichen::chat::content;
use lichen::chat::private_box::BoxError;
use lichen::chat::tav::Tav;
use lichen::chat::{ChatError, ChatId, Chats, ChatsConfig, DeliveryState, MessageBody, OtherKind};
use lichen::feed;
use lichen::store::{SledStore, Store};
use lichen::wire::bipf::Value;
use lichen::wire::network::Network;
use lichen::wire::Mid;
use lichen::{FeedId, Identity};
use tempfile::TempDir;

struct Person {
    chats: Chats,
    store: Arc<dyn Store>,
    dir: TempDir,
    seed: u8,
}

fn person(seed: u8) -> Person {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let me = Identity::from_seed(&[seed; 32]);
    let chats = Chats::open(
        &dir.path().join("chats"),
        store.clone(),
        me,
        ChatsConfig::default(),
    )
    .unwrap();
    Person {
        chats,
        store,
        dir,
        seed,
    }
}

impl Person {
    fn fid(&self) -> FeedId {
        *self.chats.me()
    }
    fn identity(&self) -> Identity {
        Identity::from_seed(&[self.seed; 32])
    }
    /// Reopens the service (a restart).
    fn reopen(self) -> Person {
        let Person {
            chats,
            store,
            dir,
            seed,
        } = self;
        drop(chats);
        let chats = Chats::open(
            &dir.path().join("chats"),
            store.clone(),
            Identity::from_seed(&[seed; 32]),
            ChatsConfig::default(),
        )
        .unwrap();
        Person {
            chats,
            store,
            dir,
            seed,
        }
    }
}

/// Copies every entry and chunk `from` holds that `to` lacks, then lets `to` index them.
fn carry(from: &Person, to: &Person) {
    for (fid, _) in from.store.feeds().unwrap() {
        carry_feed(from, to, &fid);
    }
}

/// Copies one feed.
fn carry_feed(from: &Person, to: &Person, fid: &FeedId) {
    let last = from.store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    let have = to.store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    for seq in have + 1..=last {
        let e = from.store.entry(fid, seq).unwrap().unwrap();
        to.store.append(fid, seq, &e.entry, &e.mid).unwrap();
        for (cnr, c) in from.store.chunks(fid, seq).unwrap().iter().enumerate() {
            to.store.put_chunk(fid, seq, cnr as u32, c).unwrap();
        }
    }
    to.chats.refresh().unwrap();
}

fn publish_raw(p: &Person, content: &[u8]) -> Mid {
    feed::publish(
        p.store.as_ref(),
        &Network::deployed(),
        &p.identity(),
        content,
    )
    .unwrap()
    .signed
    .mid
}

#[test]
fn one_to_one_chat_with_receipts_and_unread_counts() {
    let (a, b) = (person(1), person(2));
    a.chats.add_contact(b.fid(), Some("bob"), 1).unwrap();
    assert_eq!(a.chats.resolve("Bob").unwrap(), b.fid());
    assert!(
        a.store.members().unwrap().contains(&b.fid()),
        "contact's feed kept"
    );
    let chat = a
        .chats
        .chat_with(&[a.chats.resolve("bob").unwrap()])
        .unwrap();
    let sent = a.chats.send(&chat, "hello bob").unwrap();
    assert_eq!(sent.state, Some(DeliveryState::Written));

    carry(&a, &b);
    let list = b.chats.list().unwrap();
    let s = list.iter().find(|s| s.id == chat).unwrap();
    assert_eq!((s.unread, s.total), (1, 1));
    let page = b.chats.page(&chat, None, 10).unwrap();
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].text(), Some("hello bob"));
    assert_eq!(page.messages[0].author, a.fid());
    assert_eq!(page.messages[0].state, None);
    // B confirmed delivery with a DLV entry, sealed to {B, A}.
    assert_eq!(b.store.frontier(&b.fid()).unwrap().unwrap().seq, 1);

    carry(&b, &a);
    let m = a.chats.message(&sent.mid).unwrap().unwrap();
    assert_eq!(m.state, Some(DeliveryState::Delivered));

    b.chats.mark_read(&chat).unwrap();
    assert_eq!(b.chats.summary(&chat).unwrap().unread, 0);
    carry(&b, &a);
    let m = a.chats.message(&sent.mid).unwrap().unwrap();
    assert_eq!(m.state, Some(DeliveryState::Read));

    // Receipts are not messages, and nothing shows twice however often it is indexed.
    carry(&a, &b);
    carry(&b, &a);
    b.chats.refresh().unwrap();
    assert_eq!(b.chats.summary(&chat).unwrap().total, 1);
    assert_eq!(a.chats.summary(&chat).unwrap().total, 1);
    // B's receipts went out once each.
    assert_eq!(b.store.frontier(&b.fid()).unwrap().unwrap().seq, 2);
}

#[test]
fn group_of_three_reads_for_members_only() {
    let (a, b, c, d) = (person(1), person(2), person(3), person(4));
    let group = a.chats.chat_with(&[b.fid(), c.fid()]).unwrap();
    a.chats.send(&group, "meet at the ridge").unwrap();
    for p in [&b, &c, &d] {
        carry(&a, p);
    }
    for p in [&b, &c] {
        let s = p.chats.summary(&group).unwrap();
        assert_eq!((s.total, s.unread), (1, 1));
        assert_eq!(p.chats.search("RIDGE", 10).unwrap().len(), 1);
    }
    // D replicates A's feed but cannot read the group: listed as encrypted for others.
    assert_eq!(d.chats.summary(&group).unwrap().total, 0);
    assert!(d.chats.search("ridge", 10).unwrap().is_empty());
    let other = d.chats.other_entries(10).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].kind, OtherKind::Sealed);
    // A reply from C lands in the same chat for A.
    c.chats.send(&group, "on my way").unwrap();
    carry(&c, &a);
    let page = a.chats.page(&group, None, 10).unwrap();
    let texts: Vec<_> = page.messages.iter().map(|m| m.text().unwrap()).collect();
    assert_eq!(texts, ["on my way", "meet at the ridge"]);
    // No DLV/ACK in groups (as deployed): C wrote its group delivery record (HLD, sealed to
    // the group, ADR 0026) when A's message arrived, then its post.
    assert_eq!(c.store.frontier(&c.fid()).unwrap().unwrap().seq, 2);
    let rec = a.chats.delivery(&page.messages[1].mid).unwrap().unwrap();
    // A has C's record, not B's: stored by A and C.
    assert_eq!((rec.stored(), rec.read()), (2, 1), "{}", rec.describe());
}

#[test]
fn eight_members_are_refused_and_notes_to_self_work() {
    let a = person(1);
    let others: Vec<FeedId> = (10..17u8)
        .map(|i| *Identity::from_seed(&[i; 32]).fid())
        .collect();
    let big = a.chats.chat_with(&others).unwrap();
    assert_eq!(big.members().len(), 8);
    assert!(matches!(
        a.chats.send(&big, "too many"),
        Err(ChatError::Box(BoxError::TooManyRecipients(8)))
    ));
    let seven = a.chats.chat_with(&others[..6]).unwrap();
    a.chats.send(&seven, "just right").unwrap();
    let notes = ChatId::notes(&a.fid());
    a.chats.send(&notes, "buy batteries").unwrap();
    let s = a.chats.summary(&notes).unwrap();
    assert_eq!(
        (s.title.as_str(), s.total, s.unread),
        ("Notes to self", 1, 0)
    );
    let not_mine = ChatId::private(others.clone()).unwrap();
    assert!(matches!(
        a.chats.send(&not_mine, "x"),
        Err(ChatError::NotAMember)
    ));
}

fn tav(tips: &[Mid], text: &str, ts: i64) -> Vec<u8> {
    Tav {
        tips: tips.iter().map(Mid::to_b64).collect(),
        text: Some(text.into()),
        voice: None,
        ts,
        recps: None,
        old_format: false,
    }
    .encode()
}

#[test]
fn order_is_causal_then_time_even_when_causes_arrive_late() {
    let (a, b, c) = (person(1), person(2), person(3));
    // A posts at t=1000; B replies citing it, with a clock 500 s behind; A answers.
    let m1 = publish_raw(&a, &tav(&[], "question", 1000));
    carry(&a, &b);
    let m2 = publish_raw(&b, &tav(&[m1], "answer", 500));
    carry(&b, &a);
    publish_raw(&a, &tav(&[m2], "thanks", 600));
    // An unrelated post by C at t=550 (no tips) sorts by time among the first rank.
    publish_raw(&c, &tav(&[], "weather", 550));
    let expected = ["thanks", "answer", "question", "weather"];
    // D learns B's answer before A's question (a cause arrives late).
    let d = person(4);
    carry_feed(&c, &d, &c.fid());
    carry_feed(&b, &d, &b.fid());
    carry_feed(&a, &d, &a.fid());
    let texts = |p: &Person| -> Vec<String> {
        p.chats
            .page(&ChatId::Public, None, 10)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.text().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts(&d), expected);
    // E learns A's thanks before B's answer (the middle of the chain arrives last).
    let e = person(5);
    carry_feed(&a, &e, &a.fid());
    carry_feed(&c, &e, &c.fid());
    carry_feed(&b, &e, &b.fid());
    assert_eq!(texts(&e), expected);
}

#[test]
fn paging_newest_first_by_cursor_without_gaps_or_repeats() {
    let a = person(1);
    for i in 0..25 {
        publish_raw(&a, &tav(&[], &format!("m{i:02}"), 100 + i));
    }
    a.chats.refresh().unwrap();
    let (summary, first) = a.chats.open_chat(&ChatId::Public, 10).unwrap();
    assert_eq!(summary.total, 25);
    let mut seen: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        seen.extend(page.messages.iter().map(|m| m.text().unwrap().to_owned()));
        let Some(next) = page.next.clone() else { break };
        let again: lichen::chat::Cursor = next.to_string().parse().unwrap();
        page = a.chats.page(&ChatId::Public, Some(&again), 10).unwrap();
    }
    let expected: Vec<String> = (0..25).rev().map(|i| format!("m{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn unreadable_entries_are_listed_never_lost_and_the_index_rebuilds() {
    let (a, b) = (person(1), person(2));
    let bad_tav = Value::List(vec![
        Value::str("TAV"),
        Value::List(vec![]),
        Value::Int(42),
        Value::Null,
        Value::Int(1),
    ])
    .encode();
    publish_raw(&a, b"\x00\x01garbage");
    publish_raw(&a, &bad_tav);
    publish_raw(
        &a,
        &Value::List(vec![Value::str("KAN"), Value::Null]).encode(),
    );
    let mut tampered = content::seal_entry(&content::alias_value("x"), &[b.fid()]).unwrap();
    *tampered.last_mut().unwrap() ^= 1;
    publish_raw(&a, &tampered);
    publish_raw(&a, &tav(&[], "fine", 5));
    carry(&a, &b);
    // The public post with a wrong field type shows in the channel as unreadable.
    let page = b.chats.page(&ChatId::Public, None, 10).unwrap();
    assert_eq!(page.messages.len(), 2);
    assert!(matches!(
        &page.messages[1].body,
        MessageBody::Unreadable { reason } if reason.contains("text")
    ));
    let other = b.chats.other_entries(10).unwrap();
    let kinds: Vec<_> = other.iter().map(|o| (o.seq, o.kind.clone())).collect();
    assert!(matches!(&kinds[0], (1, OtherKind::Unreadable { .. })));
    assert!(matches!(&kinds[1], (3, OtherKind::OtherApp { tag }) if tag == "KAN"));
    assert!(
        matches!(&kinds[2], (4, OtherKind::Unreadable { reason, .. }) if reason.contains("authenticate"))
    );
    assert_eq!(
        b.store.frontier(&a.fid()).unwrap().unwrap().seq,
        5,
        "all in the log"
    );

    // Read markers survive a restart and a rebuild; the rebuilt index is the same.
    b.chats.mark_read(&ChatId::Public).unwrap();
    let before = b.chats.list().unwrap();
    let b = b.reopen();
    b.chats.rebuild().unwrap();
    assert_eq!(b.chats.list().unwrap(), before);
    assert_eq!(b.chats.summary(&ChatId::Public).unwrap().unread, 0);
    assert_eq!(b.chats.other_entries(10).unwrap().len(), 3);
}

#[test]
fn long_texts_and_aliases() {
    let (a, b) = (person(1), person(2));
    let long = "ridge ".repeat(400);
    a.chats.send(&ChatId::Public, &long).unwrap();
    a.chats.set_my_alias("Alice").unwrap();
    carry(&a, &b);
    let m = &b.chats.page(&ChatId::Public, None, 1).unwrap().messages[0];
    assert_eq!(m.text(), Some(long.as_str()));
    assert_eq!(
        b.chats.person(&a.fid()).unwrap().iam.as_deref(),
        Some("Alice")
    );
    b.chats.add_contact(a.fid(), None, 2).unwrap();
    assert_eq!(b.chats.resolve("alice").unwrap(), a.fid());
    assert_eq!(b.chats.contacts().unwrap()[0].trust, Some(2));
    b.chats.set_alias(&a.fid(), Some("Al")).unwrap();
    assert_eq!(b.chats.contacts().unwrap()[0].name, "Al");
    b.chats.delete_contact(&a.fid()).unwrap();
    assert!(b.chats.contacts().unwrap().is_empty());
    assert!(matches!(
        b.chats.resolve("nobody"),
        Err(ChatError::UnknownContact(_))
    ));
}

#[test]
fn search_survives_a_lost_texts_file() {
    let a = person(1);
    a.chats
        .send(&ChatId::Public, "storm coming over the ridge")
        .unwrap();
    a.chats.send(&ChatId::notes(&a.fid()), "tent pegs").unwrap();
    assert_eq!(a.chats.search("ridge", 10).unwrap().len(), 1);
    let a = a.reopen();
    // A power cut could cost the file more than the database: it is rebuilt from the messages.
    std::fs::write(a.dir.path().join("chats/texts.log"), b"\x00\x00").unwrap();
    let a = a.reopen();
    let found = a.chats.search("TENT", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].chat, ChatId::notes(&a.fid()));
    assert_eq!(a.chats.search("storm ridge", 10).unwrap().len(), 1);
}

#[test]
fn the_service_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Chats>();
    let a = Arc::new(person(1));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || {
                for j in 0..5 {
                    a.chats
                        .send(&ChatId::Public, &format!("t{i} m{j}"))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let page = a.chats.page(&ChatId::Public, None, 100).unwrap();
    assert_eq!(page.messages.len(), 20);
    assert_eq!(a.store.frontier(&a.fid()).unwrap().unwrap().seq, 20);
}
