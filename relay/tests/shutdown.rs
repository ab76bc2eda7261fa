#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Graceful shutdown closes every client with 1001 and stops listening.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn shutdown_closes_everyone_and_stops_listening() {
    let relay = start(|c| c.shutdown_timeout = Duration::from_secs(3)).await;
    let addr = relay.local_addr();
    let (a, b) = pair(addr, &rid(1)).await;
    let mut w = connect(addr).await;
    w.send(request(&rid(2), 1)).await.unwrap();
    expect_notice(&mut w, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    let silent = connect(addr).await;

    // Clients keep reading (and so answer the close handshake) meanwhile.
    let watchers: Vec<_> = [a, b, w, silent]
        .into_iter()
        .map(|mut ws| tokio::spawn(async move { closed(&mut ws).await }))
        .collect();
    let t0 = Instant::now();
    relay.shutdown().await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    for w in watchers {
        let frame = w.await.unwrap().expect("close frame");
        assert_eq!(frame.code, CloseCode::Away);
        assert_eq!(frame.reason.as_str(), "relay shutting down");
    }
    assert!(try_connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_cuts_off_clients_that_never_answer() {
    let relay = start(|c| c.shutdown_timeout = Duration::from_millis(500)).await;
    let addr = relay.local_addr();
    // These clients never read, so they never answer the close frame.
    let (_a, _b) = pair(addr, &rid(1)).await;
    let t0 = Instant::now();
    relay.shutdown().await;
    assert!(t0.elapsed() < Duration::from_secs(2));
}
