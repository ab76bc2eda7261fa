//! Invites through a relay, as processes: `lichen relay`, then node A `invite --wait` and node
//! B `accept BEACON` from two other loopback addresses, with no other link; each ends up with
//! the other's posts. Then both `serve` and meet again through their saved invites. Also
//! `beacon decode` on vectors, on an invite and on garbage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref, Killed};

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits for a child with a bound; returns its stdout.
fn finish(mut child: Child, limit: Duration) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = Vec::new();
            child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
            assert!(status.success(), "{}", String::from_utf8_lossy(&out));
            return out;
        }
        assert!(
            start.elapsed() < limit,
            "process did not finish in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn summary(out: &[u8]) -> serde_json::Value {
    json_lines(out)
        .into_iter()
        .find(|l| l["event"] == "synced")
        .expect("a summary line")
}

/// `log --feed` of `author` as seen from `reader` equals the author's own log.
fn same_posts(author: &Path, reader: &Path, posts: usize) {
    let theirs = json_lines(&lichen(author, &["log", "--json"]).stdout);
    let r = my_ref(author);
    let ours = json_lines(&lichen(reader, &["log", "--feed", &r, "--json"]).stdout);
    assert_eq!(theirs.len(), posts);
    assert_eq!(ours.len(), posts);
    for (x, y) in theirs.iter().zip(&ours) {
        assert_eq!(x["pkt"], y["pkt"]);
        assert_eq!(x["text"], y["text"]);
    }
}

/// Starts `lichen relay` on a free loopback port, logging to `log`; returns it and its URL.
fn spawn_relay(log: &Path) -> (Killed, String) {
    let mut relay = Command::new(bin())
        .args(["relay", "--listen", "127.0.0.1:0", "--json"])
        .env("LICHEN_LOG", "lichen_relay=info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(relay.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let relay = Killed(relay);
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    let port = listening["addr"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    (relay, format!("ws://localhost:{port}"))
}

#[test]
fn accepting_when_the_inviter_never_comes_exits_not_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    lichen(&a, &["init"]);
    lichen(&b, &["init"]);
    let (_relay, url) = spawn_relay(&dir.path().join("relay.log"));
    let made = lichen(&a, &["invite", "--relay", &url, "--no-qr", "--json"]);
    let beacon = json_lines(&made.stdout)[0]["beacon"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = Command::new(bin())
        .arg("--data")
        .arg(&b)
        .args(["accept", &beacon, "--until-synced", "--timeout", "3"])
        .env_remove("LICHEN_DATA")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not synced"));
}

#[test]
fn invite_and_accept_through_a_relay_process() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    lichen(&a, &["init"]);
    lichen(&b, &["init"]);
    for i in 0..5 {
        lichen(
            &a,
            &["post", &format!("from A {i} {}", "long ".repeat(i * 12))],
        );
    }
    for i in 0..4 {
        lichen(&b, &["post", &format!("from B {i}")]);
    }

    let relay_log = dir.path().join("relay.log");
    let (_relay, url) = spawn_relay(&relay_log);

    let mut inviter = Command::new(bin())
        .arg("--data")
        .arg(&a)
        .args([
            "invite",
            "--relay",
            &url,
            "--alias",
            "Ana",
            "--wait",
            "--until-synced",
        ])
        .args(["--timeout", "90", "--json", "--relay-bind", "127.0.0.2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut a_out = BufReader::new(inviter.stdout.take().unwrap());
    let mut first = String::new();
    a_out.read_line(&mut first).unwrap();
    let rest = std::thread::spawn(move || {
        let mut v = Vec::new();
        a_out.read_to_end(&mut v).unwrap();
        v
    });
    let invite: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(invite["event"], "invite");
    let beacon = invite["beacon"].as_str().unwrap().to_owned();
    assert!(beacon.starts_with("moneysocket-lichen1"));
    assert_eq!(invite["qr"].as_str().unwrap(), beacon.to_uppercase());

    let accepted = lichen(
        &b,
        &[
            "accept",
            &beacon,
            "--until-synced",
            "--timeout",
            "90",
            "--json",
            "--relay-bind",
            "127.0.0.3",
        ],
    );
    let b_lines = json_lines(&accepted.stdout);
    assert_eq!(b_lines[0]["event"], "accepted");
    assert_eq!(b_lines[0]["alias"], "Ana");
    assert!(b_lines
        .iter()
        .any(|l| l["event"] == "link_up" && l["kind"] == "relay"));
    assert!(b_lines
        .iter()
        .all(|l| l["event"] != "link_up" || l["kind"] == "relay"));
    assert_eq!(summary(&accepted.stdout)["entries_received"], 5);

    let status = inviter.wait().unwrap();
    assert!(status.success());
    let a_rest = rest.join().unwrap();
    // B's 4 posts and the trust record (TRT) that accepting the invite wrote to B's feed.
    assert_eq!(summary(&a_rest)["entries_received"], 5);

    same_posts(&a, &b, 5);
    same_posts(&b, &a, 5);
    // B now has A as a verified contact under the invite's alias.
    let contacts = json_lines(&lichen(&b, &["contacts", "--json"]).stdout);
    assert!(
        contacts
            .iter()
            .any(|c| c["alias"] == "Ana" && c["trust"] == 2),
        "{contacts:?}"
    );
    // The relay saw the two nodes come from their own addresses.
    let log = std::fs::read_to_string(&relay_log).unwrap();
    assert!(log.contains("127.0.0.2:"), "{log}");
    assert!(log.contains("127.0.0.3:"), "{log}");
    // Both saved the invite (owner-only), B with the inviter and alias.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("invites.json")).unwrap()).unwrap();
    assert_eq!(saved["invites"][0]["role"], "acceptor");
    assert_eq!(saved["invites"][0]["alias"], "Ana");
    assert!(std::fs::read_to_string(a.join("invites.json"))
        .unwrap()
        .contains("\"inviter\""));

    // Later, both just `serve`: the saved invites bring them together again.
    lichen(&a, &["post", "written while apart"]);
    let serve = |data: &Path, ip: &str| {
        Command::new(bin())
            .arg("--data")
            .arg(data)
            .args([
                "serve",
                "--until-synced",
                "--timeout",
                "90",
                "--json",
                "--relay-bind",
                ip,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let sa = serve(&a, "127.0.0.2");
    let sb = serve(&b, "127.0.0.3");
    let out_b = finish(sb, Duration::from_secs(100));
    let out_a = finish(sa, Duration::from_secs(100));
    assert!(json_lines(&out_b).iter().any(|l| l["event"] == "relays"));
    assert_eq!(summary(&out_b)["entries_received"], 1);
    assert_eq!(summary(&out_a)["entries_received"], 0);
    same_posts(&a, &b, 6);
}

#[test]
fn beacon_decode_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = format!(
        "{}/../vectors/moneysocket-rfc-02-beacon.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in v["02-beacon-encode-decode.json"].as_array().unwrap() {
        let s = case["encoded"].as_str().unwrap();
        let want = &case["decoded"];
        for form in [s.to_owned(), s.to_uppercase()] {
            let out = lichen(d, &["beacon", "decode", &form, "--json"]);
            let got = &json_lines(&out.stdout)[0];
            assert_eq!(got["valid"], true);
            assert_eq!(got["version"], "v1");
            assert_eq!(got["hrp"], want["hrp"]);
            assert_eq!(got["seed"], want["shared_seed"]);
            assert_eq!(got["role_hint"], want["role_hint"]);
            assert_eq!(
                got["rendezvous_id"],
                "bceea11e4fb68e269781f5ec016bccfeb7628821112bcb896f22b82258feadb5"
            );
            let gv = &want["generator_version"];
            assert_eq!(
                got["generator_version"],
                format!("{}.{}.{}", gv["major"], gv["minor"], gv["patch"])
            );
            assert_eq!(
                got["unknown_tlvs"].as_array().unwrap().len(),
                want["unknown_tlvs"].as_array().unwrap().len()
            );
            assert_eq!(
                got["locations"].as_array().unwrap().len(),
                want["locations"].as_array().unwrap().len()
            );
            assert!(got["lichen"].is_null());
        }
    }
    // A deployed (v0) beacon: its own rendezvous id derivation.
    let v0 = "moneysocket1lcqqzqdm8hlqqqgph5g2dz7kaxnhuv6xcgsx8g77cencplsqqyquzg07qqqsr0cpq8lqqqgpcv2qqynjv4kxz7fwwdhkx6m9wshx6mmwv4us8pjk7d";
    let got = &json_lines(&lichen(d, &["beacon", "decode", v0, "--json"]).stdout)[0];
    assert_eq!(got["version"], "v0");
    assert_eq!(
        got["rendezvous_id"],
        "0561059e5409d1502ea9e74b2713e6fd949a6fc4e55de04d739d1892120e15e6"
    );
    assert_eq!(got["locations"][0]["url"], "wss://relay.socket.money:443");

    // A Lichen invite shows its fields.
    lichen(d, &["init"]);
    let inv = lichen(
        d,
        &[
            "invite",
            "--relay",
            "ws://localhost:9",
            "--alias",
            "Ana",
            "--json",
        ],
    );
    let beacon = json_lines(&inv.stdout)[0]["beacon"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = &json_lines(&lichen(d, &["beacon", "decode", &beacon, "--json"]).stdout)[0];
    assert_eq!(got["lichen"]["inviter_ref"], my_ref(d));
    assert_eq!(got["lichen"]["alias"], "Ana");
    assert_eq!(got["unknown_tlvs"].as_array().unwrap().len(), 2);
    assert_eq!(got["locations"][0]["url"], "ws://localhost:9");

    // The text form: a QR code of half blocks above the beacon; --no-qr leaves it out.
    let text =
        String::from_utf8(lichen(d, &["invite", "--relay", "ws://localhost:9"]).stdout).unwrap();
    assert!(text.contains('█') && text.contains('▀'), "{text}");
    assert!(text.lines().any(|l| l.starts_with("moneysocket-lichen1")));
    let plain =
        String::from_utf8(lichen(d, &["invite", "--relay", "ws://localhost:9", "--no-qr"]).stdout)
            .unwrap();
    assert!(!plain.contains('█'));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("invites.json")).unwrap()).unwrap();
    assert_eq!(
        saved["invites"].as_array().unwrap().len(),
        3,
        "each invite saved"
    );

    // Garbage and a decode-error vector: exit 1, with the reason.
    let bad = v["02-beacon-decode-error.json"][0]["input"]["beacon"]
        .as_str()
        .unwrap();
    for input in ["garbage", bad, "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq8rkx3yf5tcsyz3d73gafnh3cax9rn449d9p5uxz9ezhhypd0elx87sjle52x86fux2ypatgddc6k63n7erqz25le42c4u4ecky03ylcqca784w"] {
        let o = Command::new(bin())
            .args(["beacon", "decode", input, "--json"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{input}");
        let got = &json_lines(&o.stdout)[0];
        assert_eq!(got["valid"], false);
        assert!(!got["error"].as_str().unwrap().is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("not a valid beacon"));
    }
}
