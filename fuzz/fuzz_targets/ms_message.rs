//! Fuzz the v1 message framing decoder and the v0 JSON/AES frame decoder
//! (with a fixed key); what decodes must re-encode to an equal message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moneysocket::message::Message;
use moneysocket::{v0, SharedSeed};

/// A clock far enough ahead that timestamps are judged consistently.
const NOW: f64 = 2_000_000_000.0;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode_at(data, NOW) {
        let again = message.encode();
        assert_eq!(
            Message::decode_at(&again, NOW).expect("re-decodes"),
            message
        );
    }
    let key = SharedSeed::from_bytes(*b"hello from light").v0_aes_key();
    if let Ok(frame) = v0::decode_wire(data, Some(&key)) {
        let message = frame.into_message();
        let wire = v0::encode_wire(&message, Some(&key), [0x5a; 16]);
        let back = v0::decode_wire(&wire, Some(&key)).expect("re-decodes");
        assert_eq!(back.message(), &message);
    }
    let _ = v0::decode_wire(data, None);
});
