//! RFC beacon vectors (`moneysocket-rfc-02-beacon.json`): 4 encode/decode
//! round-trips and 44 decode errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{int, At};
use moneysocket::beacon::v1::{Beacon, Location, RoleHint, WebSocketLocation};
use moneysocket::error::{BeaconError as B, BigSizeError, WebSocketError as W};
use moneysocket::json::Json;
use moneysocket::tlv::Record;
use moneysocket::{bech32, SharedSeed, Version};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/moneysocket-rfc-02-beacon.json"
));

fn expected_beacon(d: &Json) -> Beacon {
    let v = d.at("generator_version");
    let role_hint = match d.at("role_hint").as_str() {
        None => None,
        Some("PROVIDER_GENERATOR_SEEKING_CONSUMER") => Some(RoleHint::ProviderSeekingConsumer),
        Some("CONSUMER_GENERATOR_SEEKING_PROVIDER") => Some(RoleHint::ConsumerSeekingProvider),
        Some("AUTOMATIC_GENERATOR") => Some(RoleHint::Automatic),
        Some(other) => panic!("role hint {other}"),
    };
    let locations = d
        .arr("locations")
        .iter()
        .map(|l| match l.s("location_type") {
            "WebSocket" => Location::WebSocket(WebSocketLocation {
                preference: int(l, "generator_preference") as u8,
                hostname: l.s("hostname").to_owned(),
                use_tls: l.at("use_tls").as_bool().unwrap(),
                port: int(l, "port") as u16,
                path: l.s("path").to_owned(),
            }),
            "Unknown" => Location::Unknown {
                tlv_type: int(l, "tlv_type") as u64,
                value: l.hex("bytes"),
            },
            other => panic!("location type {other}"),
        })
        .collect();
    let unknown_tlvs = d
        .arr("unknown_tlvs")
        .iter()
        .map(|t| {
            let r = Record::new(int(t, "t") as u64, t.hex("v"));
            assert_eq!(r.value.len() as i128, int(t, "l"));
            r
        })
        .collect();
    Beacon {
        hrp: d.s("hrp").to_owned(),
        version: Version::new(
            int(v, "major") as u8,
            int(v, "minor") as u8,
            int(v, "patch") as u8,
        ),
        role_hint,
        shared_seed: d.s("shared_seed").parse::<SharedSeed>().unwrap(),
        locations,
        unknown_tlvs,
    }
}

#[test]
fn encode_decode_vectors() {
    let file = common::load(VECTORS);
    let vectors = file.arr("02-beacon-encode-decode.json");
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let name = v.s("test_name");
        let encoded = v.s("encoded");
        let want = expected_beacon(v.at("decoded"));
        assert_eq!(want.encode().unwrap(), encoded, "{name}: encode");
        let got = Beacon::decode(encoded).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}: decode");
        assert_eq!(got.encode().unwrap(), encoded, "{name}: re-encode");
        let upper = Beacon::decode(&encoded.to_uppercase()).unwrap();
        assert_eq!(upper, want, "{name}: QR upper case");
        assert_eq!(Beacon::decode_qr(&got.encode_qr().unwrap()).unwrap(), want);
        assert!(matches!(
            moneysocket::AnyBeacon::decode(encoded),
            Ok(moneysocket::AnyBeacon::V1(_))
        ));
    }
}

/// Maps the reference decoder's error text onto this crate's error values.
fn matches_reference(err: &B, text: &str) -> bool {
    match text {
        "invalid beacon TLV" => matches!(err, B::Tlv(_)),
        "unknown TLV" => matches!(
            err,
            B::UnexpectedType(_) | B::WebSocket(W::UnexpectedFirst(_))
        ),
        "unknown human readable part" => matches!(err, B::UnknownHrp(_)),
        "could not decode bech32 string" => matches!(err, B::Bech32(_)),
        "no TLVs" => matches!(err, B::Empty),
        "invalid TLVs in beacon" => matches!(err, B::InnerTlv(_)),
        "unable to decode version from bytes" => matches!(err, B::BadVersion(_)),
        "missing generator_version TLV" => matches!(err, B::MissingVersion),
        "missing shared_seed or role_hint TLV" => matches!(err, B::MissingSeedOrRoleHint),
        "unknown role_hint value" => matches!(err, B::UnknownRoleHint(_)),
        "unable to parse role_hint" => matches!(err, B::RoleHintEmpty),
        "extra role_hint bytes" => matches!(err, B::RoleHintExtraBytes),
        "missing shared_seed TLV" => matches!(err, B::MissingSeed),
        "unable to parse shared_seed_hi" => matches!(err, B::SeedLength(n) if *n < 8),
        "unable to parse shared_seed_lo" => matches!(err, B::SeedLength(n) if (8..16).contains(n)),
        "extra shared_seed bytes" => matches!(err, B::SeedLength(n) if *n > 16),
        "no locations in location_list" => matches!(err, B::NoLocations),
        "invalid location_list" => matches!(err, B::LocationListTlv(_)),
        "no known locations in location_list" => matches!(err, B::NoKnownLocations),
        "invalid websocket location TLVs" => matches!(err, B::WebSocket(W::Tlv(_))),
        "no websocket location TLVs" => matches!(err, B::WebSocket(W::Empty)),
        "unknown TLV type" => matches!(err, B::WebSocket(W::UnexpectedType(_))),
        "unable to parse generator_preference" => matches!(err, B::WebSocket(W::PreferenceEmpty)),
        "extra generator_preference bytes" => {
            matches!(err, B::WebSocket(W::PreferenceExtraBytes))
        }
        "generator_preference not minimally encoded" => {
            matches!(err, B::WebSocket(W::PreferenceNotMinimal))
        }
        "missing hostname TLV" => matches!(err, B::WebSocket(W::MissingHostname)),
        "invalid hostname" => matches!(err, B::WebSocket(W::InvalidHostname(_))),
        "error decoding hostname string" => matches!(err, B::WebSocket(W::HostnameNotUtf8)),
        "underrun while popping a u8" => matches!(err, B::WebSocket(W::UseTlsEmpty)),
        "unknown use_tls setting" => matches!(err, B::WebSocket(W::UnknownUseTls(_))),
        "extra use_tls bytes" => matches!(err, B::WebSocket(W::UseTlsExtraBytes)),
        "use_tls not minimally encoded" => matches!(err, B::WebSocket(W::UseTlsNotMinimal)),
        "extra port bytes" => matches!(err, B::WebSocket(W::PortExtraBytes)),
        "underrun while peeking a uint8" => matches!(
            err,
            B::WebSocket(W::Port(BigSizeError::Truncated { bits: 8 }))
        ),
        "port value too large" => matches!(err, B::WebSocket(W::PortTooLarge(_))),
        "port not minimally encoded" => matches!(err, B::WebSocket(W::PortNotMinimal(_))),
        "path not minimally encoded" => matches!(err, B::WebSocket(W::PathNotMinimal)),
        "error decoding path" => matches!(err, B::WebSocket(W::PathNotUtf8)),
        other => panic!("unmapped reference error {other:?}"),
    }
}

#[test]
fn decode_error_vectors() {
    let file = common::load(VECTORS);
    let vectors = file.arr("02-beacon-decode-error.json");
    assert_eq!(vectors.len(), 44);
    let mut rejected = 0;
    for v in vectors {
        let name = v.s("test_name");
        let input = v.at("input");
        let beacon = input.s("beacon");
        // The data-part chunks must rebuild the beacon string exactly.
        if let Some(chunks) = input.at("beacon_data_part_chunks").as_array() {
            let data: Vec<u8> = chunks
                .iter()
                .flat_map(|c| hex::decode(c.as_str().unwrap()).unwrap())
                .collect();
            let hrp = input.s("beacon_hrp");
            if !hrp.is_empty() {
                assert_eq!(
                    bech32::encode(hrp, &data).unwrap(),
                    beacon,
                    "{name}: chunks"
                );
                // The bytes alone fail the same way (unless the HRP is at fault).
                if hrp.starts_with("moneysocket") {
                    let err = Beacon::decode_bytes(&data).unwrap_err();
                    assert!(
                        matches_reference(&err, v.s("decode_error")),
                        "{name}: {err:?}"
                    );
                }
            }
        }
        let err = Beacon::decode(beacon).expect_err(name);
        assert!(
            matches_reference(&err, v.s("decode_error")),
            "{name}: got {err:?}, reference says {:?}",
            v.s("decode_error")
        );
        assert!(moneysocket::AnyBeacon::decode(beacon).is_err(), "{name}");
        // Display is human-readable and never empty.
        assert!(!err.to_string().is_empty());
        rejected += 1;
    }
    assert_eq!(rejected, 44);
}
