//! [`LichenNode`]: a running node over a data directory laid out as the CLI's
//! (`identity.json`, `store/`), so an app and `lichen --data DIR` can share one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lichen::chat::tav::Tav;
use lichen::feed::{self, Content};
use lichen::node::{Node, NodeConfig};
use lichen::store::{SledStore, Store};
use lichen::{FeedId, Identity, IdentityFile};

use crate::LichenError;

/// How long `shutdown` waits for the engine to stop and the store to sync.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

/// A running Lichen node: replication engine, feed store and links.
#[derive(uniffi::Object)]
pub struct LichenNode {
    node: RwLock<Option<Node>>,
    me: Identity,
}

/// One open link of a node.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkState {
    /// The node's id for the link (face).
    pub face: u32,
    /// `ws`, `udp`, `ble`, `relay`, …
    pub kind: String,
    /// The peer's address or name.
    pub peer: String,
}

/// How far one feed has replicated.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeedState {
    /// The feed id, 64 hex digits.
    pub feed_id: String,
    /// Entries held here.
    pub held: u32,
    /// The most entries any peer showed it holds.
    pub peer_max: u32,
    /// Side chains (long posts) still incomplete.
    pub open_chains: u64,
}

/// A point-in-time view of a node.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NodeSnapshot {
    /// Open links.
    pub links: Vec<LinkState>,
    /// Every replicated feed.
    pub feeds: Vec<FeedState>,
    /// Keys in the node's GOset.
    pub goset_len: u64,
    /// Milliseconds since the node last received new data or served a peer.
    pub idle_ms: u64,
}

fn open_store(dir: &Path) -> Result<SledStore, LichenError> {
    SledStore::open(dir).map_err(|e| {
        if e.to_string().contains("could not acquire lock") {
            LichenError::node(format!(
                "{} is in use by another Lichen process (a store has one owner; stop it first)",
                dir.display()
            ))
        } else {
            LichenError::node(format!("opening the store in {}: {e}", dir.display()))
        }
    })
}

fn load_or_create_identity(root: &Path) -> Result<Identity, LichenError> {
    let key_file = root.join("identity.json");
    let fail = |e: &dyn std::fmt::Display| {
        LichenError::node(format!("reading {}: {e}", key_file.display()))
    };
    if key_file.exists() {
        return Identity::load(&key_file).map_err(|e| fail(&e));
    }
    std::fs::create_dir_all(root).map_err(|e| fail(&e))?;
    let me = Identity::generate();
    me.save(&key_file).map_err(|e| fail(&e))?;
    Ok(me)
}

#[uniffi::export]
impl LichenNode {
    /// Opens the node in `data_dir` (created if missing, with a new identity if it holds
    /// none) and starts it: it replicates its own feed and every feed it learns of.
    #[uniffi::constructor]
    pub fn open(data_dir: String) -> Result<Arc<LichenNode>, LichenError> {
        let root = PathBuf::from(data_dir);
        let me = load_or_create_identity(&root)?;
        let store: Arc<dyn Store> = Arc::new(open_store(&root.join("store"))?);
        let node = Node::start(store, NodeConfig::default()).map_err(LichenError::node)?;
        node.add_feed(*me.fid()).map_err(LichenError::node)?;
        node.remote()
            .set_own_feed(*me.fid())
            .map_err(LichenError::node)?;
        Ok(Arc::new(LichenNode {
            node: RwLock::new(Some(node)),
            me,
        }))
    }

    /// This node's own feed id, 64 hex digits (see `feed_id_forms` for the other forms).
    pub fn feed_id(&self) -> String {
        self.me.fid().to_hex()
    }

    /// Accepts WebSocket peers on `addr` (`127.0.0.1:0` picks a free port); returns the
    /// URL peers dial (`ws://host:port`).
    pub fn listen_ws(&self, addr: String) -> Result<String, LichenError> {
        self.with(|n| {
            let bound = n.listen_ws(&addr).map_err(LichenError::node)?;
            Ok(format!("ws://{bound}"))
        })
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once connected. The link stays
    /// until either side stops.
    pub fn connect_ws(&self, url: String) -> Result<(), LichenError> {
        self.with(|n| n.connect_ws(&url).map(|_| ()).map_err(LichenError::node))
    }

    /// Open links and per-feed progress.
    pub fn snapshot(&self) -> Result<NodeSnapshot, LichenError> {
        self.with(|n| {
            let s = n.snapshot().map_err(LichenError::node)?;
            Ok(NodeSnapshot {
                links: s
                    .links
                    .into_iter()
                    .map(|(face, kind, peer)| LinkState {
                        face: face.0,
                        kind: kind.to_owned(),
                        peer,
                    })
                    .collect(),
                feeds: s
                    .progress
                    .into_iter()
                    .map(|p| FeedState {
                        feed_id: p.fid.to_hex(),
                        held: p.held,
                        peer_max: p.peer_max,
                        open_chains: p.open_chains as u64,
                    })
                    .collect(),
                goset_len: s.goset_len as u64,
                idle_ms: s.idle.as_millis() as u64,
            })
        })
    }

    /// Publishes a public text post (TAV on the "ALL" channel, as `lichen post`) on the own
    /// feed; returns its sequence number once it is stored durably.
    pub fn publish_text(&self, text: String) -> Result<u32, LichenError> {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let content = Tav::public_text(&text, ts).encode();
        self.with(|n| {
            n.publish(&self.me, &content)
                .map(|p| p.seq)
                .map_err(LichenError::node)
        })
    }

    /// The text of post `seq` of `feed_id` (any feed id form), if that entry is held whole
    /// and is a text post.
    pub fn read_text(&self, feed_id: String, seq: u32) -> Result<Option<String>, LichenError> {
        let fid: FeedId =
            feed_id
                .parse()
                .map_err(|e: lichen::IdentityError| LichenError::InvalidInput {
                    reason: e.to_string(),
                })?;
        self.with(|n| match feed::content(n.store().as_ref(), &fid, seq) {
            Ok(Some(Content::Complete(c))) => Ok(Tav::decode(&c).ok().and_then(|t| t.text)),
            Ok(_) => Ok(None),
            Err(e) => Err(LichenError::node(e)),
        })
    }

    /// Stops the node: closes its links and syncs the store. Later calls fail with
    /// `Shutdown`; calling it twice is harmless.
    pub fn shutdown(&self) {
        let node = self.node.write().ok().and_then(|mut n| n.take());
        if let Some(n) = node {
            n.shutdown(SHUTDOWN_WAIT);
        }
    }
}

impl LichenNode {
    /// Runs `f` on the node, or fails with `Shutdown` once it has stopped.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Node) -> Result<T, LichenError>,
    ) -> Result<T, LichenError> {
        let guard = self.node.read().map_err(|_| LichenError::Shutdown)?;
        match guard.as_ref() {
            Some(n) => f(n),
            None => Err(LichenError::Shutdown),
        }
    }
}

impl Drop for LichenNode {
    fn drop(&mut self) {
        self.shutdown();
    }
}
