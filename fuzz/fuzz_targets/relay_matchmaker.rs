//! The relay's pairing table fed frames and disconnects from three connections: frames are
//! split at 0xFF; each frame's first byte picks the connection (and, if ≥ 0xF0, means that
//! connection hangs up). Any frames may arrive; pairing stays symmetric, forwarding goes only
//! to the paired peer and carries the frame unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moneysocket::rendezvous::{Action, ConnState, Matchmaker};

fuzz_target!(|data: &[u8]| {
    let mut mm: Matchmaker<u8> = Matchmaker::new();
    for piece in data.split(|&b| b == 0xff) {
        let Some((&head, frame)) = piece.split_first() else {
            continue;
        };
        let conn = head % 3;
        let before = mm.peer(conn);
        let actions = if head >= 0xf0 {
            mm.disconnect(conn)
        } else {
            mm.frame(conn, frame)
        };
        for a in &actions {
            if let Action::Forward { to, frame: sent } = a {
                assert_eq!(Some(*to), before, "forwarded to someone not paired");
                assert_eq!(sent.as_slice(), frame, "forwarded frame changed");
            }
        }
        for c in 0..3u8 {
            if let Some(p) = mm.peer(c) {
                assert_ne!(p, c, "paired with itself");
                assert_eq!(mm.peer(p), Some(c), "pairing is not symmetric");
                assert_eq!(mm.state(c), ConnState::Paired(p));
            }
        }
        assert!(mm.paired_count() <= 3 && mm.waiting_count() <= 3);
    }
});
