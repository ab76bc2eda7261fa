//! Lichen invites: Moneysocket v1 beacons that also say who is inviting.
//!
//! An invite is a v1 beacon (HRP `moneysocket-lichen`) with a fresh random seed, the relay to
//! meet at as its WebSocket location, and Lichen's own records after the location list, in
//! the beacon's unknown-TLV space where stock v1 decoders keep and re-emit them (odd types,
//! above 2^16, as BOLT #1 asks of extensions; ADR 0006):
//!
//! | type | field | value |
//! |---|---|---|
//! | 0x4c494301 (1279869697) | inviter feed id | 32 bytes, required |
//! | 0x4c494303 (1279869699) | alias | UTF-8, 1–64 bytes, no control characters, optional |
//! | 0x4c494305 (1279869701) | network key | 1–32 bytes, optional (absent: the deployed network) |
//!
//! Other unknown records are kept as they are. Whoever holds the string can meet the inviter
//! through the relay and read the tunnel: an invite is a bearer secret, like any beacon.

pub mod saved;

use moneysocket::beacon::v1::{Beacon, Location, WebSocketLocation};
use moneysocket::error::BeaconError;
use moneysocket::tlv::Record;
use moneysocket::SharedSeed;
use rand_core::{CryptoRng, RngCore};

use crate::face::relay_dial::RelayTarget;
use crate::identity::FeedId;

/// The HRP of Lichen invites.
pub const HRP: &str = "moneysocket-lichen";
/// Record type of the inviter's feed id.
pub const INVITER_TYPE: u64 = 0x4c49_4301;
/// Record type of the inviter's alias.
pub const ALIAS_TYPE: u64 = 0x4c49_4303;
/// Record type of the network key.
pub const NETWORK_KEY_TYPE: u64 = 0x4c49_4305;
/// Longest alias, in bytes.
pub const MAX_ALIAS: usize = 64;
/// Longest network key, in bytes.
pub const MAX_NETWORK_KEY: usize = 32;

/// Why a string is not a usable Lichen invite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    /// Not a v1 beacon at all.
    #[error("not a v1 beacon: {0}")]
    Beacon(#[from] BeaconError),
    /// A beacon without the inviter record.
    #[error("a plain Moneysocket beacon, not a Lichen invite (no inviter feed id record)")]
    NoInviter,
    /// A Lichen record appears twice.
    #[error("Lichen record {0:#x} appears twice")]
    Duplicate(u64),
    /// The inviter record is not 32 bytes.
    #[error("inviter feed id has {0} bytes; 32 are required")]
    InviterLength(usize),
    /// The alias is empty, too long, not UTF-8 or holds control characters.
    #[error("alias must be 1 to 64 bytes of UTF-8 without control characters")]
    BadAlias,
    /// The network key is empty or longer than 32 bytes.
    #[error("network key has {0} bytes; 1 to 32 are allowed")]
    NetworkKeyLength(usize),
    /// The beacon names no WebSocket relay.
    #[error("the invite names no WebSocket relay")]
    NoRelay,
}

/// A decoded (or freshly made) Lichen invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    beacon: Beacon,
    inviter: FeedId,
    alias: Option<String>,
    network_key: Option<Vec<u8>>,
}

fn check_alias(alias: &str) -> Result<(), InviteError> {
    if alias.is_empty() || alias.len() > MAX_ALIAS || alias.chars().any(char::is_control) {
        return Err(InviteError::BadAlias);
    }
    Ok(())
}

impl Invite {
    /// A new invite from `inviter` to meet at `relay`, with a fresh seed from `rng`.
    pub fn new<R: RngCore + CryptoRng>(
        inviter: FeedId,
        alias: Option<&str>,
        network_key: Option<&[u8]>,
        relay: WebSocketLocation,
        rng: &mut R,
    ) -> Result<Invite, InviteError> {
        let mut beacon = Beacon::new(SharedSeed::generate(rng), vec![Location::WebSocket(relay)]);
        beacon.hrp = HRP.to_owned();
        beacon
            .unknown_tlvs
            .push(Record::new(INVITER_TYPE, inviter.0.to_vec()));
        if let Some(alias) = alias {
            check_alias(alias)?;
            beacon
                .unknown_tlvs
                .push(Record::new(ALIAS_TYPE, alias.as_bytes().to_vec()));
        }
        if let Some(key) = network_key {
            if key.is_empty() || key.len() > MAX_NETWORK_KEY {
                return Err(InviteError::NetworkKeyLength(key.len()));
            }
            beacon
                .unknown_tlvs
                .push(Record::new(NETWORK_KEY_TYPE, key.to_vec()));
        }
        beacon.validate()?;
        Invite::from_beacon(beacon)
    }

    /// Decodes an invite string (lower case, or upper case from a QR code).
    pub fn decode(s: &str) -> Result<Invite, InviteError> {
        let beacon = match moneysocket::bech32::from_qr_string(s.trim()) {
            Some(lower) => Beacon::decode(&lower)?,
            None => Beacon::decode(s.trim())?,
        };
        Invite::from_beacon(beacon)
    }

    /// Reads Lichen's records out of a decoded v1 beacon.
    pub fn from_beacon(beacon: Beacon) -> Result<Invite, InviteError> {
        let mut inviter = None;
        let mut alias = None;
        let mut network_key = None;
        for r in &beacon.unknown_tlvs {
            match r.tlv_type {
                INVITER_TYPE => {
                    let fid: [u8; 32] = r
                        .value
                        .as_slice()
                        .try_into()
                        .map_err(|_| InviteError::InviterLength(r.value.len()))?;
                    if inviter.replace(FeedId(fid)).is_some() {
                        return Err(InviteError::Duplicate(INVITER_TYPE));
                    }
                }
                ALIAS_TYPE => {
                    let text =
                        String::from_utf8(r.value.clone()).map_err(|_| InviteError::BadAlias)?;
                    check_alias(&text)?;
                    if alias.replace(text).is_some() {
                        return Err(InviteError::Duplicate(ALIAS_TYPE));
                    }
                }
                NETWORK_KEY_TYPE => {
                    if r.value.is_empty() || r.value.len() > MAX_NETWORK_KEY {
                        return Err(InviteError::NetworkKeyLength(r.value.len()));
                    }
                    if network_key.replace(r.value.clone()).is_some() {
                        return Err(InviteError::Duplicate(NETWORK_KEY_TYPE));
                    }
                }
                _ => {}
            }
        }
        let inviter = inviter.ok_or(InviteError::NoInviter)?;
        if beacon.websockets_by_preference().is_empty() {
            return Err(InviteError::NoRelay);
        }
        Ok(Invite {
            beacon,
            inviter,
            alias,
            network_key,
        })
    }

    /// The invite as a lower-case bech32 string.
    pub fn encode(&self) -> String {
        // `from_beacon` only accepts beacons that decoded or validated, so this encodes.
        self.beacon.encode().unwrap_or_default()
    }

    /// The QR form (upper case, for the QR alphanumeric mode).
    pub fn encode_qr(&self) -> String {
        moneysocket::bech32::to_qr_string(&self.encode())
    }

    /// The underlying beacon.
    pub fn beacon(&self) -> &Beacon {
        &self.beacon
    }

    /// The inviter's feed id.
    pub fn inviter(&self) -> &FeedId {
        &self.inviter
    }

    /// The inviter's alias, if given.
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The network key, if the invite is for a network other than the deployed one.
    pub fn network_key(&self) -> Option<&[u8]> {
        self.network_key.as_deref()
    }

    /// Where and how to meet: the relay and the tunnel secret.
    pub fn target(&self) -> RelayTarget {
        // `from_beacon` checked that there is a WebSocket location.
        RelayTarget::from_v1(&self.beacon).unwrap_or_else(|_| RelayTarget {
            host: String::new(),
            port: 0,
            tls: false,
            path: String::new(),
            seed: self.beacon.shared_seed.clone(),
            rid: self.beacon.shared_seed.v1_rendezvous_id(),
        })
    }
}

/// Parses a relay URL (`ws://host[:port][/path]` or `wss://…`) into a beacon location.
///
/// v1 beacons carry DNS host names only (the RFC rejects IP literals), so `ws://127.0.0.1`
/// is refused with a hint to use a name such as `localhost`.
pub fn relay_location(url: &str) -> Result<WebSocketLocation, String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("wss://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("ws://") {
        (false, r)
    } else {
        return Err(format!("{url:?}: a relay URL starts with ws:// or wss://"));
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p
                .parse()
                .map_err(|_| format!("{url:?}: port {p:?} is not a number from 0 to 65535"))?;
            (h, port)
        }
        None => (hostport, if tls { 443 } else { 80 }),
    };
    let host = host.to_ascii_lowercase();
    let loc = WebSocketLocation::new(host.clone())
        .with_tls(tls, port)
        .with_path(path);
    loc.validate().map_err(|_| {
        format!(
            "{url:?}: {host:?} is not a DNS host name; Moneysocket v1 beacons cannot carry IP \
             addresses (use a name such as localhost)"
        )
    })?;
    Ok(loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls() {
        let l = relay_location("ws://localhost:7000/x").unwrap();
        assert_eq!(l.url(), "ws://localhost:7000/x");
        assert_eq!(
            relay_location("wss://Relay.Example").unwrap().url(),
            "wss://relay.example:443"
        );
        assert!(relay_location("ws://127.0.0.1:7000").is_err());
        assert!(relay_location("http://a.b").is_err());
        assert!(relay_location("ws://a.b:99999").is_err());
    }

    #[test]
    fn alias_rules() {
        assert!(check_alias("Ana 🌿").is_ok());
        assert!(check_alias("").is_err());
        assert!(check_alias("bell\u{7}").is_err());
        assert!(check_alias("\u{1b}[31mred").is_err());
        assert!(check_alias(&"x".repeat(65)).is_err());
    }
}
