//! v1 provider info: what a provider tells a consumer about the account it
//! serves (RFC BOM #3).
//!
//! JSON form: `account_uuid` (UUID v4), `wad`, `payer` and `payee`
//! (booleans), `public_keys` (object keyed by hex public key, each value
//! `{curve, features, friendly_name?, ...}`), `features` (strings) and
//! `feature_data` (object keyed by listed features, no nulls). Unknown
//! top-level keys, and unknown keys inside a public-key entry, are kept.

use crate::error::ProviderInfoError;
use crate::json::{Json, JsonObject};
use crate::uuid::Uuid;
use crate::wad::Wad;

const KNOWN_KEYS: [&str; 7] = [
    "account_uuid",
    "wad",
    "payer",
    "payee",
    "public_keys",
    "features",
    "feature_data",
];

/// What a provider reports about an account.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderInfo {
    /// The account id (a version 4 UUID, kept as written).
    pub account_uuid: String,
    /// The balance.
    pub wad: Wad,
    /// The provider will pay invoices for the consumer.
    pub payer: bool,
    /// The provider will create invoices for the consumer.
    pub payee: bool,
    /// Public keys by hex key, in order.
    pub public_keys: Vec<(String, PublicKeyInfo)>,
    /// Feature names.
    pub features: Vec<String>,
    /// Data for listed features.
    pub feature_data: JsonObject,
    /// Top-level keys this code does not know, kept in order.
    pub extra: JsonObject,
}

/// One entry of `public_keys`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKeyInfo {
    /// Curve name, e.g. `secp256k1`.
    pub curve: String,
    /// What the key may be used for, e.g. `SCHNORR_SIGN_BINARY`.
    pub features: Vec<String>,
    /// Optional display name (1–64 characters).
    pub friendly_name: Option<String>,
    /// Other keys, kept in order.
    pub extra: JsonObject,
}

impl ProviderInfo {
    /// Reads and validates provider info.
    pub fn from_json(value: &Json) -> Result<Self, ProviderInfoError> {
        use ProviderInfoError as E;
        let obj = value.as_object().ok_or(E::NotObject)?;
        let uuid = obj.get("account_uuid").ok_or(E::Missing("account_uuid"))?;
        let uuid = uuid.as_str().ok_or(E::WrongType("account_uuid"))?;
        let parsed = Uuid::parse(uuid).map_err(|_| E::InvalidUuid)?;
        if parsed.version() != Some(4) {
            return Err(E::UuidNotV4);
        }
        let wad = obj.get("wad").ok_or(E::Missing("wad"))?;
        if wad.as_object().is_none() {
            return Err(E::WrongType("wad"));
        }
        let wad = Wad::from_json(wad)?;
        let payee = obj.get("payee").ok_or(E::Missing("payee"))?;
        let payee = payee.as_bool().ok_or(E::WrongType("payee"))?;
        let payer = obj.get("payer").ok_or(E::Missing("payer"))?;
        let payer = payer.as_bool().ok_or(E::WrongType("payer"))?;
        let features = obj.get("features").ok_or(E::Missing("features"))?;
        let features = features.as_array().ok_or(E::WrongType("features"))?;
        let features = features
            .iter()
            .map(|f| f.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(E::WrongType("features entry"))?;
        let feature_data = obj.get("feature_data").ok_or(E::Missing("feature_data"))?;
        let feature_data = feature_data
            .as_object()
            .ok_or(E::WrongType("feature_data"))?
            .clone();
        for (key, value) in feature_data.iter() {
            if !features.iter().any(|f| f == key) {
                return Err(E::UndeclaredFeature(key.to_owned()));
            }
            if value.is_null() {
                return Err(E::NullFeatureData(key.to_owned()));
            }
        }
        let keys = obj.get("public_keys").ok_or(E::Missing("public_keys"))?;
        let keys = keys.as_object().ok_or(E::WrongType("public_keys"))?;
        let public_keys = keys
            .iter()
            .map(|(k, v)| {
                if hex::decode(k).is_err() {
                    return Err(E::KeyNotHex(k.to_owned()));
                }
                Ok((k.to_owned(), PublicKeyInfo::from_json(v)?))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let extra = obj
            .iter()
            .filter(|(k, _)| !KNOWN_KEYS.contains(k))
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        Ok(ProviderInfo {
            account_uuid: uuid.to_owned(),
            wad,
            payer,
            payee,
            public_keys,
            features,
            feature_data,
            extra,
        })
    }

    /// The JSON object (known keys first, then the kept extra keys).
    pub fn to_json(&self) -> Json {
        let keys = self
            .public_keys
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        let mut obj = JsonObject::new()
            .with("account_uuid", Json::str(&self.account_uuid))
            .with("wad", self.wad.to_json())
            .with("payer", Json::Bool(self.payer))
            .with("payee", Json::Bool(self.payee))
            .with("public_keys", Json::Object(keys))
            .with("features", strings(&self.features))
            .with("feature_data", Json::Object(self.feature_data.clone()));
        for (k, v) in self.extra.iter() {
            obj.insert(k, v.clone());
        }
        obj.into()
    }
}

impl PublicKeyInfo {
    fn from_json(value: &Json) -> Result<Self, ProviderInfoError> {
        use ProviderInfoError as E;
        let obj = value.as_object().ok_or(E::WrongType("public key info"))?;
        let curve = obj.get("curve").ok_or(E::Missing("curve"))?;
        let curve = curve.as_str().ok_or(E::WrongType("curve"))?;
        if curve.is_empty() {
            return Err(E::Empty("curve"));
        }
        let friendly_name = match obj.get("friendly_name") {
            None => None,
            Some(v) => {
                let name = v.as_str().ok_or(E::WrongType("friendly_name"))?;
                if name.is_empty() {
                    return Err(E::Empty("friendly_name"));
                }
                if name.chars().count() > 64 {
                    return Err(E::FriendlyNameTooLong);
                }
                Some(name.to_owned())
            }
        };
        let features = obj
            .get("features")
            .ok_or(E::Missing("public key features"))?;
        let features = features
            .as_array()
            .ok_or(E::WrongType("public key features"))?;
        let mut names = Vec::with_capacity(features.len());
        for f in features {
            let f = f.as_str().ok_or(E::WrongType("public key feature"))?;
            if f.is_empty() {
                return Err(E::Empty("public key feature"));
            }
            names.push(f.to_owned());
        }
        let extra = obj
            .iter()
            .filter(|(k, _)| !["curve", "features", "friendly_name"].contains(k))
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        Ok(PublicKeyInfo {
            curve: curve.to_owned(),
            features: names,
            friendly_name,
            extra,
        })
    }

    fn to_json(&self) -> Json {
        let mut obj = JsonObject::new()
            .with("curve", Json::str(&self.curve))
            .with("features", strings(&self.features));
        if let Some(name) = &self.friendly_name {
            obj.insert("friendly_name", Json::str(name));
        }
        for (k, v) in self.extra.iter() {
            obj.insert(k, v.clone());
        }
        obj.into()
    }
}

fn strings(items: &[String]) -> Json {
    Json::Array(items.iter().map(Json::str).collect())
}
