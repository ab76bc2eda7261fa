//! The node: owns one tokio runtime, the store, the replication engine and the faces.
//!
//! One task runs the engine. Faces deliver packets to it over one inbound channel and get
//! their output over a channel each; commands (add a face, a feed, publish, snapshot, shut
//! down) arrive over a command channel. Engine events and link changes are broadcast to
//! subscribers. The store is flushed by group commit on a task of its own: one
//! `flush_interval` after an entry or chunk was accepted (plus the flush itself), and on
//! shutdown; ingest never waits for the disk.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::runtime::Runtime;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tokio::time::Instant;
use tracing::{debug, info};

use crate::face::relay::{RelayLink, RelayStatus};
use crate::face::relay_dial::{tls_config, RelayOptions, RelayTarget};
use crate::face::tunnel::TunnelRole;
use crate::face::{self, udp::UdpConfig, Link};
use crate::feed::{self, FeedError, Published};
use crate::identity::{FeedId, Identity};
use crate::store::Store;
use crate::sync::goset::Added;
use crate::sync::{Config, Engine, Event, FaceId, FaceProfile, FeedProgress, Stats};
use crate::wire::network::Network;

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

/// What a node tells its subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// Something the engine did.
    Sync(Event),
    /// A link came up.
    LinkUp {
        /// Its face id.
        face: FaceId,
        /// `ws`, `udp`, …
        kind: &'static str,
        /// The peer or group address.
        peer: String,
    },
    /// A link went down.
    LinkDown {
        /// Its face id.
        face: FaceId,
        /// Why.
        reason: String,
    },
    /// A relay link's progress (the link itself comes up as [`NodeEvent::LinkUp`]).
    Relay {
        /// The relay's URL.
        url: String,
        /// What the link is doing.
        status: RelayStatus,
    },
    /// A dongle link: connected, lost, health, GOset agreement (see `ble::supervisor`).
    Dongle(crate::ble::status::DongleEvent),
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

pub(crate) enum Cmd {
    AddFace {
        kind: &'static str,
        peer: String,
        profile: FaceProfile,
        tx: mpsc::Sender<Vec<u8>>,
        reply: oneshot::Sender<FaceId>,
    },
    RemoveFace(FaceId, String),
    AddFeed(
        FeedId,
        oneshot::Sender<Result<Added, crate::store::StoreError>>,
    ),
    Refresh(FeedId),
    SetOwn(FeedId),
    Snapshot(oneshot::Sender<Snapshot>),
    Shutdown(oneshot::Sender<()>),
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
        let (inbound, in_rx) = mpsc::channel(face::FACE_QUEUE);
        let (events, _) = broadcast::channel(4096);
        let dirty = Arc::new(Notify::new());
        rt.spawn(flusher(store.clone(), dirty.clone(), cfg.flush_interval));
        let task = EngineTask {
            engine,
            store: store.clone(),
            faces: BTreeMap::new(),
            next_face: 1,
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

    /// The runtime's handle, for callers that need to wait on node streams.
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.rt.handle().clone()
    }

    /// The handle faces defined outside the node (dongle links) register with.
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

    /// Accepts WebSocket peers on `addr`; returns the bound address.
    pub fn listen_ws(&self, addr: &str) -> Result<SocketAddr, NodeError> {
        Ok(self.listen_ws_task(addr)?.0)
    }

    /// [`Node::listen_ws`], also returning a handle that stops accepting (links already
    /// accepted stay).
    pub fn listen_ws_task(
        &self,
        addr: &str,
    ) -> Result<(SocketAddr, tokio::task::AbortHandle), NodeError> {
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(addr))
            .map_err(|err| NodeError::Io {
                what: format!("listening on {addr}"),
                err,
            })?;
        let local = listener.local_addr().map_err(|err| NodeError::Io {
            what: "reading the bound address".into(),
            err,
        })?;
        info!(%local, "WebSocket server listening");
        let task = self.rt.spawn(face::ws::serve(listener, self.link.clone()));
        Ok((local, task.abort_handle()))
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once connected.
    pub fn connect_ws(&self, url: &str) -> Result<SocketAddr, NodeError> {
        let link = self.link.clone();
        self.rt
            .block_on(face::ws::dial(url, link))
            .map_err(|e| NodeError::Connect {
                url: url.to_owned(),
                err: e.to_string(),
            })
    }

    /// Keeps a link to the peer of a beacon through the relay it names, until shutdown: dials
    /// the relay (reconnecting with backoff), pairs on the beacon's rendezvous id, and carries
    /// packets through the encrypted tunnel as `role`. Returns once the link task runs; its
    /// progress is reported as [`NodeEvent::Relay`], the link itself as `LinkUp`/`LinkDown`.
    pub fn connect_relay(
        &self,
        target: RelayTarget,
        role: TunnelRole,
        options: RelayOptions,
    ) -> Result<(), NodeError> {
        let url = target.url();
        let tls = if target.tls {
            Some(tls_config(&options).map_err(|err| NodeError::Connect {
                url: url.clone(),
                err,
            })?)
        } else {
            None
        };
        info!(%url, role = role.name(), "relay link starting");
        let link = RelayLink {
            target,
            role,
            options,
            tls,
            link: self.link.clone(),
        };
        self.rt.spawn(link.run());
        Ok(())
    }

    /// Joins the UDP multicast group.
    pub fn udp_multicast(&self, cfg: UdpConfig) -> Result<(), NodeError> {
        let _guard = self.rt.enter();
        let sock = face::udp::open(&cfg).map_err(|err| NodeError::Io {
            what: format!("joining {}:{}", cfg.group, cfg.port),
            err,
        })?;
        self.rt.spawn(face::udp::run(sock, cfg, self.link.clone()));
        Ok(())
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

/// A cloneable handle on a running node, usable from any thread (also inside the node's
/// runtime: nothing here blocks on it). Operations fail with [`NodeError::Gone`] once the node
/// has shut down.
#[derive(Clone)]
pub struct NodeRemote {
    cmd: mpsc::UnboundedSender<Cmd>,
    events: broadcast::Sender<NodeEvent>,
    store: Arc<dyn Store>,
    net: Network,
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

/// How often accepted data is also synced to survive a power loss.
const SYNC_INTERVAL: Duration = Duration::from_secs(5);

/// Group commit: after data is accepted, waits one window and flushes (safe against a killed
/// process), and at most every [`SYNC_INTERVAL`] syncs (safe against power loss); off the
/// engine task, so that ingest never waits for the disk.
async fn flusher(store: Arc<dyn Store>, dirty: Arc<Notify>, window: Duration) {
    let mut last_sync = Instant::now();
    loop {
        dirty.notified().await;
        tokio::time::sleep(window).await;
        let s = store.clone();
        let sync = last_sync.elapsed() >= SYNC_INTERVAL;
        if sync {
            last_sync = Instant::now();
        }
        match tokio::task::spawn_blocking(move || if sync { s.sync() } else { s.flush() }).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(%e, "store flush failed"),
            Err(_) => return,
        }
    }
}

struct EngineTask {
    engine: Engine,
    store: Arc<dyn Store>,
    faces: BTreeMap<FaceId, (mpsc::Sender<Vec<u8>>, &'static str, String)>,
    next_face: u32,
    events: broadcast::Sender<NodeEvent>,
    dirty: Arc<Notify>,
}

impl EngineTask {
    async fn run(
        mut self,
        mut cmd_rx: mpsc::UnboundedReceiver<Cmd>,
        mut in_rx: mpsc::Receiver<(FaceId, Vec<u8>)>,
    ) {
        let start = Instant::now();
        let ms = |t: Instant| t.duration_since(start).as_millis() as u64;
        let mut batch: Vec<(FaceId, Vec<u8>)> = Vec::new();
        let done = loop {
            // Nothing due (no face): sleep until a command or a packet comes.
            let wakeup = self.engine.next_wakeup();
            let deadline = (wakeup != u64::MAX)
                .then(|| start.checked_add(Duration::from_millis(wakeup)))
                .flatten();
            let timer = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    None => break None,
                    Some(Cmd::Shutdown(reply)) => break Some(reply),
                    Some(c) => self.command(c, ms(Instant::now())),
                },
                got = in_rx.recv() => {
                    let Some(first) = got else { break None };
                    batch.push(first);
                    while batch.len() < 1024 {
                        match in_rx.try_recv() {
                            Ok(x) => batch.push(x),
                            Err(_) => break,
                        }
                    }
                    let now = ms(Instant::now());
                    // Hand over consecutive packets of one face together (batch verification).
                    let mut i = 0;
                    while i < batch.len() {
                        let face = batch[i].0;
                        let j = batch[i..].iter().position(|(f, _)| *f != face).map_or(batch.len(), |k| i + k);
                        let pkts: Vec<&[u8]> = batch[i..j].iter().map(|(_, p)| p.as_slice()).collect();
                        self.engine.on_packets(face, &pkts, now);
                        i = j;
                    }
                    batch.clear();
                }
                () = timer => {}
            }
            let now = Instant::now();
            for out in self.engine.poll(ms(now)) {
                if let Some((tx, ..)) = self.faces.get(&out.face) {
                    if tx.try_send(out.pkt).is_err() {
                        debug!(face = ?out.face, "face queue full; packet dropped");
                    }
                }
            }
            for e in self.engine.take_events() {
                if matches!(e, Event::EntryAdded { .. } | Event::ChainComplete { .. }) {
                    self.dirty.notify_one();
                }
                let _ = self.events.send(NodeEvent::Sync(e));
            }
        };
        self.flush();
        self.faces.clear();
        if let Some(reply) = done {
            let _ = reply.send(());
        }
    }

    fn flush(&self) {
        let store = self.store.clone();
        let r = tokio::task::block_in_place(move || store.sync());
        if let Err(e) = r {
            tracing::warn!(%e, "store flush failed");
        }
    }

    fn command(&mut self, c: Cmd, now: u64) {
        match c {
            Cmd::AddFace {
                kind,
                peer,
                profile,
                tx,
                reply,
            } => {
                let face = FaceId(self.next_face);
                self.next_face += 1;
                self.engine.add_face(face, profile);
                self.faces.insert(face, (tx, kind, peer.clone()));
                let _ = reply.send(face);
                let _ = self.events.send(NodeEvent::LinkUp { face, kind, peer });
            }
            Cmd::RemoveFace(face, reason) => {
                self.engine.remove_face(face);
                if self.faces.remove(&face).is_some() {
                    let _ = self.events.send(NodeEvent::LinkDown { face, reason });
                }
            }
            Cmd::AddFeed(fid, reply) => {
                let _ = reply.send(self.engine.add_feed(fid));
            }
            Cmd::SetOwn(fid) => self.engine.set_own_feed(fid),
            Cmd::Refresh(fid) => {
                if let Err(e) = self.engine.refresh_feed(&fid) {
                    tracing::warn!(%e, "refreshing a feed failed");
                }
            }
            Cmd::Snapshot(reply) => {
                let idle = now.saturating_sub(self.engine.last_activity());
                let _ = reply.send(Snapshot {
                    progress: self.engine.progress(),
                    stats: self.engine.stats().clone(),
                    idle: Duration::from_millis(idle),
                    goset_agreed: self
                        .engine
                        .goset_agreed_at()
                        .map(|t| Duration::from_millis(now.saturating_sub(t))),
                    links: self
                        .faces
                        .iter()
                        .map(|(f, (_, k, p))| (*f, *k, p.clone()))
                        .collect(),
                    goset_len: self.engine.goset().len(),
                    goset_xor: self.engine.goset().state(),
                });
            }
            Cmd::Shutdown(_) => {}
        }
    }
}
