//! The listening side: [`Relay::bind`] starts the accept loop, and the
//! [`RelayHandle`] it returns reports the address and metrics and shuts the
//! relay down.
//!
//! Every task (connections and refusals) is spawned into one `JoinSet` owned
//! by the accept loop, so shutdown can wait for them and cut off whatever
//! outlives `shutdown_timeout`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout};
use tracing::{debug, error, info, info_span, warn, Instrument};

use crate::config::RelayConfig;
use crate::conn;
use crate::error::RelayError;
use crate::limits::Limits;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::shared::{Shared, Tls};

/// Most connections being refused (with an HTTP answer) at once; beyond
/// that, refused connections are dropped unanswered.
const MAX_REFUSING: usize = 64;
/// Pause after a failed `accept` (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The Moneysocket rendezvous relay. Start one with [`Relay::bind`].
#[derive(Debug)]
pub struct Relay {
    _private: (),
}

impl Relay {
    /// Validates `config`, binds its address and starts serving on the
    /// current tokio runtime.
    pub async fn bind(config: RelayConfig) -> Result<RelayHandle, RelayError> {
        config.validate()?;
        let tls = match &config.tls {
            Some(identity) => Some(Tls(identity.acceptor()?)),
            None => None,
        };
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let metrics = Arc::new(Metrics::default());
        let limits = Limits::new(config.max_connections, config.max_per_ip);
        let shutdown_timeout = config.shutdown_timeout;
        let shared_tls = tls.is_some();
        let shared = Arc::new(Shared::new(config, Arc::clone(&metrics), tls));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accept = Accept {
            listener,
            shared,
            limits,
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
            shutdown: shutdown_rx,
            tasks: JoinSet::new(),
        };
        let task = tokio::spawn(
            accept
                .run(shutdown_timeout)
                .instrument(info_span!("relay", addr = %local_addr)),
        );
        info!(addr = %local_addr, tls = shared_tls, "relay listening");
        Ok(RelayHandle {
            local_addr,
            shutdown,
            task: Some(task),
            metrics,
        })
    }
}

/// A running relay. Dropping it starts a shutdown without waiting for it.
#[derive(Debug)]
pub struct RelayHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    metrics: Arc<Metrics>,
}

impl RelayHandle {
    /// The address the relay listens on (with the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A copy of the counters now.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Stops accepting, closes every connection (code 1001) and waits for
    /// them, up to `shutdown_timeout`; connections still open then are cut.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                error!(error = %e, "relay accept task failed");
            }
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

struct Accept {
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Arc<Limits>,
    refusing: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
    tasks: JoinSet<()>,
}

impl Accept {
    async fn run(mut self, shutdown_timeout: Duration) {
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => break,
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Err(e) = done {
                        error!(error = %e, "connection task failed");
                    }
                }
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, addr)) => self.admit(stream, addr),
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }
        drop(self.listener);
        info!(tasks = self.tasks.len(), "shutting down");
        let tasks = &mut self.tasks;
        let drained = timeout(shutdown_timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                tasks = self.tasks.len(),
                "connections outlived the shutdown timeout; cutting them off"
            );
            self.tasks.shutdown().await;
        }
        info!("relay stopped");
    }

    fn admit(&mut self, stream: TcpStream, addr: SocketAddr) {
        // Small frames are the norm; do not let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        match self.limits.admit(addr.ip()) {
            Ok(slot) => {
                let shared = Arc::clone(&self.shared);
                let shutdown = self.shutdown.clone();
                self.tasks
                    .spawn(conn::serve(stream, addr, slot, shared, shutdown));
            }
            Err(reason) => {
                self.shared.metrics.reject(reason);
                debug!(peer = %addr, reason = reason.as_str(), "connection refused");
                if let Ok(permit) = Arc::clone(&self.refusing).try_acquire_owned() {
                    let shared = Arc::clone(&self.shared);
                    self.tasks
                        .spawn(conn::refuse(stream, reason, shared, permit));
                }
            }
        }
    }
}
