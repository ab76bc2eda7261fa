//! The WebSocket listener under connection abuse, on real loopback sockets: half-open
//! connections are closed after the handshake timeout, connections past the per-address cap
//! are closed at once, and an honest peer connects and replicates meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lichen::face::ws::{serve_with, WsServerConfig};
use lichen::feed;
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

/// A node serving WebSocket peers with `config`, holding one feed of `ENTRIES` entries.
struct Server {
    rt: Runtime,
    node: Node,
    addr: SocketAddr,
    me: Identity,
    dir: tempfile::TempDir,
}

const ENTRIES: u32 = 20;

fn server(config: WsServerConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("server")).unwrap());
    let me = Identity::from_seed(&[7; 32]);
    for i in 0..ENTRIES {
        let text = format!("entry {i} from the listening node");
        feed::publish(store.as_ref(), &Network::deployed(), &me, text.as_bytes()).unwrap();
    }
    let node = Node::start(store, NodeConfig::default()).unwrap();
    node.add_feed(*me.fid()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(serve_with(listener, node.link(), config));
    Server {
        rt,
        node,
        addr,
        me,
        dir,
    }
}

/// An honest node that dials the server; returns once it holds `n` entries of `fid`.
fn honest_peer(s: &Server, n: u32, bound: Duration) -> (Node, Arc<dyn Store>) {
    let store: Arc<dyn Store> =
        Arc::new(SledStore::open(&s.dir.path().join(format!("peer-{n}"))).unwrap());
    let node = Node::start(store.clone(), NodeConfig::default()).unwrap();
    node.connect_ws(&format!("ws://{}", s.addr))
        .expect("the honest peer is let in");
    wait_for(&store, s.me.fid(), n, bound);
    (node, store)
}

fn wait_for(store: &Arc<dyn Store>, fid: &FeedId, n: u32, bound: Duration) {
    let started = Instant::now();
    while store.frontier(fid).unwrap().map(|f| f.seq) != Some(n) {
        assert!(
            started.elapsed() < bound,
            "the honest peer did not get {n} entries in {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the server closes `tcp` (EOF or reset); `None` if it stays open for `bound`.
async fn closed_within(tcp: &mut TcpStream, bound: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        let left = bound.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// A TCP connection to `to` from the loopback address `from` that never sends a byte.
async fn half_open_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

#[test]
fn half_open_connections_are_closed_after_the_handshake_timeout() {
    let timeout = Duration::from_millis(500);
    let s = server(WsServerConfig {
        handshake_timeout: timeout,
        max_connections: 64,
        max_per_address: 64,
        ..WsServerConfig::default()
    });
    s.rt.block_on(async {
        // An established peer that then stays idle (no packets of its own).
        let (mut idle, _) = tokio_tungstenite::connect_async(format!("ws://{}", s.addr))
            .await
            .unwrap();
        let started = Instant::now();
        let mut silent = Vec::new();
        for _ in 0..20 {
            silent.push(TcpStream::connect(s.addr).await.unwrap());
        }
        // One that starts the HTTP request and dribbles a header line every 100 ms.
        let mut slow = TcpStream::connect(s.addr).await.unwrap();
        let dribble = tokio::spawn(async move {
            slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .await
                .ok()?;
            for i in 0..100 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if slow
                    .write_all(format!("X-{i}: y\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    return Some(i);
                }
            }
            None
        });
        for (i, tcp) in silent.iter_mut().enumerate() {
            let closed = closed_within(tcp, Duration::from_secs(5)).await;
            assert!(
                closed.is_some(),
                "half-open connection {i} still open 5 s after a {timeout:?} handshake timeout"
            );
        }
        assert!(
            started.elapsed() >= timeout - Duration::from_millis(100),
            "closed by the timeout, not refused at once"
        );
        let lines = tokio::time::timeout(Duration::from_secs(5), dribble)
            .await
            .expect("the dribbling client was cut off in time")
            .unwrap();
        assert!(lines.is_some(), "the dribbling client was cut off");

        // The established peer outlived the timeout many times over and still answers.
        tokio::time::sleep(timeout * 2).await;
        idle.send(Message::Ping(b"still here".to_vec().into()))
            .await
            .unwrap();
        let pong = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(m) = idle.next().await {
                if let Message::Pong(p) = m.unwrap() {
                    return p;
                }
            }
            panic!("the idle established peer was closed");
        })
        .await
        .expect("pong in time");
        assert_eq!(pong.as_ref(), b"still here");
    });
    s.node.shutdown(Duration::from_secs(2));
}

#[test]
fn past_the_per_address_cap_connections_are_closed_at_once_and_an_honest_peer_still_replicates() {
    let s = server(WsServerConfig {
        handshake_timeout: Duration::from_secs(60),
        max_connections: 32,
        max_per_address: 4,
        ..WsServerConfig::default()
    });
    // The honest peer dials from 127.0.0.1 and takes one of its address's four places.
    let (peer, peer_store) = honest_peer(&s, ENTRIES, Duration::from_secs(30));
    let localhost = Ipv4Addr::LOCALHOST;
    s.rt.block_on(async {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(half_open_from(localhost, s.addr).await);
        }
        for i in 0..10 {
            let mut extra = half_open_from(localhost, s.addr).await;
            let closed = closed_within(&mut extra, Duration::from_secs(2)).await;
            assert!(
                closed.is_some(),
                "connection {i} past the per-address cap was not closed at once"
            );
        }
        // The ones within the cap are still waiting for their (60 s) handshake timeout.
        for tcp in &mut held {
            assert_eq!(closed_within(tcp, Duration::from_millis(200)).await, None);
        }
    });
    // The established honest link still replicates new entries.
    for i in 0..5 {
        s.node
            .publish(&s.me, format!("after the flood {i}").as_bytes())
            .unwrap();
    }
    wait_for(
        &peer_store,
        s.me.fid(),
        ENTRIES + 5,
        Duration::from_secs(20),
    );
    peer.shutdown(Duration::from_secs(2));
    s.node.shutdown(Duration::from_secs(2));
}

#[test]
fn an_honest_peer_connects_and_syncs_while_200_half_open_connections_exist() {
    let max = 32;
    let s = server(WsServerConfig {
        handshake_timeout: Duration::from_secs(60),
        max_connections: max,
        max_per_address: 8,
        ..WsServerConfig::default()
    });
    // 200 silent connections from 200 loopback addresses (127.0.1.1 …), all kept open.
    let mut flood = s.rt.block_on(async {
        let mut flood = Vec::new();
        for i in 0..200u32 {
            let from = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
            flood.push(half_open_from(from, s.addr).await);
        }
        flood
    });
    let started = Instant::now();
    let (peer, _store) = honest_peer(&s, ENTRIES, Duration::from_secs(30));
    eprintln!(
        "honest peer synced {ENTRIES} entries past 200 half-open connections in {:?}",
        started.elapsed()
    );
    // The listener never held more than its cap: the oldest handshakes made room.
    let closed = s.rt.block_on(async {
        let checks = flood
            .iter_mut()
            .map(|tcp| closed_within(tcp, Duration::from_millis(500)));
        futures_util::future::join_all(checks)
            .await
            .into_iter()
            .filter(Option::is_some)
            .count()
    });
    assert!(
        closed >= 200 - max,
        "only {closed} of 200 half-open connections were closed"
    );
    peer.shutdown(Duration::from_secs(2));
    s.node.shutdown(Duration::from_secs(2));
}
