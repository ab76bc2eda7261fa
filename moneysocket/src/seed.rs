//! The shared seed and the keys derived from it.
//!
//! A beacon carries a 16-byte shared seed: whoever holds the beacon can meet
//! the other side and read its traffic (it is a bearer secret). Two
//! incompatible derivations exist, and mixing them for one seed is a hazard
//! because the v1 rendezvous id (sent in clear) equals the v0 AES key:
//!
//! | generation | AES-256 key | rendezvous id |
//! |---|---|---|
//! | v0 (all deployed code) | SHA-256(SHA-256(seed)) | SHA-256(SHA-256(key)) |
//! | v1 (RFC BOM #6) | SHA-256(seed) | SHA-256(key) |
//!
//! The types here therefore name the generation in every derivation.

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The 128-bit secret a beacon carries.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct SharedSeed([u8; 16]);

/// A string that is not 32 hex digits (a seed) or 64 (an id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected {0} hex digits")]
pub struct InvalidHex(pub usize);

impl SharedSeed {
    /// Length in bytes.
    pub const LEN: usize = 16;

    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SharedSeed(bytes)
    }

    /// Copies from a slice, which must be 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 16]>::try_from(bytes).ok().map(SharedSeed)
    }

    /// A fresh random seed.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        SharedSeed(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lower-case hex (32 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// v0 AES-256 key: SHA-256(SHA-256(seed)).
    pub fn v0_aes_key(&self) -> AesKey {
        AesKey(sha256(&sha256(&self.0)))
    }

    /// v0 rendezvous id: SHA-256(SHA-256(v0 AES key)).
    pub fn v0_rendezvous_id(&self) -> RendezvousId {
        let key = self.v0_aes_key();
        RendezvousId(sha256(&sha256(&key.0)))
    }

    /// v1 (RFC) AES-256 key: SHA-256(seed).
    pub fn v1_aes_key(&self) -> AesKey {
        AesKey(sha256(&self.0))
    }

    /// v1 (RFC) rendezvous id: SHA-256(v1 AES key).
    pub fn v1_rendezvous_id(&self) -> RendezvousId {
        RendezvousId(sha256(&self.v1_aes_key().0))
    }
}

impl fmt::Debug for SharedSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A bearer secret: show only a short fingerprint.
        let tag = sha256(&self.0);
        write!(f, "SharedSeed(#{})", hex::encode(&tag[..4]))
    }
}

impl FromStr for SharedSeed {
    type Err = InvalidHex;

    fn from_str(s: &str) -> Result<Self, InvalidHex> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| InvalidHex(32))?;
        Ok(SharedSeed(bytes))
    }
}

/// A 256-bit AES key derived from a shared seed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AesKey([u8; 32]);

impl AesKey {
    /// Wraps 32 raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        AesKey(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(..)")
    }
}

/// The 256-bit id two peers present to a relay to be paired.
///
/// On the wire (v0) it is 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RendezvousId([u8; 32]);

impl RendezvousId {
    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        RendezvousId(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for RendezvousId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for RendezvousId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RendezvousId({self})")
    }
}

impl FromStr for RendezvousId {
    type Err = InvalidHex;

    /// Accepts 64 hex digits in either case (as the v0 relay does).
    fn from_str(s: &str) -> Result<Self, InvalidHex> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| InvalidHex(64))?;
        Ok(RendezvousId(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivations_for_the_rfc_seed() {
        let seed: SharedSeed = "a68bd6e9a77e3346c22063a3dec66780".parse().unwrap();
        assert_eq!(
            hex::encode(seed.v0_aes_key().as_bytes()),
            "bceea11e4fb68e269781f5ec016bccfeb7628821112bcb896f22b82258feadb5"
        );
        assert_eq!(
            seed.v0_rendezvous_id().to_string(),
            "0561059e5409d1502ea9e74b2713e6fd949a6fc4e55de04d739d1892120e15e6"
        );
        assert_eq!(
            hex::encode(seed.v1_aes_key().as_bytes()),
            "311b49d8ec6d6b1980ef8d4af953270e42aab71ed93d11b86fefd5353d58b5c7"
        );
        // The hazard the module docs describe.
        assert_eq!(
            seed.v1_rendezvous_id().as_bytes(),
            seed.v0_aes_key().as_bytes()
        );
    }

    #[test]
    fn debug_does_not_print_the_seed() {
        let seed = SharedSeed::from_bytes([0x42; 16]);
        assert!(!format!("{seed:?}").contains("4242"));
    }
}
