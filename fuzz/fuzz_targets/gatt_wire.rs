//! The dongle emulator's GATT-over-socket messages: splitting a stream and decoding bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::ble::gatt_wire::{split, Msg};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((used, msg))) = split(rest) {
        if let Ok(m) = msg {
            // What decodes re-encodes to the same bytes.
            assert_eq!(m.encode(), rest[..used].to_vec());
        }
        rest = &rest[used..];
    }
    let _ = Msg::decode(data);
});
