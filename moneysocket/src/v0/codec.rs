//! The v0 wire codec, exactly as deployed (py-moneysocket, js-moneysocket).
//!
//! * Key: the v0 AES-256 key, SHA-256(SHA-256(seed)), both directions.
//! * Encrypt: append 16 − (len mod 16) zero bytes (1–16, a whole block when
//!   the length is already a multiple of 16), AES-256-CBC with a fresh
//!   random 16-byte IV, send IV ‖ ciphertext. There is no MAC.
//! * Decrypt: strip every trailing zero byte (JSON never ends in NUL).
//!   moneysocket-go pads with PKCS#7 instead; a valid PKCS#7 tail is also
//!   stripped so its frames are readable (JSON never ends in bytes 1–16
//!   repeated, except whitespace, which is harmless to drop).
//! * Classify: a frame that is UTF-8 JSON is cleartext; anything else is
//!   ciphertext. Rendezvous messages are always cleartext, and one arriving
//!   encrypted is rejected.
//!
//! This cipher is unauthenticated and uses a static key: it exists only for
//! interoperability with deployed Moneysocket peers.

use aes::Aes256;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rand_core::{CryptoRng, RngCore};

use super::message::Message;
use crate::error::{V0CodecError, V0MessageError};
use crate::json::Json;
use crate::seed::AesKey;

const BLOCK: usize = 16;

/// Encrypts with a caller-chosen IV (tests and vectors); prefer [`encrypt`].
pub fn encrypt_with_iv(key: &AesKey, iv: [u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut buf = Vec::with_capacity(BLOCK + plaintext.len() + pad);
    buf.extend_from_slice(&iv);
    buf.extend_from_slice(plaintext);
    buf.resize(BLOCK + plaintext.len() + pad, 0);
    let cipher = cbc::Encryptor::<Aes256>::new(key.as_bytes().into(), &iv.into());
    if let Some(body) = buf.get_mut(BLOCK..) {
        let len = body.len();
        // The body is a whole number of blocks, so NoPadding cannot fail.
        let _ = cipher.encrypt_padded_mut::<NoPadding>(body, len);
    }
    buf
}

/// Encrypts with a fresh random IV: IV ‖ AES-256-CBC(plaintext ‖ zeros).
pub fn encrypt<R: RngCore + CryptoRng>(key: &AesKey, plaintext: &[u8], rng: &mut R) -> Vec<u8> {
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut iv);
    encrypt_with_iv(key, iv, plaintext)
}

/// Decrypts IV ‖ ciphertext and strips the padding.
pub fn decrypt(key: &AesKey, wire: &[u8]) -> Result<Vec<u8>, V0CodecError> {
    if wire.len() < 2 * BLOCK || wire.len() % BLOCK != 0 {
        return Err(V0CodecError::BadLength(wire.len()));
    }
    let (iv, body) = wire.split_at(BLOCK);
    let mut iv_bytes = [0u8; 16];
    iv_bytes.copy_from_slice(iv);
    let mut buf = body.to_vec();
    let cipher = cbc::Decryptor::<Aes256>::new(key.as_bytes().into(), &iv_bytes.into());
    let len = cipher
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map(|plain| plain.len())
        .map_err(|_| V0CodecError::BadLength(wire.len()))?;
    buf.truncate(len);
    while buf.last() == Some(&0) {
        buf.pop();
    }
    strip_pkcs7(&mut buf);
    Ok(buf)
}

fn strip_pkcs7(buf: &mut Vec<u8>) {
    let Some(&n) = buf.last() else { return };
    let n = usize::from(n);
    if (1..=BLOCK).contains(&n)
        && buf
            .get(buf.len().saturating_sub(n)..)
            .is_some_and(|tail| buf.len() >= n && tail.iter().all(|&b| usize::from(b) == n))
    {
        buf.truncate(buf.len() - n);
    }
}

/// True when `frame` is UTF-8 JSON (the deployed cleartext test).
pub fn is_cleartext(frame: &[u8]) -> bool {
    Json::parse(frame).is_ok()
}

/// How a frame arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Cleartext JSON.
    Clear(Message),
    /// Decrypted with the key.
    Decrypted(Message),
}

impl Frame {
    /// The message, however it arrived.
    pub fn message(&self) -> &Message {
        match self {
            Frame::Clear(m) | Frame::Decrypted(m) => m,
        }
    }

    /// The message, however it arrived.
    pub fn into_message(self) -> Message {
        match self {
            Frame::Clear(m) | Frame::Decrypted(m) => m,
        }
    }
}

/// Decodes one WebSocket frame; `key` is needed only for ciphertext.
pub fn decode_wire(frame: &[u8], key: Option<&AesKey>) -> Result<Frame, V0CodecError> {
    match Json::parse(frame) {
        Ok(Json::Object(object)) => return Ok(Frame::Clear(Message::from_object(object)?)),
        Ok(_) => return Err(V0MessageError::NotObject.into()),
        Err(_) => {}
    }
    let key = key.ok_or(V0CodecError::NoKey)?;
    let plain = decrypt(key, frame)?;
    if std::str::from_utf8(&plain).is_err() {
        return Err(V0CodecError::NotUtf8);
    }
    let message = Message::from_json_bytes(&plain)?;
    if message.must_be_cleartext() {
        return Err(V0CodecError::ShouldBeClear(message.name().to_owned()));
    }
    Ok(Frame::Decrypted(message))
}

/// Encodes a message for the wire with the given IV: cleartext when the
/// message must be clear or no key is given, otherwise encrypted.
pub fn encode_wire(message: &Message, key: Option<&AesKey>, iv: [u8; 16]) -> Vec<u8> {
    let json = message.to_json_bytes();
    match key {
        Some(key) if !message.must_be_cleartext() => encrypt_with_iv(key, iv, &json),
        _ => json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::SharedSeed;

    #[test]
    fn round_trip_and_padding_lengths() {
        let key = SharedSeed::from_bytes([3; 16]).v0_aes_key();
        for len in 0..40 {
            let plain = vec![b'x'; len];
            let wire = encrypt_with_iv(&key, [9; 16], &plain);
            let pad = 16 - len % 16;
            assert_eq!(wire.len(), 16 + len + pad);
            assert_eq!(decrypt(&key, &wire).unwrap(), plain);
        }
    }

    #[test]
    fn pkcs7_tails_from_go_are_stripped() {
        let key = SharedSeed::from_bytes([3; 16]).v0_aes_key();
        let mut plain = b"{\"a\": 1}".to_vec();
        plain.extend_from_slice(&[8; 8]);
        let wire = encrypt_with_iv(&key, [0; 16], &plain);
        assert_eq!(decrypt(&key, &wire).unwrap(), b"{\"a\": 1}");
    }

    #[test]
    fn bad_lengths_are_errors() {
        let key = SharedSeed::from_bytes([3; 16]).v0_aes_key();
        for len in [0, 15, 16, 17, 31, 33] {
            assert_eq!(
                decrypt(&key, &vec![1; len]),
                Err(V0CodecError::BadLength(len))
            );
        }
    }

    #[test]
    fn ciphertext_without_key() {
        assert_eq!(decode_wire(&[0xff; 32], None), Err(V0CodecError::NoKey));
    }
}
