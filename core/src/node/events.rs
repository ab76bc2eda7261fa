//! What a node tells its subscribers: the engine's events and one generic link-status event.
//!
//! Every link, whatever carries it (WebSocket, UDP, a relay, a dongle, a phone), reports
//! through [`NodeEvent::Link`]: its face id (once it has one), its kind as data (`"ws"`,
//! `"relay"`, `"ble"` …), its peer label and a [`LinkStatus`]. `Up` and `Down` come from the
//! node's registry when a face is registered or unregistered, so they are true by
//! construction; progress and health come from the face's own module, as a [`LinkDetail`]
//! that carries the face's own typed report without the node knowing its type.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

use crate::sync::{Event, FaceId};

/// What a node tells its subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// Something the engine did.
    Sync(Event),
    /// A link changed: came up, went down, made progress, reported health.
    Link {
        /// Its face id; `None` while it has none (a relay still dialing, a dongle not found).
        face: Option<FaceId>,
        /// What carries it: `ws`, `udp`, `relay`, `ble`, …
        kind: &'static str,
        /// The peer or group address, as the link names it (a peer's words: show it made
        /// safe).
        peer: String,
        /// What happened.
        status: LinkStatus,
    },
}

impl NodeEvent {
    /// The face module's own report carried by a progress or health event, if it is a `T`.
    pub fn detail<T: Any>(&self) -> Option<&T> {
        match self {
            NodeEvent::Link {
                status: LinkStatus::Progress(d) | LinkStatus::Health(d),
                ..
            } => d.get::<T>(),
            _ => None,
        }
    }

    /// The face of a link that came up (`Some((face, kind, peer))`).
    pub fn link_up(&self) -> Option<(FaceId, &'static str, &str)> {
        match self {
            NodeEvent::Link {
                face: Some(face),
                kind,
                peer,
                status: LinkStatus::Up,
            } => Some((*face, kind, peer)),
            _ => None,
        }
    }

    /// The face of a link that went down and why (`Some((face, reason))`).
    pub fn link_down(&self) -> Option<(FaceId, &str)> {
        match self {
            NodeEvent::Link {
                face: Some(face),
                status: LinkStatus::Down { reason },
                ..
            } => Some((*face, reason)),
            _ => None,
        }
    }
}

/// What a link reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// The face was registered: packets flow.
    Up,
    /// The face was unregistered.
    Down {
        /// Why.
        reason: String,
    },
    /// What the link is doing (dialing, waiting for a peer, retrying, lost …).
    Progress(LinkDetail),
    /// Figures about a link that is up (signal, packets, errors).
    Health(LinkDetail),
}

/// A face module's own report, carried by the node without knowing its type: read it back
/// with [`LinkDetail::get`] (or [`NodeEvent::detail`]) as the type the face module
/// documents; [`LinkDetail::text`] is a description for anyone else.
#[derive(Clone)]
pub struct LinkDetail {
    text: String,
    type_id: TypeId,
    data: Arc<dyn Any + Send + Sync>,
}

impl LinkDetail {
    /// Wraps a face's report.
    pub fn new<T: Any + Send + Sync + fmt::Debug>(data: T) -> LinkDetail {
        LinkDetail {
            text: format!("{data:?}"),
            type_id: TypeId::of::<T>(),
            data: Arc::new(data),
        }
    }

    /// The report, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.data.downcast_ref::<T>()
    }

    /// A description of the report.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for LinkDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for LinkDetail {
    /// Same type and same description (reports are plain data, so this is their equality).
    fn eq(&self, other: &LinkDetail) -> bool {
        self.type_id == other.type_id && self.text == other.text
    }
}

impl Eq for LinkDetail {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Dialing(u32);

    #[test]
    fn a_detail_comes_back_as_its_own_type_only() {
        let e = NodeEvent::Link {
            face: None,
            kind: "test",
            peer: "p".into(),
            status: LinkStatus::Progress(LinkDetail::new(Dialing(3))),
        };
        assert_eq!(e.detail::<Dialing>(), Some(&Dialing(3)));
        assert_eq!(e.detail::<String>(), None);
        assert_eq!(e.link_up(), None);
        let same = NodeEvent::Link {
            face: None,
            kind: "test",
            peer: "p".into(),
            status: LinkStatus::Progress(LinkDetail::new(Dialing(3))),
        };
        assert_eq!(e, same);
        let other = NodeEvent::Link {
            face: None,
            kind: "test",
            peer: "p".into(),
            status: LinkStatus::Progress(LinkDetail::new(Dialing(4))),
        };
        assert_ne!(e, other);
    }
}
