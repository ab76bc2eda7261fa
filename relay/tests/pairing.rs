#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pairing, forwarding and teardown on the v0 rendezvous wire.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use lichen_relay::TimeoutKind;
use moneysocket::uuid::Uuid;
use moneysocket::v0::Message as V0;
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

fn check_envelope(v: &Value, name: &str, rid: &str, reference: Option<&str>) {
    assert_eq!(v["protocol"], "Moneysocket");
    assert_eq!(v["protocol_version"], "0.0.0");
    assert_eq!(v["message_class"], "NOTIFICATION");
    assert_eq!(v["notification_name"], name);
    assert_eq!(v["rendezvous_id"], rid);
    assert!(v["timestamp"].as_f64().unwrap() > 1.6e9);
    assert!(Uuid::parse(v["notification_uuid"].as_str().unwrap()).is_ok());
    match reference {
        Some(r) => assert_eq!(v["request_reference_uuid"], r),
        None => assert!(v["request_reference_uuid"].is_null()),
    }
}

#[tokio::test]
async fn two_clients_pair_and_exchange_frames_byte_exact() {
    let relay = start(|_| {}).await;
    let addr = relay.local_addr();
    let id = rid(1);
    let hex = id.to_string();

    let mut a = connect(addr).await;
    a.send(request(&id, 1)).await.unwrap();
    let frame = next_frame(&mut a).await;
    assert!(frame.is_binary(), "stock clients get binary notices");
    let v: Value = serde_json::from_slice(&frame.into_data()).unwrap();
    check_envelope(&v, "NOTIFY_RENDEZVOUS_NOT_READY", &hex, Some(&uuid(1)));
    // The notice is a valid v0 message for our own decoder too.
    V0::from_json_bytes(serde_json::to_string(&v).unwrap().as_bytes()).unwrap();

    let mut b = connect(addr).await;
    b.send(request(&id, 2)).await.unwrap();
    let vb = next_json(&mut b).await;
    check_envelope(&vb, "NOTIFY_RENDEZVOUS", &hex, Some(&uuid(2)));
    let va = next_json(&mut a).await;
    check_envelope(&va, "NOTIFY_RENDEZVOUS", &hex, Some(&uuid(1)));

    // Binary both ways, byte for byte, including an empty frame and one
    // close to the size cap.
    for (i, len) in [1usize, 0, 17, 1500, 60_000].into_iter().enumerate() {
        let mut f = blob(i as u32, len);
        if len == 0 {
            f.clear();
        }
        relay_one(&mut a, &mut b, f.clone()).await;
        relay_one(&mut b, &mut a, f).await;
    }
    // Text that is not JSON is forwarded as text.
    a.send(Message::text("hello, not json")).await.unwrap();
    let got = next_frame(&mut b).await;
    assert_eq!(got, Message::text("hello, not json"));
    // A valid v0 message in cleartext is forwarded verbatim.
    let ping = V0::request("REQUEST_PING", 1.25, Uuid::new_v4([9; 16])).to_json_bytes();
    b.send(Message::Binary(Bytes::from(ping.clone())))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut a).await.into_data().as_ref(),
        ping.as_slice()
    );

    let m = relay.metrics();
    assert_eq!(m.pairs_active, 1);
    assert_eq!(m.frames_forwarded, 12);
    relay.shutdown().await;
}

#[tokio::test]
async fn a_client_asking_in_text_gets_text_notices() {
    let relay = start(|_| {}).await;
    let id = rid(2);
    let json = V0::request_rendezvous(1.0, Uuid::new_v4([5; 16]), &id).to_json_bytes();
    let mut a = connect(relay.local_addr()).await;
    a.send(Message::text(String::from_utf8(json).unwrap()))
        .await
        .unwrap();
    let frame = next_frame(&mut a).await;
    assert!(frame.is_text());
    relay.shutdown().await;
}

#[tokio::test]
async fn a_third_client_on_a_paired_id_is_refused_and_the_pair_goes_on() {
    let relay = start(|_| {}).await;
    let addr = relay.local_addr();
    let id = rid(3);
    let (mut a, mut b) = pair(addr, &id).await;

    let mut c = connect(addr).await;
    c.send(request(&id, 3)).await.unwrap();
    let v = expect_notice(&mut c, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    assert_eq!(v["request_reference_uuid"], uuid(3));
    let close = expect_close(&mut c, CloseCode::Policy).await;
    assert_eq!(close.reason.as_str(), "rendezvous id already paired");

    relay_one(&mut a, &mut b, blob(1, 100)).await;
    relay_one(&mut b, &mut a, blob(2, 100)).await;
    assert_eq!(
        relay
            .metrics()
            .rejected(lichen_relay::RejectReason::DuplicateId),
        1
    );
    relay.shutdown().await;
}

#[tokio::test]
async fn peer_disconnect_sends_end_and_frees_the_id() {
    let relay = start(|_| {}).await;
    let addr = relay.local_addr();
    let id = rid(4);
    let (mut a, mut b) = pair(addr, &id).await;
    client_close(&mut b).await;
    let v = expect_notice(&mut a, "NOTIFY_RENDEZVOUS_END").await;
    check_envelope(&v, "NOTIFY_RENDEZVOUS_END", &id.to_string(), None);
    let close = expect_close(&mut a, CloseCode::Normal).await;
    assert_eq!(close.reason.as_str(), "peer left");

    // A dropped TCP connection (no close frame) ends the pair too.
    let (mut c, d) = pair(addr, &id).await;
    drop(d);
    expect_notice(&mut c, "NOTIFY_RENDEZVOUS_END").await;
    expect_close(&mut c, CloseCode::Normal).await;
    eventually(|| relay.metrics().connections_open == 0).await;
    let m = relay.metrics();
    assert_eq!((m.pairs_active, m.pairs_total), (0, 2));
    relay.shutdown().await;
}

#[tokio::test]
async fn a_lone_client_times_out_after_the_wait_timeout() {
    let relay = start(|c| c.wait_timeout = Duration::from_millis(300)).await;
    let mut a = connect(relay.local_addr()).await;
    let t0 = Instant::now();
    a.send(request(&rid(5), 1)).await.unwrap();
    expect_notice(&mut a, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    let close = expect_close(&mut a, CloseCode::Normal).await;
    assert_eq!(close.reason.as_str(), "no peer arrived in time");
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // A client that never even asks is timed out too.
    let mut silent = connect(relay.local_addr()).await;
    expect_close(&mut silent, CloseCode::Normal).await;
    eventually(|| relay.metrics().timed_out(TimeoutKind::Wait) == 2).await;
    assert_eq!(relay.metrics().clients_waiting, 0);
    relay.shutdown().await;
}

#[tokio::test]
async fn an_idle_pair_is_closed_but_a_busy_one_is_not() {
    let relay = start(|c| c.idle_timeout = Duration::from_millis(400)).await;
    let addr = relay.local_addr();
    let (mut a, mut b) = pair(addr, &rid(6)).await;
    // Busy for twice the idle timeout.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(800) {
        relay_one(&mut a, &mut b, blob(1, 10)).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Then quiet: both sides are closed.
    let fa = closed(&mut a).await.expect("close frame");
    let fb = closed(&mut b).await.expect("close frame");
    let reasons = [fa.reason.as_str(), fb.reason.as_str()];
    assert!(reasons.contains(&"pair idle too long"), "{reasons:?}");
    assert!(relay.metrics().timed_out(TimeoutKind::Idle) >= 1);
    relay.shutdown().await;
}

#[tokio::test]
async fn a_second_request_on_a_paired_connection_ends_the_pair() {
    let relay = start(|_| {}).await;
    let (mut a, mut b) = pair(relay.local_addr(), &rid(7)).await;
    a.send(request(&rid(8), 9)).await.unwrap();
    expect_close(&mut a, CloseCode::Protocol).await;
    expect_notice(&mut b, "NOTIFY_RENDEZVOUS_END").await;
    expect_close(&mut b, CloseCode::Normal).await;
    assert_eq!(
        relay
            .metrics()
            .rejected(lichen_relay::RejectReason::Protocol),
        1
    );
    relay.shutdown().await;
}
