//! Crash test: a writer process appends real signed feeds to a sled store and is killed with
//! SIGKILL at random moments, many times. After every kill the store must open, hold every
//! entry the writer reported durable, verify, and be consistent; the next writer continues
//! where the last one stopped.
//!
//! The writer is this test binary itself, re-executed with `LICHEN_CRASH_WRITER=<dir>` to run
//! [`crash_writer`] (which does nothing in a normal test run). It prints
//! `DURABLE <seq of feed 0> <seq of feed 1> …` after each flush returned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lichen::store::{SledStore, Store};
use lichen::wire::entry::{first_prev, sign_chain20, verify_run, Name};
use lichen::wire::network::Network;
use lichen::wire::sidechain::{self, Chain20, Reassembly};
use lichen::{FeedId, Identity};
use rand::{Rng, SeedableRng};

const ENV: &str = "LICHEN_CRASH_WRITER";
const FEEDS: usize = 3;
const CYCLES: usize = 30;
/// At least this many kills, even on a slow machine…
const MIN_CYCLES: usize = 10;
/// …and no new cycle after this much time.
const BUDGET: Duration = Duration::from_secs(45);
/// Every entry whose seq is a multiple of this gets its chunks one group later, so that
/// kills also hit chains that are open across flushes.
const LATE_CHUNKS: u32 = 7;

fn author(i: usize) -> Identity {
    Identity::from_seed(&[0xc0 + i as u8; 32])
}

/// Deterministic content: the writer can rebuild a chain's chunks after a restart.
fn content(feed: usize, seq: u32) -> Vec<u8> {
    let len = (seq as usize * 7919 + feed * 31) % 520;
    (0..len)
        .map(|i| (i as u32 ^ seq ^ (feed as u32) << 5) as u8)
        .collect()
}

/// The writer: appends groups of entries to every feed, flushing (sometimes syncing) after
/// each group and printing what is durable, until it is killed.
#[test]
fn crash_writer() {
    let Some(dir) = std::env::var_os(ENV) else {
        return; // a normal test run
    };
    let net = Network::deployed();
    let store = SledStore::open(Path::new(&dir)).expect("writer: open");
    let authors: Vec<Identity> = (0..FEEDS).map(author).collect();
    let mut rng = rand::rngs::StdRng::from_entropy();
    // Finish chains left open by the previous writer.
    for (f, a) in authors.iter().enumerate() {
        for seq in store.open_chains(a.fid()).unwrap() {
            let (_, chunks) = sidechain::build(&content(f, seq)).unwrap();
            let have = store.chunks(a.fid(), seq).unwrap().len();
            for (cnr, c) in chunks.iter().enumerate().skip(have) {
                store.put_chunk(a.fid(), seq, cnr as u32, c).unwrap();
            }
        }
    }
    let mut late: Vec<(usize, u32)> = Vec::new();
    for group in 0u64.. {
        let mut items = Vec::new();
        let mut chunks = Vec::new();
        for (f, a) in authors.iter().enumerate() {
            let (mut seq, mut prev) = match store.frontier(a.fid()).unwrap() {
                Some(fr) => (fr.seq, fr.mid),
                None => (0, first_prev(a.fid())),
            };
            for _ in 0..rng.gen_range(1..=6) {
                seq += 1;
                let s = sign_chain20(&net, a, seq, &prev, &content(f, seq)).unwrap();
                prev = s.mid;
                if seq % LATE_CHUNKS != 0 {
                    chunks.push((f, seq, s.chunks.clone()));
                } else if !s.chunks.is_empty() {
                    late.push((f, seq));
                }
                items.push((*a.fid(), seq, s.entry, s.mid));
            }
        }
        assert_eq!(store.append_batch(&items).unwrap(), items.len());
        for (f, seq, cs) in chunks {
            for (cnr, c) in cs.iter().enumerate() {
                store
                    .put_chunk(authors[f].fid(), seq, cnr as u32, c)
                    .unwrap();
            }
        }
        if group % 5 == 4 {
            store.sync().unwrap();
        } else {
            store.flush().unwrap();
        }
        let fronts: Vec<String> = authors
            .iter()
            .map(|a| {
                store
                    .frontier(a.fid())
                    .unwrap()
                    .map_or(0, |f| f.seq)
                    .to_string()
            })
            .collect();
        println!("DURABLE {}", fronts.join(" "));
        // Chains held back from the previous group, after the flush.
        for (f, seq) in std::mem::take(&mut late) {
            let (_, cs) = sidechain::build(&content(f, seq)).unwrap();
            for (cnr, c) in cs.iter().enumerate() {
                store
                    .put_chunk(authors[f].fid(), seq, cnr as u32, c)
                    .unwrap();
            }
        }
    }
}

/// Everything the store holds of one feed verifies and is consistent; returns its frontier.
/// Signatures are checked from `checked + 1` on (earlier ones were checked in an earlier
/// round; their message-id chain is rechecked every time).
fn check_feed(store: &SledStore, net: &Network, f: usize, checked: u32, durable: u32) -> u32 {
    let a = author(f);
    let fid: FeedId = *a.fid();
    let key = fid.key().unwrap();
    let front = store.frontier(&fid).unwrap().map_or(0, |x| x.seq);
    assert!(
        front >= durable,
        "feed {f}: frontier {front} but {durable} was reported durable"
    );
    let open = store.open_chains(&fid).unwrap();
    let mut prev = first_prev(&fid);
    let mut pkts = Vec::new();
    let mut prev_at_checked = prev;
    for seq in 1..=front {
        let stored = store
            .entry(&fid, seq)
            .unwrap()
            .unwrap_or_else(|| panic!("feed {f}: entry {seq} of {front} missing"));
        let name = Name::new(net, &fid, seq, &prev);
        assert_eq!(stored.entry.dmx(), name.dmx(), "feed {f} entry {seq}: DMX");
        assert_eq!(
            stored.mid,
            name.mid(stored.entry.bytes()),
            "feed {f} entry {seq}: MID"
        );
        if seq == checked {
            prev_at_checked = stored.mid;
        }
        if seq > checked {
            pkts.push(*stored.entry.bytes());
        }
        // Side chain: a verifying prefix, open exactly when incomplete.
        let header = Chain20::parse(stored.entry.payload()).unwrap();
        let chunks = store.chunks(&fid, seq).unwrap();
        let mut r = Reassembly::new(&header);
        for c in &chunks {
            r.push(c)
                .unwrap_or_else(|e| panic!("feed {f} entry {seq}: chunk: {e}"));
        }
        assert_eq!(
            !r.is_complete(),
            open.contains(&seq),
            "feed {f} entry {seq}: {} of {} chunks, open chains {open:?}",
            chunks.len(),
            header.chunk_count()
        );
        if seq <= durable && seq % LATE_CHUNKS != 0 {
            assert!(
                r.is_complete(),
                "feed {f} entry {seq}: durable chunks missing"
            );
        }
        if let Some(got) = r.content() {
            assert_eq!(
                got,
                content(f, seq).as_slice(),
                "feed {f} entry {seq}: content"
            );
        }
        prev = stored.mid;
    }
    let refs: Vec<&[u8]> = pkts.iter().map(|p| &p[..]).collect();
    let first = checked.min(front) + 1;
    let start_prev = if checked == 0 {
        first_prev(&fid)
    } else {
        prev_at_checked
    };
    let (good, err) = verify_run(net, &key, first, start_prev, &refs);
    assert!(
        err.is_none(),
        "feed {f}: entry {} does not verify: {err:?}",
        first as usize + good.len()
    );
    front
}

/// Runs one writer until `after`, kills it, returns the last durable line's frontiers.
fn run_and_kill(dir: &Path, after: Duration) -> Option<Vec<u32>> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("DURABLE ") {
                let v: Vec<u32> = rest.split(' ').map(|s| s.parse().unwrap()).collect();
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the writer must have been killed, not have exited"
    );
    reader.join().unwrap();
    rx.try_iter().last()
}

#[test]
fn killed_writers_never_lose_durable_entries() {
    if std::env::var_os(ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let net = Network::deployed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b696c6c);
    let started = Instant::now();
    let mut durable = vec![0u32; FEEDS];
    let mut checked = [0u32; FEEDS];
    let mut reports = 0;
    let mut cut = 0u64;
    let mut kills = 0;
    for cycle in 0..CYCLES {
        if cycle >= MIN_CYCLES && started.elapsed() > BUDGET {
            break;
        }
        kills += 1;
        let after = Duration::from_millis(rng.gen_range(30..400));
        if let Some(line) = run_and_kill(dir.path(), after) {
            for (d, n) in durable.iter_mut().zip(&line) {
                assert!(*n >= *d, "cycle {cycle}: durable frontier went back");
                *d = *n;
            }
            reports += 1;
        }
        let store = SledStore::open(dir.path())
            .unwrap_or_else(|e| panic!("cycle {cycle}: open after kill: {e}"));
        assert!(
            store.recovery().rolled_back.is_empty(),
            "a process kill must never roll a feed back: {:?}",
            store.recovery()
        );
        cut += store.recovery().bytes_cut;
        for f in 0..FEEDS {
            checked[f] = check_feed(&store, &net, f, checked[f], durable[f]);
        }
        drop(store);
    }
    assert!(
        reports >= kills / 2,
        "the writer rarely got to a flush ({reports} of {kills})"
    );
    assert!(
        durable.iter().all(|&d| d >= 20),
        "too little was written: {durable:?}"
    );
    eprintln!(
        "crash test: {kills} kills in {:.1} s, durable frontiers {durable:?}, {cut} bytes of \
         unflushed records cut",
        started.elapsed().as_secs_f64()
    );

    // A last clean round: appending continues where it left off, and a clean close needs no
    // repair.
    let store = SledStore::open(dir.path()).unwrap();
    let a = author(0);
    let front = store.frontier(a.fid()).unwrap().unwrap();
    let next = sign_chain20(
        &net,
        &a,
        front.seq + 1,
        &front.mid,
        &content(0, front.seq + 1),
    )
    .unwrap();
    store
        .append(a.fid(), front.seq + 1, &next.entry, &next.mid)
        .unwrap();
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.recovery(), &Default::default());
    assert_eq!(store.frontier(a.fid()).unwrap().unwrap().mid, next.mid);
}
