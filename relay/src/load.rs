//! The load test: many pairs through one relay, measured at the clients.
//!
//! [`run`] opens `pairs` pairs of WebSocket clients on loopback (all
//! clients in this process), pairs them with REQUEST_RENDEZVOUS exactly as
//! a stock client would (binary frames, ids derived from seeds with the v0
//! derivation), then has every client send `frames` binary frames to its
//! peer while reading the peer's. Each frame carries its send time, so the
//! receiver measures the one-way forwarding latency (client → relay →
//! client, queueing included); every frame is checked byte for byte.
//!
//! Memory: with `relay: None` the relay runs in this process too, and the
//! per-connection figure is the growth of this process's RSS divided by the
//! number of client connections, so it covers one relay-side connection
//! *and* one client-side connection each. With `relay: Some(addr)` the
//! relay is elsewhere and its own RSS is read from its `/metrics`
//! (`process_resident_memory_bytes`), which gives the relay-only figure.
//!
//! Everything is bounded: the connection phase and the traffic phase each
//! stop with an error after `phase_timeout`.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use moneysocket::uuid::Uuid;
use moneysocket::v0::Message as V0;
use moneysocket::SharedSeed;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{client_async_with_config, WebSocketStream};

use crate::{resident_memory_bytes, Relay, RelayConfig, RelayError};

/// Marks a load frame (never the start of JSON, so the relay forwards it).
const MARK: u8 = 0xfe;
/// Marker, pair number, frame number, send time.
const HEADER: usize = 1 + 4 + 4 + 8;
/// Frames fed between flushes when not pacing.
const FLUSH_EVERY: usize = 16;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// An external relay, or `None` to start one in this process.
    pub relay: Option<SocketAddr>,
    /// Number of pairs (twice as many connections).
    pub pairs: usize,
    /// Frames each client sends (and receives).
    pub frames: usize,
    /// Bytes per frame (at least 17).
    pub frame_size: usize,
    /// Pause between a client's frames; `None` sends as fast as possible.
    pub interval: Option<Duration>,
    /// Clients connecting at once.
    pub connect_parallelism: usize,
    /// Limit for each phase (connecting, traffic).
    pub phase_timeout: Duration,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            relay: None,
            pairs: 1000,
            frames: 100,
            frame_size: 256,
            interval: None,
            connect_parallelism: 64,
            phase_timeout: Duration::from_secs(120),
        }
    }
}

/// Why a load run failed.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The settings cannot work.
    #[error("load config: {0}")]
    Config(String),
    /// The in-process relay did not start.
    #[error(transparent)]
    Relay(#[from] RelayError),
    /// A client could not connect or pair.
    #[error("client: {0}")]
    Client(String),
    /// A frame arrived wrong.
    #[error("frame check: {0}")]
    Check(String),
    /// A phase took longer than `phase_timeout`.
    #[error("{0} phase timed out")]
    Timeout(&'static str),
    /// The tokio runtime of [`run_blocking`] could not be built.
    #[error("load runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Pairs run.
    pub pairs: usize,
    /// WebSocket client connections (2 × pairs).
    pub connections: usize,
    /// Frames received by all clients (every one checked).
    pub frames: u64,
    /// Payload bytes of those frames.
    pub bytes: u64,
    /// Time to connect and pair everyone.
    pub connect_time: Duration,
    /// Time from the first frame sent to the last received.
    pub traffic_time: Duration,
    /// Median one-way latency.
    pub p50: Duration,
    /// 99th percentile one-way latency.
    pub p99: Duration,
    /// Largest one-way latency.
    pub max: Duration,
    /// Whether the relay ran in this process.
    pub in_process: bool,
    /// RSS (bytes) before connecting: this process, or the relay's.
    pub rss_before: Option<u64>,
    /// RSS once every pair is up, before traffic.
    pub rss_connected: Option<u64>,
    /// RSS after the traffic.
    pub rss_after: Option<u64>,
}

impl LoadReport {
    /// Frames received per second of traffic time.
    pub fn frames_per_sec(&self) -> f64 {
        self.frames as f64 / self.traffic_time.as_secs_f64().max(1e-9)
    }

    /// RSS growth per client connection once all are up (see module docs
    /// for what it covers).
    pub fn bytes_per_connection(&self) -> Option<f64> {
        let (a, b) = (self.rss_before?, self.rss_connected?);
        Some(b.saturating_sub(a) as f64 / self.connections.max(1) as f64)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: Option<u64>| b.map_or("?".into(), |b| format!("{:.1}", b as f64 / 1048576.0));
        writeln!(
            f,
            "pairs {} ({} connections), connected and paired in {:.2} s",
            self.pairs,
            self.connections,
            self.connect_time.as_secs_f64()
        )?;
        writeln!(
            f,
            "frames {} ({:.1} MiB) in {:.2} s: {:.0} frames/s",
            self.frames,
            self.bytes as f64 / 1048576.0,
            self.traffic_time.as_secs_f64(),
            self.frames_per_sec()
        )?;
        writeln!(
            f,
            "one-way latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        )?;
        let whose = if self.in_process {
            "process RSS (relay and clients)"
        } else {
            "relay RSS"
        };
        write!(
            f,
            "{whose} MiB: before {}, connected {}, after traffic {}",
            mib(self.rss_before),
            mib(self.rss_connected),
            mib(self.rss_after)
        )?;
        if let Some(per) = self.bytes_per_connection() {
            write!(f, "; {:.1} KiB per connection", per / 1024.0)?;
        }
        Ok(())
    }
}

type Client = WebSocketStream<TcpStream>;

/// [`run`] on a fresh multi-threaded runtime (one worker per core), for
/// synchronous callers such as `lichen bench`.
pub fn run_blocking(config: LoadConfig) -> Result<LoadReport, LoadError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

/// Runs the load test (needs a multi-threaded tokio runtime for realistic
/// figures).
pub async fn run(config: LoadConfig) -> Result<LoadReport, LoadError> {
    if config.frame_size < HEADER || config.pairs == 0 || config.connect_parallelism == 0 {
        return Err(LoadError::Config(format!(
            "need pairs >= 1, connect_parallelism >= 1 and frame_size >= {HEADER}"
        )));
    }
    let in_process = config.relay.is_none();
    let rss = |addr: SocketAddr| async move {
        if in_process {
            resident_memory_bytes()
        } else {
            relay_rss(addr).await
        }
    };
    let (addr, relay) = match config.relay {
        Some(addr) => (addr, None),
        None => {
            let conns = config.pairs * 2 + 64;
            let mut rc = RelayConfig::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
            rc.max_connections = conns;
            rc.max_per_ip = conns;
            rc.max_pending = config.pairs + 16;
            rc.wait_timeout = config.phase_timeout;
            rc.idle_timeout = config.phase_timeout;
            rc.slow_reader_timeout = config.phase_timeout;
            let handle = Relay::bind(rc).await?;
            (handle.local_addr(), Some(handle))
        }
    };
    let rss_before = rss(addr).await;

    let started = Instant::now();
    let clients = timeout(config.phase_timeout, connect_all(addr, &config))
        .await
        .map_err(|_| LoadError::Timeout("connect"))??;
    let connect_time = started.elapsed();
    let rss_connected = rss(addr).await;

    let epoch = Instant::now();
    let traffic = timeout(config.phase_timeout, traffic(clients, &config, epoch))
        .await
        .map_err(|_| LoadError::Timeout("traffic"))??;
    let traffic_time = epoch.elapsed();
    let rss_after = rss(addr).await;
    if let Some(relay) = relay {
        relay.shutdown().await;
    }

    let mut latencies = traffic.latencies;
    latencies.sort_unstable();
    let pick = |q: usize| quantile(&latencies, q);
    Ok(LoadReport {
        pairs: config.pairs,
        connections: config.pairs * 2,
        frames: latencies.len() as u64,
        bytes: traffic.bytes,
        connect_time,
        traffic_time,
        p50: pick(50),
        p99: pick(99),
        max: Duration::from_nanos(latencies.last().copied().unwrap_or(0)),
        in_process,
        rss_before,
        rss_connected,
        rss_after,
    })
}

/// Connects and pairs every pair; returns the clients as (pair, side).
/// The `q`-th percentile of sorted nanosecond latencies (the value at index `len · q / 100`),
/// zero when there are none.
fn quantile(sorted: &[u64], q: usize) -> Duration {
    let i = (sorted.len() * q / 100).min(sorted.len().saturating_sub(1));
    Duration::from_nanos(sorted.get(i).copied().unwrap_or(0))
}

async fn connect_all(
    addr: SocketAddr,
    config: &LoadConfig,
) -> Result<Vec<(u32, Client)>, LoadError> {
    let nonce = crate::clock::unix_nanos_u64();
    let gate = Arc::new(Semaphore::new(config.connect_parallelism));
    let mut set = JoinSet::new();
    for pair in 0..config.pairs as u32 {
        let gate = Arc::clone(&gate);
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut seed = [0u8; 16];
            seed[..4].copy_from_slice(&pair.to_le_bytes());
            seed[8..].copy_from_slice(&nonce.to_le_bytes());
            let rid = SharedSeed::from_bytes(seed).v0_rendezvous_id();
            let request = |n: u8| {
                let uuid = Uuid::new_v4([n ^ (pair as u8); 16]);
                let json = V0::request_rendezvous(1.0, uuid, &rid).to_json_bytes();
                Message::Binary(Bytes::from(json))
            };
            let mut a = connect(addr).await?;
            a.send(request(1)).await.map_err(client_err)?;
            expect_notice(&mut a, "NOTIFY_RENDEZVOUS_NOT_READY").await?;
            let mut b = connect(addr).await?;
            b.send(request(2)).await.map_err(client_err)?;
            expect_notice(&mut b, "NOTIFY_RENDEZVOUS").await?;
            expect_notice(&mut a, "NOTIFY_RENDEZVOUS").await?;
            Ok::<_, LoadError>([(pair, a), (pair, b)])
        });
    }
    let mut clients = Vec::with_capacity(config.pairs * 2);
    while let Some(done) = set.join_next().await {
        let pair = done.map_err(|e| LoadError::Client(e.to_string()))??;
        clients.extend(pair);
    }
    Ok(clients)
}

async fn connect(addr: SocketAddr) -> Result<Client, LoadError> {
    let tcp = TcpStream::connect(addr).await.map_err(client_err)?;
    let _ = tcp.set_nodelay(true);
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(1 << 20);
    let (ws, _) = client_async_with_config(format!("ws://{addr}/"), tcp, Some(config))
        .await
        .map_err(client_err)?;
    Ok(ws)
}

fn client_err(e: impl fmt::Display) -> LoadError {
    LoadError::Client(e.to_string())
}

async fn expect_notice(ws: &mut Client, name: &str) -> Result<(), LoadError> {
    let frame = ws
        .next()
        .await
        .ok_or_else(|| LoadError::Client("closed while pairing".into()))?
        .map_err(client_err)?;
    let message = V0::from_json_bytes(&frame.into_data()).map_err(client_err)?;
    if message.name() != name {
        return Err(LoadError::Client(format!(
            "expected {name}, got {}",
            message.name()
        )));
    }
    Ok(())
}

struct Traffic {
    latencies: Vec<u64>,
    bytes: u64,
}

async fn traffic(
    clients: Vec<(u32, Client)>,
    config: &LoadConfig,
    epoch: Instant,
) -> Result<Traffic, LoadError> {
    let mut set = JoinSet::new();
    let count = clients.len() as u32;
    for (index, (pair, ws)) in clients.into_iter().enumerate() {
        let (mut sink, mut stream) = ws.split();
        let (frames, size, interval) = (config.frames, config.frame_size, config.interval);
        // Paced senders start spread over one interval, not all at once.
        let offset = interval.map(|i| i * index as u32 / count.max(1));
        set.spawn(async move {
            if let Some(offset) = offset {
                tokio::time::sleep(offset).await;
            }
            for k in 0..frames {
                let nanos = epoch.elapsed().as_nanos() as u64;
                let frame = load_frame(pair, k as u32, nanos, size);
                let result = if interval.is_some() || (k + 1) % FLUSH_EVERY == 0 {
                    sink.send(frame).await
                } else {
                    sink.feed(frame).await
                };
                result.map_err(client_err)?;
                if let Some(pause) = interval {
                    tokio::time::sleep(pause).await;
                }
            }
            sink.flush().await.map_err(client_err)?;
            Ok::<_, LoadError>(Side::Sent(sink))
        });
        set.spawn(async move {
            let mut latencies = Vec::with_capacity(frames);
            let mut bytes = 0u64;
            for k in 0..frames {
                let frame = stream
                    .next()
                    .await
                    .ok_or_else(|| LoadError::Check(format!("pair {pair}: closed early")))?
                    .map_err(client_err)?;
                let data = frame.into_data();
                let sent = check_frame(&data, pair, k as u32, size)?;
                let now = epoch.elapsed().as_nanos() as u64;
                latencies.push(now.saturating_sub(sent));
                bytes += data.len() as u64;
            }
            Ok(Side::Received(latencies, bytes))
        });
    }
    let mut out = Traffic {
        latencies: Vec::with_capacity(config.pairs * 2 * config.frames),
        bytes: 0,
    };
    let mut sinks = Vec::new();
    while let Some(done) = set.join_next().await {
        match done.map_err(|e| LoadError::Client(e.to_string()))?? {
            Side::Sent(sink) => sinks.push(sink),
            Side::Received(latencies, bytes) => {
                out.latencies.extend(latencies);
                out.bytes += bytes;
            }
        }
    }
    for mut sink in sinks {
        let _ = sink.close().await;
    }
    Ok(out)
}

enum Side {
    Sent(futures_util::stream::SplitSink<Client, Message>),
    Received(Vec<u64>, u64),
}

fn load_frame(pair: u32, k: u32, nanos: u64, size: usize) -> Message {
    let mut buf = Vec::with_capacity(size);
    buf.push(MARK);
    buf.extend_from_slice(&pair.to_le_bytes());
    buf.extend_from_slice(&k.to_le_bytes());
    buf.extend_from_slice(&nanos.to_le_bytes());
    buf.extend((HEADER..size).map(|i| (i as u32 ^ k) as u8));
    Message::Binary(Bytes::from(buf))
}

/// Checks a received frame byte for byte; returns its send time.
fn check_frame(data: &[u8], pair: u32, k: u32, size: usize) -> Result<u64, LoadError> {
    let mut time = [0u8; 8];
    time.copy_from_slice(data.get(9..HEADER).unwrap_or(&[0; 8]));
    let nanos = u64::from_le_bytes(time);
    if load_frame(pair, k, nanos, size).into_data() != data {
        return Err(LoadError::Check(format!(
            "pair {pair}: frame {k} differs from what was sent"
        )));
    }
    Ok(nanos)
}

/// The relay's RSS from its `/metrics`.
async fn relay_rss(addr: SocketAddr) -> Option<u64> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    timeout(Duration::from_secs(5), tcp.read_to_string(&mut body))
        .await
        .ok()?
        .ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_check_byte_for_byte() {
        let f = load_frame(7, 3, 12345, 64).into_data();
        assert_eq!(f.len(), 64);
        assert_eq!(check_frame(&f, 7, 3, 64).unwrap(), 12345);
        let mut bad = f.to_vec();
        bad[40] ^= 1;
        assert!(check_frame(&bad, 7, 3, 64).is_err());
        assert!(check_frame(&f, 7, 4, 64).is_err());
        assert!(!moneysocket::v0::codec::is_cleartext(&f));
    }

    #[test]
    fn quantiles_pick_the_right_latency() {
        let ns = Duration::from_nanos;
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&hundred, 50), ns(51));
        assert_eq!(quantile(&hundred, 99), ns(100));
        // One slow frame among 1000: p50 and p99 stay fast, only the maximum shows it.
        let mut skewed = vec![1_000u64; 999];
        skewed.push(9_000_000);
        assert_eq!(quantile(&skewed, 50), ns(1_000));
        assert_eq!(quantile(&skewed, 99), ns(1_000));
        assert_eq!(quantile(&skewed, 100), ns(9_000_000));
        let spread: Vec<u64> = (0..1000).map(|i| i * 10).collect();
        assert_eq!(quantile(&spread, 50), ns(5_000));
        assert_eq!(quantile(&spread, 99), ns(9_900));
        assert_eq!(quantile(&[], 50), Duration::ZERO);
        assert_eq!(quantile(&[7], 99), ns(7));
    }
}
