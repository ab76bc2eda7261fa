//! Hostile peers, measured. A victim node runs in its own process (this test binary re-run
//! with `LICHEN_HOSTILE_VICTIM` set), holding feeds A (20 entries, some with side chains), B
//! and K (a contact, so its feed is replicated). An honest node, the author of B (40 entries),
//! replicates with it over a real WebSocket while a hostile peer on another WebSocket does one
//! of: forged entries, replayed entries, a fork of K's feed, a GOset flood of junk keys, an
//! oversized side chain on K's feed, a WANT storm; and, against a `lichen-relay` in its own
//! process, a connection flood while two honest nodes meet through it.
//!
//! For each: the victim's peak memory (VmHWM) and CPU time (utime + stime, from `/proc`), and
//! the assertion that the honest pair still converges (every entry and chunk both ways) and
//! that nothing the hostile peer made up is stored. `docs/SECURITY.md` has the figures.
//!
//! Run: `cargo test -p lichen --release --test hostile_peers` (the figures in the docs), or
//! without `--release` in the test run; `LICHEN_HOSTILE_SECS` sets how long each attack lasts
//! at least (default 6). It has its own `main` (harness = false) so that the victim can be
//! this binary without a test that passes doing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lichen::backoff::BackoffConfig;
use lichen::face::relay_dial::RelayOptions;
use lichen::face::tunnel::TunnelRole;
use lichen::feed;
use lichen::invite::{relay_location, Invite};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::wire::entry::{first_prev, sign_raw, Entry, Name, TYPE_CHAIN20};
use lichen::wire::goset::xor;
use lichen::wire::goset::{encode_novelty, Claim};
use lichen::wire::network::Network;
use lichen::wire::request::{Chnk, ChunkRequest, Want};
use lichen::wire::sidechain::chunk_hash;
use lichen::wire::varint;
use lichen::{FeedId, Identity};
use lichen_relay::{Relay, RelayConfig};
use rand::{Rng, SeedableRng};
use tokio_tungstenite::tungstenite::{Bytes, Message};

const VICTIM_ENV: &str = "LICHEN_HOSTILE_VICTIM";
const A_ENTRIES: u32 = 20;
const B_ENTRIES: u32 = 40;
/// How long the honest pair may take to converge under an attack.
const CONVERGE: Duration = Duration::from_secs(90);

fn ida() -> Identity {
    Identity::from_seed(&[1; 32])
}
fn idb() -> Identity {
    Identity::from_seed(&[2; 32])
}
/// The contact who turned hostile.
fn idk() -> Identity {
    Identity::from_seed(&[66; 32])
}

fn author(store: &dyn Store, id: &Identity, n: u32, net: &Network) {
    for i in 0..n {
        let len = if i % 4 == 0 { 450 } else { 30 };
        let content: Vec<u8> = (0..len).map(|b| (b as u32 ^ i) as u8).collect();
        feed::publish(store, net, id, &content).unwrap();
    }
}

/// The network key of the private-network run (the hostile peer does not have it).
const PRIVATE_KEY: &[u8] = b"hostile-peers test community";

/// The network the honest nodes of `attack` speak.
fn honest_net(attack: Attack) -> Network {
    if attack == Attack::GosetFloodPrivate {
        Network::with_key(PRIVATE_KEY).unwrap()
    } else {
        Network::deployed()
    }
}

fn complete(s: &dyn Store, f: &FeedId, n: u32) -> bool {
    s.frontier(f).unwrap().map(|x| x.seq) == Some(n) && s.open_chains(f).unwrap().is_empty()
}

// ---------------------------------------------------------------------------------------
// The victim process.

/// The victim: a node on the store at `dir` holding A, B and K, listening on loopback; prints
/// `ADDR a.b.c.d:p`, then `B <seq> <open chains>` whenever B's state changes; stops when stdin
/// closes. With `relay` instead of a path, a relay with default limits.
fn victim_main(spec: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
        s2.store(true, Ordering::SeqCst);
    });
    if spec == "relay" {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let relay = rt
            .block_on(Relay::bind(RelayConfig::new(
                "127.0.0.1:0".parse().unwrap(),
            )))
            .unwrap();
        println!("ADDR {}", relay.local_addr());
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        rt.block_on(relay.shutdown());
        return;
    }
    let (net, path) = match spec.strip_prefix("private:") {
        Some(path) => (Network::with_key(PRIVATE_KEY).unwrap(), path),
        None => (Network::deployed(), spec),
    };
    let store: Arc<dyn Store> = Arc::new(SledStore::open(Path::new(path)).unwrap());
    let cfg = NodeConfig {
        net,
        ..NodeConfig::default()
    };
    let node = Node::start(store.clone(), cfg).unwrap();
    for f in [ida(), idb(), idk()] {
        node.add_feed(*f.fid()).unwrap();
    }
    let addr = node.listen_ws("127.0.0.1:0").unwrap();
    println!("ADDR {addr}");
    let fb = *idb().fid();
    let mut last = None;
    while !stop.load(Ordering::SeqCst) {
        let now = (
            store.frontier(&fb).unwrap().map_or(0, |f| f.seq),
            store.open_chains(&fb).unwrap().len(),
        );
        if last != Some(now) {
            println!("B {} {}", now.0, now.1);
            last = Some(now);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    node.shutdown(Duration::from_secs(5));
    store.flush().unwrap();
}

/// A running victim process.
struct Victim {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    b_done: bool,
}

impl Victim {
    fn spawn(spec: &str) -> Victim {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(VICTIM_ENV, spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let addr = first.trim().strip_prefix("ADDR ").unwrap().parse().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in out.lines() {
                let Ok(l) = l else { return };
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Victim {
            child,
            addr,
            lines,
            b_done: false,
        }
    }

    /// (VmHWM in KiB, CPU seconds) of the victim so far.
    fn usage(&self) -> (u64, f64) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the command name (which is in parentheses): utime is the 14th field.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        (hwm, ticks as f64 / clock_ticks())
    }

    /// Waits until the victim reports B complete (`B 40 0`).
    fn wait_b_complete(&mut self, deadline: Instant) -> bool {
        if self.b_done {
            return true;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l == format!("B {B_ENTRIES} 0") => {
                    self.b_done = true;
                    return true;
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    /// Stops the victim (stdin closed) and waits for it.
    fn stop(mut self) {
        drop(self.child.stdin.take());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("the victim did not stop");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn clock_ticks() -> f64 {
    let o = Command::new("getconf").arg("CLK_TCK").output();
    o.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

// ---------------------------------------------------------------------------------------
// The attacks.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attack {
    None,
    Forged,
    Replayed,
    Fork,
    GosetFlood,
    GosetFloodPrivate,
    OversizedChain,
    WantStorm,
}

/// What the hostile peer knows: public data only (feed ids, A's entries as served).
struct Knowledge {
    a_entries: Vec<[u8; 120]>,
    a_chunks: Vec<[u8; 120]>,
    a_last_mid: lichen::wire::Mid,
}

/// Chains X and Y of K's feed, both validly signed from seq 1: a fork.
fn fork_chains(net: &Network) -> (Vec<Entry>, Vec<Entry>) {
    let k = idk();
    let chain = |tag: u8| {
        let mut prev = first_prev(k.fid());
        (1..=10u32)
            .map(|seq| {
                let mut payload = [0u8; 48];
                payload[0] = 47; // inline length: the whole content fits
                payload[1] = tag;
                payload[2..6].copy_from_slice(&seq.to_be_bytes());
                let (e, mid) = sign_raw(net, &k, seq, &prev, TYPE_CHAIN20, &payload);
                prev = mid;
                e
            })
            .collect::<Vec<_>>()
    };
    (chain(b'X'), chain(b'Y'))
}

/// K's entry 1 claiming a side chain of u32::MAX bytes (about 43 million chunks), and the
/// first `n` chunks of it, validly hash-linked (the last points at a chunk that never exists).
fn oversized_chain(net: &Network, n: usize) -> (Entry, Vec<[u8; 120]>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut chunks = vec![[0u8; 120]; n];
    let mut next = [0u8; 20];
    rng.fill(&mut next);
    for c in chunks.iter_mut().rev() {
        rng.fill(&mut c[..100]);
        c[100..].copy_from_slice(&next);
        next = chunk_hash(c);
    }
    let mut payload = [0u8; 48];
    let len = varint::encode(u64::from(u32::MAX));
    payload[..len.len()].copy_from_slice(&len);
    payload[28..].copy_from_slice(&next);
    let k = idk();
    let (e, _) = sign_raw(net, &k, 1, &first_prev(k.fid()), TYPE_CHAIN20, &payload);
    (e, chunks)
}

/// The packets of one round of `attack` (sent again and again).
fn round(attack: Attack, know: &Knowledge, rng: &mut rand::rngs::StdRng) -> Vec<Vec<u8>> {
    let net = Network::deployed();
    let (fa, fb, fk) = (*ida().fid(), *idb().fid(), *idk().fid());
    match attack {
        Attack::None => Vec::new(),
        Attack::Forged => {
            // Entries under the right DMXs (B's first, A's next, K's first) with signatures
            // that are random bytes.
            let names = [
                Name::new(&net, &fb, 1, &first_prev(&fb)),
                Name::new(&net, &fa, A_ENTRIES + 1, &know.a_last_mid),
                Name::new(&net, &fk, 1, &first_prev(&fk)),
            ];
            (0..300)
                .map(|i| {
                    let mut p = vec![0u8; 120];
                    p[..7].copy_from_slice(&names[i % 3].dmx().0);
                    p[7] = TYPE_CHAIN20;
                    rng.fill(&mut p[8..]);
                    p[8] = 40;
                    p
                })
                .collect()
        }
        Attack::Replayed => know
            .a_entries
            .iter()
            .chain(&know.a_chunks)
            .map(|p| p.to_vec())
            .collect(),
        Attack::Fork => {
            let (x, y) = fork_chains(&net);
            x.iter()
                .zip(&y)
                .flat_map(|(a, b)| [a.bytes().to_vec(), b.bytes().to_vec()])
                .collect()
        }
        Attack::GosetFlood | Attack::GosetFloodPrivate => {
            // Claims over random strings, novelties of random strings (about half are valid
            // points) and of freshly generated real keys.
            let mut out = Vec::new();
            for _ in 0..100 {
                let mut a = [0u8; 32];
                let mut b = [0u8; 32];
                let mut x = [0u8; 32];
                rng.fill(&mut a);
                rng.fill(&mut b);
                rng.fill(&mut x);
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                out.push(
                    Claim {
                        lo: FeedId(lo),
                        hi: FeedId(hi),
                        xor: x,
                        cnt: rng.gen_range(3..=200),
                    }
                    .encode(&net)
                    .to_vec(),
                );
                out.push(encode_novelty(&net, &FeedId(x)).to_vec());
                let mut seed = [0u8; 32];
                rng.fill(&mut seed);
                out.push(encode_novelty(&net, Identity::from_seed(&seed).fid()).to_vec());
            }
            out
        }
        Attack::OversizedChain => {
            let (e, chunks) = oversized_chain(&net, 5_000);
            std::iter::once(e.bytes().to_vec())
                .chain(chunks.iter().map(|c| c.to_vec()))
                .collect()
        }
        Attack::WantStorm => {
            // WANTs for everything from seq 1 and CHNKs for every chunk of A, under the DMX of
            // the victim's GOset (its XOR is public: the feed ids).
            let mut keys = [fa, fb, fk];
            keys.sort();
            let state = keys.iter().fold([0u8; 32], |s, k| xor(&s, &k.0));
            let want = Want {
                offs: 0,
                next: vec![1, 1, 1],
            }
            .encode(&net, &state);
            let chnk = Chnk(
                (0..3)
                    .flat_map(|f| {
                        (1..=A_ENTRIES).map(move |seq| ChunkRequest {
                            fndx: f,
                            seq,
                            cnr: 0,
                        })
                    })
                    .collect(),
            )
            .encode(&net, &state);
            (0..50).flat_map(|_| [want.clone(), chnk.clone()]).collect()
        }
    }
}

/// One measured run: the victim, the honest node B, and the hostile peer.
struct Outcome {
    attack: Attack,
    sent: u64,
    seconds: f64,
    converged_after: Duration,
    /// Whether the honest pair converged while the attack went on (else: after it stopped).
    during: bool,
    hwm_kib: u64,
    cpu_s: f64,
}

fn run_attack(attack: Attack, secs: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let vpath = dir.path().join("victim");
    let bpath = dir.path().join("b");
    let (fa, fb, fk) = (*ida().fid(), *idb().fid(), *idk().fid());
    let net = honest_net(attack);

    // The victim's store: A's feed with its side chains.
    let know = {
        let s = SledStore::open(&vpath).unwrap();
        author(&s, &ida(), A_ENTRIES, &net);
        let mut a_entries = Vec::new();
        let mut a_chunks = Vec::new();
        for seq in 1..=A_ENTRIES {
            a_entries.push(*s.entry(&fa, seq).unwrap().unwrap().entry.bytes());
            a_chunks.extend(s.chunks(&fa, seq).unwrap());
        }
        let a_last_mid = s.frontier(&fa).unwrap().unwrap().mid;
        s.flush().unwrap();
        Arc::new(Knowledge {
            a_entries,
            a_chunks,
            a_last_mid,
        })
    };
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&bpath).unwrap());
    author(sb.as_ref(), &idb(), B_ENTRIES, &net);

    let spec = vpath.to_str().unwrap().to_owned();
    let mut victim = Victim::spawn(&if attack == Attack::GosetFloodPrivate {
        format!("private:{spec}")
    } else {
        spec
    });
    let url = format!("ws://{}", victim.addr);

    // The hostile peer: a bare WebSocket client sending rounds until told to stop, reading
    // (and dropping) whatever the victim sends.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let hostile = {
        let (stop, sent) = (stop.clone(), sent.clone());
        let url = url.clone();
        let know = know.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x686f7374);
        let first = round(attack, &know, &mut rng);
        rt.spawn(async move {
            if attack == Attack::None {
                return;
            }
            let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let (mut tx, mut rx) = ws.split();
            tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
            let mut pkts = first;
            while !stop.load(Ordering::SeqCst) {
                for p in &pkts {
                    if tx
                        .feed(Message::Binary(Bytes::from(p.clone())))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                if tx.flush().await.is_err() {
                    return;
                }
                sent.fetch_add(pkts.len() as u64, Ordering::Relaxed);
                // Fresh junk each round where it is random; the rest is resent as it is.
                if matches!(
                    attack,
                    Attack::Forged | Attack::GosetFlood | Attack::GosetFloodPrivate
                ) {
                    pkts = round(attack, &know, &mut rng);
                }
                tokio::task::yield_now().await;
            }
        })
    };

    // The honest node connects a second after the attack began.
    std::thread::sleep(Duration::from_secs(1));
    let b = Node::start(
        sb.clone(),
        NodeConfig {
            net: net.clone(),
            ..NodeConfig::default()
        },
    )
    .unwrap();
    for f in [fa, fb, fk] {
        b.add_feed(f).unwrap();
    }
    let joined = Instant::now();
    b.connect_ws(&url).unwrap();
    let converged = |victim: &mut Victim, deadline: Instant| {
        while !complete(sb.as_ref(), &fa, A_ENTRIES) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        victim.wait_b_complete(deadline)
    };
    // A GOset flood of valid-looking keys on the deployed network is the protocol's known
    // weakness: the pair is measured, not required, to converge while it goes on (for the
    // length of the attack); once it stops they must.
    let flood = attack == Attack::GosetFlood;
    let during_deadline = if flood {
        started + Duration::from_secs(secs)
    } else {
        joined + CONVERGE
    };
    let during = converged(&mut victim, during_deadline);
    let during_at = joined.elapsed();
    assert!(
        during || flood,
        "{attack:?}: the honest pair did not converge in {CONVERGE:?}"
    );
    // The attack goes on for its full time at least.
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (hwm_kib, cpu_s) = victim.usage();
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), hostile).await;
    });
    let stopped = Instant::now();
    assert!(
        converged(&mut victim, stopped + CONVERGE),
        "{attack:?}: the honest pair did not converge in {CONVERGE:?} after the attack stopped"
    );
    // Time to converge: from the honest peer joining, or (when it could not during the
    // attack) from the attack's end.
    let converged_after = if during { during_at } else { stopped.elapsed() };
    rt.shutdown_timeout(Duration::from_secs(1));
    b.shutdown(Duration::from_secs(3));
    victim.stop();

    // What the victim kept: the honest feeds exactly, nothing made up.
    let sv = SledStore::open(&vpath).unwrap();
    assert!(complete(&sv, &fa, A_ENTRIES), "{attack:?}: A damaged");
    assert!(complete(&sv, &fb, B_ENTRIES), "{attack:?}: B incomplete");
    for seq in 1..=B_ENTRIES {
        assert!(
            sv.entry(&fb, seq).unwrap().unwrap().entry
                == sb.entry(&fb, seq).unwrap().unwrap().entry,
            "{attack:?}: B's entry {seq} differs on the victim"
        );
    }
    for seq in 1..=A_ENTRIES {
        assert_eq!(
            sv.entry(&fa, seq).unwrap().unwrap().entry.bytes(),
            &know.a_entries[seq as usize - 1],
            "{attack:?}: A's entry {seq} changed"
        );
    }
    let feeds: Vec<FeedId> = sv.feeds().unwrap().into_iter().map(|(f, _)| f).collect();
    let members = sv.members().unwrap();
    for f in feeds.iter().chain(&members) {
        assert!(
            [fa, fb, fk].contains(f),
            "{attack:?}: a key the hostile peer named was kept"
        );
    }
    match attack {
        Attack::Fork => {
            // One chain of K's, the same on both honest nodes.
            let (x, y) = fork_chains(&net);
            let n = sv.frontier(&fk).unwrap().map_or(0, |f| f.seq);
            assert!(n >= 1, "the victim took none of K's entries");
            let held: Vec<Entry> = (1..=n)
                .map(|s| sv.entry(&fk, s).unwrap().unwrap().entry)
                .collect();
            assert!(
                held == x[..n as usize] || held == y[..n as usize],
                "the victim mixed two forks of K's feed"
            );
            let on_b: Vec<Entry> = (1..=sb.frontier(&fk).unwrap().map_or(0, |f| f.seq))
                .map(|s| sb.entry(&fk, s).unwrap().unwrap().entry)
                .collect();
            assert!(
                held.starts_with(&on_b),
                "the honest node holds another fork of K than the victim"
            );
        }
        Attack::OversizedChain => {
            let (e, _) = oversized_chain(&net, 5_000);
            if let Some(s) = sv.entry(&fk, 1).unwrap() {
                assert!(s.entry == e);
                assert_eq!(
                    sv.open_chains(&fk).unwrap(),
                    vec![1],
                    "the chain cannot be complete"
                );
            }
        }
        _ => {
            assert!(
                sv.frontier(&fk).unwrap().is_none(),
                "{attack:?}: K has entries though K wrote none"
            );
        }
    }
    Outcome {
        attack,
        sent: sent.load(Ordering::Relaxed),
        seconds,
        converged_after,
        during,
        hwm_kib,
        cpu_s,
    }
}

/// The relay under a connection flood from 40 loopback addresses (WebSocket upgrades that ask
/// for random rendezvous ids and stay, and TCP connections that never upgrade) while two
/// honest nodes meet through it with an invite.
fn relay_flood(secs: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("a")).unwrap());
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("b")).unwrap());
    author(sa.as_ref(), &ida(), A_ENTRIES, &Network::deployed());
    author(sb.as_ref(), &idb(), B_ENTRIES, &Network::deployed());
    let (fa, fb) = (*ida().fid(), *idb().fid());
    let victim = Victim::spawn("relay");
    let port = victim.addr.port();
    let url = format!("ws://localhost:{port}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let flood = {
        let (stop, sent) = (stop.clone(), sent.clone());
        rt.spawn(async move {
            let mut held = Vec::new();
            let mut n: u32 = 0;
            while !stop.load(Ordering::SeqCst) {
                n = n.wrapping_add(1);
                let ip = IpAddr::from([127, 0, 1, (n % 40) as u8 + 10]);
                let sock = tokio::net::TcpSocket::new_v4().unwrap();
                if sock.bind(SocketAddr::new(ip, 0)).is_err() {
                    continue;
                }
                let target = SocketAddr::from(([127, 0, 0, 1], port));
                let Ok(Ok(tcp)) =
                    tokio::time::timeout(Duration::from_secs(1), sock.connect(target)).await
                else {
                    continue;
                };
                sent.fetch_add(1, Ordering::Relaxed);
                if n % 2 == 0 {
                    // Never upgrades.
                    held.push(tokio::spawn(async move {
                        let _tcp = tcp;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }));
                    continue;
                }
                let ws = tokio::time::timeout(
                    Duration::from_secs(2),
                    tokio_tungstenite::client_async(format!("ws://localhost:{port}/"), tcp),
                )
                .await;
                if let Ok(Ok((mut ws, _))) = ws {
                    let mut rid = [0u8; 32];
                    rand::thread_rng().fill(&mut rid);
                    let rid = moneysocket::RendezvousId::from_bytes(rid);
                    let req = moneysocket::v0::Message::request_rendezvous(
                        1.0,
                        moneysocket::uuid::Uuid::new_v4([n as u8; 16]),
                        &rid,
                    );
                    let _ = ws
                        .send(Message::Binary(Bytes::from(req.to_json_bytes())))
                        .await;
                    held.push(tokio::spawn(async move {
                        while let Some(Ok(_)) = ws.next().await {}
                    }));
                }
                if held.len() > 4000 {
                    held.remove(0).abort();
                }
            }
            for h in held {
                h.abort();
            }
        })
    };

    std::thread::sleep(Duration::from_secs(1));
    let invite = Invite::new(
        fa,
        Some("A"),
        None,
        relay_location(&url).unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let received = Invite::decode(&invite.encode()).unwrap();
    let options = |bind: [u8; 4]| RelayOptions {
        bind: Some(IpAddr::from(bind)),
        backoff: BackoffConfig {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            ..BackoffConfig::default()
        },
        ..RelayOptions::default()
    };
    let joined = Instant::now();
    let a = Node::start(sa.clone(), NodeConfig::default()).unwrap();
    a.add_feed(fa).unwrap();
    a.add_feed(fb).unwrap();
    lichen::face::relay::connect(
        &a,
        invite.target(),
        TunnelRole::Inviter,
        options([127, 0, 0, 2]),
    )
    .unwrap();
    let b = Node::start(sb.clone(), NodeConfig::default()).unwrap();
    b.add_feed(fa).unwrap();
    b.add_feed(fb).unwrap();
    lichen::face::relay::connect(
        &b,
        received.target(),
        TunnelRole::Acceptor,
        options([127, 0, 0, 3]),
    )
    .unwrap();
    while !(complete(sa.as_ref(), &fb, B_ENTRIES) && complete(sb.as_ref(), &fa, A_ENTRIES)) {
        assert!(
            joined.elapsed() < CONVERGE,
            "relay flood: the honest pair did not meet and sync in {CONVERGE:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let converged_after = joined.elapsed();
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (hwm_kib, cpu_s) = victim.usage();
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(10), flood).await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    a.shutdown(Duration::from_secs(3));
    b.shutdown(Duration::from_secs(3));
    victim.stop();
    Outcome {
        attack: Attack::None,
        sent: sent.load(Ordering::Relaxed),
        seconds,
        converged_after,
        during: true,
        hwm_kib,
        cpu_s,
    }
}

fn main() {
    if let Ok(spec) = std::env::var(VICTIM_ENV) {
        victim_main(&spec);
        return;
    }
    // `cargo test -- --list` and filters: this binary has one test.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("hostile_peers: test");
        return;
    }
    let secs: u64 = std::env::var("LICHEN_HOSTILE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let mut rows = Vec::new();
    let mut out = std::io::stdout();
    for attack in [
        Attack::None,
        Attack::Forged,
        Attack::Replayed,
        Attack::Fork,
        Attack::GosetFlood,
        Attack::GosetFloodPrivate,
        Attack::OversizedChain,
        Attack::WantStorm,
    ] {
        let o = run_attack(attack, secs);
        let _ =
            writeln!(
            out,
            "{:?}: {} packets in {:.1} s; converged {} {:.1} s; victim VmHWM {} KiB, CPU {:.2} s",
            o.attack,
            o.sent,
            o.seconds,
            if o.during { "during the attack," } else { "only after the attack stopped," },
            o.converged_after.as_secs_f64(),
            o.hwm_kib,
            o.cpu_s
        );
        rows.push((format!("{:?}", o.attack), o));
    }
    let o = relay_flood(secs);
    let _ = writeln!(
        out,
        "RelayFlood: {} connections in {:.1} s; pair synced {:.1} s after joining; relay VmHWM {} KiB, CPU {:.2} s",
        o.sent, o.seconds, o.converged_after.as_secs_f64(), o.hwm_kib, o.cpu_s
    );
    rows.push(("RelayFlood".into(), o));
    let _ = writeln!(out, "\n| attack | sent | seconds | honest pair converged | victim VmHWM (MiB) | victim CPU (s) |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for (name, o) in &rows {
        let _ = writeln!(
            out,
            "| {name} | {} | {:.1} | {} {:.1} s | {:.1} | {:.2} |",
            o.sent,
            o.seconds,
            if o.during {
                "during, after"
            } else {
                "only after the attack, in"
            },
            o.converged_after.as_secs_f64(),
            o.hwm_kib as f64 / 1024.0,
            o.cpu_s
        );
    }
    let _ = writeln!(out, "\ntest result: ok. 1 passed; 0 failed");
}
