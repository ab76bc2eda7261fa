//! Tunnel frames on the wire: constants, the layout parser and the errors (ADR 0006).
//!
//! [`decode_frame`] checks the layout only (magic, version, kind, lengths); keys are the
//! [`super::Tunnel`]'s business.

use super::TunnelRole;

/// First byte of every tunnel frame; never valid anywhere in UTF-8.
pub const MAGIC: u8 = 0xFF;
/// The tunnel format version this code speaks.
pub const VERSION: u8 = 1;
/// Frame kind: HELLO.
pub const KIND_HELLO: u8 = 0x01;
/// Frame kind: DATA.
pub const KIND_DATA: u8 = 0x02;
/// Length of the random part of a HELLO.
pub const RANDOM_LEN: usize = 32;
/// Length of a HELLO's tag (HMAC-SHA256, first 16 bytes).
pub const HELLO_TAG_LEN: usize = 16;
/// Length of a HELLO frame.
pub const HELLO_LEN: usize = 3 + 1 + RANDOM_LEN + HELLO_TAG_LEN;
/// Length of a DATA frame's header (magic, version, kind, counter).
pub const DATA_HEADER_LEN: usize = 3 + 8;
/// Bytes a DATA frame adds to its packet.
pub const DATA_OVERHEAD: usize = DATA_HEADER_LEN + 16;
/// Largest packet carried (the node's own limit on packets from outside).
pub const MAX_PLAINTEXT: usize = crate::face::MAX_PACKET;
/// Width of the replay window, in counters.
pub const WINDOW: u64 = 128;
/// Highest counter a sender uses; the next packet is refused instead.
pub const LAST_COUNTER: u64 = u64::MAX - 1;

/// Why a frame was refused (or a packet could not be sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TunnelError {
    /// A zero-length frame.
    #[error("empty tunnel frame")]
    Empty,
    /// The first byte is not 0xFF.
    #[error("not a Lichen tunnel frame: first byte is 0x{0:02x}, expected 0xff")]
    NotTunnel(u8),
    /// A version this code does not speak.
    #[error("tunnel version {0} is not supported (this code speaks version 1)")]
    UnsupportedVersion(u8),
    /// A kind byte that is neither HELLO nor DATA.
    #[error("unknown tunnel frame kind 0x{0:02x}")]
    UnknownKind(u8),
    /// Shorter than its kind requires.
    #[error("tunnel {kind} frame too short: {len} bytes, at least {min} needed")]
    Truncated {
        /// `hello` or `data`.
        kind: &'static str,
        /// The frame length.
        len: usize,
        /// The smallest valid length.
        min: usize,
    },
    /// A HELLO of the wrong length.
    #[error("tunnel hello has {0} bytes, expected 52")]
    HelloLength(usize),
    /// A HELLO's role byte is unknown.
    #[error("tunnel hello names unknown role {0}")]
    UnknownRole(u8),
    /// A DATA frame longer than any packet.
    #[error("tunnel data frame carries {0} bytes, more than the 4096-byte packet limit")]
    TooLarge(usize),
    /// The HELLO's tag does not verify.
    #[error("tunnel hello not authenticated: the peer does not hold this beacon's seed")]
    HelloForged,
    /// The peer claims our own role.
    #[error(
        "the peer is also the {0} of this invite (an invite pairs its inviter with one acceptor)"
    )]
    SameRole(&'static str),
    /// Our own HELLO came back.
    #[error("received our own hello back (a reflecting relay)")]
    Reflected,
    /// A second HELLO in one session.
    #[error("a second tunnel hello in one session")]
    UnexpectedHello,
    /// DATA before the HELLOs were exchanged.
    #[error("tunnel data before the hello")]
    DataBeforeHello,
    /// Decryption failed: tampered, or sealed with other keys.
    #[error("tunnel frame {0} failed authentication (tampered, or keys differ)")]
    Forged(u64),
    /// A counter already received.
    #[error("tunnel frame {0} replayed")]
    Replayed(u64),
    /// A counter older than the window.
    #[error("tunnel frame {counter} is too old (newest is {newest}, window 128)")]
    TooOld {
        /// The frame's counter.
        counter: u64,
        /// The newest counter received.
        newest: u64,
    },
    /// This side has sent its last counter under these keys.
    #[error("tunnel send counter exhausted: reconnect for fresh keys")]
    CounterExhausted,
    /// A packet was sealed before the HELLOs were exchanged.
    #[error("tunnel not open yet")]
    NotOpen,
}

impl TunnelError {
    /// False for refusals that say nothing bad about the session (a replayed or stale frame
    /// is dropped, the session goes on); true when the session should be closed.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, TunnelError::Replayed(_) | TunnelError::TooOld { .. })
    }
}

/// A frame as read off the wire, before any key is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A HELLO.
    Hello {
        /// The sender's role.
        role: TunnelRole,
        /// The sender's random bytes.
        random: &'a [u8; RANDOM_LEN],
        /// The tag over the first 36 bytes.
        tag: &'a [u8; HELLO_TAG_LEN],
    },
    /// A DATA frame.
    Data {
        /// The sender's counter.
        counter: u64,
        /// The header (associated data).
        header: &'a [u8; DATA_HEADER_LEN],
        /// Ciphertext and tag.
        sealed: &'a [u8],
    },
}

/// Parses a frame's layout (no cryptography): magic, version, kind and lengths.
pub fn decode_frame(frame: &[u8]) -> Result<Frame<'_>, TunnelError> {
    let (&magic, rest) = frame.split_first().ok_or(TunnelError::Empty)?;
    if magic != MAGIC {
        return Err(TunnelError::NotTunnel(magic));
    }
    let (&version, rest) = rest.split_first().ok_or(TunnelError::Truncated {
        kind: "any",
        len: frame.len(),
        min: 3,
    })?;
    if version != VERSION {
        return Err(TunnelError::UnsupportedVersion(version));
    }
    let &kind = rest.first().ok_or(TunnelError::Truncated {
        kind: "any",
        len: frame.len(),
        min: 3,
    })?;
    match kind {
        KIND_HELLO => {
            let hello: &[u8; HELLO_LEN] = frame
                .try_into()
                .map_err(|_| TunnelError::HelloLength(frame.len()))?;
            let role = TunnelRole::from_byte(hello[3]).ok_or(TunnelError::UnknownRole(hello[3]))?;
            let (random, tag) = hello[4..].split_at(RANDOM_LEN);
            Ok(Frame::Hello {
                role,
                random: random.try_into().map_err(|_| TunnelError::HelloLength(0))?,
                tag: tag.try_into().map_err(|_| TunnelError::HelloLength(0))?,
            })
        }
        KIND_DATA => {
            if frame.len() < DATA_OVERHEAD {
                return Err(TunnelError::Truncated {
                    kind: "data",
                    len: frame.len(),
                    min: DATA_OVERHEAD,
                });
            }
            if frame.len() - DATA_OVERHEAD > MAX_PLAINTEXT {
                return Err(TunnelError::TooLarge(frame.len() - DATA_OVERHEAD));
            }
            let (header, sealed) = frame.split_at(DATA_HEADER_LEN);
            let header: &[u8; DATA_HEADER_LEN] =
                header.try_into().map_err(|_| TunnelError::Empty)?;
            let mut counter = [0u8; 8];
            counter.copy_from_slice(&header[3..]);
            Ok(Frame::Data {
                counter: u64::from_be_bytes(counter),
                header,
                sealed,
            })
        }
        other => Err(TunnelError::UnknownKind(other)),
    }
}
