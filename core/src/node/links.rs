//! The one port every link attaches through, and the node's registry of attached links.
//!
//! A face module (WebSocket, UDP, relay, BLE, a phone's native link, the dongle emulator's
//! radio) gets a [`Link`] from the node and calls [`Link::register`] with its kind, a peer
//! label and its engine profile; it gets back its face id and the receiver of packets to
//! send, hands what it receives to [`Link::deliver`], reports what it is doing with
//! [`Link::progress`] / [`Link::health`], and calls [`Link::unregister`] when it ends. The
//! node announces registration and unregistration itself ([`LinkStatus::Up`] / `Down`), so
//! those are never a face's claim. Faces depend on this module; it names none of them.

use std::collections::BTreeMap;

use tokio::sync::{broadcast, mpsc, oneshot};

use super::events::{LinkDetail, LinkStatus, NodeEvent};
use super::runtime::Cmd;
use super::Snapshot;
use crate::sync::{FaceId, FaceProfile};

/// Packets queued towards one face before the engine's answers are dropped.
pub const FACE_QUEUE: usize = 65_536;
/// Largest packet a face accepts from outside (tinySSB packets are ≤ 120 bytes on radio
/// links; WANT/CHNK over fast links stay far below this).
pub const MAX_PACKET: usize = 4096;

/// What a face task needs to talk to its node: the registration port.
#[derive(Clone)]
pub struct Link {
    pub(super) cmd: mpsc::UnboundedSender<Cmd>,
    pub(super) inbound: mpsc::Sender<(FaceId, Vec<u8>)>,
    pub(super) events: broadcast::Sender<NodeEvent>,
}

/// A face has been closed by its node.
#[derive(Debug, thiserror::Error)]
#[error("the node has shut down")]
pub struct NodeGone;

impl Link {
    /// Registers a face of `kind` to `peer`; returns its id and the receiver of packets to
    /// send on it. Subscribers see [`LinkStatus::Up`].
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

    /// Unregisters a face; subscribers see [`LinkStatus::Down`] with `reason` (once, and
    /// only for a face that was registered).
    pub fn unregister(&self, face: FaceId, reason: String) {
        let _ = self.cmd.send(Cmd::RemoveFace(face, reason));
    }

    /// Resolves once the node has shut down (its engine stopped taking commands).
    pub async fn closed(&self) {
        self.cmd.closed().await;
    }

    /// Reports what a link of `kind` to `peer` is doing ([`LinkStatus::Progress`]).
    pub fn progress(
        &self,
        kind: &'static str,
        peer: String,
        face: Option<FaceId>,
        detail: LinkDetail,
    ) {
        self.send(kind, peer, face, LinkStatus::Progress(detail));
    }

    /// Reports figures of a link of `kind` to `peer` ([`LinkStatus::Health`]).
    pub fn health(
        &self,
        kind: &'static str,
        peer: String,
        face: Option<FaceId>,
        detail: LinkDetail,
    ) {
        self.send(kind, peer, face, LinkStatus::Health(detail));
    }

    /// Reports go through the engine task, like registrations, so that subscribers see a
    /// link's events in the order the face made them (its `Down` before its "retrying").
    fn send(&self, kind: &'static str, peer: String, face: Option<FaceId>, status: LinkStatus) {
        let report = Cmd::Report(NodeEvent::Link {
            face,
            kind,
            peer,
            status,
        });
        // Once the engine has stopped, tell whoever still listens directly.
        if let Err(mpsc::error::SendError(Cmd::Report(e))) = self.cmd.send(report) {
            let _ = self.events.send(e);
        }
    }
}

/// One attached face, as the registry keeps it.
struct Attached {
    tx: mpsc::Sender<Vec<u8>>,
    kind: &'static str,
    peer: String,
}

/// The faces attached to a node (owned by the engine task).
pub(super) struct Registry {
    faces: BTreeMap<FaceId, Attached>,
    next: u32,
    events: broadcast::Sender<NodeEvent>,
}

impl Registry {
    pub(super) fn new(events: broadcast::Sender<NodeEvent>) -> Registry {
        Registry {
            faces: BTreeMap::new(),
            next: 1,
            events,
        }
    }

    /// Attaches a face and announces it.
    pub(super) fn add(
        &mut self,
        kind: &'static str,
        peer: String,
        tx: mpsc::Sender<Vec<u8>>,
    ) -> FaceId {
        let face = FaceId(self.next);
        self.next = self.next.saturating_add(1);
        self.faces.insert(
            face,
            Attached {
                tx,
                kind,
                peer: peer.clone(),
            },
        );
        let _ = self.events.send(NodeEvent::Link {
            face: Some(face),
            kind,
            peer,
            status: LinkStatus::Up,
        });
        face
    }

    /// Detaches a face and announces it; false if it was not attached.
    pub(super) fn remove(&mut self, face: FaceId, reason: String) -> bool {
        let Some(a) = self.faces.remove(&face) else {
            return false;
        };
        let _ = self.events.send(NodeEvent::Link {
            face: Some(face),
            kind: a.kind,
            peer: a.peer,
            status: LinkStatus::Down { reason },
        });
        true
    }

    /// Queues a packet for a face (dropped if its queue is full or it is gone).
    pub(super) fn send(&self, face: FaceId, pkt: Vec<u8>) {
        if let Some(a) = self.faces.get(&face) {
            if a.tx.try_send(pkt).is_err() {
                tracing::debug!(?face, "face queue full; packet dropped");
            }
        }
    }

    /// The attached faces: (face, kind, peer).
    pub(super) fn list(&self) -> Vec<(FaceId, &'static str, String)> {
        self.faces
            .iter()
            .map(|(f, a)| (*f, a.kind, a.peer.clone()))
            .collect()
    }

    /// Detaches every face without announcing (the node is stopping).
    pub(super) fn clear(&mut self) {
        self.faces.clear();
    }
}
