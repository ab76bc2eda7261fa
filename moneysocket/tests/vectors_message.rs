//! v1 message-framing vectors from py-moneysocket: 3 encode/decode
//! round-trips (byte-exact re-encoding) and 62 decode errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{int, obj, At};
use moneysocket::error::{BigSizeError, LanguageObjectError as L, MessageError as M, TlvError};
use moneysocket::json::Json;
use moneysocket::message::{Message, MessageClass};
use moneysocket::tlv::Record;
use moneysocket::Version;

const ENCODE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/py-moneysocket-04-message-encode-decode.json"
));
const ERRORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/py-moneysocket-04-message-decode-error.json"
));

/// Comfortably after every vector's timestamp and before the "future" one.
const NOW: f64 = 1_700_000_000.0;

fn expected(d: &Json) -> Message {
    let v = d.at("sender_version");
    Message {
        sender_version: Version::new(
            int(v, "major") as u8,
            int(v, "minor") as u8,
            int(v, "patch") as u8,
        ),
        class: match int(d, "type") {
            0 => MessageClass::Request,
            1 => MessageClass::Notification,
            other => panic!("type {other}"),
        },
        subtype: int(d, "subtype") as u64,
        language_object: obj(d.at("language_object")).clone(),
        additional_tlvs: d
            .arr("additional_tlvs")
            .iter()
            .map(|t| Record::new(int(t, "t") as u64, t.hex("v")))
            .collect(),
    }
}

#[test]
fn encode_decode_vectors() {
    let file = common::load(ENCODE);
    let vectors = file.as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let name = v.s("test_name");
        let bytes = v.hex("encoded");
        let want = expected(v.at("decoded"));
        assert_eq!(want.encode(), bytes, "{name}: encode");
        let got = Message::decode_at(&bytes, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}: decode");
        assert_eq!(got.encode(), bytes, "{name}: re-encode");
        assert!(Message::decode(&bytes).is_ok(), "{name}: system clock");
    }
}

fn matches_reference(err: &M, text: &str) -> bool {
    use BigSizeError::Truncated;
    match text {
        "could not get type: underrun while peeking a uint8" => {
            *err == M::Tlv(TlvError::Type(Truncated { bits: 8 }))
        }
        "could not get length: underrun while peeking a uint8" => {
            *err == M::Tlv(TlvError::Length(Truncated { bits: 8 }))
        }
        "value truncated" => matches!(err, M::Tlv(TlvError::ValueTruncated { .. })),
        "extra bytes after message TLV" => *err == M::ExtraBytes,
        "unknown TLV" => matches!(err, M::UnexpectedType(_)),
        "invalid TLVs in message" => matches!(err, M::InnerTlv(_)),
        "no TLVs in message" => *err == M::Empty,
        "missing sender_version TLV" => *err == M::MissingSenderVersion,
        "malformed sender_version TLV: unable to decode version from bytes" => {
            matches!(err, M::BadSenderVersion(_))
        }
        "missing message_type TLV" => *err == M::MissingMessageType,
        "no message_type TLV after sender_version" => matches!(err, M::NotMessageType(_)),
        "malformed message_type type value: underrun while popping a u8" => {
            *err == M::MessageClassMissing
        }
        "malformed message_type subtype value: underrun while peeking a uint8" => {
            *err == M::Subtype(Truncated { bits: 8 })
        }
        "extra bytes in message_type TLV" => *err == M::MessageTypeExtraBytes,
        "missing language_object TLV" => *err == M::MissingLanguageObject,
        "no language_object TLV after message_type" => matches!(err, M::NotLanguageObject(_)),
        "could not decode json object" => matches!(err, M::Json(_)),
        "aditional TLVs duplicates of defined values" => matches!(err, M::DuplicateTlv(_)),
        other => match err {
            M::LanguageObject(lo) => lo_matches(lo, other),
            _ => false,
        },
    }
}

fn lo_matches(err: &L, text: &str) -> bool {
    for part in ["major", "minor", "patch"] {
        if text == format!("version missing {part} value") {
            return *err == L::Missing(part);
        }
        if text == format!("version {part} not integer") {
            return *err == L::WrongType(part);
        }
        if text == format!("version {part} negative") {
            return *err == L::Negative(part);
        }
        if text == format!("version {part} greater than 255") {
            return *err == L::TooLarge(part);
        }
        if text == format!("language_object {part} version doesn't match TLV") {
            return *err == L::VersionMismatch(part);
        }
    }
    match text {
        "timestamp not in language_object" => *err == L::Missing("timestamp"),
        "timestamp not an integer or float" => *err == L::WrongType("timestamp"),
        "timestamp is not a positive value" => *err == L::Negative("timestamp"),
        "timestamp in the future" => *err == L::FutureTimestamp,
        "version not in language_object" => *err == L::Missing("version"),
        "version not an object" => *err == L::WrongType("version"),
        "language_object features value not included" => *err == L::Missing("features"),
        "language_object features value not a list" => *err == L::WrongType("features"),
        "language_object feature_data value not included" => *err == L::Missing("feature_data"),
        "language_object feature_data value not an object" => *err == L::WrongType("feature_data"),
        "language_object feature_data for unknown feature" => {
            matches!(err, L::UndeclaredFeature(_))
        }
        "language_object feature_data value is null" => matches!(err, L::NullFeatureData(_)),
        "language_object missing type" => *err == L::Missing("type"),
        "language_object type is not a string" => *err == L::WrongType("type"),
        "language_object type is an empty string" => *err == L::Empty("type"),
        "language_object missing subtype" => *err == L::Missing("subtype"),
        "language_object subtype is not a string" => *err == L::WrongType("subtype"),
        "language_object subtype is an empty string" => *err == L::Empty("subtype"),
        "no subtype_data included" => *err == L::Missing("subtype_data"),
        "subtype_data not of object type" => *err == L::WrongType("subtype_data"),
        "unknown message type" => matches!(err, L::UnknownType(_)),
        "unknown message subtype parser" => matches!(err, L::UnknownSubtype(_)),
        "no request_uuid for REQUEST" | "no request_uuid for NOTIFICATION" => {
            *err == L::Missing("request_uuid")
        }
        "request_uuid is not a string" => *err == L::WrongType("request_uuid"),
        "uuid is not uuid version 4" => *err == L::UuidNotV4,
        "invalid uuid" => *err == L::InvalidUuid,
        other => panic!("unmapped reference error {other:?}"),
    }
}

#[test]
fn decode_error_vectors() {
    let file = common::load(ERRORS);
    let vectors = file.as_array().unwrap();
    assert_eq!(vectors.len(), 62);
    for v in vectors {
        let name = v.s("test_name");
        // Chunks are hex strings or JSON objects written as Python's
        // json.dumps writes them (the declared lengths depend on it).
        let mut bytes = Vec::new();
        for chunk in v.arr("input_chunks") {
            match chunk {
                Json::String(h) => bytes.extend(hex::decode(h).unwrap()),
                other => bytes.extend(other.to_python_string().into_bytes()),
            }
        }
        let err = Message::decode_at(&bytes, NOW).expect_err(name);
        assert!(
            matches_reference(&err, v.s("decode_error")),
            "{name}: got {err:?}, reference says {:?}",
            v.s("decode_error")
        );
        // The system clock gives the same verdict.
        assert!(Message::decode(&bytes).is_err(), "{name}");
    }
}
