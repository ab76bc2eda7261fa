//! BIPF decoding in both integer modes; whatever decodes re-encodes canonically and decodes
//! back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::wire::bipf::{self, IntMode};

fuzz_target!(|data: &[u8]| {
    for mode in [IntMode::Signed, IntMode::Unsigned] {
        if let Ok(v) = bipf::decode_with(data, mode) {
            let again = v.encode();
            assert_eq!(again.len(), v.encoded_len());
            if mode == IntMode::Signed {
                // NaN is the one value that is not equal to itself.
                if let Ok(back) = bipf::decode(&again) {
                    assert!(back == v || format!("{v}").contains("NaN"));
                } else {
                    panic!("canonical re-encoding failed to decode");
                }
            }
        }
    }
    let _ = bipf::decode_prefix(data, IntMode::Signed);
});
