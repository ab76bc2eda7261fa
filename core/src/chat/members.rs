//! Group delivery per member (ADR 0026): every member's node publishes, sealed to the group,
//! a compact signed record of how far it holds and has read each member's feed
//! ([`crate::chat::holds`]); records travel hop by hop like messages, so A learns that C has
//! A's message even when A and C never meet. Here they are kept (the latest per group and
//! writer), checked, and turned into "stored by 4 of 6 · read by 2" with who.
//!
//! **The clamp.** A row counts only for an entry that exists here *and* whose message id
//! starts with the row's prefix: a member cannot vouch for an entry it never saw, an entry
//! that does not exist, or one written after its record (a message id cannot be known before
//! the entry is signed). A row that cannot be checked yet (its entry has not arrived here)
//! counts nothing but is signed evidence of a gap. What was once checked is kept (`best`),
//! so a newer record that cannot be checked yet does not undo an older one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::chat::chat_id::ChatId;
use crate::chat::content;
use crate::chat::holds::{chat_tag, HoldRow, Holds, PREFIX_LEN};
use crate::chat::ingest::Work;
use crate::chat::service::Inner;
use crate::chat::types::{ChatError, ChatEvent};
use crate::identity::FeedId;

/// The latest record of one writer for one group, as kept in the `holds` tree.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct HoldRec {
    /// The record's entry in the writer's feed.
    pub seq: u32,
    /// Its rows: (member index, held, mid prefix, read).
    pub rows: Vec<(u8, u32, [u8; PREFIX_LEN], u32)>,
    /// Checked so far, per member index: (held, read).
    pub best: Vec<(u8, u32, u32)>,
}

impl HoldRec {
    fn best_of(&self, member: u8) -> (u32, u32) {
        self.best
            .iter()
            .find(|b| b.0 == member)
            .map_or((0, 0), |b| (b.1, b.2))
    }

    fn raise(&mut self, member: u8, held: u32, read: u32) -> bool {
        let (h, r) = self.best_of(member);
        if held <= h && read <= r {
            return false;
        }
        self.best.retain(|b| b.0 != member);
        self.best.push((member, held.max(h), read.max(r)));
        true
    }
}

/// What one member of a group holds and has read of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    /// The member.
    pub member: FeedId,
    /// The name to show.
    pub name: String,
    /// Their device holds the message (on their signed record, checked here; or they wrote
    /// it; or it is this device).
    pub stored: bool,
    /// They have seen it (their record says they read that far; the author has).
    pub read: bool,
}

/// A group message's delivery per member: "stored by 4 of 6 · read by 2".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDelivery {
    /// The message.
    pub mid: crate::wire::Mid,
    /// Every member, in the chat id's order.
    pub members: Vec<MemberState>,
}

impl GroupDelivery {
    /// How many members hold it.
    pub fn stored(&self) -> usize {
        self.members.iter().filter(|m| m.stored).count()
    }

    /// How many members have read it.
    pub fn read(&self) -> usize {
        self.members.iter().filter(|m| m.read).count()
    }

    /// "stored by 4 of 6 (alice, bob, …) · read by 2 (alice, bob)".
    pub fn describe(&self) -> String {
        let who = |f: &dyn Fn(&MemberState) -> bool| {
            let n: Vec<&str> = self
                .members
                .iter()
                .filter(|m| f(m))
                .map(|m| m.name.as_str())
                .collect();
            n.join(", ")
        };
        format!(
            "stored by {} of {} ({}) · read by {} ({})",
            self.stored(),
            self.members.len(),
            who(&|m| m.stored),
            self.read(),
            who(&|m| m.read)
        )
    }
}

/// What the members' records say of one group: per (writer, member index) the checked
/// (held, read), and per member index the furthest unchecked claim with who made it.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub checked: HashMap<(FeedId, u8), (u32, u32)>,
    /// member index → (claimed held, writers, the writers' record entries).
    pub claims: HashMap<u8, (u32, Vec<(FeedId, u32)>)>,
}

/// The rate limit's memory: per group, when my last record went out and what it said.
#[derive(Debug, Default)]
pub(crate) struct Publisher {
    last: HashMap<ChatId, (Instant, Vec<HoldRow>)>,
    pending: Vec<ChatId>,
}

fn tag_key(chat: &ChatId, writer: &FeedId) -> Vec<u8> {
    [&chat_tag(chat)[..], &writer.0[..]].concat()
}

/// Whether records are kept and sent for this chat: groups of three or more (one-to-one
/// chats have the deployed DLV/ACK receipts).
pub(crate) fn is_group(chat: &ChatId) -> bool {
    matches!(chat, ChatId::Private(m) if m.len() >= 3)
}

impl Inner {
    /// Whether entry `seq` of `fid` is here and its message id starts with `prefix`.
    fn vouches(
        &self,
        fid: &FeedId,
        seq: u32,
        prefix: &[u8; PREFIX_LEN],
    ) -> Result<bool, ChatError> {
        if seq == 0 {
            return Ok(true);
        }
        Ok(self
            .store
            .entry(fid, seq)?
            .is_some_and(|e| e.mid.0.get(..PREFIX_LEN) == Some(&prefix[..])))
    }

    /// The group a chat tag names, among the chats indexed here.
    fn chat_of_tag(&self, tag: &[u8]) -> Result<Option<ChatId>, ChatError> {
        for k in self.ix.chats.iter().keys() {
            let k = k?;
            if let Some(id) = std::str::from_utf8(&k)
                .ok()
                .and_then(|s| s.parse::<ChatId>().ok())
            {
                if chat_tag(&id)[..] == *tag {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// Indexes a record `h` written by `writer` as entry `seq` (write lock held).
    pub(crate) fn index_holds(
        &self,
        writer: &FeedId,
        seq: u32,
        h: Holds,
        work: &mut Work,
    ) -> Result<(), ChatError> {
        if *writer == self.fid {
            return Ok(());
        }
        let key = [&h.chat[..], &writer.0[..]].concat();
        let mut rec: HoldRec = match self.ix.holds.get(&key)? {
            Some(v) => serde_json::from_slice(&v)?,
            None => HoldRec::default(),
        };
        if rec.seq >= seq {
            return Ok(());
        }
        rec.seq = seq;
        rec.rows = h
            .rows
            .iter()
            .map(|r| (r.member, r.held, r.prefix, r.read))
            .collect();
        let chat = self.chat_of_tag(&h.chat)?;
        let mut moved = false;
        if let Some(chat) = &chat {
            let members = chat.members();
            if !members.contains(writer) {
                // Not a member's word: nothing of it counts.
                rec.rows.clear();
            }
            for r in &h.rows {
                let Some(fid) = members.get(usize::from(r.member)) else {
                    continue;
                };
                if self.vouches(fid, r.held, &r.prefix)? {
                    moved |= rec.raise(r.member, r.held, r.read);
                } else {
                    let here = self.store.frontier(fid)?.map_or(0, |f| f.seq);
                    if r.held > here {
                        work.events.push(ChatEvent::Gap {
                            chat: chat.clone(),
                            author: *fid,
                            missing: r.held - here,
                        });
                    }
                }
            }
            if moved {
                work.events.push(ChatEvent::Members { chat: chat.clone() });
            }
        }
        self.ix.holds.insert(key, serde_json::to_vec(&rec)?)?;
        Ok(())
    }

    /// What the members' records say of `chat`, checked against the store now.
    pub(crate) fn table(&self, chat: &ChatId) -> Result<Table, ChatError> {
        let mut t = Table::default();
        let members = chat.members();
        let tag = chat_tag(chat);
        for kv in self.ix.holds.scan_prefix(tag) {
            let (k, v) = kv?;
            let Some(writer) = k.get(8..40).and_then(|b| b.try_into().ok()).map(FeedId) else {
                continue;
            };
            if !members.contains(&writer) {
                continue;
            }
            let rec: HoldRec = serde_json::from_slice(&v)?;
            for (m, held, prefix, read) in &rec.rows {
                let Some(fid) = members.get(usize::from(*m)) else {
                    continue;
                };
                let (mut h, mut r) = rec.best_of(*m);
                if self.vouches(fid, *held, prefix)? {
                    h = h.max(*held);
                    r = r.max(*read);
                } else {
                    let c = t.claims.entry(*m).or_insert((0, Vec::new()));
                    c.0 = c.0.max(*held);
                    c.1.push((writer, rec.seq));
                }
                t.checked.insert((writer, *m), (h, r.min(h)));
            }
            for (m, h, r) in &rec.best {
                let e = t.checked.entry((writer, *m)).or_insert((0, 0));
                e.0 = e.0.max(*h);
                e.1 = e.1.max((*r).min(e.0));
            }
        }
        Ok(t)
    }

    /// Delivery per member of message `seq` by `author` in `chat`.
    pub(crate) fn delivery_in(
        &self,
        chat: &ChatId,
        t: &Table,
        mid: crate::wire::Mid,
        author: &FeedId,
        seq: u32,
        name: &mut dyn FnMut(&FeedId) -> Result<String, ChatError>,
    ) -> Result<GroupDelivery, ChatError> {
        let members = chat.members();
        let ai = members.iter().position(|m| m == author);
        let my_read = self.read_upto(chat, author)?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let (stored, read) = if m == author {
                (true, true)
            } else if *m == self.fid {
                (true, my_read >= seq)
            } else {
                let (h, r) = ai
                    .and_then(|i| u8::try_from(i).ok())
                    .and_then(|i| t.checked.get(&(*m, i)).copied())
                    .unwrap_or((0, 0));
                (h >= seq, r >= seq)
            };
            out.push(MemberState {
                member: *m,
                name: name(m)?,
                stored,
                read,
            });
        }
        Ok(GroupDelivery { mid, members: out })
    }

    /// How far I have read `fid`'s feed in `chat` (as my records say).
    fn read_upto(&self, chat: &ChatId, fid: &FeedId) -> Result<u32, ChatError> {
        Ok(crate::chat::index::be32(
            self.ix.hread.get(tag_key(chat, fid))?,
        ))
    }

    /// Marks `chat` read for my records: every member's feed as far as it is held now.
    pub(crate) fn note_read(&self, chat: &ChatId) -> Result<(), ChatError> {
        if !is_group(chat) {
            return Ok(());
        }
        for m in chat.members().iter().filter(|m| **m != self.fid) {
            let held = self.store.frontier(m)?.map_or(0, |f| f.seq);
            self.ix
                .hread
                .insert(tag_key(chat, m), &held.to_be_bytes())?;
        }
        Ok(())
    }

    /// My record for `chat` now: a row for every other member whose feed I hold.
    fn my_rows(&self, chat: &ChatId) -> Result<Vec<HoldRow>, ChatError> {
        let mut rows = Vec::new();
        for (i, m) in chat.members().iter().enumerate() {
            if *m == self.fid {
                continue;
            }
            let Some(f) = self.store.frontier(m)? else {
                continue;
            };
            let mut prefix = [0u8; PREFIX_LEN];
            prefix.copy_from_slice(&f.mid.0[..PREFIX_LEN]);
            rows.push(HoldRow {
                member: u8::try_from(i).map_err(|_| ChatError::Invalid("member index".into()))?,
                held: f.seq,
                prefix,
                read: self.read_upto(chat, m)?.min(f.seq),
            });
        }
        Ok(rows)
    }

    /// Publishes my record for the groups in `chats` whose numbers moved, at most one per
    /// group per `holds_every`; the others wait for [`Inner::flush_holds`]. Write lock held.
    /// Returns whether anything was published.
    pub(crate) fn publish_holds(&self, chats: &[ChatId]) -> Result<bool, ChatError> {
        let Some(every) = self.cfg.holds_every else {
            return Ok(false);
        };
        if !self.cfg.receipts || !self.cfg.gate.is_open() {
            return Ok(false);
        }
        let mut sent = false;
        for chat in chats.iter().filter(|c| is_group(c)) {
            if !chat.members().contains(&self.fid) {
                continue;
            }
            let rows = self.my_rows(chat)?;
            let now = Instant::now();
            let due = {
                let mut p = self
                    .holds_pub
                    .lock()
                    .map_err(|_| ChatError::Index("lock poisoned".into()))?;
                match p.last.get(chat) {
                    Some((_, last)) if *last == rows => false,
                    Some((at, _)) if now.duration_since(*at) < every => {
                        if !p.pending.contains(chat) {
                            p.pending.push(chat.clone());
                        }
                        false
                    }
                    _ => {
                        p.pending.retain(|c| c != chat);
                        p.last.insert(chat.clone(), (now, rows.clone()));
                        true
                    }
                }
            };
            if !due || rows.is_empty() {
                continue;
            }
            let h = Holds {
                chat: chat_tag(chat),
                rows,
                ts: crate::chat::inner::now_secs(),
            };
            let mut recps: Vec<FeedId> = chat
                .members()
                .iter()
                .copied()
                .filter(|m| *m != self.fid)
                .collect();
            recps.push(self.fid);
            self.publish(&content::seal_entry(&h.to_value(), &recps)?)?;
            sent = true;
        }
        Ok(sent)
    }

    /// Publishes the records that waited for the rate limit and are due now.
    pub(crate) fn flush_holds(&self) -> Result<(), ChatError> {
        let pending = match self.holds_pub.lock() {
            Ok(p) => p.pending.clone(),
            Err(_) => return Err(ChatError::Index("lock poisoned".into())),
        };
        if pending.is_empty() {
            return Ok(());
        }
        let _g = self.lock();
        if self.publish_holds(&pending)? {
            let mut work = Work::default();
            self.index_feed(&self.fid, &mut work)?;
            self.finish(work)?;
        }
        Ok(())
    }

    /// The interval the publisher waits between records of one group.
    pub(crate) fn holds_tick(&self) -> Option<Duration> {
        self.cfg
            .holds_every
            .map(|d| d.clamp(Duration::from_millis(200), Duration::from_secs(30)))
    }
}
