//! An order-preserving JSON value, and Python-compatible serialisation.
//!
//! Moneysocket's reference code is Python: messages are written with
//! `json.dumps` (`", "` and `": "` separators, keys in insertion order,
//! non-ASCII escaped as `\uXXXX`, floats in `repr` form). The v1 message
//! vectors re-encode and compare bytes, so the crate needs a JSON value that
//! keeps key order and a writer that reproduces that formatting exactly.
//! `serde_json::Value` sorts keys unless a workspace-wide feature is turned
//! on, so this small value type is used instead. Parsing goes through
//! `serde_json` (with its recursion limit, so deep input cannot overflow the
//! stack).

mod pyfmt;

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
pub use serde_json::Number;

pub use pyfmt::python_float_repr;

/// A JSON value whose objects keep their key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number; integers and floats stay distinct (`1` vs `1.0`).
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(JsonObject),
}

/// A JSON object: key/value pairs in insertion order.
///
/// Inserting an existing key replaces its value in place, which is what a
/// Python `dict` does (and so what `json.loads` does with duplicate keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonObject {
    entries: Vec<(String, Json)>,
}

impl JsonObject {
    /// An empty object.
    pub fn new() -> Self {
        JsonObject::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, keeping the key's position if it exists.
    pub fn insert(&mut self, key: impl Into<String>, value: Json) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Builder form of [`JsonObject::insert`].
    pub fn with(mut self, key: impl Into<String>, value: Json) -> Self {
        self.insert(key, value);
        self
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sorts keys, recursively (Python's `sort_keys=True`).
    pub fn sort_keys(&mut self) {
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, v) in &mut self.entries {
            v.sort_keys();
        }
    }
}

impl FromIterator<(String, Json)> for JsonObject {
    fn from_iter<I: IntoIterator<Item = (String, Json)>>(iter: I) -> Self {
        let mut obj = JsonObject::new();
        for (k, v) in iter {
            obj.insert(k, v);
        }
        obj
    }
}

impl Json {
    /// Parses UTF-8 JSON text.
    pub fn parse(bytes: &[u8]) -> Result<Json, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Serialises exactly as Python's `json.dumps(value)` would.
    pub fn to_python_string(&self) -> String {
        let mut out = String::new();
        pyfmt::write_value(self, &mut out);
        out
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Json {
        Json::String(s.into())
    }

    /// An integer value.
    pub fn int(i: i64) -> Json {
        Json::Number(Number::from(i))
    }

    /// A float value (`null` for NaN or infinities, which JSON cannot hold).
    pub fn float(f: f64) -> Json {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&JsonObject> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one (integer or float; never a boolean).
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Json::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The value as an integer, if it is an integer number (not `1.0`).
    pub fn as_integer(&self) -> Option<i128> {
        let n = self.as_number()?;
        n.as_u64()
            .map(i128::from)
            .or_else(|| n.as_i64().map(i128::from))
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// Sorts object keys recursively (Python's `sort_keys=True`).
    pub fn sort_keys(&mut self) {
        match self {
            Json::Object(o) => o.sort_keys(),
            Json::Array(a) => a.iter_mut().for_each(Json::sort_keys),
            _ => {}
        }
    }
}

impl From<JsonObject> for Json {
    fn from(o: JsonObject) -> Self {
        Json::Object(o)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_python_string())
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut obj = JsonObject::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            obj.insert(k, v);
        }
        Ok(Json::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_python_format() {
        let text = br#"{"b": 1, "a": [1.5, "x\u00e9"], "c": {"z": null, "y": true}}"#;
        let v = Json::parse(text).unwrap();
        assert_eq!(
            v.to_python_string(),
            r#"{"b": 1, "a": [1.5, "x\u00e9"], "c": {"z": null, "y": true}}"#
        );
        let mut sorted = v.clone();
        sorted.sort_keys();
        assert_eq!(
            sorted.to_python_string(),
            r#"{"a": [1.5, "x\u00e9"], "b": 1, "c": {"y": true, "z": null}}"#
        );
    }

    #[test]
    fn duplicate_keys_keep_first_position_last_value() {
        let v = Json::parse(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(v.to_python_string(), r#"{"a": 3, "b": 2}"#);
    }

    #[test]
    fn integers_and_floats_stay_distinct() {
        assert_eq!(Json::parse(b"1").unwrap().as_integer(), Some(1));
        assert_eq!(Json::parse(b"1.0").unwrap().as_integer(), None);
        assert_eq!(Json::parse(b"-7").unwrap().as_integer(), Some(-7));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(Json::parse(deep.as_bytes()).is_err());
    }
}
