//! Delivery states follow evidence, not a peer's word: a stranger's WANT claiming it holds
//! `u32::MAX - 1` entries of my feed must not mark my messages *stored*, neither those
//! written before nor those written after, nor after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lichen::chat::{ChatId, Chats, ChatsConfig, DeliveryState};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::wire::request::Want;
use lichen::wire::Mid;
use lichen::Identity;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const ME: u8 = 0x51;

fn open_chats(dir: &std::path::Path, store: Arc<dyn Store>) -> Chats {
    Chats::open(
        &dir.join("chats"),
        store,
        Identity::from_seed(&[ME; 32]),
        ChatsConfig::default(),
    )
    .unwrap()
}

/// A raw WebSocket peer with no identity: sends what it is told, ignores what it gets.
struct Stranger {
    rt: tokio::runtime::Runtime,
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl Stranger {
    fn connect(addr: std::net::SocketAddr) -> Stranger {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (ws, _) = rt
            .block_on(tokio_tungstenite::connect_async(format!("ws://{addr}")))
            .unwrap();
        let (mut sink, mut stream) = ws.split();
        rt.spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        rt.spawn(async move {
            while let Some(p) = rx.recv().await {
                if sink.send(Message::binary(p)).await.is_err() {
                    break;
                }
            }
        });
        Stranger { rt, tx }
    }

    /// A WANT listing every feed of a GOset of `n` keys with XOR `xor`, each from `next`.
    fn want(&self, n: usize, xor: &[u8; 32], next: u32) {
        let w = Want {
            offs: 0,
            next: vec![next; n],
        };
        self.tx.send(w.encode(&Network::deployed(), xor)).unwrap();
    }
}

fn state(chats: &Chats, mid: &Mid) -> DeliveryState {
    chats.message(mid).unwrap().unwrap().state.unwrap()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_strangers_want_does_not_make_my_messages_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let chats = open_chats(dir.path(), store.clone());
    let node = Node::start(store.clone(), NodeConfig::default()).unwrap();
    chats.attach(&node).unwrap();
    let chat = ChatId::Public;
    let m1 = chats.send(&chat, "one").unwrap().mid;
    let m2 = chats.send(&chat, "two").unwrap().mid;
    assert_eq!(state(&chats, &m1), DeliveryState::Written);

    let addr = node.listen_ws("127.0.0.1:0").unwrap();
    let h = Stranger::connect(addr);
    wait_until("the stranger's face", || {
        node.snapshot().unwrap().links.len() == 1
    });
    let snap = node.snapshot().unwrap();
    let (n, xor) = (snap.goset_len, snap.goset_xor);

    // "I hold 4294967294 entries of every feed", before anything was sent to anyone.
    h.want(n, &xor, u32::MAX);
    std::thread::sleep(Duration::from_millis(1_500));
    for m in [&m1, &m2] {
        assert_eq!(state(&chats, m), DeliveryState::Written, "nothing was sent");
    }
    let m3 = chats.send(&chat, "three").unwrap().mid;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(state(&chats, &m3), DeliveryState::Written);

    // The stranger really fetches my three entries: they are sent, and now it may hold them.
    h.want(n, &xor, 1);
    wait_until("my entries to be sent", || {
        state(&chats, &m3) >= DeliveryState::Sent
    });
    // A message written afterwards and never sent stays written, whatever it claims.
    let m4 = chats.send(&chat, "four").unwrap().mid;
    h.want(n, &xor, u32::MAX);
    wait_until("the fetched entries to count as stored", || {
        state(&chats, &m3) == DeliveryState::Stored
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state(&chats, &m4), DeliveryState::Written);

    // After a restart nothing has moved on.
    drop(h.tx);
    h.rt.shutdown_timeout(Duration::from_secs(1));
    node.shutdown(Duration::from_secs(2));
    drop(chats);
    let chats = open_chats(dir.path(), store.clone());
    assert_eq!(state(&chats, &m3), DeliveryState::Stored);
    assert_eq!(state(&chats, &m4), DeliveryState::Written);
    let m5 = chats.send(&chat, "five").unwrap().mid;
    assert_eq!(state(&chats, &m5), DeliveryState::Written);
}
