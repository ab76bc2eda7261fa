//! Chaos simulation, deterministic from a seed: 24 nodes — 14 on fast links only, 2 bridges
//! with fast links and a LoRa radio, 8 on the simulated LoRa channel only — replicate the feeds
//! of 6 authors who keep posting, while links lose up to 40 % of packets, duplicate and reorder
//! them, partitions come and heal, nodes restart (the engine rebuilt from its store, sometimes
//! after a crash that loses what was not flushed) and clocks jump (forward by up to an hour,
//! back by up to a minute). Checked continuously: every entry a node accepts is the author's
//! (same MID), no node accepts an entry it already holds (nothing accepted twice), a node's
//! frontier never goes back except by what a crash lost after its last flush (nothing
//! lost). After the chaos, links stay lossy but connected: every node must then hold every
//! feed completely (every entry and chunk) within a bounded time.
//!
//! Short run (1 simulated hour of chaos) in the normal test run; `LICHEN_CHAOS_HOURS=24` (and `LICHEN_CHAOS_SEED`) for a
//! long one. Prints simulated hours, nodes, loss, and the time and rounds to converge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use lichen::feed;
use lichen::lora::{DutyLimit, Plan};
use lichen::sim::lora::{Medium, NodeId, TxError};
use lichen::store::{KvStore, MemoryKv, MemoryStore, Store};
use lichen::sync::{Config, Engine, Event, FaceId, FaceProfile, Millis};
use lichen::wire::frame;
use lichen::wire::network::Network;
use lichen::{FeedId, Identity, Mid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NODES: usize = 24;
const AUTHORS: usize = 6;
/// Nodes `LORA_FROM..` have a radio; of them, `..FAST_UNTIL` also have fast links (bridges).
const LORA_FROM: usize = 14;
const FAST_UNTIL: usize = 16;
const RADIO: FaceId = FaceId(1);
const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
/// Engine clocks start this far ahead, so that they can jump back.
const CLOCK_BASE: Millis = 10 * HOUR;

fn face_to(j: usize) -> FaceId {
    FaceId(100 + j as u32)
}

fn from_face(f: FaceId) -> Option<usize> {
    (f.0 >= 100).then(|| (f.0 - 100) as usize)
}

struct Node {
    kv: MemoryKv,
    store: Option<Arc<MemoryStore>>,
    engine: Option<Engine>,
    cfg: Config,
    radio: Option<NodeId>,
    fast: Vec<usize>,
    /// Engine clock = simulation time + `offset` (jumps change it).
    offset: Millis,
    radio_queue: VecDeque<Vec<u8>>,
    backoff_until: Millis,
    /// (feed, seq) accepted and not lost since.
    accepted: BTreeSet<(FeedId, u32)>,
    /// Frontiers at the last flush (a crash may lose only what came after).
    flushed: BTreeMap<FeedId, u32>,
    author: Option<Identity>,
    starts: u64,
}

impl Node {
    fn store(&self) -> &Arc<MemoryStore> {
        self.store.as_ref().unwrap()
    }
    fn engine(&mut self) -> &mut Engine {
        self.engine.as_mut().unwrap()
    }
    fn local(&self, now: Millis) -> Millis {
        now + self.offset
    }
    fn front(&self, fid: &FeedId) -> u32 {
        self.store().frontier(fid).unwrap().map_or(0, |f| f.seq)
    }
}

/// A packet on a fast link.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: std::cmp::Reverse<(Millis, u64)>,
    from: usize,
    to: usize,
    pkt: Vec<u8>,
}

struct Sim {
    rng: ChaCha8Rng,
    net: Network,
    nodes: Vec<Node>,
    medium: Medium,
    fids: Vec<FeedId>,
    /// Every entry authored: per feed, the MIDs in order.
    authored: BTreeMap<FeedId, Vec<Mid>>,
    links_down: BTreeSet<(usize, usize)>,
    heal_at: Option<Millis>,
    flight: BinaryHeap<InFlight>,
    serial: u64,
    loss: f64,
    dup: f64,
    frame_ms: Millis,
    // Counters for the report.
    restarts: u64,
    crashes: u64,
    jumps: u64,
    partitions: u64,
    accepted_total: u64,
    lost_to_crash: u64,
    fast_sent: u64,
    fast_lost: u64,
}

fn engine_for(n: &Node, net: &Network, seed: u64) -> Engine {
    let mut e = Engine::new(net.clone(), n.store().clone(), n.cfg.clone(), seed).unwrap();
    if n.radio.is_some() {
        e.add_face(RADIO, FaceProfile::lora(plan(), DutyLimit::Unlimited));
    }
    for &j in &n.fast {
        e.add_face(face_to(j), FaceProfile::fast());
    }
    if let Some(a) = &n.author {
        e.set_own_feed(*a.fid());
    }
    e
}

fn author_id(i: usize) -> Identity {
    Identity::from_seed(&[0xa0 + i as u8; 32])
}

fn plan() -> Plan {
    Plan::by_name("EU868.c").unwrap()
}

impl Sim {
    fn new(seed: u64, loss: f64) -> Sim {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let net = Network::deployed();
        let mut medium = Medium::new(plan(), seed ^ 0x10ba);
        medium.set_loss_rate(loss).unwrap();
        let fids: Vec<FeedId> = (0..AUTHORS).map(|i| *author_id(i).fid()).collect();
        // Fast links: a ring over the fast nodes plus random chords (connected, meshy).
        let mut fast: Vec<Vec<usize>> = vec![Vec::new(); NODES];
        let link = |a: usize, b: usize, fast: &mut Vec<Vec<usize>>| {
            if a != b && !fast[a].contains(&b) {
                fast[a].push(b);
                fast[b].push(a);
            }
        };
        for i in 0..FAST_UNTIL {
            link(i, (i + 1) % FAST_UNTIL, &mut fast);
        }
        for _ in 0..FAST_UNTIL {
            let (a, b) = (rng.gen_range(0..FAST_UNTIL), rng.gen_range(0..FAST_UNTIL));
            link(a, b, &mut fast);
        }
        let mut nodes = Vec::new();
        for (i, fast) in fast.into_iter().enumerate() {
            let radio = (i >= LORA_FROM).then(|| medium.add_node());
            // Radio nodes use the LoRa timers; every other fast node the deployed Android
            // app's (GOset every 10 s, WANT every 5 s), the rest Lichen's.
            let cfg = if radio.is_some() {
                Config::lora()
            } else if i % 2 == 1 {
                Config::android_reference()
            } else {
                Config::default()
            };
            let kv = MemoryKv::default();
            let store = Arc::new(KvStore::new(kv.clone()).unwrap());
            let mut n = Node {
                kv,
                store: Some(store),
                engine: None,
                cfg,
                radio,
                fast,
                offset: CLOCK_BASE,
                radio_queue: VecDeque::new(),
                backoff_until: 0,
                accepted: BTreeSet::new(),
                flushed: BTreeMap::new(),
                author: (i < AUTHORS).then(|| author_id(i)),
                starts: 0,
            };
            let mut e = engine_for(&n, &net, seed ^ (i as u64) << 8);
            for f in &fids {
                e.add_feed(*f).unwrap();
            }
            n.engine = Some(e);
            nodes.push(n);
        }
        medium.set_mesh();
        let frame_ms = (plan().time_on_air_us(frame::MAX_LORA_FRAME) / 1000).max(1);
        Sim {
            rng,
            net,
            nodes,
            medium,
            authored: fids.iter().map(|f| (*f, Vec::new())).collect(),
            fids,
            links_down: BTreeSet::new(),
            heal_at: None,
            flight: BinaryHeap::new(),
            serial: 0,
            loss,
            dup: 0.05,
            frame_ms,
            restarts: 0,
            crashes: 0,
            jumps: 0,
            partitions: 0,
            accepted_total: 0,
            lost_to_crash: 0,
            fast_sent: 0,
            fast_lost: 0,
        }
    }

    /// Author `a` posts (every third post needs a side chain).
    fn post(&mut self, a: usize, now: Millis) {
        let n = &mut self.nodes[a];
        let me = author_id(a);
        let k = self.authored[me.fid()].len();
        let len = if k % 3 == 0 { 120 + (k * 37) % 300 } else { 12 };
        let content: Vec<u8> = (0..len).map(|i| (i ^ k ^ a) as u8).collect();
        let p = feed::publish(n.store().as_ref(), &self.net, &me, &content).unwrap();
        assert_eq!(p.seq as usize, k + 1, "author {a}: own feed continues");
        n.accepted.insert((*me.fid(), p.seq));
        n.flushed.insert(*me.fid(), p.seq); // publish syncs
        n.engine().refresh_feed(me.fid()).unwrap();
        let _ = now;
        self.authored.get_mut(me.fid()).unwrap().push(p.signed.mid);
    }

    /// Restarts node `i`: its engine is rebuilt from its store. A crash first drops what was
    /// not flushed (the store is abandoned and reopened over the same backend).
    fn restart(&mut self, i: usize, crash: bool, seed: u64) {
        let net = self.net.clone();
        let n = &mut self.nodes[i];
        n.engine = None;
        n.radio_queue.clear();
        let store = Arc::try_unwrap(n.store.take().unwrap())
            .unwrap_or_else(|_| panic!("node {i}: store still shared"));
        if crash {
            store.abandon();
        } else {
            store.sync().unwrap();
            drop(store);
        }
        let store = Arc::new(KvStore::new(n.kv.clone()).unwrap());
        n.store = Some(store);
        for f in &self.fids {
            let front = n.front(f);
            let floor = if crash {
                n.flushed.get(f).copied().unwrap_or(0)
            } else {
                front
            };
            assert!(
                front >= floor,
                "node {i}: feed {} lost flushed entries: {front} < {floor}",
                f.short_display()
            );
            let before = n.accepted.iter().filter(|(g, _)| g == f).count();
            n.accepted.retain(|(g, s)| g != f || *s <= front);
            self.lost_to_crash +=
                (before - n.accepted.iter().filter(|(g, _)| g == f).count()) as u64;
            n.flushed.insert(*f, front);
        }
        n.starts += 1;
        let mut e = engine_for(n, &net, seed);
        for f in &self.fids {
            e.add_feed(*f).unwrap();
        }
        n.engine = Some(e);
        self.restarts += 1;
        self.crashes += u64::from(crash);
    }

    /// Cuts the network in two for `len`: fast links across the cut go down, the radio
    /// groups do not hear each other.
    fn partition(&mut self, now: Millis, len: Millis) {
        let split = self.rng.gen_range(1..NODES);
        let mut order: Vec<usize> = (0..NODES).collect();
        for k in (1..order.len()).rev() {
            order.swap(k, self.rng.gen_range(0..=k));
        }
        let left: BTreeSet<usize> = order[..split].iter().copied().collect();
        for i in 0..NODES {
            for &j in &self.nodes[i].fast {
                if left.contains(&i) != left.contains(&j) {
                    self.links_down.insert((i, j));
                }
            }
        }
        let (l, r): (Vec<NodeId>, Vec<NodeId>) = (LORA_FROM..NODES)
            .map(|i| (i, self.nodes[i].radio.unwrap()))
            .fold((Vec::new(), Vec::new()), |(mut l, mut r), (i, id)| {
                if left.contains(&i) {
                    l.push(id);
                } else {
                    r.push(id);
                }
                (l, r)
            });
        self.medium.partition(&[l, r], now, now + len).unwrap();
        self.heal_at = Some(now + len);
        self.partitions += 1;
    }

    fn send_fast(&mut self, from: usize, to: usize, pkt: Vec<u8>, now: Millis) {
        self.fast_sent += 1;
        if self.links_down.contains(&(from, to)) || self.rng.gen_bool(self.loss) {
            self.fast_lost += 1;
            return;
        }
        let copies = if self.rng.gen_bool(self.dup) { 2 } else { 1 };
        for _ in 0..copies {
            // 10–80 ms in steps of 10 ms: packets overtake each other (the steps keep the
            // number of distinct delivery times, and so the run time, down).
            let at = now + 10 * self.rng.gen_range(1..=8);
            self.serial += 1;
            self.flight.push(InFlight {
                at: std::cmp::Reverse((at, self.serial)),
                from,
                to,
                pkt: pkt.clone(),
            });
        }
    }

    /// Hands packets to node `i`'s engine and checks what it accepted.
    fn deliver(&mut self, i: usize, face: FaceId, pkts: &[&[u8]], now: Millis) {
        let local = self.nodes[i].local(now);
        self.nodes[i].engine().on_packets(face, pkts, local);
        self.check_events(i);
    }

    fn check_events(&mut self, i: usize) {
        let events = self.nodes[i].engine().take_events();
        for ev in events {
            if let Event::EntryAdded { fid, seq, mid, .. } = ev {
                let want = self
                    .authored
                    .get(&fid)
                    .and_then(|v| v.get(seq as usize - 1));
                assert_eq!(
                    want,
                    Some(&mid),
                    "node {i} accepted {}:{seq}, which its author did not write",
                    fid.short_display()
                );
                assert!(
                    self.nodes[i].accepted.insert((fid, seq)),
                    "node {i} accepted {}:{seq} twice",
                    fid.short_display()
                );
                self.accepted_total += 1;
            }
        }
    }

    /// Whether every node holds every authored entry and chunk.
    fn converged(&self) -> bool {
        let author_stores: Vec<&Arc<MemoryStore>> =
            (0..AUTHORS).map(|a| self.nodes[a].store()).collect();
        self.nodes.iter().all(|n| {
            self.fids.iter().enumerate().all(|(a, f)| {
                let s = n.store();
                let last = self.authored[f].len() as u32;
                n.front(f) == last
                    && s.open_chains(f).unwrap().is_empty()
                    && (1..=last).all(|seq| {
                        s.chunks(f, seq).unwrap().len()
                            == author_stores[a].chunks(f, seq).unwrap().len()
                    })
            })
        })
    }

    /// Everything every node holds is the authors' (entries by MID, chunks byte for byte).
    fn check_stores(&self) {
        for (i, n) in self.nodes.iter().enumerate() {
            for (a, f) in self.fids.iter().enumerate() {
                let author = self.nodes[a].store();
                for seq in 1..=n.front(f) {
                    let mine = n.store().entry(f, seq).unwrap().unwrap();
                    assert_eq!(Some(&mine.mid), self.authored[f].get(seq as usize - 1));
                    let (c, want) = (
                        n.store().chunks(f, seq).unwrap(),
                        author.chunks(f, seq).unwrap(),
                    );
                    assert!(
                        want.starts_with(&c),
                        "node {i}: chunks of {}:{seq}",
                        f.short_display()
                    );
                }
            }
        }
    }

    /// One step at `now`: every engine polls, packets go out on fast links and the radio,
    /// deliveries come in. Returns the next time anything happens.
    fn step(&mut self, now: Millis) -> Millis {
        if self.heal_at.is_some_and(|t| now >= t) {
            self.links_down.clear();
            self.heal_at = None;
        }
        for i in 0..NODES {
            let local = self.nodes[i].local(now);
            let out = self.nodes[i].engine().poll(local);
            for o in out {
                if o.face == RADIO {
                    self.nodes[i].radio_queue.push_back(frame::frame(&o.pkt));
                } else if let Some(j) = from_face(o.face) {
                    self.send_fast(i, j, o.pkt, now);
                }
            }
            let n = &mut self.nodes[i];
            if let (Some(id), Some(f), true) =
                (n.radio, n.radio_queue.front(), now >= n.backoff_until)
            {
                if let Some(free) = self.medium.channel_busy_until(id, now) {
                    n.backoff_until = free + self.rng.gen_range(0..self.frame_ms);
                } else {
                    match self.medium.transmit(id, f.clone(), now) {
                        Err(TxError::Busy { .. }) => {}
                        _ => {
                            n.radio_queue.pop_front();
                        }
                    }
                }
            }
        }
        for d in self.medium.poll(now) {
            let to = (LORA_FROM..NODES).find(|&i| self.nodes[i].radio == Some(d.to));
            if let (Some(i), Ok(pkt)) = (to, frame::unframe(&d.frame)) {
                let pkt = pkt.to_vec();
                self.deliver(i, RADIO, &[&pkt], d.at.max(now));
            }
        }
        // Fast deliveries due now, batched per (from, to) as a face reader would.
        let mut due: BTreeMap<(usize, usize), Vec<Vec<u8>>> = BTreeMap::new();
        while self.flight.peek().is_some_and(|p| p.at.0 .0 <= now) {
            let p = self.flight.pop().unwrap();
            due.entry((p.from, p.to)).or_default().push(p.pkt);
        }
        for ((from, to), pkts) in due {
            let refs: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
            self.deliver(to, face_to(from), &refs, now);
        }
        let mut next = now + 1_000;
        for n in &self.nodes {
            let w = n.engine.as_ref().unwrap().next_wakeup();
            next = next.min(w.saturating_sub(n.offset));
            if let (Some(id), false) = (n.radio, n.radio_queue.is_empty()) {
                next = next.min(
                    n.backoff_until
                        .max(self.medium.busy_until(id).unwrap_or(now + 1)),
                );
            }
        }
        if let Some(p) = self.flight.peek() {
            next = next.min(p.at.0 .0);
        }
        if let Some(t) = self.medium.next_event() {
            next = next.min(t);
        }
        if let Some(t) = self.heal_at {
            next = next.min(t);
        }
        next.max(now + 1)
    }
}

struct Outcome {
    converged_after: Option<Millis>,
    rounds: u64,
    report: String,
}

/// Runs `hours` of chaos and then up to `calm_limit` of lossy but connected links.
fn run(seed: u64, hours: f64, loss: f64, calm_limit: Millis) -> Outcome {
    let mut sim = Sim::new(seed, loss);
    let chaos_until = (hours * HOUR as f64) as Millis;
    let mut now: Millis = 0;
    let mut next_post = [0; AUTHORS];
    let mut next_chaos = 5 * MINUTE;
    let mut next_flush = [0; NODES];
    let mut next_check = 0;
    while now < chaos_until {
        for (a, at) in next_post.iter_mut().enumerate() {
            if now >= *at {
                sim.post(a, now);
                *at = now + sim.rng.gen_range(MINUTE..15 * MINUTE);
            }
        }
        if sim.heal_at.is_none() && now + 20 * MINUTE >= chaos_until && now + MINUTE < chaos_until {
            // A last partition that only the calm phase heals.
            sim.partition(now, chaos_until - now);
        }
        if now >= next_chaos {
            next_chaos = now + sim.rng.gen_range(MINUTE..5 * MINUTE);
            let i = sim.rng.gen_range(0..NODES);
            match sim.rng.gen_range(0..4) {
                0 if sim.heal_at.is_none() => {
                    let len = sim.rng.gen_range(MINUTE..30 * MINUTE);
                    sim.partition(now, len);
                }
                1 => {
                    let crash = sim.rng.gen_bool(0.5);
                    let s = sim.rng.gen();
                    sim.restart(i, crash, s);
                }
                2 => {
                    let n = &mut sim.nodes[i];
                    if sim.rng.gen_bool(0.7) {
                        n.offset += sim.rng.gen_range(1_000..HOUR);
                    } else {
                        n.offset -= sim.rng.gen_range(1_000..MINUTE).min(n.offset);
                    }
                    sim.jumps += 1;
                }
                _ => {
                    let s = sim.rng.gen();
                    sim.restart(i, false, s);
                }
            }
        }
        // The group commit: each node flushes about every 50 ms of activity (here: every
        // simulated second), remembering what a crash may not lose.
        for (i, nf) in next_flush.iter_mut().enumerate() {
            if now >= *nf {
                *nf = now + 1_000;
                let n = &mut sim.nodes[i];
                n.store().flush().unwrap();
                for f in &sim.fids {
                    let fr = n.front(f);
                    n.flushed.insert(*f, fr);
                }
            }
        }
        if now >= next_check {
            next_check = now + 10 * MINUTE;
            sim.check_stores();
        }
        let mut next = sim.step(now);
        next = next
            .min(*next_post.iter().min().unwrap())
            .min(next_chaos)
            .min(*next_flush.iter().min().unwrap());
        now = next.max(now + 1);
    }
    // Calm: every partition heals, no restarts; loss and duplication stay. Each author posts
    // once more at the heal, so convergence has to cross the whole network again.
    let calm_from = now;
    sim.links_down.clear();
    sim.heal_at = None;
    for a in 0..AUTHORS {
        sim.post(a, now);
    }
    let mut rounds = 0u64;
    let mut converged_after = None;
    let mut next_check = now;
    while now < calm_from + calm_limit {
        if now >= next_check {
            next_check = now + 10_000;
            if sim.converged() {
                converged_after = Some(now - calm_from);
                break;
            }
        }
        rounds += 1;
        now = sim.step(now).min(next_check).max(now + 1);
    }
    sim.check_stores();
    let entries: usize = sim.authored.values().map(Vec::len).sum();
    let report = format!(
        "chaos (seed {seed}): {:.1} simulated hours of chaos, {NODES} nodes ({} fast-only, {} \
         bridges, {} LoRa-only), loss {:.0} %, duplication {:.0} %; {} entries in {AUTHORS} \
         feeds, {} accepted; {} partitions, {} restarts ({} crashes losing {} unflushed \
         entries), {} clock jumps; fast link packets {} ({} lost); LoRa {:?}; converged: {}",
        chaos_until as f64 / HOUR as f64,
        LORA_FROM,
        FAST_UNTIL - LORA_FROM,
        NODES - FAST_UNTIL,
        loss * 100.0,
        sim.dup * 100.0,
        entries,
        sim.accepted_total,
        sim.partitions,
        sim.restarts,
        sim.crashes,
        sim.lost_to_crash,
        sim.jumps,
        sim.fast_sent,
        sim.fast_lost,
        sim.medium.counters(),
        match converged_after {
            Some(t) => format!(
                "{:.1} simulated min after the last heal, {rounds} steps",
                t as f64 / MINUTE as f64
            ),
            None => format!("NO (within {} min)", calm_limit / MINUTE),
        },
    );
    Outcome {
        converged_after,
        rounds,
        report,
    }
}

#[test]
fn twenty_four_nodes_converge_through_chaos() {
    let seed = std::env::var("LICHEN_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00c4_a05e);
    let hours: f64 = std::env::var("LICHEN_CHAOS_HOURS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let started = Instant::now();
    let out = run(seed, hours, 0.4, 3 * HOUR);
    eprintln!(
        "{} ({:.1} s wall-clock)",
        out.report,
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.converged_after.is_some_and(|t| t > 0) && out.rounds > 0,
        "{}",
        out.report
    );
}
