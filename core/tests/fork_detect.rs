//! Two devices writing the same feed: the fork is detected on the wire and reported loudly,
//! and neither store takes the other branch (ADR 0020). Real nodes over WebSocket loopback,
//! real sled stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::feed;
use lichen::node::{Node, NodeConfig, NodeEvent};
use lichen::store::{SledStore, Store, Stored};
use lichen::sync::Event;
use lichen::wire::network::Network;
use lichen::wire::Mid;
use lichen::{FeedId, Identity};

const SEED: [u8; 32] = [42; 32];

fn post(store: &dyn Store, me: &Identity, text: &str) {
    feed::publish(store, &Network::deployed(), me, text.as_bytes()).unwrap();
}

/// Copies entries `1..=n` of `fid` from `from` into `to`, as replication would.
fn copy(from: &dyn Store, to: &dyn Store, fid: &FeedId, n: u32) {
    for seq in 1..=n {
        let s = from.entry(fid, seq).unwrap().unwrap();
        to.append(fid, seq, &s.entry, &s.mid).unwrap();
    }
    to.flush().unwrap();
}

fn log(store: &dyn Store, fid: &FeedId) -> Vec<Stored> {
    let front = store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    (1..=front)
        .map(|s| store.entry(fid, s).unwrap().unwrap())
        .collect()
}

#[derive(Debug, Clone)]
struct Fork {
    seq: u32,
    ours: Mid,
    theirs: Mid,
}

struct Pair {
    a: Node,
    b: Node,
    sa: Arc<dyn Store>,
    sb: Arc<dyn Store>,
    fid: FeedId,
    _dir: tempfile::TempDir,
}

/// Two stores holding the same identity; `prepare` writes into them before the nodes start.
fn pair(prepare: impl FnOnce(&dyn Store, &dyn Store, &Identity)) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let me = Identity::from_seed(&SEED);
    prepare(sa.as_ref(), sb.as_ref(), &me);
    let fid = *me.fid();
    let start = |s: &Arc<dyn Store>| {
        let n = Node::start(s.clone(), NodeConfig::default()).unwrap();
        n.add_feed(fid).unwrap();
        n.remote().set_own_feed(fid).unwrap();
        n
    };
    let a = start(&sa);
    let b = start(&sb);
    Pair {
        a,
        b,
        sa,
        sb,
        fid,
        _dir: dir,
    }
}

/// Connects b to a and collects the events of both until `done` says so (or 30 s pass).
fn sync_until(
    p: &Pair,
    mut done: impl FnMut(&[NodeEvent], &[NodeEvent]) -> bool,
) -> (Vec<NodeEvent>, Vec<NodeEvent>) {
    let mut ra = p.a.subscribe();
    let mut rb = p.b.subscribe();
    let addr = p.a.listen_ws("127.0.0.1:0").unwrap();
    p.b.connect_ws(&format!("ws://{addr}")).unwrap();
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while !done(&ea, &eb) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not done in 30 s; a saw {ea:?}, b saw {eb:?}"
        );
        if let Some(e) = p.a.next_event(&mut ra, Duration::from_millis(20)) {
            ea.push(e);
        }
        if let Some(e) = p.b.next_event(&mut rb, Duration::from_millis(20)) {
            eb.push(e);
        }
    }
    (ea, eb)
}

fn forks(events: &[NodeEvent]) -> Vec<Fork> {
    events
        .iter()
        .filter_map(|e| match e {
            NodeEvent::Sync(Event::ForkDetected {
                seq, ours, theirs, ..
            }) => Some(Fork {
                seq: *seq,
                ours: *ours,
                theirs: *theirs,
            }),
            _ => None,
        })
        .collect()
}

fn entries_added(events: &[NodeEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, NodeEvent::Sync(Event::EntryAdded { .. })))
        .count()
}

/// Both nodes report the fork at `seq` with the right message ids; both logs are exactly
/// what they were.
fn check_fork_reported_and_refused(p: Pair, seq: u32) {
    let (la, lb) = (log(p.sa.as_ref(), &p.fid), log(p.sb.as_ref(), &p.fid));
    assert_eq!((la.len(), lb.len()), (3, 3));
    let (ea, eb) = sync_until(&p, |a, b| !forks(a).is_empty() && !forks(b).is_empty());
    let (fa, fb) = (forks(&ea), forks(&eb));
    let s = (seq - 1) as usize;
    assert_eq!(fa[0].seq, seq, "a reports the first seq that differs");
    assert_eq!(fb[0].seq, seq, "b reports the first seq that differs");
    assert_eq!((fa[0].ours, fa[0].theirs), (la[s].mid, lb[s].mid));
    assert_eq!((fb[0].ours, fb[0].theirs), (lb[s].mid, la[s].mid));
    // Keep syncing for a while: the other branch is never taken, the fork is not reported
    // again.
    std::thread::sleep(Duration::from_secs(2));
    let snap = p.a.snapshot().unwrap();
    assert_eq!(snap.stats.forks, 1, "one fork, reported once");
    assert_eq!(log(p.sa.as_ref(), &p.fid), la, "a's log unchanged");
    assert_eq!(log(p.sb.as_ref(), &p.fid), lb, "b's log unchanged");
    assert_eq!(
        entries_added(&ea) + entries_added(&eb),
        0,
        "nothing appended"
    );
    let fa = p.sa.frontier(&p.fid).unwrap().unwrap();
    assert_eq!((fa.seq, fa.mid), (3, la[2].mid), "a's frontier unchanged");
    let fb = p.sb.frontier(&p.fid).unwrap().unwrap();
    assert_eq!((fb.seq, fb.mid), (3, lb[2].mid), "b's frontier unchanged");
    p.b.shutdown(Duration::from_secs(2));
    p.a.shutdown(Duration::from_secs(2));
}

#[test]
fn two_devices_writing_entries_1_to_3_independently_see_a_fork_at_seq_1() {
    let p = pair(|sa, sb, me| {
        for i in 1..=3 {
            post(sa, me, &format!("written on device A, post {i}"));
            post(sb, me, &format!("written on device B, post {i}"));
        }
    });
    check_fork_reported_and_refused(p, 1);
}

#[test]
fn two_devices_sharing_1_to_2_and_diverging_at_3_see_a_fork_at_seq_3() {
    let p = pair(|sa, sb, me| {
        post(sa, me, "shared 1");
        post(sa, me, "shared 2");
        copy(sa, sb, me.fid(), 2);
        post(sa, me, "written on device A");
        post(sb, me, "written on device B");
    });
    check_fork_reported_and_refused(p, 3);
}

#[test]
fn a_peer_holding_more_of_the_own_feed_than_was_signed_here_is_reported() {
    // b signed 1..5; a holds 1..3 of them (restored, never signed there).
    let p = pair(|sa, sb, me| {
        for i in 1..=5 {
            post(sb, me, &format!("post {i}"));
        }
        copy(sb, sa, me.fid(), 3);
    });
    let (ea, eb) = sync_until(&p, |a, _| {
        a.iter().any(|e| {
            matches!(
                e,
                NodeEvent::Sync(Event::OwnFeedElsewhere {
                    held_by_peer: 5,
                    signed_here: 0,
                    ..
                })
            )
        })
    });
    assert!(forks(&ea).is_empty() && forks(&eb).is_empty(), "no fork");
    // b signed all it holds: a's claims never exceed b's mark.
    assert!(!eb
        .iter()
        .any(|e| matches!(e, NodeEvent::Sync(Event::OwnFeedElsewhere { .. }))));
    p.b.shutdown(Duration::from_secs(2));
    p.a.shutdown(Duration::from_secs(2));
}
