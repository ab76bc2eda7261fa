//! Two real Lichen nodes meet through the relay although an attacker who learned the invite's
//! rendezvous id (it is visible on `ws://`) squats it: two connections of its own paired on the
//! id, one of them sending a frame every 300 ms, the other silent. The relay displaces such a
//! one-sided pair when a newcomer asks for the id (ADR 0017); the nodes' own reconnect backoff
//! does the rest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lichen::backoff::BackoffConfig;
use lichen::face::relay_dial::RelayOptions;
use lichen::face::tunnel::TunnelRole;
use lichen::feed;
use lichen::invite::{relay_location, Invite};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::Identity;
use lichen_relay::{RejectReason, Relay, RelayConfig};
use moneysocket::uuid::Uuid;
use moneysocket::RendezvousId;
use tokio_tungstenite::tungstenite::{Bytes, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn squatter(url: &str, rid: &RendezvousId, n: u8) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let request = moneysocket::v0::Message::request_rendezvous(1.0, Uuid::new_v4([n; 16]), rid);
    ws.send(Message::Binary(Bytes::from(request.to_json_bytes())))
        .await
        .unwrap();
    ws
}

/// Reads `ws` until the relay closes it; sends a frame every 300 ms meanwhile if `talk`.
async fn hold(mut ws: Ws, talk: bool) {
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tokio::select! {
            _ = tick.tick(), if talk => {
                if ws.send(Message::Binary(Bytes::from(vec![0xff; 40]))).await.is_err() {
                    return;
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

fn options(bind: [u8; 4]) -> RelayOptions {
    RelayOptions {
        bind: Some(IpAddr::from(bind)),
        backoff: BackoffConfig {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            ..BackoffConfig::default()
        },
        ..RelayOptions::default()
    }
}

#[test]
fn two_nodes_meet_through_a_relay_despite_a_one_sided_squat_on_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let alice = Identity::from_seed(&[31; 32]);
    for i in 0..20 {
        let text = format!("post {i}, squat or not");
        feed::publish(sa.as_ref(), &Network::deployed(), &alice, text.as_bytes()).unwrap();
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let relay = rt
        .block_on(Relay::bind(RelayConfig {
            two_way_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(120),
            ..RelayConfig::new("127.0.0.1:0".parse().unwrap())
        }))
        .unwrap();
    let url = format!("ws://localhost:{}", relay.local_addr().port());
    let invite = Invite::new(
        *alice.fid(),
        Some("Alice"),
        None,
        relay_location(&url).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let received = Invite::decode(&invite.encode()).unwrap();

    // The attacker knows the id (not the seed) and squats it before anyone arrives.
    let rid = invite.target().rid;
    let squat = rt.block_on(async {
        let x1 = squatter(&url, &rid, 1).await;
        let x2 = squatter(&url, &rid, 2).await;
        (tokio::spawn(hold(x1, true)), tokio::spawn(hold(x2, false)))
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while relay.metrics().pairs_total < 1 {
        assert!(Instant::now() < deadline, "the squatters paired");
        std::thread::sleep(Duration::from_millis(20));
    }

    let started = Instant::now();
    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(*alice.fid()).unwrap();
    lichen::face::relay::connect(
        &a,
        invite.target(),
        TunnelRole::Inviter,
        options([127, 0, 0, 2]),
    )
    .unwrap();
    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    b.add_feed(*received.inviter()).unwrap();
    lichen::face::relay::connect(
        &b,
        received.target(),
        TunnelRole::Acceptor,
        options([127, 0, 0, 3]),
    )
    .unwrap();
    let bound = Duration::from_secs(30);
    while sb.frontier(alice.fid()).unwrap().map(|f| f.seq) != Some(20) {
        assert!(
            started.elapsed() < bound,
            "the nodes did not get through the squat in {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "replicated through the squatted id after {:?}",
        started.elapsed()
    );
    assert!(relay.metrics().rejected(RejectReason::Displaced) >= 1);
    // Both squatting connections were closed by the relay.
    rt.block_on(async {
        let (x1, x2) = squat;
        tokio::time::timeout(Duration::from_secs(5), async {
            x1.await.unwrap();
            x2.await.unwrap();
        })
        .await
        .expect("the squatters were closed");
    });
    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));
    rt.block_on(relay.shutdown());
}
