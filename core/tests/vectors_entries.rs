//! Every entry and chunk in `vectors/tinyssb-entries.json`: identities and their text forms,
//! names, DMXs, signatures, message ids, side chains, and verification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{arr, hx, load, tagged};
use lichen::wire::bipf;
use lichen::wire::entry::{self, first_prev, BatchItem, EntryError, Name};
use lichen::wire::network::Network;
use lichen::wire::sidechain::{self, Chain20, Reassembly, SideChainError};
use lichen::wire::Mid;
use lichen::{FeedId, Identity};

fn feeds() -> Vec<serde_json::Value> {
    load("tinyssb-entries.json")["feeds"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn identities_and_text_forms() {
    for label in ["feed1", "feed2"] {
        let (me, v) = common::vector_identity(label);
        let fid = *me.fid();
        assert_eq!(fid.to_hex(), v["fid"].as_str().unwrap());
        assert_eq!(fid.to_ref(), v["ssb_ref"].as_str().unwrap());
        assert_eq!(fid.to_did(), v["did"].as_str().unwrap());
        assert_eq!(fid.short_display(), v["short_name"].as_str().unwrap());
        for form in [&v["fid"], &v["ssb_ref"], &v["did"]] {
            assert_eq!(form.as_str().unwrap().parse::<FeedId>().unwrap(), fid);
        }
        let from64 = Identity::from_secret64(&hx(&v["ed25519_secret_key_64"])).unwrap();
        assert_eq!(from64.fid(), &fid);
        let file = format!(
            r#"{{"curve":"ed25519","secret":"{}"}}"#,
            base64_of(&hx(&v["ed25519_secret_key_64"]))
        );
        assert_eq!(Identity::from_key_file(&file).unwrap().fid(), &fid);
        assert_eq!(me.to_key_file().as_str(), file);
    }
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn every_entry_is_reproduced_byte_for_byte() {
    let net = Network::deployed();
    let mut entries = 0;
    let mut chunks = 0;
    for feed in feeds() {
        let (me, _) = common::vector_identity(feed["identity"].as_str().unwrap());
        let mut prev = first_prev(me.fid());
        for e in feed["entries"].as_array().unwrap() {
            let seq = e["seq"].as_u64().unwrap() as u32;
            let what = format!("{} seq {seq}", feed["identity"]);
            assert_eq!(prev.0, arr::<20>(&e["prev"]), "{what} prev");
            let name = Name::new(&net, me.fid(), seq, &prev);
            assert_eq!(name.as_bytes(), hx(&e["name"]), "{what} name");
            assert_eq!(name.dmx().0, arr::<7>(&e["dmx"]), "{what} dmx");

            let content = hx(&e["content"]);
            let signed = match e["type"].as_str().unwrap() {
                "chain20" => entry::sign_chain20(&net, &me, seq, &prev, &content).unwrap(),
                "plain48" => entry::sign_plain48(&net, &me, seq, &prev, &content).unwrap(),
                t => panic!("{t}"),
            };
            assert_eq!(signed.entry.bytes().to_vec(), hx(&e["pkt"]), "{what} pkt");
            assert_eq!(signed.entry.signature().to_vec(), hx(&e["signature"]));
            assert_eq!(signed.mid.0, arr::<20>(&e["mid"]), "{what} mid");
            assert_eq!(signed.mid.to_b64(), e["mid_b64"].as_str().unwrap());
            assert_eq!(
                Mid::from_b64(e["mid_b64"].as_str().unwrap()),
                Some(signed.mid)
            );

            let want_chunks: Vec<Vec<u8>> = e["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| hx(&c["pkt"]))
                .collect();
            let got_chunks: Vec<Vec<u8>> = signed.chunks.iter().map(|c| c.to_vec()).collect();
            assert_eq!(got_chunks, want_chunks, "{what} chunks");
            for c in e["chunks"].as_array().unwrap() {
                assert_eq!(
                    sidechain::chunk_hash(&hx(&c["pkt"])).to_vec(),
                    hx(&c["hash"])
                );
            }

            // The receiving side: verify, parse, reassemble.
            let key = me.fid().key().unwrap();
            let (got, mid) = entry::verify(&net, &key, seq, &prev, &hx(&e["pkt"])).unwrap();
            assert_eq!(mid, signed.mid);
            if e["type"] == "chain20" {
                let header = Chain20::parse(got.payload()).unwrap();
                assert_eq!(header.len, e["content_len"].as_u64().unwrap());
                assert_eq!(
                    header.inline.len() as u64,
                    e["inline_len"].as_u64().unwrap()
                );
                assert_eq!(header.chunk_count(), e["chunk_count"].as_u64().unwrap());
                assert_eq!(header.ptr.to_vec(), hx(&e["chunk0_ptr"]));
                assert_eq!(
                    sidechain::reassemble(got.payload(), &signed.chunks).unwrap(),
                    content,
                    "{what} reassembly"
                );
            } else {
                assert_eq!(&got.payload()[..content.len()], &content[..]);
            }
            if let Some(b) = e.get("content_bipf") {
                assert_eq!(bipf::decode(&content).unwrap(), tagged(b), "{what} content");
            }
            entries += 1;
            chunks += want_chunks.len();
            prev = signed.mid;
        }
    }
    assert_eq!((entries, chunks), (11, 21));
}

#[test]
fn inline_capacity_is_28_minus_varint() {
    for feed in feeds() {
        for e in feed["entries"].as_array().unwrap() {
            if let Some(cap) = e.get("inline_capacity") {
                let v = hx(&e["length_varint"]).len() as u64;
                assert_eq!(cap.as_u64().unwrap(), 28 - v);
            }
        }
    }
}

#[test]
fn tampering_is_caught_with_a_precise_error() {
    let net = Network::deployed();
    let feed = &feeds()[0];
    let (me, _) = common::vector_identity("feed1");
    let key = me.fid().key().unwrap();
    let e2 = &feed["entries"][1];
    let pkt = hx(&e2["pkt"]);
    let prev = Mid(arr(&e2["prev"]));

    let mut bad_sig = pkt.clone();
    bad_sig[100] ^= 0x01;
    assert_eq!(
        entry::verify(&net, &key, 2, &prev, &bad_sig).unwrap_err(),
        EntryError::BadSignature
    );
    let mut bad_payload = pkt.clone();
    bad_payload[20] ^= 0x01;
    assert_eq!(
        entry::verify(&net, &key, 2, &prev, &bad_payload).unwrap_err(),
        EntryError::BadSignature
    );
    assert!(matches!(
        entry::verify(&net, &key, 3, &prev, &pkt),
        Err(EntryError::WrongDmx { .. })
    ));
    assert_eq!(
        entry::verify(&net, &key, 2, &prev, &pkt[..119]).unwrap_err(),
        EntryError::WrongLength(119)
    );
    let other = common::vector_identity("feed2").0.fid().key().unwrap();
    assert!(matches!(
        entry::verify(&net, &other, 2, &prev, &pkt),
        Err(EntryError::WrongDmx { .. })
    ));

    // A chunk with one flipped bit does not match the promised hash.
    let header = Chain20::parse(&pkt[8..56].try_into().unwrap()).unwrap();
    let mut r = Reassembly::new(&header);
    let mut chunk0 = hx(&e2["chunks"][0]["pkt"]);
    chunk0[5] ^= 0x80;
    assert!(matches!(
        r.push(&chunk0),
        Err(SideChainError::ChunkHash { cnr: 0, .. })
    ));
    assert_eq!(r.next_cnr(), 0, "a bad chunk does not advance the chain");
}

#[test]
fn batch_and_run_verification_agree_with_single() {
    let net = Network::deployed();
    let feed = &feeds()[0];
    let (me, _) = common::vector_identity("feed1");
    let key = me.fid().key().unwrap();
    let pkts: Vec<Vec<u8>> = feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| hx(&e["pkt"]))
        .collect();
    let refs: Vec<&[u8]> = pkts.iter().map(|p| p.as_slice()).collect();
    let (good, err) = entry::verify_run(&net, &key, 1, first_prev(me.fid()), &refs);
    assert_eq!(good.len(), 9);
    assert!(err.is_none());

    // Corrupt entry 5: the run stops exactly there.
    let mut bad = pkts.clone();
    bad[4][90] ^= 0x10;
    let refs: Vec<&[u8]> = bad.iter().map(|p| p.as_slice()).collect();
    let (good, err) = entry::verify_run(&net, &key, 1, first_prev(me.fid()), &refs);
    assert_eq!(good.len(), 4);
    assert_eq!(err, Some(EntryError::BadSignature));

    // Mixed batch across feeds, with one bad item in the middle.
    let feed2 = &feeds()[1];
    let key2 = common::vector_identity("feed2").0.fid().key().unwrap();
    let p2 = hx(&feed2["entries"][0]["pkt"]);
    let mut p1 = pkts[0].clone();
    let items = vec![
        BatchItem {
            key: &key2,
            seq: 1,
            prev: first_prev(key2.fid()),
            pkt: &p2,
        },
        BatchItem {
            key: &key,
            seq: 1,
            prev: first_prev(key.fid()),
            pkt: &pkts[0],
        },
    ];
    assert!(entry::verify_batch(&net, &items).iter().all(|r| r.is_ok()));
    p1[60] ^= 1;
    let items = vec![
        BatchItem {
            key: &key2,
            seq: 1,
            prev: first_prev(key2.fid()),
            pkt: &p2,
        },
        BatchItem {
            key: &key,
            seq: 1,
            prev: first_prev(key.fid()),
            pkt: &p1,
        },
    ];
    let r = entry::verify_batch(&net, &items);
    assert!(r[0].is_ok());
    assert_eq!(r[1].as_ref().unwrap_err(), &EntryError::BadSignature);
}

#[test]
fn chain20_bounds() {
    assert!(sidechain::build(&vec![0u8; sidechain::MAX_CONTENT_LEN]).is_ok());
    assert_eq!(
        sidechain::build(&vec![0u8; sidechain::MAX_CONTENT_LEN + 1]).unwrap_err(),
        SideChainError::ContentTooLong(sidechain::MAX_CONTENT_LEN + 1)
    );
    // A payload that claims chunks but has a zero pointer can never complete.
    let mut payload = [0u8; 48];
    payload[0] = 100;
    assert_eq!(
        Chain20::parse(&payload),
        Err(SideChainError::MissingPointer(1))
    );
}
