#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Misbehaving clients are turned away without taking the relay down or
//! disturbing an unrelated pair that keeps exchanging frames meanwhile.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use lichen_relay::RejectReason;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// After abuse: the relay still pairs newcomers.
async fn still_serving(addr: SocketAddr, n: u8) {
    let (mut a, mut b) = pair(addr, &rid(n)).await;
    relay_one(&mut a, &mut b, blob(n.into(), 64)).await;
}

#[tokio::test]
async fn malformed_and_early_frames_are_dropped_without_harm() {
    let relay = start(|c| c.max_dropped_frames = 100).await;
    let addr = relay.local_addr();
    let healthy = Healthy::start(addr, 1).await;

    let mut x = connect(addr).await;
    // Broken JSON, JSON that is not a message, a bad rendezvous id, binary
    // data before any request, a valid message that is not a request.
    x.send(Message::text("{\"timestamp\": 1, oops"))
        .await
        .unwrap();
    x.send(Message::text("[1, 2, 3]")).await.unwrap();
    let bad_rid = request(&rid(9), 1)
        .into_text()
        .unwrap()
        .replace(&rid(9).to_string(), "zz");
    x.send(Message::text(bad_rid)).await.unwrap();
    x.send(Message::Binary(Bytes::from(blob(1, 50))))
        .await
        .unwrap();
    let ping = moneysocket::v0::Message::request(
        "REQUEST_PING",
        1.0,
        moneysocket::uuid::Uuid::new_v4([1; 16]),
    )
    .to_json_bytes();
    x.send(Message::Binary(Bytes::from(ping))).await.unwrap();
    // The connection is still usable: it can ask and wait.
    x.send(request(&rid(10), 1)).await.unwrap();
    expect_notice(&mut x, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    // While waiting, frames are dropped too.
    x.send(Message::Binary(Bytes::from(blob(2, 50))))
        .await
        .unwrap();

    eventually(|| {
        let m = relay.metrics();
        m.rejected(RejectReason::Malformed) == 3 && m.rejected(RejectReason::Unpaired) == 3
    })
    .await;
    still_serving(addr, 11).await;
    healthy.finish().await;
    relay.shutdown().await;
}

#[tokio::test]
async fn an_oversize_frame_closes_only_its_connection() {
    let relay = start(|c| c.max_frame = 4096).await;
    let addr = relay.local_addr();
    let healthy = Healthy::start(addr, 1).await;

    // Before pairing.
    let mut x = connect(addr).await;
    let _ = x.send(Message::Binary(Bytes::from(vec![0xff; 5000]))).await;
    let close = expect_close(&mut x, CloseCode::Size).await;
    assert_eq!(close.reason.as_str(), "frame too large");

    // After pairing: the sender is closed, its peer hears END.
    let (mut a, mut b) = pair(addr, &rid(2)).await;
    relay_one(&mut a, &mut b, blob(1, 4096)).await;
    let _ = a.send(Message::Binary(Bytes::from(vec![0xff; 4097]))).await;
    expect_close(&mut a, CloseCode::Size).await;
    expect_notice(&mut b, "NOTIFY_RENDEZVOUS_END").await;

    assert_eq!(relay.metrics().rejected(RejectReason::Oversize), 2);
    still_serving(addr, 3).await;
    healthy.finish().await;
    relay.shutdown().await;
}

#[tokio::test]
async fn a_junk_flood_is_cut_off_after_max_dropped_frames() {
    let relay = start(|c| c.max_dropped_frames = 16).await;
    let addr = relay.local_addr();
    let healthy = Healthy::start(addr, 1).await;

    // Several flooders at once, each sending (at most) 2000 junk frames.
    let mut flooders = Vec::new();
    for i in 0..4u32 {
        flooders.push(tokio::spawn(async move {
            let mut x = connect(addr).await;
            let mut sent = 0;
            for k in 0..2000u32 {
                let junk = if k % 2 == 0 {
                    Message::Binary(Bytes::from(blob(i + k, 300)))
                } else {
                    Message::text("{not json")
                };
                if x.send(junk).await.is_err() {
                    break;
                }
                sent += 1;
            }
            let close = closed(&mut x).await;
            (sent, close)
        }));
    }
    for f in flooders {
        let (_sent, close) = f.await.unwrap();
        let close = close.expect("flooder gets a close frame");
        assert_eq!(close.code, CloseCode::Policy);
        assert_eq!(close.reason.as_str(), "too many unexpected frames");
    }
    assert_eq!(relay.metrics().rejected(RejectReason::TooManyDropped), 4);
    still_serving(addr, 2).await;
    healthy.finish().await;
    relay.shutdown().await;
}

#[tokio::test]
async fn a_slow_reader_is_closed_and_the_relay_does_not_buffer_for_it() {
    let relay = start(|c| {
        c.slow_reader_timeout = Duration::from_millis(500);
        c.queue_frames = 8;
    })
    .await;
    let addr = relay.local_addr();
    let healthy = Healthy::start(addr, 1).await;

    // `slow` never reads after pairing; `fast` sends 32 KiB frames until it
    // hears that its peer left (at most 2000 frames, 64 MiB).
    let (fast, slow) = pair(addr, &rid(2)).await;
    let (mut fast_tx, mut fast_rx) = futures_util::StreamExt::split(fast);
    let sent = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&sent);
    let sender = tokio::spawn(async move {
        for k in 0..2000u32 {
            let frame = Message::Binary(Bytes::from(blob(k, 32 * 1024)));
            match tokio::time::timeout(STEP, fast_tx.send(frame)).await {
                Ok(Ok(())) => counter.store(k + 1, Ordering::Relaxed),
                _ => break,
            }
        }
    });
    let v = loop {
        let m = next_frame_split(&mut fast_rx).await;
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&m.into_data()) {
            break v;
        }
    };
    let sent_at_end = sent.load(Ordering::Relaxed);
    sender.abort();
    assert_eq!(v["notification_name"], "NOTIFY_RENDEZVOUS_END");
    eventually(|| relay.metrics().rejected(RejectReason::SlowReader) == 1).await;
    // The sender was held back (TCP backpressure through the bounded queue)
    // rather than buffered for: when the slow reader was dropped, only what
    // fits in the socket buffers and the 8-frame queue had gone out.
    eprintln!("frames sent before END: {sent_at_end}");
    assert!(sent_at_end < 1000, "sent {sent_at_end}");
    drop(slow);
    still_serving(addr, 3).await;
    healthy.finish().await;
    relay.shutdown().await;
}

async fn next_frame_split(rx: &mut futures_util::stream::SplitStream<Ws>) -> Message {
    use futures_util::StreamExt;
    tokio::time::timeout(STEP, rx.next())
        .await
        .expect("frame in time")
        .expect("open")
        .expect("ok")
}

/// A raw TCP connection from a chosen loopback source address.
async fn tcp_from(source: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

async fn upgrade_status(tcp: &mut TcpStream) -> String {
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(STEP, tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn per_ip_and_total_connection_limits_are_enforced() {
    let relay = start(|c| {
        c.max_per_ip = 3;
        c.max_connections = 5;
    })
    .await;
    let addr = relay.local_addr();

    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(addr).await);
    }
    // A fourth from 127.0.0.1 is refused with 429 …
    let status = upgrade_status(&mut tcp_from([127, 0, 0, 1], addr).await).await;
    assert!(status.contains("429"), "{status}");
    assert!(try_connect(addr).await.is_err());
    // … while another loopback address still gets in, up to the total cap.
    let mut other1 = tcp_from([127, 0, 0, 2], addr).await;
    assert!(upgrade_status(&mut other1).await.contains("101"));
    let mut other2 = tcp_from([127, 0, 0, 2], addr).await;
    let keep = upgrade_status(&mut other2).await;
    assert!(keep.contains("101"), "{keep}");
    let status = upgrade_status(&mut tcp_from([127, 0, 0, 3], addr).await).await;
    assert!(status.contains("503"), "{status}");

    // /metrics still answers when the relay is full.
    let (status, body) = http_get(addr, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    assert!(sample(&body, "lichen_relay_rejections_total{reason=\"ip_limit\"}") >= 2);
    assert!(
        sample(
            &body,
            "lichen_relay_rejections_total{reason=\"conn_limit\"}"
        ) >= 1
    );

    // Places are given back when connections close.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _again = connect(addr).await;
    relay.shutdown().await;
}

#[tokio::test]
async fn too_many_waiting_clients_are_told_to_come_back() {
    let relay = start(|c| c.max_pending = 2).await;
    let addr = relay.local_addr();
    let mut waiting = Vec::new();
    for n in 0..2 {
        let mut w = connect(addr).await;
        w.send(request(&rid(100 + n), 1)).await.unwrap();
        expect_notice(&mut w, "NOTIFY_RENDEZVOUS_NOT_READY").await;
        waiting.push(w);
    }
    let mut extra = connect(addr).await;
    extra.send(request(&rid(110), 1)).await.unwrap();
    expect_close(&mut extra, CloseCode::Again).await;
    // Completing a pair is always allowed.
    let mut partner = connect(addr).await;
    partner.send(request(&rid(100), 2)).await.unwrap();
    expect_notice(&mut partner, "NOTIFY_RENDEZVOUS").await;
    assert_eq!(relay.metrics().rejected(RejectReason::PendingLimit), 1);
    relay.shutdown().await;
}

#[tokio::test]
async fn plain_http_and_bad_handshakes_get_http_errors() {
    let relay = start(|c| c.handshake_timeout = Duration::from_millis(300)).await;
    let addr = relay.local_addr();
    let (status, _) = http_get(addr, "/").await;
    assert!(status.contains("426"), "{status}");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    let _ = tcp.read_to_string(&mut text).await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // A client that sends nothing is dropped after the handshake timeout.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(STEP, idle.read(&mut buf))
        .await
        .unwrap();
    assert_eq!(n.unwrap_or(0), 0);
    let m = relay.metrics();
    assert_eq!(m.rejected(RejectReason::BadRequest), 2);
    assert_eq!(m.timed_out(lichen_relay::TimeoutKind::Handshake), 1);
    relay.shutdown().await;
}
