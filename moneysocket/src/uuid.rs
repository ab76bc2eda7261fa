//! UUIDs as Moneysocket messages carry them (request and account ids).
//!
//! Parsing follows Python's `uuid.UUID(str)`, which is what the reference
//! decoders call: optional `urn:`/`uuid:` prefixes and braces, hyphens
//! anywhere, then exactly 32 hex digits. v1 messages additionally require
//! version 4. New UUIDs are made from caller-supplied random bytes (the
//! crate does no I/O of its own).

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, RngCore};

/// A 128-bit UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid([u8; 16]);

/// A string that is not a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid UUID")]
pub struct InvalidUuid;

impl Uuid {
    /// Wraps 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A version-4 (random) UUID built from 16 random bytes.
    pub fn new_v4(mut random: [u8; 16]) -> Self {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        Uuid(random)
    }

    /// A fresh version-4 UUID from a cryptographic RNG.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Uuid::new_v4(bytes)
    }

    /// The version number, when the variant is RFC 4122 (as Python reports).
    pub fn version(&self) -> Option<u8> {
        if self.0[8] & 0xc0 == 0x80 {
            Some(self.0[6] >> 4)
        } else {
            None
        }
    }

    /// Parses like Python's `uuid.UUID(s)`.
    pub fn parse(s: &str) -> Result<Self, InvalidUuid> {
        let s = s.replace("urn:", "").replace("uuid:", "");
        let s = s.trim_matches(|c| c == '{' || c == '}').replace('-', "");
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidUuid);
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&s, &mut bytes).map_err(|_| InvalidUuid)?;
        Ok(Uuid(bytes))
    }
}

impl FromStr for Uuid {
    type Err = InvalidUuid;

    fn from_str(s: &str) -> Result<Self, InvalidUuid> {
        Uuid::parse(s)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_and_python_forms() {
        let u = Uuid::parse("a5b32936-3143-4856-bdea-7b3dda7aa5e8").unwrap();
        assert_eq!(u.to_string(), "a5b32936-3143-4856-bdea-7b3dda7aa5e8");
        assert_eq!(u.version(), Some(4));
        assert_eq!(
            Uuid::parse("{A5B3293631434856BDEA7B3DDA7AA5E8}").unwrap(),
            u
        );
        assert_eq!(
            Uuid::parse("urn:uuid:a5b32936-3143-4856-bdea-7b3dda7aa5e8").unwrap(),
            u
        );
        let v1 = Uuid::parse("b032ee60-c23c-11eb-a86b-08606ee5ade6").unwrap();
        assert_eq!(v1.version(), Some(1));
        assert!(Uuid::parse("hello").is_err());
        assert!(Uuid::parse("a5b32936-3143-4856-bdea-7b3dda7aa5e").is_err());
        assert!(Uuid::parse("é5b32936-3143-4856-bdea-7b3dda7aa5e8").is_err());
    }

    #[test]
    fn new_v4_sets_version_and_variant() {
        let u = Uuid::new_v4([0xff; 16]);
        assert_eq!(u.version(), Some(4));
        assert_eq!(u.to_string(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }
}
