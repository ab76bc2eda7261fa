//! A full disk, for real: a 2 MiB tmpfs is filled by posting until `publish` fails. The error
//! must say the disk is full, and once space is freed the store must open again with every
//! post that was reported published, and take new posts.
//!
//! Mounting needs root. CI runs as root, so there the test fails if it cannot mount; elsewhere
//! it says why and does nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lichen::feed::{self, Content};
use lichen::store::{SledStore, Store, StoreError};
use lichen::wire::network::Network;
use lichen::Identity;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn content(i: u32) -> Vec<u8> {
    format!(
        "post {i}: {}",
        "the river is high this week, take the upper path. ".repeat(6)
    )
    .into_bytes()
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_store_opens_again_once_there_is_space() {
    let tmp = tempfile::tempdir().unwrap();
    let _fs = match Tmpfs::mount(tmp.path(), "2m") {
        Ok(fs) => fs,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("cannot mount a tmpfs in CI (runs as root): {e}")
        }
        Err(e) => {
            eprintln!("NOT RUN: this test mounts a tmpfs and needs root: {e}");
            return;
        }
    };
    // Room to free later.
    let filler = tmp.path().join("filler");
    std::fs::write(&filler, vec![0x5a; 512 << 10]).unwrap();
    let dir = tmp.path().join("store");
    let net = Network::deployed();
    let me = Identity::from_seed(&[0x3c; 32]);

    let mut published = 0u32;
    let error = {
        let store = SledStore::open(&dir).unwrap();
        loop {
            match feed::publish(&store, &net, &me, &content(published + 1)) {
                Ok(p) => {
                    assert_eq!(p.seq, published + 1);
                    published = p.seq;
                }
                Err(e) => break e,
            }
            assert!(published < 100_000, "2 MiB never filled up");
        }
        // The store is dropped here, on a full disk (its closing sync may fail too).
    };
    assert!(
        matches!(error, feed::FeedError::Store(StoreError::DiskFull(_))),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("disk full: "), "{error}");
    assert!(published > 0, "not one post fitted");

    eprintln!("published {published}, then: {error}");
    // Still full: each command opens the store and tries again. Opening may fail, and so
    // may posting, but only with a clear error.
    for _ in 0..3 {
        match SledStore::open(&dir) {
            Ok(store) => {
                assert!(store.frontier(me.fid()).unwrap().unwrap().seq >= published);
                if let Err(e) = feed::publish(&store, &net, &me, &content(published + 1)) {
                    assert!(e.to_string().starts_with("disk full: "), "{e}");
                }
                eprintln!("opened on the full disk");
            }
            Err(e) => {
                eprintln!("open on the full disk: {e}");
                assert!(matches!(e, StoreError::DiskFull(_)), "{e}");
            }
        }
    }

    // What sled 0.34.7 leaves when the disk fills while it writes a snapshot (it does so when
    // it opens): `snap.<lsn>.generating`, created, then `write_all` fails before the rename.
    // Which write hits the wall first depends on page rounding, so the test leaves the
    // empty file itself (creating one needs no data blocks), with an lsn above any real one.
    std::fs::write(dir.join("snap.7FFFFFFFFFFFFFFF.generating"), b"").unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    eprintln!("left in the store on the full disk: {names:?}");
    std::fs::remove_file(&filler).unwrap();
    let store = SledStore::open(&dir).unwrap();
    let held = store.frontier(me.fid()).unwrap().unwrap().seq;
    assert_eq!(held, published, "a failed post leaves nothing behind");
    for s in 1..=published {
        assert_eq!(
            feed::content(&store, me.fid(), s).unwrap(),
            Some(Content::Complete(content(s))),
            "post {s} was reported published"
        );
    }
    // Posting works again (after any entry the failed attempt stored).
    let p = feed::publish(&store, &net, &me, b"space again").unwrap();
    assert_eq!(p.seq, held + 1);
    drop(store);
    let store = SledStore::open(&dir).unwrap();
    assert_eq!(store.frontier(me.fid()).unwrap().unwrap().seq, held + 1);
}
