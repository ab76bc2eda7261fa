//! v1 beacon locations: WebSocket (type 0) and unknown types kept opaque.
//!
//! A WebSocket location's inner stream is, in this order: optional
//! generator_preference (0), hostname (1), optional use_tls (2), optional
//! port (3), optional path (4). Defaults are never written out (preference
//! 255, TLS on, port 443/80, empty path) and a decoder rejects them when
//! they are, so every location has exactly one encoding.
//!
//! Choices where the reference decoder is looser than the RFC text: records
//! after the hostname must appear in increasing type order, once each (the
//! reference accepts any order and repeats). A preference of 0 is encoded
//! (the reference encoder silently drops it, a bug the RFC research notes).

use std::fmt;

use crate::bigsize;
use crate::error::WebSocketError;
use crate::tlv::{self, RecordRef};

/// Location type number of a WebSocket location.
pub const WEBSOCKET_TYPE: u64 = 0;
/// Preference when none is written (lowest).
pub const DEFAULT_PREFERENCE: u8 = 255;
/// Default port with TLS.
pub const DEFAULT_TLS_PORT: u16 = 443;
/// Default port without TLS.
pub const DEFAULT_PLAIN_PORT: u16 = 80;

const PREFERENCE: u64 = 0;
const HOSTNAME: u64 = 1;
const USE_TLS: u64 = 2;
const PORT: u64 = 3;
const PATH: u64 = 4;

/// One place where the two sides of a beacon can meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A WebSocket server (usually a rendezvous relay).
    WebSocket(WebSocketLocation),
    /// A location type this code does not know, kept to be re-emitted.
    Unknown {
        /// The location type number (never 0).
        tlv_type: u64,
        /// The raw value.
        value: Vec<u8>,
    },
}

impl Location {
    /// True for location types this code understands.
    pub fn is_known(&self) -> bool {
        matches!(self, Location::WebSocket(_))
    }

    pub(crate) fn decode(record: RecordRef<'_>) -> Result<Self, WebSocketError> {
        if record.tlv_type == WEBSOCKET_TYPE {
            WebSocketLocation::decode(record.value).map(Location::WebSocket)
        } else {
            Ok(Location::Unknown {
                tlv_type: record.tlv_type,
                value: record.value.to_vec(),
            })
        }
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Location::WebSocket(ws) => tlv::encode_into(WEBSOCKET_TYPE, &ws.encode_value(), out),
            Location::Unknown { tlv_type, value } => tlv::encode_into(*tlv_type, value, out),
        }
    }
}

/// A WebSocket location (`ws://` or `wss://host:port/path`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebSocketLocation {
    /// The generator's preference among locations, 0 = highest, 255 = lowest.
    pub preference: u8,
    /// DNS hostname (IP literals are not allowed by the RFC).
    pub hostname: String,
    /// `wss` when true.
    pub use_tls: bool,
    /// TCP port.
    pub port: u16,
    /// URL path without the leading `/`; empty for none.
    pub path: String,
}

impl WebSocketLocation {
    /// A `wss://hostname:443` location with the lowest preference.
    pub fn new(hostname: impl Into<String>) -> Self {
        WebSocketLocation {
            preference: DEFAULT_PREFERENCE,
            hostname: hostname.into(),
            use_tls: true,
            port: DEFAULT_TLS_PORT,
            path: String::new(),
        }
    }

    /// Sets TLS and the port.
    pub fn with_tls(mut self, use_tls: bool, port: u16) -> Self {
        self.use_tls = use_tls;
        self.port = port;
        self
    }

    /// Sets the path; leading `/` characters are dropped.
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = path.trim_start_matches('/').to_owned();
        self
    }

    /// Sets the generator preference.
    pub fn with_preference(mut self, preference: u8) -> Self {
        self.preference = preference;
        self
    }

    /// The default port for the TLS setting.
    pub fn default_port(&self) -> u16 {
        if self.use_tls {
            DEFAULT_TLS_PORT
        } else {
            DEFAULT_PLAIN_PORT
        }
    }

    /// The URL to connect to, e.g. `wss://relay.socket.money:443`.
    pub fn url(&self) -> String {
        self.to_string()
    }

    /// Checks what the decoder would check (hostname, path) before encoding.
    pub fn validate(&self) -> Result<(), WebSocketError> {
        if !valid_hostname(&self.hostname) {
            return Err(WebSocketError::InvalidHostname(self.hostname.clone()));
        }
        Ok(())
    }

    fn decode(value: &[u8]) -> Result<Self, WebSocketError> {
        let records = tlv::records(value).map_err(WebSocketError::Tlv)?;
        let mut iter = records.into_iter().peekable();
        let first = iter.next().ok_or(WebSocketError::Empty)?;
        let (preference, host_record) = match first.tlv_type {
            PREFERENCE => {
                let preference = match *first.value {
                    [] => return Err(WebSocketError::PreferenceEmpty),
                    [DEFAULT_PREFERENCE] => return Err(WebSocketError::PreferenceNotMinimal),
                    [p] => p,
                    [_, ..] => return Err(WebSocketError::PreferenceExtraBytes),
                };
                let host = iter.next().ok_or(WebSocketError::MissingHostname)?;
                if host.tlv_type != HOSTNAME {
                    return Err(WebSocketError::UnexpectedType(host.tlv_type));
                }
                (preference, host)
            }
            HOSTNAME => (DEFAULT_PREFERENCE, first),
            other => return Err(WebSocketError::UnexpectedFirst(other)),
        };
        let hostname = std::str::from_utf8(host_record.value)
            .map_err(|_| WebSocketError::HostnameNotUtf8)?
            .to_owned();
        if !valid_hostname(&hostname) {
            return Err(WebSocketError::InvalidHostname(hostname));
        }
        let mut loc = WebSocketLocation::new(hostname);
        loc.preference = preference;
        let mut explicit_port = None;
        let mut previous = HOSTNAME;
        for record in iter {
            if !matches!(record.tlv_type, USE_TLS | PORT | PATH) {
                return Err(WebSocketError::UnexpectedType(record.tlv_type));
            }
            if record.tlv_type <= previous {
                return Err(WebSocketError::OutOfOrder {
                    previous,
                    current: record.tlv_type,
                });
            }
            previous = record.tlv_type;
            match record.tlv_type {
                USE_TLS => loc.use_tls = decode_use_tls(record.value)?,
                PORT => explicit_port = Some(decode_port(record.value, loc.use_tls)?),
                _ => loc.path = decode_path(record.value)?,
            }
        }
        loc.port = explicit_port.unwrap_or_else(|| loc.default_port());
        Ok(loc)
    }

    fn encode_value(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.preference != DEFAULT_PREFERENCE {
            tlv::encode_into(PREFERENCE, &[self.preference], &mut out);
        }
        tlv::encode_into(HOSTNAME, self.hostname.as_bytes(), &mut out);
        if !self.use_tls {
            tlv::encode_into(USE_TLS, &[0], &mut out);
        }
        if self.port != self.default_port() {
            tlv::encode_into(PORT, &bigsize::encode(u64::from(self.port)), &mut out);
        }
        if !self.path.is_empty() {
            tlv::encode_into(PATH, self.path.as_bytes(), &mut out);
        }
        out
    }
}

impl fmt::Display for WebSocketLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.use_tls { "wss" } else { "ws" };
        write!(f, "{scheme}://{}:{}", self.hostname, self.port)?;
        let path = self.path.trim_start_matches('/');
        if !path.is_empty() {
            write!(f, "/{path}")?;
        }
        Ok(())
    }
}

fn decode_use_tls(value: &[u8]) -> Result<bool, WebSocketError> {
    let (&first, rest) = value.split_first().ok_or(WebSocketError::UseTlsEmpty)?;
    if first > 1 {
        return Err(WebSocketError::UnknownUseTls(first));
    }
    if !rest.is_empty() {
        return Err(WebSocketError::UseTlsExtraBytes);
    }
    if first == 1 {
        return Err(WebSocketError::UseTlsNotMinimal);
    }
    Ok(false)
}

fn decode_port(value: &[u8], use_tls: bool) -> Result<u16, WebSocketError> {
    let (port, rest) = bigsize::decode(value).map_err(WebSocketError::Port)?;
    if !rest.is_empty() {
        return Err(WebSocketError::PortExtraBytes);
    }
    let port = u16::try_from(port).map_err(|_| WebSocketError::PortTooLarge(port))?;
    let default = if use_tls {
        DEFAULT_TLS_PORT
    } else {
        DEFAULT_PLAIN_PORT
    };
    if port == default {
        return Err(WebSocketError::PortNotMinimal(port));
    }
    Ok(port)
}

fn decode_path(value: &[u8]) -> Result<String, WebSocketError> {
    let path = std::str::from_utf8(value).map_err(|_| WebSocketError::PathNotUtf8)?;
    if path.is_empty() {
        return Err(WebSocketError::PathNotMinimal);
    }
    Ok(path.to_owned())
}

/// The RFC's DNS hostname rule: at most 253 characters (one trailing dot
/// allowed), labels of 1–63 ASCII letters, digits or `-` not starting or
/// ending with `-`, and a last label that is not all digits (so IPv4
/// literals are rejected).
pub fn valid_hostname(hostname: &str) -> bool {
    let name = hostname.strip_suffix('.').unwrap_or(hostname);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let last_numeric = labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    !last_numeric && labels.iter().all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        for good in [
            "relay.socket.money",
            "localhost",
            "a-b.example.org.",
            "X1.Y",
        ] {
            assert!(valid_hostname(good), "{good}");
        }
        for bad in [
            "",
            "127.0.0.1",
            "-a.b",
            "a-.b",
            "a..b",
            "a b",
            "é.com",
            "x.123",
        ] {
            assert!(!valid_hostname(bad), "{bad}");
        }
        assert!(!valid_hostname(&"a".repeat(64)));
        assert!(valid_hostname(&"a".repeat(63)));
    }

    #[test]
    fn url_form() {
        let loc = WebSocketLocation::new("localhost")
            .with_tls(false, 8080)
            .with_path("//ws");
        assert_eq!(loc.url(), "ws://localhost:8080/ws");
        assert_eq!(WebSocketLocation::new("a.b").url(), "wss://a.b:443");
    }

    #[test]
    fn preference_zero_round_trips() {
        let loc = Location::WebSocket(WebSocketLocation::new("a.b").with_preference(0));
        let mut bytes = Vec::new();
        loc.encode_into(&mut bytes);
        let (record, _) = tlv::pop(&bytes).unwrap();
        assert_eq!(Location::decode(record).unwrap(), loc);
    }
}
