//! Lichen invites are v1 beacons that stock decoders read: the plain Moneysocket decoder keeps
//! and re-emits Lichen's records byte for byte, and the invite decoder refuses what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::invite::{
    relay_location, Invite, InviteError, ALIAS_TYPE, HRP, INVITER_TYPE, NETWORK_KEY_TYPE,
};
use lichen::FeedId;
use moneysocket::beacon::v1::Beacon;
use moneysocket::tlv::Record;
use moneysocket::AnyBeacon;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn invite(alias: Option<&str>, key: Option<&[u8]>) -> Invite {
    Invite::new(
        FeedId([0xab; 32]),
        alias,
        key,
        relay_location("wss://relay.example.org:8443/lichen").unwrap(),
        &mut ChaCha20Rng::seed_from_u64(7),
    )
    .unwrap()
}

#[test]
fn stock_v1_decoder_reads_and_reemits_lichen_records() {
    let inv = invite(Some("Ana 🌿"), Some(b"village-net"));
    let s = inv.encode();
    assert!(s.starts_with("moneysocket-lichen1"), "{s}");

    let plain = Beacon::decode(&s).unwrap();
    assert_eq!(plain.hrp, HRP);
    assert_eq!(plain.locations.len(), 1);
    assert_eq!(
        plain.unknown_tlvs,
        vec![
            Record::new(INVITER_TYPE, vec![0xab; 32]),
            Record::new(ALIAS_TYPE, "Ana 🌿".as_bytes().to_vec()),
            Record::new(NETWORK_KEY_TYPE, b"village-net".to_vec()),
        ]
    );
    // Re-emitted byte for byte: same string, and the records' exact bytes in the data part.
    assert_eq!(plain.encode().unwrap(), s);
    let data = plain.to_bytes();
    let mut tail = Vec::new();
    for r in &plain.unknown_tlvs {
        r.encode_into(&mut tail);
    }
    assert!(data.ends_with(&tail));
    assert_eq!(&tail[..6], &[0xfe, 0x4c, 0x49, 0x43, 0x01, 32]);
    // Through the any-generation decoder too, and from the QR form.
    assert!(matches!(AnyBeacon::decode(&s).unwrap(), AnyBeacon::V1(_)));
    assert_eq!(Invite::decode(&inv.encode_qr()).unwrap(), inv);
    assert_eq!(Invite::decode(&s).unwrap(), inv);
    assert_eq!(inv.inviter(), &FeedId([0xab; 32]));
    assert_eq!(inv.alias(), Some("Ana 🌿"));
    assert_eq!(inv.network_key(), Some(&b"village-net"[..]));
    let t = inv.target();
    assert_eq!(t.url(), "wss://relay.example.org:8443/lichen");
    assert_eq!(t.rid, plain.shared_seed.v1_rendezvous_id());
}

#[test]
fn other_unknown_records_ride_along() {
    let inv = invite(None, None);
    let mut b = inv.beacon().clone();
    b.unknown_tlvs.insert(0, Record::new(7, vec![1, 2, 3]));
    b.unknown_tlvs.push(Record::new(0x4c49_4307, vec![9]));
    let s = b.encode().unwrap();
    let back = Invite::decode(&s).unwrap();
    assert_eq!(back.beacon().unknown_tlvs, b.unknown_tlvs);
    assert_eq!(back.encode(), s);
}

#[test]
fn each_seed_is_fresh() {
    let rid = |_| {
        Invite::new(
            FeedId([1; 32]),
            None,
            None,
            relay_location("ws://localhost:9").unwrap(),
            &mut rand_core::OsRng,
        )
        .unwrap()
        .target()
        .rid
    };
    assert_ne!(rid(0), rid(1));
}

fn with_records(records: Vec<Record>) -> String {
    let mut b = invite(None, None).beacon().clone();
    b.unknown_tlvs = records;
    b.encode().unwrap()
}

#[test]
fn broken_lichen_records_are_refused_with_reasons() {
    let fid = Record::new(INVITER_TYPE, vec![1; 32]);
    let cases = vec![
        (vec![], InviteError::NoInviter),
        (
            vec![fid.clone(), fid.clone()],
            InviteError::Duplicate(INVITER_TYPE),
        ),
        (
            vec![Record::new(INVITER_TYPE, vec![1; 31])],
            InviteError::InviterLength(31),
        ),
        (
            vec![fid.clone(), Record::new(ALIAS_TYPE, vec![0xff, 0xfe])],
            InviteError::BadAlias,
        ),
        (
            vec![fid.clone(), Record::new(ALIAS_TYPE, b"\x1b[2J".to_vec())],
            InviteError::BadAlias,
        ),
        (
            vec![fid.clone(), Record::new(ALIAS_TYPE, vec![b'a'; 65])],
            InviteError::BadAlias,
        ),
        (
            vec![fid.clone(), Record::new(NETWORK_KEY_TYPE, vec![0; 33])],
            InviteError::NetworkKeyLength(33),
        ),
        (
            vec![fid, Record::new(NETWORK_KEY_TYPE, vec![])],
            InviteError::NetworkKeyLength(0),
        ),
    ];
    for (records, want) in cases {
        let s = with_records(records);
        // Still a valid beacon for the plain decoder...
        assert!(Beacon::decode(&s).is_ok());
        // ...but not a Lichen invite, and the error says why.
        assert_eq!(Invite::decode(&s), Err(want.clone()));
        assert!(!want.to_string().is_empty());
    }
    assert!(matches!(
        Invite::decode("moneysocket1qq"),
        Err(InviteError::Beacon(_))
    ));
    assert!(Invite::new(
        FeedId([1; 32]),
        Some(""),
        None,
        relay_location("ws://localhost:9").unwrap(),
        &mut rand_core::OsRng
    )
    .is_err());
}

proptest! {
    #[test]
    fn invites_round_trip(
        fid in any::<[u8; 32]>(),
        alias in proptest::option::of("[a-zA-Z0-9 äöü🌿]{1,16}"),
        key in proptest::option::of(prop::collection::vec(any::<u8>(), 1..=32)),
        port in 1u16..,
        tls in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let loc = relay_location(&format!("{}://relay.example:{port}", if tls { "wss" } else { "ws" })).unwrap();
        let inv = Invite::new(FeedId(fid), alias.as_deref(), key.as_deref(), loc, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        let s = inv.encode();
        prop_assert_eq!(Invite::decode(&s).unwrap(), inv.clone());
        prop_assert_eq!(Beacon::decode(&s).unwrap().encode().unwrap(), s);
        prop_assert_eq!(inv.inviter(), &FeedId(fid));
    }

    #[test]
    fn the_invite_decoder_never_panics(s in "moneysocket[a-z0-9-]{0,3}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{0,120}") {
        let _ = Invite::decode(&s);
    }
}
