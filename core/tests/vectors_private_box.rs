//! Every vector in `vectors/private-box.json`: sealing with the recorded randomness gives the
//! recorded bytes, every recipient opens, non-recipients and altered boxes fail with an error
//! value, and the 8th recipient is refused when sealing (and, as deployed, never tried when
//! opening).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{arr, hx, load, tagged};
use lichen::chat::private_box::{self, BoxError, Opener, Randomness, MAX_RECIPIENTS};
use lichen::wire::bipf::{self, Value};
use lichen::{FeedId, Identity};
use zeroize::Zeroizing;

fn identities() -> Vec<(String, Identity)> {
    load("private-box.json")["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let id = Identity::from_seed(&arr(&i["ed25519_seed"]));
            assert_eq!(id.fid().to_hex(), i["ed25519_pk"].as_str().unwrap());
            assert_eq!(id.fid().to_ref(), i["ssb_ref"].as_str().unwrap());
            (i["label"].as_str().unwrap().to_owned(), id)
        })
        .collect()
}

fn fid_of(ids: &[(String, Identity)], label: &str) -> FeedId {
    *ids.iter().find(|(l, _)| l == label).unwrap().1.fid()
}

#[test]
fn every_identity_gets_what_the_android_reader_gets() {
    let ids = identities();
    let mut checked = 0;
    for v in load("private-box.json")["vectors"].as_array().unwrap() {
        let boxed = hx(&v["ciphertext"]);
        for (label, id) in &ids {
            let expected = &v["expected_decrypt_android_7_slots"][label.as_str()];
            let got = private_box::open(&boxed, id);
            match expected.as_str() {
                Some(plain) => assert_eq!(got.unwrap(), hex::decode(plain).unwrap()),
                None => assert!(got.is_err(), "{} opened for {label}", v["name"]),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 8);
}

#[test]
fn sealing_reproduces_the_vectors() {
    let ids = identities();
    for v in load("private-box.json")["vectors"].as_array().unwrap() {
        let Some(recps) = v["recipients_in_slot_order"].as_array() else {
            continue;
        };
        let recps: Vec<FeedId> = recps
            .iter()
            .map(|r| fid_of(&ids, r.as_str().unwrap()))
            .collect();
        let rnd = Randomness {
            nonce: arr(&v["nonce"]),
            dek: Zeroizing::new(arr(&v["dek"])),
            ephemeral_seed: Zeroizing::new(arr(&v["ephemeral_ed25519_seed"])),
        };
        let plain = hx(&v["plaintext"]);
        assert_eq!(bipf::decode(&plain).unwrap(), tagged(&v["plaintext_bipf"]));
        if recps.len() > MAX_RECIPIENTS {
            assert_eq!(
                private_box::seal_with(&plain, &recps, &rnd),
                Err(BoxError::TooManyRecipients(recps.len()))
            );
            continue;
        }
        let boxed = private_box::seal_with(&plain, &recps, &rnd).unwrap();
        assert_eq!(hex::encode(&boxed), v["ciphertext"].as_str().unwrap());
        assert_eq!(boxed.len() as u64, v["ciphertext_len"].as_u64().unwrap());
        // What the app publishes: the box as a BIPF BYTES item.
        assert_eq!(
            hex::encode(Value::Bytes(boxed).encode()),
            v["app_entry_content"].as_str().unwrap()
        );
    }
}

#[test]
fn the_eighth_recipient_is_never_tried() {
    let ids = identities();
    let v = &load("private-box.json")["vectors"][3];
    assert_eq!(v["name"], "eight_recipients_android_limit");
    let boxed = hx(&v["ciphertext"]);
    let id1 = &ids[0].1;
    assert_eq!(private_box::open(&boxed, id1), Err(BoxError::NotForMe));
    for (_, id) in &ids[1..] {
        assert_eq!(
            private_box::open(&boxed, id).unwrap(),
            hx(&v["plaintext"]),
            "slots 1..7 open"
        );
    }
}

#[test]
fn altered_boxes_fail_with_a_reason() {
    let ids = identities();
    let opener = Opener::new(&ids[0].1);
    let vs = load("private-box.json")["vectors"].clone();
    let tampered = hx(&vs[4]["ciphertext"]);
    let truncated = hx(&vs[5]["ciphertext"]);
    assert_eq!(opener.open(&tampered), Err(BoxError::BodyMac));
    assert!(matches!(
        opener.open(&truncated),
        Err(BoxError::BadCount { .. } | BoxError::BodyMac | BoxError::TooShort(_))
    ));
    // Every single-byte change makes the box fail for id1 (slot 0), except in the slot of the
    // other recipient, which id1 never needs.
    let good = hx(&vs[1]["ciphertext"]);
    let other_slot = 56 + 49..56 + 2 * 49;
    for i in (0..good.len()).filter(|i| !other_slot.contains(i)) {
        let mut bad = good.clone();
        bad[i] ^= 0x40;
        assert!(opener.open(&bad).is_err(), "byte {i} flipped still opens");
    }
    for n in 0..good.len() {
        assert!(
            opener.open(&good[..n]).is_err(),
            "prefix of {n} bytes opens"
        );
    }
}
