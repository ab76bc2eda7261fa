//! The engine's own-feed audit (ADR 0020), sans-IO: two engines with one key wired back to
//! back under a fake clock, and one engine fed packets by hand. (Here rather than in the
//! protocol crate: these need a store implementation.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use lichen::feed;
use lichen::store::{MemoryStore, Store, Stored};
use lichen::sync::{Config, Engine, Event, FaceId, FaceProfile};
use lichen::wire::network::Network;
use lichen::wire::request::Want;
use lichen::wire::{Dmx, DMX_LEN};
use lichen::{FeedId, Identity};

const FA: FaceId = FaceId(1);
const FB: FaceId = FaceId(2);

fn me() -> Identity {
    Identity::from_seed(&[5; 32])
}

fn post(store: &dyn Store, text: &str) {
    feed::publish(store, &Network::deployed(), &me(), text.as_bytes()).unwrap();
}

fn log(store: &dyn Store, fid: &FeedId) -> Vec<Stored> {
    let front = store.frontier(fid).unwrap().map_or(0, |f| f.seq);
    (1..=front)
        .map(|s| store.entry(fid, s).unwrap().unwrap())
        .collect()
}

fn engine(store: &Arc<MemoryStore>, cfg: Config, seed: u64) -> Engine {
    let mut e = Engine::new(Network::deployed(), store.clone(), cfg, seed).unwrap();
    e.add_feed(*me().fid()).unwrap();
    e.set_own_feed(*me().fid());
    e
}

fn forks(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ForkDetected { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[test]
fn a_fork_at_2_is_found_by_bisection_and_the_other_branch_is_never_stored() {
    let (sa, sb) = (
        Arc::new(MemoryStore::new_empty()),
        Arc::new(MemoryStore::new_empty()),
    );
    post(sa.as_ref(), "shared 1");
    let first = sa.entry(me().fid(), 1).unwrap().unwrap();
    sb.append(me().fid(), 1, &first.entry, &first.mid).unwrap();
    for i in 2..=6 {
        post(sa.as_ref(), &format!("A {i}"));
        post(sb.as_ref(), &format!("B {i}"));
    }
    let fid = *me().fid();
    let (la, lb) = (log(sa.as_ref(), &fid), log(sb.as_ref(), &fid));
    // A stash on both sides: frames of the other branch must not wait in it to be placed.
    let cfg = Config {
        stash: 128,
        ..Config::default()
    };
    let mut a = engine(&sa, cfg.clone(), 1);
    let mut b = engine(&sb, cfg, 2);
    a.add_face(FB, FaceProfile::fast());
    b.add_face(FA, FaceProfile::fast());
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut now = 0;
    while now < 30_000 {
        let out_a: Vec<Vec<u8>> = a.poll(now).into_iter().map(|o| o.pkt).collect();
        let out_b: Vec<Vec<u8>> = b.poll(now).into_iter().map(|o| o.pkt).collect();
        if !out_a.is_empty() {
            b.on_packets(
                FA,
                &out_a.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                now,
            );
        }
        if !out_b.is_empty() {
            a.on_packets(
                FB,
                &out_b.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                now,
            );
        }
        ea.extend(a.take_events());
        eb.extend(b.take_events());
        now = a.next_wakeup().min(b.next_wakeup()).max(now + 1);
    }
    assert_eq!(forks(&ea), vec![2], "a: one fork, at 2, reported once");
    assert_eq!(forks(&eb), vec![2], "b: one fork, at 2, reported once");
    let Some(Event::ForkDetected {
        ours,
        theirs,
        ours_entry,
        theirs_entry,
        face,
        ..
    }) = ea.iter().find(|e| matches!(e, Event::ForkDetected { .. }))
    else {
        unreachable!()
    };
    assert_eq!((*ours, *theirs, *face), (la[1].mid, lb[1].mid, FB));
    assert_eq!(ours_entry.as_slice(), la[1].entry.bytes());
    assert_eq!(theirs_entry.as_slice(), lb[1].entry.bytes());
    assert_eq!(log(sa.as_ref(), &fid), la, "a's log unchanged");
    assert_eq!(log(sb.as_ref(), &fid), lb, "b's log unchanged");
    assert_eq!(a.stats().entries + b.stats().entries, 0);
    assert_eq!(a.stats().forks, 1);
    // Re-audits (every 60 s by default) found it again without reporting it again; nothing
    // of the other branch is waiting in the stash to be placed later.
    assert_eq!(a.stats().dropped_bad_entry, 0);
}

#[test]
fn a_forged_entry_under_an_own_dmx_is_dropped_and_a_copy_of_ours_ends_the_audit() {
    let store = Arc::new(MemoryStore::new_empty());
    for i in 1..=3 {
        post(store.as_ref(), &format!("post {i}"));
    }
    let fid = *me().fid();
    let before = log(store.as_ref(), &fid);
    let mut e = engine(&store, Config::default(), 3);
    e.add_face(FB, FaceProfile::fast());
    let net = Network::deployed();
    let _ = e.poll(0);
    // The peer claims to hold far more than was ever written: reported, not trusted.
    let claim = Want {
        offs: 0,
        next: vec![u32::MAX],
    }
    .encode(&net, &e.goset().state());
    e.on_packet(FB, &claim, 1);
    let events = e.take_events();
    assert!(events.contains(&Event::OwnFeedElsewhere {
        face: FB,
        fid,
        held_by_peer: u32::MAX - 1,
        signed_here: 3,
    }));
    // The audit asks for what both could hold, entry 3, in a legal one-feed WANT.
    let out = e.poll(2);
    let probe = out
        .iter()
        .find(|o| Dmx::of(&o.pkt) == Some(e.want_dmx()))
        .expect("a probe WANT");
    let w = Want::decode_body(&probe.pkt[DMX_LEN..]).unwrap();
    assert_eq!((w.offs, w.next.clone()), (0, vec![3]));
    // Entry 3 with other signature bytes: not a second entry, and no proof of anything.
    let mut resigned = *before[2].entry.bytes();
    resigned[119] ^= 1;
    e.on_packet(FB, &resigned, 3);
    assert!(
        forks(&e.take_events()).is_empty(),
        "same content is no fork"
    );
    assert_eq!(e.stats().dropped_bad_entry, 0);
    // Entry 3 with a changed payload: same DMX, signature fails.
    let mut forged = *before[2].entry.bytes();
    forged[20] ^= 1;
    e.on_packet(FB, &forged, 3);
    assert!(forks(&e.take_events()).is_empty(), "no fork without proof");
    assert_eq!(e.stats().dropped_bad_entry, 1);
    // A copy of our entry 3: shared through 3, the audit is over (no further probes).
    e.on_packet(FB, before[2].entry.bytes(), 4);
    let _ = e.poll(5);
    let later = e.poll(500);
    let later = [later, e.poll(1_500)].concat();
    let wants: Vec<Want> = later
        .iter()
        .filter(|o| Dmx::of(&o.pkt) == Some(e.want_dmx()))
        .map(|o| Want::decode_body(&o.pkt[DMX_LEN..]).unwrap())
        .collect();
    assert!(!wants.is_empty(), "the regular WANT still goes out");
    assert!(
        wants.iter().all(|w| w.next == vec![4]),
        "no probe after a clean audit: {wants:?}"
    );
    assert_eq!(log(store.as_ref(), &fid), before);
    assert_eq!(e.stats().forks, 0);
}
