//! The radio path end to end: phone A → BLE → dongle A → LoRa (10 % loss) → dongle B → BLE
//! → phone B, with emulated dongles (the firmware's engine settings, slot scheduler and
//! CRC-32 frames on the simulated channel) reached over their local GATT sockets, and the
//! phones' dongle links run by the supervisor. Cutting A's BLE link and restoring it must
//! reconnect on its own and catch up on what was posted meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::backoff::BackoffConfig;
use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::Central;
use lichen::ble::pairing::Dongles;
use lichen::ble::status::{DongleEvent, LinkPhase};
use lichen::ble::supervisor::{DongleLink, SupervisorConfig};
use lichen::ble::syncwatch::SyncState;
use lichen::chat::tav::Tav;
use lichen::emu::radio::SimAir;
use lichen::emu::{EmuConfig, Emulator};
use lichen::feed::{self, Content};
use lichen::lora::Plan;
use lichen::node::{Node, NodeConfig, NodeEvent};
use lichen::store::{SledStore, Store};
use lichen::{FeedId, Identity};
use tokio::sync::broadcast;

struct Phone {
    node: Node,
    me: Identity,
    store: Arc<dyn Store>,
    events: broadcast::Receiver<NodeEvent>,
    link: DongleLink,
}

fn phone(dir: &Path, seed: u8, central: Arc<dyn Central>, dongle: &str) -> Phone {
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.join("store")).unwrap());
    let node = Node::start(store.clone(), NodeConfig::default()).unwrap();
    let me = Identity::from_seed(&[seed; 32]);
    node.add_feed(*me.fid()).unwrap();
    let events = node.subscribe();
    // Pair through the pairing API (scan, connect, MTU and service checks, remember).
    let dongles = Dongles::new(central.clone(), dir);
    let paired = node
        .handle()
        .block_on(dongles.pair(dongle, Duration::from_secs(2)))
        .unwrap();
    assert_eq!(paired.name, dongle);
    let mut cfg = SupervisorConfig::new(&paired.id, &paired.name);
    cfg.policy = BackoffConfig {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(2),
        factor: 2,
        jitter_permille: 300,
        good_after: Duration::from_secs(5),
    };
    cfg.health_every = Duration::from_secs(2);
    cfg.data_dir = Some(dir.to_owned());
    let link = DongleLink::start(&node, central, cfg);
    Phone {
        node,
        me,
        store,
        events,
        link,
    }
}

fn post(p: &Phone, text: &str) {
    p.node
        .publish(&p.me, &Tav::public_text(text, 1_700_000_000_000).encode())
        .unwrap();
}

fn text_at(store: &dyn Store, fid: &FeedId, seq: u32) -> Option<String> {
    match feed::content(store, fid, seq).unwrap()? {
        Content::Complete(c) => Tav::decode(&c).ok()?.text,
        _ => None,
    }
}

/// Waits until `done`, collecting phone A's dongle events; panics after `limit`.
fn wait(
    a: &mut Phone,
    limit: Duration,
    what: &str,
    mut done: impl FnMut(&[DongleEvent]) -> bool,
) -> Vec<DongleEvent> {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        if done(&seen) {
            eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
            return seen;
        }
        assert!(
            started.elapsed() < limit,
            "{what}: not within {limit:?}; events {seen:#?}"
        );
        if let Some(e) = a.node.next_event(&mut a.events, Duration::from_millis(100)) {
            if let Some(d) = DongleEvent::of(&e) {
                seen.push(d.clone());
            }
        }
    }
}

#[test]
fn phone_to_dongle_to_lora_to_dongle_to_phone_survives_a_cut_ble_link() {
    let air = SimAir::new(Plan::default_plan(), 11, 0.10).unwrap();
    let da = Emulator::start(EmuConfig::new(0xa1a1), air.radio(1)).unwrap();
    let db = Emulator::start(EmuConfig::new(0xb2b2), air.radio(2)).unwrap();
    let central: Arc<dyn Central> = Arc::new(EmuCentral::new(&format!(
        "{},{}",
        da.ble_addr(),
        db.ble_addr()
    )));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = phone(dir_a.path(), 1, central.clone(), da.name());
    let b = phone(dir_b.path(), 2, central, db.name());
    let alice = *a.me.fid();

    // A message from A appears at B.
    post(&a, "hello over LoRa");
    let got = |seq: u32| text_at(b.store.as_ref(), &alice, seq);
    let events = wait(
        &mut a,
        Duration::from_secs(120),
        "first message A → B",
        |_| got(1).is_some(),
    );
    assert_eq!(got(1).as_deref(), Some("hello over LoRa"));
    assert!(events
        .iter()
        .any(|e| matches!(e, DongleEvent::Connected { mtu: 128, .. })));
    assert_eq!(a.link.status().phase, LinkPhase::Connected);

    // The sets agree (A, B on all four devices): the sync state says so.
    let status = a.link.watch();
    wait(&mut a, Duration::from_secs(30), "GOsets agreed", |_| {
        matches!(status.borrow().sync, SyncState::Agreed { feeds: 2, .. })
    });

    // Cut A's BLE link (A walks out of range) and post meanwhile.
    da.set_ble(false);
    let events = wait(&mut a, Duration::from_secs(20), "cut noticed", |ev| {
        ev.iter()
            .any(|e| matches!(e, DongleEvent::Disconnected { .. }))
            && ev
                .iter()
                .any(|e| matches!(e, DongleEvent::ConnectFailed { .. }))
    });
    assert!(events
        .iter()
        .all(|e| !matches!(e, DongleEvent::Stopped { .. })));
    for i in 2..=4 {
        post(&a, &format!("written while cut off, #{i}"));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        got(2).is_none(),
        "nothing can have passed while the link was cut"
    );
    assert_ne!(a.link.status().phase, LinkPhase::Connected);

    // Restore it: the supervisor reconnects by itself and B catches up.
    da.set_ble(true);
    wait(&mut a, Duration::from_secs(20), "reconnected", |ev| {
        ev.iter()
            .any(|e| matches!(e, DongleEvent::Connected { .. }))
    });
    wait(&mut a, Duration::from_secs(180), "catch-up A → B", |_| {
        (2..=4).all(|s| got(s).is_some())
    });
    assert_eq!(got(4).as_deref(), Some("written while cut off, #4"));
    let st = a.link.status();
    assert!(st.health.connects >= 2, "{st:?}");
    assert!(st.health.packets_out > 0 && st.health.packets_in > 0);
    let c = air.counters();
    eprintln!(
        "LoRa: {} frames sent, {} delivered, {} lost to the 10 % loss, {} to collisions",
        c.sent, c.delivered, c.lost_to_loss, c.lost_to_collision
    );
    assert!(c.lost_to_loss > 0, "the channel did lose frames");
    a.link.unpair();
    b.link.unpair();
    a.node.shutdown(Duration::from_secs(2));
    b.node.shutdown(Duration::from_secs(2));
    da.shutdown();
    db.shutdown();
}

#[test]
fn a_full_dongle_is_reported_instead_of_stalling_silently() {
    // A dongle that holds 3 feeds (the firmware holds 100; 3 keeps the test short).
    let mut cfg = EmuConfig::new(0xf011);
    cfg.engine.max_feeds = 3;
    cfg.engine.goset_interval = 1_000;
    let dongle = Emulator::start(cfg, lichen::emu::radio::Radio::Off).unwrap();
    let central: Arc<dyn Central> = Arc::new(EmuCentral::new(&dongle.ble_addr().to_string()));
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store")).unwrap());
    let node = Node::start(store, NodeConfig::default()).unwrap();
    for seed in 1..=4u8 {
        node.add_feed(*Identity::from_seed(&[seed; 32]).fid())
            .unwrap();
    }
    let mut events = node.subscribe();
    node.handle()
        .block_on(
            Dongles::new(central.clone(), dir.path()).pair(dongle.name(), Duration::from_secs(1)),
        )
        .unwrap();
    let mut sup = SupervisorConfig::new(&dongle.ble_addr().to_string(), dongle.name());
    sup.dongle_cap = 3;
    sup.data_dir = Some(dir.path().to_owned());
    let link = DongleLink::start(&node, central, sup);
    let started = Instant::now();
    let state = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no full-dongle report"
        );
        if let Some(DongleEvent::Sync { state, .. }) = node
            .next_event(&mut events, Duration::from_millis(100))
            .as_ref()
            .and_then(DongleEvent::of)
        {
            eprintln!(
                "{:.1} s: {}",
                started.elapsed().as_secs_f64(),
                state.describe()
            );
            if matches!(state, SyncState::DongleFull { .. }) {
                break state.clone();
            }
        }
    };
    assert_eq!(state, SyncState::DongleFull { ours: 4, theirs: 3 });
    assert!(state.describe().contains("the dongle is full"));
    // `lichen dongle status` reads the same from the status file.
    std::thread::sleep(Duration::from_millis(200));
    let st =
        lichen::ble::status::DongleStatus::load(&dir.path().join("dongle-status.json")).unwrap();
    assert_eq!(st.sync, state);
    assert_eq!(dongle.node().snapshot().unwrap().goset_len, 3);
    link.unpair();
    node.shutdown(Duration::from_secs(2));
    dongle.shutdown();
}
