//! Every vector in `vectors/bipf.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{hx, load, tagged};
use lichen::wire::bipf::{self, IntMode, Value};
use lichen::wire::varint;

/// All vectors that carry `value` and canonical `hex`, from every section.
fn value_vectors() -> Vec<serde_json::Value> {
    let d = load("bipf.json");
    let mut out = Vec::new();
    for section in ["sip11", "int"] {
        out.extend(d[section]["vectors"].as_array().unwrap().iter().cloned());
    }
    for section in ["atoms", "containers", "app_lists"] {
        out.extend(d[section].as_array().unwrap().iter().cloned());
    }
    out
}

#[test]
fn canonical_encoding_and_decoding() {
    let vectors = value_vectors();
    assert!(vectors.len() >= 59, "{} vectors", vectors.len());
    for v in &vectors {
        let value = tagged(&v["value"]);
        let bytes = hx(&v["hex"]);
        assert_eq!(value.encode(), bytes, "encode {}", v["description"]);
        assert_eq!(value.encoded_len(), bytes.len(), "len {}", v["description"]);
        assert_eq!(
            bipf::decode(&bytes).unwrap(),
            value,
            "decode {}",
            v["description"]
        );
    }
}

#[test]
fn android_esp32_forms_read_in_unsigned_context() {
    let d = load("bipf.json");
    let mut seen = 0;
    for v in d["int"]["vectors"].as_array().unwrap() {
        let Some(forms) = v.get("unsigned_context_also_accept") else {
            continue;
        };
        let value = tagged(&v["value"]);
        for form in forms.as_array().unwrap() {
            let got = bipf::decode_with(&hx(form), IntMode::Unsigned).unwrap();
            assert_eq!(got, value, "{}", v["description"]);
            seen += 1;
        }
    }
    assert_eq!(seen, 5);
}

#[test]
fn android_container_form_decodes() {
    // The Android/ESP32 encoding of a container holding ints ≥ 128 is still valid BIPF.
    let d = load("bipf.json");
    for v in d["containers"].as_array().unwrap() {
        if let Some(a) = v.get("android_esp32_hex") {
            assert!(bipf::decode(&hx(a)).is_ok(), "{}", v["description"]);
        }
    }
}

#[test]
fn int_decoding_table() {
    let d = load("bipf.json");
    let rows = d["int_decoding_table"]["vectors"].as_array().unwrap();
    assert_eq!(rows.len(), 17);
    for row in rows {
        let bytes = hx(&row["hex"]);
        let signed = row["signed_value"].as_i64().unwrap();
        let unsigned = row["unsigned_value"].as_i64().unwrap();
        assert_eq!(
            bipf::decode(&bytes).unwrap(),
            Value::Int(signed),
            "{}",
            row["hex"]
        );
        assert_eq!(
            bipf::decode_with(&bytes, IntMode::Unsigned).unwrap(),
            Value::Int(unsigned),
            "{}",
            row["hex"]
        );
    }
}

#[test]
fn python_string_length_bug_is_not_accepted() {
    let mut seen = 0;
    for v in value_vectors() {
        let Some(py) = v.get("python_reference_hex") else {
            continue;
        };
        let value = tagged(&v["value"]);
        if let Ok(other) = bipf::decode(&hx(py)) {
            assert_ne!(other, value, "{}", v["description"]);
        }
        seen += 1;
    }
    assert!(seen >= 4, "{seen}");
}

#[test]
fn leb128() {
    let d = load("bipf.json");
    let rows = d["leb128"]["vectors"].as_array().unwrap();
    assert_eq!(rows.len(), 13);
    for row in rows {
        let value = row["value"].as_u64().unwrap();
        let bytes = hx(&row["hex"]);
        assert_eq!(varint::encode(value), bytes);
        assert_eq!(varint::decode(&bytes, 10), Ok((value, bytes.len())));
    }
}
