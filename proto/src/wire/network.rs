//! The network a node speaks in: the name prefix and the DMXs that depend on it.
//!
//! Deployed tinySSB uses the prefix `tinyssb-v0` with an empty network key. A non-empty key
//! is prepended to every string that a DMX or an entry name is hashed from, so communities
//! with different keys cannot decode each other's packets. The empty key reproduces the
//! deployed bytes exactly (the GOset DMX is then `SHA-256("tinySSB-0.1 GOset 1")[0:7]`).
//! The ESP32 firmware hard-codes the prefix, so a non-empty key cannot talk to dongles.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use super::{sha256_trunc, Dmx};

/// The fixed part of every entry name.
pub const PREFIX: &[u8; 10] = b"tinyssb-v0";
/// The string the GOset DMX is hashed from.
pub const GOSET_TAG: &[u8] = b"tinySSB-0.1 GOset 1";
/// The string the ESP32 peer-ping request DMX is hashed from (not keyed).
pub const PING_REQUEST_TAG: &[u8] = b"peers 1.0 request";
/// The string the ESP32 peer-ping reply DMX is hashed from (not keyed).
pub const PING_REPLY_TAG: &[u8] = b"peers 1.0 reply";
/// Longest network key accepted.
pub const MAX_KEY_LEN: usize = 32;

/// A network key is longer than [`MAX_KEY_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("network key of {0} bytes; at most 32 are allowed")]
pub struct KeyTooLong(pub usize);

/// The prefix and the DMXs derived from it. A private network's key is a shared secret: it
/// is zeroized on drop and `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Network {
    key: Zeroizing<Vec<u8>>,
    goset_dmx: Dmx,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str("Network(deployed)")
        } else {
            write!(f, "Network(private, {}-byte key hidden)", self.key.len())
        }
    }
}

impl Default for Network {
    fn default() -> Self {
        Network::deployed()
    }
}

impl Network {
    /// The deployed network: empty key.
    pub fn deployed() -> Network {
        Network {
            key: Zeroizing::new(Vec::new()),
            goset_dmx: Dmx(sha256_trunc(&[GOSET_TAG])),
        }
    }

    /// A network separated by `key` (at most 32 bytes; empty = deployed).
    pub fn with_key(key: &[u8]) -> Result<Network, KeyTooLong> {
        if key.len() > MAX_KEY_LEN {
            return Err(KeyTooLong(key.len()));
        }
        Ok(Network {
            key: Zeroizing::new(key.to_vec()),
            goset_dmx: Dmx(sha256_trunc(&[key, GOSET_TAG])),
        })
    }

    /// The network key (empty for the deployed network).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The DMX of every GOset packet.
    pub fn goset_dmx(&self) -> Dmx {
        self.goset_dmx
    }

    /// The DMXs of the ESP32 peer ping (request, reply); they play no part in replication.
    pub fn ping_dmxs() -> (Dmx, Dmx) {
        (
            Dmx(sha256_trunc(&[PING_REQUEST_TAG])),
            Dmx(sha256_trunc(&[PING_REPLY_TAG])),
        )
    }

    /// The DMX of WANT vectors for a GOset whose XOR is `state`.
    pub fn want_dmx(&self, state: &[u8; 32]) -> Dmx {
        Dmx(sha256_trunc(&[self.key.as_slice(), PREFIX, b"want", state]))
    }

    /// The DMX of CHNK vectors for a GOset whose XOR is `state` (hashed from "blob", as
    /// deployed).
    pub fn chnk_dmx(&self, state: &[u8; 32]) -> Dmx {
        Dmx(sha256_trunc(&[self.key.as_slice(), PREFIX, b"blob", state]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_every_dmx() {
        let a = Network::deployed();
        let b = Network::with_key(b"valley").unwrap();
        assert_ne!(a.goset_dmx(), b.goset_dmx());
        assert_ne!(a.want_dmx(&[0; 32]), b.want_dmx(&[0; 32]));
        assert_ne!(a.chnk_dmx(&[0; 32]), b.chnk_dmx(&[0; 32]));
        assert!(Network::with_key(&[0; 33]).is_err());
    }

    #[test]
    fn debug_hides_a_private_networks_key() {
        let key = b"our-valley-secret";
        let shown = format!("{:?}", Network::with_key(key).unwrap());
        assert!(!shown.contains("our-valley-secret"), "{shown}");
        // Nor its bytes as a list of numbers (what a derived Debug of a Vec<u8> prints).
        let as_list = format!("{:?}", key.to_vec());
        let inner = as_list.trim_start_matches('[').trim_end_matches(']');
        assert!(!shown.contains(inner), "{shown}");
        assert!(shown.contains("hidden"), "{shown}");
        assert_eq!(format!("{:?}", Network::deployed()), "Network(deployed)");
    }
}
