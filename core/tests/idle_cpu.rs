//! An idle node sleeps: with no face, and again after its last face left, it uses almost no
//! CPU (measured from the kernel's accounting of this process). One test in this binary, so
//! nothing else runs in the process while it measures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lichen::node::{LinkStatus, Node, NodeConfig, NodeEvent};
use lichen::store::{SledStore, Store};
use lichen::Identity;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .expect("reading /proc/self/stat (this test needs Linux procfs)");
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / USER_HZ
}

/// The share of one core this process used over `window`.
fn cpu_share(window: Duration) -> f64 {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    std::thread::sleep(window);
    (cpu_seconds() - c0) / t0.elapsed().as_secs_f64()
}

#[test]
fn an_idle_node_does_not_spin() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("s")).unwrap());
    let node = Node::start(store, NodeConfig::default()).unwrap();
    let me = Identity::from_seed(&[8; 32]);
    node.add_feed(*me.fid()).unwrap();
    node.publish(&me, b"a post nobody fetches").unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let share = cpu_share(Duration::from_secs(3));
    eprintln!("no face: {:.1} % of a core", share * 100.0);
    assert!(
        share < 0.10,
        "a node with no face used {:.0} % of a core",
        share * 100.0
    );

    // A peer comes and goes.
    let addr = node.listen_ws("127.0.0.1:0").unwrap();
    let mut events = node.subscribe();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ws, _) = rt
        .block_on(tokio_tungstenite::connect_async(format!("ws://{addr}")))
        .unwrap();
    let (_sink, mut stream) = ws.split();
    let got =
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), stream.next()).await });
    assert!(matches!(got, Ok(Some(Ok(_)))), "the node greets a new peer");
    drop(_sink);
    drop(stream);
    rt.shutdown_timeout(Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the link did not go down");
        if let Some(NodeEvent::Link {
            status: LinkStatus::Down { .. },
            ..
        }) = node.next_event(&mut events, Duration::from_millis(100))
        {
            break;
        }
    }
    assert!(node.snapshot().unwrap().links.is_empty());

    let share = cpu_share(Duration::from_secs(3));
    eprintln!("after the last face left: {:.1} % of a core", share * 100.0);
    assert!(
        share < 0.10,
        "a node whose last face left used {:.0} % of a core",
        share * 100.0
    );
    node.shutdown(Duration::from_secs(2));
}
