//! The rendezvous relay protocol, without I/O.
//!
//! A Moneysocket relay pairs exactly two WebSocket clients that present the
//! same rendezvous id, then pipes frames between them. The messages are
//! cleartext v0 JSON:
//!
//! 1. each client sends `REQUEST_RENDEZVOUS {rendezvous_id}`;
//! 2. the first to arrive gets `NOTIFY_RENDEZVOUS_NOT_READY` and waits
//!    (indefinitely; a server may add its own timeout);
//! 3. when the second arrives, the newcomer and then the waiting client get
//!    `NOTIFY_RENDEZVOUS`, each referencing its own request;
//! 4. from then on, frames that are not UTF-8 JSON are forwarded verbatim
//!    (ciphertext the relay cannot read); JSON frames that are valid
//!    messages are forwarded too, anything else is dropped;
//! 5. when one side disconnects, the other gets `NOTIFY_RENDEZVOUS_END`
//!    (reference null) and is closed.
//!
//! A third client presenting an id that is already paired is sent
//! `NOTIFY_RENDEZVOUS_NOT_READY` and closed. The deployed relay does the
//! same but also adds it to its table before the close lands, which can
//! trip an assertion later; here it is never added.
//!
//! [`Matchmaker`] is the server's pairing table as a pure state machine:
//! inputs are connection events, outputs are [`Action`]s for the driver (a
//! tokio server) to carry out. Notification UUIDs and timestamps are chosen
//! by the driver when it turns a [`Notice`] into a message.

use std::collections::HashMap;
use std::hash::Hash;

use crate::message::MessageClass;
use crate::seed::RendezvousId;
use crate::uuid::Uuid;
use crate::v0::{Message, Name};

/// The rendezvous messages, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RendezvousMessage {
    /// `REQUEST_RENDEZVOUS`.
    Request {
        /// The request's UUID, as written.
        request_uuid: String,
        /// The id to be paired on.
        rendezvous_id: RendezvousId,
    },
    /// A notification from the matchmaker.
    Notice(Notice),
}

/// Which rendezvous notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// `NOTIFY_RENDEZVOUS`: paired.
    Paired,
    /// `NOTIFY_RENDEZVOUS_NOT_READY`: waiting for the peer.
    NotReady,
    /// `NOTIFY_RENDEZVOUS_END`: the peer left.
    End,
}

impl NoticeKind {
    /// The message name.
    pub fn name(self) -> Name {
        match self {
            NoticeKind::Paired => Name::NotifyRendezvous,
            NoticeKind::NotReady => Name::NotifyRendezvousNotReady,
            NoticeKind::End => Name::NotifyRendezvousEnd,
        }
    }
}

/// A rendezvous notification, without its UUID and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Which notification.
    pub kind: NoticeKind,
    /// The id concerned.
    pub rendezvous_id: RendezvousId,
    /// The request answered (none for END).
    pub request_reference_uuid: Option<String>,
}

impl Notice {
    /// Builds the v0 message.
    pub fn to_message(&self, timestamp: f64, notification_uuid: Uuid) -> Message {
        Message::notification(
            self.kind.name().as_str(),
            timestamp,
            notification_uuid,
            self.request_reference_uuid.as_deref(),
        )
        .with_field(
            "rendezvous_id",
            crate::json::Json::str(self.rendezvous_id.to_string()),
        )
    }
}

impl RendezvousMessage {
    /// Reads a rendezvous message out of a v0 message (`None` for others).
    pub fn from_message(message: &Message) -> Option<Self> {
        let rendezvous_id = message.rendezvous_id()?;
        let reference = || message.request_reference_uuid().map(str::to_owned);
        let notice = |kind| {
            Some(RendezvousMessage::Notice(Notice {
                kind,
                rendezvous_id,
                request_reference_uuid: reference(),
            }))
        };
        match message.known_name()? {
            Name::RequestRendezvous => Some(RendezvousMessage::Request {
                request_uuid: message.request_uuid()?.to_owned(),
                rendezvous_id,
            }),
            Name::NotifyRendezvous => notice(NoticeKind::Paired),
            Name::NotifyRendezvousNotReady => notice(NoticeKind::NotReady),
            Name::NotifyRendezvousEnd => notice(NoticeKind::End),
            _ => None,
        }
    }
}

/// What the driver must do after feeding the matchmaker an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<C> {
    /// Send this notice (as cleartext JSON) to a connection.
    Send {
        /// The connection.
        to: C,
        /// The notice.
        notice: Notice,
    },
    /// Two connections are now paired; start piping.
    Paired {
        /// The connection that waited.
        waiting: C,
        /// The connection that just arrived.
        arrived: C,
    },
    /// Forward a frame verbatim.
    Forward {
        /// The peer.
        to: C,
        /// The frame.
        frame: Vec<u8>,
    },
    /// Close a connection (after sending what precedes this action).
    Close {
        /// The connection.
        conn: C,
    },
}

/// Where a connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState<C> {
    /// Not seen or not yet asked to rendezvous.
    Unknown,
    /// Waiting for a peer on this id.
    Waiting(RendezvousId),
    /// Paired with this connection.
    Paired(C),
}

#[derive(Debug, Clone)]
struct Entry<C> {
    rid: RendezvousId,
    peer: Option<C>,
}

/// The relay server's pairing table.
#[derive(Debug, Clone)]
pub struct Matchmaker<C> {
    conns: HashMap<C, Entry<C>>,
    waiting: HashMap<RendezvousId, (C, String)>,
}

impl<C> Default for Matchmaker<C> {
    fn default() -> Self {
        Matchmaker {
            conns: HashMap::new(),
            waiting: HashMap::new(),
        }
    }
}

impl<C: Copy + Eq + Hash> Matchmaker<C> {
    /// An empty table.
    pub fn new() -> Self {
        Matchmaker::default()
    }

    /// A client asked to rendezvous on `rid` with request `request_uuid`.
    pub fn request(&mut self, conn: C, rid: RendezvousId, request_uuid: &str) -> Vec<Action<C>> {
        let notice = |kind, reference: &str| Notice {
            kind,
            rendezvous_id: rid,
            request_reference_uuid: Some(reference.to_owned()),
        };
        if self.conns.contains_key(&conn) {
            // One rendezvous per connection; a second request is a protocol error.
            return self
                .disconnect(conn)
                .into_iter()
                .chain([Action::Close { conn }])
                .collect();
        }
        if let Some((waiting, waiting_request)) = self.waiting.remove(&rid) {
            self.conns.insert(
                conn,
                Entry {
                    rid,
                    peer: Some(waiting),
                },
            );
            if let Some(entry) = self.conns.get_mut(&waiting) {
                entry.peer = Some(conn);
            }
            return vec![
                Action::Send {
                    to: conn,
                    notice: notice(NoticeKind::Paired, request_uuid),
                },
                Action::Send {
                    to: waiting,
                    notice: notice(NoticeKind::Paired, &waiting_request),
                },
                Action::Paired {
                    waiting,
                    arrived: conn,
                },
            ];
        }
        let already_paired = self.conns.values().any(|e| e.rid == rid);
        let reply = Action::Send {
            to: conn,
            notice: notice(NoticeKind::NotReady, request_uuid),
        };
        if already_paired {
            return vec![reply, Action::Close { conn }];
        }
        self.conns.insert(conn, Entry { rid, peer: None });
        self.waiting.insert(rid, (conn, request_uuid.to_owned()));
        vec![reply]
    }

    /// A connection closed (or is being closed by the driver).
    pub fn disconnect(&mut self, conn: C) -> Vec<Action<C>> {
        let Some(entry) = self.conns.remove(&conn) else {
            return Vec::new();
        };
        match entry.peer {
            None => {
                self.waiting.remove(&entry.rid);
                Vec::new()
            }
            Some(peer) => {
                self.conns.remove(&peer);
                vec![
                    Action::Send {
                        to: peer,
                        notice: Notice {
                            kind: NoticeKind::End,
                            rendezvous_id: entry.rid,
                            request_reference_uuid: None,
                        },
                    },
                    Action::Close { conn: peer },
                ]
            }
        }
    }

    /// A frame arrived on a connection.
    pub fn frame(&mut self, conn: C, frame: &[u8]) -> Vec<Action<C>> {
        let parsed = match crate::json::Json::parse(frame) {
            Ok(crate::json::Json::Object(obj)) => Some(Message::from_object(obj)),
            Ok(_) => Some(Err(crate::error::V0MessageError::NotObject)),
            Err(_) => None,
        };
        let peer = self.conns.get(&conn).and_then(|e| e.peer);
        match (parsed, peer) {
            // Binary (not JSON): ciphertext for the peer.
            (None, Some(peer)) => vec![Action::Forward {
                to: peer,
                frame: frame.to_vec(),
            }],
            (None, None) | (Some(Err(_)), _) => Vec::new(),
            (Some(Ok(message)), peer) => {
                let request = (message.class() == MessageClass::Request)
                    .then(|| RendezvousMessage::from_message(&message))
                    .flatten();
                match (request, peer) {
                    (
                        Some(RendezvousMessage::Request {
                            request_uuid,
                            rendezvous_id,
                        }),
                        _,
                    ) => self.request(conn, rendezvous_id, &request_uuid),
                    (_, Some(peer)) => vec![Action::Forward {
                        to: peer,
                        frame: frame.to_vec(),
                    }],
                    (_, None) => Vec::new(),
                }
            }
        }
    }

    /// Where `conn` stands.
    pub fn state(&self, conn: C) -> ConnState<C> {
        match self.conns.get(&conn) {
            None => ConnState::Unknown,
            Some(Entry { peer: Some(p), .. }) => ConnState::Paired(*p),
            Some(Entry { rid, peer: None }) => ConnState::Waiting(*rid),
        }
    }

    /// The peer of a paired connection.
    pub fn peer(&self, conn: C) -> Option<C> {
        self.conns.get(&conn).and_then(|e| e.peer)
    }

    /// The two connections paired on `rid`, if it is paired (in no
    /// particular order). A driver uses this to judge a pair before a
    /// newcomer on the same id is refused.
    pub fn pair_on(&self, rid: &RendezvousId) -> Option<(C, C)> {
        self.conns
            .iter()
            .find_map(|(conn, e)| (e.rid == *rid).then_some((*conn, e.peer?)))
    }

    /// Number of connections waiting for a peer.
    pub fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// Number of paired connections (twice the number of pairs).
    pub fn paired_count(&self) -> usize {
        self.conns.values().filter(|e| e.peer.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rid(b: u8) -> RendezvousId {
        RendezvousId::from_bytes([b; 32])
    }

    fn sent(actions: &[Action<u32>]) -> Vec<(u32, NoticeKind, Option<String>)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { to, notice } => {
                    Some((*to, notice.kind, notice.request_reference_uuid.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pair_forward_and_end() {
        let mut m = Matchmaker::new();
        let a = m.request(1, rid(7), "req-a");
        assert_eq!(
            sent(&a),
            vec![(1, NoticeKind::NotReady, Some("req-a".into()))]
        );
        assert_eq!(m.state(1), ConnState::Waiting(rid(7)));
        assert_eq!(m.waiting_count(), 1);

        let b = m.request(2, rid(7), "req-b");
        assert_eq!(
            sent(&b),
            vec![
                (2, NoticeKind::Paired, Some("req-b".into())),
                (1, NoticeKind::Paired, Some("req-a".into())),
            ]
        );
        assert!(b.contains(&Action::Paired {
            waiting: 1,
            arrived: 2
        }));
        assert_eq!(m.peer(1), Some(2));
        assert_eq!(m.paired_count(), 2);
        assert_eq!(m.waiting_count(), 0);
        assert!(matches!(m.pair_on(&rid(7)), Some((1, 2) | (2, 1))));
        assert_eq!(m.pair_on(&rid(8)), None);

        assert_eq!(
            m.frame(1, &[0xff, 0x00]),
            vec![Action::Forward {
                to: 2,
                frame: vec![0xff, 0x00]
            }]
        );

        let end = m.disconnect(2);
        assert_eq!(sent(&end), vec![(1, NoticeKind::End, None)]);
        assert!(end.contains(&Action::Close { conn: 1 }));
        assert_eq!(m.state(1), ConnState::Unknown);
        assert_eq!(m.paired_count(), 0);
        assert_eq!(m.pair_on(&rid(7)), None);
    }

    #[test]
    fn third_arrival_is_refused() {
        let mut m = Matchmaker::new();
        m.request(1, rid(1), "a");
        m.request(2, rid(1), "b");
        let c = m.request(3, rid(1), "c");
        assert_eq!(sent(&c), vec![(3, NoticeKind::NotReady, Some("c".into()))]);
        assert_eq!(c.last(), Some(&Action::Close { conn: 3 }));
        assert_eq!(m.state(3), ConnState::Unknown);
        // The pair is unaffected, and the id is free again once it ends.
        assert_eq!(m.peer(1), Some(2));
        m.disconnect(1);
        let d = m.request(4, rid(1), "d");
        assert_eq!(sent(&d), vec![(4, NoticeKind::NotReady, Some("d".into()))]);
    }

    #[test]
    fn waiting_client_leaving_frees_the_id() {
        let mut m = Matchmaker::new();
        m.request(1, rid(1), "a");
        assert!(m.disconnect(1).is_empty());
        assert_eq!(m.waiting_count(), 0);
        assert!(m.disconnect(1).is_empty());
        let again = m.request(2, rid(1), "b");
        assert_eq!(sent(&again)[0].1, NoticeKind::NotReady);
    }

    #[test]
    fn frames_drive_the_table() {
        let mut m = Matchmaker::new();
        let seed = crate::SharedSeed::from_bytes([5; 16]);
        let id = seed.v0_rendezvous_id();
        let req =
            |n: u8| Message::request_rendezvous(1.0, Uuid::new_v4([n; 16]), &id).to_json_bytes();
        // Binary before pairing is dropped.
        assert!(m.frame(1, &[1, 2, 3]).is_empty());
        assert_eq!(sent(&m.frame(1, &req(1)))[0].1, NoticeKind::NotReady);
        let paired = m.frame(2, &req(2));
        assert_eq!(sent(&paired).len(), 2);
        // JSON messages are forwarded once paired; junk JSON is dropped.
        let ping = Message::request("REQUEST_PING", 1.0, Uuid::new_v4([3; 16])).to_json_bytes();
        assert_eq!(
            m.frame(2, &ping),
            vec![Action::Forward { to: 1, frame: ping }]
        );
        assert!(m.frame(2, b"{\"x\": 1}").is_empty());
        // A second request on a paired connection closes both sides.
        let again = m.frame(1, &req(1));
        assert!(again.contains(&Action::Close { conn: 2 }));
        assert!(again.contains(&Action::Close { conn: 1 }));
    }

    #[test]
    fn notices_become_messages_and_back() {
        let notice = Notice {
            kind: NoticeKind::Paired,
            rendezvous_id: rid(9),
            request_reference_uuid: Some("a5b32936-3143-4856-bdea-7b3dda7aa5e8".into()),
        };
        let msg = notice.to_message(5.0, Uuid::new_v4([1; 16]));
        assert!(msg.must_be_cleartext());
        let back = Message::from_json_bytes(&msg.to_json_bytes()).unwrap();
        assert_eq!(
            RendezvousMessage::from_message(&back),
            Some(RendezvousMessage::Notice(notice))
        );
    }
}
