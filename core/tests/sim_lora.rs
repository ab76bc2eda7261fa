//! The simulated LoRa medium: timing, collisions, half-duplex, loss, topology, determinism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::lora::Plan;
use lichen::sim::lora::{Counters, Delivery, Medium, NodeId, SimError, TxError};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

const FRAME: usize = 124;

fn eu() -> Plan {
    Plan::by_name("EU868.a").unwrap()
}

fn frame(tag: u8) -> Vec<u8> {
    vec![tag; FRAME]
}

fn receivers(ds: &[Delivery]) -> Vec<usize> {
    ds.iter().map(|d| d.to.index()).collect()
}

#[test]
fn two_nodes_exchange_frames_and_timing_equals_airtime() {
    let mut m = Medium::new(eu(), 1);
    let (a, b) = (m.add_node(), m.add_node());
    let r = m.transmit(a, frame(1), 0).unwrap();
    assert_eq!(r.airtime_us, 205_056);
    assert_eq!((r.start, r.end, r.hearers), (0, 206, 1));
    assert_eq!(m.next_event(), Some(206));
    assert!(m.poll(205).is_empty(), "still on air at 205 ms");
    let got = m.poll(206);
    assert_eq!(
        got,
        vec![Delivery {
            to: b,
            from: a,
            frame: frame(1),
            at: 206
        }]
    );
    assert_eq!(m.next_event(), None);

    let r = m.transmit(b, frame(2), 206).unwrap();
    assert_eq!(r.end, 206 + 206); // 411.056 ms, rounded up
    let got = m.poll(1000);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].to, got[0].from, got[0].at), (a, b, 412));

    let c = m.counters();
    assert_eq!((c.sent, c.delivered), (2, 2));
    assert_eq!(c.airtime_us, 2 * 205_056);
    assert_eq!(m.node_counters(a).unwrap().airtime_us, 205_056);
    assert_eq!(m.node_counters(a).unwrap().delivered, 1);
}

#[test]
fn every_plan_delivers_after_exactly_its_airtime() {
    for plan in Plan::all() {
        for len in [1, 60, FRAME, 255] {
            let mut m = Medium::new(*plan, 0);
            let (a, _b) = (m.add_node(), m.add_node());
            let r = m.transmit(a, vec![0; len], 1000).unwrap();
            assert_eq!(r.airtime_us, plan.time_on_air_us(len), "{plan} {len}");
            let at = 1000 + r.airtime_us.div_ceil(1000);
            assert_eq!(m.next_event(), Some(at));
            assert!(m.poll(at - 1).is_empty());
            assert_eq!(m.poll(at)[0].at, at);
        }
    }
}

#[test]
fn overlapping_frames_collide_at_a_receiver_that_hears_both() {
    let mut m = Medium::new(eu(), 2);
    let (a, b, c) = (m.add_node(), m.add_node(), m.add_node());
    m.transmit(a, frame(1), 0).unwrap();
    m.transmit(b, frame(2), 100).unwrap();
    assert!(m.poll(10_000).is_empty());
    let k = m.counters();
    // At c: both collide. At a and b: each was sending when the other's frame was on air.
    assert_eq!(k.lost_to_collision, 2);
    assert_eq!(k.lost_to_half_duplex, 2);
    assert_eq!(k.delivered, 0);
    assert_eq!(m.node_counters(c).unwrap().lost_to_collision, 2);
}

#[test]
fn frames_that_do_not_overlap_do_not_collide() {
    let mut m = Medium::new(eu(), 3);
    let (a, b, _c) = (m.add_node(), m.add_node(), m.add_node());
    m.transmit(a, frame(1), 0).unwrap();
    // a's frame ends at 205.056 ms: 205 still overlaps, 206 does not.
    m.transmit(b, frame(2), 206).unwrap();
    assert_eq!(m.poll(10_000).len(), 4);
    assert_eq!(m.counters().lost_to_collision, 0);

    m.transmit(a, frame(3), 20_000).unwrap();
    m.transmit(b, frame(4), 20_205).unwrap();
    let got = m.poll(30_000);
    assert!(got.is_empty());
    assert_eq!(m.counters().lost_to_collision, 2);
}

#[test]
fn hidden_terminals_collide_only_where_both_are_heard() {
    // a — c — b, plus d which hears only a.
    let mut m = Medium::new(eu(), 4);
    let (a, b, c, d) = (m.add_node(), m.add_node(), m.add_node(), m.add_node());
    m.set_line(&[a, c, b]).unwrap();
    m.set_link(b, d, false).unwrap();
    m.set_link(c, d, false).unwrap();
    m.transmit(a, frame(1), 0).unwrap();
    m.transmit(b, frame(2), 50).unwrap();
    let got = m.poll(10_000);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].from, got[0].to), (a, d));
    let k = m.counters();
    assert_eq!(k.lost_to_collision, 2); // both at c
    assert_eq!(k.lost_to_half_duplex, 0); // a and b do not hear each other
}

#[test]
fn half_duplex_sender_is_busy_and_deaf() {
    let mut m = Medium::new(eu(), 5);
    let (a, b) = (m.add_node(), m.add_node());
    m.transmit(a, frame(1), 0).unwrap();
    assert_eq!(m.busy_until(a), Some(206));
    assert_eq!(
        m.transmit(a, frame(2), 100),
        Err(TxError::Busy {
            node: a,
            until: 206
        })
    );
    // b, listening, can still talk; a, transmitting, cannot hear it and b loses a's frame.
    m.transmit(b, frame(3), 100).unwrap();
    assert!(m.poll(1_000).is_empty());
    assert_eq!(m.counters().lost_to_half_duplex, 2);
    assert_eq!(m.counters().sent, 2, "the refused frame never went on air");
    // Once its frame has left, a can send again.
    m.transmit(a, frame(4), 1_000).unwrap();
    assert_eq!(receivers(&m.poll(2_000)), vec![b.index()]);
}

#[test]
fn loss_rate_holds_over_many_frames() {
    let mut m = Medium::new(eu(), 6);
    let (a, _b, _c) = (m.add_node(), m.add_node(), m.add_node());
    m.set_loss_rate(0.3).unwrap();
    let n = 5_000u64;
    for i in 0..n {
        m.transmit(a, frame(1), i * 300).unwrap();
    }
    let got = m.poll(n * 300);
    let k = m.counters();
    assert_eq!(k.delivered + k.lost_to_loss, 2 * n);
    assert_eq!(got.len() as u64, k.delivered);
    // Binomial(10 000, 0.3): sd 46; allow ±4.5 sd.
    let lost = k.lost_to_loss as f64;
    assert!((lost - 3_000.0).abs() < 210.0, "lost {lost}");
    assert_eq!(k.lost_to_collision + k.lost_to_half_duplex, 0);

    assert!(matches!(
        m.set_loss_rate(1.5),
        Err(SimError::BadLossRate(_))
    ));
    assert!(m.set_loss_rate(f64::NAN).is_err());
    m.set_loss_rate(1.0).unwrap();
    m.transmit(a, frame(1), n * 300).unwrap();
    assert!(m.poll(n * 300 + 1_000).is_empty());
}

#[test]
fn line_topology_reaches_only_the_neighbour() {
    let (mut m, ids) = Medium::line(eu(), 7, 4);
    m.transmit(ids[0], frame(1), 0).unwrap();
    assert_eq!(receivers(&m.poll(1_000)), vec![1]);
    m.transmit(ids[2], frame(2), 1_000).unwrap();
    assert_eq!(receivers(&m.poll(2_000)), vec![1, 3]);
    // Healing the line into a mesh.
    m.set_mesh();
    m.transmit(ids[0], frame(3), 2_000).unwrap();
    assert_eq!(receivers(&m.poll(3_000)), vec![1, 2, 3]);
}

#[test]
fn a_relay_chain_driven_by_next_event() {
    // Each node forwards what it hears first; a frame crosses a line of 5 in 4 hops.
    let (mut m, ids) = Medium::line(eu(), 8, 5);
    let mut seen = vec![false; ids.len()];
    seen[0] = true;
    m.transmit(ids[0], frame(9), 0).unwrap();
    let mut last = 0;
    while let Some(t) = m.next_event() {
        for d in m.poll(t) {
            if !seen[d.to.index()] {
                seen[d.to.index()] = true;
                last = t;
                m.transmit(d.to, d.frame, t).unwrap();
            }
        }
    }
    assert!(seen.iter().all(|s| *s));
    assert_eq!(last, 4 * 206); // four hops of 205.056 ms, each rounded up to 206
                               // Every forward is also heard by the node behind: 5 sends, 8 receptions.
    assert_eq!((m.counters().sent, m.counters().delivered), (5, 8));
}

#[test]
fn partition_blocks_then_heals_at_until() {
    let mut m = Medium::new(eu(), 9);
    let ids: Vec<NodeId> = (0..4).map(|_| m.add_node()).collect();
    m.partition(&[[ids[0], ids[1]], [ids[2], ids[3]]], 1_000, 5_000)
        .unwrap();
    let mut send_at = |t| {
        m.transmit(ids[0], frame(1), t).unwrap();
        receivers(&m.poll(t + 1_000))
    };
    assert_eq!(send_at(0), vec![1, 2, 3]);
    assert_eq!(send_at(1_000), vec![1]);
    assert_eq!(send_at(3_000), vec![1]);
    assert_eq!(send_at(5_000), vec![1, 2, 3]);
}

#[test]
fn unnamed_nodes_form_their_own_group() {
    let mut m = Medium::new(eu(), 10);
    let ids: Vec<NodeId> = (0..4).map(|_| m.add_node()).collect();
    m.partition(&[vec![ids[0]]], 0, 1_000).unwrap();
    m.transmit(ids[1], frame(1), 0).unwrap();
    assert_eq!(receivers(&m.poll(500)), vec![2, 3]);
    assert_eq!(
        m.partition(&[vec![ids[0]], vec![ids[0], ids[1]]], 0, 1),
        Err(SimError::NodeInTwoGroups(ids[0]))
    );
    assert_eq!(
        m.partition(&[vec![ids[0]]], 5, 5),
        Err(SimError::EmptyInterval { from: 5, until: 5 })
    );
}

#[test]
fn bad_transmissions_are_refused() {
    let mut m = Medium::new(eu(), 11);
    let a = m.add_node();
    let mut other = Medium::new(eu(), 11);
    other.add_node();
    let stranger = other.add_node();
    assert_eq!(
        m.transmit(a, vec![0; 256], 0),
        Err(TxError::FrameTooLong { len: 256 })
    );
    assert_eq!(m.transmit(a, Vec::new(), 0), Err(TxError::EmptyFrame));
    assert_eq!(
        m.transmit(stranger, vec![1], 0),
        Err(TxError::UnknownNode(stranger))
    );
    assert_eq!(
        m.set_link(a, stranger, false),
        Err(SimError::UnknownNode(stranger))
    );
    m.transmit(a, vec![0; 255], 100).unwrap();
    m.poll(2_000);
    assert_eq!(
        m.transmit(a, vec![1], 1_999),
        Err(TxError::TimeWentBack {
            now: 1_999,
            latest: 2_000
        })
    );
    assert_eq!(m.counters().sent, 1);
}

/// A busy random scenario: 8 nodes, random sends and links, some loss.
fn scenario(seed: u64) -> (Vec<Delivery>, Counters) {
    let mut m = Medium::new(eu(), seed);
    let ids: Vec<NodeId> = (0..8).map(|_| m.add_node()).collect();
    m.set_loss_rate(0.1).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for _ in 0..6 {
        let (x, y) = (rng.next_u32() as usize % 8, rng.next_u32() as usize % 8);
        if x != y {
            m.set_link(ids[x], ids[y], false).unwrap();
        }
    }
    m.partition(&[&ids[..3], &ids[3..5]], 20_000, 40_000)
        .unwrap();
    let mut out = Vec::new();
    let mut now = 0;
    for _ in 0..400 {
        now += u64::from(rng.next_u32() % 400);
        out.extend(m.poll(now));
        let node = ids[rng.next_u32() as usize % 8];
        let len = 1 + rng.next_u32() as usize % 124;
        let _ = m.transmit(node, vec![(now % 251) as u8; len], now);
    }
    out.extend(m.poll(now + 10_000));
    (out, m.counters())
}

#[test]
fn same_seed_same_deliveries() {
    let (d1, c1) = scenario(42);
    let (d2, c2) = scenario(42);
    assert_eq!(d1, d2);
    assert_eq!(c1, c2);
    assert!(c1.delivered > 0 && c1.lost_to_collision > 0 && c1.lost_to_loss > 0);
    let (d3, _) = scenario(43);
    assert_ne!(d1, d3);
}

#[test]
fn counters_add_up() {
    let mut m = Medium::new(Plan::by_name("EU868.c").unwrap(), 12);
    let ids: Vec<NodeId> = (0..6).map(|_| m.add_node()).collect();
    m.set_loss_rate(0.2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut now = 0;
    let mut expected_receptions = 0;
    let mut refused = 0;
    for _ in 0..2_000 {
        now += u64::from(rng.next_u32() % 60);
        m.poll(now);
        match m.transmit(ids[rng.next_u32() as usize % 6], vec![7; 50], now) {
            Ok(r) => expected_receptions += r.hearers as u64,
            Err(TxError::Busy { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    m.poll(now + 1_000);
    let k = m.counters();
    assert!(refused > 0);
    assert_eq!(
        k.delivered + k.lost_to_loss + k.lost_to_collision + k.lost_to_half_duplex,
        expected_receptions
    );
    let per_node: u64 = ids
        .iter()
        .map(|&n| m.node_counters(n).unwrap().airtime_us)
        .sum();
    assert_eq!(per_node, k.airtime_us);
    assert_eq!(k.airtime_us, k.sent * m.airtime_us(50));
    assert_eq!(m.in_flight(), 0);
}
