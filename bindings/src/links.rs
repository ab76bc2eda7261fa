//! The links area: WebSocket listen and dial (with a timeout), UDP multicast, closing links,
//! and phone-to-phone links whose GATT side is native code (see `native_link`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lichen::app::LinkHandle;

use crate::errors::{AreaError, LinkError};
use crate::root::Shared;

/// An open link or listener.
#[derive(uniffi::Object)]
pub struct Link {
    handle: Mutex<Option<LinkHandle>>,
    kind: String,
    peer: String,
}

impl Link {
    fn of(h: LinkHandle) -> Arc<Link> {
        Arc::new(Link {
            kind: h.kind().to_owned(),
            peer: h.peer().to_owned(),
            handle: Mutex::new(Some(h)),
        })
    }
}

#[uniffi::export]
impl Link {
    /// `ws-listen`, `ws`, `udp`, `relay`, `ble`.
    pub fn kind(&self) -> String {
        self.kind.clone()
    }

    /// The bound address, the peer's URL, or the group.
    pub fn peer(&self) -> String {
        self.peer.clone()
    }

    /// For a listener: the URL peers dial (`ws://host:port`).
    pub fn url(&self) -> String {
        format!("ws://{}", self.peer)
    }

    /// Closes the link (returns at once). Dropping a `Link` leaves it open.
    pub fn close(&self) {
        if let Some(h) = self.handle.lock().ok().and_then(|mut h| h.take()) {
            h.close();
        }
    }
}

/// One open link as the node sees it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkInfo {
    /// Its id (pass to `close`).
    pub face: u32,
    /// `ws`, `udp`, `relay`, `ble`, …
    pub kind: String,
    /// The peer (a peer's words: show it made safe).
    pub peer: String,
}

/// Links of this root.
#[derive(uniffi::Object)]
pub struct Links {
    shared: Arc<Shared>,
}

impl Links {
    pub(crate) fn new(shared: Arc<Shared>) -> Links {
        Links { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

#[uniffi::export]
impl Links {
    /// Accepts WebSocket peers on `addr` (`127.0.0.1:0` picks a free port); `url()` of the
    /// result is what peers dial.
    pub async fn listen_ws(&self, addr: String) -> Result<Arc<Link>, LinkError> {
        if addr.trim().parse::<std::net::SocketAddr>().is_err() {
            return Err(LinkError::BadAddress {
                reason: format!(
                    "{addr:?} is not an address to listen on (IP:port, e.g. 0.0.0.0:8080)"
                ),
            });
        }
        self.shared
            .blocking(move |app| Ok(Link::of(app.listen_ws(&addr)?)))
            .await
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once the link is up, or fails
    /// with `Timeout` after `timeout_ms`.
    pub async fn dial_ws(&self, url: String, timeout_ms: u32) -> Result<Arc<Link>, LinkError> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(LinkError::BadAddress {
                reason: format!("{url:?} is not a WebSocket URL (ws://host:port)"),
            });
        }
        let app = self.shared.app::<LinkError>()?;
        let wait = Duration::from_millis(u64::from(timeout_ms.max(1)));
        let u = url.clone();
        let task = self.shared.rt().spawn(async move {
            let dial = tokio::task::spawn_blocking(move || app.dial_ws(&u));
            tokio::time::timeout(wait, dial).await
        });
        match task.await {
            Ok(Ok(Ok(Ok(h)))) => Ok(Link::of(h)),
            Ok(Ok(Ok(Err(e)))) => Err(match e {
                lichen::AppError::Node(n) => LinkError::Unreachable {
                    reason: n.to_string(),
                },
                e => e.into(),
            }),
            Ok(Err(_)) => Err(LinkError::Timeout {
                reason: format!("{url} did not answer within {timeout_ms} ms"),
            }),
            Ok(Ok(Err(e))) | Err(e) => Err(LinkError::internal(format!("dialling failed: {e}"))),
        }
    }

    /// Joins the Wi-Fi multicast group (`239.5.5.8:1558` as deployed, or `group:port`) on
    /// the interface `interface` (`0.0.0.0`: the default route's).
    pub async fn udp_multicast(
        &self,
        group: Option<String>,
        interface: Option<String>,
    ) -> Result<Arc<Link>, LinkError> {
        let mut cfg = lichen::UdpConfig::default();
        if let Some(g) = group {
            let a: std::net::SocketAddrV4 = g.parse().map_err(|_| LinkError::BadAddress {
                reason: format!("{g:?} is not a group address (239.5.5.8:1558)"),
            })?;
            if !a.ip().is_multicast() {
                return Err(LinkError::BadAddress {
                    reason: format!("{} is not a multicast address", a.ip()),
                });
            }
            cfg.group = *a.ip();
            cfg.port = a.port();
        }
        if let Some(i) = interface {
            cfg.interface = i.parse().map_err(|_| LinkError::BadAddress {
                reason: format!("{i:?} is not an IPv4 address"),
            })?;
        }
        self.shared
            .blocking(move |app| Ok(Link::of(app.udp_multicast(cfg)?)))
            .await
    }

    /// The open links.
    pub async fn list(&self) -> Result<Vec<LinkInfo>, LinkError> {
        self.shared
            .blocking(|app| {
                Ok(app
                    .link_list()?
                    .into_iter()
                    .map(|(face, kind, peer)| LinkInfo { face, kind, peer })
                    .collect())
            })
            .await
    }

    /// Closes the open link `face` (from `list` or a link-up event).
    pub async fn close(&self, face: u32) -> Result<(), LinkError> {
        self.shared
            .blocking(move |app| Ok(app.close_link(face)?))
            .await
    }
}
