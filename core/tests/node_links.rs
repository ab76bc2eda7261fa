//! Nodes replicating over real sockets on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::feed;
use lichen::node::{LinkStatus, Node, NodeConfig, NodeEvent};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};

fn author(store: &dyn Store, seed: u8, n: u32) -> FeedId {
    let me = Identity::from_seed(&[seed; 32]);
    for i in 0..n {
        let len = if i % 2 == 0 {
            120 + (i as usize * 13) % 600
        } else {
            25
        };
        let content: Vec<u8> = (0..len).map(|b| (b as u32 ^ i) as u8).collect();
        feed::publish(store, &Network::deployed(), &me, &content).unwrap();
    }
    *me.fid()
}

fn logs_equal(a: &dyn Store, b: &dyn Store) -> bool {
    let fa = a.feeds().unwrap();
    if fa != b.feeds().unwrap() {
        return false;
    }
    fa.iter().all(|(fid, front)| {
        b.open_chains(fid).unwrap().is_empty()
            && (1..=front.seq).all(|s| {
                a.entry(fid, s).unwrap() == b.entry(fid, s).unwrap()
                    && a.chunks(fid, s).unwrap() == b.chunks(fid, s).unwrap()
            })
    })
}

#[test]
fn two_nodes_over_websocket_converge_on_two_feeds_of_1000_entries() {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let f1 = author(sa.as_ref(), 1, 1000);
    let f2 = author(sa.as_ref(), 2, 1000);
    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(f1).unwrap();
    a.add_feed(f2).unwrap();
    let addr = a.listen_ws("127.0.0.1:0").unwrap();

    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    let mut events = b.subscribe();
    let started = Instant::now();
    b.connect_ws(&format!("ws://{addr}")).unwrap();
    let mut link_up = false;
    let caught_up = |s: &dyn Store| {
        [f1, f2].iter().all(|f| {
            s.frontier(f).unwrap().map(|x| x.seq) == Some(1000)
                && s.open_chains(f).unwrap().is_empty()
        })
    };
    while !caught_up(sb.as_ref()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no convergence in 60 s"
        );
        if let Some(NodeEvent::Link {
            status: LinkStatus::Up,
            ..
        }) = b.next_event(&mut events, Duration::from_millis(50))
        {
            link_up = true;
        }
    }
    let took = started.elapsed();
    eprintln!("replicated 2000 entries with side chains in {took:?}");
    assert!(
        logs_equal(sa.as_ref(), sb.as_ref()),
        "logs equal entry for entry"
    );
    assert!(link_up);
    let snap = b.snapshot().unwrap();
    assert_eq!(snap.stats.entries, 2000);
    assert_eq!(snap.stats.dropped_bad_entry, 0);
    assert!(snap
        .progress
        .iter()
        .all(|p| p.held == 1000 && p.open_chains == 0));
    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));
    // B's store is durable across a reopen.
    drop(sb);
    let reopened = SledStore::open(&dir.path().join("b")).unwrap();
    assert_eq!(reopened.frontier(&f1).unwrap().unwrap().seq, 1000);
    assert_eq!(reopened.frontier(&f2).unwrap().unwrap().seq, 1000);
}

#[test]
fn a_post_made_while_connected_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let me = Identity::from_seed(&[3; 32]);
    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(*me.fid()).unwrap();
    let addr = a.listen_ws("127.0.0.1:0").unwrap();
    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    let mut events = b.subscribe();
    b.connect_ws(&format!("ws://{addr}")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    a.publish(&me, b"hello across the pass").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "post did not arrive");
        if let Some(NodeEvent::Sync(lichen::sync::Event::EntryAdded { fid, seq: 1, .. })) =
            b.next_event(&mut events, Duration::from_millis(100))
        {
            assert_eq!(fid, *me.fid());
            break;
        }
    }
    a.shutdown(Duration::from_secs(2));
    b.shutdown(Duration::from_secs(2));
}
