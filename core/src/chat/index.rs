//! The chat index: a sled database of its own, derived from the feed logs (and rebuildable
//! from them) plus a few trees of local-only state (read markers, my aliases for contacts,
//! how far my feed has been sent and stored).
//!
//! Messages of a chat are keyed `chat number ‖ rank ‖ timestamp ‖ seq ‖ message id`, so a page
//! of history is one reverse range scan. The rank is ScuttleSort's: 0 for a message with no
//! known cause in the chat, else one more than its highest-ranked cause (its tips). A message
//! whose cause arrives later is re-keyed, and so are its successors. Order is therefore
//! causal first, then by the author's clock (whole seconds), then by the entry's sequence
//! number in its author's feed, then by message id: posts of one author in the same second
//! keep the order they were written in, and ties between authors stay deterministic.
//!
//! Indexing happens in passes ([`Pass`]): chat records are updated in memory during a pass and
//! written once at its end, with the texts for search appended to `texts.log` (read in one go
//! by the first search). A marker in `meta` says a pass is under way; an index opened with the
//! marker set was interrupted mid-pass and is rebuilt from the logs.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sled::Tree;

use crate::chat::chat_id::ChatId;
pub(crate) use crate::chat::texts::push_text;
use crate::chat::texts::TextLog;
use crate::chat::types::ChatError;
use crate::wire::Mid;

/// Bumped when the derived layout changes: the derived trees are then rebuilt from the logs.
/// (2: the author's sequence number joined the message key, before the message id.)
const INDEX_VERSION: u32 = 2;
/// Length of a message key: chat number, rank, timestamp, sequence number, message id.
pub const MSG_KEY_LEN: usize = 4 + 4 + 8 + 4 + 20;
/// Tips kept per chat (the newest): bounds what a post carries.
const MAX_TIPS: usize = 10;

/// Trees derived from the logs; cleared by a rebuild.
const DERIVED: &[&str] = &[
    "chats",
    "chatnum",
    "msgs",
    "mids",
    "succ",
    "pending",
    "progress",
    "incomplete",
    "other",
    "receipts",
    "mine",
    "needs_ack",
    "iam",
    "trust",
    "meta",
];

/// A message as stored in the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MsgRec {
    /// Author, hex.
    pub a: String,
    /// Sequence number.
    pub s: u32,
    /// Timestamp.
    pub t: i64,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Voice, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
    /// Why it is unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
}

/// A chat's counters and tips.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ChatRec {
    pub num: u32,
    pub total: u32,
    pub others: u32,
    pub last_ts: i64,
    /// Base64 message ids of the newest messages nothing follows yet.
    pub tips: Vec<String>,
}

/// Rows of a page (key, record) and whether older ones exist.
pub(crate) type PageRows = (Vec<(Vec<u8>, MsgRec)>, bool);

/// An indexing pass: chat records changed so far, and texts to append for search.
#[derive(Default)]
pub(crate) struct Pass {
    begun: bool,
    chats: HashMap<String, ChatRec>,
    texts: Vec<u8>,
    text_count: u64,
}

/// A message to add.
pub(crate) struct NewMsg {
    pub chat: ChatId,
    pub mid: Mid,
    pub prevs: Vec<Mid>,
    pub ts: i64,
    pub mine: bool,
    pub rec: MsgRec,
}

/// The open index.
pub(crate) struct Index {
    pub db: sled::Db,
    pub chats: Tree,
    pub chatnum: Tree,
    pub msgs: Tree,
    pub mids: Tree,
    pub succ: Tree,
    pub pending: Tree,
    pub progress: Tree,
    pub incomplete: Tree,
    pub other: Tree,
    pub receipts: Tree,
    pub mine: Tree,
    pub needs_ack: Tree,
    pub iam: Tree,
    pub trust: Tree,
    texts: TextLog,
    pub meta: Tree,
    /// Local: chat id → messages from others counted as read.
    pub read: Tree,
    /// Local: feed → the alias I gave it.
    pub alias: Tree,
    /// Local: `sent_upto`, `arrived_upto`, `stored_upto` of my feed.
    pub local: Tree,
}

pub(crate) fn be32(v: Option<sled::IVec>) -> u32 {
    v.and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
        .map_or(0, u32::from_be_bytes)
}

fn mid_at(b: &[u8], at: usize) -> Option<Mid> {
    b.get(at..at + 20)?.try_into().ok().map(Mid)
}

/// The chat number of a message key.
pub(crate) fn key_num(key: &[u8]) -> u32 {
    key.get(..4)
        .and_then(|b| b.try_into().ok())
        .map_or(u32::MAX, u32::from_be_bytes)
}

fn key_rank(key: &[u8]) -> u32 {
    key.get(4..8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

/// The message id of a message key.
pub(crate) fn key_mid(key: &[u8]) -> Option<Mid> {
    mid_at(key, 20)
}

fn msg_key(num: u32, rank: u32, ts: i64, seq: u32, mid: &Mid) -> Vec<u8> {
    let mut k = Vec::with_capacity(MSG_KEY_LEN);
    k.extend_from_slice(&num.to_be_bytes());
    k.extend_from_slice(&rank.to_be_bytes());
    k.extend_from_slice(&((ts as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&mid.0);
    k
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

impl Index {
    /// Opens (or creates) the index in `dir`; rebuilds the derived part if its layout is old.
    pub fn open(dir: &std::path::Path) -> Result<Index, ChatError> {
        Index::with_db(
            sled::Config::new().path(dir).open()?,
            TextLog::File(dir.join("texts.log")),
        )
    }

    /// An index that lives in memory only (tests).
    pub fn temporary() -> Result<Index, ChatError> {
        Index::with_db(
            sled::Config::new().temporary(true).open()?,
            TextLog::Memory(Mutex::new(Vec::new())),
        )
    }

    fn with_db(db: sled::Db, texts: TextLog) -> Result<Index, ChatError> {
        let t = |n: &str| db.open_tree(n);
        let ix = Index {
            chats: t("chats")?,
            chatnum: t("chatnum")?,
            msgs: t("msgs")?,
            mids: t("mids")?,
            succ: t("succ")?,
            pending: t("pending")?,
            progress: t("progress")?,
            incomplete: t("incomplete")?,
            other: t("other")?,
            receipts: t("receipts")?,
            mine: t("mine")?,
            needs_ack: t("needs_ack")?,
            iam: t("iam")?,
            trust: t("trust")?,
            texts,
            meta: t("meta")?,
            read: t("l_read")?,
            alias: t("l_alias")?,
            local: t("l_local")?,
            db,
        };
        let interrupted = ix.meta.get("pass")?.is_some_and(|v| v.as_ref() != [0]);
        if be32(ix.meta.get("version")?) != INDEX_VERSION || interrupted {
            ix.clear_derived()?;
        }
        Ok(ix)
    }

    /// Forgets everything derived from the logs (local state stays).
    pub fn clear_derived(&self) -> Result<(), ChatError> {
        for name in DERIVED {
            self.db.open_tree(name)?.clear()?;
        }
        self.texts.clear()?;
        self.meta.insert("version", &INDEX_VERSION.to_be_bytes())?;
        Ok(())
    }

    /// Marks a pass as under way (once per pass, before its first write).
    pub fn begin(&self, pass: &mut Pass) -> Result<(), ChatError> {
        if !pass.begun {
            self.meta.insert("pass", &[1])?;
            pass.begun = true;
        }
        Ok(())
    }

    /// Ends a pass: writes its chat records and texts, then clears the marker.
    pub fn commit(&self, pass: &mut Pass) -> Result<(), ChatError> {
        if !pass.begun {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (id, rec) in pass.chats.drain() {
            batch.insert(id.as_bytes(), serde_json::to_vec(&rec)?);
        }
        self.chats.apply_batch(batch)?;
        if !pass.texts.is_empty() {
            self.texts.append(&pass.texts)?;
            let n = self.text_count()? + pass.text_count;
            self.meta.insert("texts", &n.to_be_bytes())?;
            pass.texts.clear();
            pass.text_count = 0;
        }
        self.meta.insert("pass", &[0])?;
        pass.begun = false;
        Ok(())
    }

    /// How many texts the index has recorded for search.
    pub fn text_count(&self) -> Result<u64, ChatError> {
        Ok(self
            .meta
            .get("texts")?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The texts for search: `len (u32 BE) ‖ ts (i64 BE) ‖ mid (20) ‖ lower-case text`
    /// records, possibly with a cut-off record at the end.
    pub fn read_texts(&self) -> Result<Vec<u8>, ChatError> {
        self.texts.read()
    }

    /// Replaces the texts for search (after finding the file incomplete).
    pub fn rewrite_texts(&self, bytes: &[u8], count: u64) -> Result<(), ChatError> {
        self.texts.replace(bytes)?;
        self.meta.insert("texts", &count.to_be_bytes())?;
        Ok(())
    }

    /// The chat's record as the pass sees it (created if new).
    fn chat_in<'p>(&self, pass: &'p mut Pass, id: &ChatId) -> Result<&'p mut ChatRec, ChatError> {
        let key = id.to_string();
        if !pass.chats.contains_key(&key) {
            let rec = self.chat_rec_or_new(id)?;
            pass.chats.insert(key.clone(), rec);
        }
        pass.chats
            .get_mut(&key)
            .ok_or_else(|| ChatError::Index("chat record vanished".into()))
    }

    /// The number of a chat as the pass sees it.
    pub fn chat_num(&self, pass: &mut Pass, id: &ChatId) -> Result<u32, ChatError> {
        Ok(self.chat_in(pass, id)?.num)
    }

    /// A chat's record and number, if it has messages.
    pub fn chat_rec(&self, id: &ChatId) -> Result<Option<ChatRec>, ChatError> {
        match self.chats.get(id.to_string())? {
            Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
            None => Ok(None),
        }
    }

    fn chat_rec_or_new(&self, id: &ChatId) -> Result<ChatRec, ChatError> {
        if let Some(r) = self.chat_rec(id)? {
            return Ok(r);
        }
        let num = be32(self.meta.get("next_chat")?);
        self.meta.insert("next_chat", &(num + 1).to_be_bytes())?;
        self.chatnum
            .insert(num.to_be_bytes(), id.to_string().as_bytes())?;
        Ok(ChatRec {
            num,
            ..ChatRec::default()
        })
    }

    /// The chat of a chat number.
    pub fn chat_of_num(&self, num: u32) -> Result<Option<ChatId>, ChatError> {
        Ok(self
            .chatnum
            .get(num.to_be_bytes())?
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()))
    }

    /// Adds a message; returns false if it is already indexed, else the messages that moved
    /// (successors whose rank rose).
    pub fn insert(&self, pass: &mut Pass, m: NewMsg) -> Result<Option<Vec<Mid>>, ChatError> {
        if self.mids.contains_key(m.mid.0)? {
            return Ok(None);
        }
        self.begin(pass)?;
        let chat_num = self.chat_in(pass, &m.chat)?.num;
        let num = chat_num.to_be_bytes();
        let mut rank = 0u32;
        let mut known = Vec::new();
        for p in &m.prevs {
            match self.mids.get(p.0)? {
                Some(k) if k.get(..4) == Some(&num[..]) => {
                    rank = rank.max(key_rank(&k).saturating_add(1));
                    self.succ.insert(cat(&[&num, &p.0, &m.mid.0]), &[])?;
                    known.push(p.to_b64());
                }
                _ => {
                    self.pending.insert(cat(&[&num, &p.0, &m.mid.0]), &[])?;
                }
            }
        }
        let key = msg_key(chat_num, rank, m.ts, m.rec.s, &m.mid);
        self.msgs.insert(&key, serde_json::to_vec(&m.rec)?)?;
        if let Some(x) = &m.rec.x {
            push_text(&mut pass.texts, m.ts, &m.mid, x);
            pass.text_count += 1;
        }
        self.mids.insert(m.mid.0, key.as_slice())?;
        // Messages that named this one as a cause before it arrived.
        let mut waiting = Vec::new();
        for kv in self.pending.scan_prefix(cat(&[&num, &m.mid.0])) {
            let (k, _) = kv?;
            if let Some(w) = mid_at(&k, 24) {
                waiting.push(w);
            }
            self.pending.remove(&k)?;
        }
        for w in &waiting {
            self.succ.insert(cat(&[&num, &m.mid.0, &w.0]), &[])?;
        }
        let moved = self.raise(chat_num, waiting.iter().map(|w| (*w, rank + 1)).collect())?;
        let chat = self.chat_in(pass, &m.chat)?;
        chat.tips.retain(|t| !known.contains(t));
        if waiting.is_empty() {
            chat.tips.push(m.mid.to_b64());
            let excess = chat.tips.len().saturating_sub(MAX_TIPS);
            chat.tips.drain(..excess);
        }
        chat.total += 1;
        if !m.mine {
            chat.others += 1;
        }
        chat.last_ts = chat.last_ts.max(m.ts);
        Ok(Some(moved))
    }

    /// Raises messages to at least the given ranks, and their successors after them.
    fn raise(&self, num: u32, mut work: Vec<(Mid, u32)>) -> Result<Vec<Mid>, ChatError> {
        let mut moved = Vec::new();
        let mut steps = 0u32;
        while let Some((x, r)) = work.pop() {
            steps += 1;
            if steps > 1_000_000 {
                return Err(ChatError::Index("causal order does not settle".into()));
            }
            let Some(k) = self.mids.get(x.0)? else {
                continue;
            };
            if key_rank(&k) >= r {
                continue;
            }
            let mut nk = k.to_vec();
            nk[4..8].copy_from_slice(&r.to_be_bytes());
            if let Some(v) = self.msgs.remove(&k)? {
                self.msgs.insert(nk.as_slice(), v)?;
            }
            self.mids.insert(x.0, nk.as_slice())?;
            moved.push(x);
            for kv in self.succ.scan_prefix(cat(&[&num.to_be_bytes(), &x.0])) {
                let (sk, _) = kv?;
                if let Some(s) = mid_at(&sk, 24) {
                    work.push((s, r.saturating_add(1)));
                }
            }
        }
        Ok(moved)
    }

    /// A message's key and record.
    pub fn message(&self, mid: &Mid) -> Result<Option<(Vec<u8>, MsgRec)>, ChatError> {
        let Some(k) = self.mids.get(mid.0)? else {
            return Ok(None);
        };
        match self.msgs.get(&k)? {
            Some(v) => Ok(Some((k.to_vec(), serde_json::from_slice(&v)?))),
            None => Ok(None),
        }
    }

    /// Up to `limit` messages of chat `num` before `before` (exclusive), newest first, and
    /// whether older ones exist.
    pub fn page(
        &self,
        num: u32,
        before: Option<&[u8]>,
        limit: usize,
    ) -> Result<PageRows, ChatError> {
        let lo = num.to_be_bytes().to_vec();
        let hi = match before {
            Some(b) if key_num(b) == num => b.to_vec(),
            _ => num.saturating_add(1).to_be_bytes().to_vec(),
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut more = false;
        for kv in self.msgs.range(lo..hi).rev() {
            let (k, v) = kv?;
            if out.len() == limit {
                more = true;
                break;
            }
            out.push((k.to_vec(), serde_json::from_slice(&v)?));
        }
        Ok((out, more))
    }

    /// A local counter (`sent_upto`, `arrived_upto`, `stored_upto`).
    pub fn local_u32(&self, name: &str) -> Result<u32, ChatError> {
        Ok(be32(self.local.get(name)?))
    }

    /// Lowers a local counter to at most `to`; true if it was higher.
    pub fn lower_local(&self, name: &str, to: u32) -> Result<bool, ChatError> {
        if self.local_u32(name)? <= to {
            return Ok(false);
        }
        self.local.insert(name, &to.to_be_bytes())?;
        Ok(true)
    }

    /// Raises a local counter; returns the old value if it rose.
    pub fn raise_local(&self, name: &str, to: u32) -> Result<Option<u32>, ChatError> {
        let old = self.local_u32(name)?;
        if to <= old {
            return Ok(None);
        }
        self.local.insert(name, &to.to_be_bytes())?;
        Ok(Some(old))
    }
}
