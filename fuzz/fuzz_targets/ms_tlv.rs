//! Fuzz the BigSize and TLV decoders; what decodes must re-encode to the
//! same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moneysocket::bigsize;
use moneysocket::tlv::{self, TlvStream};

fuzz_target!(|data: &[u8]| {
    if let Ok((value, rest)) = bigsize::decode(data) {
        let used = data.len() - rest.len();
        assert_eq!(bigsize::encode(value), &data[..used]);
    }
    if let Ok(records) = tlv::records(data) {
        let again: Vec<u8> = records
            .iter()
            .flat_map(|r| tlv::encode(r.tlv_type, r.value))
            .collect();
        assert_eq!(again, data);
    }
    if let Ok(stream) = TlvStream::decode(data) {
        assert_eq!(stream.encode(), data);
        let _ = stream.check_unknown_even(&[0, 1, 2]);
    }
});
