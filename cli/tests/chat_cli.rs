//! The chat commands as separate processes: `send`, `chats`, `messages`, `contacts`, `read`,
//! with two nodes replicating through `serve` and `connect` on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref};

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// `server` serves until synced; `client` connects until synced. Both run their chat service
/// meanwhile (receipts, delivery states).
fn sync(server: &Path, client: &Path) {
    let mut s = Command::new(bin())
        .arg("--data")
        .arg(server)
        .args([
            "serve",
            "--ws",
            "127.0.0.1:0",
            "--until-synced",
            "--timeout",
            "40",
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(s.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let drain = std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    let url = format!("ws://{}", listening["ws"].as_str().unwrap());
    lichen(
        client,
        &["connect", &url, "--until-synced", "--timeout", "40"],
    );
    assert!(s.wait().unwrap().success());
    let _ = drain.join();
}

fn state_of(data: &Path, chat: &str, text: &str) -> String {
    let msgs = json_lines(&lichen(data, &["messages", "--chat", chat, "--json"]).stdout);
    let m = msgs.iter().find(|m| m["text"] == text).unwrap();
    m["state"].as_str().unwrap().to_owned()
}

#[test]
fn send_receive_receipts_and_read_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    lichen(&a, &["init"]);
    lichen(&b, &["init"]);
    let (a_ref, b_ref) = (my_ref(&a), my_ref(&b));

    lichen(&a, &["contacts", "add", &b_ref, "--alias", "bob"]);
    let contacts = json_lines(&lichen(&a, &["contacts", "--json"]).stdout);
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        (contacts[0]["ref"].as_str(), contacts[0]["name"].as_str()),
        (Some(b_ref.as_str()), Some("bob"))
    );
    let sent = json_lines(&lichen(&a, &["send", "--to", "bob", "hi bob", "--json"]).stdout);
    assert_eq!(sent[0]["state"], "written");
    assert_eq!(sent[0]["author"], a_ref.as_str());
    let chat = sent[0]["chat"].as_str().unwrap().to_owned();
    let public = lichen(&a, &["send", "hello all"]);
    assert!(String::from_utf8_lossy(&public.stderr).contains("public channel"));

    let chats = json_lines(&lichen(&a, &["chats", "--json"]).stdout);
    let find = |list: &[serde_json::Value], id: &str| {
        list.iter().find(|c| c["chat"] == id).cloned().unwrap()
    };
    assert_eq!(find(&chats, "ALL")["total"], 1);
    let c = find(&chats, &chat);
    assert_eq!(
        (c["total"].as_u64(), c["title"].as_str()),
        (Some(1), Some("bob"))
    );

    // B learns A's feed and replies with a delivery receipt while serving.
    lichen(&b, &["contacts", "add", &a_ref, "--alias", "alice"]);
    sync(&b, &a);
    let chats = json_lines(&lichen(&b, &["chats", "--json"]).stdout);
    assert_eq!(find(&chats, &chat)["unread"], 1);
    assert_eq!(find(&chats, "ALL")["unread"], 1);
    let msgs = json_lines(&lichen(&b, &["messages", "--chat", "alice", "--json"]).stdout);
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        (
            msgs[0]["author"].as_str(),
            msgs[0]["text"].as_str(),
            msgs[0]["chat"].as_str()
        ),
        (Some(a_ref.as_str()), Some("hi bob"), Some(chat.as_str()))
    );
    assert!(
        msgs[0]["state"].is_null(),
        "state is for my own messages only"
    );

    // A's message: stored by B at least; delivered once B's receipt has come back.
    let mut state = state_of(&a, &chat, "hi bob");
    for _ in 0..3 {
        if state == "delivered" {
            break;
        }
        assert!(["sent", "stored"].contains(&state.as_str()), "{state}");
        sync(&b, &a);
        state = state_of(&a, &chat, "hi bob");
    }
    assert_eq!(state, "delivered");

    lichen(&b, &["read", "--chat", &chat]);
    let chats = json_lines(&lichen(&b, &["chats", "--json"]).stdout);
    assert_eq!(find(&chats, &chat)["unread"], 0);
    for _ in 0..3 {
        sync(&b, &a);
        if state_of(&a, &chat, "hi bob") == "read" {
            break;
        }
    }
    assert_eq!(state_of(&a, &chat, "hi bob"), "read");

    // Everything, and search.
    let all = json_lines(&lichen(&a, &["messages", "--json"]).stdout);
    let texts: Vec<_> = all.iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(
        texts.contains(&"hi bob") && texts.contains(&"hello all"),
        "{texts:?}"
    );
    let found = json_lines(&lichen(&b, &["messages", "--search", "HELLO", "--json"]).stdout);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["chat"], "ALL");
    // B's receipts are not messages; they are not listed as other entries for A either.
    assert!(all.iter().all(|m| m["kind"] != "unreadable"));
}

#[test]
fn bad_references_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    lichen(&a, &["init"]);
    let o = Command::new(bin())
        .arg("--data")
        .arg(&a)
        .args(["send", "--to", "nobody", "hi"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown contact"));
    let o = Command::new(bin())
        .arg("--data")
        .arg(&a)
        .args(["messages", "--chat", "@not-a-chat"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn group_delivery_and_route_through_the_cli() {
    // A writes to a group of three; B receives it over a WebSocket and says so in its signed
    // record; C never connects. `messages` at B tells the route, at A who stored it.
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    for d in [&a, &b, &c] {
        lichen(d, &["init"]);
    }
    let (a_ref, b_ref, c_ref) = (my_ref(&a), my_ref(&b), my_ref(&c));
    lichen(&a, &["contacts", "add", &b_ref, "--alias", "bob"]);
    lichen(&a, &["contacts", "add", &c_ref, "--alias", "carol"]);
    lichen(&b, &["contacts", "add", &a_ref, "--alias", "alice"]);
    let sent = json_lines(
        &lichen(
            &a,
            &["send", "--to", "bob,carol", "plan for saturday", "--json"],
        )
        .stdout,
    );
    let chat = sent[0]["chat"].as_str().unwrap().to_owned();
    let before = json_lines(&lichen(&a, &["messages", "--chat", &chat, "--json"]).stdout);
    // The author's own copy counts: "stored by 1 of 3 (me)".
    assert_eq!(before[0]["delivery"]["stored"], 1, "{}", before[0]);

    sync(&b, &a);
    let at_b = json_lines(&lichen(&b, &["messages", "--chat", &chat, "--json"]).stdout);
    let m = at_b
        .iter()
        .find(|m| m["text"] == "plan for saturday")
        .unwrap();
    assert_eq!(
        (
            m["route"]["kind"].as_str(),
            m["route"]["direction"].as_str()
        ),
        (Some("websocket"), Some("arrived")),
        "{m}"
    );
    let line =
        String::from_utf8_lossy(&lichen(&b, &["messages", "--chat", &chat]).stdout).into_owned();
    assert!(line.contains("[arrived over websocket "), "{line}");

    // B's record comes back to A with the next sync: stored by B too, and by whom.
    let mut delivery = serde_json::Value::Null;
    for _ in 0..3 {
        sync(&b, &a);
        let at_a = json_lines(&lichen(&a, &["messages", "--chat", &chat, "--json"]).stdout);
        delivery = at_a
            .iter()
            .find(|m| m["text"] == "plan for saturday")
            .unwrap()["delivery"]
            .clone();
        if delivery["stored"] == 2 {
            break;
        }
    }
    assert_eq!(delivery["stored"], 2, "{delivery}");
    let members = delivery["members"].as_array().unwrap();
    let of = |name: &str| members.iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!(of("bob")["stored"], true, "{delivery}");
    assert_eq!(of("carol")["stored"], false, "{delivery}");
    let text =
        String::from_utf8_lossy(&lichen(&a, &["messages", "--chat", &chat]).stdout).into_owned();
    // Members are listed in key order, so "(bob, me)" or "(me, bob)".
    let who = text
        .split("stored by 2 of 3 (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{text}"));
    let mut who: Vec<&str> = who.split(", ").collect();
    who.sort();
    assert_eq!(who, ["bob", "me"], "{text}");
    // Nobody claims entries A lacks: no gap lines.
    let all = json_lines(&lichen(&a, &["messages", "--chat", &chat, "--json"]).stdout);
    assert!(all.iter().all(|l| l.get("gap").is_none()), "{all:?}");
}
