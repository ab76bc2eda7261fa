//! The link supervisor over in-process links: the test plays the dongle's native side, so
//! it can send garbage, refuse writes, drop the link and unpair at will.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::backoff::BackoffConfig;
use lichen::ble::channel::{native_link, NativeEnd};
use lichen::ble::link::{Advert, LinkInfo};
use lichen::ble::mem::MemCentral;
use lichen::ble::pairing::{PairedDongle, PAIRING_FILE};
use lichen::ble::pump::PumpConfig;
use lichen::ble::status::{DongleEvent, DongleStatus, LinkPhase};
use lichen::ble::supervisor::{DongleLink, SupervisorConfig};
use lichen::ble::BleError;
use lichen::node::{Node, NodeConfig, NodeEvent};
use lichen::store::{MemoryStore, Store};
use lichen::wire::goset::Claim;
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};
use tokio::sync::mpsc;

const ID: &str = "AA:BB:CC:DD:EE:01";
const NAME: &str = "tinySSB-ee01";

/// A central with one dongle whose every connection hands its native side to the test.
fn dongle(
    mtu: Arc<std::sync::atomic::AtomicUsize>,
) -> (Arc<MemCentral>, mpsc::UnboundedReceiver<NativeEnd>) {
    let c = Arc::new(MemCentral::new());
    let (tx, rx) = mpsc::unbounded_channel();
    c.add(
        Advert {
            id: ID.into(),
            name: NAME.into(),
            rssi: Some(-55),
        },
        move || {
            let (conn, native) = native_link(
                LinkInfo {
                    id: ID.into(),
                    name: NAME.into(),
                    mtu: mtu.load(std::sync::atomic::Ordering::SeqCst),
                },
                Some(-55),
            );
            let _ = tx.send(native);
            Box::pin(async move { Ok(conn) })
        },
    );
    (c, rx)
}

fn config(dir: Option<&std::path::Path>) -> SupervisorConfig {
    let mut cfg = SupervisorConfig::new(ID, NAME);
    cfg.policy = BackoffConfig {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(400),
        factor: 2,
        jitter_permille: 200,
        good_after: Duration::from_secs(60),
    };
    cfg.health_every = Duration::from_secs(1);
    cfg.sync_grace = 1_500;
    cfg.pump = PumpConfig {
        write_timeout: Duration::from_millis(500),
        max_failed_writes: 3,
        rssi_every: Duration::from_millis(300),
    };
    cfg.data_dir = dir.map(|d| d.to_owned());
    cfg
}

fn node() -> (Node, Identity) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_empty());
    let node = Node::start(store, NodeConfig::default()).unwrap();
    let me = Identity::from_seed(&[7; 32]);
    node.add_feed(*me.fid()).unwrap();
    (node, me)
}

fn next_dongle_event(
    node: &Node,
    rx: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    limit: Duration,
    mut want: impl FnMut(&DongleEvent) -> bool,
) -> DongleEvent {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < limit,
            "no matching dongle event within {limit:?}"
        );
        if let Some(e) = node.next_event(rx, Duration::from_millis(50)) {
            if let Some(d) = DongleEvent::of(&e) {
                if want(d) {
                    return d.clone();
                }
            }
        }
    }
}

#[test]
fn bad_frames_are_skipped_refused_writes_counted_and_a_dead_link_comes_back() {
    let mtu = Arc::new(std::sync::atomic::AtomicUsize::new(128));
    let (central, mut natives) = dongle(mtu.clone());
    let (node, me) = node();
    let mut events = node.subscribe();
    let link = DongleLink::start(&node, central, config(None));
    let rt = node.handle();

    let up = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Connected { .. })
    });
    assert!(matches!(up, DongleEvent::Connected { mtu: 128, .. }));
    let mut native = rt.block_on(natives.recv()).unwrap();

    // Garbage from the dongle: too short, too long, empty. Each is skipped; the link stays.
    for bad in [vec![1u8; 3], vec![2u8; 200], vec![]] {
        rt.block_on(native.frame_in(bad)).unwrap();
    }
    // Then a real claim: "the dongle holds a feed we do not have".
    let other = FeedId([9; 32]);
    let claim = Claim::over(&[other]).unwrap().encode(&Network::deployed());
    rt.block_on(native.frame_in(claim.to_vec())).unwrap();
    // Let the face take them before the writes below end the link.
    std::thread::sleep(Duration::from_millis(300));

    // The node greets the dongle (claim, WANT): refuse three writes in a row.
    for _ in 0..3 {
        let w = rt.block_on(native.next_write()).unwrap();
        w.refuse("ATT error 0x0e");
    }
    // Three refusals in a row take the link down; the supervisor reconnects.
    let down = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Disconnected { .. })
    });
    match down {
        DongleEvent::Disconnected {
            reason,
            retry_in_ms,
            ..
        } => {
            assert!(reason.contains("3 writes in a row failed"), "{reason}");
            assert!(retry_in_ms <= 100);
        }
        _ => unreachable!(),
    }
    let st = link.status();
    assert_eq!(st.health.bad_frames, 3, "{st:?}");
    assert_eq!(st.health.write_errors, 3);
    assert_eq!(st.health.packets_in, 1);
    assert_eq!(st.health.rssi, Some(-55));
    assert!(st.health.last_packet_unix_ms.is_some());
    next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Connected { .. })
    });
    native = rt.block_on(natives.recv()).unwrap();

    // This time the writes are acknowledged, and the dongle's claim disagrees with our set.
    let mut acked = 0;
    let started = Instant::now();
    let mut sync = None;
    while started.elapsed() < Duration::from_secs(8) {
        if let Ok(Some(w)) = rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), native.next_write()).await
        }) {
            w.ack();
            acked += 1;
        }
        rt.block_on(native.frame_in(claim.to_vec())).unwrap();
        while let Ok(e) = events.try_recv() {
            if let Some(DongleEvent::Sync { state, .. }) = DongleEvent::of(&e) {
                sync = Some(state.clone());
            }
        }
        if matches!(
            sync,
            Some(lichen::ble::syncwatch::SyncState::Stalled { .. })
        ) {
            break;
        }
    }
    // Our engine learns the dongle's key from its claim, so the sets differ only until the
    // dongle learns ours; this dongle never does (it only repeats its claim): stalled.
    let s = sync.expect("a sync state was reported");
    assert!(
        matches!(
            s,
            lichen::ble::syncwatch::SyncState::Stalled { ours: 2, theirs: 1 }
        ),
        "{s:?}"
    );
    assert!(acked > 0);
    assert_eq!(link.status().sync, s);
    assert!(link.status().health.packets_out >= acked);

    // The dongle drops the link; the supervisor comes back once more.
    native.link_down("supervision timeout");
    let e = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Disconnected { .. })
    });
    assert!(
        matches!(e, DongleEvent::Disconnected { ref reason, .. } if reason == "supervision timeout")
    );
    next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Connected { .. })
    });
    let _native = rt.block_on(natives.recv()).unwrap();

    // On the next reconnect the dongle's MTU has shrunk: reported, retried, never given up.
    mtu.store(64, std::sync::atomic::Ordering::SeqCst);
    _native.link_down("reset");
    let e = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::ConnectFailed { .. })
    });
    assert!(matches!(
        e,
        DongleEvent::ConnectFailed {
            error: BleError::MtuTooSmall { mtu: 64, .. },
            ..
        }
    ));
    next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::ConnectFailed { .. })
    });
    assert!(link
        .status()
        .last_error
        .unwrap()
        .contains("carries only 61 bytes"));

    // Unpairing stops it for good.
    link.unpair();
    let e = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Stopped { .. })
    });
    assert!(matches!(e, DongleEvent::Stopped { ref reason, .. } if reason == "unpaired"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(link.is_stopped());
    assert_eq!(link.status().phase, LinkPhase::Stopped);
    let _ = me;
    node.shutdown(Duration::from_secs(2));
}

#[test]
fn removing_the_pairing_record_stops_a_running_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "paired": PairedDongle {
            id: ID.into(),
            name: NAME.into(),
            transport: "in-process".into(),
            paired_unix_ms: 0,
        },
        "known": [ID],
    });
    std::fs::write(dir.path().join(PAIRING_FILE), record.to_string()).unwrap();
    let (central, mut natives) = dongle(Arc::new(std::sync::atomic::AtomicUsize::new(185)));
    let (node, _me) = node();
    let mut events = node.subscribe();
    let link = DongleLink::start(&node, central, config(Some(dir.path())));
    next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Connected { mtu: 185, .. })
    });
    let mut native = node.handle().block_on(natives.recv()).unwrap();
    node.handle().spawn(async move {
        while let Some(w) = native.next_write().await {
            w.ack();
        }
    });
    // The status file appears for `lichen dongle status`.
    next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Health { .. })
    });
    let st = DongleStatus::load(&dir.path().join("dongle-status.json")).unwrap();
    assert_eq!(st.phase, LinkPhase::Connected);
    assert_eq!(st.name, NAME);

    // Another process (`lichen dongle unpair`) removes the pairing.
    std::fs::write(
        dir.path().join(PAIRING_FILE),
        serde_json::json!({"paired": null, "known": [ID]}).to_string(),
    )
    .unwrap();
    let e = next_dongle_event(&node, &mut events, Duration::from_secs(5), |e| {
        matches!(e, DongleEvent::Stopped { .. })
    });
    assert!(matches!(e, DongleEvent::Stopped { ref reason, .. } if reason == "unpaired"));
    std::thread::sleep(Duration::from_millis(200));
    assert!(link.is_stopped());
    assert!(!dir.path().join("dongle-status.json").exists());
    let snap = node.snapshot().unwrap();
    assert!(snap.links.is_empty(), "the face is gone: {:?}", snap.links);
    node.shutdown(Duration::from_secs(2));
}
