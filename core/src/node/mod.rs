//! The node: owns one tokio runtime, the store, the replication engine and the faces.
//!
//! One task runs the engine ([`runtime`]). Faces attach through one port ([`Link`], in
//! [`links`]): they deliver packets over one inbound channel and get their output over a
//! channel each; commands (add a face, a feed, publish, snapshot, shut down) arrive over a
//! command channel. Engine events and every link's status are broadcast to subscribers as
//! [`NodeEvent`]s ([`events`]). The store is flushed by group commit on a task of its own:
//! one `flush_interval` after an entry or chunk was accepted (plus the flush itself), and on
//! shutdown; ingest never waits for the disk.
//!
//! The node names no face type: WebSocket, UDP, relay and BLE links live in their own
//! modules (`face::*`, `ble::*`), which depend on this one and start themselves over
//! [`Node::link`] and [`Node::handle`].

mod events;
mod links;
mod remote;
mod runtime;

pub use events::{LinkDetail, LinkStatus, NodeEvent};
pub use links::{Link, NodeGone, FACE_QUEUE, MAX_PACKET};
pub use remote::NodeRemote;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::runtime::Runtime;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tracing::debug;

use crate::feed::{self, FeedError, Published};
use crate::identity::{FeedId, Identity};
use crate::store::Store;
use crate::sync::goset::Added;
use crate::sync::{Config, Engine, FaceId, FeedProgress, Stats};
use crate::wire::network::Network;
use links::Registry;
use runtime::{flusher, Cmd, EngineTask};

/// Node settings.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The network (prefix and DMXs).
    pub net: Network,
    /// Engine timers and limits.
    pub engine: Config,
    /// Seed of the engine's random source.
    pub seed: u64,
    /// Group-commit window: accepted data is flushed at most this long after it arrived.
    pub flush_interval: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            net: Network::deployed(),
            engine: Config::default(),
            seed: rand_seed(),
            flush_interval: Duration::from_millis(50),
        }
    }
}

fn rand_seed() -> u64 {
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    u64::from_le_bytes(b)
}

/// Why a node operation failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// A socket operation failed.
    #[error("{what}: {err}")]
    Io {
        /// What was attempted.
        what: String,
        /// The error.
        err: std::io::Error,
    },
    /// A WebSocket connection failed.
    #[error("connecting to {url}: {err}")]
    Connect {
        /// The URL.
        url: String,
        /// The error.
        err: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Publishing failed.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// The node has shut down.
    #[error("the node has shut down")]
    Gone,
}

/// A point-in-time view of the node.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Per-feed progress.
    pub progress: Vec<FeedProgress>,
    /// Engine counters.
    pub stats: Stats,
    /// Time since this node last received new data or served data a peer asked for.
    pub idle: Duration,
    /// For how long a peer's GOset has matched ours (None: not since our set last changed).
    pub goset_agreed: Option<Duration>,
    /// Open links: (face, kind, peer).
    pub links: Vec<(FaceId, &'static str, String)>,
    /// Keys in our GOset.
    pub goset_len: usize,
    /// XOR of our GOset's keys (what WANT/CHNK DMXs hang on).
    pub goset_xor: [u8; 32],
}

/// A running node.
pub struct Node {
    rt: Runtime,
    link: Link,
    store: Arc<dyn Store>,
    net: Network,
}

impl Node {
    /// Starts a node over `store`, replicating the feeds of the store's GOset.
    pub fn start(store: Arc<dyn Store>, cfg: NodeConfig) -> Result<Node, NodeError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lichen-node")
            .enable_all()
            .build()
            .map_err(NodeError::Runtime)?;
        let engine = Engine::new(cfg.net.clone(), store.clone(), cfg.engine.clone(), cfg.seed)?;
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let (inbound, in_rx) = mpsc::channel(FACE_QUEUE);
        let (events, _) = broadcast::channel(4096);
        let dirty = Arc::new(Notify::new());
        rt.spawn(flusher(store.clone(), dirty.clone(), cfg.flush_interval));
        let task = EngineTask {
            engine,
            store: store.clone(),
            faces: Registry::new(events.clone()),
            events: events.clone(),
            dirty,
        };
        rt.spawn(task.run(cmd_rx, in_rx));
        Ok(Node {
            rt,
            link: Link {
                cmd,
                inbound,
                events,
            },
            store,
            net: cfg.net,
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The runtime's handle: faces spawn their tasks on it; callers wait on node streams.
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.rt.handle().clone()
    }

    /// The port every face registers with (faces live outside the node: `face::*`,
    /// `ble::*`, the emulator, native links).
    pub fn link(&self) -> Link {
        self.link.clone()
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.link.events.subscribe()
    }

    /// Waits for the next event, up to `timeout`.
    pub fn next_event(
        &self,
        rx: &mut broadcast::Receiver<NodeEvent>,
        timeout: Duration,
    ) -> Option<NodeEvent> {
        self.rt.block_on(async {
            loop {
                match tokio::time::timeout(timeout, rx.recv()).await {
                    Ok(Ok(e)) => return Some(e),
                    Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                        debug!(n, "event subscriber lagged");
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
                }
            }
        })
    }

    fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Cmd) -> Result<T, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.link.cmd.send(make(tx)).map_err(|_| NodeError::Gone)?;
        self.rt.block_on(rx).map_err(|_| NodeError::Gone)
    }

    /// Adds a feed to replicate.
    pub fn add_feed(&self, fid: FeedId) -> Result<Added, NodeError> {
        Ok(self.ask(|tx| Cmd::AddFeed(fid, tx))??)
    }

    /// Publishes `content` on the author's feed (flushed before returning) and offers it.
    pub fn publish(&self, me: &Identity, content: &[u8]) -> Result<Published, NodeError> {
        let p = feed::publish(self.store.as_ref(), &self.net, me, content)?;
        self.link
            .cmd
            .send(Cmd::Refresh(*me.fid()))
            .map_err(|_| NodeError::Gone)?;
        Ok(p)
    }

    /// A handle for other threads and services (the chat service): publish, add feeds,
    /// subscribe, without owning the node.
    pub fn remote(&self) -> NodeRemote {
        NodeRemote {
            cmd: self.link.cmd.clone(),
            events: self.link.events.clone(),
            store: self.store.clone(),
            net: self.net.clone(),
        }
    }

    /// A snapshot of progress, counters and links.
    pub fn snapshot(&self) -> Result<Snapshot, NodeError> {
        self.ask(Cmd::Snapshot)
    }

    /// Stops the engine (flushing the store) and every face, waiting at most `timeout`.
    pub fn shutdown(self, timeout: Duration) {
        let (tx, rx) = oneshot::channel();
        if self.link.cmd.send(Cmd::Shutdown(tx)).is_ok() {
            self.rt.block_on(async {
                let _ = tokio::time::timeout(timeout, rx).await;
                // Let faces see their queues close and say goodbye (WebSocket close frames).
                tokio::time::sleep(Duration::from_millis(100)).await;
            });
        }
        self.rt.shutdown_timeout(timeout);
    }
}
