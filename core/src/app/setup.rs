//! Giving a data directory its identity, wherever it starts from: a new directory, or a pub
//! ([`crate::app::Pub`]) that has replicated others' feeds without one. The key file is read
//! with a size bound (a device or a huge file is refused, not read), and nothing is written
//! unless the key is usable.

use std::path::Path;

use zeroize::Zeroizing;

use crate::app::{App, AppError, AppOptions, KeyIs, KeyState, Layout, Settings};
use crate::identity::Identity;

impl App {
    /// Gives `dir` an identity and opens it: a new one, or the key file at `keyfile` (the
    /// tinySSB Android export, the app's `secret` file, or Python simplechat's seed). `dir`
    /// may be new or a pub's (a store without identity, whose feeds stay); one that already
    /// has an identity is refused. `key` says whether an imported key may already have
    /// entries elsewhere (then posting waits for its recovery, [`KeyIs`]).
    pub fn init(
        dir: &Path,
        keyfile: Option<&Path>,
        key: KeyIs,
        options: AppOptions,
    ) -> Result<App, AppError> {
        let layout = Layout::new(dir);
        if layout.has_identity() {
            return Err(AppError::Exists(layout.root().display().to_string()));
        }
        let (me, state) = match keyfile {
            None => (Identity::generate(), KeyState::Ready),
            Some(path) => (
                load_key(path)?,
                match key {
                    KeyIs::New => KeyState::Ready,
                    KeyIs::MayHaveEntries => KeyState::Unrecovered,
                },
            ),
        };
        if !layout.store_dir().exists() {
            return match keyfile {
                None => App::create(dir, options),
                Some(_) => App::import(dir, &me.to_key_file(), key, options),
            };
        }
        // A pub: its settings (network, relays) stay; the key state is the new key's.
        let mut settings = Settings::load(&layout.settings_file())?;
        settings.network()?;
        settings.key = state;
        layout.save_identity(&me)?;
        settings.save(&layout.settings_file())?;
        App::boot(layout, me, options)
    }
}

/// Reads a key file, at most [`crate::fsutil::KEY_FILE_MAX`] bytes.
fn load_key(path: &Path) -> Result<Identity, AppError> {
    let bad = |err: String| AppError::Identity {
        path: path.display().to_string(),
        err,
    };
    let bytes = Zeroizing::new(
        crate::fsutil::read_small(path, crate::fsutil::KEY_FILE_MAX)
            .map_err(|e| bad(e.to_string()))?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    Identity::from_key_file(text).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::app::Pub;

    #[test]
    fn a_pub_gets_an_identity_later_and_keeps_its_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let a = App::create(src.path(), AppOptions::default()).unwrap();
        a.send(&crate::chat::ChatId::Public, "kept").unwrap();
        let out = src.path().join("ref");
        a.feed_log().unwrap().export_tinyssb(&out).unwrap();
        let p = Pub::create(dir.path(), AppOptions::default()).unwrap();
        p.feed_log().unwrap().import_tinyssb(&out).unwrap();
        p.stop();
        let me = App::init(dir.path(), None, KeyIs::New, AppOptions::default()).unwrap();
        let held = me.feed_log().unwrap().frontier(a.fid()).unwrap();
        assert_eq!(held.map(|h| h.0), Some(1));
        assert_eq!(me.key_state(), KeyState::Ready);
        drop(me);
        // A second identity is refused, and the first one stays.
        let e = App::init(dir.path(), None, KeyIs::New, AppOptions::default());
        assert!(matches!(e, Err(AppError::Exists(_))));
    }

    #[test]
    fn a_bad_or_huge_key_file_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.json");
        std::fs::write(&key, r#"{"curve":"ed25519","secret":"AAAA"}"#).unwrap();
        let target = dir.path().join("node");
        let e = App::init(&target, Some(&key), KeyIs::New, AppOptions::default());
        assert!(matches!(e, Err(AppError::Identity { .. })));
        std::fs::write(&key, vec![b' '; 70 * 1024]).unwrap();
        let e = App::init(&target, Some(&key), KeyIs::New, AppOptions::default());
        let Err(e) = e else {
            panic!("a huge key file was read")
        };
        assert!(e.to_string().contains("larger than"), "{e}");
        assert!(!target.exists());
    }

    #[test]
    fn an_imported_key_that_may_have_entries_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        let key = dir.path().join("key.json");
        std::fs::write(&key, a.export_key().as_bytes()).unwrap();
        let b = App::init(
            &dir.path().join("b"),
            Some(&key),
            KeyIs::MayHaveEntries,
            AppOptions::default(),
        )
        .unwrap();
        assert_eq!(b.fid(), a.fid());
        assert_eq!(b.key_state(), KeyState::Unrecovered);
    }
}
