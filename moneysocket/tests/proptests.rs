//! Property tests: round-trips for every codec, and "decoders never panic"
//! on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use moneysocket::beacon::{v0 as b0, v1 as b1};
use moneysocket::json::{Json, Number};
use moneysocket::message::Message;
use moneysocket::provider_info::ProviderInfo;
use moneysocket::rendezvous::{Action, Matchmaker};
use moneysocket::tlv::{self, Record, TlvStream};
use moneysocket::uuid::Uuid;
use moneysocket::wad::{NonBtc, Wad};
use moneysocket::{bech32, bigsize, iso4217, v0, AnyBeacon, RendezvousId, SharedSeed, Version};
use proptest::prelude::*;

fn seed() -> impl Strategy<Value = SharedSeed> {
    any::<[u8; 16]>().prop_map(SharedSeed::from_bytes)
}

fn hostname() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9](\\.[a-z][a-z0-9]{0,8}){0,2}"
}

fn websocket() -> impl Strategy<Value = b1::WebSocketLocation> {
    (
        any::<u8>(),
        hostname(),
        any::<bool>(),
        any::<u16>(),
        "[a-z0-9/._-]{0,10}",
    )
        .prop_map(
            |(preference, hostname, use_tls, port, path)| b1::WebSocketLocation {
                preference,
                hostname,
                use_tls,
                port,
                path,
            },
        )
}

fn v1_location() -> impl Strategy<Value = b1::Location> {
    prop_oneof![
        3 => websocket().prop_map(b1::Location::WebSocket),
        1 => (1u64..100_000, prop::collection::vec(any::<u8>(), 0..12))
            .prop_map(|(tlv_type, value)| b1::Location::Unknown { tlv_type, value }),
    ]
}

fn v1_beacon() -> impl Strategy<Value = b1::Beacon> {
    (
        "(-[a-z0-9]{1,8})?",
        any::<[u8; 3]>(),
        prop::option::of(0u8..3),
        seed(),
        websocket(),
        prop::collection::vec(v1_location(), 0..3),
        prop::collection::vec(
            (any::<u64>(), prop::collection::vec(any::<u8>(), 0..8)),
            0..3,
        ),
    )
        .prop_map(|(suffix, v, hint, seed, first, more, unknown)| {
            let mut locations = vec![b1::Location::WebSocket(first)];
            locations.extend(more);
            b1::Beacon {
                hrp: format!("moneysocket{suffix}"),
                version: Version::new(v[0], v[1], v[2]),
                role_hint: hint.and_then(b1::RoleHint::from_byte),
                shared_seed: seed,
                locations,
                unknown_tlvs: unknown
                    .into_iter()
                    .map(|(t, v)| Record::new(t, v))
                    .collect(),
            }
        })
}

fn v0_location() -> impl Strategy<Value = b0::Location> {
    prop_oneof![
        ("[a-z0-9.]{1,20}", any::<bool>(), any::<u16>()).prop_map(|(host, use_tls, port)| {
            b0::Location::WebSocket {
                host,
                use_tls,
                port,
            }
        }),
        ".{0,12}".prop_map(b0::Location::WebRtc),
        ".{0,12}".prop_map(b0::Location::Bluetooth),
        ".{0,12}".prop_map(b0::Location::Nfc),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-1e12f64..1e12).prop_map(|f| Number::from_f64(f).unwrap()),
    ]
}

fn non_btc() -> impl Strategy<Value = NonBtc> {
    let code = prop_oneof![
        Just((String::new(), None)),
        "[A-Z]{3,12}"
            .prop_filter("not an ISO code", |c| iso4217::number_of(c).is_none())
            .prop_map(|c| (c, None)),
        prop::sample::select(iso4217::CURRENCIES)
            .prop_map(|(c, n)| (c.to_owned(), Some(u64::from(n)))),
    ];
    (
        number(),
        ".{1,20}",
        code,
        ".{0,6}",
        prop::option::of((0u32..2_000_000_000).prop_map(Number::from)),
        prop::option::of(0u8..=12),
    )
        .prop_map(
            |(units, name, (code, iso_num), symbol, rate_timestamp, fmt_decimals)| NonBtc {
                units,
                name,
                code,
                symbol,
                rate_timestamp,
                iso_num,
                fmt_decimals,
            },
        )
}

proptest! {
    #[test]
    fn bigsize_round_trip(v in any::<u64>()) {
        let bytes = bigsize::encode(v);
        prop_assert_eq!(bytes.len(), bigsize::encoded_len(v));
        prop_assert_eq!(bigsize::decode(&bytes).unwrap(), (v, &[][..]));
    }

    #[test]
    fn bigsize_decode_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..12)) {
        if let Ok((v, rest)) = bigsize::decode(&bytes) {
            let used = bytes.len() - rest.len();
            prop_assert_eq!(bigsize::encode(v), bytes[..used].to_vec());
        }
    }

    #[test]
    fn tlv_stream_round_trip(
        records in prop::collection::btree_map(any::<u64>(), prop::collection::vec(any::<u8>(), 0..40), 0..8)
    ) {
        let mut stream = TlvStream::new();
        for (t, v) in &records {
            stream.push(Record::new(*t, v.clone())).unwrap();
        }
        let bytes = stream.encode();
        let back = TlvStream::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &stream);
        prop_assert_eq!(back.encode(), bytes);
        for (t, v) in &records {
            prop_assert_eq!(back.get(*t), Some(v.as_slice()));
        }
    }

    #[test]
    fn tlv_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(stream) = TlvStream::decode(&bytes) {
            prop_assert_eq!(stream.encode(), bytes.clone());
        }
        if let Ok(records) = tlv::records(&bytes) {
            let again: Vec<u8> = records.iter().flat_map(|r| tlv::encode(r.tlv_type, r.value)).collect();
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn v1_beacon_round_trip(beacon in v1_beacon()) {
        let s = beacon.encode().unwrap();
        let back = b1::Beacon::decode(&s).unwrap();
        prop_assert_eq!(&back, &beacon);
        prop_assert_eq!(back.encode().unwrap(), s.clone());
        prop_assert_eq!(b1::Beacon::decode(&s.to_uppercase()).unwrap(), beacon);
    }

    #[test]
    fn v0_beacon_round_trip(seed in seed(), locations in prop::collection::vec(v0_location(), 0..4)) {
        let beacon = b0::Beacon::new(seed, locations);
        let s = beacon.encode().unwrap();
        let back = b0::Beacon::decode(&s).unwrap();
        prop_assert_eq!(&back, &beacon);
        prop_assert_eq!(back.encode().unwrap(), s.clone());
        prop_assert_eq!(AnyBeacon::decode(&s).unwrap(), AnyBeacon::V0(beacon));
    }

    #[test]
    fn beacon_decoders_never_panic(s in ".{0,300}") {
        let _ = b0::Beacon::decode(&s);
        let _ = b1::Beacon::decode(&s);
        let _ = b1::Beacon::decode_qr(&s);
        let _ = AnyBeacon::decode(&s);
    }

    #[test]
    fn beacon_decoders_never_panic_on_valid_bech32(
        data in prop::collection::vec(any::<u8>(), 1..120),
        first in prop_oneof![Just(0x00u8), Just(0xfeu8), any::<u8>()],
    ) {
        let mut data = data;
        data[0] = first;
        let s = bech32::encode("moneysocket", &data).unwrap();
        for decoded in [b1::Beacon::decode(&s).map(AnyBeacon::V1).ok(), b0::Beacon::decode(&s).map(AnyBeacon::V0).ok()].into_iter().flatten() {
            // Whatever decodes must re-encode and decode to the same value.
            if let Ok(again) = decoded.encode() {
                prop_assert_eq!(AnyBeacon::decode(&again).unwrap(), decoded);
            }
        }
    }

    #[test]
    fn wad_round_trip(msat in number(), non_btc in prop::option::of(non_btc())) {
        let wad = Wad { msat, non_btc };
        let text = wad.to_json().to_python_string();
        let back = Wad::from_json(&Json::parse(text.as_bytes()).unwrap()).unwrap();
        prop_assert_eq!(&back, &wad);
        let _ = back.to_string();
    }

    #[test]
    fn v1_message_round_trip(
        v in any::<[u8; 3]>(),
        ts in 0u32..2_000_000_000,
        frac in 0u8..100,
        id in any::<[u8; 16]>(),
        pong in any::<bool>(),
        extra in prop::collection::vec((3u64..1000, prop::collection::vec(any::<u8>(), 0..8)), 0..3),
    ) {
        let version = Version::new(v[0], v[1], v[2]);
        let ts = f64::from(ts) + f64::from(frac) / 100.0;
        let uuid = Uuid::new_v4(id);
        let mut m = if pong {
            Message::transport_pong(version, ts, uuid)
        } else {
            Message::transport_ping(version, ts, uuid)
        };
        m.additional_tlvs = extra.into_iter().map(|(t, v)| Record::new(t, v)).collect();
        let bytes = m.encode();
        let back = Message::decode_at(&bytes, 3e9).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn v0_message_and_codec_round_trip(
        name in "[A-Z_]{1,20}",
        field in ".{0,40}",
        ts in 0u32..2_000_000_000,
        id in any::<[u8; 16]>(),
        seed in seed(),
        iv in any::<[u8; 16]>(),
    ) {
        let m = v0::Message::request(&name, f64::from(ts), Uuid::new_v4(id))
            .with_field("lichen_field", Json::str(field));
        if m.validate().is_ok() {
            let json = m.to_json_bytes();
            prop_assert_eq!(&v0::Message::from_json_bytes(&json).unwrap(), &m);
            let key = seed.v0_aes_key();
            let wire = v0::encode_wire(&m, Some(&key), iv);
            let frame = v0::decode_wire(&wire, Some(&key)).unwrap();
            prop_assert_eq!(frame.message(), &m);
        }
    }

    #[test]
    fn message_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), seed in seed()) {
        let _ = Message::decode_at(&bytes, 1.7e9);
        let _ = v0::decode_wire(&bytes, Some(&seed.v0_aes_key()));
        let _ = v0::decode_wire(&bytes, None);
        if let Ok(json) = Json::parse(&bytes) {
            let _ = Wad::from_json(&json);
            let _ = ProviderInfo::from_json(&json);
        }
    }

    #[test]
    fn matchmaker_invariants(events in prop::collection::vec((0u8..6, 0u8..3, any::<bool>()), 0..60)) {
        let mut m: Matchmaker<u8> = Matchmaker::new();
        for (conn, rid, connect) in events {
            let actions = if connect {
                m.request(conn, RendezvousId::from_bytes([rid; 32]), "r")
            } else {
                m.disconnect(conn)
            };
            for a in &actions {
                if let Action::Paired { waiting, arrived } = a {
                    prop_assert_eq!(m.peer(*waiting), Some(*arrived));
                    prop_assert_eq!(m.peer(*arrived), Some(*waiting));
                }
            }
            prop_assert_eq!(m.paired_count() % 2, 0);
            prop_assert!(m.waiting_count() <= 3);
        }
    }
}
