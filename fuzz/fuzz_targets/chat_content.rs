//! Chat entry content: any bytes decode to an app entry (never a panic), both as they are and
//! wrapped in a private box addressed to the reader, and private boxes open or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lichen::chat::content::{self, AppEntry};
use lichen::chat::private_box::{self, Opener, Randomness};
use lichen::wire::bipf::Value;
use lichen::Identity;
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let me = Identity::from_seed(&[7; 32]);
    let opener = Opener::new(&me);
    let _ = content::decode(data, Some(&opener));
    let _ = opener.open(data);
    // The same bytes as the plaintext of a box to me: it opens, and reads like the public form.
    let rnd = Randomness {
        nonce: [1; 24],
        dek: Zeroizing::new([2; 32]),
        ephemeral_seed: Zeroizing::new([3; 32]),
    };
    let Ok(boxed) = private_box::seal_with(data, &[*me.fid()], &rnd) else {
        panic!("sealing to one recipient failed");
    };
    assert_eq!(opener.open(&boxed).as_deref(), Ok(data));
    let sealed = content::decode(&Value::Bytes(boxed).encode(), Some(&opener));
    assert!(sealed.confidential);
    assert!(!matches!(sealed.entry, AppEntry::Sealed));
});
