//! The front door's data directory: create, import, open, export, settings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::app::{App, AppError, AppOptions, KeyIs, KeyState, Settings};

#[test]
fn open_of_a_directory_without_lichen_data_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = App::open(dir.path(), AppOptions::default()).err().unwrap();
    assert!(matches!(err, AppError::NoData(_)), "{err}");
    assert!(err.to_string().starts_with("no Lichen data at "), "{err}");
    // Nothing was made there.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn create_refuses_an_existing_identity_and_open_finds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("me");
    let app = App::create(&root, AppOptions::default()).unwrap();
    let fid = *app.fid();
    assert_eq!(app.key_state(), KeyState::Ready);
    for f in ["identity.json", "store", "chats", "settings.json"] {
        assert!(root.join(f).exists(), "{f} missing");
    }
    app.stop();
    let err = App::create(&root, AppOptions::default()).err().unwrap();
    assert!(matches!(err, AppError::Exists(_)), "{err}");
    let err = App::import(&root, "{}", KeyIs::New, AppOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, AppError::Exists(_)), "{err}");
    let again = App::open(&root, AppOptions::default()).unwrap();
    assert_eq!(*again.fid(), fid);
}

#[test]
fn an_exported_key_imports_elsewhere_and_bad_key_text_makes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
    let text = a.export_key();
    let fid = *a.fid();
    a.stop();
    let b = App::import(
        &dir.path().join("b"),
        &text,
        KeyIs::New,
        AppOptions::default(),
    )
    .unwrap();
    assert_eq!(*b.fid(), fid);
    assert_eq!(b.key_state(), KeyState::Ready);
    b.stop();

    let c = dir.path().join("c");
    let err = App::import(&c, "not a key file", KeyIs::New, AppOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("not a usable key file"), "{err}");
    assert!(!c.join("identity.json").exists());
}

#[test]
fn settings_persist_and_keep_fields_this_version_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("me");
    App::create(&root, AppOptions::default()).unwrap().stop();
    // A newer app wrote a field we do not know.
    let path = root.join("settings.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    j["theme"] = serde_json::json!({"dark": true});
    std::fs::write(&path, j.to_string()).unwrap();

    let app = App::open(&root, AppOptions::default()).unwrap();
    app.update_settings(|s| {
        s.display_name = Some("Ada".into());
        s.receipts = false;
        s.relays = vec!["ws://relay.example:7000".into()];
    })
    .unwrap();
    // A bad network key is refused and changes nothing.
    let err = app
        .update_settings(|s| s.network_key = Some("zz".into()))
        .err()
        .unwrap();
    assert!(err.to_string().contains("network key"), "{err}");
    app.stop();

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["theme"]["dark"], true, "{j}");
    assert_eq!(j["version"], 1);
    let s = Settings::load(&path).unwrap();
    assert_eq!(s.display_name.as_deref(), Some("Ada"));
    assert!(!s.receipts);
    assert_eq!(s.network_key, None);
    assert_eq!(
        App::open(&root, AppOptions::default()).unwrap().settings(),
        s
    );
}

#[test]
fn a_damaged_settings_file_is_a_clear_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("me");
    App::create(&root, AppOptions::default()).unwrap().stop();
    std::fs::write(root.join("settings.json"), b"{not json").unwrap();
    let err = App::open(&root, AppOptions::default()).err().unwrap();
    assert!(err.to_string().starts_with("settings "), "{err}");
    assert_eq!(
        std::fs::read(root.join("settings.json")).unwrap(),
        b"{not json"
    );
}
