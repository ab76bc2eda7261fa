//! Two front doors over a real WebSocket loopback link: chats both ways, the event stream,
//! the sync summary, closing links.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;

use std::time::Duration;

use lichen::app::{App, AppEvent, AppOptions};
use lichen::chat::contacts::VERIFIED;
use lichen::chat::{ChatEvent, ChatId};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn two_apps_chat_over_websocket_report_synced_and_close_links() {
    let dir = tempfile::tempdir().unwrap();
    let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
    let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
    a.chats()
        .add_contact(*b.fid(), Some("bea"), VERIFIED)
        .unwrap();
    b.chats()
        .add_contact(*a.fid(), Some("ada"), VERIFIED)
        .unwrap();

    // Nothing is linked yet: not synced, and the summary says why.
    let s = a.sync_summary().unwrap();
    assert_eq!(s.links, 0);
    assert!(!s.synced);
    assert!(s.why_not.unwrap().contains("no peer"));

    let mut ea = a.subscribe();
    let mut eb = b.subscribe();
    let listen = a.listen_ws("127.0.0.1:0").unwrap();
    assert_eq!(listen.kind(), "ws-listen");
    let dialled = b.dial_ws(&format!("ws://{}", listen.peer())).unwrap();
    let face_at_a = app::wait_event(&mut ea, LIMIT, |e| match e {
        AppEvent::LinkUp { face, kind, .. } if kind == "ws" => Some(*face),
        _ => None,
    });

    // Public, one-to-one and group posts reach the other side's chats and event stream.
    b.send(&ChatId::Public, "hello all").unwrap();
    let m = b.send_to(&[*a.fid()], "hello ada").unwrap();
    let one_to_one = m.chat.clone();
    let got = app::wait_event(&mut ea, LIMIT, |e| match e {
        AppEvent::Chat(ChatEvent::Message {
            chat, mine: false, ..
        }) if *chat == one_to_one => Some(chat.clone()),
        _ => None,
    });
    assert_eq!(got, one_to_one);
    app::wait_until(LIMIT, "A lists both chats", || {
        a.chats()
            .list()
            .unwrap()
            .iter()
            .filter(|c| c.total > 0)
            .count()
            >= 2
    });
    let unread = |app: &App| {
        app.chats()
            .list()
            .unwrap()
            .into_iter()
            .find(|c| c.id == one_to_one)
            .map_or(0, |c| c.unread)
    };
    assert_eq!(unread(&a), 1);
    a.mark_read(&one_to_one).unwrap();
    assert_eq!(unread(&a), 0);
    a.send(&one_to_one, "hi bea").unwrap();
    app::wait_event(&mut eb, LIMIT, |e| match e {
        AppEvent::Chat(ChatEvent::Message {
            chat, mine: false, ..
        }) if *chat == one_to_one => Some(()),
        _ => None,
    });
    // A group of three (the third not online): B can read it.
    let carl = *lichen::Identity::generate().fid();
    let g = a.send_to(&[*b.fid(), carl], "hi both").unwrap();
    assert_eq!(g.chat.members().len(), 3);
    let group = g.chat.clone();
    app::wait_event(&mut eb, LIMIT, |e| match e {
        AppEvent::Chat(ChatEvent::Message {
            chat, mine: false, ..
        }) if *chat == group => Some(()),
        _ => None,
    });
    // Progress events name the feeds that grew.
    let b_fid = *b.fid();
    let mut ea2 = a.subscribe();
    b.send(&ChatId::Public, "more").unwrap();
    app::wait_event(&mut ea2, LIMIT, |e| match e {
        AppEvent::Progress { fid, .. } if *fid == b_fid => Some(()),
        _ => None,
    });

    // Once quiet, both say synced.
    app::wait_until(LIMIT, "A synced", || a.sync_summary().unwrap().synced);
    let s = a.sync_summary().unwrap();
    assert_eq!(
        (s.links, s.feeds, s.entries_missing, s.open_chains),
        (1, 3, 0, 0)
    );
    assert!(s.behind.is_empty() && s.why_not.is_none(), "{s:?}");

    // Closing the dialled link takes it down on both sides.
    dialled.close();
    app::wait_event(&mut ea, LIMIT, |e| match e {
        AppEvent::LinkDown { face, .. } if *face == face_at_a => Some(()),
        _ => None,
    });
    app::wait_until(LIMIT, "no links left", || {
        a.sync_summary().unwrap().links == 0 && b.sync_summary().unwrap().links == 0
    });

    // Closing the listener stops accepting.
    listen.close();
    app::wait_until(LIMIT, "the listener refuses", || {
        b.dial_ws(&format!("ws://{}", listen.peer())).is_err()
    });

    // A link closed by its id.
    let again = b.listen_ws("127.0.0.1:0").unwrap();
    a.dial_ws(&format!("ws://{}", again.peer())).unwrap();
    let face = app::wait_event(&mut eb, LIMIT, |e| match e {
        AppEvent::LinkUp { face, kind, .. } if kind == "ws" => Some(*face),
        _ => None,
    });
    b.close_link(face).unwrap();
    app::wait_until(LIMIT, "closed by id", || {
        a.sync_summary().unwrap().links == 0
    });
}

#[test]
fn a_link_opened_elsewhere_runs_as_a_face_and_closes() {
    use lichen::ble::channel;
    use lichen::ble::link::LinkInfo;
    let dir = tempfile::tempdir().unwrap();
    let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
    let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
    a.chats().add_contact(*b.fid(), None, VERIFIED).unwrap();
    b.chats().add_contact(*a.fid(), None, VERIFIED).unwrap();
    let info = |id: &str| LinkInfo {
        id: id.into(),
        name: format!("phone-{id}"),
        mtu: 247,
    };
    // Two phones' GATT links, as native code would hand them over.
    let (ca, cb) = {
        let _rt = a.node().unwrap().handle().enter();
        channel::pair(info("b"), info("a"))
    };
    let mut eb = b.subscribe();
    let ha = a.attach_connection(ca, "ble").unwrap();
    b.attach_connection(cb, "ble").unwrap();
    assert_eq!(ha.kind(), "ble");
    a.send(&ChatId::Public, "over the phone link").unwrap();
    app::wait_event(&mut eb, LIMIT, |e| match e {
        AppEvent::Chat(ChatEvent::Message { mine: false, .. }) => Some(()),
        _ => None,
    });
    ha.close();
    app::wait_event(&mut eb, LIMIT, |e| match e {
        AppEvent::LinkDown { .. } => Some(()),
        _ => None,
    });
    app::wait_until(LIMIT, "A has no link", || {
        a.sync_summary().unwrap().links == 0
    });
}
