#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The deployed clients' exact frames against this relay, compared with what the deployed
//! relay (py-moneysocket relayd) answered to the same frames (`vectors/py-moneysocket-relay.json`).

mod common;

use common::*;
use futures_util::SinkExt;
use moneysocket::json::Json;
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

const DEPLOYED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../vectors/py-moneysocket-relay.json"
));

/// One transcript event's frame: (is binary, bytes).
fn frame_of(e: &Value) -> (bool, Vec<u8>) {
    let bytes = match e["utf8"].as_str() {
        Some(s) => s.as_bytes().to_vec(),
        None => unhex(e["hex"].as_str().unwrap()),
    };
    (e["frame"] == "binary", bytes)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn events(client: &str, dir: &str) -> Vec<(bool, Vec<u8>)> {
    let v: Value = serde_json::from_str(DEPLOYED).unwrap();
    v["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["client"] == client && e["dir"] == dir)
        .map(frame_of)
        .collect()
}

fn to_message((binary, bytes): &(bool, Vec<u8>)) -> Message {
    if *binary {
        Message::Binary(Bytes::from(bytes.clone()))
    } else {
        Message::text(String::from_utf8(bytes.clone()).unwrap())
    }
}

/// Checks that `ours` is the notice `theirs` is, up to its own timestamp and UUID: same
/// fields in the same order, same values, written the way Python's `json.dumps` writes.
fn same_notice(ours: Message, theirs: &(bool, Vec<u8>)) {
    assert!(ours.is_binary(), "notices go out as binary frames");
    let ours = ours.into_data().to_vec();
    let (o, t) = (Json::parse(&ours).unwrap(), Json::parse(&theirs.1).unwrap());
    let (o, t) = (o.as_object().unwrap(), t.as_object().unwrap());
    let keys = |j: &moneysocket::json::JsonObject| j.keys().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(keys(o), keys(t));
    for (k, v) in t.iter() {
        if k != "timestamp" && k != "notification_uuid" {
            assert_eq!(o.get(k), Some(v), "field {k}");
        }
    }
    let python_style = Json::Object(o.clone()).to_python_string();
    assert_eq!(String::from_utf8(ours).unwrap(), python_style);
}

#[tokio::test]
async fn deployed_client_frames_get_the_deployed_relays_answers() {
    let relay = start(|_| {}).await;
    let addr = relay.local_addr();
    let a_sent = events("A", "sent");
    let a_got = events("A", "received");
    let b_sent = events("B", "sent");
    let b_got = events("B", "received");

    let mut a = connect(addr).await;
    a.send(to_message(&a_sent[0])).await.unwrap();
    same_notice(next_frame(&mut a).await, &a_got[0]); // NOT_READY
    let mut b = connect(addr).await;
    b.send(to_message(&b_sent[0])).await.unwrap();
    same_notice(next_frame(&mut b).await, &b_got[0]); // NOTIFY_RENDEZVOUS, newcomer first
    same_notice(next_frame(&mut a).await, &a_got[1]); // then the one that waited

    // A's frames after pairing: the tunnel frame and the marker arrive byte for byte, as at
    // the deployed relay. (Where the two relays differ, by design: the deployed relay
    // re-serialises a JSON message and drops text frames; this one forwards both verbatim.)
    for f in &a_sent[1..] {
        a.send(to_message(f)).await.unwrap();
    }
    let tunnel = next_frame(&mut b).await;
    assert_eq!(tunnel.into_data().as_ref(), b_got[1].1.as_slice());
    assert_eq!(a_sent[1].1, b_got[1].1);
    let ping = next_frame(&mut b).await.into_data();
    assert_eq!(ping.as_ref(), a_sent[2].1.as_slice());
    assert!(next_frame(&mut b).await.is_text());
    let marker = next_frame(&mut b).await;
    assert_eq!(marker.into_data().as_ref(), b_got[3].1.as_slice());

    // A leaves: B gets END (null reference), then the close.
    a.close(None).await.unwrap();
    same_notice(next_frame(&mut b).await, &b_got[4]);
    expect_close(&mut b, CloseCode::Normal).await;
    relay.shutdown().await;
}
