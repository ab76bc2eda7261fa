//! The `lichen-relay` binary as a process: it prints where it listens, pairs nothing when
//! nothing comes, stops cleanly on SIGTERM with its totals, and turns bad numbers into usage
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn relay() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lichen-relay"));
    c.env_remove("LICHEN_RELAY_LISTEN");
    c
}

/// One start, then SIGTERM as soon as it says where it listens.
fn start_and_stop() {
    let mut child = relay()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--shutdown-timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "listening", "{first}");
    assert_eq!(first["tls"], false, "{first}");
    let addr: std::net::SocketAddr = first["addr"].as_str().unwrap().parse().unwrap();
    assert_ne!(addr.port(), 0);
    // It accepts connections.
    drop(std::net::TcpStream::connect(addr).unwrap());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let last: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(last["event"], "stopped", "{last}");
    assert!(last["connections_total"].as_u64().is_some(), "{last}");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("lichen-relay did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

/// A SIGTERM right after the "listening" line is a clean stop: the handler is in place before
/// the line is printed (it was not, and the signal's default action killed the relay
/// without its "stopped" line about one time in five). Several rounds, as it is a race.
#[test]
fn listens_then_stops_on_sigterm_with_its_totals() {
    for _ in 0..10 {
        start_and_stop();
    }
}

#[test]
fn bad_numbers_and_bad_files_are_errors_not_panics() {
    for opt in [
        "--wait-timeout",
        "--idle-timeout",
        "--shutdown-timeout",
        "--max-frame",
    ] {
        for bad in ["-1", "inf", "NaN", "1e30", "ten"] {
            let o = relay()
                .args(["--listen", "127.0.0.1:0", &format!("{opt}={bad}")])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{opt}={bad}: {err}");
            assert!(err.contains("invalid value") && err.contains(opt), "{err}");
        }
    }
    let o = relay()
        .args(["--listen", "127.0.0.1:0", "--max-frame", "10"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let o = relay()
        .args(["--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&missing)
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
}
