//! One visit to a rendezvous relay, sans-IO: the v0 rendezvous as a client, then the tunnel.
//!
//! The driver (the relay face) opens a WebSocket, sends [`RelaySession::request_frame`] and
//! feeds every frame it receives to [`RelaySession::on_frame`], which says what happened:
//!
//! 1. `NOTIFY_RENDEZVOUS_NOT_READY`: the relay holds us until the peer arrives
//!    ([`SessionEvent::Waiting`]);
//! 2. `NOTIFY_RENDEZVOUS`: paired; our tunnel HELLO must go out ([`SessionEvent::Send`]);
//! 3. the peer's HELLO: the tunnel is open ([`SessionEvent::Open`]); from now on DATA frames
//!    carry packets ([`SessionEvent::Packet`]) and [`RelaySession::seal`] wraps ours;
//! 4. `NOTIFY_RENDEZVOUS_END` (the peer left) ends the session ([`SessionEvent::Ended`]); the
//!    relay closes the socket after it.
//!
//! Relay notices are cleartext JSON; tunnel frames start with `0xFF`, so the two never mix.
//! A tunnel frame that arrives before `NOTIFY_RENDEZVOUS` is taken as proof of pairing (a
//! relay may deliver the peer's HELLO first). Other JSON (a v0 message the relay forwarded
//! from a peer that is not Lichen) is ignored.

use moneysocket::uuid::Uuid;
use moneysocket::v0::{Message, Name};
use moneysocket::{RendezvousId, SharedSeed};

use super::tunnel::{Received, Tunnel, TunnelError, TunnelRole, MAGIC, RANDOM_LEN};

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The request is out; no answer yet.
    Requested,
    /// The relay answered NOT_READY: waiting for the peer.
    Waiting,
    /// Paired; our HELLO is out, the peer's has not arrived.
    Paired,
    /// Both HELLOs exchanged: packets flow.
    Open,
    /// The peer left, or the relay ended the rendezvous.
    Ended,
}

/// What a frame from the relay amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The relay holds us until the peer arrives.
    Waiting,
    /// The relay paired us.
    Paired,
    /// Send this frame to the relay.
    Send(Vec<u8>),
    /// The tunnel is open.
    Open,
    /// A packet from the peer.
    Packet(Vec<u8>),
    /// The relay said the peer left.
    Ended,
}

/// Why a session cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The tunnel refused a frame or a packet.
    #[error(transparent)]
    Tunnel(#[from] TunnelError),
    /// A rendezvous notice about another id.
    #[error("the relay answered for rendezvous id {0}, not ours")]
    OtherId(String),
    /// Something that is neither a tunnel frame nor a JSON message.
    #[error("unexpected frame from the relay ({0} bytes, neither JSON nor a tunnel frame)")]
    Garbage(usize),
}

/// One session with a relay.
#[derive(Debug)]
pub struct RelaySession {
    phase: Phase,
    rid: RendezvousId,
    request: Vec<u8>,
    tunnel: Tunnel,
}

impl RelaySession {
    /// A session for `rid`; `random` seeds this session's tunnel keys (fresh each time),
    /// `request_uuid` and `timestamp` go into the REQUEST_RENDEZVOUS.
    pub fn new(
        seed: &SharedSeed,
        rid: RendezvousId,
        role: TunnelRole,
        random: [u8; RANDOM_LEN],
        request_uuid: Uuid,
        timestamp: f64,
    ) -> RelaySession {
        let request = Message::request_rendezvous(timestamp, request_uuid, &rid).to_json_bytes();
        RelaySession {
            phase: Phase::Requested,
            rid,
            request,
            tunnel: Tunnel::new(seed, role, random),
        }
    }

    /// The REQUEST_RENDEZVOUS to send first (cleartext JSON, as a binary frame).
    pub fn request_frame(&self) -> &[u8] {
        &self.request
    }

    /// Where the session stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Takes one frame from the relay.
    pub fn on_frame(&mut self, frame: &[u8]) -> Result<Vec<SessionEvent>, SessionError> {
        if frame.first() == Some(&MAGIC) {
            return self.on_tunnel(frame);
        }
        let Ok(message) = Message::from_json_bytes(frame) else {
            if std::str::from_utf8(frame).is_ok() {
                // Text that is not a valid v0 message: not for us.
                return Ok(Vec::new());
            }
            return Err(SessionError::Garbage(frame.len()));
        };
        if let Some(rid) = message.rendezvous_id() {
            if rid != self.rid {
                return Err(SessionError::OtherId(rid.to_string()));
            }
        }
        match message.known_name() {
            Some(Name::NotifyRendezvousNotReady) if self.phase == Phase::Requested => {
                self.phase = Phase::Waiting;
                Ok(vec![SessionEvent::Waiting])
            }
            Some(Name::NotifyRendezvous)
                if matches!(self.phase, Phase::Requested | Phase::Waiting) =>
            {
                Ok(self.paired())
            }
            Some(Name::NotifyRendezvousEnd) => {
                self.phase = Phase::Ended;
                Ok(vec![SessionEvent::Ended])
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Seals a packet for the peer (only once [`Phase::Open`]).
    pub fn seal(&mut self, packet: &[u8]) -> Result<Vec<u8>, TunnelError> {
        self.tunnel.seal(packet)
    }

    fn paired(&mut self) -> Vec<SessionEvent> {
        self.phase = Phase::Paired;
        vec![
            SessionEvent::Paired,
            SessionEvent::Send(self.tunnel.hello()),
        ]
    }

    fn on_tunnel(&mut self, frame: &[u8]) -> Result<Vec<SessionEvent>, SessionError> {
        let mut events = Vec::new();
        match self.phase {
            Phase::Requested | Phase::Waiting => events = self.paired(),
            Phase::Ended => return Ok(events),
            Phase::Paired | Phase::Open => {}
        }
        match self.tunnel.receive(frame)? {
            Received::Opened => {
                self.phase = Phase::Open;
                events.push(SessionEvent::Open);
            }
            Received::Packet(p) => events.push(SessionEvent::Packet(p)),
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moneysocket::rendezvous::{Notice, NoticeKind};

    fn notice(kind: NoticeKind, rid: RendezvousId) -> Vec<u8> {
        Notice {
            kind,
            rendezvous_id: rid,
            request_reference_uuid: None,
        }
        .to_message(1.0, Uuid::new_v4([3; 16]))
        .to_json_bytes()
    }

    /// A session of `role` on `seed`'s rendezvous, with fixed randomness per role.
    fn session(seed: &SharedSeed, role: TunnelRole) -> RelaySession {
        let n = if role == TunnelRole::Inviter { 1 } else { 2 };
        RelaySession::new(
            seed,
            seed.v1_rendezvous_id(),
            role,
            [n; 32],
            Uuid::new_v4([n; 16]),
            1.0,
        )
    }

    #[test]
    fn wait_pair_open_and_end() {
        let seed = SharedSeed::from_bytes([4; 16]);
        let rid = seed.v1_rendezvous_id();
        let (mut a, mut b) = (
            session(&seed, TunnelRole::Inviter),
            session(&seed, TunnelRole::Acceptor),
        );
        let req = Message::from_json_bytes(a.request_frame()).unwrap();
        assert_eq!(req.rendezvous_id(), Some(rid));
        assert_eq!(
            a.on_frame(&notice(NoticeKind::NotReady, rid)).unwrap(),
            vec![SessionEvent::Waiting]
        );
        let ev = a.on_frame(&notice(NoticeKind::Paired, rid)).unwrap();
        let SessionEvent::Send(hello_a) = ev[1].clone() else {
            panic!("{ev:?}")
        };
        // B hears A's HELLO before its own NOTIFY_RENDEZVOUS: that counts as paired.
        let ev = b.on_frame(&hello_a).unwrap();
        assert_eq!(ev[0], SessionEvent::Paired);
        assert_eq!(ev[2], SessionEvent::Open);
        let SessionEvent::Send(hello_b) = ev[1].clone() else {
            panic!("{ev:?}")
        };
        assert_eq!(a.on_frame(&hello_b).unwrap(), vec![SessionEvent::Open]);
        let sealed = a.seal(b"packet").unwrap();
        assert_eq!(
            b.on_frame(&sealed).unwrap(),
            vec![SessionEvent::Packet(b"packet".to_vec())]
        );
        assert_eq!(
            b.on_frame(&notice(NoticeKind::End, rid)).unwrap(),
            vec![SessionEvent::Ended]
        );
        assert_eq!(b.phase(), Phase::Ended);
    }

    /// The deployed relay (py-moneysocket relayd) as captured on the wire.
    const DEPLOYED: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/py-moneysocket-relay.json"
    ));

    /// The JSON frames `client` saw in `dir`, in order.
    fn deployed_frames(client: &str, dir: &str) -> Vec<Vec<u8>> {
        let v: serde_json::Value = serde_json::from_str(DEPLOYED).unwrap();
        v["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["client"] == client && e["dir"] == dir)
            .filter_map(|e| e["utf8"].as_str().map(|s| s.as_bytes().to_vec()))
            .collect()
    }

    fn keys(frame: &[u8]) -> Vec<String> {
        let json = moneysocket::json::Json::parse(frame).unwrap();
        json.as_object()
            .unwrap()
            .keys()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn deployed_relay_notices_drive_the_session() {
        let v: serde_json::Value = serde_json::from_str(DEPLOYED).unwrap();
        let seed: [u8; 16] = hex::decode(v["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let seed = SharedSeed::from_bytes(seed);
        let rid = seed.v1_rendezvous_id();
        assert_eq!(rid.to_string(), v["rendezvous_id"].as_str().unwrap());
        let (mut a, mut b) = (
            session(&seed, TunnelRole::Inviter),
            session(&seed, TunnelRole::Acceptor),
        );
        // Our request has the deployed client's fields in the deployed client's order.
        let sent = deployed_frames("A", "sent");
        assert_eq!(keys(a.request_frame()), keys(&sent[0]));

        // A arrived first: NOT_READY, then NOTIFY_RENDEZVOUS.
        let to_a = deployed_frames("A", "received");
        assert_eq!(to_a.len(), 2);
        assert_eq!(a.on_frame(&to_a[0]).unwrap(), vec![SessionEvent::Waiting]);
        let ev = a.on_frame(&to_a[1]).unwrap();
        assert_eq!(ev[0], SessionEvent::Paired);
        assert!(matches!(&ev[1], SessionEvent::Send(h) if h[0] == MAGIC));
        assert_eq!(a.phase(), Phase::Paired);

        // B: NOTIFY_RENDEZVOUS, a v0 message the relay re-serialised (not ours: ignored),
        // then NOTIFY_RENDEZVOUS_END with a null reference.
        let to_b = deployed_frames("B", "received");
        assert_eq!(to_b.len(), 3);
        assert_eq!(b.on_frame(&to_b[0]).unwrap()[0], SessionEvent::Paired);
        assert_eq!(b.on_frame(&to_b[1]).unwrap(), vec![]);
        assert_eq!(b.on_frame(&to_b[2]).unwrap(), vec![SessionEvent::Ended]);
        assert_eq!(b.phase(), Phase::Ended);
    }

    #[test]
    fn foreign_frames() {
        let seed = SharedSeed::from_bytes([4; 16]);
        let mut a = session(&seed, TunnelRole::Inviter);
        let other = SharedSeed::from_bytes([5; 16]).v1_rendezvous_id();
        assert!(matches!(
            a.on_frame(&notice(NoticeKind::NotReady, other)),
            Err(SessionError::OtherId(_))
        ));
        assert_eq!(a.on_frame(b"{\"x\": 1}").unwrap(), vec![]);
        assert_eq!(a.on_frame(&[0x80, 0x01]), Err(SessionError::Garbage(2)));
        assert!(matches!(
            a.on_frame(&[0xff, 9, 1]),
            Err(SessionError::Tunnel(TunnelError::UnsupportedVersion(9)))
        ));
    }
}
