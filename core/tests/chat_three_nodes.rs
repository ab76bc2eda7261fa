//! Three nodes A–B–C over real WebSocket links (A–B and B–C only: A and C never meet). A's
//! private message to {A, C} reaches C through B, which cannot read it, and A watches its
//! delivery state advance: written → sent → stored (B holds it) → delivered (C's DLV came back
//! through B) → read (C marked the chat read; its ACK came back). Then malformed entries from
//! A travel the same way and C lists them as unreadable while everything keeps working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::chat::content;
use lichen::chat::{ChatEvent, Chats, ChatsConfig, DeliveryState, OtherKind};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::bipf::Value;
use lichen::wire::Mid;
use lichen::Identity;
use tempfile::TempDir;
use tokio::sync::broadcast::Receiver;

const STAGE: Duration = Duration::from_secs(40);

struct Peer {
    node: Node,
    chats: Chats,
    _dir: TempDir,
}

fn peer(seed: u8) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let chats = Chats::open(
        &dir.path().join("chats"),
        store.clone(),
        Identity::from_seed(&[seed; 32]),
        ChatsConfig::default(),
    )
    .unwrap();
    let node = Node::start(store, NodeConfig::default()).unwrap();
    chats.attach(&node).unwrap();
    Peer {
        node,
        chats,
        _dir: dir,
    }
}

/// Waits until `pred` holds for some event (or already holds), collecting states of `mid`.
fn wait_for(
    rx: &mut Receiver<ChatEvent>,
    states: &mut Vec<DeliveryState>,
    mid: &Mid,
    mut done: impl FnMut(&[DeliveryState]) -> bool,
) {
    let start = Instant::now();
    while !done(states) {
        assert!(
            start.elapsed() < STAGE,
            "timed out; states so far {states:?}"
        );
        match rx.try_recv() {
            Ok(ChatEvent::State { mid: m, state, .. }) if m == *mid => {
                if states.last() != Some(&state) {
                    states.push(state);
                }
            }
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < STAGE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_message_reaches_c_through_b_and_its_state_advances_to_read() {
    let (a, b, c) = (peer(0xa1), peer(0xb2), peer(0xc3));
    let (fa, fc) = (*a.chats.me(), *c.chats.me());
    a.chats.add_contact(fc, Some("carol"), 2).unwrap();
    c.chats.add_contact(fa, Some("alice"), 2).unwrap();

    // Stage 1: A–B only. B stores A's message.
    let addr_a = a.node.listen_ws("127.0.0.1:0").unwrap();
    let addr_b = b.node.listen_ws("127.0.0.1:0").unwrap();
    b.node.connect_ws(&format!("ws://{addr_a}")).unwrap();
    let mut rx = a.chats.subscribe();
    let chat = a.chats.chat_with(&[fc]).unwrap();
    let sent = a.chats.send(&chat, "through the ridge relay").unwrap();
    let mut states = vec![sent.state.unwrap()];
    wait_for(&mut rx, &mut states, &sent.mid, |s| {
        s.contains(&DeliveryState::Stored)
    });
    // B holds the entry but cannot read it.
    assert_eq!(b.chats.summary(&chat).unwrap().total, 0);

    // Stage 2: B–C. C receives it through B and confirms delivery.
    c.node.connect_ws(&format!("ws://{addr_b}")).unwrap();
    wait_until("C to receive the message", || {
        c.chats.summary(&chat).unwrap().total == 1
    });
    let cs = c.chats.summary(&chat).unwrap();
    assert_eq!((cs.unread, cs.title.as_str()), (1, "alice"));
    let got = &c.chats.page(&chat, None, 5).unwrap().messages[0];
    assert_eq!(got.text(), Some("through the ridge relay"));
    assert_eq!(got.author, fa);
    wait_for(&mut rx, &mut states, &sent.mid, |s| {
        s.contains(&DeliveryState::Delivered)
    });

    // Stage 3: C reads it.
    c.chats.mark_read(&chat).unwrap();
    assert_eq!(c.chats.summary(&chat).unwrap().unread, 0);
    wait_for(&mut rx, &mut states, &sent.mid, |s| {
        s.contains(&DeliveryState::Read)
    });
    assert_eq!(
        states,
        [
            DeliveryState::Written,
            DeliveryState::Sent,
            DeliveryState::Stored,
            DeliveryState::Delivered,
            DeliveryState::Read
        ]
    );
    assert_eq!(
        a.chats.message(&sent.mid).unwrap().unwrap().state,
        Some(DeliveryState::Read)
    );
    // A and C never had a link.
    let links = |p: &Peer| p.node.snapshot().unwrap().links.len();
    assert_eq!((links(&a), links(&b), links(&c)), (1, 2, 1));

    // Malformed entries from A reach C, are listed as unreadable, and nothing stops.
    let me_a = Identity::from_seed(&[0xa1; 32]);
    let wrong_types = Value::List(vec![
        Value::str("TAV"),
        Value::List(vec![]),
        Value::str("x"),
        Value::Bytes(vec![1]),
        Value::str("yesterday"),
        Value::Int(5),
    ]);
    let mut tampered = content::seal_entry(&content::alias_value("x"), &[fc, fa]).unwrap();
    tampered[60] ^= 0xff;
    let mut altered_body = content::seal_entry(&wrong_types, &[fc, fa]).unwrap();
    *altered_body.last_mut().unwrap() ^= 1;
    for bad in [
        b"\xfe\xfe\xfe".to_vec(),
        content::seal_entry(&wrong_types, &[fc, fa]).unwrap(),
        tampered,
        altered_body,
    ] {
        a.node.publish(&me_a, &bad).unwrap();
    }
    a.chats.refresh().unwrap();
    let after = a.chats.send(&chat, "still here").unwrap();
    wait_until("C to receive the message after the bad ones", || {
        c.chats.message(&after.mid).unwrap().is_some()
    });
    let other = c.chats.other_entries(100).unwrap();
    // (A's earlier TRT entry, sealed to A alone, is listed too: skip it.)
    let from_a: Vec<_> = other
        .iter()
        .filter(|o| o.author == fa && o.seq > sent.seq)
        .collect();
    assert_eq!(from_a.len(), 4, "{from_a:?}");
    let unreadable = from_a
        .iter()
        .filter(|o| matches!(o.kind, OtherKind::Unreadable { .. }))
        .count();
    // The header-damaged box cannot be told from one addressed to others.
    let sealed = from_a
        .iter()
        .filter(|o| o.kind == OtherKind::Sealed)
        .count();
    assert_eq!((unreadable, sealed), (3, 1), "{from_a:?}");
    let held = c.node.store().frontier(&fa).unwrap().unwrap().seq;
    assert_eq!(held, after.seq, "every entry of A is in C's log");
    assert_eq!(c.chats.summary(&chat).unwrap().total, 2);

    for p in [a, b, c] {
        p.node.shutdown(Duration::from_secs(3));
    }
}
