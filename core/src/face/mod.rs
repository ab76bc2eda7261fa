//! Links ("faces"): each turns a transport into packets for the node's engine and back.
//!
//! A face task registers itself with the node ([`Link::register`]), forwards every received
//! packet to the engine's inbound channel, and writes what the engine sends it. Faces know
//! nothing about chat or feeds; the engine knows nothing about transports.
//!
//! Faces: `ws` (WebSocket server and client), `udp` (multicast), `relay` (a peer met through
//! a Moneysocket rendezvous relay: `relay_dial` reaches the relay, `relay_session` runs the
//! rendezvous and the encrypted `tunnel`, `backoff` says when to reconnect).

pub mod backoff;
pub mod relay;
pub mod relay_dial;
pub mod relay_session;
#[deny(clippy::indexing_slicing)] // decodes frames from the relay
pub mod tunnel;
pub mod udp;
pub mod ws;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::node::{Cmd, NodeEvent, Snapshot};
use crate::sync::{FaceId, FaceProfile};

/// Packets queued towards one face before the engine's answers are dropped.
pub const FACE_QUEUE: usize = 65_536;
/// Largest packet a face accepts from outside (tinySSB packets are ≤ 120 bytes on radio
/// links; WANT/CHNK over fast links stay far below this).
pub const MAX_PACKET: usize = 4096;

/// What a face task needs to talk to its node.
#[derive(Clone)]
pub struct Link {
    pub(crate) cmd: mpsc::UnboundedSender<Cmd>,
    pub(crate) inbound: mpsc::Sender<(FaceId, Vec<u8>)>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
}

/// A face has been closed by its node.
#[derive(Debug, thiserror::Error)]
#[error("the node has shut down")]
pub struct NodeGone;

impl Link {
    /// Registers a face; returns its id and the receiver of packets to send on it.
    pub async fn register(
        &self,
        kind: &'static str,
        peer: String,
        profile: FaceProfile,
    ) -> Result<(FaceId, mpsc::Receiver<Vec<u8>>), NodeGone> {
        let (tx, rx) = mpsc::channel(FACE_QUEUE);
        let (reply, answer) = oneshot::channel();
        self.cmd
            .send(Cmd::AddFace {
                kind,
                peer,
                profile,
                tx,
                reply,
            })
            .map_err(|_| NodeGone)?;
        let id = answer.await.map_err(|_| NodeGone)?;
        Ok((id, rx))
    }

    /// Hands a received packet to the engine; false once the node is gone.
    pub async fn deliver(&self, face: FaceId, pkt: Vec<u8>) -> bool {
        if pkt.len() > MAX_PACKET {
            tracing::debug!(?face, len = pkt.len(), "dropped oversize packet");
            return true;
        }
        self.inbound.send((face, pkt)).await.is_ok()
    }

    /// A snapshot of the node (progress, counters, links, GOset); `None` once it is gone.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(Cmd::Snapshot(tx)).ok()?;
        rx.await.ok()
    }

    /// Unregisters a face.
    pub fn unregister(&self, face: FaceId, reason: String) {
        let _ = self.cmd.send(Cmd::RemoveFace(face, reason));
    }

    /// Resolves once the node has shut down (its engine stopped taking commands).
    pub async fn closed(&self) {
        self.cmd.closed().await;
    }

    /// Reports a link that could not be set up.
    pub fn report(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }
}
