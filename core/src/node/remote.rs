//! [`NodeRemote`]: a cloneable handle on a running node for other threads and services.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};

use super::events::NodeEvent;
use super::runtime::Cmd;
use super::NodeError;
use crate::feed::{self, Published};
use crate::identity::{FeedId, Identity};
use crate::store::Store;
use crate::wire::network::Network;

/// A cloneable handle on a running node, usable from any thread (also inside the node's
/// runtime: nothing here blocks on it). Operations fail with [`NodeError::Gone`] once the node
/// has shut down.
#[derive(Clone)]
pub struct NodeRemote {
    pub(super) cmd: mpsc::UnboundedSender<Cmd>,
    pub(super) events: broadcast::Sender<NodeEvent>,
    pub(super) store: Arc<dyn Store>,
    pub(super) net: Network,
}

impl NodeRemote {
    /// Publishes `content` on the author's feed (synced before returning) and offers it.
    pub fn publish(&self, me: &Identity, content: &[u8]) -> Result<Published, NodeError> {
        let p = feed::publish(self.store.as_ref(), &self.net, me, content)?;
        self.cmd
            .send(Cmd::Refresh(*me.fid()))
            .map_err(|_| NodeError::Gone)?;
        Ok(p)
    }

    /// Adds a feed to replicate (persisted by the engine); does not wait for it.
    pub fn add_feed(&self, fid: FeedId) -> Result<(), NodeError> {
        let (tx, _rx) = oneshot::channel();
        self.cmd
            .send(Cmd::AddFeed(fid, tx))
            .map_err(|_| NodeError::Gone)
    }

    /// Names the node's own feed, so that sending its entries is reported
    /// (`Event::OwnEntrySent`).
    pub fn set_own_feed(&self, fid: FeedId) -> Result<(), NodeError> {
        self.cmd.send(Cmd::SetOwn(fid)).map_err(|_| NodeError::Gone)
    }

    /// Subscribes to the node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }
}
