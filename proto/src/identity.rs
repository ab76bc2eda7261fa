//! Identities: ed25519 keys, the [`FeedId`] and its text forms, and the key file.
//!
//! A feed id is the raw 32-byte ed25519 public key. People and other apps see it as
//! `@<base64>.ed25519` (SSB ref), `did:ssb:ed25519:<base64>` (QR codes), a 10-character short
//! name (`XXXXX-XXXXX` on screen) or 64 hex digits (directory names). [`FeedId`] parses all of
//! them and prints each.
//!
//! The secret key lives in [`Identity`], which zeroizes it on drop and never prints it. The key
//! file is the tinySSB Android export form `{"curve":"ed25519","secret":"<base64 of 64 bytes>"}`;
//! this module parses and prints it, and `lichen::identity` reads and writes it on disk.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use thiserror::Error;
use zeroize::Zeroizing;

/// A feed id: the author's raw ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedId(pub [u8; 32]);

/// Why a string is not a feed id, or a key file is not usable.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The text is none of the accepted forms.
    #[error(
        "not a feed id: expected @<base64>.ed25519, did:ssb:ed25519:<base64> or 64 hex digits"
    )]
    UnknownForm,
    /// Base64 that does not decode.
    #[error("feed id base64 does not decode")]
    BadBase64,
    /// Decoded to the wrong number of bytes.
    #[error("feed id has {0} bytes; 32 are required")]
    WrongLength(usize),
    /// The key is not a usable ed25519 public key (not a curve point, or of small order).
    #[error("feed id is not a usable ed25519 public key")]
    NotAKey,
    /// The key file is not one of the accepted JSON forms.
    #[error("key file: {0}")]
    KeyFile(String),
    /// Reading or writing the key file failed.
    #[error("key file I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl FeedId {
    /// `@<base64>.ed25519`.
    pub fn to_ref(&self) -> String {
        format!("@{}.ed25519", B64.encode(self.0))
    }

    /// `did:ssb:ed25519:<base64>`, the form in tinySSB QR codes.
    pub fn to_did(&self) -> String {
        format!("did:ssb:ed25519:{}", B64.encode(self.0))
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The 10-character short name: base32 (RFC 4648) of the first 7 bytes, first 10 characters.
    pub fn short_name(&self) -> String {
        let b32 = data_encoding::BASE32_NOPAD.encode(&self.0[..7]);
        b32.chars().take(10).collect()
    }

    /// The short name as shown to people: `XXXXX-XXXXX`.
    pub fn short_display(&self) -> String {
        let s = self.short_name();
        format!("{}-{}", &s[..5], &s[5..])
    }

    /// The key, checked to be a usable ed25519 public key, ready for verification.
    pub fn key(&self) -> Result<FeedKey, IdentityError> {
        let vk = VerifyingKey::from_bytes(&self.0).map_err(|_| IdentityError::NotAKey)?;
        if vk.is_weak() {
            return Err(IdentityError::NotAKey);
        }
        Ok(FeedKey { fid: *self, vk })
    }

    fn from_b64(s: &str) -> Result<FeedId, IdentityError> {
        let raw = B64.decode(s).map_err(|_| IdentityError::BadBase64)?;
        let len = raw.len();
        raw.try_into()
            .map(FeedId)
            .map_err(|_| IdentityError::WrongLength(len))
    }
}

impl FromStr for FeedId {
    type Err = IdentityError;

    /// Accepts `@<b64>.ed25519`, `did:ssb:ed25519:<b64>` and 64 hex digits.
    fn from_str(s: &str) -> Result<FeedId, IdentityError> {
        let s = s.trim();
        if let Some(b64) = s.strip_prefix('@').and_then(|r| r.strip_suffix(".ed25519")) {
            return FeedId::from_b64(b64);
        }
        if let Some(b64) = s.strip_prefix("did:ssb:ed25519:") {
            return FeedId::from_b64(b64);
        }
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            let raw = hex::decode(s).map_err(|_| IdentityError::UnknownForm)?;
            let len = raw.len();
            return raw
                .try_into()
                .map(FeedId)
                .map_err(|_| IdentityError::WrongLength(len));
        }
        Err(IdentityError::UnknownForm)
    }
}

impl fmt::Display for FeedId {
    /// The SSB ref form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ref())
    }
}

impl fmt::Debug for FeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FeedId({})", self.short_display())
    }
}

/// A feed id with its decompressed public key, for fast repeated verification.
#[derive(Clone, Debug)]
pub struct FeedKey {
    fid: FeedId,
    vk: VerifyingKey,
}

impl FeedKey {
    /// The feed id.
    pub fn fid(&self) -> &FeedId {
        &self.fid
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.vk
    }
}

/// A person's signing identity. The secret is zeroized on drop and never printed.
pub struct Identity {
    signing: SigningKey,
    key: FeedKey,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({:?}, secret hidden)", self.key.fid)
    }
}

impl Identity {
    /// A fresh identity from the operating system's random source.
    pub fn generate() -> Identity {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
        Identity::from_seed(&seed)
    }

    /// The identity with this 32-byte ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> Identity {
        let signing = SigningKey::from_bytes(seed);
        let vk = signing.verifying_key();
        Identity {
            key: FeedKey {
                fid: FeedId(vk.to_bytes()),
                vk,
            },
            signing,
        }
    }

    /// The identity from a libsodium 64-byte secret key (seed ‖ public key); the public half
    /// must match the seed.
    pub fn from_secret64(secret: &[u8]) -> Result<Identity, IdentityError> {
        let (seed, public) = secret
            .split_first_chunk::<32>()
            .ok_or_else(|| IdentityError::KeyFile("secret must be 64 bytes".into()))?;
        if public.len() != 32 {
            return Err(IdentityError::KeyFile(format!(
                "secret has {} bytes; 64 are required",
                secret.len()
            )));
        }
        let id = Identity::from_seed(seed);
        if id.fid().0 != public {
            return Err(IdentityError::KeyFile(
                "public half of the secret does not match its seed".into(),
            ));
        }
        Ok(id)
    }

    /// The feed id.
    pub fn fid(&self) -> &FeedId {
        &self.key.fid
    }

    /// The public key, ready for verification.
    pub fn key(&self) -> &FeedKey {
        &self.key
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The 32-byte seed, for deriving the Curve25519 key of private boxes. Handle with care.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The key file in the tinySSB Android export form.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let mut secret = Zeroizing::new([0u8; 64]);
        secret[..32].copy_from_slice(self.signing.as_bytes());
        secret[32..].copy_from_slice(&self.key.fid.0);
        let b64 = Zeroizing::new(B64.encode(secret.as_ref()));
        Zeroizing::new(format!(
            r#"{{"curve":"ed25519","secret":"{}"}}"#,
            b64.as_str()
        ))
    }

    /// Parses a key file: the Android export form `{"curve":"ed25519","secret":"<b64>"}`, the
    /// Android app's own `secret` file (`"private": "<b64>"`, optionally with `.ed25519`), or
    /// Python simplechat's `{"seed": "<hex>"}`.
    pub fn from_key_file(text: &str) -> Result<Identity, IdentityError> {
        let json: Zeroizing<String> = Zeroizing::new(text.to_owned());
        // The parsed tree holds the secret's text too: wiped however this function returns.
        let v = WipedJson(
            serde_json::from_str(&json)
                .map_err(|e| IdentityError::KeyFile(format!("not JSON: {e}")))?,
        );
        let v = &v.0;
        if let Some(curve) = v.get("curve").and_then(|c| c.as_str()) {
            if curve != "ed25519" {
                return Err(IdentityError::KeyFile(format!(
                    "curve is {curve:?}; only ed25519 is supported"
                )));
            }
        }
        let b64 = v
            .get("secret")
            .or_else(|| v.get("private"))
            .and_then(|s| s.as_str());
        if let Some(b64) = b64 {
            let b64 = b64.strip_suffix(".ed25519").unwrap_or(b64);
            let raw = Zeroizing::new(
                B64.decode(b64)
                    .map_err(|_| IdentityError::KeyFile("secret is not base64".into()))?,
            );
            return Identity::from_secret64(&raw);
        }
        if let Some(hex_seed) = v.get("seed").and_then(|s| s.as_str()) {
            let raw = Zeroizing::new(
                hex::decode(hex_seed)
                    .map_err(|_| IdentityError::KeyFile("seed is not hex".into()))?,
            );
            let seed: &[u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| IdentityError::KeyFile("seed must be 32 bytes".into()))?;
            return Ok(Identity::from_seed(seed));
        }
        Err(IdentityError::KeyFile(
            "expected a \"secret\", \"private\" or \"seed\" field".into(),
        ))
    }
}

/// A parsed JSON tree whose strings are zeroized when it is dropped (key files).
struct WipedJson(serde_json::Value);

impl Drop for WipedJson {
    fn drop(&mut self) {
        wipe_json(&mut self.0);
    }
}

/// Zeroizes every string in a JSON tree, in place.
fn wipe_json(v: &mut serde_json::Value) {
    use zeroize::Zeroize;
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(wipe_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parsed_key_file_is_wiped() {
        let mut v: serde_json::Value =
            serde_json::from_str(r#"{"secret":"c2VjcmV0","x":[{"seed":"abcd"}],"n":1}"#).unwrap();
        wipe_json(&mut v);
        assert_eq!(v, serde_json::json!({"secret":"","x":[{"seed":""}],"n":1}));
    }

    #[test]
    fn debug_hides_the_secret() {
        let id = Identity::from_seed(&[7; 32]);
        let shown = format!("{id:?}");
        assert!(shown.contains("secret hidden"));
        assert!(!shown.contains(&B64.encode([7u8; 32])));
    }

    #[test]
    fn key_file_round_trip() {
        let id = Identity::from_seed(&[9; 32]);
        let back = Identity::from_key_file(&id.to_key_file()).unwrap();
        assert_eq!(back.fid(), id.fid());
    }

    #[test]
    fn mismatched_public_half_is_refused() {
        let mut secret = [1u8; 64];
        secret[40] ^= 1;
        assert!(Identity::from_secret64(&secret).is_err());
    }

    #[test]
    fn small_order_key_is_not_a_feed_key() {
        // The identity point (y = 1) is of small order.
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        assert!(matches!(FeedId(bytes).key(), Err(IdentityError::NotAKey)));
    }
}
