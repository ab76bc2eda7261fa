//! Helpers shared by the CLI tests: run the built `lichen`, read its JSON lines, clean up
//! child processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output};

/// The `lichen` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lichen")
}

/// Runs `lichen --data DATA ARGS…` and asserts it succeeded.
pub fn lichen(data: &Path, args: &[&str]) -> Output {
    let o = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .output()
        .unwrap();
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

/// A child process killed when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
