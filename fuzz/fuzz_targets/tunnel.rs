//! Fuzz the relay tunnel's receiving side: the frame parser, an open tunnel, and a relay
//! session in each phase. Any bytes must be refused cleanly; nothing forged opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::face::relay_session::RelaySession;
use lichen::face::tunnel::{decode_frame, Received, Tunnel, TunnelRole};
use moneysocket::uuid::Uuid;
use moneysocket::SharedSeed;

fuzz_target!(|data: &[u8]| {
    let _ = decode_frame(data);
    let seed = SharedSeed::from_bytes([7; 16]);
    let mut a = Tunnel::new(&seed, TunnelRole::Inviter, [1; 32]);
    let mut b = Tunnel::new(&seed, TunnelRole::Acceptor, [2; 32]);
    let hello_a = a.hello();
    // A fresh tunnel: only a genuine HELLO may open it.
    if let Ok(Received::Opened) = b.receive(data) {
        assert_eq!(data, hello_a.as_slice(), "a forged hello opened the tunnel");
    }
    let mut b = Tunnel::new(&seed, TunnelRole::Acceptor, [2; 32]);
    b.receive(&hello_a).expect("genuine hello");
    a.receive(&b.hello()).expect("genuine hello");
    // An open tunnel: fuzz bytes are refused (a packet would need the secret key).
    if let Ok(got) = b.receive(data) {
        panic!("fuzz bytes accepted by an open tunnel: {got:?}");
    }
    let mut session = RelaySession::new(
        &seed,
        seed.v1_rendezvous_id(),
        TunnelRole::Acceptor,
        [3; 32],
        Uuid::new_v4([4; 16]),
        1.0,
    );
    for chunk in data.split(|&b| b == b'\n') {
        let _ = session.on_frame(chunk);
    }
});
