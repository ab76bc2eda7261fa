//! The engine's handling of keys learned from peers (valid, provisional until they carry an
//! entry, evicted and quarantined) and of what peers say they hold, against a real in-memory
//! store. (Unit tests that need a store implementation live here: the protocol crate has none.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use lichen::store::MemoryStore;
use lichen::store::Store;
use lichen::sync::FaceProfile;
use lichen::sync::{Config, Engine, Event, FaceId, Millis};
use lichen::wire::goset as wire_goset;
use lichen::wire::network::Network;
use lichen::wire::request::Want;
use lichen::FeedId;
use lichen::Identity;

const PEER: FaceId = FaceId(1);

fn engine(cfg: Config) -> (Engine, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new_empty());
    let e = Engine::new(Network::deployed(), store.clone(), cfg, 7).unwrap();
    (e, store)
}

fn key(s: u16) -> FeedId {
    let mut seed = [3u8; 32];
    seed[..2].copy_from_slice(&s.to_be_bytes());
    *Identity::from_seed(&seed).fid()
}

fn junk(s: u8) -> FeedId {
    (0..=255u8)
        .map(|i| {
            let mut k = [9u8; 32];
            k[0] = s;
            k[1] = i;
            FeedId(k)
        })
        .find(|f| f.key().is_err())
        .unwrap()
}

fn claim_pkt(net: &Network, a: FeedId, b: FeedId) -> Vec<u8> {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    Claim {
        lo,
        hi,
        xor: wire_goset::xor(&lo.0, &hi.0),
        cnt: 2,
    }
    .encode(net)
    .to_vec()
}

use lichen::wire::goset::Claim;

#[test]
fn invalid_keys_in_claims_and_novelties_are_refused() {
    let (mut e, store) = engine(Config::default());
    e.add_face(PEER, FaceProfile::fast());
    let net = Network::deployed();
    e.on_packet(PEER, &claim_pkt(&net, junk(1), junk(2)), 0);
    e.on_packet(PEER, &wire_goset::encode_novelty(&net, &junk(3)), 0);
    assert!(e.goset().is_empty());
    assert_eq!(e.stats().dropped_keys, 3);
    assert!(store.members().unwrap().is_empty());
}

#[test]
fn learned_keys_stay_in_memory_until_their_feed_has_an_entry() {
    let (mut e, store) = engine(Config::default());
    let mine = key(0);
    e.add_feed(mine).unwrap();
    e.add_face(PEER, FaceProfile::fast());
    let net = Network::deployed();
    let author = Identity::from_seed(&[42; 32]);
    e.on_packet(PEER, &claim_pkt(&net, key(1), *author.fid()), 0);
    assert_eq!(e.goset().len(), 3);
    assert!(e.goset().is_provisional(author.fid()));
    assert_eq!(store.members().unwrap(), vec![mine]);
    // The author's first entry anchors its key, the other stays provisional.
    let other = MemoryStore::new_empty();
    lichen::feed::publish(&other, &net, &author, b"hello").unwrap();
    let first = other.entry(author.fid(), 1).unwrap().unwrap();
    e.on_packet(PEER, first.entry.bytes(), 1);
    assert_eq!(e.stats().entries, 1);
    assert!(!e.goset().is_provisional(author.fid()));
    let mut want = vec![mine, *author.fid()];
    want.sort();
    assert_eq!(store.members().unwrap(), want);
    assert!(e.goset().is_provisional(&key(1)));
}

#[test]
fn expired_keys_leave_the_set_and_their_state_with_them() {
    let cfg = Config {
        provisional_ttl: 1_000,
        quarantine_for: 10_000,
        ..Config::default()
    };
    let (mut e, _store) = engine(cfg);
    let mine = key(0);
    e.add_feed(mine).unwrap();
    e.add_face(PEER, FaceProfile::fast());
    let _ = e.poll(0);
    let before = e.goset().state();
    let dmx_before = e.want_dmx();
    let net = Network::deployed();
    // A peer that agrees with us, then names a key it never shows an entry for.
    let agree = Claim::over(&[mine]).unwrap().encode(&net).to_vec();
    e.on_packet(PEER, &agree, 10);
    assert_eq!(e.goset_agreed_at(), Some(10));
    e.on_packet(PEER, &wire_goset::encode_novelty(&net, &key(5)), 20);
    assert_eq!(e.goset().len(), 2);
    assert_eq!(e.goset_agreed_at(), None);
    assert_eq!(e.progress().len(), 2);
    // Its clock runs from when a peer's set agrees with ours (WANTs for it flow).
    let _ = e.poll(5_000);
    assert_eq!(e.goset().len(), 2);
    let mut with_it = vec![mine, key(5)];
    with_it.sort();
    let agree2 = Claim::over(&with_it).unwrap().encode(&net).to_vec();
    e.on_packet(PEER, &agree2, 5_010);
    assert_eq!(e.goset_agreed_at(), Some(5_010));
    assert_eq!(e.goset().next_expiry(e.goset_agreed_at()), Some(6_010));
    assert!(e.next_wakeup() <= 6_010);
    let _ = e.poll(6_009);
    assert_eq!(e.goset().len(), 2);
    let _ = e.poll(6_010);
    assert_eq!(e.goset().keys(), &[mine]);
    assert_eq!(e.goset().state(), before);
    assert_eq!(e.want_dmx(), dmx_before);
    assert_eq!(e.progress().len(), 1);
    assert!(e.demuxed_feeds().iter().all(|f| *f == mine));
    assert!(e
        .take_events()
        .contains(&Event::FeedDropped { fid: key(5) }));
    // Named again: quarantined. Agreement comes back with the old set.
    e.on_packet(PEER, &wire_goset::encode_novelty(&net, &key(5)), 6_100);
    assert_eq!(e.goset().len(), 1);
    e.on_packet(PEER, &agree, 6_200);
    assert_eq!(e.goset_agreed_at(), Some(6_200));
    // A contact I add myself is welcome even so, and anchored.
    e.add_feed(key(5)).unwrap();
    assert!(!e.goset().is_provisional(&key(5)));
}

#[test]
fn a_full_set_evicts_the_oldest_learned_key_and_keeps_anchored_ones() {
    let cfg = Config {
        max_feeds: 4,
        new_keys_per_round: 100,
        ..Config::default()
    };
    let (mut e, store) = engine(cfg);
    e.add_feed(key(0)).unwrap();
    e.add_feed(key(1)).unwrap();
    e.add_face(PEER, FaceProfile::fast());
    let _ = e.poll(0);
    let net = Network::deployed();
    for (t, k) in [(1, 10), (2, 11), (3, 12), (4, 13)] {
        e.on_packet(PEER, &wire_goset::encode_novelty(&net, &key(k)), t);
    }
    let mut held = e.goset().keys().to_vec();
    held.sort();
    let mut want = vec![key(0), key(1), key(12), key(13)];
    want.sort();
    assert_eq!(held, want);
    // Adding a contact evicts the oldest provisional key, never an anchored one.
    e.add_feed(key(2)).unwrap();
    assert!(e.goset().index_of(&key(12)).is_none());
    assert!(e.goset().index_of(&key(0)).is_some());
    let mut members = vec![key(0), key(1), key(2)];
    members.sort();
    assert_eq!(store.members().unwrap(), members);
    assert_eq!(e.progress().len(), 4);
}

#[test]
fn early_rounds_do_not_refill_the_key_budget() {
    let cfg = Config {
        new_keys_per_round: 2,
        ..Config::default()
    };
    let (mut e, _store) = engine(cfg);
    e.add_face(PEER, FaceProfile::fast());
    let net = Network::deployed();
    for i in 0..10u16 {
        let t = u64::from(i) * 10;
        // Each new key asks for an early round; that round must not reset the budget.
        let _ = e.poll(t);
        e.on_packet(
            PEER,
            &wire_goset::encode_novelty(&net, &key(100 + i)),
            t + 1,
        );
    }
    assert_eq!(e.goset().len(), 2);
    let _ = e.poll(2_500);
    e.on_packet(PEER, &wire_goset::encode_novelty(&net, &key(200)), 2_501);
    assert_eq!(e.goset().len(), 3);
}

#[test]
fn a_want_cannot_claim_more_of_my_feed_than_i_wrote() {
    let (mut e, store) = engine(Config::default());
    let me = Identity::from_seed(&[9; 32]);
    for i in 0..3u8 {
        lichen::feed::publish(store.as_ref(), &Network::deployed(), &me, &[i]).unwrap();
    }
    e.add_feed(*me.fid()).unwrap();
    e.set_own_feed(*me.fid());
    let other = key(77);
    e.add_feed(other).unwrap();
    e.add_face(PEER, FaceProfile::fast());
    e.add_face(FaceId(2), FaceProfile::fast());
    let net = Network::deployed();
    let n = e.goset().len();
    let all_max = Want {
        offs: 0,
        next: vec![u32::MAX; n],
    }
    .encode(&net, &e.goset().state());
    e.on_packet(PEER, &all_max, 0);
    let holds: Vec<(FeedId, u32)> = e
        .take_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::PeerHolds { fid, seq, .. } => Some((fid, seq)),
            _ => None,
        })
        .collect();
    assert!(holds.contains(&(*me.fid(), 3)));
    assert!(holds.contains(&(other, u32::MAX - 1)));
    let p = e.progress();
    let mine = p.iter().find(|p| p.fid == *me.fid()).unwrap();
    assert_eq!((mine.held, mine.peer_max), (3, 3));
    // Another face's honest progress is still reported.
    let two = Want {
        offs: 0,
        next: vec![3; n],
    }
    .encode(&net, &e.goset().state());
    e.on_packet(FaceId(2), &two, 1);
    assert!(e.take_events().contains(&Event::PeerHolds {
        face: FaceId(2),
        fid: *me.fid(),
        seq: 2
    }));
    // From whom: each link that showed more of a feed than is held, most first; never a link
    // for my own feed (nobody holds more of it than I wrote); a closed link is no source.
    let p = e.progress();
    let of = |fid: FeedId| p.iter().find(|p| p.fid == fid).unwrap().shown_by.clone();
    assert_eq!(of(other), vec![(PEER, u32::MAX - 1), (FaceId(2), 2)]);
    assert_eq!(of(*me.fid()), vec![]);
    e.remove_face(PEER);
    let p = e.progress();
    let rest = p.iter().find(|p| p.fid == other).unwrap();
    assert_eq!(rest.shown_by, vec![(FaceId(2), 2)]);
}

#[test]
fn without_a_face_nothing_is_due() {
    let (mut e, _store) = engine(Config::default());
    e.add_feed(key(1)).unwrap();
    assert_eq!(e.next_wakeup(), Millis::MAX);
    assert!(e.poll(5).is_empty());
    assert_eq!(e.next_wakeup(), Millis::MAX);
    e.add_face(PEER, FaceProfile::fast());
    assert_eq!(e.next_wakeup(), 0);
    assert!(!e.poll(10).is_empty());
    assert!(e.next_wakeup() > 10);
    e.remove_face(PEER);
    assert_eq!(e.next_wakeup(), Millis::MAX);
}
