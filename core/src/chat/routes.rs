//! Which link each message first arrived on (or, for my own, first left by), and when.
//!
//! This is local knowledge: the feeds do not say it, so a rebuild of the index keeps it. It
//! is kept in `routes.log` beside the index, fixed 54-byte records
//! `feed (32) ‖ seq (u32 BE) ‖ kind (1) ‖ direction (1) ‖ face (u32 BE) ‖ unix seconds (i64
//! BE) ‖ CRC-32 (u32 BE)`, one per entry at most, read into memory when the index opens. A
//! damaged record ends the file there (what follows is cut: route notes are a convenience, and
//! a half-written last record after a crash is expected).
//!
//! The kind comes from the node's link events (`NodeEvent::LinkUp`'s `kind`, and the
//! snapshot's open links when the service attaches); [`LinkKind::from_face_kind`] is the one
//! adapter from the node's names to these kinds.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::chat::types::ChatError;
use crate::identity::FeedId;

/// The kind of link a message travelled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// A LoRa dongle over Bluetooth LE (or the dongle's radio itself).
    Dongle,
    /// Phone to phone over Bluetooth LE.
    PhoneLink,
    /// Wi-Fi / LAN UDP multicast.
    Wifi,
    /// A peer met through a rendezvous relay.
    Relay,
    /// A direct WebSocket link.
    WebSocket,
    /// A link of a kind this version does not know.
    Other,
}

impl LinkKind {
    /// The kind of a node face from its `kind` name (`ws`, `udp`, `relay`, `ble`, `lora`,
    /// `phone`…). The node names a paired dongle's link and the bindings' phone links both
    /// `ble`; `ble` counts as a dongle, a name containing `phone` or `native` as a phone link.
    pub fn from_face_kind(kind: &str) -> LinkKind {
        match kind {
            "ws" | "websocket" => LinkKind::WebSocket,
            "udp" | "wifi" => LinkKind::Wifi,
            "relay" => LinkKind::Relay,
            "ble" | "lora" | "dongle" => LinkKind::Dongle,
            k if k.contains("phone") || k.contains("native") => LinkKind::PhoneLink,
            _ => LinkKind::Other,
        }
    }

    /// A short name: `dongle`, `phone-link`, `wifi`, `relay`, `websocket`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Dongle => "dongle",
            LinkKind::PhoneLink => "phone-link",
            LinkKind::Wifi => "wifi",
            LinkKind::Relay => "relay",
            LinkKind::WebSocket => "websocket",
            LinkKind::Other => "other",
        }
    }

    fn code(self) -> u8 {
        match self {
            LinkKind::Dongle => 1,
            LinkKind::PhoneLink => 2,
            LinkKind::Wifi => 3,
            LinkKind::Relay => 4,
            LinkKind::WebSocket => 5,
            LinkKind::Other => 0,
        }
    }

    fn from_code(c: u8) -> LinkKind {
        match c {
            1 => LinkKind::Dongle,
            2 => LinkKind::PhoneLink,
            3 => LinkKind::Wifi,
            4 => LinkKind::Relay,
            5 => LinkKind::WebSocket,
            _ => LinkKind::Other,
        }
    }
}

/// Whether a message came in over the link or went out over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteDirection {
    /// Someone else's message (or my own, restored from a peer) arrived over it.
    Arrived,
    /// My message left this device over it.
    Left,
}

/// The link a message first arrived on or left by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The kind of link.
    pub kind: LinkKind,
    /// In or out.
    pub direction: RouteDirection,
    /// The node's face id for that link (meaningful while the node runs).
    pub face: u32,
    /// When (unix seconds, this device's clock).
    pub at: i64,
}

const REC: usize = 32 + 4 + 1 + 1 + 4 + 8 + 4;

fn encode(fid: &FeedId, seq: u32, r: &Route) -> [u8; REC] {
    let mut b = [0u8; REC];
    b[..32].copy_from_slice(&fid.0);
    b[32..36].copy_from_slice(&seq.to_be_bytes());
    b[36] = r.kind.code();
    b[37] = match r.direction {
        RouteDirection::Arrived => 0,
        RouteDirection::Left => 1,
    };
    b[38..42].copy_from_slice(&r.face.to_be_bytes());
    b[42..50].copy_from_slice(&r.at.to_be_bytes());
    let crc = crc32fast::hash(&b[..50]);
    b[50..].copy_from_slice(&crc.to_be_bytes());
    b
}

fn decode(b: &[u8]) -> Option<((FeedId, u32), Route)> {
    let b: &[u8; REC] = b.get(..REC)?.try_into().ok()?;
    let crc = u32::from_be_bytes(b[50..].try_into().ok()?);
    if crc32fast::hash(&b[..50]) != crc {
        return None;
    }
    let direction = match b[37] {
        0 => RouteDirection::Arrived,
        1 => RouteDirection::Left,
        _ => return None,
    };
    Some((
        (
            FeedId(b[..32].try_into().ok()?),
            u32::from_be_bytes(b[32..36].try_into().ok()?),
        ),
        Route {
            kind: LinkKind::from_code(b[36]),
            direction,
            face: u32::from_be_bytes(b[38..42].try_into().ok()?),
            at: i64::from_be_bytes(b[42..50].try_into().ok()?),
        },
    ))
}

/// The routes known, and where they are kept.
pub(crate) struct Routes {
    path: Option<PathBuf>,
    map: Mutex<HashMap<(FeedId, u32), Route>>,
}

fn io_err(p: &std::path::Path, e: std::io::Error) -> ChatError {
    ChatError::Index(format!("{}: {e}", p.display()))
}

impl Routes {
    /// Routes kept in `path` (read now; a damaged tail is cut).
    pub fn open(path: PathBuf) -> Result<Routes, ChatError> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&path, e)),
        };
        let mut map = HashMap::new();
        let mut good = 0;
        for chunk in bytes.chunks(REC) {
            let Some((k, r)) = decode(chunk) else { break };
            map.entry(k).or_insert(r);
            good += REC;
        }
        if good < bytes.len() {
            tracing::warn!(
                "chat routes: {} damaged bytes at the end of {} were cut",
                bytes.len() - good,
                path.display()
            );
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(good as u64))
                .map_err(|e| io_err(&path, e))?;
        }
        Ok(Routes {
            path: Some(path),
            map: Mutex::new(map),
        })
    }

    /// Routes in memory only.
    pub fn temporary() -> Routes {
        Routes {
            path: None,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The route of entry `seq` of `fid`, if known.
    pub fn get(&self, fid: &FeedId, seq: u32) -> Option<Route> {
        self.map.lock().ok()?.get(&(*fid, seq)).copied()
    }

    /// Records a route unless the entry has one already (the first link wins); true if
    /// recorded.
    pub fn note(&self, fid: &FeedId, seq: u32, r: Route) -> Result<bool, ChatError> {
        let mut map = self
            .map
            .lock()
            .map_err(|_| ChatError::Index("lock poisoned".into()))?;
        if map.contains_key(&(*fid, seq)) {
            return Ok(false);
        }
        if let Some(p) = &self.path {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(&encode(fid, seq, &r)))
                .map_err(|e| io_err(p, e))?;
        }
        map.insert((*fid, seq), r);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn routes_survive_a_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("routes.log");
        let r = Route {
            kind: LinkKind::Relay,
            direction: RouteDirection::Arrived,
            face: 7,
            at: 1_700_000_000,
        };
        let routes = Routes::open(p.clone()).unwrap();
        assert!(routes.note(&FeedId([1; 32]), 3, r).unwrap());
        let later = Route {
            kind: LinkKind::Wifi,
            ..r
        };
        assert!(
            !routes.note(&FeedId([1; 32]), 3, later).unwrap(),
            "first wins"
        );
        drop(routes);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&[0xab; 20]).unwrap();
        drop(f);
        let routes = Routes::open(p.clone()).unwrap();
        assert_eq!(routes.get(&FeedId([1; 32]), 3), Some(r));
        assert_eq!(std::fs::metadata(&p).unwrap().len(), REC as u64);
    }

    #[test]
    fn face_kinds_map_to_link_kinds() {
        assert_eq!(LinkKind::from_face_kind("ws"), LinkKind::WebSocket);
        assert_eq!(LinkKind::from_face_kind("udp"), LinkKind::Wifi);
        assert_eq!(LinkKind::from_face_kind("relay"), LinkKind::Relay);
        assert_eq!(LinkKind::from_face_kind("ble"), LinkKind::Dongle);
        assert_eq!(LinkKind::from_face_kind("phone-ble"), LinkKind::PhoneLink);
        assert_eq!(LinkKind::from_face_kind("zzz"), LinkKind::Other);
    }
}
