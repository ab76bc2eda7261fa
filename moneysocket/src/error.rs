//! Decode and encode errors for every codec in the crate.
//!
//! Errors are plain values (no panics on any input). Each variant's message
//! says what was wrong in words a developer can act on; where a reference
//! implementation (py-moneysocket) reports the same condition, the variant
//! corresponds to exactly one of its error strings, which the vector tests
//! rely on.

use thiserror::Error;

/// A BigSize varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum BigSizeError {
    /// The input ended inside the value.
    #[error("input ended inside a {bits}-bit BigSize")]
    Truncated {
        /// Width of the value being read (8, 16, 32 or 64).
        bits: u8,
    },
    /// A prefixed form was used for a value that fits a shorter form.
    #[error("BigSize not minimally encoded ({bits}-bit form used for a smaller value)")]
    NotMinimal {
        /// Width of the form that was used.
        bits: u8,
    },
}

/// A TLV record or stream could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TlvError {
    /// The type number could not be read.
    #[error("could not read TLV type: {0}")]
    Type(BigSizeError),
    /// The length could not be read.
    #[error("could not read TLV length: {0}")]
    Length(BigSizeError),
    /// The declared length runs past the end of the input.
    #[error("TLV value truncated: {declared} bytes declared, {available} available")]
    ValueTruncated {
        /// Length the record declares.
        declared: u64,
        /// Bytes actually left.
        available: usize,
    },
    /// A stream's types were not strictly increasing.
    #[error("TLV types not strictly increasing: {current} after {previous}")]
    NotIncreasing {
        /// Type of the earlier record.
        previous: u64,
        /// Type of the offending record.
        current: u64,
    },
    /// An even (mandatory) type the reader does not understand.
    #[error("unknown even TLV type {0}")]
    UnknownEvenType(u64),
}

/// A bech32 string could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Bech32Error {
    /// Malformed string, bad characters, mixed case or a bad checksum.
    #[error("not a valid bech32 string: {0}")]
    Invalid(String),
    /// The 5-bit data does not convert to whole bytes (bad padding).
    #[error("bech32 data part has invalid padding")]
    Padding,
    /// The data part carries no bytes.
    #[error("bech32 data part is empty")]
    Empty,
    /// The human-readable part cannot be used for encoding.
    #[error("invalid bech32 human-readable part: {0}")]
    Hrp(String),
    /// The result would exceed bech32's 1023-character code length.
    #[error("bech32 string would be too long")]
    TooLong,
}

/// A v1 WebSocket location could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebSocketError {
    /// The location's inner stream is not valid TLV.
    #[error("invalid websocket location TLVs: {0}")]
    Tlv(TlvError),
    /// The location's inner stream is empty.
    #[error("websocket location has no TLVs")]
    Empty,
    /// The first record is neither generator_preference nor hostname.
    #[error("websocket location starts with unexpected TLV type {0}")]
    UnexpectedFirst(u64),
    /// A record after the hostname has a type this version does not define.
    #[error("unexpected TLV type {0} in websocket location")]
    UnexpectedType(u64),
    /// Records after the hostname were repeated or out of order.
    #[error("websocket location TLV types out of order: {current} after {previous}")]
    OutOfOrder {
        /// Earlier type.
        previous: u64,
        /// Offending type.
        current: u64,
    },
    /// generator_preference has no value byte.
    #[error("generator_preference is empty")]
    PreferenceEmpty,
    /// generator_preference has more than one byte.
    #[error("generator_preference has extra bytes")]
    PreferenceExtraBytes,
    /// generator_preference is the default (255) written out.
    #[error("generator_preference not minimally encoded (255 is the default)")]
    PreferenceNotMinimal,
    /// A generator_preference is not followed by a hostname.
    #[error("websocket location has no hostname")]
    MissingHostname,
    /// The hostname is not UTF-8.
    #[error("hostname is not valid UTF-8")]
    HostnameNotUtf8,
    /// The hostname fails the DNS hostname rules.
    #[error("invalid hostname {0:?}")]
    InvalidHostname(String),
    /// use_tls has no value byte.
    #[error("use_tls is empty")]
    UseTlsEmpty,
    /// use_tls is neither 0 nor 1.
    #[error("unknown use_tls value {0}")]
    UnknownUseTls(u8),
    /// use_tls has more than one byte.
    #[error("use_tls has extra bytes")]
    UseTlsExtraBytes,
    /// use_tls = 1 (the default) written out.
    #[error("use_tls not minimally encoded (true is the default)")]
    UseTlsNotMinimal,
    /// The port BigSize could not be read.
    #[error("could not read port: {0}")]
    Port(BigSizeError),
    /// Bytes follow the port BigSize.
    #[error("port has extra bytes")]
    PortExtraBytes,
    /// The port does not fit 16 bits.
    #[error("port {0} too large")]
    PortTooLarge(u64),
    /// The default port for the TLS setting written out.
    #[error("port not minimally encoded ({0} is the default)")]
    PortNotMinimal(u16),
    /// The path is not UTF-8.
    #[error("path is not valid UTF-8")]
    PathNotUtf8,
    /// An empty path written out.
    #[error("path not minimally encoded (empty)")]
    PathNotMinimal,
}

/// A v1 (RFC) beacon could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BeaconError {
    /// The string is not bech32.
    #[error("could not decode bech32 string: {0}")]
    Bech32(Bech32Error),
    /// The human-readable part does not start with `moneysocket`.
    #[error("unknown human readable part {0:?} (must start with \"moneysocket\")")]
    UnknownHrp(String),
    /// The data part is not one valid TLV record.
    #[error("invalid beacon TLV: {0}")]
    Tlv(TlvError),
    /// Bytes follow the beacon TLV.
    #[error("extra bytes after the beacon TLV")]
    ExtraBytes,
    /// The outer TLV is not type 0.
    #[error("unexpected beacon TLV type {0}")]
    UnexpectedType(u64),
    /// The beacon's inner stream is not valid TLV.
    #[error("invalid TLVs in beacon: {0}")]
    InnerTlv(TlvError),
    /// The beacon's inner stream is empty.
    #[error("beacon has no TLVs")]
    Empty,
    /// The first inner record is not generator_version.
    #[error("missing generator_version TLV")]
    MissingVersion,
    /// generator_version is not 3 bytes.
    #[error("generator_version must be 3 bytes, got {0}")]
    BadVersion(usize),
    /// Nothing follows the version.
    #[error("missing shared_seed or role_hint TLV")]
    MissingSeedOrRoleHint,
    /// role_hint has no value byte.
    #[error("role_hint is empty")]
    RoleHintEmpty,
    /// role_hint is not a defined value.
    #[error("unknown role_hint value {0}")]
    UnknownRoleHint(u8),
    /// role_hint has more than one byte.
    #[error("role_hint has extra bytes")]
    RoleHintExtraBytes,
    /// No shared_seed record where one is required.
    #[error("missing shared_seed TLV")]
    MissingSeed,
    /// shared_seed is not 16 bytes.
    #[error("shared_seed must be 16 bytes, got {0}")]
    SeedLength(usize),
    /// Nothing follows the shared seed.
    #[error("missing location_list TLV")]
    MissingLocationList,
    /// The record after the shared seed is not the location list.
    #[error("expected location_list TLV, got type {0}")]
    NotLocationList(u64),
    /// The location list is not valid TLV.
    #[error("invalid location_list: {0}")]
    LocationListTlv(TlvError),
    /// The location list is empty.
    #[error("no locations in location_list")]
    NoLocations,
    /// Every location has an unknown type.
    #[error("no known locations in location_list")]
    NoKnownLocations,
    /// A WebSocket location is malformed.
    #[error("websocket location: {0}")]
    WebSocket(#[from] WebSocketError),
    /// An unknown location uses type 0, which belongs to WebSocket.
    #[error("unknown location cannot use type 0 (WebSocket)")]
    UnknownLocationType0,
}

/// A v0 (deployed) beacon could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum V0BeaconError {
    /// The string is not bech32.
    #[error("could not decode bech32 string: {0}")]
    Bech32(Bech32Error),
    /// The human-readable part is not exactly `moneysocket`.
    #[error("string is not a moneysocket beacon (hrp {0:?})")]
    WrongHrp(String),
    /// A TLV could not be read.
    #[error("invalid TLV in v0 beacon: {0}")]
    Tlv(TlvError),
    /// The outer record is not the beacon type (65979).
    #[error("unexpected beacon TLV type {0}")]
    UnexpectedType(u64),
    /// The first inner record is not the shared seed (65981).
    #[error("unexpected shared seed TLV type {0}")]
    UnexpectedSeedType(u64),
    /// The shared seed is not 16 bytes.
    #[error("shared seed must be 16 bytes, got {0}")]
    SeedLength(usize),
    /// The second inner record is not the location list (65985).
    #[error("unexpected location list TLV type {0}")]
    UnexpectedListType(u64),
    /// The location list does not start with the count (65983).
    #[error("unexpected location count TLV type {0}")]
    UnexpectedCountType(u64),
    /// The location count is not a BigSize.
    #[error("could not read location count: {0}")]
    Count(BigSizeError),
    /// A location has a type v0 does not define.
    #[error("unknown location type {0}")]
    UnknownLocationType(u64),
    /// A location's inner stream is not valid TLV.
    #[error("invalid location TLVs: {0}")]
    LocationTlv(TlvError),
    /// A WebSocket location has no host.
    #[error("no host tlv given")]
    MissingHost,
    /// A placeholder location has no string.
    #[error("no placeholder tlv given")]
    MissingPlaceholder,
    /// A string field is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// use_tls could not be read or is not 0/1.
    #[error("error decoding use_tls setting")]
    UseTls,
    /// The port could not be read or does not fit 16 bits.
    #[error("error decoding port")]
    Port,
}

/// A wad (v1 amount object) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WadError {
    /// The wad is not a JSON object.
    #[error("wad is not a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("wad: missing {0}")]
    Missing(&'static str),
    /// A value has the wrong JSON type.
    #[error("wad: {0} has the wrong type")]
    WrongType(&'static str),
    /// A string that must not be empty is empty.
    #[error("wad: {0} is an empty string")]
    Empty(&'static str),
    /// A number that must not be negative is negative.
    #[error("wad: {0} is negative")]
    Negative(&'static str),
    /// Keys other than `msat` and `non_btc`.
    #[error("wad has keys other than msat and non_btc")]
    ExtraKeys,
    /// `iso_num` without `code`.
    #[error("wad: iso_num given without code")]
    IsoNumWithoutCode,
    /// `code` does not match the ISO 4217 code of `iso_num`.
    #[error("wad: iso_num {iso_num} is {expected}, not {code}")]
    IsoMismatch {
        /// The given number.
        iso_num: u64,
        /// The code ISO 4217 assigns to it.
        expected: &'static str,
        /// The given code.
        code: String,
    },
    /// An ISO 4217 code used without its `iso_num`.
    #[error("wad: code {0} has an ISO 4217 number, which must be given")]
    IsoCodeWithoutNum(String),
    /// `code` longer than 12 characters.
    #[error("wad: code longer than twelve characters")]
    CodeTooLong,
    /// `code` shorter than 3 characters (and not empty).
    #[error("wad: code shorter than three characters")]
    CodeTooShort,
    /// `symbol` longer than 6 characters.
    #[error("wad: symbol longer than six characters")]
    SymbolTooLong,
    /// `fmt_decimals` above 12.
    #[error("wad: fmt_decimals above 12")]
    DecimalsTooLarge,
}

/// Provider info (v1) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderInfoError {
    /// Provider info is not a JSON object.
    #[error("provider info is not a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("provider info: missing {0}")]
    Missing(&'static str),
    /// A value has the wrong JSON type.
    #[error("provider info: {0} has the wrong type")]
    WrongType(&'static str),
    /// `account_uuid` is not a UUID.
    #[error("provider info: account_uuid is not a UUID")]
    InvalidUuid,
    /// `account_uuid` is a UUID of another version.
    #[error("provider info: account_uuid is not a version 4 UUID")]
    UuidNotV4,
    /// The wad is invalid.
    #[error("provider info: invalid wad: {0}")]
    Wad(#[from] WadError),
    /// `feature_data` names a feature not listed in `features`.
    #[error("provider info: feature_data for undeclared feature {0:?}")]
    UndeclaredFeature(String),
    /// A `feature_data` value is null.
    #[error("provider info: feature_data value for {0:?} is null")]
    NullFeatureData(String),
    /// A `public_keys` key is not hex.
    #[error("provider info: public key {0:?} is not hex")]
    KeyNotHex(String),
    /// A string that must not be empty is empty.
    #[error("provider info: {0} is an empty string")]
    Empty(&'static str),
    /// `friendly_name` longer than 64 characters.
    #[error("provider info: friendly_name longer than 64 characters")]
    FriendlyNameTooLong,
}

/// A field of a v1 message's language object is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LanguageObjectError {
    /// The language object is not a JSON object.
    #[error("language_object is not a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("language_object: missing {0}")]
    Missing(&'static str),
    /// A value has the wrong JSON type.
    #[error("language_object: {0} has the wrong type")]
    WrongType(&'static str),
    /// A string that must not be empty is empty.
    #[error("language_object: {0} is an empty string")]
    Empty(&'static str),
    /// A number that must not be negative is negative.
    #[error("language_object: {0} is negative")]
    Negative(&'static str),
    /// A version part above 255.
    #[error("language_object: {0} greater than 255")]
    TooLarge(&'static str),
    /// The timestamp is more than an hour ahead of the clock.
    #[error("language_object: timestamp in the future")]
    FutureTimestamp,
    /// A version part differs from the sender_version TLV.
    #[error("language_object: version {0} does not match the sender_version TLV")]
    VersionMismatch(&'static str),
    /// `feature_data` names a feature not listed in `features`.
    #[error("language_object: feature_data for undeclared feature {0:?}")]
    UndeclaredFeature(String),
    /// A `feature_data` value is null.
    #[error("language_object: feature_data value for {0:?} is null")]
    NullFeatureData(String),
    /// `type` is neither REQUEST nor NOTIFICATION.
    #[error("language_object: unknown message type {0:?}")]
    UnknownType(String),
    /// The subtype has no definition for this type.
    #[error("language_object: unknown subtype {0:?}")]
    UnknownSubtype(String),
    /// `request_uuid` is not a UUID.
    #[error("language_object: request_uuid is not a UUID")]
    InvalidUuid,
    /// `request_uuid` is a UUID of another version.
    #[error("language_object: request_uuid is not a version 4 UUID")]
    UuidNotV4,
}

/// A v1 message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// The input is not one TLV record.
    #[error("invalid message TLV: {0}")]
    Tlv(TlvError),
    /// Bytes follow the message TLV.
    #[error("extra bytes after message TLV")]
    ExtraBytes,
    /// The outer record is not type 0.
    #[error("unexpected message TLV type {0}")]
    UnexpectedType(u64),
    /// The message's inner stream is not valid TLV.
    #[error("invalid TLVs in message: {0}")]
    InnerTlv(TlvError),
    /// The message's inner stream is empty.
    #[error("no TLVs in message")]
    Empty,
    /// The first record is not sender_version.
    #[error("missing sender_version TLV")]
    MissingSenderVersion,
    /// sender_version is not 3 bytes.
    #[error("sender_version must be 3 bytes, got {0}")]
    BadSenderVersion(usize),
    /// Nothing follows sender_version.
    #[error("missing message_type TLV")]
    MissingMessageType,
    /// The second record is not message_type.
    #[error("expected message_type TLV after sender_version, got type {0}")]
    NotMessageType(u64),
    /// message_type has no class byte.
    #[error("message_type has no class byte")]
    MessageClassMissing,
    /// message_type's subtype BigSize could not be read.
    #[error("could not read message subtype: {0}")]
    Subtype(BigSizeError),
    /// Bytes follow the subtype.
    #[error("extra bytes in message_type TLV")]
    MessageTypeExtraBytes,
    /// Nothing follows message_type.
    #[error("missing language_object TLV")]
    MissingLanguageObject,
    /// The third record is not the language object.
    #[error("expected language_object TLV after message_type, got type {0}")]
    NotLanguageObject(u64),
    /// The language object is not UTF-8 JSON.
    #[error("could not decode language_object JSON: {0}")]
    Json(String),
    /// A language-object field is invalid.
    #[error(transparent)]
    LanguageObject(#[from] LanguageObjectError),
    /// An additional TLV reuses type 0, 1 or 2.
    #[error("additional TLV duplicates defined type {0}")]
    DuplicateTlv(u64),
    /// The class byte does not match the language object's `type`.
    #[error("message class byte {byte} does not match type {name:?}")]
    ClassMismatch {
        /// The class byte of the message_type TLV.
        byte: u8,
        /// The `type` string of the language object.
        name: String,
    },
    /// The subtype number does not match the language object's `subtype`.
    #[error("subtype number {number} does not match subtype {name:?}")]
    SubtypeMismatch {
        /// The subtype of the message_type TLV.
        number: u64,
        /// The `subtype` string of the language object.
        name: String,
    },
}

/// A v0 JSON message is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum V0MessageError {
    /// The bytes are not UTF-8 JSON.
    #[error("could not parse message JSON: {0}")]
    Json(String),
    /// The JSON is not an object.
    #[error("message is not a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("message: missing {0}")]
    Missing(&'static str),
    /// A value has the wrong JSON type.
    #[error("message: {0} has the wrong type")]
    WrongType(&'static str),
    /// A value is outside its allowed range or form.
    #[error("message: invalid {0}")]
    Invalid(&'static str),
    /// `message_class` is neither REQUEST nor NOTIFICATION.
    #[error("unknown message_class {0:?}")]
    UnknownClass(String),
    /// `protocol` is not "Moneysocket".
    #[error("unknown protocol {0:?}")]
    UnknownProtocol(String),
}

/// A v0 wire frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum V0CodecError {
    /// Ciphertext arrived but no key is known.
    #[error("no seed to decrypt ciphertext")]
    NoKey,
    /// The ciphertext is not an IV plus whole AES blocks.
    #[error("ciphertext length {0} is not 16 + a positive multiple of 16")]
    BadLength(usize),
    /// The decrypted bytes are not UTF-8.
    #[error("decrypted message is not UTF-8")]
    NotUtf8,
    /// The message itself is invalid.
    #[error(transparent)]
    Message(#[from] V0MessageError),
    /// A cleartext-only (rendezvous) message arrived encrypted.
    #[error("got encrypted {0} which must be cleartext")]
    ShouldBeClear(String),
}
