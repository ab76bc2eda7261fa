//! The link framing used on LoRa and UDP multicast: `packet ‖ CRC-32` (IEEE 802.3 / zlib
//! polynomial, big-endian). The radio's own CRC is off on deployed dongles, so this CRC is
//! the only integrity check on air. BLE and WebSocket carry bare packets.

use thiserror::Error;

/// Length of the CRC trailer.
pub const CRC_LEN: usize = 4;
/// Largest frame a deployed dongle sends (120-byte packet + CRC).
pub const MAX_LORA_FRAME: usize = 124;

/// Why a frame is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// Too short to hold a CRC and a DMX.
    #[error("frame of {0} bytes is too short for a packet and its CRC")]
    TooShort(usize),
    /// The CRC does not match.
    #[error("CRC-32 mismatch: frame says {found:08x}, packet hashes to {computed:08x}")]
    BadCrc {
        /// CRC in the frame.
        found: u32,
        /// CRC of the packet.
        computed: u32,
    },
}

/// `packet ‖ CRC-32(packet)` big-endian.
pub fn frame(pkt: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pkt.len() + CRC_LEN);
    out.extend_from_slice(pkt);
    out.extend_from_slice(&crc32fast::hash(pkt).to_be_bytes());
    out
}

/// The packet inside a frame, after checking its CRC.
pub fn unframe(frame: &[u8]) -> Result<&[u8], FrameError> {
    if frame.len() < CRC_LEN + super::DMX_LEN {
        return Err(FrameError::TooShort(frame.len()));
    }
    let (pkt, crc) = frame.split_at(frame.len() - CRC_LEN);
    let mut raw = [0u8; CRC_LEN];
    raw.copy_from_slice(crc);
    let found = u32::from_be_bytes(raw);
    let computed = crc32fast::hash(pkt);
    if found != computed {
        return Err(FrameError::BadCrc { found, computed });
    }
    Ok(pkt)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn zlib_crc_check_value() {
        // The standard CRC-32 check value of "123456789".
        assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
        let f = frame(b"123456789");
        assert_eq!(&f[9..], &[0xcb, 0xf4, 0x39, 0x26]);
        assert_eq!(unframe(&f), Ok(&b"123456789"[..]));
    }

    #[test]
    fn flipped_bit_is_caught() {
        let mut f = frame(&[7u8; 120]);
        f[3] ^= 1;
        assert!(matches!(unframe(&f), Err(FrameError::BadCrc { .. })));
    }
}
