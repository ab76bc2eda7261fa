//! The replication engine, sans-IO: engines wired back to back in memory, under a fake clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{hx, load};
use lichen::feed;
use lichen::lora::{DutyLimit, Plan};
use lichen::store::{MemoryStore, Store};
use lichen::sync::{Config, Engine, Event, FaceId, FaceProfile};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};

fn authored(store: &dyn Store, seed: u8, n: u32) -> FeedId {
    let me = Identity::from_seed(&[seed; 32]);
    for i in 0..n {
        // Every third entry needs a side chain of a few chunks.
        let len = if i % 3 == 0 {
            150 + (i as usize * 7) % 400
        } else {
            20
        };
        let content: Vec<u8> = (0..len).map(|b| (b as u32 + i) as u8).collect();
        feed::publish(store, &Network::deployed(), &me, &content).unwrap();
    }
    *me.fid()
}

struct Pair {
    a: Engine,
    b: Engine,
    sa: Arc<MemoryStore>,
    sb: Arc<MemoryStore>,
    now: u64,
    packets: usize,
    /// Packet-sized frames A sent, and which of them (by index) never reach B.
    data_from_a: usize,
    lose_from_a: Vec<usize>,
}

const FA: FaceId = FaceId(1);
const FB: FaceId = FaceId(2);

impl Pair {
    fn new(profile: FaceProfile, cfg: Config) -> Pair {
        Pair::with(profile, cfg.clone(), cfg)
    }

    fn with(profile: FaceProfile, cfg_a: Config, cfg_b: Config) -> Pair {
        let sa = Arc::new(MemoryStore::new_empty());
        let sb = Arc::new(MemoryStore::new_empty());
        let mut a = Engine::new(Network::deployed(), sa.clone(), cfg_a, 1).unwrap();
        let mut b = Engine::new(Network::deployed(), sb.clone(), cfg_b, 2).unwrap();
        a.add_face(FB, profile.clone());
        b.add_face(FA, profile);
        Pair {
            a,
            b,
            sa,
            sb,
            now: 0,
            packets: 0,
            data_from_a: 0,
            lose_from_a: Vec::new(),
        }
    }

    /// Runs until `done` or the time limit (ms); returns the simulated time used.
    fn run(&mut self, limit: u64, mut done: impl FnMut(&Pair) -> bool) -> u64 {
        while self.now < limit {
            let out_a = self.a.poll(self.now);
            let out_b = self.b.poll(self.now);
            self.packets += out_a.len() + out_b.len();
            let mut pa: Vec<&[u8]> = Vec::new();
            for o in &out_a {
                if o.pkt.len() == 120 {
                    self.data_from_a += 1;
                    if self.lose_from_a.contains(&(self.data_from_a - 1)) {
                        continue;
                    }
                }
                pa.push(&o.pkt);
            }
            let pb: Vec<&[u8]> = out_b.iter().map(|o| o.pkt.as_slice()).collect();
            if !pa.is_empty() {
                self.b.on_packets(FA, &pa, self.now);
            }
            if !pb.is_empty() {
                self.a.on_packets(FB, &pb, self.now);
            }
            if done(self) {
                return self.now;
            }
            let next = self.a.next_wakeup().min(self.b.next_wakeup());
            self.now = next.max(self.now + 1);
        }
        panic!("no convergence within {limit} ms");
    }
}

fn same_logs(x: &dyn Store, y: &dyn Store) -> bool {
    let fx = x.feeds().unwrap();
    if fx != y.feeds().unwrap() {
        return false;
    }
    for (fid, front) in fx {
        if !x.open_chains(&fid).unwrap().is_empty() || !y.open_chains(&fid).unwrap().is_empty() {
            return false;
        }
        for seq in 1..=front.seq {
            if x.entry(&fid, seq).unwrap() != y.entry(&fid, seq).unwrap()
                || x.chunks(&fid, seq).unwrap() != y.chunks(&fid, seq).unwrap()
            {
                return false;
            }
        }
    }
    true
}

#[test]
fn two_engines_converge_on_two_feeds_with_side_chains() {
    let mut p = Pair::new(FaceProfile::fast(), Config::default());
    let f1 = authored(p.sa.as_ref(), 1, 300);
    let f2 = authored(p.sa.as_ref(), 2, 200);
    p.a.add_feed(f1).unwrap();
    p.a.add_feed(f2).unwrap();
    let t = p.run(120_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    assert_eq!(p.sb.frontier(&f1).unwrap().unwrap().seq, 300);
    assert_eq!(p.sb.frontier(&f2).unwrap().unwrap().seq, 200);
    let stats = p.b.stats();
    assert_eq!(stats.entries, 500);
    assert_eq!(stats.dropped_bad_entry, 0);
    // Fast links need few rounds, not one WANT interval per entry.
    assert!(t < 10_000, "took {t} ms of simulated time");
    // B's GOset learned both keys from A's claims.
    assert_eq!(p.b.goset().len(), 2);
}

#[test]
fn both_directions_and_deterministic() {
    let run = || {
        let mut p = Pair::new(FaceProfile::fast(), Config::default());
        let fa = authored(p.sa.as_ref(), 3, 40);
        let fb = authored(p.sb.as_ref(), 4, 30);
        p.a.add_feed(fa).unwrap();
        p.b.add_feed(fb).unwrap();
        let t = p.run(60_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
        (t, p.packets)
    };
    assert_eq!(run(), run(), "same seed, same inputs, same run");
}

#[test]
fn android_pacing_also_converges_slowly() {
    let mut p = Pair::new(
        FaceProfile::android_reference(),
        Config::android_reference(),
    );
    let f = authored(p.sa.as_ref(), 5, 12);
    p.a.add_feed(f).unwrap();
    let t = p.run(3_600_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    // At 1 packet/s and credit 5 this takes tens of seconds.
    assert!(t > 10_000, "{t}");
}

#[test]
fn own_feed_published_after_start_is_served() {
    let mut p = Pair::new(FaceProfile::fast(), Config::default());
    let me = Identity::from_seed(&[9; 32]);
    p.a.add_feed(*me.fid()).unwrap();
    p.run(20_000, |p| p.b.goset().len() == 1);
    feed::publish(p.sa.as_ref(), &Network::deployed(), &me, b"late post").unwrap();
    p.a.refresh_feed(me.fid()).unwrap();
    p.run(40_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    let events = p.b.take_events();
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::EntryAdded { seq: 1, .. })));
}

/// The Python reference pub's packets, replayed into an empty Lichen engine, give the same
/// logs as the vectors: the reference's WANT/CHNK answers and GOset claims are understood.
#[test]
fn reference_python_run_replayed_into_an_engine() {
    let d = load("tinyssb-replication.json");
    let ent = load("tinyssb-entries.json");
    let store = Arc::new(MemoryStore::new_empty());
    let mut e = Engine::new(Network::deployed(), store.clone(), Config::default(), 7).unwrap();
    e.add_face(FA, FaceProfile::fast());
    for p in d["python_replication_run"]["packets"].as_array().unwrap() {
        if p["from"] == "src" {
            e.on_packet(FA, &hx(&p["pkt"]), 0);
        }
    }
    for feed in ent["feeds"].as_array().unwrap() {
        let fid = FeedId(hx(&feed["fid"]).try_into().unwrap());
        let entries = feed["entries"].as_array().unwrap();
        assert_eq!(
            store.frontier(&fid).unwrap().unwrap().seq as usize,
            entries.len()
        );
        for v in entries {
            let seq = v["seq"].as_u64().unwrap() as u32;
            let got = store.entry(&fid, seq).unwrap().unwrap();
            assert_eq!(got.entry.bytes().to_vec(), hx(&v["pkt"]));
            let chunks: Vec<Vec<u8>> = store
                .chunks(&fid, seq)
                .unwrap()
                .iter()
                .map(|c| c.to_vec())
                .collect();
            let want: Vec<Vec<u8>> = v["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| hx(&c["pkt"]))
                .collect();
            assert_eq!(chunks, want, "feed {} seq {seq}", feed["identity"]);
        }
        assert!(store.open_chains(&fid).unwrap().is_empty());
    }
    assert_eq!(e.stats().dropped_bad_entry, 0);
}

#[test]
fn hostile_input_is_dropped_and_the_engine_keeps_serving() {
    let mut p = Pair::new(FaceProfile::fast(), Config::default());
    let f = authored(p.sa.as_ref(), 6, 20);
    p.a.add_feed(f).unwrap();
    p.run(20_000, |p| p.b.goset().len() == 1);
    let net = Network::deployed();
    let next = p.sa.entry(&f, 1).unwrap().unwrap();

    // A forged entry with the right DMX: signature fails, nothing stored.
    let mut forged = next.entry.bytes().to_vec();
    forged[60] ^= 0xff;
    p.b.on_packet(FA, &forged, p.now);
    assert_eq!(p.b.stats().dropped_bad_entry, 1);
    assert!(p.sb.frontier(&f).unwrap().is_none());

    // Junk of every shape.
    let want_dmx = p.b.want_dmx().0;
    let mut junk: Vec<Vec<u8>> = vec![
        vec![],
        vec![1, 2, 3],
        next.entry.bytes()[..119].to_vec(),
        vec![0xaa; 500],
        net.goset_dmx()
            .0
            .iter()
            .copied()
            .chain([b'c', 1, 2])
            .collect(),
        net.goset_dmx()
            .0
            .iter()
            .copied()
            .chain([b'q'; 33])
            .collect(),
    ];
    // WANT with absurd offsets and sequence numbers; CHNK with absurd indexes and counts.
    for body in [
        "2c0affffffff0f0aff", // not decodable as intended: garbage ints
        "340a7f0a7f0a7f",
        "1c1affffff7f", // huge offset
        "2c0a000a00",   // seq 0
    ] {
        junk.push(
            want_dmx
                .iter()
                .copied()
                .chain(hx(&serde_json::json!(body)))
                .collect(),
        );
    }
    let chnk = lichen::wire::request::Chnk(vec![lichen::wire::request::ChunkRequest {
        fndx: 4_000_000_000,
        seq: u32::MAX,
        cnr: u32::MAX,
    }]);
    junk.push(chnk.encode(&net, &p.b.goset().state()));
    for j in &junk {
        p.b.on_packet(FA, j, p.now);
    }
    // A flood of novelties: at most the per-round budget of new keys is accepted.
    for i in 0..500u32 {
        let k = Identity::from_seed(&[
            (i % 251) as u8,
            (i / 251) as u8,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
            10,
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            18,
            19,
            20,
            21,
            22,
            23,
            24,
            25,
            26,
            27,
            28,
            29,
            30,
        ]);
        let pkt = lichen::wire::goset::encode_novelty(&net, k.fid());
        p.b.on_packet(FA, &pkt, p.now);
    }
    assert!(p.b.goset().len() <= 1 + Config::default().new_keys_per_round);
    assert!(p.b.stats().dropped_keys > 400);
    // Still replicates the real feed afterwards (A learns B's junk keys too, but only feed
    // f has entries).
    p.run(600_000, |p| {
        p.sb.frontier(&f).unwrap().map(|x| x.seq) == Some(20)
    });
}

#[test]
fn small_credit_still_pipelines_requests() {
    let profile = FaceProfile {
        credit: 128,
        ..FaceProfile::fast()
    };
    let mut p = Pair::new(profile, Config::default());
    let f = authored(p.sa.as_ref(), 7, 600);
    p.a.add_feed(f).unwrap();
    let t = p.run(600_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    // Each answer of 128 packets is followed by a new WANT after a 15 ms quiet, not by the
    // 1 s WANT timer.
    assert!(t < 3_000, "took {t} ms of simulated time");
}

/// Entries and chunks of all feeds in `store`.
fn packets_held(store: &dyn Store) -> usize {
    store
        .feeds()
        .unwrap()
        .iter()
        .map(|(fid, front)| {
            (1..=front.seq)
                .map(|s| 1 + store.chunks(fid, s).unwrap().len())
                .sum::<usize>()
        })
        .sum()
}

fn lora_pair(stash_at_b: bool) -> Pair {
    let plan = Plan::by_name("EU868.a").unwrap();
    let profile = FaceProfile::lora(plan, DutyLimit::Unlimited);
    let cfg_b = Config {
        stash: if stash_at_b { Config::lora().stash } else { 0 },
        ..Config::lora()
    };
    Pair::with(profile, Config::lora(), cfg_b)
}

#[test]
fn on_lora_a_lost_frame_costs_one_resend_not_the_rest_of_the_burst() {
    let mut p = lora_pair(true);
    let f = authored(p.sa.as_ref(), 7, 60);
    p.a.add_feed(f).unwrap();
    // Entries, first chunks and later chunks, single and back to back.
    p.lose_from_a = vec![2, 9, 10, 30, 55];
    p.run(3_600_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    let needed = packets_held(p.sa.as_ref());
    assert!(
        p.data_from_a <= needed + p.lose_from_a.len() + 2,
        "sent {} frames for {needed} (lost {})",
        p.data_from_a,
        p.lose_from_a.len()
    );
}

#[test]
fn on_lora_a_receiver_that_keeps_nothing_still_gets_everything() {
    // A deployed receiver drops frames it cannot place; the sender falls back from single
    // repairs to resending from the gap.
    let mut p = lora_pair(false);
    let f = authored(p.sa.as_ref(), 7, 60);
    p.a.add_feed(f).unwrap();
    p.lose_from_a = vec![2, 9, 10, 30, 55];
    p.run(3_600_000, |p| same_logs(p.sa.as_ref(), p.sb.as_ref()));
    assert!(p.data_from_a > packets_held(p.sa.as_ref()) + p.lose_from_a.len());
}
