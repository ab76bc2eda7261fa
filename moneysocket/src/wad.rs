//! The v1 wad: an amount in millisatoshis, optionally with its value in
//! another asset (RFC BOM #3).
//!
//! JSON form: `{"msat": number, "non_btc": null | {...}}` and no other keys.
//! `msat` may be negative or fractional. The `non_btc` object carries
//! `units`, `name`, `code`, `symbol` and optionally `rate_timestamp`,
//! `iso_num` and `fmt_decimals`; ISO 4217 codes and numbers must agree.
//! Numbers keep their integer/float form so a wad re-encodes as it came.

use std::fmt;

use crate::error::WadError;
use crate::iso4217;
use crate::json::{Json, JsonObject, Number};

/// An amount of bitcoin, optionally valued in another asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Wad {
    /// Millisatoshis (may be negative or fractional).
    pub msat: Number,
    /// The same amount in another asset, if any.
    pub non_btc: Option<NonBtc>,
}

/// The value of a wad in an asset other than bitcoin.
#[derive(Debug, Clone, PartialEq)]
pub struct NonBtc {
    /// Amount in the asset's units.
    pub units: Number,
    /// Asset name, never empty.
    pub name: String,
    /// Asset code: empty, or 3–12 characters; ISO 4217 where one exists.
    pub code: String,
    /// Display symbol, at most 6 characters (may be empty).
    pub symbol: String,
    /// When the exchange rate was taken (UNIX seconds).
    pub rate_timestamp: Option<Number>,
    /// ISO 4217 number.
    pub iso_num: Option<u64>,
    /// Decimal places to display (0–12).
    pub fmt_decimals: Option<u8>,
}

impl Wad {
    /// A bitcoin-only wad.
    pub fn bitcoin(msat: i64) -> Self {
        Wad {
            msat: Number::from(msat),
            non_btc: None,
        }
    }

    /// Reads and validates a wad's JSON object.
    pub fn from_json(value: &Json) -> Result<Self, WadError> {
        let obj = value.as_object().ok_or(WadError::NotObject)?;
        let msat = obj.get("msat").ok_or(WadError::Missing("msat"))?;
        let msat = msat.as_number().ok_or(WadError::WrongType("msat"))?.clone();
        let non_btc = match obj.get("non_btc").ok_or(WadError::Missing("non_btc"))? {
            Json::Null => None,
            Json::Object(o) => Some(NonBtc::from_object(o)?),
            _ => return Err(WadError::WrongType("non_btc")),
        };
        if obj.len() != 2 {
            return Err(WadError::ExtraKeys);
        }
        Ok(Wad { msat, non_btc })
    }

    /// The JSON object (keys in the reference encoder's order).
    pub fn to_json(&self) -> Json {
        let non_btc = self
            .non_btc
            .as_ref()
            .map_or(Json::Null, |n| Json::Object(n.to_object()));
        JsonObject::new()
            .with("msat", Json::Number(self.msat.clone()))
            .with("non_btc", non_btc)
            .into()
    }
}

impl NonBtc {
    fn from_object(obj: &JsonObject) -> Result<Self, WadError> {
        let units = obj.get("units").ok_or(WadError::Missing("units"))?;
        let units = units
            .as_number()
            .ok_or(WadError::WrongType("units"))?
            .clone();
        let name = obj.get("name").ok_or(WadError::Missing("name"))?;
        let name = name.as_str().ok_or(WadError::WrongType("name"))?;
        if name.is_empty() {
            return Err(WadError::Empty("name"));
        }
        let rate_timestamp = match obj.get("rate_timestamp") {
            None => None,
            Some(v) => {
                let n = v.as_number().ok_or(WadError::WrongType("rate_timestamp"))?;
                if n.as_f64().is_some_and(|f| f < 0.0) {
                    return Err(WadError::Negative("rate_timestamp"));
                }
                Some(n.clone())
            }
        };
        let code = obj.get("code");
        let iso_num = match obj.get("iso_num") {
            Some(v) => {
                let n = v.as_integer().ok_or(WadError::WrongType("iso_num"))?;
                let n = u64::try_from(n).map_err(|_| WadError::Negative("iso_num"))?;
                let code = code.ok_or(WadError::IsoNumWithoutCode)?;
                let code = code.as_str().ok_or(WadError::WrongType("code"))?;
                if code.is_empty() {
                    return Err(WadError::Empty("code"));
                }
                if let Some(expected) = iso4217::code_of(n) {
                    if code != expected {
                        return Err(WadError::IsoMismatch {
                            iso_num: n,
                            expected,
                            code: code.to_owned(),
                        });
                    }
                }
                Some(n)
            }
            None => {
                let code = code.ok_or(WadError::Missing("code"))?;
                let code = code.as_str().ok_or(WadError::WrongType("code"))?;
                if iso4217::number_of(code).is_some() {
                    return Err(WadError::IsoCodeWithoutNum(code.to_owned()));
                }
                None
            }
        };
        let code = code.and_then(Json::as_str).unwrap_or_default();
        let code_len = code.chars().count();
        if code_len > 12 {
            return Err(WadError::CodeTooLong);
        }
        if code_len != 0 && code_len < 3 {
            return Err(WadError::CodeTooShort);
        }
        let symbol = obj.get("symbol").ok_or(WadError::Missing("symbol"))?;
        let symbol = symbol.as_str().ok_or(WadError::WrongType("symbol"))?;
        if symbol.chars().count() > 6 {
            return Err(WadError::SymbolTooLong);
        }
        let fmt_decimals = match obj.get("fmt_decimals") {
            None => None,
            Some(v) => {
                let d = v.as_integer().ok_or(WadError::WrongType("fmt_decimals"))?;
                if d < 0 {
                    return Err(WadError::Negative("fmt_decimals"));
                }
                Some(
                    u8::try_from(d)
                        .ok()
                        .filter(|&d| d <= 12)
                        .ok_or(WadError::DecimalsTooLarge)?,
                )
            }
        };
        Ok(NonBtc {
            units,
            name: name.to_owned(),
            code: code.to_owned(),
            symbol: symbol.to_owned(),
            rate_timestamp,
            iso_num,
            fmt_decimals,
        })
    }

    fn to_object(&self) -> JsonObject {
        let mut obj = JsonObject::new()
            .with("units", Json::Number(self.units.clone()))
            .with("name", Json::str(&self.name))
            .with("code", Json::str(&self.code))
            .with("symbol", Json::str(&self.symbol));
        if let Some(t) = &self.rate_timestamp {
            obj.insert("rate_timestamp", Json::Number(t.clone()));
        }
        if let Some(n) = self.iso_num {
            obj.insert("iso_num", Json::Number(n.into()));
        }
        if let Some(d) = self.fmt_decimals {
            obj.insert("fmt_decimals", Json::Number(d.into()));
        }
        obj
    }
}

/// Display as the reference code does: `₿ 12.345 sat`, `$ 123.46 USD`,
/// `🥒 69 CUCUMBER`, `77`.
impl fmt::Display for Wad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(n) = &self.non_btc else {
            let sats = self.msat.as_f64().unwrap_or(0.0) / 1000.0;
            return write!(f, "₿ {sats:.3} sat");
        };
        if !n.symbol.is_empty() {
            write!(f, "{} ", n.symbol)?;
        }
        match (n.fmt_decimals, n.units.as_i64(), n.units.as_u64()) {
            (Some(d), _, _) => {
                let units = n.units.as_f64().unwrap_or(0.0);
                write!(f, "{units:.prec$}", prec = usize::from(d))?;
            }
            (None, Some(i), _) => write!(f, "{i}")?,
            (None, None, Some(u)) => write!(f, "{u}")?,
            (None, None, None) => {
                // `+ 0.0` turns -0 into 0, as Python prints it.
                let rounded = n.units.as_f64().unwrap_or(0.0).round_ties_even() + 0.0;
                write!(f, "{rounded:.0}")?;
            }
        }
        if !n.code.is_empty() {
            write!(f, " {}", n.code)?;
        }
        Ok(())
    }
}
