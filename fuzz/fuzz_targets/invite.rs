//! Fuzz the Lichen invite decoder: any string (and any beacon data part) must decode or fail
//! cleanly, and whatever decodes must re-encode to the same invite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::invite::Invite;
use moneysocket::beacon::v1::Beacon;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(invite) = Invite::decode(s) {
            let again = Invite::decode(&invite.encode()).expect("re-decodes");
            assert_eq!(again, invite);
        }
    }
    if let Ok(beacon) = Beacon::decode_bytes(data) {
        if let Ok(invite) = Invite::from_beacon(beacon) {
            let again = Invite::decode(&invite.encode()).expect("re-decodes");
            assert_eq!(again.inviter(), invite.inviter());
            assert_eq!(again.alias(), invite.alias());
        }
    }
});
