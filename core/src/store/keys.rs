//! Key layout of the map: `prefix ‖ feed id [‖ meta key]`, one key per feed and purpose.
//!
//! Entries and chunks are not in the map; they live in per-feed logs (see [`super::kv`]).

use crate::identity::FeedId;

/// Committed frontiers: `F ‖ fid` → [`FrontierValue`](super::records::FrontierValue).
pub(super) const FRONTIER: u8 = b'F';
/// Side chains not complete on stable storage at the last sync: `L ‖ fid` →
/// [`ChainList`](super::records::ChainList).
pub(super) const CHAINS: u8 = b'L';
/// GOset members: `G ‖ fid` → empty.
pub(super) const MEMBER: u8 = b'G';
/// Per-feed metadata: `D ‖ fid ‖ key` → value.
pub(super) const META: u8 = b'D';
/// The signing high-water mark (copy of the mark file): `S ‖ fid` → seq (u32 BE).
pub(super) const SIGNED: u8 = b'S';
/// The format-version key.
pub(super) const VERSION: &[u8] = b"V";

/// `prefix ‖ fid`.
pub(super) fn feed(prefix: u8, fid: &FeedId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + 32 + 4);
    k.push(prefix);
    k.extend_from_slice(&fid.0);
    k
}

/// The feed id in a `prefix ‖ fid …` key.
pub(super) fn fid_of(key: &[u8]) -> Option<FeedId> {
    key.get(1..33).and_then(|s| s.try_into().ok()).map(FeedId)
}
