//! A feed rolled back at open is told as a warning, and the store's fork guard (ADR 0014)
//! still refuses to sign over it through the door.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;

use std::time::Duration;

use lichen::app::{App, AppEvent, AppOptions};
use lichen::chat::ChatId;

#[test]
fn a_rolled_back_own_feed_is_warned_about_and_not_signed_over() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("me");
    let a = App::create(&root, AppOptions::default()).unwrap();
    for i in 0..3 {
        a.send(&ChatId::Public, &format!("post {i}")).unwrap();
    }
    let fid = *a.fid();
    a.stop();
    // Damage the second record of the own log (148-byte records): the feed rolls back to 1.
    let log = root
        .join("store/feeds")
        .join(format!("{}.log", fid.to_hex()));
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[148 + 20] ^= 0xff;
    std::fs::write(&log, &bytes).unwrap();

    let a = App::open(&root, AppOptions::default()).unwrap();
    assert_eq!(a.warnings().len(), 1, "{:?}", a.warnings());
    assert!(
        a.warnings()[0].contains("rolled back from 3 to 1"),
        "{:?}",
        a.warnings()
    );
    let mut events = a.subscribe();
    a.start().unwrap();
    let w = app::wait_event(&mut events, Duration::from_secs(10), |e| match e {
        AppEvent::Warning(w) => Some(w.clone()),
        _ => None,
    });
    assert!(w.contains("rolled back"), "{w}");
    let err = a.send(&ChatId::Public, "over the hole").err().unwrap();
    assert!(err.to_string().contains("rolled back from 3 to 1"), "{err}");
}
