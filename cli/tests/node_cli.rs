//! `lichen serve` and `lichen connect` as separate processes on loopback, and over UDP
//! multicast between two network namespaces when this machine allows creating them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref, Killed};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A node with an identity and `posts` public posts (every third one long).
fn node_with_posts(data: &Path, posts: usize) -> String {
    lichen(data, &["init"]);
    for i in 0..posts {
        let text = if i % 3 == 0 {
            format!("{i} {}", "long ".repeat(60))
        } else {
            format!("post {i}")
        };
        lichen(data, &["post", &text]);
    }
    my_ref(data)
}

#[test]
fn serve_and_connect_until_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let a_ref = node_with_posts(&a, 12);
    lichen(&b, &["init"]);

    let mut server = Command::new(bin())
        .arg("--data")
        .arg(&a)
        .args(["serve", "--ws", "127.0.0.1:0", "--timeout", "60", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let guard = Killed(server);
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = format!("ws://{}", listening["ws"].as_str().unwrap());

    let out = lichen(
        &b,
        &[
            "connect",
            &url,
            "--until-synced",
            "--timeout",
            "30",
            "--json",
        ],
    );
    let lines = json_lines(&out.stdout);
    let summary = lines
        .iter()
        .find(|l| l["event"] == "synced")
        .expect("summary line");
    assert_eq!(summary["entries_received"], 12, "{summary}");
    assert!(summary["chunks_received"].as_u64().unwrap() >= 4 * 3);

    // B now holds A's feed byte for byte (stop A first: a store has one owner).
    drop(guard);
    let theirs = json_lines(&lichen(&a, &["log", "--json"]).stdout);
    let ours = json_lines(&lichen(&b, &["log", "--feed", &a_ref, "--json"]).stdout);
    assert_eq!(ours.len(), 12);
    for (x, y) in theirs.iter().zip(&ours) {
        assert_eq!(x["pkt"], y["pkt"]);
        assert_eq!(x["chunks"], y["chunks"]);
        assert_eq!(x["text"], y["text"]);
    }
    let feeds = json_lines(&lichen(&b, &["feeds", "--json"]).stdout);
    let a_feed = feeds.iter().find(|f| f["ref"] == a_ref.as_str()).unwrap();
    assert_eq!(
        (a_feed["seq"].as_u64(), a_feed["open_chains"].as_u64()),
        (Some(12), Some(0))
    );
}

/// Two hosts in network namespaces joined by a veth pair: UDP multicast 239.5.5.8:1558.
#[test]
fn udp_multicast_between_two_network_namespaces() {
    let Some(net) = Netns::create() else {
        common::cannot_run_here("cannot create network namespaces here (needs root and iproute2)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let a_ref = node_with_posts(&a, 9);
    // Two more feeds of 1000 entries each, half of them with side chains.
    let filled: Vec<String> = [100, 101]
        .into_iter()
        .map(|seed| common::fill(&a, seed, 1000))
        .collect();
    lichen(&b, &["init"]);
    let serve = |ns: &str, data: &Path, ip: &str, until: &[&str]| {
        Command::new("ip")
            .args(["netns", "exec", ns, bin(), "--data"])
            .arg(data)
            .args(["serve", "--udp", "--udp-if", ip, "--json"])
            .args(until)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let sa = Killed(serve(&net.a, &a, "10.231.0.1", &["--timeout", "180"]));
    let sb = serve(
        &net.b,
        &b,
        "10.231.0.2",
        &["--until-synced", "--timeout", "120"],
    );
    let out = sb.wait_with_output().unwrap();
    drop(sa);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = json_lines(&lichen(&b, &["log", "--feed", &a_ref, "--json"]).stdout);
    let theirs = json_lines(&lichen(&a, &["log", "--json"]).stdout);
    assert_eq!(
        ours.len(),
        9,
        "B got {} of A's 9 entries over UDP",
        ours.len()
    );
    for (x, y) in theirs.iter().zip(&ours) {
        assert_eq!(x["pkt"], y["pkt"]);
        assert_eq!(x["content"], y["content"]);
    }
    for f in &filled {
        let ours = json_lines(&lichen(&b, &["log", "--feed", f, "--json"]).stdout);
        assert_eq!(ours.len(), 1000, "feed {f}");
        assert!(
            ours.iter().all(|l| l["complete"] == true),
            "all side chains complete"
        );
    }
}

/// Two namespaces with a veth pair, removed on drop.
struct Netns {
    a: String,
    b: String,
}

impl Netns {
    fn create() -> Option<Netns> {
        let tag = std::process::id() % 100_000;
        let n = Netns {
            a: format!("lca{tag}"),
            b: format!("lcb{tag}"),
        };
        let (va, vb) = (format!("va{tag}"), format!("vb{tag}"));
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), n.a.clone()],
            vec!["netns".into(), "add".into(), n.b.clone()],
            vec![
                "link".into(),
                "add".into(),
                va.clone(),
                "netns".into(),
                n.a.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                vb.clone(),
                "netns".into(),
                n.b.clone(),
            ],
        ];
        for s in &steps {
            if !run_ip(&s.iter().map(String::as_str).collect::<Vec<_>>()) {
                return None;
            }
        }
        for (ns, dev, ip) in [(&n.a, &va, "10.231.0.1/24"), (&n.b, &vb, "10.231.0.2/24")] {
            for cmd in [
                vec!["-n", ns, "addr", "add", ip, "dev", dev],
                vec!["-n", ns, "link", "set", dev, "up"],
                vec!["-n", ns, "link", "set", "lo", "up"],
                vec!["-n", ns, "route", "add", "224.0.0.0/4", "dev", dev],
            ] {
                if !run_ip(&cmd) {
                    return None;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        Some(n)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        run_ip(&["netns", "del", &self.a]);
        run_ip(&["netns", "del", &self.b]);
    }
}

fn run_ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
