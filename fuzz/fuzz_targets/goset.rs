//! GOset packets: decode under the deployed GOset DMX; a decoded claim re-encodes to the
//! same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::wire::goset::{self, GosetPacket};
use lichen::wire::network::Network;

fuzz_target!(|data: &[u8]| {
    let net = Network::deployed();
    let mut pkt = net.goset_dmx().0.to_vec();
    pkt.extend_from_slice(data);
    for candidate in [&pkt[..], data] {
        if let Ok(GosetPacket::Claim(c)) = goset::decode(&net, candidate) {
            assert_eq!(&c.encode(&net)[..], candidate);
        }
    }
});
