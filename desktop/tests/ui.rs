//! The window driven headlessly by egui_kittest over the real app: a real sled store, a
//! second real node over a WebSocket on loopback, a dongle emulator over its socket. Clicks
//! go through the accessibility tree as a person's would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use lichen::app::{App, AppOptions};
use lichen::chat::{ChatId, DeliveryState};
use lichen::emu::radio::Radio;
use lichen::emu::{EmuConfig, Emulator};
use lichen_desktop::ui::{Desktop, DongleLive, Screen};
use lichen_desktop::worker::Cmd;

const WAIT: Duration = Duration::from_secs(30);

fn window(dir: &Path) -> Harness<'static, Desktop> {
    let mut d = Desktop::new(dir.to_path_buf(), || {});
    d.notify = false;
    Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_ui_state(|ui, d: &mut Desktop| d.show(ui), d)
}

/// Steps frames until `ok` holds (the node thread's replies arrive between frames).
fn until(h: &mut Harness<'_, Desktop>, what: &str, ok: impl Fn(&Desktop) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if ok(h.state()) {
            return;
        }
        if start.elapsed() > WAIT {
            let d = h.state();
            panic!(
                "timed out waiting for {what} (busy {:?}, error {:?}, notice {:?})",
                d.busy, d.error, d.notice
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn create(h: &mut Harness<'_, Desktop>) {
    h.get_by_label("Create a new identity").click();
    until(h, "the identity", |d| {
        d.me.is_some() && d.screen == Screen::Chats
    });
    until(h, "the chat list", |d| !d.chats.is_empty());
}

#[test]
fn create_post_receive_read_and_marks_advance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = window(&tmp.path().join("a"));
    create(&mut h);
    let a_fid = h.state().me.unwrap();

    // Post in the public channel.
    h.get_by_label_contains("Public").click();
    until(&mut h, "public open", |d| d.open.is_some());
    h.state_mut().compose = "hello from the desktop".into();
    h.get_by_label("Send").click();
    until(&mut h, "the own post shown", |d| {
        d.open.as_ref().is_some_and(|o| {
            o.messages
                .iter()
                .any(|m| m.text() == Some("hello from the desktop"))
        })
    });
    h.step();
    h.get_by_label("hello from the desktop");

    // A second node links over WebSocket and writes to me.
    h.state().command(Cmd::ListenWs("127.0.0.1:0".into()));
    until(&mut h, "the listener", |d| d.listening.is_some());
    let addr = h.state().listening.clone().unwrap();
    let b = App::create(&tmp.path().join("b"), AppOptions::default()).unwrap();
    b.dial_ws(&format!("ws://{addr}")).unwrap();
    let chat = b.chats().chat_with(&[a_fid]).unwrap();
    b.send(&chat, "hi A, from B").unwrap();

    // Unread rises: the list and the window title say so.
    until(&mut h, "unread 1", |d| d.unread_total() == 1);
    assert_eq!(h.state().title(), "Lichen (1 unread)");
    h.step();
    h.get_by_label("Chats (1)");
    // Opening the chat clears it.
    h.get_by_label_contains("hi A, from B").click();
    until(&mut h, "unread cleared", |d| d.unread_total() == 0);
    assert_eq!(h.state().title(), "Lichen");
    assert_eq!(
        h.state().open.as_ref().map(|o| o.id.clone()),
        Some(chat.clone())
    );

    // My reply's marks advance to read once B reads it.
    h.state_mut().compose = "hi B".into();
    h.get_by_label("Send").click();
    let state_of_reply = |d: &Desktop| {
        d.open.as_ref().and_then(|o| {
            o.messages
                .iter()
                .find(|m| m.text() == Some("hi B"))
                .and_then(|m| m.state)
        })
    };
    until(&mut h, "delivered", |d| {
        state_of_reply(d) >= Some(DeliveryState::Delivered)
    });
    b.mark_read(&chat).unwrap();
    until(&mut h, "read", |d| {
        state_of_reply(d) == Some(DeliveryState::Read)
    });
    h.step();
    h.get_by_label("✔✔ read");
    assert_ne!(chat, ChatId::Public);
    b.stop();
}

#[test]
fn pairs_with_an_emulated_dongle_and_shows_it_reconnecting() {
    let emu = Emulator::start(EmuConfig::new(0x5252), Radio::Off).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut h = window(&tmp.path().join("a"));
    create(&mut h);
    h.get_by_label("Dongle").click();
    h.step();
    h.state_mut().emu_addr = emu.ble_addr().to_string();
    h.get_by_label("Scan").click();
    until(&mut h, "the scan", |d| !d.found.is_empty());
    h.step();
    h.get_by_label("tinySSB-5252");
    h.get_by_label("Pair").click();
    until(&mut h, "connected", |d| {
        matches!(d.dongle_live, DongleLive::Connected(_))
    });
    h.step();
    h.get_by_label_contains("connected (MTU");

    // The emulator drops the link: the window says it reconnects, and when.
    emu.set_ble(false);
    until(&mut h, "reconnecting", |d| {
        matches!(d.dongle_live, DongleLive::Reconnecting { .. })
    });
    h.step();
    h.get_by_label_contains("reconnecting — next try in");
    emu.set_ble(true);
    until(&mut h, "connected again", |d| {
        matches!(d.dongle_live, DongleLive::Connected(_))
    });
    emu.shutdown();
}

#[test]
fn a_slow_dial_shows_progress_and_frames_keep_coming() {
    // A peer that accepts TCP and never answers the WebSocket handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", silent.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        if let Ok((c, _)) = silent.accept() {
            conns.push(c);
        }
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    let tmp = tempfile::tempdir().unwrap();
    let mut h = window(&tmp.path().join("a"));
    create(&mut h);
    h.get_by_label("Sync").click();
    h.step();
    h.state_mut().command(Cmd::DialWs(url.clone()));
    until(&mut h, "the dial to start", |d| {
        d.busy.as_deref() == Some(format!("connecting to {url}").as_str())
    });
    // While the node thread waits on the peer, frames still come at once and say why.
    let mut slowest = Duration::ZERO;
    for _ in 0..50 {
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        h.state().busy.is_some(),
        "the dial ended too early to show anything"
    );
    h.get_by_label_contains("connecting to ws://");
    assert!(
        slowest < Duration::from_millis(500),
        "a frame took {slowest:?}"
    );
    drop(held);
}
