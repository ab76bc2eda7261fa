//! Full-text search over the messages I can read.
//!
//! The index appends every readable text in lower case to `texts.log` beside its database
//! (`texts.rs`). The first search reads that file into memory in one go: one string holding
//! every text, and per message its timestamp, id and span. If the file holds fewer texts than
//! the index recorded (a power cut after the database kept what the file lost), it is written
//! again from the messages. Later searches scan memory; new messages are added as they are
//! indexed. A query matches a message whose text contains every word of the query
//! (case-insensitive substring match, so a word prefix finds longer words). Results come
//! newest first by the author's timestamp.
//!
//! Memory: about the size of the texts plus 40 bytes per message (100 000 chat messages ≈
//! 10 MB). Measured in `docs/BENCHMARKS.md`; an inverted index would be the next step if that
//! stops being enough.

use std::collections::HashSet;

use crate::chat::index::Index;
use crate::chat::types::ChatError;
use crate::wire::Mid;

struct Item {
    ts: i64,
    mid: Mid,
    start: usize,
    end: usize,
}

/// Texts in memory.
#[derive(Default)]
pub(crate) struct SearchCache {
    arena: String,
    items: Vec<Item>,
}

impl SearchCache {
    /// Loads every text of the index.
    pub fn load(ix: &Index) -> Result<SearchCache, ChatError> {
        let bytes = ix.read_texts()?;
        let expected = ix.text_count()?;
        let cache = parse(&bytes, false);
        if cache.items.len() as u64 == expected {
            return Ok(cache);
        }
        // More records than texts: some were written twice (a pass redone after a crash).
        let cache = parse(&bytes, true);
        if cache.items.len() as u64 >= expected {
            return Ok(cache);
        }
        // The file lost texts the database kept: write it again from the messages.
        let (bytes, n) = ix.texts_from_messages()?;
        ix.rewrite_texts(&bytes, n)?;
        Ok(parse(&bytes, false))
    }

    /// Adds a newly indexed message.
    pub fn add(&mut self, ts: i64, mid: Mid, text: &str) {
        self.push(ts, mid, &text.to_lowercase());
    }

    fn push(&mut self, ts: i64, mid: Mid, lower: &str) {
        let start = self.arena.len();
        self.arena.push_str(lower);
        self.items.push(Item {
            ts,
            mid,
            start,
            end: self.arena.len(),
        });
    }

    /// Up to `limit` messages containing every word of `query`, newest first.
    pub fn find(&self, query: &str, limit: usize) -> Vec<Mid> {
        let q = query.to_lowercase();
        let words: Vec<&str> = q.split_whitespace().collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(i64, Mid)> = self
            .items
            .iter()
            .filter(|it| {
                let t = self.arena.get(it.start..it.end).unwrap_or_default();
                words.iter().all(|w| t.contains(w))
            })
            .map(|it| (it.ts, it.mid))
            .collect();
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1 .0.cmp(&a.1 .0)));
        hits.into_iter().take(limit).map(|(_, m)| m).collect()
    }
}

/// Reads text records up to the first incomplete one; with `dedupe`, a message recorded twice
/// is kept once.
fn parse(mut b: &[u8], dedupe: bool) -> SearchCache {
    let mut out = SearchCache {
        arena: String::with_capacity(b.len()),
        items: Vec::with_capacity(b.len() / 64),
    };
    let mut seen = HashSet::new();
    while let Some((len, rest)) = b.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        let Some((ts, rest)) = rest.split_first_chunk::<8>() else {
            break;
        };
        let Some((mid, rest)) = rest.split_first_chunk::<20>() else {
            break;
        };
        let (Some(text), Some(next)) = (rest.get(..len), rest.get(len..)) else {
            break;
        };
        if !dedupe || seen.insert(*mid) {
            out.push(
                i64::from_be_bytes(*ts),
                Mid(*mid),
                &String::from_utf8_lossy(text),
            );
        }
        b = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::index::push_text;

    #[test]
    fn every_word_case_insensitive_newest_first() {
        let mut c = SearchCache::default();
        c.add(1, Mid([1; 20]), "Over the Ridge");
        c.add(3, Mid([3; 20]), "ridge signal weak");
        c.add(2, Mid([2; 20]), "no match here");
        assert_eq!(c.find("RIDGE", 10), vec![Mid([3; 20]), Mid([1; 20])]);
        assert_eq!(c.find("rid sig", 10), vec![Mid([3; 20])]);
        assert_eq!(c.find("ridge", 1), vec![Mid([3; 20])]);
        // Words do not match across the boundary of two messages.
        assert!(c.find("ridgeridge", 10).is_empty());
        assert!(c.find("   ", 10).is_empty());
    }

    #[test]
    fn a_cut_off_log_and_repeats_read_cleanly() {
        let mut b = Vec::new();
        push_text(&mut b, 1, &Mid([1; 20]), "One");
        push_text(&mut b, 2, &Mid([2; 20]), "two");
        push_text(&mut b, 1, &Mid([1; 20]), "One");
        let whole = parse(&b, true);
        assert_eq!(whole.items.len(), 2);
        assert_eq!(whole.find("one", 5), vec![Mid([1; 20])]);
        for cut in 0..b.len() {
            assert!(parse(&b[..cut], true).items.len() <= 2);
        }
    }
}
