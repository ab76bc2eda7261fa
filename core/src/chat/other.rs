//! Entries that are not chat messages: other apps' entries, boxes addressed to others, and
//! content that cannot be read. They stay in the log and are listed here, never dropped.

use crate::chat::ingest::OtherRec;
use crate::chat::service::Chats;
use crate::chat::types::{ChatError, OtherEntry, OtherKind};
use crate::identity::FeedId;
use crate::wire::Mid;

impl Chats {
    /// Up to `limit` entries that are not chat messages, by author and sequence number.
    pub fn other_entries(&self, limit: usize) -> Result<Vec<OtherEntry>, ChatError> {
        let mut out = Vec::new();
        for kv in self.inner.ix.other.iter().take(limit) {
            let (k, v) = kv?;
            let rec: OtherRec = serde_json::from_slice(&v)?;
            let (Ok(fid), Some(seq), Some(mid)) = (
                k.get(..32).unwrap_or_default().try_into().map(FeedId),
                k.get(32..36)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes),
                Mid::from_b64(&rec.m),
            ) else {
                return Err(ChatError::Index("corrupt entry record".into()));
            };
            let kind = match rec.k.as_str() {
                "sealed" => OtherKind::Sealed,
                "other_app" => OtherKind::OtherApp {
                    tag: rec.g.unwrap_or_default(),
                },
                _ => OtherKind::Unreadable {
                    tag: rec.g,
                    reason: rec.r.unwrap_or_default(),
                },
            };
            out.push(OtherEntry {
                author: fid,
                seq,
                mid,
                kind,
            });
        }
        Ok(out)
    }
}
