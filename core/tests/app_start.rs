//! What `start` brings back: invites met through a real rendezvous relay (made, accepted,
//! and met again after a restart) and the paired dongle's link (an emulated dongle).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lichen::app::{App, AppEvent, AppOptions, Started};
use lichen::backoff::BackoffConfig;
use lichen::ble::emu_client::EmuCentral;
use lichen::ble::pairing::Dongles;
use lichen::ble::status::DongleEvent;
use lichen::chat::contacts::VERIFIED;
use lichen::chat::ChatId;
use lichen::emu::radio::Radio;
use lichen::emu::{EmuConfig, Emulator};
use lichen::face::relay_dial::RelayOptions;
use lichen_relay::{Relay, RelayConfig};

const LIMIT: Duration = Duration::from_secs(60);

fn options(bind: [u8; 4]) -> AppOptions {
    AppOptions {
        central: None,
        relay: RelayOptions {
            bind: Some(IpAddr::from(bind)),
            backoff: BackoffConfig {
                initial: Duration::from_millis(100),
                max: Duration::from_millis(800),
                ..BackoffConfig::default()
            },
            ..RelayOptions::default()
        },
    }
}

fn has_public(app: &App, text: &str) -> bool {
    app.chats()
        .open_chat(&ChatId::Public, 100)
        .map(|(_, page)| page.messages.iter().any(|m| m.text() == Some(text)))
        .unwrap_or(false)
}

fn open(dir: &Path, bind: [u8; 4]) -> App {
    App::open(dir, options(bind)).unwrap()
}

#[test]
fn an_invite_is_made_accepted_met_through_the_relay_and_met_again_after_a_restart() {
    let relay_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let relay = relay_rt
        .block_on(Relay::bind(RelayConfig::new(
            "127.0.0.1:0".parse().unwrap(),
        )))
        .unwrap();
    let url = format!("ws://localhost:{}", relay.local_addr().port());
    let dir = tempfile::tempdir().unwrap();
    let (da, db) = (dir.path().join("a"), dir.path().join("b"));
    let a = App::create(&da, options([127, 0, 0, 2])).unwrap();
    let b = App::create(&db, options([127, 0, 0, 3])).unwrap();

    // No relay anywhere: a clear error.
    let err = a.make_invite(None, None).err().unwrap();
    assert!(err.to_string().contains("no relay"), "{err}");
    a.update_settings(|s| s.display_name = Some("Ada".into()))
        .unwrap();
    let beacon = a.make_invite(Some(&url), None).unwrap();

    // Bad invites and one's own are refused.
    assert!(b.accept_invite("moneysocket-lichen1xyz").is_err());
    let err = a.accept_invite(&beacon).err().unwrap();
    assert!(err.to_string().contains("your own invite"), "{err}");

    assert_eq!(b.accept_invite(&beacon).unwrap(), *a.fid());
    let c = b.chats().contacts().unwrap();
    let ada = c.iter().find(|c| c.fid == *a.fid()).unwrap();
    assert_eq!(
        (ada.alias.as_deref(), ada.trust),
        (Some("Ada"), Some(VERIFIED))
    );

    a.send(&ChatId::Public, "through the relay").unwrap();
    app::wait_until(LIMIT, "B has A's post", || {
        has_public(&b, "through the relay")
    });

    // After a restart, `start` meets the saved invites again.
    a.stop();
    b.stop();
    let a = open(&da, [127, 0, 0, 2]);
    let b = open(&db, [127, 0, 0, 3]);
    let want = Started {
        relays: 1,
        dongle: false,
    };
    assert_eq!(a.start().unwrap(), want);
    assert_eq!(b.start().unwrap(), want);
    a.send(&ChatId::Public, "again").unwrap();
    app::wait_until(LIMIT, "B has A's second post", || has_public(&b, "again"));
    a.stop();
    b.stop();
    relay_rt.block_on(relay.shutdown());
}

#[test]
fn start_resumes_the_paired_dongle() {
    let emu = Emulator::start(EmuConfig::new(0x5151), Radio::Off).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("me");
    App::create(&root, AppOptions::default()).unwrap().stop();
    let central = Arc::new(EmuCentral::new(&emu.ble_addr().to_string()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(Dongles::new(central, &root).pair("tinySSB-5151", Duration::from_millis(500)))
        .unwrap();

    let app = App::open(&root, AppOptions::default()).unwrap();
    let mut events = app.subscribe();
    assert_eq!(
        app.start().unwrap(),
        Started {
            relays: 0,
            dongle: true
        }
    );
    app::wait_event(&mut events, LIMIT, |e| match e {
        AppEvent::Dongle(DongleEvent::Connected { .. }) => Some(()),
        _ => None,
    });
    let st = app.dongle_status().unwrap().unwrap();
    assert_eq!(st.paired.name, "tinySSB-5151");
    app.stop();
    emu.shutdown();
}
