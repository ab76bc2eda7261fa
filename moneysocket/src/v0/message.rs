//! v0 JSON messages: the common envelope and the known message names.
//!
//! Every message has `timestamp` (number ≥ 0), `protocol` (`"Moneysocket"`),
//! `protocol_version` (a string, `"0.0.0"`) and `message_class`. Requests
//! add `request_uuid` and `request_name`; notifications add
//! `notification_uuid`, `request_reference_uuid` (a UUID or null) and
//! `notification_name`. The fields of the known names are checked as the
//! deployed Python code checks them.
//!
//! Unlike the deployed decoder, an unknown name is not an error: the
//! message is kept as a generic envelope, so extensions (the "opinion
//! seller" demo names, future Lichen names) pass through. The whole JSON
//! object is kept in order and written back the way Python's `json.dumps`
//! writes it, so a message re-encodes byte for byte.

use crate::error::V0MessageError as E;
use crate::json::{Json, JsonObject};
use crate::message::MessageClass;
use crate::seed::RendezvousId;
use crate::uuid::Uuid;

/// The `protocol` value of every v0 message.
pub const PROTOCOL: &str = "Moneysocket";
/// The `protocol_version` v0 software writes.
pub const PROTOCOL_VERSION: &str = "0.0.0";

/// The message names the deployed code defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Name {
    /// Single → matchmaker: pair me by rendezvous id (cleartext).
    RequestRendezvous,
    /// Consumer → provider: start the provider handshake.
    RequestProvider,
    /// Consumer → provider: liveness check.
    RequestPing,
    /// Consumer → provider: make an invoice for `msats`.
    RequestInvoice,
    /// Consumer → provider: pay `bolt11`.
    RequestPay,
    /// Matchmaker → single: you are paired (cleartext).
    NotifyRendezvous,
    /// Matchmaker → single: waiting for the peer (cleartext).
    NotifyRendezvousNotReady,
    /// Matchmaker → single: the peer left (cleartext).
    NotifyRendezvousEnd,
    /// Provider → consumer: account info and balance.
    NotifyProvider,
    /// Provider → consumer: not ready yet.
    NotifyProviderNotReady,
    /// Provider → consumer: answer to a ping.
    NotifyPong,
    /// Provider → consumer: the requested invoice.
    NotifyInvoice,
    /// Provider → consumer: a payment's preimage.
    NotifyPreimage,
    /// Provider → consumer: an error text.
    NotifyError,
}

impl Name {
    /// All known names.
    pub const ALL: [Name; 14] = [
        Name::RequestRendezvous,
        Name::RequestProvider,
        Name::RequestPing,
        Name::RequestInvoice,
        Name::RequestPay,
        Name::NotifyRendezvous,
        Name::NotifyRendezvousNotReady,
        Name::NotifyRendezvousEnd,
        Name::NotifyProvider,
        Name::NotifyProviderNotReady,
        Name::NotifyPong,
        Name::NotifyInvoice,
        Name::NotifyPreimage,
        Name::NotifyError,
    ];

    /// The wire name, e.g. `REQUEST_RENDEZVOUS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Name::RequestRendezvous => "REQUEST_RENDEZVOUS",
            Name::RequestProvider => "REQUEST_PROVIDER",
            Name::RequestPing => "REQUEST_PING",
            Name::RequestInvoice => "REQUEST_INVOICE",
            Name::RequestPay => "REQUEST_PAY",
            Name::NotifyRendezvous => "NOTIFY_RENDEZVOUS",
            Name::NotifyRendezvousNotReady => "NOTIFY_RENDEZVOUS_NOT_READY",
            Name::NotifyRendezvousEnd => "NOTIFY_RENDEZVOUS_END",
            Name::NotifyProvider => "NOTIFY_PROVIDER",
            Name::NotifyProviderNotReady => "NOTIFY_PROVIDER_NOT_READY",
            Name::NotifyPong => "NOTIFY_PONG",
            Name::NotifyInvoice => "NOTIFY_INVOICE",
            Name::NotifyPreimage => "NOTIFY_PREIMAGE",
            Name::NotifyError => "NOTIFY_ERROR",
        }
    }

    /// Whether this is a request or a notification.
    pub fn class(self) -> MessageClass {
        if self.as_str().starts_with("REQUEST_") {
            MessageClass::Request
        } else {
            MessageClass::Notification
        }
    }

    /// Looks a name up within its class.
    pub fn parse(class: MessageClass, name: &str) -> Option<Name> {
        Name::ALL
            .into_iter()
            .find(|n| n.class() == class && n.as_str() == name)
    }

    /// Rendezvous messages are never encrypted.
    pub fn must_be_cleartext(self) -> bool {
        matches!(
            self,
            Name::RequestRendezvous
                | Name::NotifyRendezvous
                | Name::NotifyRendezvousNotReady
                | Name::NotifyRendezvousEnd
        )
    }
}

/// A validated v0 message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    class: MessageClass,
    object: JsonObject,
}

impl Message {
    /// Parses and validates UTF-8 JSON text.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, E> {
        let json = Json::parse(bytes).map_err(|e| E::Json(e.to_string()))?;
        match json {
            Json::Object(object) => Message::from_object(object),
            _ => Err(E::NotObject),
        }
    }

    /// Validates a JSON object as a message.
    pub fn from_object(object: JsonObject) -> Result<Self, E> {
        let class = check_envelope(&object)?;
        let message = Message { class, object };
        if let Some(name) = message.known_name() {
            check_fields(name, &message.object)?;
        }
        Ok(message)
    }

    /// The JSON text, formatted as Python's `json.dumps` writes it.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        Json::Object(self.object.clone())
            .to_python_string()
            .into_bytes()
    }

    /// A request envelope; add fields with [`Message::with_field`].
    pub fn request(name: &str, timestamp: f64, request_uuid: Uuid) -> Self {
        let object = envelope(timestamp, MessageClass::Request)
            .with("request_uuid", Json::str(request_uuid.to_string()))
            .with("request_name", Json::str(name));
        Message {
            class: MessageClass::Request,
            object,
        }
    }

    /// A notification envelope; add fields with [`Message::with_field`].
    pub fn notification(
        name: &str,
        timestamp: f64,
        notification_uuid: Uuid,
        request_reference_uuid: Option<&str>,
    ) -> Self {
        let reference = request_reference_uuid.map_or(Json::Null, Json::str);
        let object = envelope(timestamp, MessageClass::Notification)
            .with(
                "notification_uuid",
                Json::str(notification_uuid.to_string()),
            )
            .with("request_reference_uuid", reference)
            .with("notification_name", Json::str(name));
        Message {
            class: MessageClass::Notification,
            object,
        }
    }

    /// Adds or replaces a field (not re-validated; see [`Message::validate`]).
    pub fn with_field(mut self, key: &str, value: Json) -> Self {
        self.object.insert(key, value);
        self
    }

    /// Re-runs the decoder's checks (useful after [`Message::with_field`]).
    pub fn validate(&self) -> Result<(), E> {
        Message::from_object(self.object.clone()).map(|_| ())
    }

    /// REQUEST_RENDEZVOUS for `rendezvous_id`.
    pub fn request_rendezvous(timestamp: f64, request_uuid: Uuid, rid: &RendezvousId) -> Self {
        Message::request(Name::RequestRendezvous.as_str(), timestamp, request_uuid)
            .with_field("rendezvous_id", Json::str(rid.to_string()))
    }

    /// Request or notification.
    pub fn class(&self) -> MessageClass {
        self.class
    }

    /// `request_name` or `notification_name`.
    pub fn name(&self) -> &str {
        let key = match self.class {
            MessageClass::Request => "request_name",
            MessageClass::Notification => "notification_name",
        };
        self.str_field(key).unwrap_or_default()
    }

    /// The name, if it is one the deployed code defines.
    pub fn known_name(&self) -> Option<Name> {
        Name::parse(self.class, self.name())
    }

    /// True for messages that must never be encrypted.
    pub fn must_be_cleartext(&self) -> bool {
        self.known_name().is_some_and(Name::must_be_cleartext)
    }

    /// `timestamp` in UNIX seconds.
    pub fn timestamp(&self) -> f64 {
        self.object
            .get("timestamp")
            .and_then(Json::as_number)
            .and_then(|n| n.as_f64())
            .unwrap_or(0.0)
    }

    /// `request_uuid` (requests).
    pub fn request_uuid(&self) -> Option<&str> {
        self.str_field("request_uuid")
    }

    /// `notification_uuid` (notifications).
    pub fn notification_uuid(&self) -> Option<&str> {
        self.str_field("notification_uuid")
    }

    /// `request_reference_uuid` (notifications; `None` when null).
    pub fn request_reference_uuid(&self) -> Option<&str> {
        self.str_field("request_reference_uuid")
    }

    /// `rendezvous_id`, for the rendezvous messages.
    pub fn rendezvous_id(&self) -> Option<RendezvousId> {
        self.str_field("rendezvous_id")?.parse().ok()
    }

    /// Any field.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.object.get(key)
    }

    /// The whole JSON object.
    pub fn object(&self) -> &JsonObject {
        &self.object
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.object.get(key).and_then(Json::as_str)
    }
}

fn envelope(timestamp: f64, class: MessageClass) -> JsonObject {
    JsonObject::new()
        .with("timestamp", Json::float(timestamp))
        .with("protocol", Json::str(PROTOCOL))
        .with("protocol_version", Json::str(PROTOCOL_VERSION))
        .with("message_class", Json::str(class.name()))
}

fn get_str<'a>(obj: &'a JsonObject, key: &'static str) -> Result<&'a str, E> {
    obj.get(key)
        .ok_or(E::Missing(key))?
        .as_str()
        .ok_or(E::WrongType(key))
}

fn check_uuid(obj: &JsonObject, key: &'static str) -> Result<(), E> {
    Uuid::parse(get_str(obj, key)?).map_err(|_| E::Invalid(key))?;
    Ok(())
}

fn check_envelope(obj: &JsonObject) -> Result<MessageClass, E> {
    let class = get_str(obj, "message_class")?;
    let class = match class {
        "REQUEST" => MessageClass::Request,
        "NOTIFICATION" => MessageClass::Notification,
        other => return Err(E::UnknownClass(other.to_owned())),
    };
    let ts = obj.get("timestamp").ok_or(E::Missing("timestamp"))?;
    let ts = ts
        .as_number()
        .and_then(|n| n.as_f64())
        .ok_or(E::WrongType("timestamp"))?;
    if ts < 0.0 {
        return Err(E::Invalid("timestamp"));
    }
    let protocol = get_str(obj, "protocol")?;
    if protocol != PROTOCOL {
        return Err(E::UnknownProtocol(protocol.to_owned()));
    }
    get_str(obj, "protocol_version")?;
    match class {
        MessageClass::Request => {
            check_uuid(obj, "request_uuid")?;
            get_str(obj, "request_name")?;
        }
        MessageClass::Notification => {
            check_uuid(obj, "notification_uuid")?;
            match obj.get("request_reference_uuid") {
                None => return Err(E::Missing("request_reference_uuid")),
                Some(Json::Null) => {}
                Some(_) => check_uuid(obj, "request_reference_uuid")?,
            }
            get_str(obj, "notification_name")?;
        }
    }
    Ok(class)
}

fn check_hex(obj: &JsonObject, key: &'static str) -> Result<(), E> {
    let s = get_str(obj, key)?;
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(E::Invalid(key));
    }
    Ok(())
}

fn check_bolt11(obj: &JsonObject) -> Result<(), E> {
    if !get_str(obj, "bolt11")?.starts_with("lnbc") {
        return Err(E::Invalid("bolt11"));
    }
    Ok(())
}

fn check_bool(obj: &JsonObject, key: &'static str) -> Result<(), E> {
    obj.get(key)
        .ok_or(E::Missing(key))?
        .as_bool()
        .ok_or(E::WrongType(key))?;
    Ok(())
}

fn check_fields(name: Name, obj: &JsonObject) -> Result<(), E> {
    match name {
        Name::RequestRendezvous
        | Name::NotifyRendezvous
        | Name::NotifyRendezvousNotReady
        | Name::NotifyRendezvousEnd => check_hex(obj, "rendezvous_id"),
        Name::RequestInvoice => {
            let msats = obj.get("msats").ok_or(E::Missing("msats"))?;
            match msats.as_integer() {
                None => Err(E::WrongType("msats")),
                Some(m) if m <= 0 => Err(E::Invalid("msats")),
                Some(_) => Ok(()),
            }
        }
        Name::RequestPay | Name::NotifyInvoice => check_bolt11(obj),
        Name::NotifyPreimage => {
            check_hex(obj, "preimage")?;
            match obj.get("ext") {
                None | Some(Json::Null) => Ok(()),
                Some(Json::String(s)) if s.chars().count() <= 4096 => Ok(()),
                Some(Json::String(_)) => Err(E::Invalid("ext")),
                Some(_) => Err(E::WrongType("ext")),
            }
        }
        Name::NotifyProvider => {
            check_uuid(obj, "account_uuid")?;
            check_bool(obj, "payee")?;
            check_bool(obj, "payer")?;
            match obj.get("wad") {
                None | Some(Json::Null) | Some(Json::Object(_)) => Ok(()),
                Some(_) => Err(E::WrongType("wad")),
            }
        }
        Name::NotifyError => get_str(obj, "error_msg").map(|_| ()),
        Name::RequestProvider
        | Name::RequestPing
        | Name::NotifyProviderNotReady
        | Name::NotifyPong => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_kept() {
        let text = br#"{"timestamp": 1, "protocol": "Moneysocket", "protocol_version": "0.0.0", "message_class": "REQUEST", "request_uuid": "a5b32936-3143-4856-bdea-7b3dda7aa5e8", "request_name": "REQUEST_OPINION_SELLER", "extension_protocol": "X"}"#;
        let m = Message::from_json_bytes(text).unwrap();
        assert_eq!(m.name(), "REQUEST_OPINION_SELLER");
        assert_eq!(m.known_name(), None);
        assert_eq!(m.to_json_bytes(), text.to_vec());
    }

    #[test]
    fn known_names_are_checked() {
        let id = Uuid::new_v4([1; 16]);
        let bad = Message::request("REQUEST_INVOICE", 1.0, id).with_field("msats", Json::int(0));
        assert_eq!(bad.validate(), Err(E::Invalid("msats")));
        let bad = Message::request("REQUEST_RENDEZVOUS", 1.0, id)
            .with_field("rendezvous_id", Json::str("zz"));
        assert_eq!(bad.validate(), Err(E::Invalid("rendezvous_id")));
        let good = Message::notification("NOTIFY_PREIMAGE", 1.0, id, None)
            .with_field("preimage", Json::str("00".repeat(32)))
            .with_field("ext", Json::Null);
        assert_eq!(good.validate(), Ok(()));
    }

    #[test]
    fn envelope_errors() {
        for (text, err) in [
            (&br#"[]"#[..], E::NotObject),
            (br#"{"message_class": "X"}"#, E::UnknownClass("X".into())),
            (br#"{"message_class": "REQUEST"}"#, E::Missing("timestamp")),
            (
                br#"{"message_class": "REQUEST", "timestamp": -1}"#,
                E::Invalid("timestamp"),
            ),
            (
                br#"{"message_class": "REQUEST", "timestamp": 1, "protocol": "X"}"#,
                E::UnknownProtocol("X".into()),
            ),
        ] {
            assert_eq!(Message::from_json_bytes(text), Err(err));
        }
    }
}
