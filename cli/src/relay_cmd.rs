//! `lichen relay`: run a Moneysocket rendezvous relay.
//!
//! Two Lichen nodes holding the same beacon meet through the relay named in
//! it (see the `lichen-relay` crate for the protocol and the limits). This
//! command owns a multi-threaded tokio runtime, starts the relay, prints the
//! bound address (one JSON line with `--json`), and shuts down cleanly on
//! Ctrl-C or SIGTERM: every client gets close code 1001, and connections
//! still open after `--shutdown-timeout` are cut. With `--tls-cert` and `--tls-key` it serves
//! `wss://` (and `/metrics` over https) itself. Logs go to stderr through
//! `LICHEN_LOG` (e.g. `LICHEN_LOG=lichen_relay=info`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use lichen_relay::{Relay, RelayConfig, TlsIdentity};

/// Options of `lichen relay`.
#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    /// Address to listen on, e.g. 0.0.0.0:11060 (port 0 picks one).
    #[arg(long, env = "LICHEN_RELAY_LISTEN")]
    pub listen: SocketAddr,
    /// Seconds a client may wait unpaired before it is closed.
    #[arg(long, default_value = "60", value_parser = crate::args::whole_seconds)]
    pub wait_timeout: u64,
    /// Seconds a pair may forward nothing before both sides are closed.
    #[arg(long, default_value = "300", value_parser = crate::args::whole_seconds)]
    pub idle_timeout: u64,
    /// Largest WebSocket frame accepted, in bytes (1 KiB to 16 MiB).
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_frame: usize,
    /// Most connections at once.
    #[arg(long, default_value_t = 10_000)]
    pub max_conns: usize,
    /// Most connections at once from one IP address.
    #[arg(long, default_value_t = 64)]
    pub max_per_ip: usize,
    /// Most clients waiting unpaired at once.
    #[arg(long, default_value_t = 5_000)]
    pub max_pending: usize,
    /// Do not serve `GET /metrics`.
    #[arg(long)]
    pub no_metrics: bool,
    /// Seconds to wait for connections to close on shutdown.
    #[arg(long, default_value = "5", value_parser = crate::args::whole_seconds)]
    pub shutdown_timeout: u64,
    /// Print the bound address as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Serve wss:// with this certificate chain (PEM, leaf first).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl RelayArgs {
    fn config(&self) -> Result<RelayConfig> {
        let mut config = RelayConfig::new(self.listen);
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            config.tls = Some(TlsIdentity::from_files(cert, key)?);
        }
        config.wait_timeout = Duration::from_secs(self.wait_timeout);
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.max_frame = self.max_frame;
        config.max_connections = self.max_conns;
        config.max_per_ip = self.max_per_ip;
        config.max_pending = self.max_pending;
        config.serve_metrics = !self.no_metrics;
        config.shutdown_timeout = Duration::from_secs(self.shutdown_timeout);
        Ok(config)
    }
}

/// Runs the relay until Ctrl-C (or SIGTERM), then shuts it down.
pub fn run(args: &RelayArgs) -> Result<ExitCode> {
    let config = args.config()?;
    let scheme = if config.tls.is_some() { "wss" } else { "ws" };
    let web = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lichen-relay")
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        let relay = Relay::bind(config)
            .await
            .with_context(|| format!("starting the relay on {}", args.listen))?;
        let addr = relay.local_addr();
        if args.json {
            outln!(
                "{}",
                serde_json::json!({
                    "event": "listening", "addr": addr.to_string(), "tls": scheme == "wss",
                })
            )?;
        } else {
            outln!("relay listening on {scheme}://{addr} (metrics: {web}://{addr}/metrics)")?;
        }
        stop_signal().await?;
        tracing::info!("stop requested; shutting down");
        let m = relay.metrics();
        relay.shutdown().await;
        if args.json {
            outln!(
                "{}",
                serde_json::json!({
                    "event": "stopped",
                    "connections_total": m.connections_total,
                    "pairs_total": m.pairs_total,
                    "frames_forwarded": m.frames_forwarded,
                })
            )?;
        } else {
            outln!(
                "relay stopped after {} connections, {} pairs, {} frames forwarded",
                m.connections_total,
                m.pairs_total,
                m.frames_forwarded
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn stop_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("listening for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("listening for Ctrl-C")
    }
}
