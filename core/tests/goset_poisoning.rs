//! A hostile WebSocket peer floods a node with GOset claims naming random 32-byte strings; an
//! honest peer must still sync with it, and none of the junk may reach the node's store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lichen::feed;
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::sync::Config;
use lichen::wire::goset::Claim;
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};
use rand::{Rng, SeedableRng};
use tokio_tungstenite::tungstenite::Message;

/// Short TTLs so that junk a peer named leaves the set within the test.
fn cfg(seed: u64) -> NodeConfig {
    NodeConfig {
        engine: Config {
            provisional_ttl: 3_000,
            quarantine_for: 600_000,
            ..Config::default()
        },
        seed,
        ..NodeConfig::default()
    }
}

fn author(store: &dyn Store, seed: u8, n: u32) -> FeedId {
    let me = Identity::from_seed(&[seed; 32]);
    for i in 0..n {
        let len = if i % 3 == 0 { 300 } else { 30 };
        let content: Vec<u8> = (0..len).map(|b| (b as u32 ^ i) as u8).collect();
        feed::publish(store, &Network::deployed(), &me, &content).unwrap();
    }
    *me.fid()
}

/// Claims whose lo, hi and XOR are random bytes (about half of them happen to be valid
/// Ed25519 points, so checking keys alone cannot be the whole defence).
fn junk_claims(n: usize) -> Vec<Vec<u8>> {
    let net = Network::deployed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6a756e6b);
    (0..n)
        .map(|_| {
            let mut a = [0u8; 32];
            let mut b = [0u8; 32];
            let mut x = [0u8; 32];
            rng.fill(&mut a);
            rng.fill(&mut b);
            rng.fill(&mut x);
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            Claim {
                lo: FeedId(lo),
                hi: FeedId(hi),
                xor: x,
                cnt: rng.gen_range(3..=200),
            }
            .encode(&net)
            .to_vec()
        })
        .collect()
}

#[test]
fn a_claim_flood_leaves_no_junk_and_an_honest_peer_still_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let path_a = dir.path().join("a");
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&path_a).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let fa = author(sa.as_ref(), 1, 5);
    let fb = author(sb.as_ref(), 2, 40);
    let a = Node::start(sa.clone(), cfg(1)).unwrap();
    a.add_feed(fa).unwrap();
    let addr = a.listen_ws("127.0.0.1:0").unwrap();

    // The hostile peer: a bare WebSocket client, 800 junk claims in about 4 s, then it
    // stays connected and silent (reading whatever A sends).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ws, _) = rt
        .block_on(tokio_tungstenite::connect_async(format!("ws://{addr}")))
        .unwrap();
    let (mut tx, mut rx) = ws.split();
    rt.spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let flood = junk_claims(800);
    rt.block_on(async {
        for chunk in flood.chunks(40) {
            for pkt in chunk {
                tx.send(Message::binary(pkt.clone())).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let snap = a.snapshot().unwrap();
    eprintln!(
        "after the flood: A's GOset holds {} keys, {} keys dropped",
        snap.goset_len, snap.stats.dropped_keys
    );
    assert!(snap.goset_len < 100, "the flood filled the GOset");

    // An honest peer with a feed of 40 entries connects.
    let b = Node::start(sb.clone(), cfg(2)).unwrap();
    b.add_feed(fb).unwrap();
    let started = Instant::now();
    b.connect_ws(&format!("ws://{addr}")).unwrap();
    let synced = |s: &dyn Store, f: &FeedId, n: u32| {
        s.frontier(f).unwrap().map(|x| x.seq) == Some(n) && s.open_chains(f).unwrap().is_empty()
    };
    while !(synced(sa.as_ref(), &fb, 40) && synced(sb.as_ref(), &fa, 5)) {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "A and B did not sync within 90 s of the flood (A: {:?})",
            a.snapshot().map(|s| (s.goset_len, s.stats.dropped_keys))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("A and B synced {:?} after the flood", started.elapsed());

    let honest = |s: &dyn Store| {
        let members = s.members().unwrap();
        let feeds: Vec<FeedId> = s.feeds().unwrap().into_iter().map(|(f, _)| f).collect();
        assert!(
            members.iter().all(|k| *k == fa || *k == fb),
            "junk key persisted as a GOset member: {} members",
            members.len()
        );
        assert!(members.contains(&fa) && members.contains(&fb));
        assert!(
            feeds.iter().all(|k| *k == fa || *k == fb),
            "junk feed in the store"
        );
    };
    honest(sa.as_ref());
    drop(tx);
    rt.shutdown_timeout(Duration::from_secs(1));
    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));

    // Reopened, A holds only the honest keys and starts with a GOset of just those.
    drop(sa);
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&path_a).unwrap());
    honest(sa.as_ref());
    assert_eq!(sa.frontier(&fb).unwrap().unwrap().seq, 40);
    let a = Node::start(sa.clone(), cfg(3)).unwrap();
    let snap = a.snapshot().unwrap();
    assert_eq!(snap.goset_len, 2);
    a.shutdown(Duration::from_secs(2));
}
