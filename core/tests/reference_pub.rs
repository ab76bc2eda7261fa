//! Interoperability with evidence: what the reference Python pub (tinyssb-simplepub) wrote and
//! said while it pulled a Lichen feed (`vectors/reference/`, its README says how it was made).
//!
//! * its store directory imports into Lichen clean, holding exactly the packets Lichen sent;
//! * the pub's side of the transcript, replayed over a real WebSocket against a Lichen node
//!   holding that feed, gets Lichen's side again: the same GOset claim, WANTs under the same
//!   DMX, and every entry and chunk the pub received.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lichen::feed;
use lichen::node::{Node, NodeConfig};
use lichen::store::reference::import_reference;
use lichen::store::{SledStore, Store};
use lichen::wire::network::Network;
use lichen::{FeedId, Identity};
use tokio_tungstenite::tungstenite::{Bytes, Message};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/reference")
}

struct Packet {
    t: f64,
    from_pub: bool,
    bytes: Vec<u8>,
}

fn transcript() -> (serde_json::Value, Vec<Packet>) {
    let text = std::fs::read_to_string(dir().join("simplepub-pull.json")).unwrap();
    let j: serde_json::Value = serde_json::from_str(&text).unwrap();
    let packets = j["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Packet {
            t: p["t"].as_f64().unwrap(),
            from_pub: match p["dir"].as_str().unwrap() {
                "pub->lichen" => true,
                "lichen->pub" => false,
                other => panic!("direction {other}"),
            },
            bytes: hex::decode(p["hex"].as_str().unwrap()).unwrap(),
        })
        .collect();
    (j, packets)
}

fn lichen_feed() -> FeedId {
    let id = Identity::from_seed(&[0x5a; 32]);
    let (j, _) = transcript();
    assert_eq!(j["lichen"]["fid"].as_str().unwrap(), id.fid().to_hex());
    *id.fid()
}

/// The entries and chunks (120-byte packets) Lichen sent the pub.
fn data_sent_by_lichen(packets: &[Packet]) -> BTreeSet<Vec<u8>> {
    packets
        .iter()
        .filter(|p| !p.from_pub && p.bytes.len() == 120)
        .map(|p| p.bytes.clone())
        .collect()
}

fn imported() -> (tempfile::TempDir, Arc<dyn Store>) {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&tmp.path().join("s")).unwrap());
    let report = import_reference(
        store.as_ref(),
        &Network::deployed(),
        &dir().join("simplepub-store"),
    )
    .unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.feeds.len(), 1);
    let f = &report.feeds[0];
    assert_eq!(f.fid, lichen_feed());
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    assert_eq!((f.verified, f.new_entries, f.new_chunks), (4, 4, 7));
    assert_eq!(f.open_chains, 0);
    (tmp, store)
}

#[test]
fn the_reference_pubs_store_imports_clean_and_holds_what_lichen_sent() {
    let (_tmp, store) = imported();
    let fid = lichen_feed();
    let (_, packets) = transcript();
    let mut held = BTreeSet::new();
    for seq in 1..=4 {
        held.insert(
            store
                .entry(&fid, seq)
                .unwrap()
                .unwrap()
                .entry
                .bytes()
                .to_vec(),
        );
        for c in store.chunks(&fid, seq).unwrap() {
            held.insert(c.to_vec());
        }
    }
    assert_eq!(held.len(), 11);
    assert_eq!(held, data_sent_by_lichen(&packets));
    // The content reads back: the last post's text came through its side chain.
    let Some(feed::Content::Complete(last)) = feed::content(store.as_ref(), &fid, 4).unwrap()
    else {
        panic!("entry 4 is not complete")
    };
    let text = String::from_utf8_lossy(&last);
    assert!(
        text.contains("a longer post that needs a side chain"),
        "{text}"
    );
    assert!(
        text.contains(" 119"),
        "the side chain's tail is missing: {text}"
    );
}

#[test]
fn replaying_the_pubs_side_gets_lichens_side_again() {
    let (_tmp, store) = imported();
    let (_, packets) = transcript();
    let fid = lichen_feed();
    let node = Node::start(store.clone(), NodeConfig::default()).unwrap();
    node.add_feed(fid).unwrap();
    let addr = node.listen_ws("127.0.0.1:0").unwrap();

    let net = Network::deployed();
    let state = fid.0; // the GOset of one key: its XOR is the key
    let want_dmx = net.want_dmx(&state).0;
    let goset_dmx = net.goset_dmx().0;
    // Every packet the pub sent is one Lichen knows: a GOset packet, or a WANT/CHNK under
    // the DMX of the shared set or (before the pub learned Lichen's key) of the empty set.
    let empty = [0u8; 32];
    for p in packets.iter().filter(|p| p.from_pub) {
        let dmx = &p.bytes[..7];
        assert!(
            dmx == goset_dmx
                || dmx == want_dmx
                || dmx == net.chnk_dmx(&state).0
                || dmx == net.want_dmx(&empty).0
                || dmx == net.chnk_dmx(&empty).0,
            "the pub sent a packet Lichen would not recognise: {}",
            hex::encode(&p.bytes)
        );
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    rt.block_on(async {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
            .await
            .unwrap();
        let (mut tx, mut rx) = ws.split();
        let sink = got.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(m)) = rx.next().await {
                if let Message::Binary(b) = m {
                    sink.lock().unwrap().push(b.to_vec());
                }
            }
        });
        // The pub's packets at their recorded times (twice as fast).
        let start = tokio::time::Instant::now();
        for p in packets.iter().filter(|p| p.from_pub) {
            tokio::time::sleep_until(start + Duration::from_secs_f64(p.t / 2.0)).await;
            tx.send(Message::Binary(Bytes::from(p.bytes.clone())))
                .await
                .unwrap();
        }
        // Then a few seconds for the answers.
        tokio::time::sleep(Duration::from_secs(4)).await;
        reader.abort();
    });
    node.shutdown(Duration::from_secs(2));
    let got = got.lock().unwrap().clone();
    let got_set: BTreeSet<Vec<u8>> = got.iter().cloned().collect();

    // Lichen's GOset claim is the one the pub saw.
    let claims: BTreeSet<Vec<u8>> = packets
        .iter()
        .filter(|p| !p.from_pub && p.bytes.len() == 105)
        .map(|p| p.bytes.clone())
        .collect();
    assert!(!claims.is_empty());
    for c in &claims {
        assert!(
            got_set.contains(c),
            "Lichen's claim differs from the transcript"
        );
    }
    // Its WANTs are under the same DMX as the ones the pub received.
    let wants_then = packets
        .iter()
        .filter(|p| !p.from_pub && p.bytes[..7] == want_dmx)
        .count();
    let wants_now = got.iter().filter(|p| p[..7] == want_dmx).count();
    assert!(
        wants_then > 0 && wants_now > 0,
        "no WANTs: {wants_then} then, {wants_now} now"
    );
    // Every entry and chunk the pub received, it receives again.
    let data = data_sent_by_lichen(&packets);
    let missing = data.difference(&got_set).count();
    assert_eq!(
        missing,
        0,
        "{missing} of the {} entries and chunks the pub received were not sent in the replay",
        data.len()
    );
}
