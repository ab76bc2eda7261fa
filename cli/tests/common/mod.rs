//! Helpers shared by the CLI tests: run the built `lichen`, read its JSON lines, clean up
//! child processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output};

/// The `lichen` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lichen")
}

/// Runs `lichen --data DATA ARGS…`, whatever its outcome.
pub fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .output()
        .unwrap()
}

/// Runs `lichen --data DATA ARGS…` and asserts it succeeded.
pub fn lichen(data: &Path, args: &[&str]) -> Output {
    let o = run(data, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The JSON objects among the lines of `out`.
pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `@….ed25519` ref of the identity in `data`.
pub fn my_ref(data: &Path) -> String {
    json_lines(&lichen(data, &["id", "--json"]).stdout)[0]["ref"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Authors a synthetic feed of `entries` public posts (every other one with a side chain) by
/// the identity with seed `seed` into the store of `data`, as `lichen-bench fill` does, and
/// makes it a member; returns its `@….ed25519` ref. No `lichen` process may hold the store.
pub fn fill(data: &Path, seed: u8, entries: u32) -> String {
    use lichen::store::{SledStore, Store};
    let store = SledStore::open(&data.join("store")).unwrap();
    let net = lichen::wire::network::Network::deployed();
    let (fid, _) = lichen::feed::author_synthetic(&store, &net, seed, entries).unwrap();
    store.add_member(&fid).unwrap();
    store.flush().unwrap();
    fid.to_ref()
}

/// A test that cannot run on this machine: fails under CI (`CI=true`), else says why and
/// lets the caller return.
pub fn cannot_run_here(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("cannot run under CI: {why}");
    }
    eprintln!("NOT RUN (not a pass): {why}");
}

/// A child process killed when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
