//! The WebSocket listener out of file descriptors (EMFILE, made real by lowering this test
//! process's own descriptor limit with `setrlimit`): every failed accept is reported and
//! followed by a pause instead of an immediate retry, and the listener serves again once
//! descriptors are free. One test in its own file: the limit is per process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lichen::face::ws::{serve_with, WsServerConfig};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tracing::subscriber::Subscriber;
use tracing::{span, Event, Level, Metadata};

/// Counts WARN events of the WebSocket face (the "accept failed" reports).
struct CountWarnings(Arc<AtomicU64>);

impl Subscriber for CountWarnings {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let m = event.metadata();
        if *m.level() == Level::WARN && m.target() == "lichen::face::ws" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Sets this process's soft descriptor limit (the hard one stays). A system call, not a
/// `prlimit` process: spawning one needs descriptors, which this test has just used up.
fn set_soft_nofile(soft: u64) -> bool {
    let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        return false;
    };
    rlimit::setrlimit(rlimit::Resource::NOFILE, soft.min(hard), hard).is_ok()
}

#[test]
fn the_listener_pauses_on_emfile_and_serves_again() {
    let warnings = Arc::new(AtomicU64::new(0));
    tracing::subscriber::set_global_default(CountWarnings(Arc::clone(&warnings))).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let node = Node::start(store, NodeConfig::default()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let config = WsServerConfig {
        accept_backoff: Duration::from_millis(100),
        handshake_timeout: Duration::from_secs(2),
        ..WsServerConfig::default()
    };
    rt.spawn(serve_with(listener, node.link(), config));

    let (original, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    let limit = open_fds() + 6;
    assert!(set_soft_nofile(limit as u64), "the limit is lowered");

    // Connect until this process has no descriptor left: the last connections sit in the
    // listener's backlog, and every accept of them fails with EMFILE.
    let clients = rt.block_on(async {
        let mut clients = Vec::new();
        while let Ok(Ok(tcp)) =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await
        {
            clients.push(tcp);
            assert!(clients.len() < 100, "the lowered limit did not take");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        clients
    });
    let during = warnings.load(Ordering::Relaxed);
    drop(clients);
    assert!(set_soft_nofile(original), "the limit is restored");
    eprintln!("{during} accept failures reported in about one second out of descriptors");
    assert!(during >= 1, "accept failures are reported");
    // A retry without a pause would fail hundreds of thousands of times a second.
    assert!(
        during < 1000,
        "{during} accept failures: the listener retried without pausing"
    );

    // Descriptors are free again: the listener still serves a WebSocket peer.
    rt.block_on(async {
        let (mut ws, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(format!("ws://{addr}")),
        )
        .await
        .expect("connected in time")
        .expect("the listener still accepts");
        ws.send(Message::Ping(b"after".to_vec().into()))
            .await
            .unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Pong(p)))) => {
                    assert_eq!(p.as_ref(), b"after");
                    break;
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("no pong: {other:?}"),
            }
        }
    });
    node.shutdown(Duration::from_secs(2));
}
