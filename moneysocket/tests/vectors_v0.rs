//! Deployed-generation vectors (`moneysocket-v0.json`): 11 beacons, 5 beacon
//! decode errors, 5 seed derivations (+ sanity rows), 4 encrypted messages
//! and 1 cleartext rendezvous message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{int, At};
use moneysocket::beacon::v0::{Beacon, Location};
use moneysocket::error::{TlvError, V0BeaconError as E};
use moneysocket::json::Json;
use moneysocket::rendezvous::RendezvousMessage;
use moneysocket::uuid::Uuid;
use moneysocket::v0::{self, Frame, Message};
use moneysocket::{AnyBeacon, SharedSeed};
use sha2::{Digest, Sha256};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-v0.json"
));

fn expected_location(l: &Json) -> Location {
    match l.s("type") {
        "WebSocket" => Location::WebSocket {
            host: l.s("host").to_owned(),
            use_tls: l.at("use_tls").as_bool().unwrap(),
            port: int(l, "port") as u16,
        },
        "WebRTC" => Location::WebRtc(l.s("placeholder_string").to_owned()),
        "Bluetooth" => Location::Bluetooth(l.s("placeholder_string").to_owned()),
        "NFC" => Location::Nfc(l.s("placeholder_string").to_owned()),
        other => panic!("location type {other}"),
    }
}

#[test]
fn beacons() {
    let file = common::load(VECTORS);
    let beacons = file.arr("beacons");
    assert_eq!(beacons.len(), 11);
    for v in beacons {
        let name = v.s("description");
        let s = v.s("beacon");
        assert_eq!(s.len() as i128, int(v, "beacon_len"));
        let seed: SharedSeed = v.s("shared_seed").parse().unwrap();
        let locations: Vec<Location> = v.arr("locations").iter().map(expected_location).collect();
        let want = Beacon::new(seed.clone(), locations);

        assert_eq!(want.to_bytes(), v.hex("tlv_bytes"), "{name}: bytes");
        assert_eq!(want.encode().unwrap(), s, "{name}: encode");
        let got = Beacon::decode(s).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}: decode");
        assert_eq!(
            Beacon::decode(&s.to_uppercase()).unwrap(),
            want,
            "{name}: QR"
        );
        assert_eq!(want.encode_qr().unwrap(), s.to_uppercase());
        assert_eq!(AnyBeacon::decode(s).unwrap(), AnyBeacon::V0(want));
        assert_eq!(
            hex::encode(seed.v0_aes_key().as_bytes()),
            v.s("aes256_key_v0")
        );
        assert_eq!(seed.v0_rendezvous_id().to_string(), v.s("rendezvous_id_v0"));
    }
}

fn matches_reference(err: &E, text: &str) -> bool {
    match text {
        "could not decode bech32 string" => matches!(err, E::Bech32(_)),
        "string is not a moneysocket beacon" => matches!(err, E::WrongHrp(_)),
        "got unexpected tlv type" => matches!(err, E::UnexpectedType(_)),
        "unknown location type" => matches!(err, E::UnknownLocationType(_)),
        "value truncated" => matches!(err, E::Tlv(TlvError::ValueTruncated { .. })),
        other => panic!("unmapped reference error {other:?}"),
    }
}

#[test]
fn beacon_decode_errors() {
    let file = common::load(VECTORS);
    let vectors = file.at("beacon_decode_errors").arr("vectors");
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let name = v.s("description");
        let err = Beacon::decode(v.s("beacon")).expect_err(name);
        assert!(
            matches_reference(&err, v.s("python_v0_error")),
            "{name}: got {err:?}"
        );
    }
}

#[test]
fn seed_derivations() {
    let file = common::load(VECTORS);
    let d = file.at("seed_derivations");
    let vectors = d.arr("vectors");
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let seed: SharedSeed = v.s("shared_seed").parse().unwrap();
        if let Some(ascii) = v.at("shared_seed_ascii").as_str() {
            assert_eq!(seed.as_bytes(), ascii.as_bytes());
        }
        let beacon = Beacon::new(seed.clone(), vec![]);
        let bytes = beacon.to_bytes();
        let seed_tlv = v.hex("seed_tlv_v0");
        assert!(bytes.windows(seed_tlv.len()).any(|w| w == seed_tlv));
        assert_eq!(
            hex::encode(seed.v0_aes_key().as_bytes()),
            v.s("aes256_key_v0")
        );
        assert_eq!(seed.v0_rendezvous_id().to_string(), v.s("rendezvous_id_v0"));
        assert_eq!(
            hex::encode(seed.v1_aes_key().as_bytes()),
            v.s("aes256_key_v1_spec")
        );
        assert_eq!(
            seed.v1_rendezvous_id().to_string(),
            v.s("rendezvous_id_v1_spec")
        );
    }
    let sanity = d.at("sanity");
    let once = Sha256::digest(sanity.s("input_ascii").as_bytes());
    assert_eq!(hex::encode(once), sanity.s("sha256"));
    assert_eq!(hex::encode(Sha256::digest(once)), sanity.s("double_sha256"));
}

#[test]
fn encrypted_messages() {
    let file = common::load(VECTORS);
    let vectors = file.arr("encrypted_messages");
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let name = v.s("name");
        let seed: SharedSeed = v.s("shared_seed").parse().unwrap();
        let key = seed.v0_aes_key();
        assert_eq!(hex::encode(key.as_bytes()), v.s("aes256_key"), "{name}");
        let plaintext = v.s("plaintext_json").as_bytes();
        assert_eq!(plaintext.len() as i128, int(v, "plaintext_len"));
        let wire = v.hex("wire");
        assert_eq!(wire.len() as i128, int(v, "wire_len"));
        assert_eq!(
            (wire.len() - 16 - plaintext.len()) as i128,
            int(v, "zero_pad_len")
        );
        let iv: [u8; 16] = v.hex("iv").try_into().unwrap();

        assert_eq!(
            v0::encrypt_with_iv(&key, iv, plaintext),
            wire,
            "{name}: encrypt"
        );
        assert_eq!(
            v0::decrypt(&key, &wire).unwrap(),
            plaintext,
            "{name}: decrypt"
        );

        let frame = v0::decode_wire(&wire, Some(&key)).unwrap();
        let Frame::Decrypted(message) = frame else {
            panic!("{name}: expected ciphertext")
        };
        // Re-serialising reproduces Python's bytes exactly.
        assert_eq!(message.to_json_bytes(), plaintext, "{name}: JSON");
        assert_eq!(
            v0::encode_wire(&message, Some(&key), iv),
            wire,
            "{name}: wire"
        );
        assert!(!message.must_be_cleartext());
        // Without the key, or with the wrong one, it does not decode.
        assert!(v0::decode_wire(&wire, None).is_err());
        let other = SharedSeed::from_bytes([0; 16]).v0_aes_key();
        assert!(v0::decode_wire(&wire, Some(&other)).is_err());
    }
}

#[test]
fn cleartext_rendezvous_message() {
    let file = common::load(VECTORS);
    let vectors = file.arr("cleartext_messages");
    assert_eq!(vectors.len(), 1);
    for v in vectors {
        let seed: SharedSeed = v.s("shared_seed").parse().unwrap();
        let key = seed.v0_aes_key();
        let wire = v.hex("wire");
        assert_eq!(wire, v.s("wire_utf8").as_bytes());
        let frame = v0::decode_wire(&wire, Some(&key)).unwrap();
        let Frame::Clear(message) = frame else {
            panic!("expected cleartext")
        };
        assert!(message.must_be_cleartext());
        let rid = seed.v0_rendezvous_id();
        assert_eq!(rid.to_string(), v.s("rendezvous_id"));
        assert_eq!(message.rendezvous_id(), Some(rid));
        // Even with a key, a rendezvous message goes out in clear.
        assert_eq!(v0::encode_wire(&message, Some(&key), [7; 16]), wire);
        let Some(RendezvousMessage::Request { request_uuid, .. }) =
            RendezvousMessage::from_message(&message)
        else {
            panic!("not a rendezvous request")
        };
        let rebuilt = Message::request_rendezvous(
            message.timestamp(),
            Uuid::parse(&request_uuid).unwrap(),
            &rid,
        );
        assert_eq!(rebuilt.to_json_bytes(), wire);
        // An encrypted rendezvous message is refused.
        let sneaky = v0::encrypt_with_iv(&key, [1; 16], &wire);
        assert!(v0::decode_wire(&sneaky, Some(&key)).is_err());
    }
}
