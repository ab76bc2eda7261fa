//! State shared by every task of one relay.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::config::RelayConfig;
use crate::metrics::Metrics;
use crate::table::Table;

/// The TLS acceptor, if the relay serves `wss://`.
#[derive(Clone)]
pub(crate) struct Tls(pub(crate) tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(..)")
    }
}

/// Longest a closing connection waits for its client's close reply.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What connection tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: RelayConfig,
    pub(crate) table: Table,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) ws_config: WebSocketConfig,
    pub(crate) tls: Option<Tls>,
    epoch: Instant,
    next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: RelayConfig, metrics: Arc<Metrics>, tls: Option<Tls>) -> Self {
        // Small eager read buffer (tungstenite allocates it up front, 128 KiB
        // by default): most frames here are small and connections many.
        // Writes are flushed per batch, so the write buffer only needs to
        // hold one batch; its cap keeps a stuck socket from growing it.
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(16 * 1024)
            .max_write_buffer_size(16 * 1024 + 2 * config.max_frame + 1024)
            .max_frame_size(Some(config.max_frame))
            .max_message_size(Some(config.max_frame));
        Shared {
            table: Table::new(
                Arc::clone(&metrics),
                config.max_pending,
                config.two_way_timeout,
            ),
            config,
            metrics,
            ws_config,
            tls,
            epoch: Instant::now(),
            next_id: AtomicU64::new(1),
        }
    }

    /// A fresh connection number.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// Milliseconds since the relay started (the pairs' activity clock).
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The instant for a reading of the activity clock.
    pub(crate) fn instant_of(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// How long a closing connection waits for its client.
    pub(crate) fn close_grace(&self) -> Duration {
        CLOSE_GRACE.min(self.config.shutdown_timeout)
    }
}
