//! Two nodes on different loopback addresses replicate through the real rendezvous relay only,
//! using nothing but an invite: a few hundred entries with side chains, then the relay is
//! restarted, the links come back by themselves, and what was written meanwhile arrives.
//! A second test does the same over `wss://` with a certificate made in the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::backoff::BackoffConfig;
use lichen::face::relay_dial::RelayOptions;
use lichen::face::tunnel::TunnelRole;
use lichen::feed;
use lichen::invite::{relay_location, Invite};
use lichen::node::{LinkStatus, Node, NodeConfig, NodeEvent};
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::Identity;
use lichen_relay::{Relay, RelayConfig, RelayHandle, TlsIdentity};
use tokio::runtime::Runtime;

fn publish_many(store: &dyn Store, me: &Identity, from: u32, n: u32) {
    for i in from..from + n {
        // Every other entry is long enough for a side chain.
        let len = if i % 2 == 0 {
            100 + (i as usize * 7) % 500
        } else {
            20
        };
        let content: Vec<u8> = (0..len).map(|b| (b as u32 ^ i) as u8).collect();
        feed::publish(store, &Network::deployed(), me, &content).unwrap();
    }
}

fn held(store: &dyn Store, me: &Identity) -> u32 {
    store.frontier(me.fid()).unwrap().map_or(0, |f| f.seq)
}

fn complete(store: &dyn Store, me: &Identity, seq: u32) -> bool {
    held(store, me) == seq && store.open_chains(me.fid()).unwrap().is_empty()
}

fn same_log(a: &dyn Store, b: &dyn Store, me: &Identity) {
    let n = held(a, me);
    assert_eq!(held(b, me), n);
    for s in 1..=n {
        assert_eq!(a.entry(me.fid(), s).unwrap(), b.entry(me.fid(), s).unwrap());
        assert_eq!(
            a.chunks(me.fid(), s).unwrap(),
            b.chunks(me.fid(), s).unwrap()
        );
    }
}

fn relay_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn start_relay(rt: &Runtime, listen: SocketAddr, tls: Option<TlsIdentity>) -> RelayHandle {
    rt.block_on(Relay::bind(RelayConfig {
        tls,
        ..RelayConfig::new(listen)
    }))
    .unwrap()
}

fn options(bind: [u8; 4]) -> RelayOptions {
    RelayOptions {
        bind: Some(IpAddr::from(bind)),
        backoff: BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(800),
            ..BackoffConfig::default()
        },
        ..RelayOptions::default()
    }
}

/// Waits until `done`, counting B's link-ups; fails after `limit`.
fn wait_for(
    node: &Node,
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    limit: Duration,
    ups: &mut u32,
    done: impl Fn() -> bool,
) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "not done within {limit:?}");
        if let Some(NodeEvent::Link {
            kind,
            status: LinkStatus::Up,
            ..
        }) = node.next_event(events, Duration::from_millis(50))
        {
            assert_eq!(kind, "relay", "no link but the relay");
            *ups += 1;
        }
    }
}

#[test]
fn two_nodes_replicate_through_the_relay_and_survive_its_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let alice = Identity::from_seed(&[21; 32]);
    let bob = Identity::from_seed(&[22; 32]);
    publish_many(sa.as_ref(), &alice, 0, 300);
    publish_many(sb.as_ref(), &bob, 0, 40);

    let relay_rt = relay_runtime();
    let relay = start_relay(&relay_rt, "127.0.0.1:0".parse().unwrap(), None);
    let addr = relay.local_addr();
    let url = format!("ws://localhost:{}", addr.port());
    let invite = Invite::new(
        *alice.fid(),
        Some("Alice"),
        None,
        relay_location(&url).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    // Bob holds only the invite string.
    let received = Invite::decode(&invite.encode()).unwrap();

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
    b.add_feed(*bob.fid()).unwrap();
    b.add_feed(*received.inviter()).unwrap();
    let mut events = b.subscribe();
    let started = Instant::now();
    lichen::face::relay::connect(
        &b,
        received.target(),
        TunnelRole::Acceptor,
        options([127, 0, 0, 3]),
    )
    .unwrap();

    let mut ups = 0;
    wait_for(&b, &mut events, Duration::from_secs(60), &mut ups, || {
        complete(sb.as_ref(), &alice, 300) && complete(sa.as_ref(), &bob, 40)
    });
    eprintln!(
        "300 + 40 entries through the relay in {:?}",
        started.elapsed()
    );
    assert_eq!(ups, 1);
    same_log(sa.as_ref(), sb.as_ref(), &alice);
    same_log(sb.as_ref(), sa.as_ref(), &bob);
    let m = relay.metrics();
    assert_eq!(m.pairs_total, 1);
    assert!(m.frames_forwarded > 300, "{m:?}");

    // The relay goes away; both links go down and keep trying.
    relay_rt.block_on(relay.shutdown());
    let down = Instant::now();
    loop {
        assert!(down.elapsed() < Duration::from_secs(10), "no link down");
        if let Some(NodeEvent::Link {
            status: LinkStatus::Down { .. },
            ..
        }) = b.next_event(&mut events, Duration::from_millis(50))
        {
            break;
        }
    }
    assert!(b.snapshot().unwrap().links.is_empty());
    // Alice writes while the relay is down; wait through a few failed attempts.
    for i in 300..450u32 {
        let len = if i % 2 == 0 { 300 } else { 10 };
        a.publish(&alice, &vec![i as u8; len]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(1500));

    // The relay comes back on the same port; the links return on their own.
    let relay = start_relay(&relay_rt, addr, None);
    wait_for(&b, &mut events, Duration::from_secs(60), &mut ups, || {
        complete(sb.as_ref(), &alice, 450)
    });
    assert_eq!(ups, 2, "one new link after the restart");
    same_log(sa.as_ref(), sb.as_ref(), &alice);
    assert_eq!(relay.metrics().pairs_total, 1);
    let snap = b.snapshot().unwrap();
    assert_eq!(snap.stats.dropped_bad_entry, 0);
    assert!(snap.links.iter().all(|(_, kind, _)| *kind == "relay"));

    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));
    relay_rt.block_on(relay.shutdown());
}

#[test]
fn replicates_over_wss_with_an_extra_root() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let identity = TlsIdentity {
        cert_pem: ck.cert.pem().into_bytes(),
        key_pem: ck.signing_key.serialize_pem().into_bytes(),
    };
    let relay_rt = relay_runtime();
    let relay = start_relay(&relay_rt, "127.0.0.1:0".parse().unwrap(), Some(identity));
    let url = format!("wss://localhost:{}", relay.local_addr().port());

    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let alice = Identity::from_seed(&[31; 32]);
    publish_many(sa.as_ref(), &alice, 0, 30);
    let invite = Invite::new(
        *alice.fid(),
        None,
        None,
        relay_location(&url).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let trusting = |bind| {
        let mut o = options(bind);
        assert_eq!(o.add_roots_pem(ck.cert.pem().as_bytes()).unwrap(), 1);
        o
    };
    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(*alice.fid()).unwrap();
    lichen::face::relay::connect(
        &a,
        invite.target(),
        TunnelRole::Inviter,
        trusting([127, 0, 0, 2]),
    )
    .unwrap();

    // A node that does not trust the certificate never gets a link.
    let dc = tempfile::tempdir().unwrap();
    let sc: Arc<dyn Store> = Arc::new(SledStore::open(dc.path()).unwrap());
    let c = Node::start(sc, NodeConfig::default()).unwrap();
    let mut c_events = c.subscribe();
    lichen::face::relay::connect(
        &c,
        invite.target(),
        TunnelRole::Acceptor,
        options([127, 0, 0, 4]),
    )
    .unwrap();
    let mut reason = None;
    let t = Instant::now();
    while reason.is_none() && t.elapsed() < Duration::from_secs(10) {
        match c.next_event(&mut c_events, Duration::from_millis(50)) {
            Some(e)
                if matches!(
                    lichen::face::relay::RelayReport::of(&e),
                    Some(lichen::face::relay::RelayReport {
                        status: lichen::face::relay::RelayStatus::Retrying { .. },
                        ..
                    })
                ) =>
            {
                if let Some(lichen::face::relay::RelayReport {
                    status: lichen::face::relay::RelayStatus::Retrying { reason: r, .. },
                    ..
                }) = lichen::face::relay::RelayReport::of(&e)
                {
                    reason = Some(r.clone());
                }
            }
            Some(NodeEvent::Link {
                status: LinkStatus::Up,
                ..
            }) => panic!("an untrusted relay was used"),
            _ => {}
        }
    }
    let reason = reason.expect("a failed attempt");
    assert!(reason.contains("TLS"), "{reason}");
    c.shutdown(Duration::from_secs(1));

    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    b.add_feed(*alice.fid()).unwrap();
    let mut events = b.subscribe();
    lichen::face::relay::connect(
        &b,
        invite.target(),
        TunnelRole::Acceptor,
        trusting([127, 0, 0, 3]),
    )
    .unwrap();
    let mut ups = 0;
    wait_for(&b, &mut events, Duration::from_secs(60), &mut ups, || {
        complete(sb.as_ref(), &alice, 30)
    });
    same_log(sa.as_ref(), sb.as_ref(), &alice);
    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));
    relay_rt.block_on(relay.shutdown());
}

/// A TCP forwarder in front of the relay that can go silent without closing anything (a
/// path that died: a NAT that forgot the flow, a host that vanished). `thaw` drops the frozen
/// connections and forwards new ones again.
struct Freezer {
    addr: SocketAddr,
    state: tokio::sync::watch::Sender<(u32, bool)>,
}

impl Freezer {
    fn start(rt: &Runtime, upstream: SocketAddr) -> Freezer {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (state, rx) = tokio::sync::watch::channel((0u32, false));
        rt.spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let generation = { rx.borrow().0 };
                    let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let silent = async { rx.wait_for(|s| s.1 || s.0 != generation).await.is_ok() };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut up) => return,
                        _ = silent => {}
                    }
                    // Silent: hold both sockets open, move nothing, until thawed.
                    let _ = async { rx.wait_for(|s| s.0 != generation).await.is_ok() }.await;
                });
            }
        });
        Freezer { addr, state }
    }

    fn freeze(&self) {
        self.state.send_modify(|s| s.1 = true);
    }

    fn thaw(&self) {
        self.state.send_modify(|s| *s = (s.0 + 1, false));
    }
}

#[test]
fn a_silent_path_is_noticed_and_replaced() {
    let relay_rt = relay_runtime();
    let relay = start_relay(&relay_rt, "127.0.0.1:0".parse().unwrap(), None);
    let freezer = Freezer::start(&relay_rt, relay.local_addr());
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    let alice = Identity::from_seed(&[41; 32]);
    publish_many(sa.as_ref(), &alice, 0, 10);
    let direct = format!("ws://localhost:{}", relay.local_addr().port());
    let invite = Invite::new(
        *alice.fid(),
        None,
        None,
        relay_location(&direct).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    // B reaches the same relay through the freezer.
    let mut via = invite.target();
    via.port = freezer.addr.port();
    let quick = |bind| RelayOptions {
        keepalive: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(1),
        ..options(bind)
    };

    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(*alice.fid()).unwrap();
    lichen::face::relay::connect(
        &a,
        invite.target(),
        TunnelRole::Inviter,
        quick([127, 0, 0, 2]),
    )
    .unwrap();
    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    b.add_feed(*alice.fid()).unwrap();
    let mut events = b.subscribe();
    lichen::face::relay::connect(&b, via, TunnelRole::Acceptor, quick([127, 0, 0, 3])).unwrap();
    let mut ups = 0;
    wait_for(&b, &mut events, Duration::from_secs(30), &mut ups, || {
        complete(sb.as_ref(), &alice, 10)
    });

    freezer.freeze();
    let frozen = Instant::now();
    let reason = loop {
        assert!(
            frozen.elapsed() < Duration::from_secs(10),
            "the silence went unnoticed"
        );
        if let Some(NodeEvent::Link {
            status: LinkStatus::Down { reason },
            ..
        }) = b.next_event(&mut events, Duration::from_millis(50))
        {
            break reason;
        }
    };
    assert_eq!(reason, "the relay went silent");
    let noticed = frozen.elapsed();
    assert!(
        noticed < Duration::from_secs(3),
        "noticed after {noticed:?}"
    );

    freezer.thaw();
    a.publish(&alice, b"after the thaw").unwrap();
    wait_for(&b, &mut events, Duration::from_secs(30), &mut ups, || {
        complete(sb.as_ref(), &alice, 11)
    });
    assert_eq!(ups, 2);
    b.shutdown(Duration::from_secs(2));
    a.shutdown(Duration::from_secs(2));
    relay_rt.block_on(relay.shutdown());
}
