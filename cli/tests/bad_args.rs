//! Every `lichen` command with bad arguments: numbers (negative, huge, not numbers), refs (feed
//! ids, chat ids, sequence numbers), paths (missing, a file where a directory belongs, one
//! that cannot be written) and sizes. Each must end in bounded time with the documented exit
//! code (ADR 0016, `cli/src/main.rs`: 1 error or invalid input, 2 usage, bad numbers
//! included), a message on stderr, and no panic or backtrace.
//!
//! The command list comes from `lichen --help` at run time: a command without cases here
//! fails the test, so a new command cannot go unwalked. A command that has cases here but is
//! no longer listed (moved to another binary) is named in the output, not walked.
//!
//! Sizes are walked through options (frame sizes, MTUs, batch sizes): a post longer than the
//! 2 MiB content limit cannot be passed as one argument (Linux caps one at 128 KiB).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, lichen, my_ref};

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Usage error: clap's, bad numbers included.
const USAGE: i32 = 2;
/// Error or invalid input.
const ERROR: i32 = 1;

/// How long one bad invocation may take before it counts as hanging.
const LIMIT: Duration = Duration::from_secs(20);

/// The commands `lichen --help` lists (without `help`).
fn listed_commands() -> Vec<String> {
    let o = Command::new(bin()).arg("--help").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let mut in_commands = false;
    let mut names = Vec::new();
    for line in text.lines() {
        if line.trim_end() == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            if !line.starts_with("  ") {
                break;
            }
            // A command's line starts with two spaces and its name; continuation lines of a
            // long description are indented further.
            if line.starts_with("   ") {
                continue;
            }
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    names.push(name.to_owned());
                }
            }
        }
    }
    assert!(names.len() > 10, "could not read the commands from: {text}");
    names
}

/// One bad invocation: the arguments after `--data DATA` (`{data}` in an argument is not
/// needed: the data directory is given per case), the data directory to use and the exit code.
struct Case {
    args: Vec<String>,
    data: String,
    code: i32,
}

/// The places a case can name.
struct Places {
    /// An initialized node.
    node: String,
    /// No such path.
    missing: String,
    /// A regular file.
    file: String,
    /// Under a regular file: cannot be created or written, also as root.
    unwritable: String,
    /// An empty directory.
    empty_dir: String,
    /// A feed id that is valid but unknown here.
    stranger: String,
}

fn cases_for(cmd: &str, p: &Places) -> Option<Vec<Case>> {
    let node = p.node.as_str();
    let c = |code: i32, data: &str, args: &[&str]| Case {
        args: args.iter().map(|s| s.to_string()).collect(),
        data: data.to_owned(),
        code,
    };
    let stranger = p.stranger.as_str();
    let huge = "99999999999999999999999999";
    let long_alias = "a".repeat(65);
    let cases = match cmd {
        "init" => vec![
            c(ERROR, node, &["init"]),
            c(ERROR, node, &["init", "--import", &p.missing]),
            c(ERROR, &p.missing, &["init", "--import", &p.missing]),
            c(ERROR, &p.missing, &["init", "--import", &p.empty_dir]),
            c(ERROR, &p.missing, &["init", "--import", &p.file]),
            c(ERROR, &p.file, &["init"]),
            c(ERROR, &p.unwritable, &["init"]),
            c(
                USAGE,
                &p.missing,
                &["init", "--import", &p.file, "--no-identity"],
            ),
        ],
        "id" => vec![
            c(ERROR, &p.missing, &["id"]),
            c(ERROR, &p.file, &["id"]),
            c(ERROR, &p.empty_dir, &["id"]),
        ],
        "post" => vec![
            c(ERROR, node, &["post", ""]),
            c(ERROR, node, &["post", "   "]),
            c(ERROR, &p.missing, &["post", "hello"]),
            c(ERROR, &p.file, &["post", "hello"]),
            c(USAGE, node, &["post"]),
        ],
        "send" => vec![
            c(ERROR, node, &["send", "--to", "nobody", "hello"]),
            c(ERROR, node, &["send", "--to", "@garbage.ed25519", "hello"]),
            c(ERROR, node, &["send", "--to", &"ab".repeat(31), "hello"]),
            c(ERROR, node, &["send", "--to", stranger, ""]),
            c(ERROR, &p.missing, &["send", "--to", stranger, "hello"]),
            c(USAGE, node, &["send"]),
        ],
        "chat" => vec![
            c(ERROR, &p.missing, &["chat"]),
            c(ERROR, &p.file, &["chat", "--offline"]),
            c(ERROR, node, &["chat", "--ws", "not-an-address"]),
            c(ERROR, node, &["chat", "--connect", "not a url"]),
        ],
        "chats" => vec![
            c(ERROR, &p.missing, &["chats"]),
            c(ERROR, &p.file, &["chats"]),
        ],
        "messages" => vec![
            c(USAGE, node, &["messages", "--limit", "-1"]),
            c(USAGE, node, &["messages", "--limit", huge]),
            c(USAGE, node, &["messages", "--limit", "ten"]),
            c(ERROR, node, &["messages", "--chat", "garbage"]),
            c(ERROR, node, &["messages", "--chat", "@garbage.ed25519"]),
            c(
                ERROR,
                node,
                &["messages", "--chat", "ALL", "--before", "garbage"],
            ),
            c(
                ERROR,
                node,
                &["messages", "--chat", "ALL", "--before", huge],
            ),
            c(USAGE, node, &["messages", "--before", "1"]),
            c(ERROR, &p.missing, &["messages"]),
        ],
        "contacts" => vec![
            c(ERROR, node, &["contacts", "add", "garbage"]),
            c(ERROR, node, &["contacts", "add", "@AAAA.ed25519"]),
            c(ERROR, node, &["contacts", "remove", "garbage"]),
            c(
                USAGE,
                node,
                &["contacts", "add", stranger, "--trust", "ten"],
            ),
            c(USAGE, node, &["contacts", "add", stranger, "--trust", huge]),
            c(USAGE, node, &["contacts", "add", stranger, "--trust", "-1"]),
            c(ERROR, node, &["contacts", "add", stranger, "--trust", "3"]),
            c(ERROR, &p.missing, &["contacts"]),
            c(USAGE, node, &["contacts", "bogus"]),
        ],
        "read" => vec![
            c(ERROR, node, &["read", "--chat", "garbage"]),
            c(ERROR, node, &["read", "--chat", ""]),
            c(ERROR, &p.missing, &["read", "--chat", "ALL"]),
            c(USAGE, node, &["read"]),
        ],
        "log" => vec![
            c(ERROR, node, &["log", "--feed", "garbage"]),
            c(ERROR, node, &["log", "--feed", "@AAAA.ed25519"]),
            c(ERROR, &p.missing, &["log"]),
            c(ERROR, &p.file, &["log"]),
        ],
        "feeds" => vec![
            c(ERROR, &p.missing, &["feeds"]),
            c(ERROR, &p.file, &["feeds"]),
        ],
        "serve" => vec![
            c(USAGE, node, &["serve", "--timeout", "-1"]),
            c(USAGE, node, &["serve", "--timeout", huge]),
            c(
                ERROR,
                node,
                &["serve", "--ws", "not-an-address", "--timeout", "1"],
            ),
            c(
                ERROR,
                node,
                &["serve", "--ws", "127.0.0.1:99999", "--timeout", "1"],
            ),
            c(USAGE, node, &["serve", "--udp", "--udp-if", "999.0.0.1"]),
            c(USAGE, node, &["serve", "--relay-bind", "nowhere"]),
            c(
                ERROR,
                node,
                &["serve", "--relay-ca", &p.missing, "--timeout", "1"],
            ),
            c(
                ERROR,
                node,
                &["serve", "--relay-ca", &p.empty_dir, "--timeout", "1"],
            ),
            c(ERROR, &p.missing, &["serve", "--timeout", "1"]),
        ],
        "connect" => vec![
            c(ERROR, node, &["connect", "not a url", "--timeout", "1"]),
            c(
                ERROR,
                node,
                &["connect", "ws://127.0.0.1:99999", "--timeout", "1"],
            ),
            c(
                USAGE,
                node,
                &["connect", "ws://127.0.0.1:9", "--timeout", "ten"],
            ),
            c(
                ERROR,
                &p.missing,
                &["connect", "ws://127.0.0.1:9", "--timeout", "1"],
            ),
            c(USAGE, node, &["connect"]),
        ],
        "invite" => vec![
            c(ERROR, node, &["invite", "--relay", "not a url", "--no-qr"]),
            c(
                ERROR,
                node,
                &["invite", "--relay", "http://localhost:1", "--no-qr"],
            ),
            c(
                ERROR,
                node,
                &[
                    "invite",
                    "--relay",
                    "ws://localhost:1",
                    "--alias",
                    &long_alias,
                ],
            ),
            c(
                USAGE,
                node,
                &["invite", "--relay", "ws://localhost:1", "--timeout", "1"],
            ),
            c(
                USAGE,
                node,
                &[
                    "invite",
                    "--relay",
                    "ws://localhost:1",
                    "--wait",
                    "--timeout",
                    "-1",
                ],
            ),
            c(
                ERROR,
                &p.missing,
                &["invite", "--relay", "ws://localhost:1"],
            ),
        ],
        "accept" => vec![
            c(ERROR, node, &["accept", "garbage"]),
            c(ERROR, node, &["accept", "moneysocket-lichen1qqqq"]),
            c(ERROR, node, &["accept", ""]),
            c(USAGE, node, &["accept", "garbage", "--timeout", "-1"]),
            c(USAGE, node, &["accept"]),
        ],
        "beacon" => vec![
            c(ERROR, node, &["beacon", "decode", "garbage"]),
            c(ERROR, node, &["beacon", "decode", ""]),
            c(USAGE, node, &["beacon"]),
            c(USAGE, node, &["beacon", "bogus"]),
        ],
        "relay" => vec![
            c(USAGE, node, &["relay", "--listen", "not-an-address"]),
            c(USAGE, node, &["relay", "--listen", "127.0.0.1:99999"]),
            c(
                USAGE,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-frame", "-1"],
            ),
            c(
                ERROR,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-frame", "0"],
            ),
            c(
                ERROR,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-conns", "0"],
            ),
            c(
                ERROR,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-per-ip", "0"],
            ),
            c(
                ERROR,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-pending", "0"],
            ),
            c(
                USAGE,
                node,
                &["relay", "--listen", "127.0.0.1:0", "--max-conns", huge],
            ),
            c(
                ERROR,
                node,
                &[
                    "relay",
                    "--listen",
                    "127.0.0.1:0",
                    "--tls-cert",
                    &p.missing,
                    "--tls-key",
                    &p.missing,
                ],
            ),
            c(
                ERROR,
                node,
                &[
                    "relay",
                    "--listen",
                    "127.0.0.1:0",
                    "--tls-cert",
                    &p.file,
                    "--tls-key",
                    &p.file,
                ],
            ),
        ],
        "inspect" => vec![
            c(ERROR, node, &["inspect", "zz"]),
            c(ERROR, node, &["inspect", "abc"]),
            c(ERROR, node, &["inspect", ""]),
            c(
                USAGE,
                node,
                &["inspect", "00", "--feed", stranger, "--seq", "-1"],
            ),
            c(
                USAGE,
                node,
                &["inspect", "00", "--feed", stranger, "--seq", huge],
            ),
            c(USAGE, node, &["inspect", "00", "--seq", "1"]),
            c(
                ERROR,
                node,
                &["inspect", &"00".repeat(120), "--feed", "garbage"],
            ),
            c(
                ERROR,
                node,
                &[
                    "inspect",
                    &"00".repeat(120),
                    "--feed",
                    stranger,
                    "--prev",
                    "zz",
                ],
            ),
        ],
        "export" => vec![
            c(ERROR, node, &["export", "--tinyssb", &p.file]),
            c(ERROR, node, &["export", "--tinyssb", &p.unwritable]),
            c(ERROR, &p.missing, &["export", "--tinyssb", &p.empty_dir]),
            c(USAGE, node, &["export"]),
        ],
        "import" => vec![
            c(ERROR, node, &["import", "--tinyssb", &p.missing]),
            c(ERROR, node, &["import", "--tinyssb", &p.file]),
            c(ERROR, node, &["import", "--tinyssb", &p.empty_dir]),
            c(ERROR, &p.missing, &["import", "--tinyssb", &p.empty_dir]),
            c(USAGE, node, &["import"]),
        ],
        "sim" => vec![
            c(USAGE, node, &["sim", "--nodes", "-1"]),
            c(USAGE, node, &["sim", "--nodes", huge]),
            c(ERROR, node, &["sim", "--nodes", "0"]),
            c(USAGE, node, &["sim", "--feeds", "0"]),
            c(USAGE, node, &["sim", "--entries", "0"]),
            c(USAGE, node, &["sim", "--partition", "1"]),
            c(ERROR, node, &["sim", "--topology", "bogus"]),
            c(ERROR, node, &["sim", "--plan", "bogus"]),
        ],
        "bench" => vec![
            c(USAGE, node, &["bench", "--sizes", "-1"]),
            c(ERROR, node, &["bench", "--sizes", "0"]),
            c(USAGE, node, &["bench", "--sizes", huge]),
            c(ERROR, node, &["bench", "--rounds", "0"]),
            c(ERROR, node, &["bench", "--feeds", "0"]),
            c(ERROR, node, &["bench", "--entries", "0"]),
            c(USAGE, node, &["bench", "--entries", huge]),
            c(USAGE, node, &["bench", "--only", "bogus"]),
            c(USAGE, node, &["bench", "--messages", "1"]),
        ],
        "dongle" => vec![
            c(USAGE, node, &["dongle", "scan", "--secs", "-1"]),
            c(USAGE, node, &["dongle", "pair"]),
            c(
                USAGE,
                node,
                &["dongle", "--emu", "not-an-address", "status"],
            ),
            c(USAGE, node, &["dongle", "--emu", "127.0.0.1:0", "scan"]),
            c(USAGE, node, &["dongle", "--emu", ":7000", "scan"]),
            c(USAGE, node, &["dongle"]),
            c(ERROR, &p.missing, &["dongle", "status"]),
        ],
        "dongle-emu" => vec![
            c(
                ERROR,
                node,
                &["dongle-emu", "--ble", "not-an-address", "--timeout", "1"],
            ),
            c(USAGE, node, &["dongle-emu", "--mtu", "0"]),
            c(USAGE, node, &["dongle-emu", "--mtu", "70000"]),
            c(USAGE, node, &["dongle-emu", "--rssi", "-200"]),
            c(
                ERROR,
                node,
                &["dongle-emu", "--plan", "bogus", "--timeout", "1"],
            ),
            c(USAGE, node, &["dongle-emu", "--lora-peer", "127.0.0.1:9"]),
            c(
                ERROR,
                node,
                &[
                    "dongle-emu",
                    "--lora-udp",
                    "not-an-address",
                    "--timeout",
                    "1",
                ],
            ),
        ],
        _ => return None,
    };
    Some(cases)
}

/// Runs one case with a bound; returns (exit code or None if killed, stderr).
fn run_bounded(case: &Case) -> (Option<i32>, String) {
    let mut child = Command::new(bin())
        .arg("--data")
        .arg(&case.data)
        .args(&case.args)
        .env_remove("LICHEN_DATA")
        .env_remove("LICHEN_RELAY")
        .env_remove("LICHEN_RELAY_LISTEN")
        .env_remove("LICHEN_DONGLE_EMU")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, reader.join().unwrap())
}

/// What is wrong with a case's outcome, if anything.
fn judge(case: &Case, code: Option<i32>, err: &str) -> Option<String> {
    let shown = |s: &str| {
        let s: String = s.chars().take(300).collect();
        s.replace('\n', " | ")
    };
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            if a.len() > 40 {
                format!("<{} bytes>", a.len())
            } else {
                a.clone()
            }
        })
        .collect();
    let what = format!("{args:?}");
    match code {
        None => Some(format!("{what}: still running after {LIMIT:?} (killed)")),
        Some(_) if err.contains("panicked") || err.contains("stack backtrace") => {
            Some(format!("{what}: panicked: {}", shown(err)))
        }
        Some(c) if c != case.code => Some(format!(
            "{what}: exit {c}, expected {}: {}",
            case.code,
            shown(err)
        )),
        Some(_) if err.trim().is_empty() => Some(format!("{what}: no message on stderr")),
        Some(_) => None,
    }
}

#[test]
fn every_command_refuses_bad_arguments_with_its_exit_code_and_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let node = root.join("node");
    lichen(&node, &["init"]);
    let file = root.join("a-file");
    std::fs::write(&file, b"not a directory, not a key file\n").unwrap();
    let empty_dir = root.join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let stranger_dir = root.join("stranger");
    lichen(&stranger_dir, &["init"]);
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let places = Places {
        node: s(&node),
        missing: s(&root.join("missing")),
        file: s(&file),
        unwritable: s(&file.join("below-a-file")),
        empty_dir: s(&empty_dir),
        stranger: my_ref(&stranger_dir),
    };

    let listed = listed_commands();
    let mut problems = Vec::new();
    let mut all = Vec::new();
    for cmd in &listed {
        match cases_for(cmd, &places) {
            None => problems.push(format!(
                "`{cmd}` is listed by --help but has no bad-argument cases here"
            )),
            Some(cases) => {
                // Every command also refuses an option it does not have.
                all.push(Case {
                    args: vec![cmd.clone(), "--no-such-option".into()],
                    data: places.node.clone(),
                    code: USAGE,
                });
                all.extend(cases);
            }
        }
    }
    for known in [
        "init",
        "id",
        "post",
        "send",
        "chat",
        "chats",
        "messages",
        "contacts",
        "read",
        "log",
        "feeds",
        "serve",
        "connect",
        "invite",
        "accept",
        "beacon",
        "relay",
        "inspect",
        "export",
        "import",
        "sim",
        "bench",
        "dongle",
        "dongle-emu",
    ] {
        if !listed.iter().any(|c| c == known) {
            eprintln!("`{known}` is not listed by `lichen --help` any more: not walked here");
        }
    }

    // A few at a time: the machine is shared.
    let total = all.len();
    for batch in all.chunks(4) {
        let results: Vec<_> = std::thread::scope(|sc| {
            let handles: Vec<_> = batch
                .iter()
                .map(|case| sc.spawn(move || (case, run_bounded(case))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (case, (code, err)) in results {
            if let Some(p) = judge(case, code, &err) {
                problems.push(p);
            }
        }
    }
    // The node still opens after all of it.
    lichen(&node, &["id"]);
    eprintln!("walked {} commands, {total} bad invocations", listed.len());
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
