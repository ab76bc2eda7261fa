//! BIPF as tinySSB uses it (SIP-11, "BIPF.tinySSB").
//!
//! Every item is `tag ‖ body` with `tag = LEB128(len << 3 | type)`. We **encode** canonically
//! per SIP-11 (INT = two's complement, minimal length; STRING length = UTF-8 byte count), which
//! every deployed decoder reads. We **decode** in one of two integer modes: [`IntMode::Signed`]
//! (SIP-11, for app-level values) or [`IntMode::Unsigned`] for protocol counters, because the
//! Android app and the ESP32 firmware write non-negative ints as unsigned minimal bytes
//! (`128 → 0a80`) which a signed reader would take for −128.
//!
//! Outside bytes never panic the decoder: truncation, lengths past the end, invalid UTF-8,
//! malformed atoms and nesting deeper than [`MAX_DEPTH`] are all [`BipfError`] values that say
//! where in the input the problem is.

use std::fmt;

use thiserror::Error;

use super::varint;

/// Deepest nesting of LISTs and DICTs the decoder accepts.
pub const MAX_DEPTH: usize = 32;

/// BIPF type codes (the low 3 bits of a tag).
pub mod code {
    /// UTF-8 text.
    pub const STRING: u8 = 0;
    /// Raw bytes.
    pub const BYTES: u8 = 1;
    /// Little-endian integer.
    pub const INT: u8 = 2;
    /// 8-byte little-endian IEEE-754 (Python only; Android and ESP32 cannot read it).
    pub const DOUBLE: u8 = 3;
    /// Concatenated items.
    pub const LIST: u8 = 4;
    /// Alternating keys and values.
    pub const DICT: u8 = 5;
    /// null (empty body), false (`00`) or true (`01`).
    pub const BOOLNONE: u8 = 6;
    /// Reserved; no tinySSB implementation writes it.
    pub const EXTENDED: u8 = 7;
}

/// A BIPF value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// BOOLNONE with an empty body.
    Null,
    /// BOOLNONE with a one-byte body.
    Bool(bool),
    /// INT.
    Int(i64),
    /// DOUBLE.
    Double(f64),
    /// STRING (always valid UTF-8).
    Str(String),
    /// BYTES.
    Bytes(Vec<u8>),
    /// LIST.
    List(Vec<Value>),
    /// DICT, as key/value pairs in wire order (keys may be any value).
    Dict(Vec<(Value, Value)>),
}

/// How INT bodies are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntMode {
    /// Two's complement little-endian (SIP-11, Python). For app-level values.
    #[default]
    Signed,
    /// Unsigned little-endian: what Android and ESP32 write for non-negative counters, and
    /// what canonical encodings of non-negative values also read as. For protocol counters.
    Unsigned,
}

/// Why bytes are not a valid BIPF item.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BipfError {
    /// Input ended inside a tag.
    #[error("at byte {at}: input ends inside a tag")]
    TruncatedTag {
        /// Offset of the tag.
        at: usize,
    },
    /// The tag varint is longer than 10 bytes.
    #[error("at byte {at}: tag varint is too long")]
    TagTooLong {
        /// Offset of the tag.
        at: usize,
    },
    /// The item's length runs past the end of its container or of the input.
    #[error("at byte {at}: item says {len} bytes but only {remaining} remain")]
    LengthPastEnd {
        /// Offset of the item.
        at: usize,
        /// The length the tag claims.
        len: u64,
        /// Bytes actually left.
        remaining: usize,
    },
    /// A STRING body is not UTF-8.
    #[error("at byte {at}: STRING is not valid UTF-8")]
    InvalidUtf8 {
        /// Offset of the item.
        at: usize,
    },
    /// An INT body is empty or longer than 8 bytes.
    #[error("at byte {at}: INT body of {len} bytes (1 to 8 allowed)")]
    BadIntLength {
        /// Offset of the item.
        at: usize,
        /// Body length.
        len: usize,
    },
    /// An unsigned INT does not fit in an i64.
    #[error("at byte {at}: unsigned INT does not fit in 63 bits")]
    IntOutOfRange {
        /// Offset of the item.
        at: usize,
    },
    /// A DOUBLE body is not 8 bytes.
    #[error("at byte {at}: DOUBLE body of {len} bytes (8 required)")]
    BadDoubleLength {
        /// Offset of the item.
        at: usize,
        /// Body length.
        len: usize,
    },
    /// A BOOLNONE body is not empty, `00` or `01`.
    #[error("at byte {at}: BOOLNONE must be empty, 00 or 01")]
    BadBoolNone {
        /// Offset of the item.
        at: usize,
    },
    /// Type 7 (extended) is reserved.
    #[error("at byte {at}: type 7 (extended) is not supported")]
    ExtendedType {
        /// Offset of the item.
        at: usize,
    },
    /// A DICT has a key without a value.
    #[error("at byte {at}: DICT has an odd number of items")]
    OddDict {
        /// Offset of the DICT.
        at: usize,
    },
    /// Containers are nested deeper than [`MAX_DEPTH`].
    #[error("at byte {at}: nesting deeper than {max}")]
    TooDeep {
        /// Offset of the item that went too deep.
        at: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes follow the item where none were expected.
    #[error("at byte {at}: {count} bytes after the item")]
    TrailingBytes {
        /// Offset of the first extra byte.
        at: usize,
        /// How many extra bytes.
        count: usize,
    },
}

impl Value {
    /// A STRING value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// The text of a STRING.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an INT.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The bytes of a BYTES.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a LIST.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The BIPF type code of this value.
    pub fn type_code(&self) -> u8 {
        match self {
            Value::Null | Value::Bool(_) => code::BOOLNONE,
            Value::Int(_) => code::INT,
            Value::Double(_) => code::DOUBLE,
            Value::Str(_) => code::STRING,
            Value::Bytes(_) => code::BYTES,
            Value::List(_) => code::LIST,
            Value::Dict(_) => code::DICT,
        }
    }

    /// The canonical (SIP-11) encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let body_len = self.body_len();
        varint::encode_into(((body_len as u64) << 3) | u64::from(self.type_code()), out);
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push(u8::from(*b)),
            Value::Int(i) => {
                out.extend_from_slice(i.to_le_bytes().get(..int_len(*i)).unwrap_or_default())
            }
            Value::Double(d) => out.extend_from_slice(&d.to_le_bytes()),
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            Value::Bytes(b) => out.extend_from_slice(b),
            Value::List(items) => items.iter().for_each(|v| v.encode_into(out)),
            Value::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
                k.encode_into(out);
                v.encode_into(out);
            }),
        }
    }

    /// Length of the canonical encoding, tag included.
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        varint::encoded_len(((body as u64) << 3) | u64::from(self.type_code())) + body
    }

    fn body_len(&self) -> usize {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(i) => int_len(*i),
            Value::Double(_) => 8,
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(items) => items.iter().map(Value::encoded_len).sum(),
            Value::Dict(pairs) => pairs
                .iter()
                .map(|(k, v)| k.encoded_len() + v.encoded_len())
                .sum(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl fmt::Display for Value {
    /// A compact, JSON-like rendering for people (`#hex#` for BYTES).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "#{}#", hex::encode(b)),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Dict(pairs) => {
                write!(f, "{{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// Minimal two's complement length of `i` in bytes (1..=8).
fn int_len(i: i64) -> usize {
    (1..8)
        .find(|&n| {
            let shift = 64 - 8 * n as u32;
            (i << shift) >> shift == i
        })
        .unwrap_or(8)
}

/// Decodes exactly one item that spans all of `input`, reading INTs as signed (SIP-11).
pub fn decode(input: &[u8]) -> Result<Value, BipfError> {
    decode_with(input, IntMode::Signed)
}

/// Decodes exactly one item that spans all of `input`, in the given integer mode.
pub fn decode_with(input: &[u8], mode: IntMode) -> Result<Value, BipfError> {
    let (value, used) = decode_prefix(input, mode)?;
    if used != input.len() {
        return Err(BipfError::TrailingBytes {
            at: used,
            count: input.len() - used,
        });
    }
    Ok(value)
}

/// Decodes the first item of `input`; returns it and how many bytes it took.
pub fn decode_prefix(input: &[u8], mode: IntMode) -> Result<(Value, usize), BipfError> {
    Decoder { input, mode }.item(0, 0)
}

struct Decoder<'a> {
    input: &'a [u8],
    mode: IntMode,
}

impl Decoder<'_> {
    /// Reads the item at `at`; returns it and the offset just after it.
    fn item(&self, at: usize, depth: usize) -> Result<(Value, usize), BipfError> {
        let rest = self.input.get(at..).unwrap_or_default();
        let (tag, tag_len) = varint::decode(rest, 10).map_err(|e| match e {
            varint::VarintError::Truncated => BipfError::TruncatedTag { at },
            varint::VarintError::TooLong { .. } => BipfError::TagTooLong { at },
        })?;
        let len = tag >> 3;
        let remaining = rest.len() - tag_len;
        if len > remaining as u64 {
            return Err(BipfError::LengthPastEnd { at, len, remaining });
        }
        let start = at + tag_len;
        let end = start + len as usize;
        let body = self.input.get(start..end).unwrap_or_default();
        let value = match (tag & 7) as u8 {
            code::STRING => Value::Str(
                std::str::from_utf8(body)
                    .map_err(|_| BipfError::InvalidUtf8 { at })?
                    .to_owned(),
            ),
            code::BYTES => Value::Bytes(body.to_vec()),
            code::INT => Value::Int(self.int(body, at)?),
            code::DOUBLE => {
                let raw: [u8; 8] = body.try_into().map_err(|_| BipfError::BadDoubleLength {
                    at,
                    len: body.len(),
                })?;
                Value::Double(f64::from_le_bytes(raw))
            }
            code::LIST | code::DICT => {
                if depth >= MAX_DEPTH {
                    return Err(BipfError::TooDeep { at, max: MAX_DEPTH });
                }
                let mut items = Vec::new();
                let mut pos = start;
                while pos < end {
                    let (v, next) = self.item_within(pos, end, depth + 1)?;
                    items.push(v);
                    pos = next;
                }
                if tag & 7 == u64::from(code::LIST) {
                    Value::List(items)
                } else {
                    if items.len() % 2 != 0 {
                        return Err(BipfError::OddDict { at });
                    }
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Value::Dict(pairs)
                }
            }
            code::BOOLNONE => match body {
                [] => Value::Null,
                [0] => Value::Bool(false),
                [1] => Value::Bool(true),
                _ => return Err(BipfError::BadBoolNone { at }),
            },
            _ => return Err(BipfError::ExtendedType { at }),
        };
        Ok((value, end))
    }

    /// Reads an item that must end by `end` (the end of its container).
    fn item_within(
        &self,
        at: usize,
        end: usize,
        depth: usize,
    ) -> Result<(Value, usize), BipfError> {
        let inner = Decoder {
            input: self.input.get(..end).unwrap_or_default(),
            mode: self.mode,
        };
        inner.item(at, depth)
    }

    fn int(&self, body: &[u8], at: usize) -> Result<i64, BipfError> {
        if body.is_empty() || body.len() > 8 {
            return Err(BipfError::BadIntLength {
                at,
                len: body.len(),
            });
        }
        let negative = body.last().is_some_and(|b| b & 0x80 != 0);
        let fill = if negative && self.mode == IntMode::Signed {
            0xff
        } else {
            0
        };
        let mut raw = [fill; 8];
        for (r, b) in raw.iter_mut().zip(body) {
            *r = *b;
        }
        let value = i64::from_le_bytes(raw);
        if self.mode == IntMode::Unsigned && value < 0 {
            return Err(BipfError::IntOutOfRange { at });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_modes_differ_only_for_high_bit() {
        assert_eq!(decode(&[0x0a, 0x80]), Ok(Value::Int(-128)));
        assert_eq!(
            decode_with(&[0x0a, 0x80], IntMode::Unsigned),
            Ok(Value::Int(128))
        );
        assert_eq!(
            decode_with(&[0x12, 0x80, 0x00], IntMode::Unsigned),
            Ok(Value::Int(128))
        );
    }

    #[test]
    fn nested_too_deep_is_an_error() {
        // 40 nested LISTs, innermost empty: each wrapper adds one tag byte.
        let mut v = Value::List(vec![]);
        for _ in 0..40 {
            v = Value::List(vec![v]);
        }
        let bytes = v.encode();
        assert!(matches!(decode(&bytes), Err(BipfError::TooDeep { .. })));
    }

    #[test]
    fn child_cannot_run_past_its_container() {
        // LIST of body length 2 holding a STRING that claims 3 bytes.
        let bytes = [0x14, 0x18, b'a', b'b', b'c'];
        assert!(matches!(
            decode(&bytes),
            Err(BipfError::LengthPastEnd { at: 1, .. })
        ));
    }
}
