//! Helpers shared by the vector tests: load a vector file into the crate's
//! order-preserving JSON type and walk it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use moneysocket::json::{Json, JsonObject};

/// Parses a vector file's text.
pub fn load(text: &str) -> Json {
    Json::parse(text.as_bytes()).expect("vector file is JSON")
}

/// Field access that panics with the key name.
pub trait At {
    fn at(&self, key: &str) -> &Json;
    fn s(&self, key: &str) -> &str;
    fn arr(&self, key: &str) -> &[Json];
    fn hex(&self, key: &str) -> Vec<u8>;
}

impl At for Json {
    fn at(&self, key: &str) -> &Json {
        self.as_object()
            .and_then(|o| o.get(key))
            .unwrap_or_else(|| panic!("missing key {key}"))
    }

    fn s(&self, key: &str) -> &str {
        self.at(key)
            .as_str()
            .unwrap_or_else(|| panic!("{key} not a string"))
    }

    fn arr(&self, key: &str) -> &[Json] {
        self.at(key)
            .as_array()
            .unwrap_or_else(|| panic!("{key} not an array"))
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        hex::decode(self.s(key)).unwrap_or_else(|_| panic!("{key} not hex"))
    }
}

/// The object inside a JSON value.
pub fn obj(v: &Json) -> &JsonObject {
    v.as_object().expect("object")
}

/// Integer field.
pub fn int(v: &Json, key: &str) -> i128 {
    v.at(key).as_integer().expect("integer")
}

/// A copy with keys sorted (Python `sort_keys=True`), for comparisons.
pub fn sorted(v: &Json) -> Json {
    let mut v = v.clone();
    v.sort_keys();
    v
}
