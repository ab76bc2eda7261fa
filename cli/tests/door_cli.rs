//! What the CLI gained on the front door (ADR 0023), as processes on loopback: a network key
//! chosen at `init` (kept in `settings.json`) decides whom a node replicates with, and a bad
//! one is refused before anything is written; a pub accepts peers and keeps what it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref, run, Killed};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// `lichen serve --ws 127.0.0.1:0` on `data`; returns the process and its `ws://` URL.
fn serve(data: &Path) -> (Killed, String) {
    let mut server = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(["serve", "--ws", "127.0.0.1:0", "--timeout", "60", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = format!("ws://{}", listening["ws"].as_str().unwrap());
    (Killed(server), url)
}

#[test]
fn a_bad_network_key_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    for bad in ["zz", "0x12", &"ab".repeat(300)] {
        let o = run(&data, &["init", "--network-key", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--network-key"), "{}", stderr(&o));
        assert!(!data.exists(), "{bad} created {}", data.display());
    }
    lichen(&data, &["init", "--network-key", KEY]);
    let settings = std::fs::read_to_string(data.join("settings.json")).unwrap();
    let j: serde_json::Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(j["network_key"], KEY);
}

#[test]
fn nodes_replicate_only_within_their_network() {
    let dir = tempfile::tempdir().unwrap();
    let (a, same, other) = (
        dir.path().join("a"),
        dir.path().join("same"),
        dir.path().join("other"),
    );
    lichen(&a, &["init", "--network-key", KEY]);
    lichen(&a, &["post", "for the private network"]);
    let a_ref = my_ref(&a);
    lichen(&same, &["init", "--network-key", KEY]);
    lichen(&other, &["init"]);
    for d in [&same, &other] {
        lichen(d, &["contacts", "add", &a_ref, "--alias", "a"]);
    }
    let (_server, url) = serve(&a);

    // The deployed network's node never agrees with a private one: not synced, nothing held.
    let o = run(
        &other,
        &["connect", &url, "--until-synced", "--timeout", "5"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let log = lichen(&other, &["log", "--feed", &a_ref]);
    assert!(
        log.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );

    // The same key: synced, and the post is there.
    let o = run(
        &same,
        &[
            "connect",
            &url,
            "--until-synced",
            "--timeout",
            "30",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = json_lines(&o.stdout)
        .into_iter()
        .find(|j| j["event"] == "synced")
        .unwrap();
    assert_eq!(summary["entries_received"], 1, "{summary}");
    let log =
        String::from_utf8_lossy(&lichen(&same, &["log", "--feed", &a_ref]).stdout).into_owned();
    assert!(log.contains("for the private network"), "{log}");
}

#[test]
fn a_pub_serves_what_it_holds_and_then_gets_an_identity() {
    let dir = tempfile::tempdir().unwrap();
    let (a, hub, b) = (
        dir.path().join("a"),
        dir.path().join("pub"),
        dir.path().join("b"),
    );
    lichen(&a, &["init"]);
    lichen(&a, &["post", "kept by the pub"]);
    let a_ref = my_ref(&a);
    lichen(&hub, &["init", "--no-identity"]);
    // The pub learns the feed from A, then A goes away.
    let (server, url) = serve(&a);
    let o = run(
        &hub,
        &["connect", &url, "--until-synced", "--timeout", "30"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    drop(server);
    let feeds = String::from_utf8_lossy(&lichen(&hub, &["feeds"]).stdout).into_owned();
    assert!(feeds.contains(&a_ref), "{feeds}");
    // B gets A's post from the pub alone.
    lichen(&b, &["init"]);
    lichen(&b, &["contacts", "add", &a_ref]);
    let (hub_server, hub_url) = serve(&hub);
    let o = run(
        &b,
        &["connect", &hub_url, "--until-synced", "--timeout", "30"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = String::from_utf8_lossy(&lichen(&b, &["log", "--feed", &a_ref]).stdout).into_owned();
    assert!(log.contains("kept by the pub"), "{log}");
    drop(hub_server);
    // An identity later; the pub's feeds stay.
    lichen(&hub, &["init"]);
    let feeds = String::from_utf8_lossy(&lichen(&hub, &["feeds"]).stdout).into_owned();
    assert!(feeds.contains(&a_ref), "{feeds}");
}

/// No forked feeds through the CLI (issue 11): a key imported with `init --import` may have
/// entries elsewhere, so `post` is refused, saying to connect first; after syncing with the
/// device that holds its 3 entries the own feed holds them and the next post is seq 4.
#[test]
fn an_imported_key_posts_only_after_its_feed_came_back() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    lichen(&a, &["init"]);
    for t in ["one", "two", "three"] {
        lichen(&a, &["post", t]);
    }
    let key = a.join("identity.json");
    let o = run(&b, &["init", "--import", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("posting waits"), "{}", stderr(&o));

    let o = run(&b, &["post", "too early"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("connect to a device that holds them first"),
        "{}",
        stderr(&o)
    );

    let (_server, url) = serve(&a);
    let o = run(&b, &["connect", &url, "--until-synced", "--timeout", "30"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&b, &["post", "--json", "from the new device"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    assert_eq!(line["seq"], 4, "{line}");
}
