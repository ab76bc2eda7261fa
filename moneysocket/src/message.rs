//! v1 message framing (RFC BOM #4, as py-moneysocket `moneysocket1` codes it).
//!
//! A message is one TLV record of type 0 whose value is, in order:
//! sender_version (0, 3 bytes), message_type (1: a class byte, 0 = request
//! and 1 = notification, then a BigSize subtype), language_object (2, UTF-8
//! JSON), then optional extra records that must not reuse types 0–2.
//!
//! The JSON must carry `timestamp` (≥ 0, at most an hour ahead of the
//! receiver's clock), `version` equal to the TLV, `type`, `subtype`,
//! `features`, `feature_data`, `subtype_data` and `request_uuid` (UUID v4; may
//! be null in notifications). Subtype numbers follow the code, which is the
//! only source with vectors: requests TRANSPORT_PING = 0, RENDEZVOUS = 1;
//! notifications TRANSPORT_PONG = 0, RENDEZVOUS = 1, RENDEZVOUS_NOT_READY =
//! 2, RENDEZVOUS_END = 3. As in the reference, only subtypes with a defined
//! body decode (today TRANSPORT_PING and TRANSPORT_PONG).
//!
//! The JSON is kept with its key order and re-encoded the way Python's
//! `json.dumps` writes it, so decoded vectors re-encode byte for byte. The
//! reference never checks the class byte and subtype number against the
//! JSON (its check has type confusions); this decoder does, as its last
//! check, so earlier errors are reported as the reference reports them.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::bigsize;
use crate::error::{LanguageObjectError as L, MessageError};
use crate::json::{Json, JsonObject};
use crate::tlv::{self, Record};
use crate::uuid::Uuid;
use crate::version::Version;

const MESSAGE_TYPE: u64 = 0;
const SENDER_VERSION: u64 = 0;
const MESSAGE_KIND: u64 = 1;
const LANGUAGE_OBJECT: u64 = 2;
const ONE_HOUR: f64 = 3600.0;

/// Request or notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// A request (class byte 0, `"REQUEST"`).
    Request,
    /// A notification (class byte 1, `"NOTIFICATION"`).
    Notification,
}

impl MessageClass {
    /// The class byte.
    pub fn to_byte(self) -> u8 {
        match self {
            MessageClass::Request => 0,
            MessageClass::Notification => 1,
        }
    }

    /// The JSON `type` string.
    pub fn name(self) -> &'static str {
        match self {
            MessageClass::Request => "REQUEST",
            MessageClass::Notification => "NOTIFICATION",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "REQUEST" => Some(MessageClass::Request),
            "NOTIFICATION" => Some(MessageClass::Notification),
            _ => None,
        }
    }
}

/// RFC subtype numbers (as the reference code assigns them).
pub fn rfc_subtype_number(class: MessageClass, name: &str) -> Option<u64> {
    match (class, name) {
        (MessageClass::Request, "TRANSPORT_PING") => Some(0),
        (MessageClass::Request, "RENDEZVOUS") => Some(1),
        (MessageClass::Notification, "TRANSPORT_PONG") => Some(0),
        (MessageClass::Notification, "RENDEZVOUS") => Some(1),
        (MessageClass::Notification, "RENDEZVOUS_NOT_READY") => Some(2),
        (MessageClass::Notification, "RENDEZVOUS_END") => Some(3),
        _ => None,
    }
}

/// A decoded v1 message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Version of the sender's software.
    pub sender_version: Version,
    /// Request or notification.
    pub class: MessageClass,
    /// Subtype number.
    pub subtype: u64,
    /// The JSON body, key order preserved.
    pub language_object: JsonObject,
    /// Records after the language object, kept verbatim.
    pub additional_tlvs: Vec<Record>,
}

impl Message {
    /// A TRANSPORT_PING request.
    pub fn transport_ping(version: Version, timestamp: f64, request_uuid: Uuid) -> Self {
        Message::new_rfc(
            version,
            MessageClass::Request,
            "TRANSPORT_PING",
            timestamp,
            Json::str(request_uuid.to_string()),
        )
    }

    /// A TRANSPORT_PONG notification answering `request_uuid`.
    pub fn transport_pong(version: Version, timestamp: f64, request_uuid: Uuid) -> Self {
        Message::new_rfc(
            version,
            MessageClass::Notification,
            "TRANSPORT_PONG",
            timestamp,
            Json::str(request_uuid.to_string()),
        )
    }

    fn new_rfc(
        version: Version,
        class: MessageClass,
        subtype: &str,
        timestamp: f64,
        request_uuid: Json,
    ) -> Self {
        let version_obj = JsonObject::new()
            .with("major", Json::int(version.major.into()))
            .with("minor", Json::int(version.minor.into()))
            .with("patch", Json::int(version.patch.into()));
        let language_object = JsonObject::new()
            .with("timestamp", Json::float(timestamp))
            .with("version", version_obj.into())
            .with("type", Json::str(class.name()))
            .with("subtype", Json::str(subtype))
            .with("subtype_data", JsonObject::new().into())
            .with("request_uuid", request_uuid)
            .with("features", Json::Array(Vec::new()))
            .with("feature_data", JsonObject::new().into());
        Message {
            sender_version: version,
            class,
            subtype: rfc_subtype_number(class, subtype).unwrap_or(0),
            language_object,
            additional_tlvs: Vec::new(),
        }
    }

    /// Decodes, judging timestamps against the system clock.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Message::decode_at(bytes, now)
    }

    /// Decodes, judging timestamps against `now` (UNIX seconds).
    pub fn decode_at(bytes: &[u8], now: f64) -> Result<Self, MessageError> {
        let (outer, rest) = tlv::pop(bytes).map_err(MessageError::Tlv)?;
        if !rest.is_empty() {
            return Err(MessageError::ExtraBytes);
        }
        if outer.tlv_type != MESSAGE_TYPE {
            return Err(MessageError::UnexpectedType(outer.tlv_type));
        }
        let records = tlv::records(outer.value).map_err(MessageError::InnerTlv)?;
        let mut iter = records.into_iter();
        let version = iter.next().ok_or(MessageError::Empty)?;
        if version.tlv_type != SENDER_VERSION {
            return Err(MessageError::MissingSenderVersion);
        }
        let sender_version = Version::from_bytes(version.value)
            .ok_or(MessageError::BadSenderVersion(version.value.len()))?;

        let kind = iter.next().ok_or(MessageError::MissingMessageType)?;
        if kind.tlv_type != MESSAGE_KIND {
            return Err(MessageError::NotMessageType(kind.tlv_type));
        }
        let (&class_byte, rest) = kind
            .value
            .split_first()
            .ok_or(MessageError::MessageClassMissing)?;
        let (subtype, rest) = bigsize::decode(rest).map_err(MessageError::Subtype)?;
        if !rest.is_empty() {
            return Err(MessageError::MessageTypeExtraBytes);
        }

        let body = iter.next().ok_or(MessageError::MissingLanguageObject)?;
        if body.tlv_type != LANGUAGE_OBJECT {
            return Err(MessageError::NotLanguageObject(body.tlv_type));
        }
        let json = Json::parse(body.value).map_err(|e| MessageError::Json(e.to_string()))?;
        let Json::Object(language_object) = json else {
            return Err(L::NotObject.into());
        };
        let class = check_language_object(&language_object, sender_version, now)?;

        let additional_tlvs: Vec<Record> = iter.map(Record::from).collect();
        if let Some(dup) = additional_tlvs
            .iter()
            .find(|r| matches!(r.tlv_type, SENDER_VERSION | MESSAGE_KIND | LANGUAGE_OBJECT))
        {
            return Err(MessageError::DuplicateTlv(dup.tlv_type));
        }

        let subtype_name = language_object
            .get("subtype")
            .and_then(Json::as_str)
            .unwrap_or_default();
        if class_byte != class.to_byte() {
            return Err(MessageError::ClassMismatch {
                byte: class_byte,
                name: class.name().to_owned(),
            });
        }
        if rfc_subtype_number(class, subtype_name) != Some(subtype) {
            return Err(MessageError::SubtypeMismatch {
                number: subtype,
                name: subtype_name.to_owned(),
            });
        }
        Ok(Message {
            sender_version,
            class,
            subtype,
            language_object,
            additional_tlvs,
        })
    }

    /// Encodes the message (JSON written as Python's `json.dumps` does).
    pub fn encode(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        tlv::encode_into(SENDER_VERSION, &self.sender_version.to_bytes(), &mut inner);
        let mut kind = vec![self.class.to_byte()];
        bigsize::encode_into(self.subtype, &mut kind);
        tlv::encode_into(MESSAGE_KIND, &kind, &mut inner);
        let json = Json::Object(self.language_object.clone()).to_python_string();
        tlv::encode_into(LANGUAGE_OBJECT, json.as_bytes(), &mut inner);
        for record in &self.additional_tlvs {
            record.encode_into(&mut inner);
        }
        tlv::encode(MESSAGE_TYPE, &inner)
    }

    /// The JSON `subtype` name.
    pub fn subtype_name(&self) -> &str {
        self.language_object
            .get("subtype")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }

    /// The JSON `timestamp` as seconds.
    pub fn timestamp(&self) -> f64 {
        self.language_object
            .get("timestamp")
            .and_then(Json::as_number)
            .and_then(|n| n.as_f64())
            .unwrap_or(0.0)
    }

    /// The JSON `request_uuid`, if it is a string.
    pub fn request_uuid(&self) -> Option<&str> {
        self.language_object
            .get("request_uuid")
            .and_then(Json::as_str)
    }
}

/// Runs the reference decoder's language-object checks in its order.
fn check_language_object(obj: &JsonObject, sender: Version, now: f64) -> Result<MessageClass, L> {
    let ts = obj.get("timestamp").ok_or(L::Missing("timestamp"))?;
    let ts = ts
        .as_number()
        .and_then(|n| n.as_f64())
        .ok_or(L::WrongType("timestamp"))?;
    if ts < 0.0 {
        return Err(L::Negative("timestamp"));
    }
    if ts > now + ONE_HOUR {
        return Err(L::FutureTimestamp);
    }
    let version = obj.get("version").ok_or(L::Missing("version"))?;
    let version = version.as_object().ok_or(L::WrongType("version"))?;
    let major = version_part(version, "major")?;
    let minor = version_part(version, "minor")?;
    let patch = version_part(version, "patch")?;
    for (name, got, want) in [
        ("major", major, sender.major),
        ("minor", minor, sender.minor),
        ("patch", patch, sender.patch),
    ] {
        if got != want {
            return Err(L::VersionMismatch(name));
        }
    }

    let features = obj.get("features").ok_or(L::Missing("features"))?;
    let features = features.as_array().ok_or(L::WrongType("features"))?;
    if features.iter().any(|f| f.as_str().is_none()) {
        return Err(L::WrongType("features entry"));
    }
    let data = obj.get("feature_data").ok_or(L::Missing("feature_data"))?;
    let data = data.as_object().ok_or(L::WrongType("feature_data"))?;
    for (key, value) in data.iter() {
        if !features.iter().any(|f| f.as_str() == Some(key)) {
            return Err(L::UndeclaredFeature(key.to_owned()));
        }
        if value.is_null() {
            return Err(L::NullFeatureData(key.to_owned()));
        }
    }

    let type_name = non_empty_str(obj, "type")?;
    let subtype = non_empty_str(obj, "subtype")?;

    let class =
        MessageClass::from_name(type_name).ok_or_else(|| L::UnknownType(type_name.to_owned()))?;
    let uuid = obj.get("request_uuid").ok_or(L::Missing("request_uuid"))?;
    match (class, uuid) {
        (MessageClass::Notification, Json::Null) => {}
        (_, Json::String(s)) => check_uuid_v4(s)?,
        _ => return Err(L::WrongType("request_uuid")),
    }

    let subtype_data = obj.get("subtype_data").ok_or(L::Missing("subtype_data"))?;
    if subtype_data.as_object().is_none() {
        return Err(L::WrongType("subtype_data"));
    }
    match (class, subtype) {
        (MessageClass::Request, "TRANSPORT_PING") => {}
        (MessageClass::Notification, "TRANSPORT_PONG") => {
            // A pong must answer a ping.
            if uuid.is_null() {
                return Err(L::WrongType("request_uuid"));
            }
        }
        _ => return Err(L::UnknownSubtype(subtype.to_owned())),
    }
    Ok(class)
}

fn version_part(version: &JsonObject, part: &'static str) -> Result<u8, L> {
    let v = version.get(part).ok_or(L::Missing(part))?;
    let n = v.as_integer().ok_or(L::WrongType(part))?;
    if n < 0 {
        return Err(L::Negative(part));
    }
    u8::try_from(n).map_err(|_| L::TooLarge(part))
}

fn non_empty_str<'a>(obj: &'a JsonObject, key: &'static str) -> Result<&'a str, L> {
    let v = obj.get(key).ok_or(L::Missing(key))?;
    let s = v.as_str().ok_or(L::WrongType(key))?;
    if s.is_empty() {
        return Err(L::Empty(key));
    }
    Ok(s)
}

fn check_uuid_v4(s: &str) -> Result<(), L> {
    let uuid = Uuid::parse(s).map_err(|_| L::InvalidUuid)?;
    if uuid.version() != Some(4) {
        return Err(L::UuidNotV4);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_round_trip() {
        let id = Uuid::parse("a5b32936-3143-4856-bdea-7b3dda7aa5e8").unwrap();
        let v = Version::new(3, 2, 1);
        for m in [
            Message::transport_ping(v, 1234.5, id),
            Message::transport_pong(v, 1234.5, id),
        ] {
            let bytes = m.encode();
            let back = Message::decode_at(&bytes, 2000.0).unwrap();
            assert_eq!(back, m);
            assert_eq!(back.encode(), bytes);
            assert_eq!(back.request_uuid(), Some(id.to_string().as_str()));
            assert_eq!(back.timestamp(), 1234.5);
        }
    }

    #[test]
    fn class_byte_must_match_the_json() {
        let id = Uuid::parse("a5b32936-3143-4856-bdea-7b3dda7aa5e8").unwrap();
        let mut m = Message::transport_ping(Version::new(1, 0, 0), 10.0, id);
        m.class = MessageClass::Notification;
        assert!(matches!(
            Message::decode_at(&m.encode(), 10.0),
            Err(MessageError::ClassMismatch { byte: 1, .. })
        ));
        let mut m = Message::transport_ping(Version::new(1, 0, 0), 10.0, id);
        m.subtype = 7;
        assert!(matches!(
            Message::decode_at(&m.encode(), 10.0),
            Err(MessageError::SubtypeMismatch { number: 7, .. })
        ));
    }

    #[test]
    fn future_is_judged_against_the_given_clock() {
        let id = Uuid::parse("a5b32936-3143-4856-bdea-7b3dda7aa5e8").unwrap();
        let m = Message::transport_ping(Version::new(1, 0, 0), 10_000.0, id);
        assert!(Message::decode_at(&m.encode(), 6_401.0).is_ok());
        assert_eq!(
            Message::decode_at(&m.encode(), 6_399.0),
            Err(MessageError::LanguageObject(L::FutureTimestamp))
        );
    }
}
