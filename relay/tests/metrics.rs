#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `GET /metrics` on the relay's own port, in Prometheus text format.

mod common;

use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::{Bytes, Message};

#[tokio::test]
async fn metrics_count_connections_pairs_frames_and_rejections() {
    let relay = start(|_| {}).await;
    let addr = relay.local_addr();

    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(sample(&body, "lichen_relay_connections_open"), 0);
    assert!(body.contains("# TYPE lichen_relay_frames_forwarded_total counter"));

    let (mut a, mut b) = pair(addr, &rid(1)).await;
    for i in 0..5 {
        relay_one(&mut a, &mut b, blob(i, 100)).await;
    }
    relay_one(&mut b, &mut a, blob(9, 1000)).await;
    let mut w = connect(addr).await;
    w.send(request(&rid(2), 1)).await.unwrap();
    expect_notice(&mut w, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    w.send(Message::Binary(Bytes::from(blob(1, 10))))
        .await
        .unwrap();
    w.send(Message::text("{broken")).await.unwrap();
    eventually(|| {
        relay
            .metrics()
            .rejected(lichen_relay::RejectReason::Malformed)
            == 1
    })
    .await;

    let (_, body) = http_get(addr, "/metrics").await;
    for (series, value) in [
        ("lichen_relay_connections_open", 3),
        ("lichen_relay_connections_total", 3),
        ("lichen_relay_clients_waiting", 1),
        ("lichen_relay_pairs_active", 1),
        ("lichen_relay_pairs_total", 1),
        ("lichen_relay_frames_forwarded_total", 6),
        ("lichen_relay_bytes_forwarded_total", 1500),
        ("lichen_relay_rejections_total{reason=\"unpaired\"}", 1),
        ("lichen_relay_rejections_total{reason=\"malformed\"}", 1),
        ("lichen_relay_rejections_total{reason=\"oversize\"}", 0),
        ("lichen_relay_timeouts_total{kind=\"wait\"}", 0),
    ] {
        assert_eq!(sample(&body, series), value, "{series}");
    }
    assert!(sample(&body, "process_resident_memory_bytes") > 0);
    // Every line is a comment or `name{labels} value`.
    for line in body.lines() {
        assert!(
            line.starts_with("# HELP ")
                || line.starts_with("# TYPE ")
                || line
                    .rsplit_once(' ')
                    .is_some_and(|(_, v)| v.parse::<u64>().is_ok()),
            "{line}"
        );
    }
    // The snapshot API agrees.
    let snap = relay.metrics();
    assert_eq!(snap.to_prometheus().lines().count(), body.lines().count());

    // Disabled metrics answer 404.
    let quiet = start(|c| c.serve_metrics = false).await;
    let (status, _) = http_get(quiet.local_addr(), "/metrics").await;
    assert!(status.contains("404"), "{status}");
    quiet.shutdown().await;
    relay.shutdown().await;
}
