//! What an entry's content means to the chat app: every entry decodes to one [`AppEntry`],
//! never to a panic or a dropped entry.
//!
//! Entries are what the Android app writes (`WebAppInterface.kt`):
//!
//! ```text
//! public       BIPF list  ["TAV", tips, text, voice, ts]   ["IAM", alias]   ["KAN", …] ["TTT", …]
//! confidential BIPF BYTES (a private box) whose plaintext is a BIPF list:
//!              ["TAV", tips, text, voice, ts, [recps…, author last]]
//!              ["DLV" | "ACK", msg ref (base64 MID)]                   to {reader, author}
//!              ["TRT", tips, contact hex, level, ts, null, [own ref]]  to self
//!              ["DEL", contact hex, value, [own ref]]                   to self
//!              ["HLD", chat tag, rows, ts]     to a group's members (Lichen; `holds`)
//! ```
//!
//! Boxes we cannot open are [`AppEntry::Sealed`] (addressed to others: normal when replicating
//! other people's feeds). Anything malformed, including a box addressed to us that does not
//! authenticate, is [`AppEntry::Unreadable`] with the reason. Tags we do not handle are
//! [`AppEntry::OtherApp`].

use crate::chat::private_box::{self, BoxError, Opener};
use crate::chat::tav::{self, Tav};
use crate::identity::FeedId;
use crate::wire::bipf::{self, BipfError, Value};
use crate::wire::Mid;

/// Header of Codec2 voice data as the app records it: `c0 de c2 01 00 <mode> 00`.
const CODEC2_MAGIC: [u8; 5] = [0xc0, 0xde, 0xc2, 0x01, 0x00];
/// Location prefix before a post's text: `pfx:loc/plus,<plus code>|`.
const LOCATION_PREFIX: &str = "pfx:loc/plus,";
/// Sketch data URL (the web frontend's own BIPF dialect inside).
const SKETCH_PREFIX: &str = "data:image/svg+bipf;base64,";
/// The older PNG image data URL.
const PNG_PREFIX: &str = "data:image/png;base64,";

/// One entry's content, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// What it is.
    pub entry: AppEntry,
    /// Whether it came in a private box (opened or not).
    pub confidential: bool,
}

/// The meaning of one entry.
#[derive(Debug, Clone, PartialEq)]
pub enum AppEntry {
    /// A text-and-voice post (public channel or private chat).
    Post(Post),
    /// A delivery (DLV) or read (ACK) receipt.
    Receipt(Receipt),
    /// An alias the author announces for themself (IAM; "" resets it).
    Alias(String),
    /// A trust level the author set for a contact (TRT).
    Trust(Trust),
    /// The author deleted a contact (DEL).
    Deleted(Deleted),
    /// A group delivery record (HLD, sealed; ADR 0026).
    Holds(crate::chat::holds::Holds),
    /// An entry of another app (KAN, TTT, CUS, unknown tags): kept and listed, not shown.
    OtherApp {
        /// The app tag.
        tag: String,
    },
    /// A private box that does not open with our key: addressed to others.
    Sealed,
    /// Content we cannot make sense of.
    Unreadable {
        /// The app tag, when the content got that far.
        tag: Option<String>,
        /// Why.
        reason: String,
    },
}

/// A text-and-voice post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The post as written (text kept intact, prefixes included).
    pub tav: Tav,
    /// The recipients of a private post (own ref last as the app writes it); `None` for the
    /// public channel.
    pub recps: Option<Vec<FeedId>>,
}

/// What a post carries besides plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Plain text.
    Text,
    /// Codec2 voice data (`mode` from its header, if it has the app's header).
    Voice {
        /// The Codec2 mode byte.
        mode: Option<u8>,
    },
    /// A sketch (`data:image/svg+bipf;base64,…` text).
    Sketch,
    /// An image (`data:image/png;base64,…` text).
    Image,
    /// Neither text nor voice.
    Empty,
}

impl Post {
    /// The plus code of the location prefix, if the text has one.
    pub fn location(&self) -> Option<&str> {
        split_location(self.tav.text.as_deref()?).0
    }

    /// The text without the location prefix.
    pub fn body_text(&self) -> Option<&str> {
        Some(split_location(self.tav.text.as_deref()?).1)
    }

    /// What the post carries.
    pub fn payload(&self) -> Payload {
        payload_of(self.tav.text.as_deref(), self.tav.voice.as_deref())
    }
}

/// Splits the app's location prefix `pfx:loc/plus,<plus code>|` off a text: (plus code, rest).
pub fn split_location(text: &str) -> (Option<&str>, &str) {
    match text
        .strip_prefix(LOCATION_PREFIX)
        .and_then(|r| r.split_once('|'))
    {
        Some((code, body)) => (Some(code), body),
        None => (None, text),
    }
}

/// What a post with this text and voice carries.
pub fn payload_of(text: Option<&str>, voice: Option<&[u8]>) -> Payload {
    if let Some(v) = voice {
        let mode = (v.len() >= 7 && v[..5] == CODEC2_MAGIC).then(|| v[5]);
        return Payload::Voice { mode };
    }
    match text.map(|t| split_location(t).1) {
        Some(t) if t.starts_with(SKETCH_PREFIX) => Payload::Sketch,
        Some(t) if t.starts_with(PNG_PREFIX) => Payload::Image,
        Some(_) => Payload::Text,
        None => Payload::Empty,
    }
}

/// Which receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReceiptKind {
    /// DLV: the message arrived on the reader's device.
    Delivered,
    /// ACK: the reader saw it.
    Read,
}

impl ReceiptKind {
    /// The app tag.
    pub fn tag(self) -> &'static str {
        match self {
            ReceiptKind::Delivered => "DLV",
            ReceiptKind::Read => "ACK",
        }
    }
}

/// A DLV or ACK receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Which.
    pub kind: ReceiptKind,
    /// The message it confirms.
    pub msg: Mid,
}

/// A TRT entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// The contact.
    pub contact: FeedId,
    /// 0 untrusted, 1 trusted, 2 verified (QR code or invite).
    pub level: i64,
    /// Unix seconds, if present.
    pub ts: Option<i64>,
}

/// A DEL entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    /// The contact.
    pub contact: FeedId,
    /// 1 = deleted (the app's only value so far).
    pub value: i64,
}

fn unreadable(tag: Option<&str>, reason: impl Into<String>) -> AppEntry {
    AppEntry::Unreadable {
        tag: tag.map(str::to_owned),
        reason: reason.into(),
    }
}

/// Reads BIPF, accepting the zero padding of a plain48 payload after the item.
fn read_bipf(content: &[u8]) -> Result<Value, BipfError> {
    match bipf::decode(content) {
        Err(BipfError::TrailingBytes { at, .. })
            if content.get(at..).is_some_and(|t| t.iter().all(|b| *b == 0)) =>
        {
            Ok(bipf::decode_prefix(content, bipf::IntMode::Signed)?.0)
        }
        other => other,
    }
}

/// Decodes an entry's complete content; `opener` opens private boxes addressed to us.
pub fn decode(content: &[u8], opener: Option<&Opener>) -> Decoded {
    let value = match read_bipf(content) {
        Ok(v) => v,
        Err(e) => {
            return Decoded {
                entry: unreadable(None, format!("not BIPF: {e}")),
                confidential: false,
            }
        }
    };
    let Value::Bytes(boxed) = value else {
        return Decoded {
            entry: classify(&value, false),
            confidential: false,
        };
    };
    let entry = match opener.map(|o| o.open(&boxed)) {
        None | Some(Err(BoxError::NotForMe)) => AppEntry::Sealed,
        Some(Err(e)) => unreadable(None, format!("private box: {e}")),
        Some(Ok(plain)) => match bipf::decode(&plain) {
            Ok(v) => classify(&v, true),
            Err(e) => unreadable(None, format!("private box holds no BIPF: {e}")),
        },
    };
    Decoded {
        entry,
        confidential: true,
    }
}

fn classify(v: &Value, confidential: bool) -> AppEntry {
    let Some(items) = v.as_list() else {
        return unreadable(None, "neither an app list nor a private box");
    };
    let Some(tag) = items.first().and_then(Value::as_str) else {
        return unreadable(None, "the list does not start with an app tag");
    };
    let bad = |reason: &str| unreadable(Some(tag), reason);
    match tag {
        tav::TAG => match Tav::from_value(v) {
            Err(e) => bad(&e.to_string()),
            // A public post goes to the public channel, even with a recipient list.
            Ok(t) if !confidential => AppEntry::Post(Post {
                tav: t,
                recps: None,
            }),
            Ok(t) => match &t.recps {
                None => bad("private post without a recipient list"),
                Some(refs) => match parse_refs(refs) {
                    Ok(r) if r.is_empty() => bad("private post with an empty recipient list"),
                    Ok(r) => AppEntry::Post(Post {
                        recps: Some(r),
                        tav: t,
                    }),
                    Err(e) => bad(&e),
                },
            },
        },
        "DLV" | "ACK" => {
            let kind = if tag == "DLV" {
                ReceiptKind::Delivered
            } else {
                ReceiptKind::Read
            };
            match items.get(1).and_then(Value::as_str).and_then(Mid::from_b64) {
                Some(msg) => AppEntry::Receipt(Receipt { kind, msg }),
                None => bad("receipt without a message reference"),
            }
        }
        crate::chat::holds::TAG if confidential => match crate::chat::holds::Holds::from_value(v) {
            Ok(h) => AppEntry::Holds(h),
            Err(e) => bad(&e),
        },
        "IAM" => match items.get(1) {
            Some(Value::Str(s)) => AppEntry::Alias(s.clone()),
            _ => bad("alias is not a string"),
        },
        "TRT" => {
            let contact = items.get(2).and_then(hex_fid);
            let level = items.get(3).and_then(Value::as_int);
            match (contact, level) {
                (Some(contact), Some(level)) => AppEntry::Trust(Trust {
                    contact,
                    level,
                    ts: items.get(4).and_then(Value::as_int),
                }),
                _ => bad("trust entry without a contact id and a level"),
            }
        }
        "DEL" => match (
            items.get(1).and_then(hex_fid),
            items.get(2).map(Value::as_int),
        ) {
            (Some(contact), Some(Some(value))) => AppEntry::Deleted(Deleted { contact, value }),
            _ => bad("delete entry without a contact id and a value"),
        },
        _ => AppEntry::OtherApp {
            tag: tag.to_owned(),
        },
    }
}

fn hex_fid(v: &Value) -> Option<FeedId> {
    let s = v.as_str()?;
    (s.len() == 64).then_some(())?;
    s.parse().ok()
}

fn parse_refs(refs: &[String]) -> Result<Vec<FeedId>, String> {
    refs.iter()
        .map(|r| {
            if !r.starts_with('@') {
                return Err(format!("recipient {r:?} is not an @….ed25519 reference"));
            }
            r.parse::<FeedId>()
                .map_err(|_| format!("recipient {r:?} is not a feed id"))
        })
        .collect()
}

/// The BIPF BYTES content the app publishes for a private entry: `plaintext` sealed to
/// `recipients` (in slot order).
pub fn seal_entry(plaintext: &Value, recipients: &[FeedId]) -> Result<Vec<u8>, BoxError> {
    Ok(Value::Bytes(private_box::seal(&plaintext.encode(), recipients)?).encode())
}

/// `["DLV" | "ACK", msg ref]`.
pub fn receipt_value(kind: ReceiptKind, msg: &Mid) -> Value {
    Value::List(vec![Value::str(kind.tag()), Value::Str(msg.to_b64())])
}

/// `["IAM", alias]`.
pub fn alias_value(alias: &str) -> Value {
    Value::List(vec![Value::str("IAM"), Value::str(alias)])
}

/// `["TRT", tips, contact hex, level, ts, null, [own ref]]`, as the app writes it.
pub fn trust_value(contact: &FeedId, level: i64, ts: i64, tips: &[Mid], me: &FeedId) -> Value {
    Value::List(vec![
        Value::str("TRT"),
        Value::List(tips.iter().map(|t| Value::Str(t.to_b64())).collect()),
        Value::Str(contact.to_hex()),
        Value::Int(level),
        Value::Int(ts),
        Value::Null,
        Value::List(vec![Value::Str(me.to_ref())]),
    ])
}

/// `["DEL", contact hex, value, [own ref]]`, as the app writes it.
pub fn deleted_value(contact: &FeedId, value: i64, me: &FeedId) -> Value {
    Value::List(vec![
        Value::str("DEL"),
        Value::Str(contact.to_hex()),
        Value::Int(value),
        Value::List(vec![Value::Str(me.to_ref())]),
    ])
}
