//! Feeds over a store: publishing one's own entries and reading content back.
//!
//! Publishing signs the next chain20 entry (what the Android app writes), appends it and its
//! side chain to the store and flushes: a post the user has seen accepted is on disk.

use thiserror::Error;

use crate::identity::{FeedId, Identity};
use crate::store::{Store, StoreError};
use crate::wire::entry::{self, first_prev, EntryError, EntryKind, Signed};
use crate::wire::network::Network;
use crate::wire::sidechain::{Chain20, Reassembly};

/// Why publishing or reading failed.
#[derive(Debug, Error)]
pub enum FeedError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The entry could not be built.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The feed has reached the largest sequence number.
    #[error("feed is full (sequence number 2^32-1 reached)")]
    Full,
}

/// A published entry.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its sequence number.
    pub seq: u32,
    /// The signed entry, its message id and chunks.
    pub signed: Signed,
}

/// Appends `content` to the author's own feed as the next chain20 entry, and syncs it to disk
/// (fsync): a post the user saw accepted survives even a power loss. Before signing, the
/// store's signing mark is raised durably ([`Store::claim_next`]), so the node never signs a
/// sequence number it signed before, not even after its log was rolled back: then this fails
/// with [`StoreError::RolledBack`] until a peer gives the lost entries back. The entry is
/// hidden from readers (so from peers) until it is synced; if anything fails (a full disk),
/// it is taken back out of the store and the post can simply be tried again.
pub fn publish(
    store: &dyn Store,
    net: &Network,
    me: &Identity,
    content: &[u8],
) -> Result<Published, FeedError> {
    sign_and_store(store, net, me, content, true)
}

/// Like [`publish`] but without syncing, and the signing mark only survives the death of the
/// process until the next sync: for bulk authoring, where the caller syncs once.
pub fn append_own(
    store: &dyn Store,
    net: &Network,
    me: &Identity,
    content: &[u8],
) -> Result<Published, FeedError> {
    sign_and_store(store, net, me, content, false)
}

fn sign_and_store(
    store: &dyn Store,
    net: &Network,
    me: &Identity,
    content: &[u8],
    sync: bool,
) -> Result<Published, FeedError> {
    let frontier = store.claim_next(me.fid(), sync)?;
    let (seq, prev) = match frontier {
        Some(f) => (f.seq.checked_add(1).ok_or(FeedError::Full)?, f.mid),
        None => (1, first_prev(me.fid())),
    };
    let stored = (|| -> Result<Published, FeedError> {
        let signed = entry::sign_chain20(net, me, seq, &prev, content)?;
        store.append(me.fid(), seq, &signed.entry, &signed.mid)?;
        for (cnr, chunk) in signed.chunks.iter().enumerate() {
            store.put_chunk(me.fid(), seq, cnr as u32, chunk)?;
        }
        if sync {
            store.sync()?;
        }
        Ok(Published { seq, signed })
    })();
    let ended = store.finish_claim(me.fid(), seq, stored.is_ok());
    let p = stored?;
    ended?;
    Ok(p)
}

/// The content of an entry as far as it is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// All of it.
    Complete(Vec<u8>),
    /// A chain20 entry whose side chain has not fully arrived.
    Partial {
        /// Chunks held.
        have: u64,
        /// Chunks needed.
        need: u64,
    },
    /// A chain20 payload that cannot be parsed, or a type no deployed app writes.
    Unreadable(String),
}

/// The content of entry `seq` of `fid`: the reassembled side chain for chain20, the 48 bytes
/// for plain48. `None` if the entry is not held.
pub fn content(store: &dyn Store, fid: &FeedId, seq: u32) -> Result<Option<Content>, FeedError> {
    let Some(stored) = store.entry(fid, seq)? else {
        return Ok(None);
    };
    let e = &stored.entry;
    Ok(Some(match e.kind() {
        EntryKind::Plain48 => Content::Complete(e.payload().to_vec()),
        EntryKind::Other(b) => Content::Unreadable(format!("entry type 0x{b:02x}")),
        EntryKind::Chain20 => match Chain20::parse(e.payload()) {
            Err(err) => Content::Unreadable(err.to_string()),
            Ok(header) => {
                let mut r = Reassembly::new(&header);
                for chunk in store.chunks(fid, seq)? {
                    if let Err(err) = r.push(&chunk) {
                        return Ok(Some(Content::Unreadable(err.to_string())));
                    }
                }
                let (have, need) = (r.next_cnr(), r.total());
                match r.into_content() {
                    Some(c) => Content::Complete(c),
                    None => Content::Partial { have, need },
                }
            }
        },
    }))
}

/// Authors a synthetic feed for tests, demos, the simulator and benchmarks: `entries` public
/// TAV posts by the identity whose seed is 32 bytes of `seed`; every other post is long enough
/// for a side chain of several chunks, with text unique to the post in every chunk. Not
/// flushed. Returns the feed id and the packets its entries and chunks take.
pub fn author_synthetic(
    store: &dyn Store,
    net: &Network,
    seed: u8,
    entries: u32,
) -> Result<(FeedId, u64), FeedError> {
    let me = Identity::from_seed(&[seed; 32]);
    let mut packets = 0;
    for i in 0..entries {
        let text = if i % 2 == 0 {
            let lines: Vec<String> = (0..1 + (i % 5) * 4)
                .map(|j| format!("{i}.{j} over the ridge"))
                .collect();
            format!("post {i} of {seed}: {}", lines.join(" "))
        } else {
            format!("post {i} of {seed}")
        };
        let content = synthetic_content(text, synthetic_ts(seed, i));
        let p = append_own(store, net, &me, &content)?;
        packets += 1 + p.signed.chunks.len() as u64;
    }
    Ok((*me.fid(), packets))
}

/// A TAV post of `text`, padded with spaces so that no chunk ends up holding only the
/// timestamp's last bytes: such a chunk would be identical across many posts and be sent once
/// for all of them, which flatters every airtime figure measured with these feeds.
fn synthetic_content(mut text: String, ts: i64) -> Vec<u8> {
    loop {
        let content = crate::chat::tav::Tav::public_text(&text, ts).encode();
        let inline = 28 - crate::wire::varint::encoded_len(content.len() as u64);
        let tail = content.len().saturating_sub(inline) % crate::wire::sidechain::CHUNK_DATA;
        if content.len() <= inline || tail == 0 || tail > 16 {
            return content;
        }
        text.push(' ');
    }
}

/// A plausible post time in unix seconds, as deployed tinySSB apps write TAV timestamps
/// (the TAV row of the tinySSB spec): each post up to twenty minutes after the one before,
/// never earlier, at jittered times so that consecutive posts differ in their low bytes, as
/// real ones do.
fn synthetic_ts(seed: u8, i: u32) -> i64 {
    let jitter = (u64::from(i).wrapping_mul(2_654_435_761) ^ u64::from(seed)) % 600;
    1_700_000_000 + i64::from(i) * 600 + jitter as i64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use super::*;
    use crate::chat::tav::Tav;
    use crate::store::SledStore;

    /// Synthetic posts carry unix seconds in their TAV timestamp, as the Android app and the
    /// Python pub write them (milliseconds would show posts in the year 55 000), and still no
    /// chunk repeats in the feed (a repeated chunk is sent once for many posts and flatters
    /// every airtime figure measured with these feeds).
    #[test]
    fn synthetic_posts_have_unix_seconds_and_no_repeated_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let net = Network::deployed();
        let (fid, packets) = author_synthetic(&store, &net, 7, 60).unwrap();
        // 2000-01-01 and 2100-01-01 in unix seconds.
        let plausible = 946_684_800..=4_102_444_800_i64;
        let mut chunks = HashSet::new();
        let mut with_chunks = 0;
        let mut last_ts = 0;
        for seq in 1..=60 {
            let Some(Content::Complete(c)) = content(&store, &fid, seq).unwrap() else {
                panic!("post {seq} is not complete");
            };
            let tav = Tav::decode(&c).unwrap();
            assert!(
                plausible.contains(&tav.ts),
                "post {seq}: ts {} is not unix seconds",
                tav.ts
            );
            assert!(
                tav.ts > last_ts,
                "post {seq}: ts {} not after {last_ts}",
                tav.ts
            );
            last_ts = tav.ts;
            let cs = store.chunks(&fid, seq).unwrap();
            with_chunks += usize::from(!cs.is_empty());
            for ch in cs {
                assert!(chunks.insert(ch), "post {seq} repeats a chunk");
            }
        }
        assert!(
            with_chunks >= 20,
            "only {with_chunks} posts have side chains"
        );
        assert_eq!(packets, 60 + chunks.len() as u64);
    }
}
