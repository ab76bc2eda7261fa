//! Links through the front door. Each call returns a [`LinkHandle`] that closes it: a
//! WebSocket listener, a dialled WebSocket peer, the UDP multicast group, a relay link, a
//! native phone link. Any open link can also be closed by its id ([`App::close_link`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::app::{App, AppError};
use crate::ble::link::Connection;
use crate::face::relay::{self, peer_label};
use crate::face::relay_dial::RelayTarget;
use crate::face::tunnel::TunnelRole;
use crate::face::udp::UdpConfig;
use crate::face::{self, Link};
use crate::node::NodeError;
use crate::sync::FaceId;

/// How long `dial_ws` waits for the link to register after the handshake.
const REGISTER_WAIT: Duration = Duration::from_secs(5);

/// An open link (or listener). Closing it stops its task, if it has one, and takes its
/// faces out of the node; dropping the handle leaves the link running.
#[derive(Clone)]
pub struct LinkHandle {
    kind: &'static str,
    peer: String,
    task: Option<Arc<AbortHandle>>,
    link: Link,
    rt: tokio::runtime::Handle,
}

impl LinkHandle {
    /// `ws-listen`, `ws`, `udp`, `relay`, `ble`, …
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The bound address, the peer, the group, or `relay-url #rid`.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Closes the link (does not block; safe from any thread).
    pub fn close(&self) {
        if let Some(t) = &self.task {
            t.abort();
        }
        let (link, kind, peer) = (self.link.clone(), self.kind, self.peer.clone());
        self.rt.spawn(async move {
            let Some(snap) = link.snapshot().await else {
                return;
            };
            for (face, k, p) in snap.links {
                if k == kind && p == peer {
                    link.unregister(face, "closed".into());
                }
            }
        });
    }
}

impl App {
    fn handle(
        &self,
        kind: &'static str,
        peer: String,
        task: Option<AbortHandle>,
    ) -> Result<LinkHandle, AppError> {
        let node = self.running()?;
        Ok(LinkHandle {
            kind,
            peer,
            task: task.map(Arc::new),
            link: node.link(),
            rt: node.handle(),
        })
    }

    /// Accepts WebSocket peers on `addr` (`127.0.0.1:0` picks a port); the handle's `peer`
    /// is the bound address. Closing it stops accepting; accepted links stay until closed.
    pub fn listen_ws(&self, addr: &str) -> Result<LinkHandle, AppError> {
        let (local, task) = self.running()?.listen_ws_task(addr)?;
        self.handle("ws-listen", local.to_string(), Some(task))
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once its link is up.
    pub fn dial_ws(&self, url: &str) -> Result<LinkHandle, AppError> {
        let node = self.running()?;
        let mut rx = node.subscribe();
        node.connect_ws(url)?;
        let up = node.handle().block_on(async {
            tokio::time::timeout(REGISTER_WAIT, async {
                loop {
                    match rx.recv().await {
                        Ok(e) if e.link_up().is_some_and(|(_, k, p)| k == "ws" && p == url) => {
                            return true
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return false,
                    }
                }
            })
            .await
            .unwrap_or(false)
        });
        if !up {
            return Err(AppError::Node(NodeError::Connect {
                url: url.to_owned(),
                err: "the link closed before it came up".into(),
            }));
        }
        self.handle("ws", url.to_owned(), None)
    }

    /// Joins the UDP multicast group of `cfg`.
    pub fn udp_multicast(&self, cfg: UdpConfig) -> Result<LinkHandle, AppError> {
        let node = self.running()?;
        let rt = node.handle();
        let sock = {
            let _guard = rt.enter();
            face::udp::open(&cfg).map_err(|err| NodeError::Io {
                what: format!("joining {}:{}", cfg.group, cfg.port),
                err,
            })?
        };
        let peer = std::net::SocketAddrV4::new(cfg.group, cfg.port).to_string();
        let task = rt.spawn(face::udp::run(sock, cfg, node.link()));
        self.handle("udp", peer, Some(task.abort_handle()))
    }

    /// Keeps a link to the peer of `target` through its relay (reconnecting with backoff)
    /// as `role`, until closed or stopped.
    pub fn relay_link(
        &self,
        target: RelayTarget,
        role: TunnelRole,
    ) -> Result<LinkHandle, AppError> {
        let node = self.running()?;
        let peer = peer_label(&target);
        let task = relay::connect(node, target, role, self.options.relay.clone())?;
        self.handle(relay::KIND, peer, Some(task))
    }

    /// Runs a link opened elsewhere (a phone's own GATT server: `ble::channel::native_link`)
    /// as a face of the node, as the bindings do; ends when the connection does.
    pub fn attach_connection(
        &self,
        conn: Connection,
        kind: &'static str,
    ) -> Result<LinkHandle, AppError> {
        let node = self.running()?;
        let peer = format!("{} ({})", conn.info.name, conn.info.id);
        let link = node.link();
        let task = node.handle().spawn(async move {
            let why = crate::ble::pump::run(link, conn, kind).await;
            tracing::debug!(%why, "link ended");
        });
        self.handle(kind, peer, Some(task.abort_handle()))
    }

    /// Closes the open link `face` (an id from [`AppEvent::LinkUp`] or the sync summary).
    pub fn close_link(&self, face: u32) -> Result<(), AppError> {
        self.running()?
            .link()
            .unregister(FaceId(face), "closed".into());
        Ok(())
    }
}
