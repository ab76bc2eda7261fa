//! The relay tunnel: how tinySSB packets cross a Moneysocket relay, sans-IO.
//!
//! Both sides hold the beacon's 16-byte shared seed and know their role: the **inviter** minted
//! the beacon, the **acceptor** read it. After the relay pairs them, each sends one HELLO
//! carrying its role and 32 fresh random bytes, authenticated with a key derived from the
//! seed. From the two HELLOs each side derives one ChaCha20-Poly1305 key per direction:
//!
//! ```text
//! hello key = HKDF-SHA256(salt = "lichen-tunnel", ikm = seed, info = "lichen tunnel v1 hello")
//! key i→a   = HKDF-SHA256(salt = inviter random ‖ acceptor random, ikm = seed,
//!                         info = "lichen tunnel v1 inviter to acceptor")
//! key a→i   = … info = "lichen tunnel v1 acceptor to inviter"
//! ```
//!
//! so every relay session has fresh keys and a data counter can start at 0 again without ever
//! reusing a nonce under one key (the seed alone lives as long as the invite, and both ends
//! reconnect many times). Frames (ADR 0006):
//!
//! ```text
//! HELLO  FF 01 01 | role (1: inviter, 2: acceptor) | random (32) | HMAC-SHA256 tag[0:16]
//! DATA   FF 01 02 | counter (u64 BE) | ChaCha20-Poly1305(packet), 16-byte tag
//!        nonce = 00000000 ‖ counter, associated data = the 11 header bytes
//! ```
//!
//! Every frame starts with `0xFF`, a byte that never occurs in UTF-8, so no frame after
//! pairing can parse as UTF-8 JSON: a stock relay forwards it verbatim instead of trying to
//! read it as a Moneysocket message. A receiver keeps a 128-wide sliding window of counters
//! seen: a repeated counter, or one more than 127 behind the newest, is refused. A sender
//! refuses to go past counter 2^64 − 2 (the link then reconnects and gets fresh keys).

mod frame;
mod window;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use moneysocket::SharedSeed;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use frame::{
    decode_frame, Frame, TunnelError, DATA_HEADER_LEN, DATA_OVERHEAD, HELLO_LEN, HELLO_TAG_LEN,
    KIND_DATA, KIND_HELLO, LAST_COUNTER, MAGIC, MAX_PLAINTEXT, RANDOM_LEN, VERSION, WINDOW,
};
pub use window::ReplayWindow;

const HKDF_SALT: &[u8] = b"lichen-tunnel";
const INFO_HELLO: &[u8] = b"lichen tunnel v1 hello";
const INFO_TO_ACCEPTOR: &[u8] = b"lichen tunnel v1 inviter to acceptor";
const INFO_TO_INVITER: &[u8] = b"lichen tunnel v1 acceptor to inviter";

/// Which end of an invite this side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelRole {
    /// Minted the beacon (the invite).
    Inviter,
    /// Read the beacon (accepted the invite).
    Acceptor,
}

impl TunnelRole {
    /// The byte in a HELLO.
    pub fn to_byte(self) -> u8 {
        match self {
            TunnelRole::Inviter => 1,
            TunnelRole::Acceptor => 2,
        }
    }

    /// Reads a HELLO's role byte.
    pub fn from_byte(b: u8) -> Option<TunnelRole> {
        match b {
            1 => Some(TunnelRole::Inviter),
            2 => Some(TunnelRole::Acceptor),
            _ => None,
        }
    }

    /// `inviter` or `acceptor`.
    pub fn name(self) -> &'static str {
        match self {
            TunnelRole::Inviter => "inviter",
            TunnelRole::Acceptor => "acceptor",
        }
    }
}

/// What a received frame amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The peer's HELLO: the tunnel is open, packets may flow.
    Opened,
    /// A packet from the peer.
    Packet(Vec<u8>),
}

struct Open {
    send: ChaCha20Poly1305,
    next: u64,
    recv: ChaCha20Poly1305,
    window: ReplayWindow,
}

/// One relay session's tunnel: HELLO exchange, then sealing and opening packets.
pub struct Tunnel {
    role: TunnelRole,
    seed: SharedSeed,
    hello_key: Zeroizing<[u8; 32]>,
    random: [u8; RANDOM_LEN],
    open: Option<Open>,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("role", &self.role)
            .field("open", &self.open.is_some())
            .finish_non_exhaustive()
    }
}

fn hkdf_expand(salt: &[u8], seed: &SharedSeed, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    let hk = Hkdf::<Sha256>::new(Some(salt), seed.as_bytes());
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32, so this cannot fail.
    let _ = hk.expand(info, out.as_mut());
    out
}

fn hello_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC pads a key shorter than the 64-byte block with zeros (RFC 2104), so padding here
    // gives the same MAC as keying with the 32 bytes, through the constructor that cannot fail.
    let mut block = Zeroizing::new([0u8; 64]);
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    <Hmac<Sha256> as KeyInit>::new(&(*block).into())
}

fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::from(n)
}

impl Tunnel {
    /// A tunnel for one session; `random` must be fresh random bytes for every session.
    pub fn new(seed: &SharedSeed, role: TunnelRole, random: [u8; RANDOM_LEN]) -> Tunnel {
        Tunnel {
            role,
            seed: seed.clone(),
            hello_key: hkdf_expand(HKDF_SALT, seed, INFO_HELLO),
            random,
            open: None,
        }
    }

    /// This side's role.
    pub fn role(&self) -> TunnelRole {
        self.role
    }

    /// Whether both HELLOs have been exchanged.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The HELLO frame to send first.
    pub fn hello(&self) -> Vec<u8> {
        let mut frame = Vec::with_capacity(HELLO_LEN);
        frame.extend_from_slice(&[MAGIC, VERSION, KIND_HELLO, self.role.to_byte()]);
        frame.extend_from_slice(&self.random);
        let mut mac = hello_mac(&self.hello_key);
        mac.update(&frame);
        let tag = mac.finalize().into_bytes();
        frame.extend_from_slice(tag.get(..HELLO_TAG_LEN).unwrap_or_default());
        frame
    }

    /// Takes one frame from the peer.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Received, TunnelError> {
        match decode_frame(frame)? {
            Frame::Hello { role, random, tag } => {
                if self.open.is_some() {
                    return Err(TunnelError::UnexpectedHello);
                }
                let mut mac = hello_mac(&self.hello_key);
                // A hello is HELLO_LEN bytes (decode_frame checked); a short one cannot verify.
                mac.update(frame.get(..HELLO_LEN - HELLO_TAG_LEN).unwrap_or_default());
                mac.verify_truncated_left(tag)
                    .map_err(|_| TunnelError::HelloForged)?;
                if *random == self.random {
                    return Err(TunnelError::Reflected);
                }
                if role == self.role {
                    return Err(TunnelError::SameRole(role.name()));
                }
                self.open = Some(self.derive(random));
                Ok(Received::Opened)
            }
            Frame::Data {
                counter,
                header,
                sealed,
            } => {
                let open = self.open.as_mut().ok_or(TunnelError::DataBeforeHello)?;
                open.window.check(counter)?;
                let packet = open
                    .recv
                    .decrypt(
                        &nonce(counter),
                        Payload {
                            msg: sealed,
                            aad: header,
                        },
                    )
                    .map_err(|_| TunnelError::Forged(counter))?;
                open.window.accept(counter);
                Ok(Received::Packet(packet))
            }
        }
    }

    /// Seals one packet into a DATA frame.
    pub fn seal(&mut self, packet: &[u8]) -> Result<Vec<u8>, TunnelError> {
        if packet.len() > MAX_PLAINTEXT {
            return Err(TunnelError::TooLarge(packet.len()));
        }
        let open = self.open.as_mut().ok_or(TunnelError::NotOpen)?;
        if open.next > LAST_COUNTER {
            return Err(TunnelError::CounterExhausted);
        }
        let counter = open.next;
        let mut frame = Vec::with_capacity(packet.len() + DATA_OVERHEAD);
        frame.extend_from_slice(&[MAGIC, VERSION, KIND_DATA]);
        frame.extend_from_slice(&counter.to_be_bytes());
        let sealed = open
            .send
            .encrypt(
                &nonce(counter),
                Payload {
                    msg: packet,
                    aad: &frame,
                },
            )
            .map_err(|_| TunnelError::TooLarge(packet.len()))?;
        frame.extend_from_slice(&sealed);
        open.next += 1;
        Ok(frame)
    }

    fn derive(&self, peer_random: &[u8; RANDOM_LEN]) -> Open {
        let mut salt = [0u8; 2 * RANDOM_LEN];
        let (inviter, acceptor) = match self.role {
            TunnelRole::Inviter => (&self.random, peer_random),
            TunnelRole::Acceptor => (peer_random, &self.random),
        };
        salt[..RANDOM_LEN].copy_from_slice(inviter);
        salt[RANDOM_LEN..].copy_from_slice(acceptor);
        let to_acceptor = hkdf_expand(&salt, &self.seed, INFO_TO_ACCEPTOR);
        let to_inviter = hkdf_expand(&salt, &self.seed, INFO_TO_INVITER);
        let cipher = |k: &[u8; 32]| ChaCha20Poly1305::new(Key::from_slice(k));
        let (send, recv) = match self.role {
            TunnelRole::Inviter => (cipher(&to_acceptor), cipher(&to_inviter)),
            TunnelRole::Acceptor => (cipher(&to_inviter), cipher(&to_acceptor)),
        };
        Open {
            send,
            next: 0,
            recv,
            window: ReplayWindow::new(),
        }
    }

    #[cfg(test)]
    fn set_next_counter(&mut self, next: u64) {
        if let Some(open) = self.open.as_mut() {
            open.next = next;
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn pair() -> (Tunnel, Tunnel) {
        let seed = SharedSeed::from_bytes([9; 16]);
        let mut a = Tunnel::new(&seed, TunnelRole::Inviter, [1; 32]);
        let mut b = Tunnel::new(&seed, TunnelRole::Acceptor, [2; 32]);
        let (ha, hb) = (a.hello(), b.hello());
        assert_eq!(b.receive(&ha).unwrap(), Received::Opened);
        assert_eq!(a.receive(&hb).unwrap(), Received::Opened);
        (a, b)
    }

    #[test]
    fn counter_exhaustion_is_refused_not_wrapped() {
        let (mut a, mut b) = pair();
        a.set_next_counter(LAST_COUNTER);
        let last = a.seal(b"last").unwrap();
        assert_eq!(&last[3..11], &LAST_COUNTER.to_be_bytes());
        assert_eq!(
            b.receive(&last).unwrap(),
            Received::Packet(b"last".to_vec())
        );
        assert_eq!(a.seal(b"one more"), Err(TunnelError::CounterExhausted));
        assert_eq!(a.seal(b"and again"), Err(TunnelError::CounterExhausted));
    }

    #[test]
    fn wire_layout() {
        let (mut a, _) = pair();
        let f = a.seal(b"abc").unwrap();
        assert_eq!(&f[..11], &[0xff, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f.len(), 3 + DATA_OVERHEAD);
        let h = a.hello();
        assert_eq!(&h[..4], &[0xff, 1, 1, 1]);
        assert_eq!(h.len(), HELLO_LEN);
    }

    #[test]
    fn directions_use_different_keys() {
        let (mut a, mut b) = pair();
        let fa = a.seal(b"same").unwrap();
        let fb = b.seal(b"same").unwrap();
        assert_ne!(fa, fb, "same counter, same packet, other direction");
        // A frame sent by A does not open at A (its receive key is the other direction's).
        assert_eq!(a.receive(&fa), Err(TunnelError::Forged(0)));
    }
}
