//! Secrets are never logged: a full workflow as `lichen` processes at trace level — init, a key
//! exported and imported into a second data directory, a relay, invite and accept through it, a
//! private message between two nodes over WebSocket — and then every byte the processes wrote
//! (stdout, stderr, every file of their data directories) is searched for the secret keys (raw,
//! hex and base64, also truncated), the private message's text and the invite's secret seed.
//!
//! Allowed, by design: a node's own `identity.json` and the key file a person exported hold the
//! secret key; `invites.json`, the invite's stdout and the acceptor's command line hold the
//! invite (it is the thing given); the two chat indexes (`chats/`, derived, decrypted) and the
//! reader's `messages` output hold the text. Nothing else may.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bin, json_lines, lichen, my_ref, Killed};

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use lichen::{Identity, IdentityFile};

/// What the processes wrote, each as (where, bytes).
#[derive(Default)]
struct Seen(Vec<(String, Vec<u8>)>);

impl Seen {
    fn add(&mut self, what: impl Into<String>, bytes: Vec<u8>) {
        self.0.push((what.into(), bytes));
    }
}

/// A `lichen` command at trace level, its stderr into `log`.
fn traced(data: &Path, args: &[&str], log: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .env("LICHEN_LOG", "trace")
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    c
}

/// Runs a traced command to its end; asserts success; returns its stdout.
fn run_traced(data: &Path, args: &[&str], log: &Path) -> Vec<u8> {
    let o = traced(data, args, log).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default())
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    o.stdout
}

/// A spawned child's first stdout line, and a thread reading the rest.
fn first_line(child: &mut Child) -> (String, JoinHandle<Vec<u8>>) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let head = first.clone();
    let rest = std::thread::spawn(move || {
        let mut v = head.into_bytes();
        out.read_to_end(&mut v).unwrap();
        v
    });
    (first, rest)
}

/// Waits (bounded) for a child and asserts it succeeded; returns all its stdout.
fn finish(mut child: Child, rest: JoinHandle<Vec<u8>>, limit: Duration) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = rest.join().unwrap();
            assert!(status.success(), "{}", String::from_utf8_lossy(&out));
            return out;
        }
        assert!(start.elapsed() < limit, "process did not end in {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every regular file under `dir`, with its path.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The forms a secret key could be written in: raw, hex, base64 (standard and URL-safe), of
/// the seed and of the 64-byte libsodium secret, whole and cut to their first 12 bytes.
fn key_forms(id: &Identity) -> Vec<(String, Vec<u8>)> {
    let seed = id.seed();
    let mut secret = seed.to_vec();
    secret.extend_from_slice(&id.fid().0);
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut forms = Vec::new();
    for (name, bytes) in [
        ("seed", seed.to_vec()),
        ("secret64", secret.clone()),
        ("seed[..12]", seed[..12].to_vec()),
    ] {
        forms.push((format!("{name} raw"), bytes.clone()));
        forms.push((format!("{name} hex"), hex::encode(&bytes).into_bytes()));
        forms.push((
            format!("{name} HEX"),
            hex::encode_upper(&bytes).into_bytes(),
        ));
        forms.push((format!("{name} base64"), b64.encode(&bytes).into_bytes()));
        forms.push((
            format!("{name} base64url"),
            b64u.encode(&bytes).into_bytes(),
        ));
    }
    // Debug of the byte array, as a careless `{:?}` would print it.
    forms.push((
        "seed Debug".into(),
        format!("{:?}", &seed[..8]).into_bytes(),
    ));
    forms
}

/// Where a needle may appear by design.
fn allowed(place: &str, what: &str) -> bool {
    let key = what.starts_with("key ");
    let text = what == "plaintext";
    let seed = what.starts_with("invite seed");
    (key && (place.ends_with("identity.json") || place.ends_with("exported-key.json")))
        || (text && (place.contains("/chats/") || place == "b messages stdout"))
        || (seed
            && (place.ends_with("invites.json")
                || place == "a invite stdout"
                || place == "b accept stdout"))
}

#[test]
fn a_full_run_at_trace_level_logs_no_key_no_plaintext_no_invite_seed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let logs = root.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
    let log = |name: &str| logs.join(format!("{name}.stderr"));
    let mut seen = Seen::default();

    // Identities; A's key is exported (the key file is the export form) and imported into C.
    for (d, n) in [(&a, "a"), (&b, "b")] {
        let out = run_traced(d, &["init"], &log(&format!("{n} init")));
        seen.add(format!("{n} init stdout"), out);
    }
    let exported = root.join("exported-key.json");
    std::fs::copy(a.join("identity.json"), &exported).unwrap();
    let out = run_traced(
        &c,
        &["init", "--import", exported.to_str().unwrap()],
        &log("c init import"),
    );
    seen.add("c init import stdout", out);
    assert_eq!(my_ref(&c), my_ref(&a), "the imported key is A's");
    let ida = Identity::load(&a.join("identity.json")).unwrap();
    let idb = Identity::load(&b.join("identity.json")).unwrap();

    // A relay, an invite from A and its acceptance by B, through it.
    let mut relay = traced(
        &a,
        &["relay", "--listen", "127.0.0.1:0", "--json"],
        &log("relay"),
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(relay.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _relay = Killed(relay);
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    let port = listening["addr"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap();
    let url = format!("ws://localhost:{port}");
    let mut inviter = traced(
        &a,
        &[
            "invite",
            "--relay",
            &url,
            "--no-qr",
            "--wait",
            "--until-synced",
            "--timeout",
            "60",
            "--json",
        ],
        &log("a invite"),
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let (first, rest) = first_line(&mut inviter);
    let invite: serde_json::Value = serde_json::from_str(&first).unwrap();
    let beacon = invite["beacon"].as_str().unwrap().to_owned();
    let seed_hex = lichen::invite::Invite::decode(&beacon)
        .unwrap()
        .beacon()
        .shared_seed
        .to_hex();
    let out = run_traced(
        &b,
        &[
            "accept",
            &beacon,
            "--until-synced",
            "--timeout",
            "60",
            "--json",
        ],
        &log("b accept"),
    );
    seen.add("b accept stdout", out);
    let out = finish(inviter, rest, Duration::from_secs(70));
    seen.add("a invite stdout", out);

    // A private message from A to B, carried over WebSocket.
    let text = "the private words 7f3a91 nobody else may read";
    let out = run_traced(
        &a,
        &["send", "--to", &my_ref(&b), text, "--json"],
        &log("a send"),
    );
    // `send --json` echoes the sender's own message: that is A's own view of its text.
    assert!(contains(&out, text.as_bytes()));
    let mut server = traced(
        &a,
        &[
            "serve",
            "--ws",
            "127.0.0.1:0",
            "--until-synced",
            "--timeout",
            "60",
            "--json",
        ],
        &log("a serve"),
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let (first, rest) = first_line(&mut server);
    let listening: serde_json::Value = serde_json::from_str(&first).unwrap();
    let ws = format!("ws://{}", listening["ws"].as_str().unwrap());
    let out = run_traced(
        &b,
        &[
            "connect",
            &ws,
            "--until-synced",
            "--timeout",
            "60",
            "--json",
        ],
        &log("b connect"),
    );
    seen.add("b connect stdout", out);
    let out = finish(server, rest, Duration::from_secs(70));
    seen.add("a serve stdout", out);

    // B reads it: the workflow really carried the secret text.
    let out = run_traced(&b, &["messages", "--json"], &log("b messages"));
    assert!(
        json_lines(&out).iter().any(|m| m["text"] == text),
        "B did not receive the private message"
    );
    seen.add("b messages stdout", out);
    for d in [&a, &b, &c] {
        let out = lichen(d, &["feeds", "--json"]).stdout;
        seen.add(format!("{} feeds stdout", d.display()), out);
    }

    // Everything written: the logs and every file of the three data directories.
    for p in files(&logs).into_iter().chain(files(&a)).chain(files(&b)) {
        seen.add(p.display().to_string(), std::fs::read(&p).unwrap());
    }
    for p in files(&c) {
        seen.add(p.display().to_string(), std::fs::read(&p).unwrap());
    }
    let trace_bytes: usize = files(&logs)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len() as usize)
        .sum();
    assert!(
        trace_bytes > 10_000,
        "trace logging did not happen ({trace_bytes} bytes): the search would prove nothing"
    );

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for (who, id) in [("A", &ida), ("B", &idb)] {
        for (form, bytes) in key_forms(id) {
            needles.push((format!("key {who} {form}"), bytes));
        }
    }
    needles.push(("plaintext".into(), text.as_bytes().to_vec()));
    needles.push(("invite seed hex".into(), seed_hex.clone().into_bytes()));
    needles.push(("invite seed raw".into(), hex::decode(&seed_hex).unwrap()));

    let mut leaks = Vec::new();
    for (place, bytes) in &seen.0 {
        for (what, needle) in &needles {
            if contains(bytes, needle) && !allowed(place, what) {
                leaks.push(format!("{what} in {place}"));
            }
        }
    }
    eprintln!(
        "searched {} outputs and files ({trace_bytes} bytes of trace logs) for {} needles",
        seen.0.len(),
        needles.len()
    );
    assert!(
        leaks.is_empty(),
        "secrets written where they must not be:\n{}",
        leaks.join("\n")
    );
}
