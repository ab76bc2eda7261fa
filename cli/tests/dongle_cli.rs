//! `lichen dongle …` and `lichen dongle-emu` as real processes: pairing through the CLI,
//! the errors a person sees, a node that keeps its dongle link alive across an emulator
//! restart, and two nodes exchanging a post through two emulated dongles whose LoRa runs
//! over UDP with 10 % loss.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lichen")
}

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .env_remove("LICHEN_DONGLE_EMU")
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let o = run(data, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn fails(data: &Path, args: &[&str]) -> String {
    let o = run(data, args);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8(o.stderr).unwrap()
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An emulator process and the first line it printed.
fn emulator(args: &[&str]) -> (Proc, serde_json::Value, BufReader<ChildStdout>) {
    let mut child = Command::new(bin())
        .args(["dongle-emu", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let j: serde_json::Value = serde_json::from_str(&line).unwrap();
    (Proc(child), j, out)
}

fn addr(j: &serde_json::Value) -> String {
    j["ble"].as_str().unwrap().to_owned()
}

#[test]
fn scan_pair_status_unpair_and_the_errors_a_person_sees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Pairing state lives in a data directory, which only `init` creates.
    let e = fails(d, &["dongle", "status"]);
    assert!(e.contains("no Lichen data at"), "{e}");
    ok(d, &["init", "--no-identity"]);
    let (_a, ja, _) = emulator(&["--seed", "43981"]); // tinySSB-abcd
    let (_b, jb, _) = emulator(&["--seed", "4660", "--rssi", "-85"]); // tinySSB-1234
    let both = format!("{},{}", addr(&ja), addr(&jb));
    assert_eq!(ja["name"], "tinySSB-abcd");

    let scan = ok(d, &["dongle", "--emu", &both, "scan", "--secs", "0.5"]);
    let lines: Vec<&str> = scan.lines().collect();
    assert_eq!(lines.len(), 2, "{scan}");
    assert!(
        lines[0].starts_with("tinySSB-abcd") && lines[0].contains("-60 dBm"),
        "{scan}"
    );
    assert!(
        lines[1].starts_with("tinySSB-1234") && lines[1].contains("-85 dBm"),
        "{scan}"
    );

    let e = fails(d, &["dongle", "status"]);
    assert!(
        e.contains("No dongle is paired. Run `lichen dongle scan`"),
        "{e}"
    );

    let out = ok(
        d,
        &["dongle", "--emu", &both, "--json", "pair", "tinySSB-1234"],
    );
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["event"], "paired");
    assert_eq!(j["name"], "tinySSB-1234");
    assert_eq!(j["transport"], "emulator");

    let st = ok(d, &["dongle", "status"]);
    assert!(st.contains("paired with tinySSB-1234"), "{st}");
    assert!(st.contains("no node is running it"), "{st}");
    let scan = ok(
        d,
        &["dongle", "--emu", &both, "--json", "scan", "--secs", "0.5"],
    );
    let rows: Vec<serde_json::Value> = scan
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[1]["paired"], true);
    assert_eq!(rows[0]["paired_before"], false);

    let out = ok(d, &["dongle", "unpair"]);
    assert!(out.contains("unpaired tinySSB-1234"), "{out}");
    let e = fails(d, &["dongle", "unpair"]);
    assert!(e.contains("No dongle is paired"), "{e}");

    // Gone: not in range (nothing answers at that address).
    let e = fails(
        d,
        &[
            "dongle",
            "--emu",
            "127.0.0.1:9",
            "pair",
            "tinySSB-abcd",
            "--secs",
            "0.3",
        ],
    );
    assert!(
        e.contains("cannot be reached") && e.contains("Bring it closer"),
        "{e}"
    );
    // MTU too small, and a device without the service.
    let (_s, js, _) = emulator(&["--seed", "1", "--mtu", "64"]);
    let e = fails(d, &["dongle", "--emu", &addr(&js), "pair", "tinySSB-0001"]);
    assert!(
        e.contains("carries only 61 bytes per write (ATT MTU 64)"),
        "{e}"
    );
    let (_n, jn, _) = emulator(&["--seed", "2", "--without-service"]);
    let e = fails(d, &["dongle", "--emu", &addr(&jn), "pair", "tinySSB-0002"]);
    assert!(e.contains("does not offer the tinySSB service"), "{e}");
    // The environment variable works like --emu.
    let o = Command::new(bin())
        .args(["--data"])
        .arg(d)
        .args(["dongle", "scan", "--secs", "0.3"])
        .env("LICHEN_DONGLE_EMU", addr(&ja))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("tinySSB-abcd"));
    // Nothing is left paired after the failures.
    assert!(fails(d, &["dongle", "status"]).contains("No dongle is paired"));
}

/// Reads JSON lines from `out` until one satisfies `want`; panics after `limit`.
fn expect_line(
    out: &mut BufReader<ChildStdout>,
    limit: Duration,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = Instant::now();
    let mut line = String::new();
    loop {
        assert!(started.elapsed() < limit, "no such line within {limit:?}");
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("the process ended");
        }
        if let Ok(j) = serde_json::from_str::<serde_json::Value>(&line) {
            if want(&j) {
                return j;
            }
        }
    }
}

#[test]
fn serve_keeps_the_paired_dongle_connected_across_an_emulator_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    let (emu, j, _) = emulator(&["--seed", "48879"]);
    let a = addr(&j);
    ok(d, &["dongle", "--emu", &a, "pair", "tinySSB-beef"]);

    let mut serve = Command::new(bin())
        .arg("--data")
        .arg(d)
        .args(["serve", "--json", "--timeout", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(serve.stdout.take().unwrap());
    let serve = Proc(serve);
    let up = expect_line(&mut out, Duration::from_secs(15), |j| {
        j["event"] == "dongle_connected"
    });
    assert_eq!(up["mtu"], 128);
    expect_line(&mut out, Duration::from_secs(15), |j| {
        j["event"] == "dongle_sync" && j["sync"]["state"] == "agreed"
    });
    let st = ok(d, &["dongle", "status"]);
    assert!(st.contains("link: connected"), "{st}");
    assert!(st.contains("feeds: in sync"), "{st}");

    // The dongle reboots: the node notices, retries, and reconnects once it is back.
    drop(emu);
    expect_line(&mut out, Duration::from_secs(10), |j| {
        j["event"] == "dongle_disconnected"
    });
    expect_line(&mut out, Duration::from_secs(10), |j| {
        j["event"] == "dongle_connect_failed"
    });
    let st = ok(d, &["dongle", "status"]);
    assert!(st.contains("disconnected, next attempt in"), "{st}");
    let (_emu2, j2, _) = emulator(&["--seed", "48879", "--ble", &a]);
    assert_eq!(addr(&j2), a);
    expect_line(&mut out, Duration::from_secs(30), |j| {
        j["event"] == "dongle_connected"
    });

    // Unpairing from another process stops the node's retries.
    ok(d, &["dongle", "unpair"]);
    expect_line(&mut out, Duration::from_secs(10), |j| {
        j["event"] == "dongle_stopped" && j["reason"] == "unpaired"
    });
    drop(serve);
}

#[test]
fn a_post_crosses_two_emulated_dongles_over_udp_lora_with_loss() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Two free UDP ports for the radios.
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let (la, lb) = (
        format!("127.0.0.1:{}", ports[0]),
        format!("127.0.0.1:{}", ports[1]),
    );
    let (_ea, ja, _) = emulator(&[
        "--seed",
        "10",
        "--lora-udp",
        &la,
        "--lora-peer",
        &lb,
        "--loss",
        "0.1",
    ]);
    let (_eb, jb, _) = emulator(&[
        "--seed",
        "11",
        "--lora-udp",
        &lb,
        "--lora-peer",
        &la,
        "--loss",
        "0.1",
    ]);
    assert_eq!(ja["lora"], la.as_str());

    ok(da.path(), &["init"]);
    ok(db.path(), &["init"]);
    ok(da.path(), &["post", "hello through two dongles"]);
    let alice = ok(da.path(), &["id", "--json"]);
    let alice: serde_json::Value = serde_json::from_str(alice.trim()).unwrap();
    let alice_hex = alice["fid"].as_str().unwrap().to_owned();
    ok(
        da.path(),
        &["dongle", "--emu", &addr(&ja), "pair", "tinySSB-000a"],
    );
    ok(
        db.path(),
        &["dongle", "--emu", &addr(&jb), "pair", "tinySSB-000b"],
    );

    let spawn = |d: &Path, secs: &str| {
        let mut c = Command::new(bin())
            .arg("--data")
            .arg(d)
            .args(["serve", "--json", "--timeout", secs])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(c.stdout.take().unwrap());
        (Proc(c), out)
    };
    let (_pa, _oa) = spawn(da.path(), "35");
    // B runs for 25 s (about three times what the post needs), then prints its summary.
    let (_pb, mut ob) = spawn(db.path(), "25");
    // B learns A's feed through its dongle, then the summary shows A's post held.
    expect_line(&mut ob, Duration::from_secs(30), |j| {
        j["event"] == "feed_added" && j["fid"] == alice_hex.as_str()
    });
    let done = expect_line(&mut ob, Duration::from_secs(30), |j| j["event"] == "synced");
    let held = done["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fid"] == alice_hex.as_str())
        .map(|f| f["held"].as_u64().unwrap());
    assert_eq!(held, Some(1), "{done}");
    let log = ok(
        db.path(),
        &["log", "--feed", alice["ref"].as_str().unwrap()],
    );
    assert!(log.contains("hello through two dongles"), "{log}");
}
