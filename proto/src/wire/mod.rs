//! The bytes on the wire: everything a tinySSB peer sends or stores, byte-compatible with the
//! deployed Android app, ESP32 firmware and Python pub.
//!
//! * [`bipf`] and [`varint`]: the encoding of content and request vectors;
//! * [`network`]: the prefix and the fixed/state-dependent DMXs (optional network key);
//! * [`entry`]: the 120-byte signed log entry, its hidden name, DMX and message id;
//! * [`sidechain`]: chain20 payloads and the 120-byte side-chain chunks;
//! * [`goset`] and [`request`]: replication packets (claims, novelties, WANT and CHNK);
//! * [`frame`]: the CRC-32 link framing used on LoRa and UDP;
//! * [`inspect`]: says what an unknown packet is, or precisely why it is invalid.
//!
//! Nothing here does I/O, and no decoder panics on any input.

pub mod bipf;
pub mod entry;
pub mod frame;
pub mod goset;
pub mod inspect;
pub mod network;
pub mod request;
pub mod sidechain;
pub mod varint;

use std::fmt;

/// Length of every log entry and side-chain chunk.
pub const PKT_LEN: usize = 120;
/// Length of a demultiplexing prefix.
pub const DMX_LEN: usize = 7;
/// Length of a message id and of a side-chain hash pointer.
pub const HASH_LEN: usize = 20;

/// The 7-byte demultiplexing prefix that starts every packet.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dmx(pub [u8; DMX_LEN]);

impl Dmx {
    /// The DMX at the start of `pkt`, if it is long enough.
    pub fn of(pkt: &[u8]) -> Option<Dmx> {
        pkt.get(..DMX_LEN)?.try_into().ok().map(Dmx)
    }
}

impl fmt::Debug for Dmx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dmx({})", hex::encode(self.0))
    }
}

impl fmt::Display for Dmx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A message id: `SHA-256(name ‖ packet)[0:20]`. It is the `prev` of the next entry and the
/// app-level reference of a message (base64, 28 characters).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mid(pub [u8; HASH_LEN]);

impl Mid {
    /// The app-level reference: standard base64 of the 20 bytes.
    pub fn to_b64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Parses the app-level base64 reference.
    pub fn from_b64(s: &str) -> Option<Mid> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        raw.try_into().ok().map(Mid)
    }
}

impl fmt::Debug for Mid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mid({})", hex::encode(self.0))
    }
}

impl fmt::Display for Mid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// `SHA-256(parts…)[0:N]`.
pub(crate) fn sha256_trunc<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(full.iter()) {
        *o = *b;
    }
    out
}
