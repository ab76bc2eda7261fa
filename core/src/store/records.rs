//! Byte layouts of what the store writes: entry records in the entry logs, and the frontier
//! and open-chain values in the map.
//!
//! ```text
//! entry record (148 B) = pkt(120) ‖ mid(20) ‖ chunk base slot (u32 BE) ‖ CRC-32 of the first 144 B (u32 BE)
//! frontier value (28 B) = seq (u32 BE) ‖ mid(20) ‖ synced seq (u32 BE)
//! open-chain list        = upto (u32 BE) ‖ LEB128 count ‖ LEB128 deltas of the seqs
//! ```
//!
//! Record `k` (0-based) of a feed's entry log is entry `k + 1`, so no index is needed. The
//! frontier value is rewritten by every flush, so it stays small. The open-chain list (one
//! per feed, delta-coded: about a byte per open chain, where a sled key per chain cost ~300
//! bytes of disk) is written only by a sync. The
//! CRC tells a torn or never-written tail record (after a crash or a power loss) from a good
//! one: the store cannot check signatures or DMXs itself (it does not know the network key).

use super::StoreError;
use crate::wire::entry::{Entry, EntryKind};
use crate::wire::sidechain::Chain20;
use crate::wire::varint;
use crate::wire::{Mid, HASH_LEN, PKT_LEN};

/// Size of one entry record.
pub const RECORD_LEN: usize = PKT_LEN + HASH_LEN + 4 + 4;
const BASE_AT: usize = PKT_LEN + HASH_LEN;
const CRC_AT: usize = BASE_AT + 4;

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

/// A decoded entry record.
#[derive(Debug, Clone)]
pub(super) struct Record {
    /// The packet.
    pub entry: Entry,
    /// Its message id.
    pub mid: Mid,
    /// First chunk slot of its side chain in the chunk log.
    pub base: u32,
}

/// Encodes a record.
pub(super) fn encode(entry: &Entry, mid: &Mid, base: u32) -> [u8; RECORD_LEN] {
    let mut rec = [0u8; RECORD_LEN];
    rec[..PKT_LEN].copy_from_slice(entry.bytes());
    rec[PKT_LEN..BASE_AT].copy_from_slice(&mid.0);
    rec[BASE_AT..CRC_AT].copy_from_slice(&base.to_be_bytes());
    let crc = crc32fast::hash(&rec[..CRC_AT]);
    rec[CRC_AT..].copy_from_slice(&crc.to_be_bytes());
    rec
}

/// Whether the record's CRC matches.
pub(super) fn intact(rec: &[u8]) -> bool {
    match (rec.get(..CRC_AT), rec.get(CRC_AT..RECORD_LEN)) {
        (Some(body), Some(crc)) => crc32fast::hash(body).to_be_bytes() == crc,
        _ => false,
    }
}

/// Decodes a record, checking its CRC; `seq` is for the error message.
pub(super) fn decode(rec: &[u8], seq: u32) -> Result<Record, StoreError> {
    if rec.len() != RECORD_LEN || !intact(rec) {
        return Err(corrupt(format!("entry record {seq} fails its checksum")));
    }
    let entry =
        Entry::from_bytes(&rec[..PKT_LEN]).map_err(|_| corrupt(format!("entry record {seq}")))?;
    let mut mid = [0u8; HASH_LEN];
    mid.copy_from_slice(&rec[PKT_LEN..BASE_AT]);
    let mut base = [0u8; 4];
    base.copy_from_slice(&rec[BASE_AT..CRC_AT]);
    Ok(Record {
        entry,
        mid: Mid(mid),
        base: u32::from_be_bytes(base),
    })
}

/// The message id in a record (no CRC check; for building the index).
pub(super) fn mid_of(rec: &[u8]) -> Option<Mid> {
    rec.get(PKT_LEN..BASE_AT)
        .and_then(|m| m.try_into().ok())
        .map(Mid)
}

/// Byte offset of entry `seq`'s record.
pub(super) fn offset(seq: u32) -> u64 {
    u64::from(seq.saturating_sub(1)) * RECORD_LEN as u64
}

/// The committed frontier of a feed as kept in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrontierValue {
    /// Last entry committed by a flush.
    pub seq: u32,
    /// Its message id.
    pub mid: Mid,
    /// Entries `1..=synced` were `fdatasync`ed before this value was written.
    pub synced: u32,
}

impl FrontierValue {
    /// Encodes.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(28);
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&self.mid.0);
        v.extend_from_slice(&self.synced.to_be_bytes());
        v
    }

    /// Decodes.
    pub(super) fn decode(v: &[u8]) -> Result<FrontierValue, StoreError> {
        let bad = || corrupt("frontier record has the wrong length".into());
        if v.len() != 28 {
            return Err(bad());
        }
        let seq = u32::from_be_bytes(v[..4].try_into().map_err(|_| bad())?);
        let mid = Mid(v[4..24].try_into().map_err(|_| bad())?);
        let synced = u32::from_be_bytes(v[24..28].try_into().map_err(|_| bad())?);
        Ok(FrontierValue { seq, mid, synced })
    }
}

/// A feed's side chains that a sync found not complete on stable storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ChainList {
    /// The list is exact for entries `1..=upto`; chains of later entries are found by reading
    /// their records.
    pub upto: u32,
    /// Seqs (ascending, ≤ `upto`) of entries whose side chain was incomplete.
    pub open: Vec<u32>,
}

impl ChainList {
    /// Encodes: `upto` (u32 BE) ‖ LEB128 count ‖ LEB128 deltas.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(6 + self.open.len() * 2);
        v.extend_from_slice(&self.upto.to_be_bytes());
        varint::encode_into(self.open.len() as u64, &mut v);
        let mut last = 0u32;
        for &s in &self.open {
            varint::encode_into(u64::from(s.wrapping_sub(last)), &mut v);
            last = s;
        }
        v
    }

    /// Decodes.
    pub(super) fn decode(v: &[u8]) -> Result<ChainList, StoreError> {
        let bad = |why: &str| corrupt(format!("open-chain record: {why}"));
        let (head, mut rest) = v.split_at_checked(4).ok_or_else(|| bad("too short"))?;
        let upto = u32::from_be_bytes(head.try_into().map_err(|_| bad("upto"))?);
        let mut next = || -> Result<u64, StoreError> {
            let (x, n) = varint::decode(rest, 5).map_err(|_| bad("list"))?;
            rest = rest.get(n..).unwrap_or_default();
            Ok(x)
        };
        let count = next()?;
        let mut open = Vec::new();
        let mut last = 0u64;
        for _ in 0..count {
            last += next()?;
            let s = u32::try_from(last).map_err(|_| bad("seq"))?;
            if s == 0 || s > upto || open.last().is_some_and(|&p| p >= s) {
                return Err(bad("list out of order"));
            }
            open.push(s);
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(ChainList { upto, open })
    }
}

/// Decodes a big-endian u32 value or key part.
pub(super) fn be_u32(v: &[u8], what: &str) -> Result<u32, StoreError> {
    v.try_into()
        .map(u32::from_be_bytes)
        .map_err(|_| corrupt(format!("{what} is not 4 bytes")))
}

/// How many chunks a chain20 entry's side chain has (0 for none, for other types, and for
/// payloads that do not parse).
pub(super) fn chunks_needed(entry: &Entry) -> u32 {
    if entry.kind() != EntryKind::Chain20 {
        return 0;
    }
    Chain20::parse(entry.payload())
        .map(|c| u32::try_from(c.chunk_count()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// The hash of chunk 0 of a chain20 entry.
pub(super) fn chain_start(entry: &Entry) -> [u8; HASH_LEN] {
    let mut ptr = [0u8; HASH_LEN];
    ptr.copy_from_slice(&entry.payload()[28..]);
    ptr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_detect_damage() {
        let entry = Entry::from_bytes(&[7u8; PKT_LEN]).unwrap();
        let mid = Mid([3; HASH_LEN]);
        let mut rec = encode(&entry, &mid, 42);
        let back = decode(&rec, 1).unwrap();
        assert_eq!((back.entry, back.mid, back.base), (entry, mid, 42));
        for i in [0, 119, 120, 141, 147] {
            rec[i] ^= 1;
            assert!(!intact(&rec), "flipping byte {i} goes unnoticed");
            assert!(decode(&rec, 1).is_err());
            rec[i] ^= 1;
        }
        assert!(
            !intact(&[0u8; RECORD_LEN]),
            "an all-zero record is not intact"
        );
        assert!(decode(&rec[..100], 1).is_err());
    }

    #[test]
    fn frontier_values_round_trip() {
        let f = FrontierValue {
            seq: 9,
            mid: Mid([1; 20]),
            synced: 4,
        };
        assert_eq!(FrontierValue::decode(&f.encode()).unwrap(), f);
        assert!(FrontierValue::decode(&[0; 24]).is_err());
    }

    #[test]
    fn chain_lists_round_trip_compactly() {
        let l = ChainList {
            upto: 900,
            open: vec![3, 130, 131, 900],
        };
        let bytes = l.encode();
        assert_eq!(
            bytes.len(),
            4 + 1 + 1 + 1 + 1 + 2,
            "count, then deltas 3, 127, 1, 769"
        );
        assert_eq!(ChainList::decode(&bytes).unwrap(), l);
        assert!(ChainList::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut past = l.clone();
        past.open.push(901);
        assert!(
            ChainList::decode(&past.encode()).is_err(),
            "open chain past upto"
        );
    }
}
