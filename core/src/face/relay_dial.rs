//! Reaching a relay: where it is ([`RelayTarget`], from a beacon), how to dial it
//! ([`RelayOptions`]: local address, backoff, extra root certificates), and the dial itself:
//! DNS, TCP from an optional local address, TLS for `wss://` (rustls with the ring provider,
//! the Mozilla roots from `webpki-roots` plus any extra roots), then the WebSocket handshake.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use moneysocket::beacon::{v0, v1};
use moneysocket::{AnyBeacon, RendezvousId, SharedSeed};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::backoff::BackoffConfig;

/// Where to meet a peer: a relay's WebSocket location and the beacon's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayTarget {
    /// Host name (or, from a v0 beacon, possibly an IP literal).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `wss://` when true.
    pub tls: bool,
    /// URL path without the leading `/` (empty: none).
    pub path: String,
    /// The beacon's shared seed (the tunnel keys come from it).
    pub seed: SharedSeed,
    /// The rendezvous id presented to the relay.
    pub rid: RendezvousId,
}

/// Why a beacon names no relay this code can reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayTargetError {
    /// No WebSocket location in the beacon.
    #[error("the beacon names no WebSocket relay")]
    NoWebSocket,
}

impl RelayTarget {
    /// The best WebSocket location of a beacon (v1: by the generator's preference; v0: the
    /// first), with the rendezvous id of the beacon's generation (v1: SHA-256²(seed); v0:
    /// SHA-256⁴(seed)).
    pub fn from_beacon(beacon: &AnyBeacon) -> Result<RelayTarget, RelayTargetError> {
        match beacon {
            AnyBeacon::V1(b) => RelayTarget::from_v1(b),
            AnyBeacon::V0(b) => b
                .locations
                .iter()
                .find_map(|l| match l {
                    v0::Location::WebSocket {
                        host,
                        use_tls,
                        port,
                    } => Some(RelayTarget {
                        host: host.clone(),
                        port: *port,
                        tls: *use_tls,
                        path: String::new(),
                        seed: b.shared_seed.clone(),
                        rid: b.shared_seed.v0_rendezvous_id(),
                    }),
                    _ => None,
                })
                .ok_or(RelayTargetError::NoWebSocket),
        }
    }

    /// As [`RelayTarget::from_beacon`] for a v1 beacon.
    pub fn from_v1(beacon: &v1::Beacon) -> Result<RelayTarget, RelayTargetError> {
        let ws = beacon
            .websockets_by_preference()
            .into_iter()
            .next()
            .ok_or(RelayTargetError::NoWebSocket)?;
        Ok(RelayTarget {
            host: ws.hostname.clone(),
            port: ws.port,
            tls: ws.use_tls,
            path: ws.path.clone(),
            seed: beacon.shared_seed.clone(),
            rid: beacon.shared_seed.v1_rendezvous_id(),
        })
    }

    /// `ws://host:port/path` or `wss://…`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = self.path.trim_start_matches('/');
        format!("{scheme}://{host}:{}/{path}", self.port)
    }
}

/// How to dial a relay.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Local address to connect from (e.g. 127.0.0.2 so that tests tell nodes apart); only
    /// relay addresses of the same family are tried.
    pub bind: Option<IpAddr>,
    /// When to reconnect.
    pub backoff: BackoffConfig,
    /// Bound on DNS, TCP, TLS and WebSocket handshake together.
    pub connect_timeout: Duration,
    /// How long to wait, once paired, for the peer's tunnel HELLO.
    pub hello_timeout: Duration,
    /// Ping the relay this often while connected; nothing heard for 2.5 times this
    /// ends the session.
    pub keepalive: Duration,
    /// Root certificates (DER) trusted for `wss://` besides the Mozilla roots.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            bind: None,
            backoff: BackoffConfig::default(),
            connect_timeout: Duration::from_secs(15),
            hello_timeout: Duration::from_secs(15),
            keepalive: Duration::from_secs(30),
            extra_roots: Vec::new(),
        }
    }
}

/// A PEM file that holds no usable certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no usable certificate in the PEM data: {0}")]
pub struct BadRootPem(pub String);

impl RelayOptions {
    /// Trusts every certificate in `pem` as a root for `wss://`; returns how many.
    pub fn add_roots_pem(&mut self, pem: &[u8]) -> Result<usize, BadRootPem> {
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| BadRootPem(e.to_string()))?;
            self.extra_roots.push(cert.as_ref().to_vec());
            n += 1;
        }
        if n == 0 {
            return Err(BadRootPem("no CERTIFICATE block".into()));
        }
        Ok(n)
    }

    /// [`RelayOptions::add_roots_pem`] of a PEM file, read with a bound (a root file is
    /// small; a huge or unreadable one is an error, never a long read).
    pub fn add_roots_file(&mut self, path: &std::path::Path) -> std::io::Result<usize> {
        let pem = crate::fsutil::read_small(path, crate::fsutil::PEM_MAX)?;
        self.add_roots_pem(&pem)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// Builds the TLS client configuration for `options` (once per link).
pub fn tls_config(options: &RelayOptions) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &options.extra_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("extra root certificate: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A byte stream a WebSocket can run on (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A WebSocket to a relay.
pub type RelaySocket = WebSocketStream<Box<dyn Io>>;

fn ws_config() -> WebSocketConfig {
    // Tunnel frames are packets plus 27 bytes; relay notices are a few hundred bytes.
    WebSocketConfig::default()
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// Opens a WebSocket to the relay; the error says which step failed.
pub async fn dial(
    target: &RelayTarget,
    options: &RelayOptions,
    tls: Option<&Arc<ClientConfig>>,
) -> Result<(RelaySocket, SocketAddr), String> {
    let tcp = connect_tcp(&target.host, target.port, options.bind).await?;
    let peer = tcp.peer_addr().map_err(|e| format!("socket: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if target.tls {
        let config = tls.ok_or("no TLS configuration")?;
        let name = ServerName::try_from(target.host.clone())
            .map_err(|e| format!("TLS server name {:?}: {e}", target.host))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {}: {e}", target.host))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let (ws, _) = tokio_tungstenite::client_async_with_config(target.url(), io, Some(ws_config()))
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok((ws, peer))
}

async fn connect_tcp(host: &str, port: u16, bind: Option<IpAddr>) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("resolving {host}: {e}"))?
        .filter(|a| bind.is_none_or(|b| b.is_ipv4() == a.is_ipv4()))
        .collect();
    if addrs.is_empty() {
        return Err(format!(
            "{host} has no address of the local address's family"
        ));
    }
    let mut last = String::new();
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| format!("socket: {e}"))?;
        if let Some(ip) = bind {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(|e| format!("binding {ip}: {e}"))?;
        }
        match socket.connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use moneysocket::beacon::v1::{Location, WebSocketLocation};

    #[test]
    fn target_from_beacons() {
        let seed = SharedSeed::from_bytes([1; 16]);
        let b = v1::Beacon::new(
            seed.clone(),
            vec![
                Location::WebSocket(WebSocketLocation::new("far.example").with_preference(9)),
                Location::WebSocket(
                    WebSocketLocation::new("near.example")
                        .with_tls(false, 8080)
                        .with_path("ws")
                        .with_preference(1),
                ),
            ],
        );
        let t = RelayTarget::from_beacon(&AnyBeacon::V1(b)).unwrap();
        assert_eq!(t.url(), "ws://near.example:8080/ws");
        assert_eq!(t.rid, seed.v1_rendezvous_id());
        let old = v0::Beacon::new(
            seed.clone(),
            vec![v0::Location::websocket("127.0.0.1", true)],
        );
        let t = RelayTarget::from_beacon(&AnyBeacon::V0(old)).unwrap();
        assert_eq!(t.url(), "wss://127.0.0.1:443/");
        assert_eq!(t.rid, seed.v0_rendezvous_id());
    }

    #[test]
    fn roots_from_pem() {
        let mut o = RelayOptions::default();
        assert!(o.add_roots_pem(b"nothing here").is_err());
        assert!(tls_config(&o).is_ok());
    }
}
