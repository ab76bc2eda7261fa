//! UDP multicast face (Wi-Fi): group 239.5.5.8, port 1558, one datagram = packet ‖ CRC-32
//! (big-endian), as the Android app. Datagrams with a bad CRC are dropped. The socket hears
//! its own datagrams when several nodes share a host, so recently sent frames are filtered.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tracing::{debug, info_span, Instrument};

use super::Link;
use crate::node::{Node, NodeError};
use crate::sync::FaceProfile;

impl Node {
    /// Joins the UDP multicast group.
    pub fn udp_multicast(&self, cfg: UdpConfig) -> Result<(), NodeError> {
        let rt = self.handle();
        let _guard = rt.enter();
        let sock = open(&cfg).map_err(|err| NodeError::Io {
            what: format!("joining {}:{}", cfg.group, cfg.port),
            err,
        })?;
        rt.spawn(run(sock, cfg, self.link()));
        Ok(())
    }
}
use crate::wire::frame;

/// The deployed multicast group.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 5, 5, 8);
/// The deployed port.
pub const PORT: u16 = 1558;
/// Frames remembered for the echo filter.
const ECHO_MEMORY: usize = 1024;

/// Where to send and listen.
#[derive(Debug, Clone)]
pub struct UdpConfig {
    /// Multicast group.
    pub group: Ipv4Addr,
    /// Port.
    pub port: u16,
    /// Local interface address to join on (0.0.0.0 = the default route's).
    pub interface: Ipv4Addr,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            group: GROUP,
            port: PORT,
            interface: Ipv4Addr::UNSPECIFIED,
        }
    }
}

/// Opens the multicast socket.
pub fn open(cfg: &UdpConfig) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    // Bursts of answers arrive faster than a busy engine drains them; the kernel caps this
    // at net.core.rmem_max.
    let _ = s.set_recv_buffer_size(4 << 20);
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    s.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, cfg.port)).into())?;
    s.join_multicast_v4(&cfg.group, &cfg.interface)?;
    s.set_multicast_loop_v4(true)?;
    if !cfg.interface.is_unspecified() {
        s.set_multicast_if_v4(&cfg.interface)?;
    }
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s.into())
}

/// Runs the face on an open socket until the node shuts down.
pub async fn run(sock: UdpSocket, cfg: UdpConfig, link: Link) {
    let dest = SocketAddr::V4(SocketAddrV4::new(cfg.group, cfg.port));
    // Datagrams are not retransmitted and socket buffers are small: answer in moderate
    // bursts and let the resend window repair losses.
    let profile = FaceProfile {
        credit: 128,
        ..FaceProfile::fast()
    };
    let Ok((face, mut out)) = link.register("udp", dest.to_string(), profile).await else {
        return;
    };
    let mut sent: VecDeque<Vec<u8>> = VecDeque::with_capacity(ECHO_MEMORY);
    let mut buf = vec![0u8; 2048];
    let span = info_span!("udp", group = %dest);
    async move {
        loop {
            tokio::select! {
                r = sock.recv_from(&mut buf) => {
                    let Ok((n, from)) = r else { continue };
                    let data = buf.get(..n).unwrap_or_default();
                    if let Some(pos) = sent.iter().position(|s| s == data) {
                        sent.remove(pos);
                        continue; // our own datagram
                    }
                    match frame::unframe(data) {
                        Ok(pkt) => {
                            if !link.deliver(face, pkt.to_vec()).await {
                                break;
                            }
                        }
                        Err(e) => debug!(%from, %e, "dropped datagram"),
                    }
                }
                pkt = out.recv() => {
                    let Some(pkt) = pkt else { break };
                    let framed = frame::frame(&pkt);
                    if let Err(e) = sock.send_to(&framed, dest).await {
                        debug!(%e, "send failed");
                    }
                    if sent.len() == ECHO_MEMORY {
                        sent.pop_front();
                    }
                    sent.push_back(framed);
                }
            }
        }
        link.unregister(face, "stopped".into());
    }
    .instrument(span)
    .await
}
