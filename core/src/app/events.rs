//! One event stream for an app: what the node, the chat service, the dongle link and the
//! front door itself report, in one type. A run ([`crate::app::Watch::run`]) tells the same
//! events: the node's are mapped here, once.

use tokio::sync::broadcast;

use crate::ble::status::DongleEvent;
use crate::chat::ChatEvent;
use crate::face::relay::{RelayReport, RelayStatus};
use crate::identity::FeedId;
use crate::node::{LinkStatus, NodeEvent};
use crate::sync::Event;

/// What an app hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    /// Something changed in the chats (read it back through `App::chats`).
    Chat(ChatEvent),
    /// A link came up.
    LinkUp {
        /// Its id (close it with `App::close_link`).
        face: u32,
        /// `ws`, `udp`, `relay`, `ble`, …
        kind: String,
        /// The peer or group address (a peer's words: show it made safe).
        peer: String,
    },
    /// A link went down.
    LinkDown {
        /// Its id.
        face: u32,
        /// Why.
        reason: String,
    },
    /// A relay link's progress: connecting, waiting, paired, retrying.
    Relay {
        /// The relay's URL.
        url: String,
        /// What it is doing.
        status: RelayStatus,
    },
    /// The paired dongle's link.
    Dongle(DongleEvent),
    /// An entry arrived (or was written): a feed now holds `seq`.
    Progress {
        /// The feed.
        fid: FeedId,
        /// Its new last entry.
        seq: u32,
    },
    /// The own feed was recovered from a peer: posting is allowed now.
    KeyRecovered {
        /// Entries of the own feed held.
        held: u32,
    },
    /// Something the person should know: a feed rolled back at open.
    Warning(String),
    /// A feed is replicated from now on.
    FeedAdded {
        /// The feed.
        fid: FeedId,
    },
    /// The feed set is full (100 feeds): this feed is not replicated.
    GosetFull {
        /// The feed refused.
        refused: FeedId,
    },
    /// A LoRa link spent its duty budget and is silent until it recovers.
    AirtimeSpent {
        /// The link.
        face: u32,
        /// When it sends again (engine clock, milliseconds).
        resumes_at_ms: u64,
    },
    /// A LoRa link sends again.
    AirtimeResumed {
        /// The link.
        face: u32,
    },
    /// Two signed entries of the own feed at one sequence number: another device writes this
    /// key. The feed cannot be merged; the other branch is never stored (ADR 0020).
    ForkDetected {
        /// The feed (the own).
        fid: FeedId,
        /// The first sequence number with two entries.
        seq: u32,
        /// The link the other entry came through.
        face: u32,
    },
    /// A peer says it holds more of the own feed than this device ever signed (only a claim:
    /// another device may write this key, or its history is still to be recovered).
    OwnFeedElsewhere {
        /// What the peer claims.
        held_by_peer: u32,
        /// The most this device signed.
        signed_here: u32,
    },
}

impl AppEvent {
    /// The app event for a node event, if an app cares (for drivers of a node the door does
    /// not own, such as the dongle emulator's).
    pub fn from_node(e: NodeEvent) -> Option<AppEvent> {
        from_node(e)
    }
}

/// The app event for a node event, if an app cares: the one mapping.
pub(crate) fn from_node(e: NodeEvent) -> Option<AppEvent> {
    Some(match e {
        NodeEvent::Link {
            face: Some(face),
            kind,
            peer,
            status: LinkStatus::Up,
        } => AppEvent::LinkUp {
            face: face.0,
            kind: kind.to_owned(),
            peer,
        },
        NodeEvent::Link {
            face: Some(face),
            status: LinkStatus::Down { reason },
            ..
        } => AppEvent::LinkDown {
            face: face.0,
            reason,
        },
        NodeEvent::Link {
            status: LinkStatus::Progress(d) | LinkStatus::Health(d),
            ..
        } => {
            if let Some(r) = d.get::<RelayReport>() {
                AppEvent::Relay {
                    url: r.url.clone(),
                    status: r.status.clone(),
                }
            } else if let Some(d) = d.get::<DongleEvent>() {
                AppEvent::Dongle(d.clone())
            } else {
                return None;
            }
        }
        // Up and Down always name their face (the registry's announcements).
        NodeEvent::Link { face: None, .. } => return None,
        NodeEvent::Sync(Event::EntryAdded { fid, seq, .. }) => AppEvent::Progress { fid, seq },
        NodeEvent::Sync(Event::FeedAdded { fid }) => AppEvent::FeedAdded { fid },
        NodeEvent::Sync(Event::GosetFull { refused }) => AppEvent::GosetFull { refused },
        NodeEvent::Sync(Event::AirtimeSpent { face, resumes_at }) => AppEvent::AirtimeSpent {
            face: face.0,
            resumes_at_ms: resumes_at,
        },
        NodeEvent::Sync(Event::AirtimeResumed { face }) => {
            AppEvent::AirtimeResumed { face: face.0 }
        }
        NodeEvent::Sync(Event::ForkDetected { fid, seq, face, .. }) => AppEvent::ForkDetected {
            fid,
            seq,
            face: face.0,
        },
        NodeEvent::Sync(Event::OwnFeedElsewhere {
            held_by_peer,
            signed_here,
            ..
        }) => AppEvent::OwnFeedElsewhere {
            held_by_peer,
            signed_here,
        },
        NodeEvent::Sync(_) => return None,
    })
}

/// Forwards the node's and the chat service's events into `out`, on the node's runtime.
pub(crate) fn forward(
    rt: &tokio::runtime::Handle,
    mut node: broadcast::Receiver<NodeEvent>,
    mut chats: broadcast::Receiver<ChatEvent>,
    out: broadcast::Sender<AppEvent>,
) {
    let o = out.clone();
    rt.spawn(async move {
        loop {
            match node.recv().await {
                Ok(e) => {
                    if let Some(a) = from_node(e) {
                        let _ = o.send(a);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    rt.spawn(async move {
        loop {
            match chats.recv().await {
                Ok(e) => {
                    let _ = out.send(AppEvent::Chat(e));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = out.send(AppEvent::Chat(ChatEvent::Reload));
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::FaceId;

    #[test]
    fn what_runs_print_is_carried_by_the_one_event() {
        let fid = FeedId([7; 32]);
        assert_eq!(
            from_node(NodeEvent::Sync(Event::FeedAdded { fid })),
            Some(AppEvent::FeedAdded { fid })
        );
        assert_eq!(
            from_node(NodeEvent::Sync(Event::GosetFull { refused: fid })),
            Some(AppEvent::GosetFull { refused: fid })
        );
        assert_eq!(
            from_node(NodeEvent::Sync(Event::AirtimeSpent {
                face: FaceId(4),
                resumes_at: 9_000,
            })),
            Some(AppEvent::AirtimeSpent {
                face: 4,
                resumes_at_ms: 9_000
            })
        );
        assert_eq!(
            from_node(NodeEvent::Sync(Event::AirtimeResumed { face: FaceId(4) })),
            Some(AppEvent::AirtimeResumed { face: 4 })
        );
        assert_eq!(
            AppEvent::from_node(NodeEvent::Link {
                face: Some(FaceId(2)),
                kind: "ws",
                peer: "127.0.0.1:1".into(),
                status: LinkStatus::Up,
            }),
            Some(AppEvent::LinkUp {
                face: 2,
                kind: "ws".into(),
                peer: "127.0.0.1:1".into()
            })
        );
    }

    #[test]
    fn forks_and_foreign_claims_reach_the_app() {
        let fid = FeedId([1; 32]);
        let fork = Event::ForkDetected {
            fid,
            seq: 3,
            ours: crate::Mid([1; 20]),
            theirs: crate::Mid([2; 20]),
            face: FaceId(1),
            ours_entry: Vec::new(),
            theirs_entry: Vec::new(),
        };
        assert_eq!(
            from_node(NodeEvent::Sync(fork)),
            Some(AppEvent::ForkDetected {
                fid,
                seq: 3,
                face: 1
            })
        );
        let claim = Event::OwnFeedElsewhere {
            face: FaceId(1),
            fid,
            held_by_peer: 9,
            signed_here: 4,
        };
        assert_eq!(
            from_node(NodeEvent::Sync(claim)),
            Some(AppEvent::OwnFeedElsewhere {
                held_by_peer: 9,
                signed_here: 4
            })
        );
    }
}
