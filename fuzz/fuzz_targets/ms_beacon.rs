//! Fuzz the v0 and v1 beacon decoders: any string must decode or fail
//! cleanly, and whatever decodes must survive encode → decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moneysocket::beacon::{v0, v1};
use moneysocket::AnyBeacon;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(beacon) = v1::Beacon::decode(s) {
        let again = beacon.encode().expect("a decoded v1 beacon encodes");
        assert_eq!(v1::Beacon::decode(&again).expect("re-decodes"), beacon);
    }
    if let Ok(beacon) = v0::Beacon::decode(s) {
        let again = beacon.encode().expect("a decoded v0 beacon encodes");
        assert_eq!(v0::Beacon::decode(&again).expect("re-decodes"), beacon);
    }
    let _ = v1::Beacon::decode_qr(s);
    if let Ok(beacon) = AnyBeacon::decode(s) {
        let again = beacon.encode().expect("a decoded beacon encodes");
        assert_eq!(AnyBeacon::decode(&again).expect("re-decodes"), beacon);
    }
});
