//! Routes per message over real nodes and a real WebSocket link on loopback: a message that
//! arrives records the link it came on, my own records the link it first left by, and both
//! survive a rebuild of the index (routes are local knowledge, not in the feeds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::chat::{ChatId, Chats, ChatsConfig, LinkKind, RouteDirection};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::Identity;
use tempfile::TempDir;

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

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn each_message_records_the_link_it_arrived_on_or_left_by() {
    let (a, b) = (peer(0xa5), peer(0xb6));
    b.chats
        .add_contact(*a.chats.me(), Some("alice"), 2)
        .unwrap();
    let sent = a.chats.send(&ChatId::Public, "over the ridge").unwrap();
    assert_eq!(sent.route, None, "written, not yet on any link");

    let addr = a.node.listen_ws("127.0.0.1:0").unwrap();
    b.node.connect_ws(&format!("ws://{addr}")).unwrap();
    wait_until("B to receive A's message", || {
        b.chats.message(&sent.mid).unwrap().is_some()
    });
    wait_until("B to record the route", || {
        b.chats.message(&sent.mid).unwrap().unwrap().route.is_some()
    });
    let got = b.chats.message(&sent.mid).unwrap().unwrap();
    let r = got.route.unwrap();
    assert_eq!(
        (r.kind, r.direction),
        (LinkKind::WebSocket, RouteDirection::Arrived)
    );
    assert!(r.at > 1_600_000_000, "a wall-clock time: {}", r.at);

    wait_until("A to record the link its message left by", || {
        a.chats.message(&sent.mid).unwrap().unwrap().route.is_some()
    });
    let mine = a.chats.message(&sent.mid).unwrap().unwrap().route.unwrap();
    assert_eq!(
        (mine.kind, mine.direction),
        (LinkKind::WebSocket, RouteDirection::Left)
    );

    // Routes are not in the feeds: a rebuild keeps them.
    b.chats.rebuild().unwrap();
    assert_eq!(b.chats.message(&sent.mid).unwrap().unwrap().route, Some(r));
}
