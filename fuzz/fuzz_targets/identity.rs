//! Text a user or another app hands us: feed-id forms and key files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::{FeedId, Identity};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(fid) = s.parse::<FeedId>() {
            assert_eq!(fid.to_ref().parse::<FeedId>().ok(), Some(fid));
            let _ = fid.key();
        }
        let _ = Identity::from_key_file(s);
    }
});
