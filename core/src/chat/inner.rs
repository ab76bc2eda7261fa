//! The service's shared state and what runs behind the API: indexing passes, node events,
//! delivery states, publishing on the own feed, and turning index records into messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::broadcast;
use tracing::warn;

use crate::chat::chat_id::ChatId;
use crate::chat::content::{self, split_location, ReceiptKind};
use crate::chat::gap_claims::Claims;
use crate::chat::index::{key_mid, key_num, Index, MsgRec};
use crate::chat::ingest::Work;
use crate::chat::private_box::Opener;
use crate::chat::routes::{LinkKind, Route, RouteDirection, Routes};
use crate::chat::search::SearchCache;
use crate::chat::service::ChatsConfig;
use crate::chat::types::{ChatError, ChatEvent, Cursor, DeliveryState, Message, MessageBody};
use crate::feed::{self, Published};
use crate::identity::{FeedId, Identity};
use crate::node::{NodeEvent, NodeRemote};
use crate::store::Store;
use crate::sync::Event;
use crate::wire::Mid;

/// What the service shares with its node-event thread.
pub(crate) struct Inner {
    pub ix: Index,
    pub store: Arc<dyn Store>,
    pub me: Identity,
    pub fid: FeedId,
    pub opener: Opener,
    pub cfg: ChatsConfig,
    pub remote: RwLock<Option<NodeRemote>>,
    pub events: broadcast::Sender<ChatEvent>,
    pub write: Mutex<()>,
    pub search: Mutex<Option<SearchCache>>,
    /// Which link each message first arrived on or left by (local, kept across rebuilds).
    pub routes: Routes,
    /// The kinds of the node's faces, as link events and the node's snapshot named them.
    pub faces: Mutex<HashMap<u32, LinkKind>>,
    /// What peers claim exists of others' feeds beyond what the store holds (gaps).
    pub claims: Mutex<Claims>,
    /// When my delivery records went out, per group (the rate limit).
    pub holds_pub: Mutex<crate::chat::members::Publisher>,
}

/// Seconds since the Unix epoch, as TAV timestamps carry them ([`crate::clock`]).
pub(crate) fn now_secs() -> i64 {
    i64::try_from(crate::clock::unix_secs()).unwrap_or(i64::MAX)
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Local state (read markers, aliases) is not derivable from the logs: keep it.
        if let Err(e) = self.ix.db.flush() {
            warn!(%e, "flushing the chat index failed");
        }
    }
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing half-written that a retry would not
        // repair (indexing is idempotent), so a poisoned lock is still usable.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn refresh_all(&self) -> Result<(), ChatError> {
        let _g = self.lock();
        let mut work = Work::default();
        if self.clamp_counters()? {
            work.events.push(ChatEvent::Reload);
        }
        self.index_feed(&self.fid, &mut work)?;
        for (fid, _) in self.store.feeds()? {
            if fid != self.fid {
                self.index_feed(&fid, &mut work)?;
            }
        }
        self.finish(work)
    }

    fn refresh_feed(&self, fid: &FeedId) -> Result<(), ChatError> {
        let _g = self.lock();
        let mut work = Work::default();
        self.index_feed(fid, &mut work)?;
        self.finish(work)
    }

    pub(crate) fn on_node_event(&self, e: NodeEvent) -> Result<(), ChatError> {
        match &e {
            NodeEvent::Sync(Event::EntryAdded { face, fid, seq, .. }) => {
                self.note_route(fid, *seq, face.0, RouteDirection::Arrived)?;
            }
            NodeEvent::Sync(Event::OwnEntrySent { face, seq }) => {
                self.note_route(&self.fid, *seq, face.0, RouteDirection::Left)?;
            }
            NodeEvent::Link {
                face: Some(face),
                kind,
                status: crate::node::LinkStatus::Up,
                ..
            } => self.note_face(face.0, kind),
            NodeEvent::Sync(Event::PeerHolds { face, fid, seq }) if *fid != self.fid => {
                let held = self.store.frontier(fid)?.map_or(0, |f| f.seq);
                let kind = self.face_kind(face.0);
                if let Ok(mut c) = self.claims.lock() {
                    c.note(fid, *seq, held, kind);
                }
            }
            _ => {}
        }
        match e {
            NodeEvent::Sync(Event::EntryAdded { fid, seq, .. }) if fid == self.fid => {
                // My own entry came in from a peer (a restore): it has been elsewhere.
                {
                    let _g = self.lock();
                    let to = seq.min(self.frontier()?);
                    self.ix.raise_local("arrived_upto", to)?;
                }
                self.refresh_feed(&fid)
            }
            NodeEvent::Sync(Event::EntryAdded { fid, .. } | Event::ChainComplete { fid, .. }) => {
                self.refresh_feed(&fid)
            }
            NodeEvent::Sync(Event::OwnEntrySent { seq, .. }) => {
                self.advance("sent_upto", seq, DeliveryState::Sent)
            }
            NodeEvent::Sync(Event::PeerHolds { fid, seq, .. }) if fid == self.fid => {
                self.advance("stored_upto", seq, DeliveryState::Stored)
            }
            _ => Ok(()),
        }
    }

    /// Remembers what kind of link a face is.
    pub(crate) fn note_face(&self, face: u32, kind: &str) {
        if let Ok(mut f) = self.faces.lock() {
            f.insert(face, LinkKind::from_face_kind(kind));
        }
    }

    /// The kind of link a face is (`Other` if no event named it).
    fn face_kind(&self, face: u32) -> LinkKind {
        self.faces
            .lock()
            .ok()
            .and_then(|f| f.get(&face).copied())
            .unwrap_or(LinkKind::Other)
    }

    /// Records that entry `seq` of `fid` travelled over `face` (unless a route is known).
    fn note_route(
        &self,
        fid: &FeedId,
        seq: u32,
        face: u32,
        direction: RouteDirection,
    ) -> Result<(), ChatError> {
        let kind = self.face_kind(face);
        let route = Route {
            kind,
            direction,
            face,
            at: now_secs(),
        };
        self.routes.note(fid, seq, route)?;
        Ok(())
    }

    /// The last entry of my feed in the store (0: none).
    fn frontier(&self) -> Result<u32, ChatError> {
        Ok(self.store.frontier(&self.fid)?.map_or(0, |f| f.seq))
    }

    /// How far `counter` may go on the evidence: never past my frontier, and *stored* never
    /// past what has been elsewhere (sent on a face, or arrived from a peer). A peer's WANT
    /// is only its word; it cannot make an entry stored that never left this device.
    fn bound(&self, counter: &str) -> Result<u32, ChatError> {
        let frontier = self.frontier()?;
        Ok(if counter == "stored_upto" {
            let elsewhere = self
                .ix
                .local_u32("sent_upto")?
                .max(self.ix.local_u32("arrived_upto")?);
            frontier.min(elsewhere)
        } else {
            frontier
        })
    }

    /// Brings persisted counters back within their bounds (a store written by an older
    /// version, a log cut back after a power loss); true if one was lowered. Write lock held.
    fn clamp_counters(&self) -> Result<bool, ChatError> {
        let mut lowered = false;
        // Stored last: its bound depends on the other two.
        for counter in ["sent_upto", "arrived_upto", "stored_upto"] {
            lowered |= self.ix.lower_local(counter, self.bound(counter)?)?;
        }
        if lowered {
            warn!("delivery counters exceeded the evidence and were lowered");
        }
        Ok(lowered)
    }

    /// Raises a delivery counter of my feed (as far as the evidence allows) and announces
    /// the messages it moved.
    fn advance(&self, counter: &str, to: u32, state: DeliveryState) -> Result<(), ChatError> {
        let _g = self.lock();
        let to = to.min(self.bound(counter)?);
        let Some(old) = self.ix.raise_local(counter, to)? else {
            return Ok(());
        };
        let mut work = Work::default();
        if to - old > 256 {
            work.events.push(ChatEvent::Reload);
        } else {
            for seq in old + 1..=to {
                let Some(stored) = self.store.entry(&self.fid, seq)? else {
                    continue;
                };
                if let Some(m) = self.message(&stored.mid)? {
                    if m.state == Some(state) {
                        work.events.push(ChatEvent::State {
                            chat: m.chat,
                            mid: m.mid,
                            state,
                        });
                    }
                }
            }
        }
        self.finish(work)
    }

    /// Publishes on my feed, through the node if attached (so that it is offered at once).
    pub(crate) fn publish(&self, content: &[u8]) -> Result<Published, ChatError> {
        if let Some(why) = self.cfg.gate.reason() {
            return Err(ChatError::Held(why));
        }
        let remote = self.remote.read().ok().and_then(|r| r.clone());
        Ok(match remote {
            Some(r) => r.publish(&self.me, content)?,
            None => feed::publish(self.store.as_ref(), &self.cfg.net, &self.me, content)?,
        })
    }

    pub(crate) fn send_receipt(
        &self,
        kind: ReceiptKind,
        mid: &Mid,
        author: &FeedId,
    ) -> Result<(), ChatError> {
        let v = content::receipt_value(kind, mid);
        self.publish(&content::seal_entry(&v, &[self.fid, *author])?)?;
        Ok(())
    }

    /// Makes sure a feed is replicated.
    pub(crate) fn keep_feed(&self, fid: &FeedId) -> Result<(), ChatError> {
        if fid.key().is_err() {
            return Ok(());
        }
        let remote = self.remote.read().ok().and_then(|r| r.clone());
        match remote {
            Some(r) => r.add_feed(*fid)?,
            None => {
                self.store.add_member(fid)?;
            }
        }
        Ok(())
    }

    /// Finishes a pass (write lock held): keeps feeds, sends DLV receipts, tells subscribers.
    pub(crate) fn finish(&self, mut work: Work) -> Result<(), ChatError> {
        self.ix.commit(&mut work.pass)?;
        work.keep.sort();
        work.keep.dedup();
        if !work.keep.is_empty() {
            let members = self.store.members()?;
            for f in work
                .keep
                .iter()
                .filter(|f| members.binary_search(f).is_err())
            {
                self.keep_feed(f)?;
            }
        }
        if self.cfg.receipts && self.cfg.gate.is_open() && !work.dlv.is_empty() {
            for (mid, author) in std::mem::take(&mut work.dlv) {
                match self.send_receipt(ReceiptKind::Delivered, &mid, &author) {
                    Ok(()) => {}
                    // The own feed cannot be signed now (rolled back below its signing mark,
                    // e.g. after a kill during a post): receipts wait as while the gate is
                    // held, and indexing (and opening the chats) goes on.
                    Err(e) if is_rolled_back(&e) => {
                        warn!("delivery receipts not sent: {e}");
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            let mut more = Work::default();
            self.index_feed(&self.fid, &mut more)?;
            self.ix.commit(&mut more.pass)?;
            work.events.append(&mut more.events);
        }
        // Messages of others arrived in groups: my delivery record says so (rate-limited).
        let mut groups: Vec<ChatId> = Vec::new();
        for e in &work.events {
            if let ChatEvent::Message {
                chat, mine: false, ..
            } = e
            {
                if crate::chat::members::is_group(chat) && !groups.contains(chat) {
                    groups.push(chat.clone());
                }
            }
        }
        if !groups.is_empty() {
            match self.publish_holds(&groups) {
                Ok(true) => {
                    let mut more = Work::default();
                    self.index_feed(&self.fid, &mut more)?;
                    self.ix.commit(&mut more.pass)?;
                    work.events.append(&mut more.events);
                }
                Ok(false) => {}
                Err(e) if is_rolled_back(&e) => warn!("delivery record not sent: {e}"),
                Err(e) => return Err(e),
            }
        }
        for e in work.events {
            let _ = self.events.send(e);
        }
        Ok(())
    }

    pub(crate) fn message(&self, mid: &Mid) -> Result<Option<Message>, ChatError> {
        let Some((k, rec)) = self.ix.message(mid)? else {
            return Ok(None);
        };
        let chat = self
            .ix
            .chat_of_num(key_num(&k))?
            .ok_or_else(|| ChatError::Index("message of an unknown chat".into()))?;
        self.to_message(chat, &k, rec).map(Some)
    }

    pub(crate) fn to_message(
        &self,
        chat: ChatId,
        key: &[u8],
        rec: MsgRec,
    ) -> Result<Message, ChatError> {
        let bad = |what: &str| ChatError::Index(format!("corrupt message record: {what}"));
        let mid = key_mid(key).ok_or_else(|| bad("key"))?;
        let author = rec.a;
        let body = match rec.u {
            Some(reason) => MessageBody::Unreadable { reason },
            None => {
                let voice = rec.v;
                let (location, body) = match rec.x.as_deref().map(split_location) {
                    Some((l, b)) => (l.map(str::to_owned), Some(b.to_owned())),
                    None => (None, None),
                };
                MessageBody::Post {
                    payload: content::payload_of(rec.x.as_deref(), voice.as_deref()),
                    text: rec.x,
                    body,
                    location,
                    voice,
                }
            }
        };
        let state = if author == self.fid {
            Some(self.state_of(&chat, &mid, rec.s)?)
        } else {
            None
        };
        Ok(Message {
            mid,
            author,
            seq: rec.s,
            ts: rec.t,
            body,
            state,
            cursor: Cursor(key.to_vec()),
            route: self.routes.get(&author, rec.s),
            chat,
        })
    }

    /// The delivery state of my message `seq` with id `mid` in `chat`.
    fn state_of(&self, chat: &ChatId, mid: &Mid, seq: u32) -> Result<DeliveryState, ChatError> {
        if let Some(peer) = chat.peer_of(&self.fid) {
            let key = [&mid.0[..], &peer.0[..]].concat();
            match self.ix.receipts.get(key)?.and_then(|v| v.first().copied()) {
                Some(2) => return Ok(DeliveryState::Read),
                Some(1) => return Ok(DeliveryState::Delivered),
                _ => {}
            }
        }
        Ok(if seq <= self.ix.local_u32("stored_upto")? {
            DeliveryState::Stored
        } else if seq <= self.ix.local_u32("sent_upto")? {
            DeliveryState::Sent
        } else {
            DeliveryState::Written
        })
    }
}

/// Whether `e` says the own feed is below its signing mark (`StoreError::RolledBack`).
fn is_rolled_back(e: &ChatError) -> bool {
    use crate::feed::FeedError;
    use crate::node::NodeError;
    use crate::store::StoreError;
    matches!(
        e,
        ChatError::Store(StoreError::RolledBack { .. })
            | ChatError::Feed(FeedError::Store(StoreError::RolledBack { .. }))
            | ChatError::Node(NodeError::Store(StoreError::RolledBack { .. }))
            | ChatError::Node(NodeError::Feed(FeedError::Store(
                StoreError::RolledBack { .. }
            )))
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use crate::chat::{ChatId, Chats, ChatsConfig, DeliveryState};
    use crate::identity::Identity;
    use crate::store::{SledStore, Store};

    #[test]
    fn counters_poisoned_by_an_older_version_are_lowered_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("s")).unwrap());
        let open = || {
            Chats::open(
                &dir.path().join("c"),
                store.clone(),
                Identity::from_seed(&[5; 32]),
                ChatsConfig::default(),
            )
            .unwrap()
        };
        let chats = open();
        let m1 = chats.send(&ChatId::Public, "one").unwrap().mid;
        let m2 = chats.send(&ChatId::Public, "two").unwrap().mid;
        // What the old code left after one stranger's WANT [0, 2^32-1], entry 1 sent once.
        let local = &chats.inner.ix.local;
        local
            .insert("stored_upto", &(u32::MAX - 1).to_be_bytes())
            .unwrap();
        local.insert("sent_upto", &1u32.to_be_bytes()).unwrap();
        drop(chats);
        let chats = open();
        let st = |m| chats.message(m).unwrap().unwrap().state.unwrap();
        assert_eq!(st(&m1), DeliveryState::Stored);
        assert_eq!(st(&m2), DeliveryState::Written);
        assert_eq!(chats.inner.ix.local_u32("stored_upto").unwrap(), 1);
    }

    /// Claimed gaps (a peer's WANT says a member's feed goes further) show who and how many,
    /// over which link, clear when the entries arrive over another link, and a huge claim
    /// neither overflows nor moves any delivery state.
    #[test]
    fn a_claimed_gap_names_the_author_and_clears_when_the_entries_arrive() {
        use crate::chat::{LinkKind, RouteDirection};
        use crate::node::NodeEvent;
        use crate::sync::{Event, FaceId};
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("s")).unwrap());
        let me = Identity::from_seed(&[5; 32]);
        let carol = Identity::from_seed(&[6; 32]);
        let chats = Chats::open(
            &dir.path().join("c"),
            store.clone(),
            Identity::from_seed(&[5; 32]),
            ChatsConfig::default(),
        )
        .unwrap();
        chats.add_contact(*carol.fid(), Some("carol"), 2).unwrap();
        let group = chats.chat_with(&[*carol.fid()]).unwrap();
        let mine = chats.send(&group, "anyone there?").unwrap().mid;
        // Carol wrote three messages elsewhere.
        let elsewhere = SledStore::open(&dir.path().join("carol")).unwrap();
        let net = crate::wire::network::Network::deployed();
        for t in ["one", "two", "three"] {
            let v = crate::chat::tav::Tav {
                tips: Vec::new(),
                text: Some(t.into()),
                voice: None,
                ts: 1,
                recps: Some(vec![me.fid().to_ref(), carol.fid().to_ref()]),
                old_format: false,
            };
            let c = crate::chat::content::seal_entry(&v.to_value(), &[*me.fid(), *carol.fid()])
                .unwrap();
            crate::feed::append_own(&elsewhere, &net, &carol, &c).unwrap();
        }
        let inner = &chats.inner;
        inner
            .on_node_event(NodeEvent::Link {
                face: Some(FaceId(1)),
                kind: "relay",
                peer: "r".into(),
                status: crate::node::LinkStatus::Up,
            })
            .unwrap();
        inner
            .on_node_event(NodeEvent::Link {
                face: Some(FaceId(2)),
                kind: "udp",
                peer: "u".into(),
                status: crate::node::LinkStatus::Up,
            })
            .unwrap();
        assert!(chats.gaps(&group).unwrap().is_empty());
        // A peer on the relay link wants carol's entry 4: it claims to hold 1..3.
        let claim = |seq| {
            inner
                .on_node_event(NodeEvent::Sync(Event::PeerHolds {
                    face: FaceId(1),
                    fid: *carol.fid(),
                    seq,
                }))
                .unwrap()
        };
        claim(3);
        let gaps = chats.gaps(&group).unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!((gaps[0].author, gaps[0].missing), (*carol.fid(), 3));
        assert_eq!(gaps[0].via, vec![LinkKind::Relay]);
        assert_eq!(
            gaps[0].describe(),
            "3 messages from carol have not arrived yet (claimed by a peer over relay)"
        );
        // The entries arrive over the UDP link: the gap heals.
        for seq in 1..=3 {
            let e = elsewhere.entry(carol.fid(), seq).unwrap().unwrap();
            store.append(carol.fid(), seq, &e.entry, &e.mid).unwrap();
            for (cnr, c) in elsewhere
                .chunks(carol.fid(), seq)
                .unwrap()
                .iter()
                .enumerate()
            {
                store.put_chunk(carol.fid(), seq, cnr as u32, c).unwrap();
            }
            inner
                .on_node_event(NodeEvent::Sync(Event::EntryAdded {
                    face: FaceId(2),
                    fid: *carol.fid(),
                    seq,
                    mid: e.mid,
                    chunks_missing: 0,
                }))
                .unwrap();
        }
        assert_eq!(chats.summary(&group).unwrap().total, 4);
        assert!(chats.gaps(&group).unwrap().is_empty(), "held 3, claimed 3");
        // A huge claim is shown as the claim it is, and moves no state.
        claim(u32::MAX);
        assert_eq!(chats.gaps(&group).unwrap()[0].missing, u32::MAX - 3);
        inner
            .on_node_event(NodeEvent::Sync(Event::PeerHolds {
                face: FaceId(1),
                fid: *me.fid(),
                seq: u32::MAX,
            }))
            .unwrap();
        let st = chats.message(&mine).unwrap().unwrap().state;
        assert_eq!(st, Some(DeliveryState::Written), "never sent: not stored");
        let page = chats.page(&group, None, 10).unwrap();
        let theirs: Vec<_> = page
            .messages
            .iter()
            .filter(|m| m.author == *carol.fid())
            .collect();
        assert_eq!(theirs.len(), 3);
        for m in theirs {
            let r = m.route.unwrap();
            assert_eq!(
                (r.kind, r.direction),
                (LinkKind::Wifi, RouteDirection::Arrived)
            );
        }
    }
}
