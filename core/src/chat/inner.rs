//! The service's shared state and what runs behind the API: indexing passes, node events,
//! delivery states, publishing on the own feed, and turning index records into messages.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use tokio::sync::broadcast;
use tracing::warn;

use crate::chat::chat_id::ChatId;
use crate::chat::content::{self, split_location, ReceiptKind};
use crate::chat::index::{key_mid, key_num, Index, MsgRec};
use crate::chat::ingest::Work;
use crate::chat::private_box::Opener;
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
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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
        match e {
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

    /// Raises a delivery counter of my feed and announces the messages it moved.
    fn advance(&self, counter: &str, to: u32, state: DeliveryState) -> Result<(), ChatError> {
        let _g = self.lock();
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
        if self.cfg.receipts && !work.dlv.is_empty() {
            for (mid, author) in std::mem::take(&mut work.dlv) {
                self.send_receipt(ReceiptKind::Delivered, &mid, &author)?;
            }
            let mut more = Work::default();
            self.index_feed(&self.fid, &mut more)?;
            self.ix.commit(&mut more.pass)?;
            work.events.append(&mut more.events);
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
        let author: FeedId = rec.a.parse().map_err(|_| bad("author"))?;
        let body = match rec.u {
            Some(reason) => MessageBody::Unreadable { reason },
            None => {
                let voice = match &rec.v {
                    Some(v) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(v)
                            .map_err(|_| bad("voice"))?,
                    ),
                    None => None,
                };
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
