//! The pairing API (scan → pair → status → unpair) and every error it can give, each
//! reached for real: adapter states through the in-process central, the rest through dongle
//! emulators on loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lichen::ble::channel::native_link;
use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::{self, Advert, Central, LinkInfo};
use lichen::ble::mem::{AdapterState, MemCentral};
use lichen::ble::pairing::Dongles;
use lichen::ble::BleError;
use lichen::emu::radio::Radio;
use lichen::emu::{EmuConfig, Emulator};

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

const SCAN: Duration = Duration::from_millis(500);

#[test]
fn scan_pair_status_unpair_with_an_emulated_dongle() {
    let near = Emulator::start(EmuConfig::new(0x1111), Radio::Off).unwrap();
    let mut far_cfg = EmuConfig::new(0x2222);
    far_cfg.rssi = -90;
    let far = Emulator::start(far_cfg, Radio::Off).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let central = Arc::new(EmuCentral::new(&format!(
        "{},{}",
        far.ble_addr(),
        near.ble_addr()
    )));
    let d = Dongles::new(central, dir.path());

    // Not paired yet.
    assert_eq!(d.status(), Err(BleError::NotPaired));
    assert_eq!(d.unpair(), Err(BleError::NotPaired));

    let found = block_on(d.scan(SCAN)).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].name, "tinySSB-1111", "strongest first");
    assert_eq!(found[0].rssi, Some(-60));
    assert_eq!(found[1].rssi, Some(-90));
    assert!(found.iter().all(|f| !f.paired_before && !f.paired));

    // Pair by name.
    let p = block_on(d.pair("tinySSB-1111", SCAN)).unwrap();
    assert_eq!(p.id, near.ble_addr().to_string());
    assert_eq!(p.transport, "emulator");
    let st = d.status().unwrap();
    assert_eq!(st.paired, p);
    assert_eq!(st.link, None, "no node has run the link yet");

    let found = block_on(d.scan(SCAN)).unwrap();
    assert!(found[0].paired && found[0].paired_before);
    assert!(!found[1].paired_before);

    // Unpair: remembered as paired before, no longer paired.
    assert_eq!(d.unpair().unwrap(), p);
    assert_eq!(d.status(), Err(BleError::NotPaired));
    let found = block_on(d.scan(SCAN)).unwrap();
    assert!(found[0].paired_before && !found[0].paired);

    // Pairing again, by id, still works.
    block_on(d.pair(&far.ble_addr().to_string(), SCAN)).unwrap();
    assert_eq!(d.paired().unwrap().unwrap().name, "tinySSB-2222");
    near.shutdown();
    far.shutdown();
}

fn message(e: &BleError) -> String {
    let m = e.to_string();
    eprintln!("{m}");
    assert!(m.len() > 30 && m.ends_with('.'), "a full sentence: {m}");
    m
}

#[test]
fn bluetooth_off_absent_and_refused_are_told_apart() {
    let c = MemCentral::new();
    let dir = tempfile::tempdir().unwrap();
    let d = Dongles::new(Arc::new(MemCentral::new()), dir.path());
    assert_eq!(block_on(d.scan(SCAN)).unwrap(), vec![]);

    c.set_state(AdapterState::Off);
    let e = block_on(c.scan(SCAN)).unwrap_err();
    assert_eq!(e, BleError::Off);
    assert!(message(&e).contains("turned off"));

    c.set_state(AdapterState::Absent);
    let e = block_on(c.scan(SCAN)).unwrap_err();
    assert!(matches!(e, BleError::Absent { .. }));
    assert!(message(&e).contains("no Bluetooth adapter"));

    c.set_state(AdapterState::Denied);
    let e = block_on(c.open("x")).unwrap_err();
    assert!(matches!(e, BleError::PermissionDenied { .. }));
    assert!(message(&e).contains("not allowed"));

    let d = Dongles::new(Arc::new(c), dir.path());
    assert!(matches!(
        block_on(d.pair("tinySSB-0001", SCAN)),
        Err(BleError::PermissionDenied { .. })
    ));
}

#[test]
fn a_dongle_that_is_gone_too_small_or_not_tinyssb_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();

    // Gone: nothing listens there any more.
    let gone = Emulator::start(EmuConfig::new(0x3333), Radio::Off).unwrap();
    let addr = gone.ble_addr().to_string();
    gone.shutdown();
    let c = EmuCentral::new(&addr);
    let d = Dongles::new(Arc::new(c.clone()), dir.path());
    let e = block_on(d.pair("tinySSB-3333", SCAN)).unwrap_err();
    assert_eq!(
        e,
        BleError::DeviceGone {
            name: "tinySSB-3333".into()
        }
    );
    assert!(message(&e).contains("out of range"));
    let e = block_on(link::connect(&c, &addr, "tinySSB-3333", SCAN)).unwrap_err();
    assert!(matches!(e, BleError::DeviceGone { .. }));

    // Out of range while advertising a moment ago (BLE side off).
    let away = Emulator::start(EmuConfig::new(0x3334), Radio::Off).unwrap();
    away.set_ble(false);
    let c = EmuCentral::new(&away.ble_addr().to_string());
    let e = block_on(link::connect(
        &c,
        &away.ble_addr().to_string(),
        "tinySSB-3334",
        SCAN,
    ));
    assert!(matches!(e, Err(BleError::DeviceGone { .. })));

    // MTU too small: the dongle offers 100 bytes.
    let mut cfg = EmuConfig::new(0x4444);
    cfg.mtu = 100;
    let small = Emulator::start(cfg, Radio::Off).unwrap();
    let d = Dongles::new(
        Arc::new(EmuCentral::new(&small.ble_addr().to_string())),
        dir.path(),
    );
    let e = block_on(d.pair("tinySSB-4444", SCAN)).unwrap_err();
    assert_eq!(
        e,
        BleError::MtuTooSmall {
            name: "tinySSB-4444".into(),
            mtu: 100,
            payload: 97
        }
    );
    assert!(message(&e).contains("only 97 bytes"));
    assert_eq!(
        d.paired().unwrap(),
        None,
        "a failed pairing remembers nothing"
    );

    // Service missing: other firmware.
    let mut cfg = EmuConfig::new(0x5555);
    cfg.with_service = false;
    let other = Emulator::start(cfg, Radio::Off).unwrap();
    let d = Dongles::new(
        Arc::new(EmuCentral::new(&other.ble_addr().to_string())),
        dir.path(),
    );
    let e = block_on(d.pair("tinySSB-5555", SCAN)).unwrap_err();
    assert!(matches!(e, BleError::ServiceMissing { .. }), "{e:?}");
    assert!(message(&e).contains("6e400001-7646-4b5b-9a50-71becce51558"));

    // Busy: the firmware takes three centrals.
    let mut cfg = EmuConfig::new(0x6666);
    cfg.max_centrals = 1;
    let busy = Emulator::start(cfg, Radio::Off).unwrap();
    let c = EmuCentral::new(&busy.ble_addr().to_string());
    let id = busy.ble_addr().to_string();
    let first = block_on(async {
        let first = link::connect(&c, &id, "", SCAN).await.unwrap();
        let second = link::connect(&c, &id, "", SCAN).await;
        (first, second)
    });
    assert!(matches!(first.1, Err(BleError::DeviceGone { .. })));
    drop(first);
    for e in [small, other, busy, away] {
        e.shutdown();
    }
}

#[test]
fn a_connection_that_hangs_times_out() {
    let c = MemCentral::new();
    c.add(
        Advert {
            id: "slow".into(),
            name: "tinySSB-5107".into(),
            rssi: Some(-70),
        },
        || Box::pin(std::future::pending()),
    );
    let e = block_on(link::connect(
        &c,
        "slow",
        "tinySSB-5107",
        Duration::from_millis(200),
    ))
    .unwrap_err();
    assert_eq!(
        e,
        BleError::Timeout {
            name: "tinySSB-5107".into(),
            ms: 200
        }
    );
    assert!(message(&e).contains("timed out"));
}

#[test]
fn an_in_process_link_with_a_small_mtu_is_closed_and_refused() {
    let c = MemCentral::new();
    let (tx, rx) = std::sync::mpsc::channel();
    c.add(
        Advert {
            id: "phone".into(),
            name: "Pixel".into(),
            rssi: None,
        },
        move || {
            let (conn, native) = native_link(
                LinkInfo {
                    id: "phone".into(),
                    name: "Pixel".into(),
                    mtu: 23,
                },
                None,
            );
            let _ = tx.send(native);
            Box::pin(async move { Ok(conn) })
        },
    );
    let e = block_on(link::connect(&c, "phone", "Pixel", SCAN)).unwrap_err();
    assert!(matches!(e, BleError::MtuTooSmall { mtu: 23, .. }));
    let native = rx.recv().unwrap();
    assert!(!native.is_up(), "the too-small link was closed");
    assert!(BleError::Unsupported.to_string().contains("--emu"));
}
