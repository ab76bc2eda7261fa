//! WANT and CHNK bodies: decode; what decodes re-encodes and decodes to the same vector.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::wire::network::Network;
use lichen::wire::request::{Chnk, Want};

fuzz_target!(|data: &[u8]| {
    let net = Network::deployed();
    if let Ok(w) = Want::decode_body(data) {
        let pkt = w.encode(&net, &[0; 32]);
        assert_eq!(Want::decode_body(&pkt[7..]).ok(), Some(w));
    }
    if let Ok(c) = Chnk::decode_body(data) {
        let pkt = c.encode(&net, &[0; 32]);
        assert_eq!(Chnk::decode_body(&pkt[7..]).ok(), Some(c));
    }
});
