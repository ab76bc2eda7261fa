//! TAV ("text and voice") posts, as the tinySSB Android app writes and reads them.
//!
//! ```text
//! current (5 elements): ["TAV", [tips…], text|null, voice|null, ts]
//! private  (6 elements): ["TAV", [tips…], text|null, voice|null, ts, [recipient refs…, own last]]
//! old      (4 elements): ["TAV", text|null, voice|null, ts]     -- py/simplechat, T-Deck
//! ```
//! We write the 5-element form and read all three.

use thiserror::Error;

use crate::wire::bipf::{self, BipfError, Value};

/// The app tag.
pub const TAG: &str = "TAV";

/// A text-and-voice post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tav {
    /// Message ids (base64) of the conversation's latest posts seen, for causal order.
    pub tips: Vec<String>,
    /// The text, if any.
    pub text: Option<String>,
    /// Codec2 voice data, if any.
    pub voice: Option<Vec<u8>>,
    /// Unix seconds.
    pub ts: i64,
    /// Recipient refs of a private post (own ref last); `None` for the public channel.
    pub recps: Option<Vec<String>>,
    /// Whether this was read from the old 4-element form.
    pub old_format: bool,
}

/// Why content is not a TAV post.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TavError {
    /// Not BIPF.
    #[error("not BIPF: {0}")]
    Bipf(#[from] BipfError),
    /// Not a list starting with "TAV".
    #[error("not a TAV post")]
    NotTav,
    /// A field of the wrong type.
    #[error("TAV field {0} has the wrong type")]
    Field(&'static str),
    /// Neither 4, 5 nor 6 elements.
    #[error("TAV with {0} elements (4, 5 or 6 expected)")]
    Arity(usize),
}

impl Tav {
    /// A public text post with no tips.
    pub fn public_text(text: &str, ts: i64) -> Tav {
        Tav {
            tips: Vec::new(),
            text: Some(text.to_owned()),
            voice: None,
            ts,
            recps: None,
            old_format: false,
        }
    }

    /// The BIPF value (5- or 6-element form; the old form if read as old).
    pub fn to_value(&self) -> Value {
        let text = self.text.clone().map_or(Value::Null, Value::Str);
        let voice = self.voice.clone().map_or(Value::Null, Value::Bytes);
        let strs = |v: &[String]| Value::List(v.iter().cloned().map(Value::Str).collect());
        let mut items = vec![Value::str(TAG)];
        if self.old_format {
            items.extend([text, voice, Value::Int(self.ts)]);
        } else {
            items.extend([strs(&self.tips), text, voice, Value::Int(self.ts)]);
            if let Some(r) = &self.recps {
                items.push(strs(r));
            }
        }
        Value::List(items)
    }

    /// The encoded content.
    pub fn encode(&self) -> Vec<u8> {
        self.to_value().encode()
    }

    /// Decodes content bytes.
    pub fn decode(content: &[u8]) -> Result<Tav, TavError> {
        Tav::from_value(&bipf::decode(content)?)
    }

    /// Reads a TAV from a BIPF value.
    pub fn from_value(v: &Value) -> Result<Tav, TavError> {
        let items = v.as_list().ok_or(TavError::NotTav)?;
        if items.first().and_then(Value::as_str) != Some(TAG) {
            return Err(TavError::NotTav);
        }
        let text = |v: Option<&Value>| match v {
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(Value::Null) => Ok(None),
            _ => Err(TavError::Field("text")),
        };
        let voice = |v: Option<&Value>| match v {
            Some(Value::Bytes(b)) => Ok(Some(b.clone())),
            Some(Value::Null) => Ok(None),
            _ => Err(TavError::Field("voice")),
        };
        let ts = |v: Option<&Value>| v.and_then(Value::as_int).ok_or(TavError::Field("ts"));
        let strs = |v: Option<&Value>, name| {
            v.and_then(Value::as_list)
                .ok_or(TavError::Field(name))?
                .iter()
                .map(|s| s.as_str().map(str::to_owned).ok_or(TavError::Field(name)))
                .collect::<Result<Vec<_>, _>>()
        };
        match items.len() {
            4 => Ok(Tav {
                tips: Vec::new(),
                text: text(items.get(1))?,
                voice: voice(items.get(2))?,
                ts: ts(items.get(3))?,
                recps: None,
                old_format: true,
            }),
            5 | 6 => Ok(Tav {
                tips: strs(items.get(1), "tips")?,
                text: text(items.get(2))?,
                voice: voice(items.get(3))?,
                ts: ts(items.get(4))?,
                recps: items.get(5).map(|r| strs(Some(r), "recps")).transpose()?,
                old_format: false,
            }),
            n => Err(TavError::Arity(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_five_element_form() {
        // bipf.json app_lists: ["TAV", [], "hello", null, 1700000000]
        let t = Tav::public_text("hello", 1_700_000_000);
        assert_eq!(
            hex::encode(t.encode()),
            "8c0118544156042868656c6c6f062200f15365"
        );
        assert_eq!(Tav::decode(&t.encode()), Ok(t));
    }

    #[test]
    fn reads_the_old_four_element_form() {
        // tinyssb-entries.json feed1 seq 1.
        let old = hex::decode("6c18544156106869062200f15365").unwrap();
        let t = Tav::decode(&old).unwrap();
        assert!(t.old_format);
        assert_eq!((t.text.as_deref(), t.ts), (Some("hi"), 1_700_000_000));
        assert_eq!(t.encode(), old);
    }

    #[test]
    fn wrong_field_types_are_errors() {
        let bad = Value::List(vec![
            Value::str("TAV"),
            Value::List(vec![]),
            Value::Int(3),
            Value::Null,
            Value::Int(1),
        ]);
        assert_eq!(Tav::from_value(&bad), Err(TavError::Field("text")));
        assert_eq!(
            Tav::from_value(&Value::List(vec![Value::str("KAN")])),
            Err(TavError::NotTav)
        );
    }
}
