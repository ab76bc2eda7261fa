//! The relay's command line: what `lichen-relay` (and its alias `lichen relay`) parses, and
//! the run that follows.
//!
//! [`run`] owns a multi-threaded tokio runtime, starts the relay, prints the bound address
//! (one JSON line with `--json`), and shuts down cleanly on Ctrl-C or SIGTERM: every client
//! gets close code 1001, and connections still open after `--shutdown-timeout` are cut. With
//! `--tls-cert` and `--tls-key` it serves `wss://` (and `/metrics` over https) itself. Logs go
//! to stderr through `LICHEN_LOG` (e.g. `LICHEN_LOG=lichen_relay=info`), set up by the binary.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::{Relay, RelayConfig, TlsIdentity};

/// The longest timeout an option accepts: ten years, in seconds.
const MAX_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// Whole seconds, `0` to ten years: anything else is a usage error naming the option.
fn whole_seconds(s: &str) -> Result<u64, String> {
    let v: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of seconds"))?;
    if v > MAX_SECONDS {
        return Err(format!(
            "{s} seconds is out of range (0 to {MAX_SECONDS} seconds)"
        ));
    }
    Ok(v)
}

/// Options of `lichen-relay` (and `lichen relay`).
#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    /// Address to listen on, e.g. 0.0.0.0:11060 (port 0 picks one).
    #[arg(long, env = "LICHEN_RELAY_LISTEN")]
    pub listen: SocketAddr,
    /// Seconds a client may wait unpaired before it is closed.
    #[arg(long, default_value = "60", value_parser = whole_seconds)]
    pub wait_timeout: u64,
    /// Seconds a pair may forward nothing before both sides are closed.
    #[arg(long, default_value = "300", value_parser = whole_seconds)]
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
    #[arg(long, default_value = "5", value_parser = whole_seconds)]
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
    /// The relay configuration these options say (TLS files read and checked).
    pub fn config(&self) -> Result<RelayConfig> {
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

/// Writes one line to stdout, flushed (a closed stdout is an error [`is_closed_stdout`]
/// recognises).
fn say(line: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .context("writing to stdout")
}

/// Whether `e` is (caused by) a closed stdout: the reader went away, which ends the run
/// quietly rather than as a failure.
pub fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs the relay until Ctrl-C (or SIGTERM), then shuts it down.
pub fn run(args: &RelayArgs) -> Result<()> {
    let config = args.config()?;
    let tls = config.tls.is_some();
    let (scheme, web) = if tls {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lichen-relay")
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        let stop = StopSignal::install()?;
        let relay = Relay::bind(config)
            .await
            .with_context(|| format!("starting the relay on {}", args.listen))?;
        let addr = relay.local_addr();
        if args.json {
            say(&serde_json::json!({
                "event": "listening", "addr": addr.to_string(), "tls": tls,
            })
            .to_string())?;
        } else {
            say(&format!(
                "relay listening on {scheme}://{addr} (metrics: {web}://{addr}/metrics)"
            ))?;
        }
        stop.wait().await?;
        tracing::info!("stop requested; shutting down");
        let m = relay.metrics();
        relay.shutdown().await;
        if args.json {
            say(&serde_json::json!({
                "event": "stopped",
                "connections_total": m.connections_total,
                "pairs_total": m.pairs_total,
                "frames_forwarded": m.frames_forwarded,
            })
            .to_string())
        } else {
            say(&format!(
                "relay stopped after {} connections, {} pairs, {} frames forwarded",
                m.connections_total, m.pairs_total, m.frames_forwarded
            ))
        }
    })
}

/// Ctrl-C and (where there is one) SIGTERM, listened for from the moment this is made: a
/// stop signal that comes right after the "listening" line is a clean stop, not the default
/// action of the signal (which would end the process without closing anyone).
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Installs the handlers (inside the runtime).
    fn install() -> Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignal {
                term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
                int: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignal {})
        }
    }

    /// Resolves on the first stop signal.
    async fn wait(mut self) -> Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn whole_seconds_take_only_whole_numbers_up_to_ten_years() {
        for bad in [
            "-1",
            "inf",
            "NaN",
            "1e30",
            "",
            "1.5",
            "18446744073709551615",
        ] {
            assert!(whole_seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(whole_seconds("60").unwrap(), 60);
        assert_eq!(whole_seconds(" 0 ").unwrap(), 0);
    }
}
