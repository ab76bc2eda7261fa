//! WebSocket faces: one binary frame carries one packet (as the Python pub); text frames are
//! ignored. A server accepts peers on a listener within the limits of a [`WsServerConfig`]; a
//! client dials one URL.
//!
//! Server limits (a phone must survive a hostile LAN): a TCP connection has
//! `handshake_timeout` to finish the WebSocket upgrade; connections are capped in total and
//! per address, counted from `accept` (handshaking and established alike). Past the
//! per-address cap a new connection is closed at once. When the total is full, the oldest
//! connection still handshaking is dropped to make room (an honest upgrade takes
//! milliseconds, so the oldest pending ones are the stalled ones); when every place holds an
//! established peer, the newcomer is closed. Established peers are never timed out: idle
//! replication links are long-lived. A failed `accept` (out of file descriptors, say) pauses
//! the loop briefly; the listener never ends.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, info_span, warn, Instrument};

use super::{Link, MAX_PACKET};
use crate::node::{Node, NodeError};
use crate::sync::FaceProfile;

impl Node {
    /// Accepts WebSocket peers on `addr`; returns the bound address.
    pub fn listen_ws(&self, addr: &str) -> Result<SocketAddr, NodeError> {
        Ok(self.listen_ws_task(addr)?.0)
    }

    /// [`Node::listen_ws`], also returning a handle that stops accepting (links already
    /// accepted stay).
    pub fn listen_ws_task(
        &self,
        addr: &str,
    ) -> Result<(SocketAddr, tokio::task::AbortHandle), NodeError> {
        let rt = self.handle();
        let listener = rt
            .block_on(TcpListener::bind(addr))
            .map_err(|err| NodeError::Io {
                what: format!("listening on {addr}"),
                err,
            })?;
        let local = listener.local_addr().map_err(|err| NodeError::Io {
            what: "reading the bound address".into(),
            err,
        })?;
        tracing::info!(%local, "WebSocket server listening");
        let task = rt.spawn(serve(listener, self.link()));
        Ok((local, task.abort_handle()))
    }

    /// Dials a WebSocket peer (`ws://host:port`); returns once connected.
    pub fn connect_ws(&self, url: &str) -> Result<SocketAddr, NodeError> {
        self.handle()
            .block_on(dial(url, self.link()))
            .map_err(|e| NodeError::Connect {
                url: url.to_owned(),
                err: e.to_string(),
            })
    }
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_PACKET * 4))
        .max_frame_size(Some(MAX_PACKET * 4))
}

/// Limits of a WebSocket listener ([`serve_with`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsServerConfig {
    /// How long a new TCP connection has to finish the WebSocket upgrade before it is closed.
    pub handshake_timeout: Duration,
    /// Most connections held at once, handshaking or established (at least 1).
    pub max_connections: usize,
    /// Most connections held at once from one IP address, handshaking or established
    /// (at least 1).
    pub max_per_address: usize,
    /// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
    pub accept_backoff: Duration,
}

impl Default for WsServerConfig {
    /// 10 s to upgrade, 32 connections, 8 per address, 100 ms pause after a failed accept:
    /// a phone keeps a handful of replication links, and 32 sockets with their buffers
    /// (about 130 KiB each) cost it a few MiB at most.
    fn default() -> Self {
        WsServerConfig {
            handshake_timeout: Duration::from_secs(10),
            max_connections: 32,
            max_per_address: 8,
            accept_backoff: Duration::from_millis(100),
        }
    }
}

/// Accepts WebSocket peers on `listener` with the default limits, until the node shuts down.
pub async fn serve(listener: TcpListener, link: Link) {
    serve_with(listener, link, WsServerConfig::default()).await;
}

/// Accepts WebSocket peers on `listener` within `config`'s limits, until the node shuts down.
pub async fn serve_with(listener: TcpListener, link: Link, config: WsServerConfig) {
    let admission = Admission::new(&config);
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors or a transient network error: keep serving.
                warn!(%e, "WebSocket accept failed; pausing");
                sleep(config.accept_backoff).await;
                continue;
            }
        };
        let (slot, evicted) = match admission.admit(addr.ip()) {
            Ok(admitted) => admitted,
            Err(refused) => {
                debug!(peer = %addr, reason = refused.as_str(), "WebSocket connection refused");
                drop(tcp);
                continue;
            }
        };
        let link = link.clone();
        let handshake_timeout = config.handshake_timeout;
        tokio::spawn(
            async move {
                let upgrade = timeout(
                    handshake_timeout,
                    tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config())),
                );
                let ws = tokio::select! {
                    upgraded = upgrade => match upgraded {
                        Ok(Ok(ws)) => ws,
                        Ok(Err(e)) => {
                            debug!(%e, "WebSocket handshake failed");
                            return;
                        }
                        Err(_) => {
                            debug!("WebSocket handshake timed out");
                            return;
                        }
                    },
                    _ = evicted => {
                        debug!("WebSocket handshake dropped to make room");
                        return;
                    }
                };
                if slot.established() {
                    run(ws, link, addr.to_string()).await;
                }
                drop(slot);
            }
            .instrument(info_span!("ws-in", peer = %addr)),
        );
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    PerAddress,
    Full,
}

impl Refused {
    fn as_str(self) -> &'static str {
        match self {
            Refused::PerAddress => "too many connections from this address",
            Refused::Full => "all places hold established peers",
        }
    }
}

#[derive(Debug, Default)]
struct Places {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    /// Handshaking connections by arrival, with what evicts them.
    pending: BTreeMap<u64, (IpAddr, oneshot::Sender<()>)>,
    established: HashSet<u64>,
    next: u64,
}

impl Places {
    fn release(&mut self, ip: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.per_address.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_address.remove(&ip);
            }
        }
    }
}

/// The listener's connection counts.
#[derive(Debug)]
struct Admission {
    max_total: usize,
    max_per_address: usize,
    places: Mutex<Places>,
}

/// One admitted connection's place; dropping it frees the place.
struct Slot {
    admission: Arc<Admission>,
    id: u64,
    ip: IpAddr,
}

impl Admission {
    fn new(config: &WsServerConfig) -> Arc<Self> {
        Arc::new(Admission {
            max_total: config.max_connections.max(1),
            max_per_address: config.max_per_address.max(1),
            places: Mutex::new(Places::default()),
        })
    }

    fn places(&self) -> std::sync::MutexGuard<'_, Places> {
        self.places.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for a connection from `ip` (evicting the oldest handshake if the
    /// listener is full); the receiver fires if this connection is evicted in turn.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Slot, oneshot::Receiver<()>), Refused> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        let mut places = self.places();
        if places.per_address.get(&ip).copied().unwrap_or(0) >= self.max_per_address {
            return Err(Refused::PerAddress);
        }
        if places.total >= self.max_total {
            let (_, (old_ip, evict)) = places.pending.pop_first().ok_or(Refused::Full)?;
            places.release(old_ip);
            let _ = evict.send(());
        }
        let id = places.next;
        places.next += 1;
        places.total += 1;
        *places.per_address.entry(ip).or_insert(0) += 1;
        let (tx, rx) = oneshot::channel();
        places.pending.insert(id, (ip, tx));
        let slot = Slot {
            admission: Arc::clone(self),
            id,
            ip,
        };
        Ok((slot, rx))
    }
}

impl Slot {
    /// The handshake finished: the connection is no longer evictable. False if it was
    /// evicted meanwhile (its place is gone; close it).
    fn established(&self) -> bool {
        let mut places = self.admission.places();
        if places.pending.remove(&self.id).is_none() {
            return false;
        }
        places.established.insert(self.id);
        true
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut places = self.admission.places();
        let held = places.pending.remove(&self.id).is_some() || places.established.remove(&self.id);
        // An evicted slot gave its place back when it was evicted.
        if held {
            places.release(self.ip);
        }
    }
}

/// Dials `url` and runs the face until either side closes.
pub async fn dial(
    url: &str,
    link: Link,
) -> Result<SocketAddr, tokio_tungstenite::tungstenite::Error> {
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true).await?;
    let peer = match ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(s) => s.peer_addr().ok(),
        _ => None,
    };
    let addr = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    tokio::spawn(run(ws, link, url.to_owned()).instrument(info_span!("ws-out", peer = %url)));
    Ok(addr)
}

async fn run<S>(ws: WebSocketStream<S>, link: Link, peer: String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok((face, mut out)) = link.register("ws", peer, FaceProfile::fast()).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let reason = loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if !link.deliver(face, b.to_vec()).await {
                        break "node shut down".to_string();
                    }
                }
                Some(Ok(Message::Close(_))) | None => break "closed by peer".to_string(),
                Some(Ok(_)) => {} // text, ping, pong: not packets
                Some(Err(e)) => break format!("receive error: {e}"),
            },
            pkt = out.recv() => {
                let Some(pkt) = pkt else { break "node shut down".to_string() };
                if let Err(e) = sink.feed(Message::Binary(pkt.into())).await {
                    break format!("send error: {e}");
                }
                // Send whatever else is already queued in one flush.
                while let Ok(more) = out.try_recv() {
                    if let Err(e) = sink.feed(Message::Binary(more.into())).await {
                        debug!(%e, "send error");
                        break;
                    }
                }
                if let Err(e) = sink.flush().await {
                    break format!("send error: {e}");
                }
            }
        }
    };
    let _ = sink.close().await;
    link.unregister(face, reason);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn admission(total: usize, per_address: usize) -> Arc<Admission> {
        Admission::new(&WsServerConfig {
            max_connections: total,
            max_per_address: per_address,
            ..WsServerConfig::default()
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn per_address_cap_refuses_and_frees_on_drop() {
        let a = admission(10, 2);
        let (s1, _e1) = a.admit(ip(1)).unwrap();
        let (_s2, _e2) = a.admit(ip(1)).unwrap();
        assert_eq!(a.admit(ip(1)).err(), Some(Refused::PerAddress));
        // An IPv4-mapped IPv6 address is the same address.
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(a.admit(mapped).err(), Some(Refused::PerAddress));
        assert!(a.admit(ip(2)).is_ok());
        drop(s1);
        assert!(a.admit(ip(1)).is_ok());
    }

    #[test]
    fn a_full_listener_evicts_the_oldest_handshake_but_never_an_established_peer() {
        let a = admission(2, 5);
        let (s1, mut e1) = a.admit(ip(1)).unwrap();
        let (s2, mut e2) = a.admit(ip(2)).unwrap();
        assert!(s1.established());
        // Full: the newcomer takes the place of the oldest pending handshake (s2).
        let (s3, mut e3) = a.admit(ip(3)).unwrap();
        assert!(e2.try_recv().is_ok(), "s2 evicted");
        assert!(e1.try_recv().is_err(), "s1 is established and stays");
        assert!(!s2.established(), "an evicted handshake cannot establish");
        drop(s2); // frees nothing more
        assert!(s3.established());
        // Both places hold established peers: refused.
        assert_eq!(a.admit(ip(4)).err(), Some(Refused::Full));
        assert!(e3.try_recv().is_err());
        drop(s1);
        let (s4, _e4) = a.admit(ip(4)).unwrap();
        assert!(s4.established());
        assert_eq!(a.admit(ip(5)).err(), Some(Refused::Full));
        drop(s3);
        assert_eq!(a.places().total, 1);
    }

    #[test]
    fn zero_limits_mean_one() {
        let a = admission(0, 0);
        let (_s, _e) = a.admit(ip(1)).unwrap();
        assert_eq!(a.admit(ip(1)).err(), Some(Refused::PerAddress));
    }
}
