//! Relay settings: where to listen, how long to wait, how much to allow.
//!
//! The deployed Moneysocket relay has none of these limits (it waits for a
//! peer forever and accepts frames of any size); every number here is a
//! Lichen addition. The defaults suit a small public relay; tests shrink
//! the timeouts, and the load test raises the connection limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::error::RelayError;
use crate::tls::TlsIdentity;

/// Smallest accepted `max_frame`: a REQUEST_RENDEZVOUS is about 300 bytes.
pub const MIN_FRAME: usize = 1024;
/// Largest accepted `max_frame` (16 MiB, tungstenite's own default).
pub const MAX_FRAME: usize = 16 << 20;
/// Largest accepted `queue_frames`.
pub const MAX_QUEUE: usize = 1 << 16;

/// Settings of a [`crate::Relay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// How long a connection may stay unpaired (from its WebSocket
    /// handshake) before it is closed.
    pub wait_timeout: Duration,
    /// How long a pair may go without forwarding a frame (either way)
    /// before both sides are closed. WebSocket pings do not count.
    pub idle_timeout: Duration,
    /// How long a client has to complete its HTTP request / WebSocket
    /// handshake.
    pub handshake_timeout: Duration,
    /// How long a fresh pair has to carry a frame from each side. A pair
    /// older than this in which one side (or neither) has sent anything
    /// may be displaced by a newcomer on the same rendezvous id, instead of
    /// the newcomer being refused (rendezvous squatting; ADR 0017).
    pub two_way_timeout: Duration,
    /// How long a forwarder waits for room in its peer's outgoing queue
    /// before it closes the peer as a slow reader. Until then the sender is
    /// simply not read (TCP backpressure).
    pub slow_reader_timeout: Duration,
    /// Largest WebSocket frame (and message) accepted, in bytes; a larger
    /// one closes the connection with code 1009.
    pub max_frame: usize,
    /// Most TCP connections held at once (handshaking or open).
    pub max_connections: usize,
    /// Most TCP connections held at once from one IP address.
    pub max_per_ip: usize,
    /// Most clients waiting unpaired at once; a request beyond it is closed
    /// with code 1013 (try again later).
    pub max_pending: usize,
    /// Frames queued for one connection's writer; with `max_frame` this
    /// bounds what the relay buffers per connection.
    pub queue_frames: usize,
    /// Frames a connection may have dropped (malformed, before pairing,
    /// invalid JSON) before it is closed with code 1008.
    pub max_dropped_frames: u32,
    /// Serve `GET /metrics` (Prometheus text) on the same port.
    pub serve_metrics: bool,
    /// How long [`crate::RelayHandle::shutdown`] waits for connections to
    /// close before cutting them off.
    pub shutdown_timeout: Duration,
    /// Serve `wss://` (and `https://…/metrics`) with this certificate; plain
    /// `ws://` when `None`.
    pub tls: Option<TlsIdentity>,
}

impl RelayConfig {
    /// The defaults, listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        RelayConfig {
            listen,
            wait_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            handshake_timeout: Duration::from_secs(10),
            two_way_timeout: Duration::from_secs(10),
            slow_reader_timeout: Duration::from_secs(10),
            max_frame: 64 * 1024,
            max_connections: 10_000,
            max_per_ip: 64,
            max_pending: 5_000,
            queue_frames: 32,
            max_dropped_frames: 16,
            serve_metrics: true,
            shutdown_timeout: Duration::from_secs(5),
            tls: None,
        }
    }

    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), RelayError> {
        let bad = |what: &str| Err(RelayError::Config(what.to_owned()));
        if !(MIN_FRAME..=MAX_FRAME).contains(&self.max_frame) {
            return bad("max_frame must be between 1 KiB and 16 MiB");
        }
        if self.max_connections == 0 || self.max_per_ip == 0 || self.max_pending == 0 {
            return bad("connection limits must be at least 1");
        }
        if !(1..=MAX_QUEUE).contains(&self.queue_frames) {
            return bad("queue_frames must be between 1 and 65536");
        }
        for (name, d) in [
            ("wait_timeout", self.wait_timeout),
            ("idle_timeout", self.idle_timeout),
            ("handshake_timeout", self.handshake_timeout),
            ("two_way_timeout", self.two_way_timeout),
            ("slow_reader_timeout", self.slow_reader_timeout),
        ] {
            if d.is_zero() {
                return Err(RelayError::Config(format!("{name} must not be zero")));
            }
        }
        Ok(())
    }
}

impl Default for RelayConfig {
    /// The defaults on `127.0.0.1`, port chosen by the OS.
    fn default() -> Self {
        RelayConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_caught() {
        assert!(RelayConfig::default().validate().is_ok());
        let small = RelayConfig {
            max_frame: 10,
            ..RelayConfig::default()
        };
        assert!(small.validate().is_err());
        let zero = RelayConfig {
            wait_timeout: Duration::ZERO,
            ..RelayConfig::default()
        };
        assert!(zero.validate().is_err());
    }
}
