//! The `chats` service: what a UI, the CLI and the bindings use. It owns the chat index,
//! keeps it up to date from the feed store (on open, and from node events once attached to a
//! node), publishes posts and receipts on the own feed, and tells subscribers what changed.
//!
//! All methods are synchronous and safe to call from any thread that is not inside an async
//! task; writes are serialised by one lock (the own feed must be appended to by one writer).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::broadcast;
use tracing::warn;

use crate::chat::chat_id::ChatId;
use crate::chat::content::{self, ReceiptKind};
use crate::chat::gap_claims::{Claims, Gap};
use crate::chat::gate::SignGate;
use crate::chat::index::{ChatRec, Index};
use crate::chat::ingest::Work;
pub(crate) use crate::chat::inner::{now_secs, Inner};
use crate::chat::members::{is_group, GroupDelivery};
use crate::chat::private_box::{BoxError, Opener, MAX_RECIPIENTS};
use crate::chat::routes::Routes;
use crate::chat::search::SearchCache;
use crate::chat::tav::Tav;
use crate::chat::types::{ChatError, ChatEvent, ChatSummary, Cursor, Message, Page};
use crate::identity::{FeedId, Identity};
use crate::node::Node;
use crate::store::Store;
use crate::wire::network::Network;
use crate::wire::Mid;

/// Settings of the chat service.
#[derive(Debug, Clone)]
pub struct ChatsConfig {
    /// Send DLV receipts for one-to-one messages that arrive and ACK receipts when a chat is
    /// marked read, as the Android app does (each is an entry in the own feed).
    pub receipts: bool,
    /// The network (prefix) entries are signed for.
    pub net: Network,
    /// While held, nothing is signed on the own feed: posts fail with the gate's reason and
    /// receipts wait (not sent; ADR 0019).
    pub gate: SignGate,
    /// Group delivery records (ADR 0026): at most one per group per this interval, only
    /// when a number moved; `None` sends none (records of others are still read). Sent only
    /// with `receipts`.
    pub holds_every: Option<std::time::Duration>,
}

impl Default for ChatsConfig {
    fn default() -> Self {
        ChatsConfig {
            receipts: true,
            net: Network::deployed(),
            gate: SignGate::open(),
            holds_every: Some(std::time::Duration::from_secs(60)),
        }
    }
}

/// The chat service of one identity.
pub struct Chats {
    pub(crate) inner: Arc<Inner>,
}

impl Chats {
    /// Opens the chat index in `dir` (created if missing) over `store`, for `me`, and brings
    /// it up to date with the store.
    pub fn open(
        dir: &Path,
        store: Arc<dyn Store>,
        me: Identity,
        cfg: ChatsConfig,
    ) -> Result<Chats, ChatError> {
        let routes = Routes::open(dir.join("routes.log"))?;
        Chats::with_index(Index::open(dir)?, routes, store, me, cfg)
    }

    /// A chat service whose index lives in memory only (tests, benchmarks).
    pub fn in_memory(
        store: Arc<dyn Store>,
        me: Identity,
        cfg: ChatsConfig,
    ) -> Result<Chats, ChatError> {
        Chats::with_index(Index::temporary()?, Routes::temporary(), store, me, cfg)
    }

    fn with_index(
        ix: Index,
        routes: Routes,
        store: Arc<dyn Store>,
        me: Identity,
        cfg: ChatsConfig,
    ) -> Result<Chats, ChatError> {
        let (events, _) = broadcast::channel(4096);
        let chats = Chats {
            inner: Arc::new(Inner {
                ix,
                store,
                fid: *me.fid(),
                opener: Opener::new(&me),
                me,
                cfg,
                remote: RwLock::new(None),
                events,
                write: Mutex::new(()),
                search: Mutex::new(None),
                routes,
                faces: Mutex::new(HashMap::new()),
                claims: Mutex::new(Claims::default()),
                holds_pub: Mutex::new(Default::default()),
            }),
        };
        chats.inner.store.add_member(&chats.inner.fid)?;
        chats.inner.drop_rolled_back()?;
        chats.refresh()?;
        Ok(chats)
    }

    /// My feed id.
    pub fn me(&self) -> &FeedId {
        &self.inner.fid
    }

    /// Connects the service to a running node: my feed and every contact's are replicated,
    /// new entries are indexed as they arrive (receipts sent), my messages' delivery states
    /// follow what the node sees, and posts are offered to peers at once. Stops when the
    /// node shuts down or the service is dropped.
    pub fn attach(&self, node: &Node) -> Result<(), ChatError> {
        if self.inner.remote.read().is_ok_and(|r| r.is_some()) {
            return Err(ChatError::Invalid(
                "the chat service is already attached to a node".into(),
            ));
        }
        let remote = node.remote();
        // While signing is held, the own feed is replicated as anyone's: the engine then keeps
        // what peers show of it instead of capping that at what we hold (ADR 0019); whoever
        // releases the gate names it as the own feed.
        if self.inner.cfg.gate.is_open() {
            remote.set_own_feed(self.inner.fid)?;
        }
        remote.add_feed(self.inner.fid)?;
        for c in self.contacts()? {
            remote.add_feed(c.fid)?;
        }
        let mut rx = remote.subscribe();
        // Links already open: their kinds, for the routes of what they bring.
        for (face, kind, _) in node.snapshot()?.links {
            self.inner.note_face(face.0, kind);
        }
        if let Ok(mut r) = self.inner.remote.write() {
            *r = Some(remote);
        }
        if let Some(tick) = self.inner.holds_tick() {
            // Records held back by the rate limit go out when they are due.
            let weak = Arc::downgrade(&self.inner);
            node.handle().spawn(async move {
                let mut every = tokio::time::interval(tick);
                loop {
                    every.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    match tokio::task::spawn_blocking(move || inner.flush_holds()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => warn!(%e, "delivery record not sent"),
                        Err(_) => break,
                    }
                }
            });
        }
        let weak = Arc::downgrade(&self.inner);
        // A task on the node's runtime (no thread of its own); the index work blocks on sled
        // and on syncing receipts, so each event is handled on the runtime's blocking pool,
        // one at a time, in order.
        node.handle().spawn(async move {
            loop {
                let ev = rx.recv().await;
                if matches!(ev, Err(broadcast::error::RecvError::Closed)) {
                    break;
                }
                let Some(inner) = weak.upgrade() else { break };
                let done = tokio::task::spawn_blocking(move || match ev {
                    Ok(e) => inner.on_node_event(e),
                    Err(_) => inner.refresh_all(),
                })
                .await;
                match done {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => warn!(%e, "chat index update failed"),
                    Err(_) => break,
                }
            }
        });
        self.refresh()
    }

    /// Indexes whatever the store holds that the index has not seen yet.
    pub fn refresh(&self) -> Result<(), ChatError> {
        self.inner.refresh_all()
    }

    /// Forgets everything derived from the logs and indexes them again (read markers, my
    /// aliases for contacts and delivery progress are kept).
    pub fn rebuild(&self) -> Result<(), ChatError> {
        {
            let _g = self.inner.lock();
            self.inner.ix.clear_derived()?;
            if let Ok(mut s) = self.inner.search.lock() {
                *s = None;
            }
        }
        self.refresh()?;
        let _ = self.inner.events.send(ChatEvent::Reload);
        Ok(())
    }

    /// Events for a UI. Everything they announce can also be read back, so a receiver that
    /// lags (`RecvError::Lagged`, e.g. during a large first indexing) should simply reload what
    /// it shows. From a plain thread use `try_recv` or `blocking_recv`.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.inner.events.subscribe()
    }

    /// All chats, most recent activity first; the public channel and notes-to-self are always
    /// listed.
    pub fn list(&self) -> Result<Vec<ChatSummary>, ChatError> {
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for kv in self.inner.ix.chats.iter() {
            let (k, v) = kv?;
            if let Some(id) = std::str::from_utf8(&k).ok().and_then(|s| s.parse().ok()) {
                let rec = serde_json::from_slice(&v)?;
                out.push(self.summary_of(id, rec, &mut names)?);
            }
        }
        for id in [ChatId::Public, ChatId::notes(&self.inner.fid)] {
            if !out.iter().any(|s| s.id == id) {
                out.push(self.summary_of(id, ChatRec::default(), &mut names)?);
            }
        }
        out.sort_by(|a, b| b.last_ts.cmp(&a.last_ts).then(a.title.cmp(&b.title)));
        Ok(out)
    }

    /// One chat's summary (empty if it has no messages yet).
    pub fn summary(&self, chat: &ChatId) -> Result<ChatSummary, ChatError> {
        let rec = self.inner.ix.chat_rec(chat)?.unwrap_or_default();
        self.summary_of(chat.clone(), rec, &mut HashMap::new())
    }

    fn summary_of(
        &self,
        chat: ChatId,
        rec: ChatRec,
        names: &mut HashMap<FeedId, String>,
    ) -> Result<ChatSummary, ChatError> {
        let read = crate::chat::index::be32(self.inner.ix.read.get(chat.to_string())?);
        let title = match &chat {
            ChatId::Public => "Public channel".into(),
            ChatId::Private(m) if m.as_slice() == [self.inner.fid] => "Notes to self".into(),
            ChatId::Private(m) => {
                let mut parts = Vec::with_capacity(m.len());
                for f in m.iter().filter(|f| **f != self.inner.fid) {
                    if !names.contains_key(f) {
                        names.insert(*f, self.name_of(f)?);
                    }
                    parts.push(names.get(f).cloned().unwrap_or_default());
                }
                parts.join(", ")
            }
        };
        Ok(ChatSummary {
            id: chat,
            title,
            unread: rec.others.saturating_sub(read),
            total: rec.total,
            last_ts: rec.last_ts,
        })
    }

    /// A chat's summary and its newest `limit` messages: what a UI shows when a chat opens.
    pub fn open_chat(&self, chat: &ChatId, limit: usize) -> Result<(ChatSummary, Page), ChatError> {
        Ok((self.summary(chat)?, self.page(chat, None, limit)?))
    }

    /// Up to `limit` messages older than `before` (from the newest if `None`), newest first.
    pub fn page(
        &self,
        chat: &ChatId,
        before: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page, ChatError> {
        let Some(rec) = self.inner.ix.chat_rec(chat)? else {
            return Ok(Page {
                messages: Vec::new(),
                next: None,
            });
        };
        let (rows, more) = self
            .inner
            .ix
            .page(rec.num, before.map(|c| c.0.as_slice()), limit)?;
        let messages = rows
            .into_iter()
            .map(|(k, r)| self.inner.to_message(chat.clone(), &k, r))
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            messages.last().map(|m| m.cursor.clone())
        } else {
            None
        };
        Ok(Page { messages, next })
    }

    /// What has not arrived yet in `chat`: for each member (in the public channel, each
    /// feed) whose feed a peer claims goes further than this device holds, how many entries
    /// and over which links. A claim is a peer's word, shown as such; it moves no delivery
    /// state, and the gap closes by itself when the entries arrive.
    pub fn gaps(&self, chat: &ChatId) -> Result<Vec<Gap>, ChatError> {
        let inner = &self.inner;
        let feeds = match chat {
            ChatId::Public => inner
                .claims
                .lock()
                .map_err(|_| ChatError::Index("lock poisoned".into()))?
                .feeds(),
            ChatId::Private(m) => m.clone(),
        };
        // Members' signed records (groups): stronger than a WANT, and they name who.
        let table = if is_group(chat) {
            Some(inner.table(chat)?)
        } else {
            None
        };
        let mut out = Vec::new();
        for (i, fid) in feeds.iter().enumerate().filter(|(_, f)| **f != inner.fid) {
            let held = inner.store.frontier(fid)?.map_or(0, |f| f.seq);
            let claim = inner
                .claims
                .lock()
                .map_err(|_| ChatError::Index("lock poisoned".into()))?
                .beyond(fid, held);
            let (mut upto, mut via) = claim.map_or((0, Vec::new()), |c| (c.upto, c.via));
            let mut vouched_by = Vec::new();
            let mut vouchers = Vec::new();
            let record = u8::try_from(i)
                .ok()
                .and_then(|i| table.as_ref()?.claims.get(&i).cloned());
            if let Some((claimed, writers)) = record.filter(|r| r.0 > held) {
                upto = upto.max(claimed);
                for (w, seq) in writers {
                    if !vouched_by.contains(&w) {
                        vouched_by.push(w);
                        vouchers.push(self.name_of(&w)?);
                    }
                    // The link that carried the record could bring the entries too.
                    if let Some(r) = inner.routes.get(&w, seq) {
                        if !via.contains(&r.kind) {
                            via.push(r.kind);
                        }
                    }
                }
            }
            if upto > held {
                out.push(Gap {
                    author: *fid,
                    name: self.name_of(fid)?,
                    held,
                    claimed: upto,
                    missing: upto - held,
                    via,
                    vouched_by,
                    vouchers,
                });
            }
        }
        out.sort_by(|a, b| b.missing.cmp(&a.missing).then(a.author.cmp(&b.author)));
        Ok(out)
    }

    /// A group message's delivery per member, on the members' signed records as checked here
    /// ("stored by 4 of 6 · read by 2" with who); `None` for a message that is not in a group
    /// of three or more (one-to-one chats have `Message::state`).
    pub fn delivery(&self, mid: &Mid) -> Result<Option<GroupDelivery>, ChatError> {
        let Some(m) = self.inner.message(mid)? else {
            return Ok(None);
        };
        Ok(self.deliveries(std::slice::from_ref(&m))?.pop())
    }

    /// [`Chats::delivery`] of the group messages among `messages` (e.g. a page), in order;
    /// messages outside groups are left out. The records are read once per chat.
    pub fn deliveries(&self, messages: &[Message]) -> Result<Vec<GroupDelivery>, ChatError> {
        let mut tables: HashMap<ChatId, crate::chat::members::Table> = HashMap::new();
        let mut names: HashMap<FeedId, String> = HashMap::new();
        let mut out = Vec::new();
        for m in messages.iter().filter(|m| is_group(&m.chat)) {
            if !tables.contains_key(&m.chat) {
                tables.insert(m.chat.clone(), self.inner.table(&m.chat)?);
            }
            let Some(t) = tables.get(&m.chat) else {
                continue;
            };
            let mut name = |f: &FeedId| -> Result<String, ChatError> {
                if let Some(n) = names.get(f) {
                    return Ok(n.clone());
                }
                let n = if *f == self.inner.fid {
                    "me".to_owned()
                } else {
                    self.name_of(f)?
                };
                names.insert(*f, n.clone());
                Ok(n)
            };
            out.push(
                self.inner
                    .delivery_in(&m.chat, t, m.mid, &m.author, m.seq, &mut name)?,
            );
        }
        Ok(out)
    }

    /// Publishes the delivery records the rate limit held back, if they are due (an
    /// attached service does this by itself).
    pub fn flush_holds(&self) -> Result<(), ChatError> {
        self.inner.flush_holds()
    }

    /// A message by id.
    pub fn message(&self, mid: &Mid) -> Result<Option<Message>, ChatError> {
        self.inner.message(mid)
    }

    /// The private chat of these people and me.
    pub fn chat_with(&self, people: &[FeedId]) -> Result<ChatId, ChatError> {
        ChatId::private(people.iter().copied().chain([self.inner.fid]))
            .map_err(|e| ChatError::Invalid(e.to_string()))
    }

    /// Posts a text to a chat (encrypted to its members unless it is the public channel).
    pub fn send(&self, chat: &ChatId, text: &str) -> Result<Message, ChatError> {
        self.send_post(chat, Some(text), None)
    }

    /// Posts text and/or Codec2 voice to a chat, in the 5-element TAV form (6 with the
    /// recipients, sealed to them, for a private chat); long posts use side chains.
    pub fn send_post(
        &self,
        chat: &ChatId,
        text: Option<&str>,
        voice: Option<&[u8]>,
    ) -> Result<Message, ChatError> {
        if text.is_none_or(str::is_empty) && voice.is_none() {
            return Err(ChatError::Invalid("nothing to send".into()));
        }
        let inner = &self.inner;
        let _g = inner.lock();
        let tips = inner.ix.chat_rec(chat)?.map(|c| c.tips).unwrap_or_default();
        let mut tav = Tav {
            tips,
            text: text.map(str::to_owned),
            voice: voice.map(<[u8]>::to_vec),
            ts: now_secs(),
            recps: None,
            old_format: false,
        };
        let content = match chat {
            ChatId::Public => tav.encode(),
            ChatId::Private(members) => {
                if !members.contains(&inner.fid) {
                    return Err(ChatError::NotAMember);
                }
                // Others in id order, me last, as the app writes them.
                let mut recps: Vec<FeedId> = members
                    .iter()
                    .copied()
                    .filter(|m| *m != inner.fid)
                    .collect();
                recps.push(inner.fid);
                if recps.len() > MAX_RECIPIENTS {
                    return Err(BoxError::TooManyRecipients(recps.len()).into());
                }
                tav.recps = Some(recps.iter().map(FeedId::to_ref).collect());
                content::seal_entry(&tav.to_value(), &recps)?
            }
        };
        let p = inner.publish(&content)?;
        let mut work = Work::default();
        work.keep.extend(chat.members().iter().copied());
        inner.index_feed(&inner.fid, &mut work)?;
        inner.finish(work)?;
        inner
            .message(&p.signed.mid)?
            .ok_or_else(|| ChatError::Index("the post was not indexed".into()))
    }

    /// Marks a chat read: its unread count drops to 0, and in a one-to-one chat the other
    /// person's messages are confirmed with ACK receipts.
    pub fn mark_read(&self, chat: &ChatId) -> Result<(), ChatError> {
        let inner = &self.inner;
        let _g = inner.lock();
        let Some(rec) = inner.ix.chat_rec(chat)? else {
            return Ok(());
        };
        inner
            .ix
            .read
            .insert(chat.to_string(), &rec.others.to_be_bytes())?;
        inner.note_read(chat)?;
        let mut work = Work::default();
        if let (true, Some(peer)) = (
            inner.cfg.receipts && inner.cfg.gate.is_open(),
            chat.peer_of(&inner.fid),
        ) {
            let pending: Vec<Mid> = inner
                .ix
                .needs_ack
                .scan_prefix(rec.num.to_be_bytes())
                .keys()
                .filter_map(|k| k.ok().and_then(|k| k.get(4..24)?.try_into().ok().map(Mid)))
                .collect();
            for mid in pending {
                inner.send_receipt(ReceiptKind::Read, &mid, &peer)?;
            }
            inner.index_feed(&inner.fid, &mut work)?;
        }
        if inner.publish_holds(std::slice::from_ref(chat))? {
            inner.index_feed(&inner.fid, &mut work)?;
        }
        work.events.push(ChatEvent::Read { chat: chat.clone() });
        inner.finish(work)?;
        inner.ix.db.flush()?;
        Ok(())
    }

    /// Up to `limit` messages I can read whose text contains every word of `query`
    /// (case-insensitive), newest first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Message>, ChatError> {
        let mids = {
            let mut cache = self
                .inner
                .search
                .lock()
                .map_err(|_| ChatError::Index("search cache poisoned".into()))?;
            if cache.is_none() {
                *cache = Some(SearchCache::load(&self.inner.ix)?);
            }
            cache
                .as_ref()
                .map(|c| c.find(query, limit))
                .unwrap_or_default()
        };
        let mut out = Vec::with_capacity(mids.len());
        for m in mids {
            if let Some(msg) = self.inner.message(&m)? {
                out.push(msg);
            }
        }
        Ok(out)
    }
}
