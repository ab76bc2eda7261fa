//! No forked feeds on import: an imported key whose feed has entries elsewhere signs nothing
//! until that feed is recovered from a peer (or the person confirms the key is new).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;

use std::time::Duration;

use lichen::app::{App, AppEvent, AppOptions, KeyIs, KeyState, UNRECOVERED};
use lichen::chat::ChatId;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn an_imported_key_posts_after_its_feed_is_recovered_never_a_second_seq_1() {
    let dir = tempfile::tempdir().unwrap();
    // B holds 3 entries of key K.
    let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
    for i in 1..=3 {
        let m = b.send(&ChatId::Public, &format!("from B {i}")).unwrap();
        assert_eq!(m.seq, i);
    }
    let k = b.export_key();

    // A imports K: posting is refused, saying why and how to recover.
    let a_dir = dir.path().join("a");
    let a = App::import(&a_dir, &k, KeyIs::MayHaveEntries, AppOptions::default()).unwrap();
    assert_eq!(a.key_state(), KeyState::Unrecovered);
    let err = a.send(&ChatId::Public, "too early").err().unwrap();
    assert_eq!(err.to_string(), UNRECOVERED);
    assert!(err
        .to_string()
        .contains("connect to a device that holds them first"));
    // Through the chat service directly, too.
    let err = a.chats().send(&ChatId::Public, "too early").err().unwrap();
    assert_eq!(err.to_string(), UNRECOVERED);
    assert_eq!(a.node().unwrap().store().frontier(a.fid()).unwrap(), None);

    // The hold survives a restart.
    a.stop();
    let a = App::open(&a_dir, AppOptions::default()).unwrap();
    assert_eq!(a.key_state(), KeyState::Unrecovered);
    assert!(a.send(&ChatId::Public, "still early").is_err());

    // A meets B over WebSocket and recovers its feed.
    let mut events = a.subscribe();
    let listen = b.listen_ws("127.0.0.1:0").unwrap();
    a.dial_ws(&format!("ws://{}", listen.peer())).unwrap();
    let held = app::wait_event(&mut events, LIMIT, |e| match e {
        AppEvent::KeyRecovered { held } => Some(*held),
        _ => None,
    });
    assert_eq!(held, 3);
    assert_eq!(a.key_state(), KeyState::Ready);
    let front = a
        .node()
        .unwrap()
        .store()
        .frontier(a.fid())
        .unwrap()
        .unwrap();
    assert_eq!(front.seq, 3);
    assert_eq!(
        front,
        b.node()
            .unwrap()
            .store()
            .frontier(b.fid())
            .unwrap()
            .unwrap(),
        "A holds B's entries, not entries of its own"
    );
    let m = a.send(&ChatId::Public, "from A").unwrap();
    assert_eq!(m.seq, 4, "the next post continues the recovered feed");

    // Recovered is remembered.
    a.stop();
    let a = App::open(&a_dir, AppOptions::default()).unwrap();
    assert_eq!(a.key_state(), KeyState::Ready);
    assert_eq!(a.send(&ChatId::Public, "again").unwrap().seq, 5);
}

#[test]
fn a_key_confirmed_new_posts_at_once_and_stays_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let k = App::create(&dir.path().join("x"), AppOptions::default())
        .unwrap()
        .export_key();
    let root = dir.path().join("a");
    let a = App::import(&root, &k, KeyIs::MayHaveEntries, AppOptions::default()).unwrap();
    assert!(a.send(&ChatId::Public, "no").is_err());
    a.confirm_new_key().unwrap();
    assert_eq!(a.send(&ChatId::Public, "yes").unwrap().seq, 1);
    a.stop();
    let a = App::open(&root, AppOptions::default()).unwrap();
    assert_eq!(a.key_state(), KeyState::Ready);

    let b = App::import(&dir.path().join("b"), &k, KeyIs::New, AppOptions::default()).unwrap();
    assert_eq!(b.send(&ChatId::Public, "new").unwrap().seq, 1);
}
