//! Shared helpers for the vector tests: loading the JSON files in `vectors/` and turning the
//! tagged-value convention into BIPF values.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::wire::bipf::Value;
use serde_json::Value as Json;

pub fn load(name: &str) -> Json {
    let path = format!("{}/../vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// An identity of `tinyssb-entries.json` by label, with its vector record.
pub fn vector_identity(label: &str) -> (lichen::Identity, Json) {
    let d = load("tinyssb-entries.json");
    let id = d["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == label)
        .unwrap()
        .clone();
    (lichen::Identity::from_seed(&arr(&id["ed25519_seed"])), id)
}

pub fn hx(j: &Json) -> Vec<u8> {
    hex::decode(j.as_str().expect("hex string")).expect("valid hex")
}

pub fn arr<const N: usize>(j: &Json) -> [u8; N] {
    hx(j).try_into().expect("length")
}

/// `{"int": 1}` → `Value::Int(1)` and so on (see vectors/README.md).
pub fn tagged(j: &Json) -> Value {
    let obj = j.as_object().expect("tagged value is an object");
    assert_eq!(obj.len(), 1, "tagged value has one key: {j}");
    let (k, v) = obj.iter().next().unwrap();
    match k.as_str() {
        "null" => Value::Null,
        "bool" => Value::Bool(v.as_bool().unwrap()),
        "int" => Value::Int(v.as_i64().unwrap()),
        "double" => Value::Double(v.as_f64().unwrap()),
        "str" => Value::Str(v.as_str().unwrap().to_owned()),
        "bytes" => Value::Bytes(hx(v)),
        "list" => Value::List(v.as_array().unwrap().iter().map(tagged).collect()),
        "dict" => Value::Dict(
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let p = p.as_array().unwrap();
                    (tagged(&p[0]), tagged(&p[1]))
                })
                .collect(),
        ),
        other => panic!("unknown tag {other}"),
    }
}
