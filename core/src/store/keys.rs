//! Key layout shared by the backends: `prefix ‖ feed id ‖ BE seq [‖ BE cnr]`.

use crate::identity::FeedId;

/// Entry records: `E ‖ fid ‖ seq` → `pkt(120) ‖ mid(20)`.
pub const ENTRY: u8 = b'E';
/// Chunk records: `C ‖ fid ‖ seq ‖ cnr` → chunk(120).
pub const CHUNK: u8 = b'C';
/// Frontier records: `F ‖ fid` → `seq(4) ‖ mid(20)`.
pub const FRONTIER: u8 = b'F';
/// Message-id index: `M ‖ mid` → `fid ‖ seq`.
pub const MID: u8 = b'M';
/// Open side chains: `O ‖ fid ‖ seq` → chunk count needed (BE u32).
pub const OPEN: u8 = b'O';
/// GOset members: `G ‖ fid` → empty.
pub const MEMBER: u8 = b'G';
/// Per-feed metadata: `D ‖ fid ‖ key` → value.
pub const META: u8 = b'D';
/// The format-version key.
pub const VERSION: &[u8] = b"V";

/// `prefix ‖ fid`.
pub fn feed(prefix: u8, fid: &FeedId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 32 + 8);
    k.push(prefix);
    k.extend_from_slice(&fid.0);
    k
}

/// `prefix ‖ fid ‖ seq`.
pub fn seq(prefix: u8, fid: &FeedId, seq: u32) -> Vec<u8> {
    let mut k = feed(prefix, fid);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// `C ‖ fid ‖ seq ‖ cnr`.
pub fn chunk(fid: &FeedId, s: u32, cnr: u32) -> Vec<u8> {
    let mut k = seq(CHUNK, fid, s);
    k.extend_from_slice(&cnr.to_be_bytes());
    k
}
