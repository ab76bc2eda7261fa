//! Reading the feeds a data directory holds, through the front door: the feed list with
//! frontiers, one entry with its chunks and content, what `inspect` needs to judge a packet,
//! and the tinySSB reference layout (export and verified import). A [`FeedLog`] is a view over
//! the open store; it never writes an entry but through the verified import.

use std::path::Path;
use std::sync::Arc;

use crate::app::{App, AppError};
use crate::chat::tav::Tav;
use crate::feed::{self, Content};
use crate::identity::FeedId;
use crate::store::Store;
use crate::wire::entry::first_prev;
use crate::wire::goset;
use crate::wire::inspect::{describe_content, Context, ExpectedChunk, ExpectedEntry};
use crate::wire::network::Network;
use crate::wire::sidechain::{chunk_hash, Chain20};
use crate::wire::Mid;

pub use crate::store::reference::{ExportReport, FeedExport, FeedImport, ImportReport};

/// Largest number of stored entries [`FeedLog::inspect_context`] offers as candidates.
const MAX_CANDIDATES: usize = 20_000;

/// One feed held here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedInfo {
    /// The feed.
    pub fid: FeedId,
    /// Entries held (the frontier's sequence number, 0 for none).
    pub seq: u32,
    /// The frontier's message id, if any entry is held.
    pub mid: Option<Mid>,
    /// Side chains still incomplete.
    pub open_chains: usize,
    /// Whether the feed is in the GOset (replicated).
    pub member: bool,
}

/// What an entry holds, as far as it has arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryContent {
    /// All of it.
    Complete(Vec<u8>),
    /// A side chain still arriving: chunks held and needed.
    Partial {
        /// Chunks held.
        have: u64,
        /// Chunks needed.
        need: u64,
    },
    /// The entry cannot be read, and why.
    Unreadable(String),
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryView {
    /// Its sequence number.
    pub seq: u32,
    /// The entry type's name.
    pub kind: String,
    /// Its DMX, as text.
    pub dmx: String,
    /// Its message id.
    pub mid: Mid,
    /// The 120-byte packet.
    pub pkt: Vec<u8>,
    /// The side chain's chunks held (120 bytes each).
    pub chunks: Vec<Vec<u8>>,
    /// The content.
    pub content: EntryContent,
}

impl EntryView {
    /// A one-line description of the content (BIPF, raw bytes, side chain progress).
    pub fn summary(&self) -> String {
        match &self.content {
            EntryContent::Complete(c) => describe_content(c),
            EntryContent::Partial { have, need } => format!("side chain {have}/{need} chunks"),
            EntryContent::Unreadable(why) => format!("unreadable: {why}"),
        }
    }

    /// The chat text, if the content is a TAV post with text.
    pub fn text(&self) -> Option<String> {
        match &self.content {
            EntryContent::Complete(c) => Tav::decode(c).ok().and_then(|t| t.text),
            _ => None,
        }
    }
}

/// A read view over the feeds of an open data directory.
#[derive(Clone)]
pub struct FeedLog {
    store: Arc<dyn Store>,
    net: Network,
}

impl FeedLog {
    pub(crate) fn new(store: Arc<dyn Store>, net: Network) -> FeedLog {
        FeedLog { store, net }
    }

    /// Every feed held or replicated, sorted by feed id.
    pub fn list(&self) -> Result<Vec<FeedInfo>, AppError> {
        let members = self.store.members()?;
        let mut all: Vec<FeedId> = members.clone();
        for (fid, _) in self.store.feeds()? {
            if !all.contains(&fid) {
                all.push(fid);
            }
        }
        all.sort();
        let mut out = Vec::with_capacity(all.len());
        for fid in all {
            let front = self.store.frontier(&fid)?;
            out.push(FeedInfo {
                fid,
                seq: front.map_or(0, |f| f.seq),
                mid: front.map(|f| f.mid),
                open_chains: self.store.open_chains(&fid)?.len(),
                member: members.contains(&fid),
            });
        }
        Ok(out)
    }

    /// The frontier of `fid`: entries held and the last one's message id.
    pub fn frontier(&self, fid: &FeedId) -> Result<Option<(u32, Mid)>, AppError> {
        Ok(self.store.frontier(fid)?.map(|f| (f.seq, f.mid)))
    }

    /// Entry `seq` of `fid`, if held.
    pub fn entry(&self, fid: &FeedId, seq: u32) -> Result<Option<EntryView>, AppError> {
        let Some(stored) = self.store.entry(fid, seq)? else {
            return Ok(None);
        };
        let chunks = self
            .store
            .chunks(fid, seq)?
            .iter()
            .map(|c| c.to_vec())
            .collect();
        let content = match feed::content(self.store.as_ref(), fid, seq)
            .map_err(|e| AppError::Store(e.to_string()))?
        {
            Some(Content::Complete(c)) => EntryContent::Complete(c),
            Some(Content::Partial { have, need }) => EntryContent::Partial { have, need },
            Some(Content::Unreadable(why)) => EntryContent::Unreadable(why),
            None => EntryContent::Unreadable("missing".into()),
        };
        Ok(Some(EntryView {
            seq,
            kind: stored.entry.kind().name(),
            dmx: stored.entry.dmx().to_string(),
            mid: stored.mid,
            pkt: stored.entry.bytes().to_vec(),
            chunks,
            content,
        }))
    }

    /// What a packet can be judged against: the next entry of every feed, the stored entries
    /// (at most 20,000) and their chunks' hashes, the empty GOset and the GOset of the feeds
    /// held here.
    pub fn inspect_context(&self) -> Result<Context, AppError> {
        let mut ctx = Context {
            net: self.net.clone(),
            ..Context::default()
        };
        ctx.goset_states.push(("empty GOset".into(), [0; 32]));
        let feeds = self.store.feeds()?;
        let mut state = [0u8; 32];
        let mut budget = MAX_CANDIDATES;
        for (fid, frontier) in &feeds {
            state = goset::xor(&state, &fid.0);
            let Ok(key) = fid.key() else { continue };
            ctx.entries.push(ExpectedEntry {
                key: key.clone(),
                seq: frontier.seq.saturating_add(1),
                prev: frontier.mid,
            });
            let mut prev = first_prev(fid);
            for seq in 1..=frontier.seq {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let Some(stored) = self.store.entry(fid, seq)? else {
                    break;
                };
                ctx.entries.push(ExpectedEntry {
                    key: key.clone(),
                    seq,
                    prev,
                });
                if let Ok(h) = Chain20::parse(stored.entry.payload()) {
                    let mut next = h.ptr;
                    let chunks = self.store.chunks(fid, seq)?;
                    for cnr in 0..h.chunk_count() {
                        ctx.chunks.push(ExpectedChunk {
                            hash: next,
                            label: format!("{} seq {seq} chunk {cnr}", fid.short_display()),
                        });
                        match usize::try_from(cnr).ok().and_then(|i| chunks.get(i)) {
                            Some(c) if chunk_hash(c) == next => {
                                next.copy_from_slice(&c[100..]);
                            }
                            _ => break,
                        }
                    }
                }
                prev = stored.mid;
            }
        }
        if !feeds.is_empty() {
            ctx.goset_states
                .push((format!("the {} feeds held here", feeds.len()), state));
        }
        Ok(ctx)
    }

    /// Writes every feed into `dir/feeds/` in the tinySSB reference layout (Android app,
    /// Python pub); `dir/feeds/` must not hold feed directories yet.
    pub fn export_tinyssb(&self, dir: &Path) -> Result<ExportReport, AppError> {
        crate::store::reference::export_reference(self.store.as_ref(), dir)
            .map_err(|e| AppError::Store(format!("exporting to {}: {e}", dir.display())))
    }

    /// Reads the feeds under `dir/feeds/` (or `dir`) in the reference layout, checking every
    /// entry and chunk before storing it; what does not check out is reported and skipped.
    pub fn import_tinyssb(&self, dir: &Path) -> Result<ImportReport, AppError> {
        crate::store::reference::import_reference(self.store.as_ref(), &self.net, dir)
            .map_err(|e| AppError::Store(format!("importing from {}: {e}", dir.display())))
    }
}

impl App {
    /// The feeds this directory holds (list, entries, inspect context, reference layout).
    pub fn feed_log(&self) -> Result<FeedLog, AppError> {
        Ok(FeedLog::new(
            self.running()?.store().clone(),
            self.settings().network()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::app::AppOptions;
    use crate::chat::ChatId;

    #[test]
    fn a_post_is_listed_read_back_and_judged() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::create(dir.path(), AppOptions::default()).unwrap();
        let m = app.send(&ChatId::Public, "hello log").unwrap();
        let log = app.feed_log().unwrap();
        let feeds = log.list().unwrap();
        assert_eq!(feeds.len(), 1);
        assert_eq!(feeds[0].fid, *app.fid());
        assert_eq!(feeds[0].seq, m.seq);
        assert!(feeds[0].member);
        let e = log.entry(app.fid(), m.seq).unwrap().unwrap();
        assert_eq!(e.text().as_deref(), Some("hello log"));
        assert_eq!(e.mid, m.mid);
        assert_eq!(e.pkt.len(), 120);
        assert!(log.entry(app.fid(), m.seq + 1).unwrap().is_none());
        // The stored packet is recognised as the entry it is.
        let ctx = log.inspect_context().unwrap();
        let v = crate::wire::inspect::inspect(&ctx, &e.pkt);
        assert_eq!(v.valid, Some(true), "{v:?}");
    }

    #[test]
    fn export_then_import_elsewhere_brings_the_feed() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        a.send(&ChatId::Public, "one").unwrap();
        a.send(&ChatId::Public, "two").unwrap();
        let out = dir.path().join("ref");
        let ex = a.feed_log().unwrap().export_tinyssb(&out).unwrap();
        assert_eq!(ex.feeds.iter().map(|f| f.entries).sum::<u32>(), 2);
        let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
        let im = b.feed_log().unwrap().import_tinyssb(&out).unwrap();
        assert_eq!(im.new_entries(), 2);
        assert_eq!(im.problems(), 0);
        let got = b.feed_log().unwrap().frontier(a.fid()).unwrap();
        assert_eq!(got.map(|f| f.0), Some(2));
        // A second export into the same place is refused and loses nothing.
        assert!(a.feed_log().unwrap().export_tinyssb(&out).is_err());
    }
}
