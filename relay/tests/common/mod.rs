//! Helpers shared by the relay's integration tests: a relay with short
//! timeouts, raw WebSocket clients speaking the v0 rendezvous wire, and a
//! "healthy pair" that keeps exchanging frames in the background so tests
//! can check that abuse elsewhere does not disturb it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lichen_relay::{Relay, RelayConfig, RelayHandle};
use moneysocket::uuid::Uuid;
use moneysocket::v0::Message as V0;
use moneysocket::{RendezvousId, SharedSeed};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{client_async, WebSocketStream};

pub type Ws = WebSocketStream<TcpStream>;

/// Generous bound on any single wait in a test.
pub const STEP: Duration = Duration::from_secs(5);

/// A relay on 127.0.0.1 with test-sized timeouts, adjusted by `tweak`.
pub async fn start(tweak: impl FnOnce(&mut RelayConfig)) -> RelayHandle {
    let mut config = RelayConfig {
        wait_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        handshake_timeout: Duration::from_secs(2),
        slow_reader_timeout: Duration::from_secs(1),
        shutdown_timeout: Duration::from_secs(2),
        ..RelayConfig::default()
    };
    tweak(&mut config);
    Relay::bind(config).await.expect("relay starts")
}

pub async fn connect(addr: SocketAddr) -> Ws {
    try_connect(addr).await.expect("client connects")
}

pub async fn try_connect(addr: SocketAddr) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let tcp = TcpStream::connect(addr).await?;
    let (ws, _) = client_async(format!("ws://{addr}/"), tcp).await?;
    Ok(ws)
}

/// A rendezvous id derived (v0) from a seed built from `n`.
pub fn rid(n: u8) -> RendezvousId {
    SharedSeed::from_bytes([n; 16]).v0_rendezvous_id()
}

/// A request UUID built from `n`.
pub fn uuid(n: u8) -> String {
    Uuid::new_v4([n; 16]).to_string()
}

/// REQUEST_RENDEZVOUS as a stock client sends it (binary frame).
pub fn request(rid: &RendezvousId, n: u8) -> Message {
    let json = V0::request_rendezvous(1_700_000_000.5, Uuid::new_v4([n; 16]), rid).to_json_bytes();
    Message::Binary(Bytes::from(json))
}

/// The next data frame, with a bound on the wait.
pub async fn next_frame(ws: &mut Ws) -> Message {
    loop {
        let m = timeout(STEP, ws.next())
            .await
            .expect("frame in time")
            .expect("stream open")
            .expect("frame ok");
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

/// The next frame parsed as JSON (must be a binary frame unless `text`).
pub async fn next_json(ws: &mut Ws) -> Value {
    let m = next_frame(ws).await;
    assert!(
        m.is_binary() || m.is_text(),
        "expected a data frame, got {m:?}"
    );
    serde_json::from_slice(&m.into_data()).expect("JSON notice")
}

/// Asserts the next frame is the named notification and returns it.
pub async fn expect_notice(ws: &mut Ws, name: &str) -> Value {
    let v = next_json(ws).await;
    assert_eq!(v["notification_name"], name, "got {v}");
    v
}

/// Reads until the relay closes; returns its close frame (if any).
pub async fn closed(ws: &mut Ws) -> Option<CloseFrame> {
    let mut frame = None;
    loop {
        match timeout(STEP, ws.next()).await.expect("close in time") {
            Some(Ok(Message::Close(f))) => frame = f,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return frame,
        }
    }
}

/// Reads until the relay closes and checks the close code.
pub async fn expect_close(ws: &mut Ws, code: CloseCode) -> CloseFrame {
    let frame = closed(ws).await.expect("a close frame");
    assert_eq!(frame.code, code, "close reason {:?}", frame.reason);
    frame
}

/// Two paired clients on `rid`; checks the full notice exchange.
pub async fn pair(addr: SocketAddr, rid: &RendezvousId) -> (Ws, Ws) {
    let mut a = connect(addr).await;
    a.send(request(rid, 1)).await.unwrap();
    expect_notice(&mut a, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    let mut b = connect(addr).await;
    b.send(request(rid, 2)).await.unwrap();
    expect_notice(&mut b, "NOTIFY_RENDEZVOUS").await;
    expect_notice(&mut a, "NOTIFY_RENDEZVOUS").await;
    (a, b)
}

/// A binary frame that is not JSON.
pub fn blob(tag: u32, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(31) as u8 ^ tag as u8)
        .collect();
    if let Some(first) = v.first_mut() {
        *first = 0xff;
    }
    v
}

/// Sends `frame` one way and checks it arrives byte for byte.
pub async fn relay_one(from: &mut Ws, to: &mut Ws, frame: Vec<u8>) {
    from.send(Message::Binary(Bytes::from(frame.clone())))
        .await
        .unwrap();
    let got = next_frame(to).await;
    assert!(got.is_binary());
    assert_eq!(got.into_data().as_ref(), frame.as_slice());
}

/// A pair that exchanges frames both ways until stopped.
pub struct Healthy {
    stop: Arc<AtomicBool>,
    task: JoinHandle<u64>,
}

impl Healthy {
    pub async fn start(addr: SocketAddr, n: u8) -> Healthy {
        let (mut a, mut b) = pair(addr, &rid(n)).await;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut rounds = 0u64;
            while !flag.load(Ordering::Relaxed) {
                relay_one(&mut a, &mut b, blob(rounds as u32, 200)).await;
                relay_one(&mut b, &mut a, blob(rounds as u32 + 1, 300)).await;
                rounds += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            rounds
        });
        Healthy { stop, task }
    }

    /// Stops and checks that the pair kept working the whole time.
    pub async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let rounds = timeout(STEP, self.task)
            .await
            .expect("healthy pair stops in time")
            .expect("healthy pair never failed");
        assert!(rounds > 0, "healthy pair made progress");
        rounds
    }
}

/// A plain HTTP GET; returns (status line, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: relay\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    timeout(STEP, tcp.read_to_string(&mut text))
        .await
        .expect("answer in time")
        .unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// One sample of a metric from Prometheus text.
pub fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} missing in:\n{text}"))
        .parse()
        .unwrap()
}

/// Polls until `f` is true, bounded.
pub async fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + STEP;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends a close frame from the client.
pub async fn client_close(ws: &mut Ws) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await;
}
