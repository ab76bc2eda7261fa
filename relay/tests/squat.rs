#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Rendezvous squatting (ADR 0017): whoever knows a rendezvous id can pair
//! two connections of their own on it. A pair that never carried a frame
//! from both sides is displaced by a newcomer once `two_way_timeout` has
//! passed; a pair that talked both ways keeps its id.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use lichen_relay::RejectReason;
use moneysocket::RendezvousId;
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

const TWO_WAY: Duration = Duration::from_secs(1);

/// A relay whose only short timer is `two_way_timeout`, so that nothing
/// else (idle, wait) ends the squat for us.
async fn relay() -> lichen_relay::RelayHandle {
    start(|c| {
        c.two_way_timeout = TWO_WAY;
        c.idle_timeout = Duration::from_secs(120);
        c.wait_timeout = Duration::from_secs(60);
    })
    .await
}

/// What a squatting connection saw before the relay closed it.
#[derive(Debug)]
struct Seen {
    notices: Vec<String>,
    close: Option<CloseFrame>,
}

/// Reads until the relay closes `ws`; if `talk`, sends a frame every 300 ms
/// meanwhile (the squatter keeping its slot "active" from one side).
async fn squat(mut ws: Ws, talk: bool) -> Seen {
    let mut notices = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    let mut n = 0u32;
    loop {
        tokio::select! {
            _ = tick.tick(), if talk => {
                n += 1;
                if ws.send(Message::Binary(Bytes::from(blob(n, 40)))).await.is_err() {
                    return Seen { notices, close: None };
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Close(close))) => return Seen { notices, close },
                Some(Ok(Message::Binary(b))) => {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                        notices.push(v["notification_name"].as_str().unwrap_or("?").to_owned());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Seen { notices, close: None },
            },
        }
    }
}

/// An honest client: asks on `id` until it is paired (a refusal is
/// NOT_READY followed by a close; it then tries again after 200 ms).
async fn honest(addr: SocketAddr, id: RendezvousId, n: u8) -> (Ws, u32) {
    let mut refusals = 0;
    loop {
        let mut ws = connect(addr).await;
        ws.send(request(&id, n)).await.unwrap();
        let first = next_json(&mut ws).await;
        if first["notification_name"] == "NOTIFY_RENDEZVOUS" {
            return (ws, refusals); // the peer was waiting already
        }
        assert_eq!(first["notification_name"], "NOTIFY_RENDEZVOUS_NOT_READY");
        // Either paired (the peer arrives) or refused (closed at once).
        loop {
            match timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                    assert_eq!(v["notification_name"], "NOTIFY_RENDEZVOUS", "got {v}");
                    return (ws, refusals);
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => break,
                Ok(Some(Ok(_))) => {}
                Err(_) => panic!("honest client {n}: no answer in 30 s"),
            }
        }
        refusals += 1;
        sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_one_sided_squat_is_displaced_and_an_honest_pair_gets_through() {
    let relay = relay().await;
    let addr = relay.local_addr();
    let id = rid(40);
    // The attacker pairs two connections on the id and keeps it busy with
    // a frame every 300 ms from one side only.
    let (x1, x2) = pair(addr, &id).await;
    let talker = tokio::spawn(squat(x1, true));
    let silent = tokio::spawn(squat(x2, false));
    let started = Instant::now();

    // The honest pair keeps trying, as Lichen's relay link does.
    let (a, b) = timeout(TWO_WAY + Duration::from_secs(8), async {
        tokio::join!(honest(addr, id, 1), honest(addr, id, 2))
    })
    .await
    .expect("the honest pair got through the squat in time");
    let ((mut a, ra), (mut b, rb)) = (a, b);
    eprintln!(
        "honest pair paired after {:?} ({ra} + {rb} refusals)",
        started.elapsed()
    );
    // ... and really talks both ways.
    relay_one(&mut a, &mut b, blob(1, 120)).await;
    relay_one(&mut b, &mut a, blob(2, 120)).await;

    // Both squatters were told END, then closed with a policy code.
    for seen in [talker, silent] {
        let seen = timeout(STEP, seen).await.unwrap().unwrap();
        assert_eq!(
            seen.notices.last().map(String::as_str),
            Some("NOTIFY_RENDEZVOUS_END"),
            "{seen:?}"
        );
        let close = seen.close.expect("a close frame");
        assert_eq!(close.code, CloseCode::Policy);
        assert_eq!(close.reason.as_str(), "pair displaced: no two-way traffic");
    }
    assert_eq!(relay.metrics().rejected(RejectReason::Displaced), 1);
    relay.shutdown().await;
}

#[tokio::test]
async fn a_pair_that_talked_both_ways_keeps_its_id() {
    let relay = relay().await;
    let addr = relay.local_addr();
    let id = rid(41);
    let (mut a, mut b) = pair(addr, &id).await;
    relay_one(&mut a, &mut b, blob(1, 60)).await;
    relay_one(&mut b, &mut a, blob(2, 60)).await;
    sleep(TWO_WAY + Duration::from_millis(300)).await;

    // Long after the two-way timeout, a newcomer is still refused.
    let mut c = connect(addr).await;
    c.send(request(&id, 3)).await.unwrap();
    expect_notice(&mut c, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    let close = expect_close(&mut c, CloseCode::Policy).await;
    assert_eq!(close.reason.as_str(), "rendezvous id already paired");
    relay_one(&mut a, &mut b, blob(3, 60)).await;
    relay_one(&mut b, &mut a, blob(4, 60)).await;
    assert_eq!(relay.metrics().rejected(RejectReason::Displaced), 0);
    relay.shutdown().await;
}

#[tokio::test]
async fn a_fresh_one_sided_pair_is_not_displaced() {
    // Within the two-way timeout a pair is left alone, even if only one
    // side has spoken yet (its peer may still be answering).
    let relay = start(|c| c.two_way_timeout = Duration::from_secs(30)).await;
    let addr = relay.local_addr();
    let id = rid(42);
    let (mut a, mut b) = pair(addr, &id).await;
    relay_one(&mut a, &mut b, blob(1, 60)).await;
    let mut c = connect(addr).await;
    c.send(request(&id, 3)).await.unwrap();
    expect_notice(&mut c, "NOTIFY_RENDEZVOUS_NOT_READY").await;
    expect_close(&mut c, CloseCode::Policy).await;
    relay_one(&mut b, &mut a, blob(2, 60)).await;
    assert_eq!(relay.metrics().rejected(RejectReason::Displaced), 0);
    relay.shutdown().await;
}
