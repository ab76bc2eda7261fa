//! v0 beacons, as every deployed Moneysocket app writes them.
//!
//! The HRP is exactly `moneysocket`. The data is one TLV of type 65979
//! holding, in order, the shared seed (65981, 16 bytes) and the location
//! list (65985), which starts with a location count (65983, BigSize) and
//! then that many locations: WebSocket (65987: host 0, use_tls 1 as a BigSize
//! 0/1 written only when false, port 2 written only when not the default),
//! or the WebRTC (65989), Bluetooth (65991) and NFC (65993) placeholders
//! (inner type 0, a UTF-8 string). All types are odd and above 2^16, as
//! BOLT #1 asks of extensions. WebSocket URLs have no path.
//!
//! Decoding mirrors the deployed Python decoder: positional, an unknown
//! location type aborts, trailing bytes after the parts it reads are
//! ignored, and inner WebSocket records may come in any order. Two checks
//! are added: the seed must be 16 bytes and the port must fit 16 bits.

use std::fmt;

use crate::bech32;
use crate::bigsize;
use crate::error::V0BeaconError;
use crate::seed::SharedSeed;
use crate::tlv::{self, RecordRef};
use crate::HRP_PREFIX;

/// Outer beacon record type.
pub const BEACON_TYPE: u64 = 65979;
/// Shared seed record type.
pub const SHARED_SEED_TYPE: u64 = 65981;
/// Location count record type.
pub const LOCATION_COUNT_TYPE: u64 = 65983;
/// Location list record type.
pub const LOCATION_LIST_TYPE: u64 = 65985;
/// WebSocket location type.
pub const WEBSOCKET_TYPE: u64 = 65987;
/// WebRTC placeholder location type.
pub const WEBRTC_TYPE: u64 = 65989;
/// Bluetooth placeholder location type.
pub const BLUETOOTH_TYPE: u64 = 65991;
/// NFC placeholder location type.
pub const NFC_TYPE: u64 = 65993;

const HOST: u64 = 0;
const USE_TLS: u64 = 1;
const PORT: u64 = 2;
const PLACEHOLDER: u64 = 0;

/// A v0 location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// `ws(s)://host:port` (no path in v0).
    WebSocket {
        /// Host name or IP literal (not validated in v0).
        host: String,
        /// `wss` when true.
        use_tls: bool,
        /// TCP port.
        port: u16,
    },
    /// WebRTC placeholder (no app can connect through it).
    WebRtc(String),
    /// Bluetooth placeholder (no app can connect through it).
    Bluetooth(String),
    /// NFC placeholder (no app can connect through it).
    Nfc(String),
}

impl Location {
    /// A WebSocket location with the default port for `use_tls`.
    pub fn websocket(host: impl Into<String>, use_tls: bool) -> Self {
        Location::WebSocket {
            host: host.into(),
            use_tls,
            port: default_port(use_tls),
        }
    }

    fn decode(record: RecordRef<'_>) -> Result<Self, V0BeaconError> {
        let inner = tlv::records(record.value).map_err(V0BeaconError::LocationTlv)?;
        // Like the Python dict built from the records: the last one wins.
        let find = |t: u64| {
            inner
                .iter()
                .rev()
                .find(|r| r.tlv_type == t)
                .map(|r| r.value)
        };
        match record.tlv_type {
            WEBSOCKET_TYPE => {
                let host = find(HOST).ok_or(V0BeaconError::MissingHost)?;
                let host = utf8(host, "host")?;
                let use_tls = match find(USE_TLS) {
                    None => true,
                    Some(v) => match bigsize::decode(v) {
                        Ok((0, _)) => false,
                        Ok((1, _)) => true,
                        _ => return Err(V0BeaconError::UseTls),
                    },
                };
                let port = match find(PORT) {
                    None => default_port(use_tls),
                    Some(v) => bigsize::decode(v)
                        .ok()
                        .and_then(|(p, _)| u16::try_from(p).ok())
                        .ok_or(V0BeaconError::Port)?,
                };
                Ok(Location::WebSocket {
                    host,
                    use_tls,
                    port,
                })
            }
            WEBRTC_TYPE | BLUETOOTH_TYPE | NFC_TYPE => {
                let s = find(PLACEHOLDER).ok_or(V0BeaconError::MissingPlaceholder)?;
                let s = utf8(s, "placeholder string")?;
                Ok(match record.tlv_type {
                    WEBRTC_TYPE => Location::WebRtc(s),
                    BLUETOOTH_TYPE => Location::Bluetooth(s),
                    _ => Location::Nfc(s),
                })
            }
            other => Err(V0BeaconError::UnknownLocationType(other)),
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        let mut inner = Vec::new();
        let tlv_type = match self {
            Location::WebSocket {
                host,
                use_tls,
                port,
            } => {
                tlv::encode_into(HOST, host.as_bytes(), &mut inner);
                if !use_tls {
                    tlv::encode_into(USE_TLS, &bigsize::encode(0), &mut inner);
                }
                if *port != default_port(*use_tls) {
                    tlv::encode_into(PORT, &bigsize::encode(u64::from(*port)), &mut inner);
                }
                WEBSOCKET_TYPE
            }
            Location::WebRtc(s) | Location::Bluetooth(s) | Location::Nfc(s) => {
                tlv::encode_into(PLACEHOLDER, s.as_bytes(), &mut inner);
                match self {
                    Location::WebRtc(_) => WEBRTC_TYPE,
                    Location::Bluetooth(_) => BLUETOOTH_TYPE,
                    _ => NFC_TYPE,
                }
            }
        };
        tlv::encode_into(tlv_type, &inner, out);
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::WebSocket {
                host,
                use_tls,
                port,
            } => write!(f, "{}://{host}:{port}", if *use_tls { "wss" } else { "ws" }),
            Location::WebRtc(s) => write!(f, "webrtc:{s}"),
            Location::Bluetooth(s) => write!(f, "bluetooth:{s}"),
            Location::Nfc(s) => write!(f, "nfc:{s}"),
        }
    }
}

fn default_port(use_tls: bool) -> u16 {
    if use_tls {
        443
    } else {
        80
    }
}

fn utf8(bytes: &[u8], what: &'static str) -> Result<String, V0BeaconError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| V0BeaconError::NotUtf8(what))
}

/// A decoded v0 beacon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Beacon {
    /// The shared secret.
    pub shared_seed: SharedSeed,
    /// Locations in order; v0 consumers only use the first, a WebSocket.
    pub locations: Vec<Location>,
}

impl Beacon {
    /// Creates a beacon.
    pub fn new(shared_seed: SharedSeed, locations: Vec<Location>) -> Self {
        Beacon {
            shared_seed,
            locations,
        }
    }

    /// Decodes a beacon string (lower case, or all upper case from a QR).
    pub fn decode(s: &str) -> Result<Self, V0BeaconError> {
        let (hrp, data) = bech32::decode(s).map_err(V0BeaconError::Bech32)?;
        if hrp != HRP_PREFIX {
            return Err(V0BeaconError::WrongHrp(hrp));
        }
        Beacon::decode_bytes(&data)
    }

    /// Decodes the data part.
    pub fn decode_bytes(data: &[u8]) -> Result<Self, V0BeaconError> {
        let (outer, _ignored) = tlv::pop(data).map_err(V0BeaconError::Tlv)?;
        if outer.tlv_type != BEACON_TYPE {
            return Err(V0BeaconError::UnexpectedType(outer.tlv_type));
        }
        let (seed, rest) = tlv::pop(outer.value).map_err(V0BeaconError::Tlv)?;
        if seed.tlv_type != SHARED_SEED_TYPE {
            return Err(V0BeaconError::UnexpectedSeedType(seed.tlv_type));
        }
        let (list, _ignored) = tlv::pop(rest).map_err(V0BeaconError::Tlv)?;
        if list.tlv_type != LOCATION_LIST_TYPE {
            return Err(V0BeaconError::UnexpectedListType(list.tlv_type));
        }
        let shared_seed = SharedSeed::from_slice(seed.value)
            .ok_or(V0BeaconError::SeedLength(seed.value.len()))?;
        let (count, mut rest) = tlv::pop(list.value).map_err(V0BeaconError::Tlv)?;
        if count.tlv_type != LOCATION_COUNT_TYPE {
            return Err(V0BeaconError::UnexpectedCountType(count.tlv_type));
        }
        let (count, _) = bigsize::decode(count.value).map_err(V0BeaconError::Count)?;
        let mut locations = Vec::new();
        for _ in 0..count {
            let (record, after) = tlv::pop(rest).map_err(V0BeaconError::Tlv)?;
            locations.push(Location::decode(record)?);
            rest = after;
        }
        Ok(Beacon {
            shared_seed,
            locations,
        })
    }

    /// The data part (canonical encoding).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut list = Vec::new();
        tlv::encode_into(
            LOCATION_COUNT_TYPE,
            &bigsize::encode(self.locations.len() as u64),
            &mut list,
        );
        for location in &self.locations {
            location.encode_into(&mut list);
        }
        let mut inner = Vec::new();
        tlv::encode_into(SHARED_SEED_TYPE, self.shared_seed.as_bytes(), &mut inner);
        tlv::encode_into(LOCATION_LIST_TYPE, &list, &mut inner);
        tlv::encode(BEACON_TYPE, &inner)
    }

    /// Encodes the beacon as a lower-case bech32 string.
    pub fn encode(&self) -> Result<String, V0BeaconError> {
        bech32::encode(HRP_PREFIX, &self.to_bytes()).map_err(V0BeaconError::Bech32)
    }

    /// Encodes the beacon in QR form (upper case).
    pub fn encode_qr(&self) -> Result<String, V0BeaconError> {
        Ok(bech32::to_qr_string(&self.encode()?))
    }
}
