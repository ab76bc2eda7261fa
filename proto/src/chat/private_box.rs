//! Private boxes: the SSB "private-box" encryption as the tinySSB Android app builds it
//! (`crypto/SSBid.kt`), byte for byte.
//!
//! ```text
//! nonce (24) ‖ ephemeral Curve25519 pk (32) ‖ n × slot (49) ‖ body box
//! slot     = secretbox([n ‖ DEK(32)], nonce, KEK_i)          (16-byte MAC first, then 33 bytes)
//! KEK_i    = X25519(ephemeral sk, Curve25519 form of recipient i's ed25519 key), used as is
//! body box = secretbox(plaintext, nonce, DEK)                  (same nonce)
//! ```
//!
//! `secretbox` is libsodium's `crypto_secretbox_easy` (XSalsa20-Poly1305, MAC first). The
//! ephemeral key is an ed25519 key pair converted to Curve25519, like every other key here.
//!
//! Deployed readers try only the first [`MAX_RECIPIENTS`] slots, so a recipient in slot 8 or
//! later could never read the message. We therefore refuse to seal to more than 7 recipients
//! ([`BoxError::TooManyRecipients`]) and, like the deployed reader, only try 7 slots when
//! opening.

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::SigningKey;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::identity::{FeedId, Identity};

/// Most recipients a box may have: deployed readers try only the first 7 slots.
pub const MAX_RECIPIENTS: usize = 7;
/// Nonce length.
pub const NONCE_LEN: usize = 24;
/// Length of one recipient slot: 16-byte MAC + count byte + 32-byte data key.
pub const SLOT_LEN: usize = 49;
/// Poly1305 tag length.
const MAC_LEN: usize = 16;
/// Offset of the first slot: nonce ‖ ephemeral public key.
const HEADER_LEN: usize = NONCE_LEN + 32;

/// Why a box could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BoxError {
    /// Sealing needs at least one recipient.
    #[error("a private box needs at least one recipient")]
    NoRecipients,
    /// More recipients than deployed readers try.
    #[error("{0} recipients: a private box holds at most 7 (deployed readers try only 7 slots)")]
    TooManyRecipients(usize),
    /// A recipient id is not a usable public key.
    #[error("recipient {0} is not a valid ed25519 public key")]
    BadRecipient(String),
    /// Shorter than a header, one slot and an empty body box.
    #[error("private box of {0} bytes is too short")]
    TooShort(usize),
    /// None of the first 7 slots opens with this identity's key: the box is for others (or
    /// its header is damaged; the two cannot be told apart).
    #[error("not addressed to this identity (or the header is damaged)")]
    NotForMe,
    /// A slot opened but states an impossible number of recipients.
    #[error("the recipient slot states {count} recipients, but the box has room for {room}")]
    BadCount {
        /// The stated count.
        count: u8,
        /// Slots the box could hold.
        room: usize,
    },
    /// A slot opened but the body does not authenticate: the box was altered.
    #[error("the message body does not authenticate (altered or truncated)")]
    BodyMac,
}

/// The randomness of one sealing; fixed values reproduce the vectors.
#[derive(Clone)]
pub struct Randomness {
    /// The nonce shared by every box.
    pub nonce: [u8; NONCE_LEN],
    /// The data encryption key.
    pub dek: Zeroizing<[u8; 32]>,
    /// Seed of the ephemeral ed25519 key pair.
    pub ephemeral_seed: Zeroizing<[u8; 32]>,
}

impl Randomness {
    /// Fresh randomness from the operating system.
    pub fn generate() -> Randomness {
        let mut r = Randomness {
            nonce: [0; NONCE_LEN],
            dek: Zeroizing::new([0; 32]),
            ephemeral_seed: Zeroizing::new([0; 32]),
        };
        let mut rng = rand_core::OsRng;
        rand_core::RngCore::fill_bytes(&mut rng, &mut r.nonce);
        rand_core::RngCore::fill_bytes(&mut rng, r.dek.as_mut());
        rand_core::RngCore::fill_bytes(&mut rng, r.ephemeral_seed.as_mut());
        r
    }
}

/// A Curve25519 secret derived from an ed25519 seed (libsodium's
/// `crypto_sign_ed25519_sk_to_curve25519`: the first half of SHA-512(seed); clamped on use).
fn curve_secret(seed: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(SigningKey::from_bytes(seed).to_scalar_bytes())
}

/// The Curve25519 form of a recipient's ed25519 key.
fn curve_public(fid: &FeedId) -> Result<MontgomeryPoint, BoxError> {
    let key = fid
        .key()
        .map_err(|_| BoxError::BadRecipient(fid.short_display()))?;
    if key.verifying_key().is_weak() {
        return Err(BoxError::BadRecipient(fid.short_display()));
    }
    Ok(key.verifying_key().to_montgomery())
}

/// X25519; `None` for an all-zero result (a low-order point), which libsodium refuses too.
fn shared(secret: &[u8; 32], public: MontgomeryPoint) -> Option<Zeroizing<[u8; 32]>> {
    let s = Zeroizing::new(public.mul_clamped(*secret).to_bytes());
    (s.iter().any(|b| *b != 0)).then_some(s)
}

fn secretbox(key: &[u8; 32], nonce: &[u8; NONCE_LEN], msg: &[u8]) -> Vec<u8> {
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key));
    // Encryption into a Vec cannot fail for messages shorter than the 2^38-byte stream.
    cipher
        .encrypt(Nonce::from_slice(nonce), msg)
        .unwrap_or_default()
}

fn secretbox_open(key: &[u8; 32], nonce: &[u8; NONCE_LEN], boxed: &[u8]) -> Option<Vec<u8>> {
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key));
    cipher.decrypt(Nonce::from_slice(nonce), boxed).ok()
}

/// Seals `plaintext` to `recipients` (in slot order; the app puts the author last) with fresh
/// randomness.
pub fn seal(plaintext: &[u8], recipients: &[FeedId]) -> Result<Vec<u8>, BoxError> {
    seal_with(plaintext, recipients, &Randomness::generate())
}

/// Seals with the given randomness (tests and vectors).
pub fn seal_with(
    plaintext: &[u8],
    recipients: &[FeedId],
    rnd: &Randomness,
) -> Result<Vec<u8>, BoxError> {
    match recipients.len() {
        0 => return Err(BoxError::NoRecipients),
        n if n > MAX_RECIPIENTS => return Err(BoxError::TooManyRecipients(n)),
        _ => {}
    }
    let keys = recipients
        .iter()
        .map(curve_public)
        .collect::<Result<Vec<_>, _>>()?;
    let eph_secret = curve_secret(&rnd.ephemeral_seed);
    let eph_public = MontgomeryPoint::mul_base_clamped(*eph_secret);
    let mut cdek = Zeroizing::new([0u8; 33]);
    cdek[0] = recipients.len() as u8;
    cdek[1..].copy_from_slice(rnd.dek.as_ref());
    let mut out =
        Vec::with_capacity(HEADER_LEN + SLOT_LEN * recipients.len() + MAC_LEN + plaintext.len());
    out.extend_from_slice(&rnd.nonce);
    out.extend_from_slice(eph_public.as_bytes());
    for (fid, key) in recipients.iter().zip(keys) {
        let kek =
            shared(&eph_secret, key).ok_or_else(|| BoxError::BadRecipient(fid.short_display()))?;
        out.extend_from_slice(&secretbox(&kek, &rnd.nonce, cdek.as_ref()));
    }
    out.extend_from_slice(&secretbox(&rnd.dek, &rnd.nonce, plaintext));
    Ok(out)
}

/// The key that opens boxes addressed to one identity, derived once.
pub struct Opener {
    secret: Zeroizing<[u8; 32]>,
}

impl Opener {
    /// The opener of `me`.
    pub fn new(me: &Identity) -> Opener {
        Opener {
            secret: curve_secret(&me.seed()),
        }
    }

    /// Opens a box, trying the first 7 slots as deployed readers do.
    pub fn open(&self, boxed: &[u8]) -> Result<Vec<u8>, BoxError> {
        if boxed.len() < HEADER_LEN + SLOT_LEN + MAC_LEN {
            return Err(BoxError::TooShort(boxed.len()));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&boxed[..NONCE_LEN]);
        let mut eph = [0u8; 32];
        eph.copy_from_slice(&boxed[NONCE_LEN..HEADER_LEN]);
        let kek = shared(&self.secret, MontgomeryPoint(eph)).ok_or(BoxError::NotForMe)?;
        let cdek = boxed[HEADER_LEN..]
            .chunks_exact(SLOT_LEN)
            .take(MAX_RECIPIENTS)
            .find_map(|slot| secretbox_open(&kek, &nonce, slot))
            .map(Zeroizing::new)
            .ok_or(BoxError::NotForMe)?;
        let (count, dek) = match cdek.split_first() {
            Some((c, d)) if d.len() == 32 => (*c, d),
            _ => return Err(BoxError::NotForMe),
        };
        // The deployed reader reads the count as a signed byte; only 1..=127 can be honest.
        let room = (boxed.len() - HEADER_LEN - MAC_LEN) / SLOT_LEN;
        if count == 0 || count > 127 || usize::from(count) > room {
            return Err(BoxError::BadCount { count, room });
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(dek);
        let body = &boxed[HEADER_LEN + usize::from(count) * SLOT_LEN..];
        secretbox_open(&key, &nonce, body).ok_or(BoxError::BodyMac)
    }
}

/// Opens a box addressed to `me` (derives the key each time; keep an [`Opener`] for many).
pub fn open(boxed: &[u8], me: &Identity) -> Result<Vec<u8>, BoxError> {
    Opener::new(me).open(boxed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seal_and_open_round_trip() {
        let a = Identity::from_seed(&[1; 32]);
        let b = Identity::from_seed(&[2; 32]);
        let c = Identity::from_seed(&[3; 32]);
        let boxed = seal(b"hi", &[*b.fid(), *a.fid()]).unwrap();
        assert_eq!(open(&boxed, &a).unwrap(), b"hi");
        assert_eq!(open(&boxed, &b).unwrap(), b"hi");
        assert_eq!(open(&boxed, &c), Err(BoxError::NotForMe));
    }

    #[test]
    fn limits_are_errors() {
        let ids: Vec<FeedId> = (0..8u8)
            .map(|i| *Identity::from_seed(&[i; 32]).fid())
            .collect();
        assert_eq!(seal(b"x", &[]), Err(BoxError::NoRecipients));
        assert_eq!(seal(b"x", &ids), Err(BoxError::TooManyRecipients(8)));
        assert!(seal(b"x", &ids[..7]).is_ok());
        let me = Identity::from_seed(&[9; 32]);
        assert_eq!(open(&[0; 10], &me), Err(BoxError::TooShort(10)));
    }
}
