//! The message-id index behind [`Store::locate`](super::Store::locate), kept in memory.
//!
//! It is built from the entry logs on the first `locate` (one sequential read of every log;
//! about 0.1 s per million entries when the logs are in the page cache) and then kept up to
//! date by appends. Nothing is written to disk for it: a persistent per-entry index in sled
//! cost more disk than the entries themselves (random keys rewrite B-tree leaves), and
//! `locate` serves the chat layer (resolving a reply's reference), not replication.
//!
//! Keys are the first 8 bytes of the message id; a hit is confirmed against the full id in
//! the record, so colliding prefixes (which an author could grind) cost a little time, never a
//! wrong answer. Memory: about 20 bytes per entry.

use std::collections::HashMap;

use crate::wire::Mid;

/// Where an entry is: (feed number in the store's table, seq).
pub(super) type Loc = (u32, u32);

/// Prefix → location, with a side table for prefixes shared by several entries.
#[derive(Debug, Default)]
pub(super) struct MidIndex {
    one: HashMap<u64, Loc>,
    more: HashMap<u64, Vec<Loc>>,
}

fn prefix(mid: &Mid) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&mid.0[..8]);
    u64::from_le_bytes(b)
}

impl MidIndex {
    /// An empty index with room for `n` entries.
    pub(super) fn with_capacity(n: usize) -> MidIndex {
        MidIndex {
            one: HashMap::with_capacity(n),
            more: HashMap::new(),
        }
    }

    /// Records where `mid` is.
    pub(super) fn insert(&mut self, mid: &Mid, loc: Loc) {
        let k = prefix(mid);
        match self.one.entry(k) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(loc);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(k).or_default().push(loc);
            }
        }
    }

    /// Every location whose message id starts like `mid`.
    pub(super) fn candidates(&self, mid: &Mid) -> Vec<Loc> {
        let k = prefix(mid);
        let mut out: Vec<Loc> = self.one.get(&k).copied().into_iter().collect();
        if let Some(more) = self.more.get(&k) {
            out.extend_from_slice(more);
        }
        out
    }

    /// Number of entries indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.one.len() + self.more.values().map(Vec::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefixes_keep_every_location() {
        let mut ix = MidIndex::with_capacity(4);
        let a = Mid([1; 20]);
        let mut b = a;
        b.0[19] = 9;
        ix.insert(&a, (0, 1));
        ix.insert(&b, (2, 7));
        ix.insert(&Mid([5; 20]), (1, 1));
        assert_eq!(ix.candidates(&a), vec![(0, 1), (2, 7)]);
        assert_eq!(ix.candidates(&Mid([5; 20])), vec![(1, 1)]);
        assert!(ix.candidates(&Mid([6; 20])).is_empty());
        assert_eq!(ix.len(), 3);
    }
}
