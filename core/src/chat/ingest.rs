//! Bringing the index up to date with the feed logs: every entry of every feed is decoded
//! once, in feed order (the own feed first, so that my own receipts are known before the
//! messages they answer), and lands in a chat, in the receipts, in contacts, or in the list
//! of other entries. Nothing is dropped.

use serde::{Deserialize, Serialize};

use crate::chat::chat_id::ChatId;
use crate::chat::content::{self, AppEntry, ReceiptKind};
use crate::chat::index::{key_num, MsgRec, NewMsg, Pass};
use crate::chat::service::Inner;
use crate::chat::types::{ChatError, ChatEvent};
use crate::feed::{self, Content};
use crate::identity::FeedId;
use crate::wire::Mid;

/// An entry that is not a chat message, as listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OtherRec {
    /// `other_app`, `sealed` or `unreadable`.
    pub k: String,
    /// The app tag, if known.
    #[serde(default)]
    pub g: Option<String>,
    /// Why it is unreadable.
    #[serde(default)]
    pub r: Option<String>,
    /// Message id, base64.
    pub m: String,
}

/// What a pass found to do besides indexing.
#[derive(Default)]
pub(crate) struct Work {
    pub events: Vec<ChatEvent>,
    /// Messages to confirm with a DLV receipt: (message, its author).
    pub dlv: Vec<(Mid, FeedId)>,
    /// Feeds to replicate.
    pub keep: Vec<FeedId>,
    /// The index pass under way.
    pub pass: Pass,
}

fn feed_seq(fid: &FeedId, seq: u32) -> Vec<u8> {
    [&fid.0[..], &seq.to_be_bytes()].concat()
}

pub(crate) fn level(k: ReceiptKind) -> u8 {
    match k {
        ReceiptKind::Delivered => 1,
        ReceiptKind::Read => 2,
    }
}

impl Inner {
    /// Checks, when the service opens, that the index holds no more of any feed than the
    /// store: after the store rolled a feed back (a damaged record was cut), messages of the
    /// entries that are gone would otherwise stay listed. Dropping them one by one would also
    /// have to undo their ranks, tips, receipts and successors, so the derived part of the
    /// index is re-derived from the logs instead (local state stays). Rollbacks are rare; the
    /// check is one frontier lookup per indexed feed. Returns whether it re-derived.
    pub(crate) fn drop_rolled_back(&self) -> Result<bool, ChatError> {
        let _g = self.lock();
        let mut ahead = None;
        for kv in self.ix.progress.iter() {
            let (k, v) = kv?;
            let Some(fid) = k.get(..32).and_then(|b| b.try_into().ok()).map(FeedId) else {
                continue;
            };
            let done = crate::chat::index::be32(Some(v));
            let held = self.store.frontier(&fid)?.map_or(0, |f| f.seq);
            if done > held {
                ahead = Some((fid, done, held));
                break;
            }
        }
        let Some((fid, done, held)) = ahead else {
            return Ok(false);
        };
        tracing::warn!(
            "chat index: feed {} is indexed up to {done} but the store holds {held}; \
             re-deriving the index from the logs",
            fid.short_name()
        );
        self.ix.clear_derived()?;
        if let Ok(mut s) = self.search.lock() {
            *s = None;
        }
        Ok(true)
    }

    /// Indexes what `fid`'s log holds beyond the index, and entries whose side chain has
    /// completed since. The caller holds the write lock.
    pub(crate) fn index_feed(&self, fid: &FeedId, work: &mut Work) -> Result<(), ChatError> {
        let done = crate::chat::index::be32(self.ix.progress.get(fid.0)?);
        let last = self.store.frontier(fid)?.map_or(0, |f| f.seq);
        let retry: Vec<u32> = self
            .ix
            .incomplete
            .scan_prefix(fid.0)
            .keys()
            .filter_map(|k| k.ok()?.get(32..36)?.try_into().ok().map(u32::from_be_bytes))
            .collect();
        if done >= last && retry.is_empty() {
            return Ok(());
        }
        self.ix.begin(&mut work.pass)?;
        for seq in retry {
            if let Some(Content::Complete(_)) = feed::content(self.store.as_ref(), fid, seq)? {
                self.ix.incomplete.remove(feed_seq(fid, seq))?;
                self.index_seq(fid, seq, work)?;
            }
        }
        for seq in done.saturating_add(1)..=last {
            self.index_seq(fid, seq, work)?;
        }
        if last > done {
            self.ix.progress.insert(fid.0, &last.to_be_bytes())?;
        }
        Ok(())
    }

    fn index_seq(&self, fid: &FeedId, seq: u32, work: &mut Work) -> Result<(), ChatError> {
        let Some(stored) = self.store.entry(fid, seq)? else {
            return Ok(());
        };
        match feed::content(self.store.as_ref(), fid, seq)? {
            Some(Content::Complete(c)) => self.index_content(fid, seq, stored.mid, &c, work),
            Some(Content::Partial { .. }) => {
                self.ix.incomplete.insert(feed_seq(fid, seq), &[])?;
                Ok(())
            }
            Some(Content::Unreadable(why)) => {
                self.other(fid, seq, stored.mid, "unreadable", None, Some(why), work)
            }
            None => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn other(
        &self,
        fid: &FeedId,
        seq: u32,
        mid: Mid,
        kind: &str,
        tag: Option<String>,
        reason: Option<String>,
        work: &mut Work,
    ) -> Result<(), ChatError> {
        let rec = OtherRec {
            k: kind.into(),
            g: tag,
            r: reason,
            m: mid.to_b64(),
        };
        self.ix
            .other
            .insert(feed_seq(fid, seq), serde_json::to_vec(&rec)?)?;
        work.events.push(ChatEvent::Other { fid: *fid, seq });
        Ok(())
    }

    fn index_content(
        &self,
        fid: &FeedId,
        seq: u32,
        mid: Mid,
        content: &[u8],
        work: &mut Work,
    ) -> Result<(), ChatError> {
        let mine = *fid == self.fid;
        let decoded = content::decode(content, Some(&self.opener));
        match decoded.entry {
            AppEntry::Post(p) => {
                let chat = match &p.recps {
                    None => ChatId::Public,
                    Some(r) => ChatId::private(r.iter().copied())
                        .map_err(|e| ChatError::Invalid(e.to_string()))?,
                };
                let rec = MsgRec {
                    a: *fid,
                    s: seq,
                    t: p.tav.ts,
                    x: p.tav.text.clone(),
                    v: p.tav.voice.clone(),
                    u: None,
                };
                let prevs = p.tav.tips.iter().filter_map(|t| Mid::from_b64(t)).collect();
                self.add_message(chat, mid, prevs, p.tav.ts, mine, rec, work)
            }
            AppEntry::Unreadable {
                tag: Some(tag),
                reason,
            } if tag == crate::chat::tav::TAG && !decoded.confidential => {
                // A public post we cannot read still belongs to the public channel.
                let rec = MsgRec {
                    a: *fid,
                    s: seq,
                    t: 0,
                    x: None,
                    v: None,
                    u: Some(reason),
                };
                self.add_message(ChatId::Public, mid, Vec::new(), 0, mine, rec, work)
            }
            AppEntry::Receipt(r) => self.receipt(fid, r.kind, r.msg, work),
            AppEntry::Alias(a) => {
                self.ix.iam.insert(fid.0, a.as_bytes())?;
                work.events.push(ChatEvent::Contacts);
                Ok(())
            }
            AppEntry::Trust(t) if mine => {
                self.ix.trust.insert(t.contact.0, &t.level.to_be_bytes())?;
                work.keep.push(t.contact);
                work.events.push(ChatEvent::Contacts);
                Ok(())
            }
            AppEntry::Deleted(d) if mine => {
                if d.value == 1 {
                    self.ix.trust.remove(d.contact.0)?;
                }
                work.events.push(ChatEvent::Contacts);
                Ok(())
            }
            AppEntry::Trust(_) => {
                self.other(fid, seq, mid, "other_app", Some("TRT".into()), None, work)
            }
            AppEntry::Deleted(_) => {
                self.other(fid, seq, mid, "other_app", Some("DEL".into()), None, work)
            }
            AppEntry::OtherApp { tag } => {
                self.other(fid, seq, mid, "other_app", Some(tag), None, work)
            }
            AppEntry::Holds(h) => self.index_holds(fid, seq, h, work),
            AppEntry::Sealed => self.other(fid, seq, mid, "sealed", None, None, work),
            AppEntry::Unreadable { tag, reason } => {
                self.other(fid, seq, mid, "unreadable", tag, Some(reason), work)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_message(
        &self,
        chat: ChatId,
        mid: Mid,
        prevs: Vec<Mid>,
        ts: i64,
        mine: bool,
        rec: MsgRec,
        work: &mut Work,
    ) -> Result<(), ChatError> {
        let author = rec.a;
        let text = rec.x.clone();
        let new = NewMsg {
            chat: chat.clone(),
            mid,
            prevs,
            ts,
            mine,
            rec,
        };
        let Some(moved) = self.ix.insert(&mut work.pass, new)? else {
            return Ok(());
        };
        if let (Some(t), Ok(mut cache)) = (text, self.search.lock()) {
            if let Some(c) = cache.as_mut() {
                c.add(ts, mid, &t);
            }
        }
        work.events.push(ChatEvent::Message {
            chat: chat.clone(),
            mid,
            mine,
        });
        for m in moved {
            let mine = match self.ix.message(&m)? {
                Some((_, r)) => r.a == self.fid,
                None => false,
            };
            work.events.push(ChatEvent::Message {
                chat: chat.clone(),
                mid: m,
                mine,
            });
        }
        for m in chat.members() {
            if *m != self.fid {
                work.keep.push(*m);
            }
        }
        // One-to-one messages from the other person get receipts, as the app sends them.
        if !mine && chat.peer_of(&self.fid) == Some(author) {
            let sent = self.ix.mine.get(mid.0)?.and_then(|v| v.first().copied());
            let sent = sent.unwrap_or(0);
            if sent < 1 {
                work.dlv.push((mid, author));
            }
            if sent < 2 {
                let num = self.ix.chat_num(&mut work.pass, &chat)?;
                self.ix
                    .needs_ack
                    .insert([&num.to_be_bytes()[..], &mid.0].concat(), &[])?;
            }
        }
        Ok(())
    }

    fn receipt(
        &self,
        from: &FeedId,
        kind: ReceiptKind,
        msg: Mid,
        work: &mut Work,
    ) -> Result<(), ChatError> {
        let lvl = level(kind);
        if *from == self.fid {
            let old = self.ix.mine.get(msg.0)?.and_then(|v| v.first().copied());
            if old.unwrap_or(0) < lvl {
                self.ix.mine.insert(msg.0, &[lvl])?;
            }
            if kind == ReceiptKind::Read {
                if let Some(k) = self.ix.key_of(&msg)? {
                    let num = key_num(&k);
                    self.ix
                        .needs_ack
                        .remove([&num.to_be_bytes()[..], &msg.0].concat())?;
                }
            }
            return Ok(());
        }
        let key = [&msg.0[..], &from.0[..]].concat();
        let old = self.ix.receipts.get(&key)?.and_then(|v| v.first().copied());
        if old.unwrap_or(0) >= lvl {
            return Ok(());
        }
        self.ix.receipts.insert(key, &[lvl])?;
        if let Some(m) = self.message(&msg)? {
            if let Some(state) = m.state {
                work.events.push(ChatEvent::State {
                    chat: m.chat,
                    mid: msg,
                    state,
                });
            }
        }
        Ok(())
    }
}
