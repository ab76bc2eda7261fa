//! The chat index: message records in an append-only file (`msgs.log`, see `msglog`), a
//! small sled database of its own for the keyed state (one record per chat and per feed, the
//! receipts, local-only trees: read markers, my aliases for contacts, how far my feed has
//! been sent and stored), and an in-memory order of the messages rebuilt from the file when
//! the index opens (ADR 0025). All of it is derived from the feed logs and rebuildable from
//! them, except the local trees.
//!
//! Messages of a chat are ordered by `chat number ‖ rank ‖ timestamp ‖ seq ‖ message id`, so
//! a page of history is one reverse range scan. The rank is ScuttleSort's: 0 for a message
//! with no known cause in the chat, else one more than its highest-ranked cause (its tips). A
//! message whose cause arrives later is re-keyed (a rank record is appended), and so are its
//! successors. Order is therefore causal first, then by the author's clock (whole seconds),
//! then by the entry's sequence number in its author's feed, then by message id: posts of one
//! author in the same second keep the order they were written in, and ties between authors
//! stay deterministic.
//!
//! Indexing happens in passes ([`Pass`]): chat records are updated in memory during a pass and
//! written once at its end, with the texts for search appended to `texts.log` (read in one go
//! by the first search) and the message log's length. A marker in `meta` says a pass is under
//! way; an index opened with the marker set was interrupted mid-pass and is rebuilt from the
//! logs, and so is one whose message log is missing, shorter than recorded or damaged.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};
use sled::Tree;
use tracing::warn;

use crate::chat::chat_id::ChatId;
pub(crate) use crate::chat::msglog::MsgRec;
use crate::chat::msglog::{self, LogRec, MsgLog, Stored};
pub(crate) use crate::chat::texts::push_text;
use crate::chat::texts::TextLog;
use crate::chat::types::ChatError;
use crate::wire::Mid;

/// Bumped when the derived layout changes: the derived trees are then rebuilt from the logs.
/// (2: the author's sequence number joined the message key, before the message id;
/// 3: message records moved to `msgs.log`, the order to memory.)
const INDEX_VERSION: u32 = 3;
/// Length of a message key: chat number, rank, timestamp, sequence number, message id.
pub const MSG_KEY_LEN: usize = 4 + 4 + 8 + 4 + 20;
/// Tips kept per chat (the newest): bounds what a post carries.
const MAX_TIPS: usize = 10;

/// Trees derived from the logs; cleared by a rebuild.
const DERIVED: &[&str] = &[
    "chats",
    "chatnum",
    "progress",
    "incomplete",
    "other",
    "receipts",
    "mine",
    "needs_ack",
    "iam",
    "trust",
    "holds",
    "meta",
];

/// Trees of older layouts, dropped when the layout changes.
const LEGACY: &[&str] = &["msgs", "mids", "succ", "pending"];

/// A message key.
type Key = [u8; MSG_KEY_LEN];

/// The order of the messages, rebuilt from the message log at open.
#[derive(Default)]
struct Mem {
    /// Message key → offset of its record in the log.
    order: BTreeMap<Key, u64>,
    /// Message id → its key.
    mids: HashMap<Mid, Key>,
    /// (chat number, cause) → messages that name it as a tip, in that chat.
    succ: HashMap<(u32, Mid), Vec<Mid>>,
    /// (chat number, cause not yet indexed) → messages waiting for it.
    pending: HashMap<(u32, Mid), Vec<Mid>>,
    /// The log's length.
    len: u64,
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
    pub progress: Tree,
    pub incomplete: Tree,
    pub other: Tree,
    pub receipts: Tree,
    pub mine: Tree,
    pub needs_ack: Tree,
    pub iam: Tree,
    pub trust: Tree,
    /// Members' delivery records (HLD): chat tag + writer → the latest, checked so far.
    pub holds: Tree,
    /// Local: how far I have read each member's feed in a group (chat tag + member).
    pub hread: Tree,
    texts: TextLog,
    log: MsgLog,
    mem: RwLock<Mem>,
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

fn be64(v: Option<sled::IVec>) -> u64 {
    v.and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
        .map_or(0, u64::from_be_bytes)
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

fn msg_key(num: u32, rank: u32, ts: i64, seq: u32, mid: &Mid) -> Key {
    let mut k = [0u8; MSG_KEY_LEN];
    k[..4].copy_from_slice(&num.to_be_bytes());
    k[4..8].copy_from_slice(&rank.to_be_bytes());
    k[8..16].copy_from_slice(&((ts as u64) ^ (1 << 63)).to_be_bytes());
    k[16..20].copy_from_slice(&seq.to_be_bytes());
    k[20..].copy_from_slice(&mid.0);
    k
}

fn with_rank(k: &Key, rank: u32) -> Key {
    let mut nk = *k;
    nk[4..8].copy_from_slice(&rank.to_be_bytes());
    nk
}

fn poisoned() -> ChatError {
    ChatError::Index("lock poisoned".into())
}

impl Mem {
    /// Files a message record at `at`: its key, and its tips as causes known in its chat or
    /// still pending. Ranks are not recomputed (the record and later rank records carry them).
    /// Returns the causes found and the messages that were waiting for this one.
    fn file(&mut self, m: &Stored, at: u64) -> (Vec<Mid>, Vec<Mid>) {
        let key = msg_key(m.num, m.rank, m.rec.t, m.rec.s, &m.mid);
        let mut known = Vec::new();
        for p in &m.prevs {
            match self.mids.get(p) {
                Some(k) if key_num(k) == m.num => {
                    self.succ.entry((m.num, *p)).or_default().push(m.mid);
                    known.push(*p);
                }
                _ => self.pending.entry((m.num, *p)).or_default().push(m.mid),
            }
        }
        self.order.insert(key, at);
        self.mids.insert(m.mid, key);
        let waiting = self.pending.remove(&(m.num, m.mid)).unwrap_or_default();
        if !waiting.is_empty() {
            self.succ
                .entry((m.num, m.mid))
                .or_default()
                .extend_from_slice(&waiting);
        }
        (known, waiting)
    }

    /// Sets a message's rank (re-keys it); false if it is unknown.
    fn set_rank(&mut self, mid: &Mid, rank: u32) -> bool {
        let Some(k) = self.mids.get(mid).copied() else {
            return false;
        };
        let nk = with_rank(&k, rank);
        if let Some(at) = self.order.remove(&k) {
            self.order.insert(nk, at);
        }
        self.mids.insert(*mid, nk);
        true
    }
}

impl Index {
    /// Opens (or creates) the index in `dir`; rebuilds the derived part if its layout is old
    /// or its message log is missing or damaged.
    pub fn open(dir: &std::path::Path) -> Result<Index, ChatError> {
        Index::with_db(
            sled::Config::new().path(dir).open()?,
            TextLog::File(dir.join("texts.log")),
            MsgLog::file(dir.join("msgs.log")),
        )
    }

    /// An index that lives in memory only (tests).
    pub fn temporary() -> Result<Index, ChatError> {
        Index::with_db(
            sled::Config::new().temporary(true).open()?,
            TextLog::Memory(Mutex::new(Vec::new())),
            MsgLog::Memory(Mutex::new(Vec::new())),
        )
    }

    fn with_db(db: sled::Db, texts: TextLog, log: MsgLog) -> Result<Index, ChatError> {
        let t = |n: &str| db.open_tree(n);
        let ix = Index {
            chats: t("chats")?,
            chatnum: t("chatnum")?,
            progress: t("progress")?,
            incomplete: t("incomplete")?,
            other: t("other")?,
            receipts: t("receipts")?,
            mine: t("mine")?,
            needs_ack: t("needs_ack")?,
            iam: t("iam")?,
            trust: t("trust")?,
            holds: t("holds")?,
            hread: t("l_hread")?,
            texts,
            log,
            mem: RwLock::new(Mem::default()),
            meta: t("meta")?,
            read: t("l_read")?,
            alias: t("l_alias")?,
            local: t("l_local")?,
            db,
        };
        let interrupted = ix.meta.get("pass")?.is_some_and(|v| v.as_ref() != [0]);
        if be32(ix.meta.get("version")?) != INDEX_VERSION || interrupted {
            for name in LEGACY {
                ix.db.drop_tree(name)?;
            }
            ix.clear_derived()?;
        } else if let Err(why) = ix.load() {
            warn!("chat index: {why}; deriving it again from the feed logs");
            ix.clear_derived()?;
        }
        Ok(ix)
    }

    /// Reads the message log into memory, checking every record's CRC; an error says what
    /// is wrong (the caller then re-derives the index).
    fn load(&self) -> Result<(), String> {
        let want = be64(self.meta.get("log_len").map_err(|e| e.to_string())?);
        let bytes = self.log.read_all().map_err(|e| e.to_string())?;
        if (bytes.len() as u64) < want {
            return Err(format!(
                "the message log holds {} bytes, {want} were recorded",
                bytes.len()
            ));
        }
        let mut mem = Mem::default();
        let mut at = 0usize;
        while (at as u64) < want {
            let Some((rec, n)) = bytes.get(at..).and_then(msglog::decode) else {
                return Err(format!("damaged message record at byte {at}"));
            };
            match rec {
                LogRec::Msg(m) => {
                    mem.file(&m, at as u64);
                }
                LogRec::Rank(mid, rank) => {
                    if !mem.set_rank(&mid, rank) {
                        return Err(format!("rank record for an unknown message at {at}"));
                    }
                }
            }
            at += n;
        }
        if at as u64 != want {
            return Err("the message log's last record overruns its recorded length".into());
        }
        if (bytes.len() as u64) > want {
            // Records of a pass the database does not remember: cut them.
            self.log.truncate(want).map_err(|e| e.to_string())?;
        }
        mem.len = want;
        *self.mem.write().map_err(|_| "lock poisoned".to_string())? = mem;
        Ok(())
    }

    fn mem(&self) -> Result<RwLockReadGuard<'_, Mem>, ChatError> {
        self.mem.read().map_err(|_| poisoned())
    }

    fn mem_mut(&self) -> Result<RwLockWriteGuard<'_, Mem>, ChatError> {
        self.mem.write().map_err(|_| poisoned())
    }

    /// Forgets everything derived from the logs (local state stays).
    pub fn clear_derived(&self) -> Result<(), ChatError> {
        for name in DERIVED {
            self.db.open_tree(name)?.clear()?;
        }
        self.texts.clear()?;
        self.log.clear()?;
        *self.mem_mut()? = Mem::default();
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

    /// Ends a pass: writes its chat records, texts and the message log's length, then clears
    /// the marker.
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
        self.log.flush()?;
        let len = self.mem()?.len;
        self.meta.insert("log_len", &len.to_be_bytes())?;
        self.meta.insert("pass", &[0])?;
        pass.begun = false;
        Ok(())
    }

    /// How many texts the index has recorded for search.
    pub fn text_count(&self) -> Result<u64, ChatError> {
        Ok(be64(self.meta.get("texts")?))
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

    /// The texts of every message, as `read_texts` gives them, and how many.
    pub fn texts_from_messages(&self) -> Result<(Vec<u8>, u64), ChatError> {
        let offsets: Vec<u64> = self.mem()?.order.values().copied().collect();
        let mut bytes = Vec::new();
        let mut n = 0u64;
        for at in offsets {
            if let LogRec::Msg(m) = self.log.read_at(at)? {
                if let Some(x) = &m.rec.x {
                    push_text(&mut bytes, m.rec.t, &m.mid, x);
                    n += 1;
                }
            }
        }
        Ok((bytes, n))
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

    /// The key of an indexed message.
    pub fn key_of(&self, mid: &Mid) -> Result<Option<Vec<u8>>, ChatError> {
        Ok(self.mem()?.mids.get(mid).map(|k| k.to_vec()))
    }

    /// Whether a message is indexed.
    pub fn contains(&self, mid: &Mid) -> Result<bool, ChatError> {
        Ok(self.mem()?.mids.contains_key(mid))
    }

    fn append(&self, mem: &mut Mem, rec: &LogRec) -> Result<u64, ChatError> {
        let bytes = msglog::encode(rec);
        let at = mem.len;
        self.log.append(at, &bytes)?;
        mem.len += bytes.len() as u64;
        Ok(at)
    }

    /// Adds a message; returns `None` if it is already indexed, else the messages that moved
    /// (successors whose rank rose).
    pub fn insert(&self, pass: &mut Pass, m: NewMsg) -> Result<Option<Vec<Mid>>, ChatError> {
        if self.contains(&m.mid)? {
            return Ok(None);
        }
        self.begin(pass)?;
        let chat_num = self.chat_in(pass, &m.chat)?.num;
        let (known, moved) = {
            let mut mem = self.mem_mut()?;
            let mut rank = 0u32;
            for p in &m.prevs {
                if let Some(k) = mem.mids.get(p) {
                    if key_num(k) == chat_num {
                        rank = rank.max(key_rank(k).saturating_add(1));
                    }
                }
            }
            let stored = Stored {
                num: chat_num,
                rank,
                mid: m.mid,
                prevs: m.prevs,
                rec: m.rec,
            };
            let rec = LogRec::Msg(Box::new(stored));
            let at = self.append(&mut mem, &rec)?;
            let LogRec::Msg(stored) = rec else {
                return Err(ChatError::Index("record changed kind".into()));
            };
            let (known, waiting) = mem.file(&stored, at);
            if let Some(x) = &stored.rec.x {
                push_text(&mut pass.texts, m.ts, &m.mid, x);
                pass.text_count += 1;
            }
            let moved = self.raise(
                &mut mem,
                chat_num,
                waiting.iter().map(|w| (*w, rank + 1)).collect(),
            )?;
            (known, (waiting.is_empty(), moved))
        };
        let (no_waiting, moved) = moved;
        let known: Vec<String> = known.iter().map(Mid::to_b64).collect();
        let chat = self.chat_in(pass, &m.chat)?;
        chat.tips.retain(|t| !known.contains(t));
        if no_waiting {
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
    fn raise(
        &self,
        mem: &mut Mem,
        num: u32,
        mut work: Vec<(Mid, u32)>,
    ) -> Result<Vec<Mid>, ChatError> {
        let mut moved = Vec::new();
        let mut steps = 0u32;
        while let Some((x, r)) = work.pop() {
            steps += 1;
            if steps > 1_000_000 {
                return Err(ChatError::Index("causal order does not settle".into()));
            }
            let Some(k) = mem.mids.get(&x) else {
                continue;
            };
            if key_rank(k) >= r {
                continue;
            }
            self.append(mem, &LogRec::Rank(x, r))?;
            mem.set_rank(&x, r);
            moved.push(x);
            if let Some(s) = mem.succ.get(&(num, x)) {
                work.extend(s.iter().map(|s| (*s, r.saturating_add(1))));
            }
        }
        Ok(moved)
    }

    fn record(&self, at: u64) -> Result<MsgRec, ChatError> {
        match self.log.read_at(at)? {
            LogRec::Msg(m) => Ok(m.rec),
            LogRec::Rank(..) => Err(ChatError::Index(format!(
                "a rank record where a message was expected, at {at}"
            ))),
        }
    }

    /// A message's key and record.
    pub fn message(&self, mid: &Mid) -> Result<Option<(Vec<u8>, MsgRec)>, ChatError> {
        let found = {
            let mem = self.mem()?;
            mem.mids
                .get(mid)
                .and_then(|k| Some((*k, *mem.order.get(k)?)))
        };
        match found {
            Some((k, at)) => Ok(Some((k.to_vec(), self.record(at)?))),
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
        let lo = msg_key(num, 0, i64::MIN, 0, &Mid([0; 20]));
        let hi: Key = match before.and_then(|b| Key::try_from(b).ok()) {
            Some(b) if key_num(&b) == num => b,
            _ => {
                let mut k = [0u8; MSG_KEY_LEN];
                match num.checked_add(1) {
                    Some(n) => k[..4].copy_from_slice(&n.to_be_bytes()),
                    None => k = [0xff; MSG_KEY_LEN],
                }
                k
            }
        };
        let mut rows = Vec::with_capacity(limit.min(1024));
        let mut more = false;
        {
            let mem = self.mem()?;
            if lo < hi {
                for (k, at) in mem.order.range(lo..hi).rev() {
                    if rows.len() == limit {
                        more = true;
                        break;
                    }
                    rows.push((*k, *at));
                }
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for (k, at) in rows {
            out.push((k.to_vec(), self.record(at)?));
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
