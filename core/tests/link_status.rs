//! One port for every link: a WebSocket, a UDP group, a relay and a dongle (the emulator over
//! its GATT socket) each report coming up and going down through the one generic
//! `NodeEvent::Link`, with the link's kind as data, the same peer label up and down, and the
//! face's own progress as a typed detail (ADR 0022).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::backoff::BackoffConfig;
use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::Central;
use lichen::ble::pairing::Dongles;
use lichen::ble::status::DongleEvent;
use lichen::ble::supervisor::{DongleLink, SupervisorConfig};
use lichen::emu::radio::Radio;
use lichen::emu::{EmuConfig, Emulator};
use lichen::face::relay::{self, RelayReport, RelayStatus};
use lichen::face::relay_dial::RelayOptions;
use lichen::face::tunnel::TunnelRole;
use lichen::face::udp::UdpConfig;
use lichen::invite::{relay_location, Invite};
use lichen::node::{LinkStatus, Node, NodeConfig, NodeEvent};
use lichen::store::{MemoryStore, Store};
use lichen::sync::FaceId;
use lichen::Identity;
use lichen_relay::{Relay, RelayConfig};
use tokio::sync::broadcast::Receiver;

const LIMIT: Duration = Duration::from_secs(30);

fn node() -> Node {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_empty());
    Node::start(store, NodeConfig::default()).unwrap()
}

/// One link event as seen by a subscriber.
#[derive(Debug)]
struct Seen {
    face: Option<FaceId>,
    peer: String,
    status: LinkStatus,
}

/// Waits for a link event of `kind` whose status matches `want`; panics after [`LIMIT`].
fn wait(
    node: &Node,
    rx: &mut Receiver<NodeEvent>,
    kind: &str,
    want: impl Fn(&LinkStatus) -> bool,
) -> Seen {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < LIMIT,
            "no {kind} link event within {LIMIT:?}"
        );
        let Some(e) = node.next_event(rx, Duration::from_millis(50)) else {
            continue;
        };
        if let NodeEvent::Link {
            face,
            kind: k,
            peer,
            status,
        } = e
        {
            eprintln!("{k} {face:?} {peer}: {status:?}");
            assert!(
                ["ws", "udp", "relay", "ble"].contains(&k),
                "a link of unknown kind {k}"
            );
            if k == kind && want(&status) {
                return Seen { face, peer, status };
            }
        }
    }
}

/// The link events of `kind` until one matches `last`; panics after [`LIMIT`].
fn until(
    node: &Node,
    rx: &mut Receiver<NodeEvent>,
    kind: &str,
    last: impl Fn(&LinkStatus) -> bool,
) -> Vec<Seen> {
    let mut seen = Vec::new();
    loop {
        let s = wait(node, rx, kind, |_| true);
        let done = last(&s.status);
        seen.push(s);
        if done {
            return seen;
        }
    }
}

fn up(s: &LinkStatus) -> bool {
    *s == LinkStatus::Up
}

fn down(s: &LinkStatus) -> bool {
    matches!(s, LinkStatus::Down { .. })
}

fn reason(s: &Seen) -> &str {
    match &s.status {
        LinkStatus::Down { reason } => reason,
        other => panic!("not a Down: {other:?}"),
    }
}

#[test]
fn a_websocket_link_reports_up_and_down() {
    let a = node();
    let b = node();
    let addr = a.listen_ws("127.0.0.1:0").unwrap();
    let url = format!("ws://{addr}");
    let mut rx = b.subscribe();
    b.connect_ws(&url).unwrap();
    let u = wait(&b, &mut rx, "ws", up);
    assert_eq!(u.peer, url);
    let face = u.face.expect("an Up names its face");
    // The peer goes away: the same face goes down, under the same kind and peer.
    a.shutdown(Duration::from_secs(5));
    let d = wait(&b, &mut rx, "ws", down);
    assert_eq!((d.face, d.peer.as_str()), (Some(face), url.as_str()));
    assert!(b.snapshot().unwrap().links.is_empty());
    b.shutdown(Duration::from_secs(5));
}

#[test]
fn a_udp_group_reports_up_and_down() {
    let n = node();
    let mut rx = n.subscribe();
    // A free port, on the loopback interface: this test talks to nobody.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    n.udp_multicast(UdpConfig {
        port,
        interface: Ipv4Addr::LOCALHOST,
        ..UdpConfig::default()
    })
    .unwrap();
    let u = wait(&n, &mut rx, "udp", up);
    assert_eq!(u.peer, format!("239.5.5.8:{port}"));
    let face = u.face.unwrap();
    n.link().unregister(face, "closed by the test".into());
    let d = wait(&n, &mut rx, "udp", down);
    assert_eq!(d.face, Some(face));
    assert_eq!(d.peer, u.peer);
    assert_eq!(reason(&d), "closed by the test");
    // Unregistering again announces nothing more (only a registered face goes down).
    n.link().unregister(face, "again".into());
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        if let Some(e) = n.next_event(&mut rx, Duration::from_millis(50)) {
            assert!(e.link_down().is_none(), "a second Down: {e:?}");
        }
    }
    n.shutdown(Duration::from_secs(5));
}

#[test]
fn a_relay_link_reports_progress_up_and_down() {
    let relay_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = relay_rt
        .block_on(Relay::bind(RelayConfig::new(
            "127.0.0.1:0".parse().unwrap(),
        )))
        .unwrap();
    let url = format!("ws://localhost:{}", server.local_addr().port());
    let alice = Identity::from_seed(&[41; 32]);
    let invite = Invite::new(
        *alice.fid(),
        Some("Alice"),
        None,
        relay_location(&url).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let options = |ip: [u8; 4]| RelayOptions {
        bind: Some(IpAddr::from(ip)),
        backoff: BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(800),
            ..BackoffConfig::default()
        },
        ..RelayOptions::default()
    };
    let a = node();
    let b = node();
    let mut rx = b.subscribe();
    relay::connect(
        &a,
        invite.target(),
        TunnelRole::Inviter,
        options([127, 0, 0, 1]),
    )
    .unwrap();
    relay::connect(
        &b,
        invite.target(),
        TunnelRole::Acceptor,
        options([127, 0, 0, 1]),
    )
    .unwrap();
    let label = relay::peer_label(&invite.target());
    // Progress first: no face yet, the relay's own report as the detail.
    let p = wait(&b, &mut rx, "relay", |s| {
        matches!(s, LinkStatus::Progress(_))
    });
    assert_eq!(p.face, None);
    assert_eq!(p.peer, label);
    let LinkStatus::Progress(detail) = &p.status else {
        unreachable!()
    };
    let report = detail.get::<RelayReport>().expect("a relay report");
    assert_eq!(report.url, invite.target().url());
    assert!(matches!(
        report.status,
        RelayStatus::Connecting | RelayStatus::Waiting | RelayStatus::Paired
    ));
    let u = wait(&b, &mut rx, "relay", up);
    assert_eq!(
        u.peer, label,
        "the face has the peer label its progress had"
    );
    let face = u.face.unwrap();
    a.shutdown(Duration::from_secs(5));
    // The face goes down, and only then does the link say it retries.
    let retrying = |s: &LinkStatus| {
        matches!(s, LinkStatus::Progress(d)
            if matches!(d.get::<RelayReport>(), Some(RelayReport { status: RelayStatus::Retrying { .. }, .. })))
    };
    let seen = until(&b, &mut rx, "relay", retrying);
    let d = seen
        .iter()
        .find(|s| down(&s.status))
        .unwrap_or_else(|| panic!("no Down before retrying: {seen:?}"));
    assert_eq!((d.face, d.peer.as_str()), (Some(face), label.as_str()));
    assert!(seen.iter().all(|s| s.peer == label));
    b.shutdown(Duration::from_secs(5));
}

#[test]
fn a_dongle_link_reports_progress_up_and_down() {
    let emu = Emulator::start(EmuConfig::new(0x5a5a), Radio::Off).unwrap();
    let central: Arc<dyn Central> = Arc::new(EmuCentral::new(&emu.ble_addr().to_string()));
    let dir = tempfile::tempdir().unwrap();
    let phone = node();
    let mut rx = phone.subscribe();
    let dongles = Dongles::new(central.clone(), dir.path());
    let paired = phone
        .handle()
        .block_on(dongles.pair(emu.name(), Duration::from_secs(5)))
        .unwrap();
    let mut cfg = SupervisorConfig::new(&paired.id, &paired.name);
    cfg.data_dir = Some(dir.path().to_owned());
    let link = DongleLink::start(&phone, central, cfg);
    let u = wait(&phone, &mut rx, "ble", up);
    let face = u.face.unwrap();
    // The supervisor's own report names the same face, as a detail of the same event type.
    let c = wait(
        &phone,
        &mut rx,
        "ble",
        |s| matches!(s, LinkStatus::Progress(d) if matches!(d.get::<DongleEvent>(), Some(DongleEvent::Connected { .. }))),
    );
    assert_eq!(c.face, Some(face));
    assert_eq!(c.peer, u.peer);
    link.unpair();
    let d = wait(&phone, &mut rx, "ble", down);
    assert_eq!(d.face, Some(face));
    assert_eq!(reason(&d), "unpaired");
    let s = wait(
        &phone,
        &mut rx,
        "ble",
        |s| matches!(s, LinkStatus::Progress(d) if matches!(d.get::<DongleEvent>(), Some(DongleEvent::Stopped { .. }))),
    );
    assert_eq!(s.face, None);
    phone.shutdown(Duration::from_secs(5));
}
