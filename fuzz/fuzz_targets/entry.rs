//! A 120-byte packet offered as the next entry of a feed, and as a chain20 payload with its
//! side chain: verification, payload parsing and chunk reassembly never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::wire::entry::{self, first_prev, Entry};
use lichen::wire::network::Network;
use lichen::wire::sidechain::{Chain20, Reassembly};
use lichen::Identity;

fuzz_target!(|data: &[u8]| {
    let net = Network::deployed();
    let me = Identity::from_seed(&[7; 32]);
    let Ok(key) = me.fid().key() else { return };
    let _ = entry::verify(&net, &key, 1, &first_prev(me.fid()), data);
    let pkts: Vec<&[u8]> = data.chunks(120).collect();
    let _ = entry::verify_run(&net, &key, 1, first_prev(me.fid()), &pkts);
    if let Some(head) = data.get(..120) {
        if let Ok(e) = Entry::from_bytes(head) {
            if let Ok(h) = Chain20::parse(e.payload()) {
                let _ = h.chunk_count();
                let mut r = Reassembly::new(&h);
                for c in data.get(120..).unwrap_or_default().chunks(120) {
                    if r.push(c).is_err() {
                        break;
                    }
                }
                let _ = r.content();
            }
        }
    }
});
