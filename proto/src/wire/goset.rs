//! GOset packets: claims and novelties (DMX = the network's GOset DMX).
//!
//! ```text
//! claim   = DMX(7) ‖ 'c' ‖ lo FID(32) ‖ hi FID(32) ‖ XOR of FIDs in [lo..hi](32) ‖ cnt(1)  -- 105 B
//! novelty = DMX(7) ‖ 'n' ‖ FID(32)                                                   --  40 B
//! zap     = DMX(7) ‖ 'z' ‖ …                                                          --  47 B
//! ```
//!
//! Lengths are exact, as in every deployed implementation. Zap (ESP32 only, dormant there)
//! is recognised and reported as deprecated; nothing acts on it.

use thiserror::Error;

use super::network::Network;
use super::{Dmx, DMX_LEN};
use crate::identity::FeedId;

/// Length of a claim packet.
pub const CLAIM_LEN: usize = 105;
/// Length of a novelty packet.
pub const NOVELTY_LEN: usize = 40;
/// Length of a zap packet (ESP32 C struct with padding).
pub const ZAP_LEN: usize = 47;

/// "The FIDs from lo to hi in my sorted set XOR to xor, and there are cnt of them."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Claim {
    /// Smallest FID of the range.
    pub lo: FeedId,
    /// Largest FID of the range.
    pub hi: FeedId,
    /// XOR of all FIDs in the range.
    pub xor: [u8; 32],
    /// Number of FIDs in the range (1..=255).
    pub cnt: u8,
}

/// A GOset packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GosetPacket {
    /// A range claim.
    Claim(Claim),
    /// "I know this FID."
    Novelty(FeedId),
    /// The ESP32's deprecated wipe request; ignored.
    Zap,
}

/// Why a packet is not a valid GOset packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GosetError {
    /// Not the GOset DMX.
    #[error("DMX {0} is not the GOset DMX")]
    NotGoset(Dmx),
    /// Packet ends before the type byte.
    #[error("GOset packet of {0} bytes has no type byte")]
    Truncated(usize),
    /// Unknown type byte.
    #[error("unknown GOset packet type 0x{0:02x} (expected 'c', 'n' or 'z')")]
    UnknownType(u8),
    /// Wrong length for the type.
    #[error("GOset {kind} must be {expected} bytes, got {found}")]
    WrongLength {
        /// claim / novelty / zap.
        kind: &'static str,
        /// Required length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A claim over zero keys.
    #[error("claim with cnt 0")]
    ZeroCount,
    /// A claim whose lo sorts after its hi, or a multi-key claim with lo == hi.
    #[error(
        "claim range is misordered: lo must sort before hi when cnt > 1, and equal it when cnt = 1"
    )]
    Misordered,
    /// A claim's XOR cannot be right for its range.
    #[error("claim XOR does not match its own {0}-key range")]
    InconsistentXor(u8),
}

impl Claim {
    /// Encodes the 105-byte packet.
    pub fn encode(&self, net: &Network) -> [u8; CLAIM_LEN] {
        let mut p = [0u8; CLAIM_LEN];
        p[..DMX_LEN].copy_from_slice(&net.goset_dmx().0);
        p[7] = b'c';
        p[8..40].copy_from_slice(&self.lo.0);
        p[40..72].copy_from_slice(&self.hi.0);
        p[72..104].copy_from_slice(&self.xor);
        p[104] = self.cnt;
        p
    }

    /// The claim over a sorted, non-empty run of FIDs (at most 255).
    pub fn over(sorted: &[FeedId]) -> Option<Claim> {
        let (lo, hi) = (sorted.first()?, sorted.last()?);
        let cnt = u8::try_from(sorted.len()).ok()?;
        let xor = sorted.iter().fold([0u8; 32], |acc, f| xor(&acc, &f.0));
        Some(Claim {
            lo: *lo,
            hi: *hi,
            xor,
            cnt,
        })
    }

    fn check(&self) -> Result<(), GosetError> {
        match self.cnt {
            0 => Err(GosetError::ZeroCount),
            1 if self.lo != self.hi => Err(GosetError::Misordered),
            1 if self.xor != self.lo.0 => Err(GosetError::InconsistentXor(1)),
            1 => Ok(()),
            _ if self.lo >= self.hi => Err(GosetError::Misordered),
            2 if self.xor != xor(&self.lo.0, &self.hi.0) => Err(GosetError::InconsistentXor(2)),
            _ => Ok(()),
        }
    }
}

/// Encodes a 40-byte novelty packet.
pub fn encode_novelty(net: &Network, fid: &FeedId) -> [u8; NOVELTY_LEN] {
    let mut p = [0u8; NOVELTY_LEN];
    p[..DMX_LEN].copy_from_slice(&net.goset_dmx().0);
    p[7] = b'n';
    p[8..].copy_from_slice(&fid.0);
    p
}

/// XOR of two 32-byte strings.
pub fn xor(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}

fn fid_at(pkt: &[u8], at: usize) -> FeedId {
    let mut f = [0u8; 32];
    if let Some(s) = pkt.get(at..at + 32) {
        f.copy_from_slice(s);
    }
    FeedId(f)
}

/// Decodes a GOset packet, checking the DMX, the exact length and the claim's consistency.
pub fn decode(net: &Network, pkt: &[u8]) -> Result<GosetPacket, GosetError> {
    let dmx = Dmx::of(pkt).ok_or(GosetError::Truncated(pkt.len()))?;
    if dmx != net.goset_dmx() {
        return Err(GosetError::NotGoset(dmx));
    }
    let kind = *pkt.get(DMX_LEN).ok_or(GosetError::Truncated(pkt.len()))?;
    let need = |kind, expected| {
        if pkt.len() == expected {
            Ok(())
        } else {
            Err(GosetError::WrongLength {
                kind,
                expected,
                found: pkt.len(),
            })
        }
    };
    match kind {
        b'c' => {
            need("claim", CLAIM_LEN)?;
            let claim = Claim {
                lo: fid_at(pkt, 8),
                hi: fid_at(pkt, 40),
                xor: fid_at(pkt, 72).0,
                cnt: pkt.get(104).copied().unwrap_or(0),
            };
            claim.check()?;
            Ok(GosetPacket::Claim(claim))
        }
        b'n' => {
            need("novelty", NOVELTY_LEN)?;
            Ok(GosetPacket::Novelty(fid_at(pkt, 8)))
        }
        b'z' => {
            need("zap", ZAP_LEN)?;
            Ok(GosetPacket::Zap)
        }
        other => Err(GosetError::UnknownType(other)),
    }
}
