//! The relay tunnel (sans-IO): round trips, tampering, replays, reordering, the window, the
//! HELLO rules, foreign bytes, and the promise that no frame is ever UTF-8 (so never JSON).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::face::tunnel::{
    decode_frame, Received, ReplayWindow, Tunnel, TunnelError, TunnelRole, DATA_OVERHEAD,
    HELLO_LEN, MAX_PLAINTEXT, WINDOW,
};
use moneysocket::SharedSeed;
use proptest::prelude::*;

fn open_pair(seed: [u8; 16], ra: [u8; 32], rb: [u8; 32]) -> (Tunnel, Tunnel) {
    let seed = SharedSeed::from_bytes(seed);
    let mut a = Tunnel::new(&seed, TunnelRole::Inviter, ra);
    let mut b = Tunnel::new(&seed, TunnelRole::Acceptor, rb);
    let (ha, hb) = (a.hello(), b.hello());
    assert_eq!(b.receive(&ha).unwrap(), Received::Opened);
    assert_eq!(a.receive(&hb).unwrap(), Received::Opened);
    (a, b)
}

fn packet(r: &mut Received) -> Vec<u8> {
    match std::mem::replace(r, Received::Opened) {
        Received::Packet(p) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_both_ways(
        seed in any::<[u8; 16]>(),
        ra in any::<[u8; 32]>(),
        rb in any::<[u8; 32]>(),
        packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..20),
    ) {
        prop_assume!(ra != rb);
        let (mut a, mut b) = open_pair(seed, ra, rb);
        for p in &packets {
            let f = a.seal(p).unwrap();
            prop_assert_eq!(f.len(), p.len() + DATA_OVERHEAD);
            prop_assert_eq!(packet(&mut b.receive(&f).unwrap()), p.clone());
            let g = b.seal(p).unwrap();
            prop_assert_eq!(packet(&mut a.receive(&g).unwrap()), p.clone());
        }
    }

    #[test]
    fn every_frame_is_never_utf8_and_never_json(
        seed in any::<[u8; 16]>(),
        ra in any::<[u8; 32]>(),
        rb in any::<[u8; 32]>(),
        // Packets that are themselves JSON text, the worst case.
        texts in prop::collection::vec("\\{\"[a-z_]{1,12}\": \"[ -~]{0,40}\"\\}", 1..10),
    ) {
        prop_assume!(ra != rb);
        let (mut a, mut b) = open_pair(seed, ra, rb);
        let mut frames = vec![a.hello(), b.hello()];
        for t in &texts {
            frames.push(a.seal(t.as_bytes()).unwrap());
            frames.push(b.seal(t.as_bytes()).unwrap());
        }
        for f in &frames {
            prop_assert_eq!(f[0], 0xff);
            prop_assert!(std::str::from_utf8(f).is_err());
            prop_assert!(serde_json::from_slice::<serde_json::Value>(f).is_err());
            prop_assert!(moneysocket::v0::Message::from_json_bytes(f).is_err());
        }
    }

    #[test]
    fn any_flipped_bit_is_refused(
        seed in any::<[u8; 16]>(),
        p in prop::collection::vec(any::<u8>(), 0..200),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut a, mut b) = open_pair(seed, [1; 32], [2; 32]);
        let mut f = a.seal(&p).unwrap();
        let i = bit.index(f.len() * 8);
        f[i / 8] ^= 1 << (i % 8);
        let got = b.receive(&f);
        prop_assert!(got.is_err(), "tampered frame accepted");
        prop_assert!(got.unwrap_err().is_fatal(), "tampering closes the session");
        // The genuine frame still opens: a forgery does not burn the counter.
        let genuine = a.seal(&p).unwrap();
        prop_assert_eq!(packet(&mut b.receive(&genuine).unwrap()), p);
    }

    #[test]
    fn reordering_inside_the_window_is_accepted_once(
        order in Just((0u64..WINDOW).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let (mut a, mut b) = open_pair([3; 16], [1; 32], [2; 32]);
        let frames: Vec<Vec<u8>> = (0..WINDOW).map(|i| a.seal(&i.to_be_bytes()).unwrap()).collect();
        for &i in &order {
            let f = &frames[i as usize];
            prop_assert_eq!(packet(&mut b.receive(f).unwrap()), i.to_be_bytes().to_vec());
        }
        for &i in &order {
            prop_assert_eq!(b.receive(&frames[i as usize]), Err(TunnelError::Replayed(i)));
        }
    }

    #[test]
    fn replay_window_model(counters in prop::collection::vec(0u64..400, 1..300)) {
        // The window against a plain model: accept iff never seen and newer than
        // newest − WINDOW.
        let mut w = ReplayWindow::new();
        let mut seen = std::collections::BTreeSet::new();
        for c in counters {
            let newest = seen.iter().next_back().copied();
            let fresh = !seen.contains(&c) && newest.is_none_or(|n| c + WINDOW > n);
            prop_assert_eq!(w.check(c).is_ok(), fresh, "counter {} newest {:?}", c, newest);
            if fresh {
                w.accept(c);
                seen.insert(c);
            }
        }
    }

    #[test]
    fn foreign_bytes_are_clear_errors(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let (_, mut b) = open_pair([5; 16], [1; 32], [2; 32]);
        if let Err(e) = b.receive(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = decode_frame(&bytes);
    }
}

#[test]
fn replay_and_stale_frames_are_refused_but_not_fatal() {
    let (mut a, mut b) = open_pair([7; 16], [1; 32], [2; 32]);
    let first = a.seal(b"zero").unwrap();
    assert_eq!(packet(&mut b.receive(&first).unwrap()), b"zero");
    let err = b.receive(&first).unwrap_err();
    assert_eq!(err, TunnelError::Replayed(0));
    assert!(!err.is_fatal());
    // Push the window 200 counters on; counter 0 is then out of it.
    let mut last = Vec::new();
    for _ in 0..200 {
        last = a.seal(b"x").unwrap();
    }
    b.receive(&last).unwrap();
    assert_eq!(
        b.receive(&first),
        Err(TunnelError::TooOld {
            counter: 0,
            newest: 200
        })
    );
}

#[test]
fn hello_rules() {
    let seed = SharedSeed::from_bytes([1; 16]);
    let other = SharedSeed::from_bytes([2; 16]);
    let inviter = Tunnel::new(&seed, TunnelRole::Inviter, [1; 32]);
    // Another seed: the HELLO does not verify.
    let mut stranger = Tunnel::new(&other, TunnelRole::Acceptor, [2; 32]);
    assert_eq!(
        stranger.receive(&inviter.hello()),
        Err(TunnelError::HelloForged)
    );
    // Two inviters (or two acceptors) of one invite.
    let mut twin = Tunnel::new(&seed, TunnelRole::Inviter, [3; 32]);
    assert_eq!(
        twin.receive(&inviter.hello()),
        Err(TunnelError::SameRole("inviter"))
    );
    // Our own HELLO reflected back.
    let mut me = Tunnel::new(&seed, TunnelRole::Inviter, [1; 32]);
    assert_eq!(me.receive(&inviter.hello()), Err(TunnelError::Reflected));
    // Data before the HELLO; sealing before it.
    let (mut a, _) = open_pair([1; 16], [1; 32], [2; 32]);
    let data = a.seal(b"early").unwrap();
    let mut fresh = Tunnel::new(&seed, TunnelRole::Acceptor, [9; 32]);
    assert_eq!(fresh.receive(&data), Err(TunnelError::DataBeforeHello));
    assert_eq!(fresh.seal(b"x"), Err(TunnelError::NotOpen));
    // A second HELLO in one session.
    let (mut a, b) = open_pair([1; 16], [1; 32], [2; 32]);
    assert_eq!(a.receive(&b.hello()), Err(TunnelError::UnexpectedHello));
    // Sessions with other randoms get other keys: an old session's frame is a forgery now.
    let (mut old_a, _) = open_pair([1; 16], [1; 32], [2; 32]);
    let (_, mut new_b) = open_pair([1; 16], [1; 32], [4; 32]);
    let f = old_a.seal(b"old").unwrap();
    assert_eq!(new_b.receive(&f), Err(TunnelError::Forged(0)));
}

#[test]
fn layout_errors_say_what_is_wrong() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "empty"),
        (b"{\"a\": 1}".to_vec(), "first byte is 0x7b"),
        (vec![0xff], "too short"),
        (vec![0xff, 2, 2], "version 2"),
        (vec![0xff, 1, 7], "kind 0x07"),
        (vec![0xff, 1, 1, 1], "hello has 4 bytes"),
        (vec![0xff, 1, 2, 0, 0], "at least 27"),
    ];
    for (bytes, says) in cases {
        let e = decode_frame(&bytes).unwrap_err().to_string();
        assert!(e.contains(says), "{bytes:02x?}: {e}");
    }
    let mut hello = vec![0xff, 1, 1, 9];
    hello.resize(HELLO_LEN, 0);
    assert_eq!(decode_frame(&hello), Err(TunnelError::UnknownRole(9)));
    let big = vec![0u8; MAX_PLAINTEXT + 1];
    let (mut a, _) = open_pair([1; 16], [1; 32], [2; 32]);
    assert_eq!(a.seal(&big), Err(TunnelError::TooLarge(MAX_PLAINTEXT + 1)));
    let mut frame = vec![0xff, 1, 2];
    frame.resize(MAX_PLAINTEXT + DATA_OVERHEAD + 1, 0);
    assert_eq!(
        decode_frame(&frame),
        Err(TunnelError::TooLarge(MAX_PLAINTEXT + 1))
    );
}
