//! Every vector in `vectors/tinyssb-replication.json`: DMX constants, GOset states, claims and
//! novelties, WANT/CHNK packets in canonical and Android/ESP32 forms, the spec-branch GOset
//! scenario, and the reference replication run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{arr, hx, load};
use lichen::wire::goset::{self, Claim, GosetPacket};
use lichen::wire::network::Network;
use lichen::wire::request::{Chnk, ChunkRequest, Want};
use lichen::wire::{Dmx, DMX_LEN};
use lichen::FeedId;
use serde_json::Value as Json;

fn fids(list: &Json) -> Vec<FeedId> {
    let mut v: Vec<FeedId> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| FeedId(arr(f)))
        .collect();
    v.sort();
    v
}

fn state_of(set: &[FeedId]) -> [u8; 32] {
    set.iter().fold([0u8; 32], |a, f| goset::xor(&a, &f.0))
}

fn want_from(v: &Json) -> Want {
    let nums: Vec<u32> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect();
    Want {
        offs: nums[0],
        next: nums[1..].to_vec(),
    }
}

fn chnk_from(v: &Json) -> Chnk {
    Chnk(
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let t: Vec<u32> = t
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as u32)
                    .collect();
                ChunkRequest {
                    fndx: t[0],
                    seq: t[1],
                    cnr: t[2],
                }
            })
            .collect(),
    )
}

fn set_state(d: &Json, label: &str) -> [u8; 32] {
    let set = d["sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == label)
        .unwrap();
    arr(&set["goset_state"])
}

#[test]
fn constants() {
    let d = load("tinyssb-replication.json");
    let net = Network::deployed();
    let c = &d["constants"];
    assert_eq!(net.goset_dmx().0, arr::<7>(&c["goset_dmx"]["dmx"]));
    let (req, rep) = Network::ping_dmxs();
    assert_eq!(req.0, arr::<7>(&c["esp32_peer_ping_request_dmx"]["dmx"]));
    assert_eq!(rep.0, arr::<7>(&c["esp32_peer_ping_reply_dmx"]["dmx"]));
    assert_eq!(c["claim_len"], 105);
    assert_eq!(c["novelty_len"], 40);
}

#[test]
fn sets_claims_and_novelties() {
    let d = load("tinyssb-replication.json");
    let net = Network::deployed();
    let sets = d["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 3);
    for s in sets {
        let members = fids(&s["members"]);
        let state = state_of(&members);
        assert_eq!(state, arr::<32>(&s["goset_state"]), "{}", s["label"]);
        assert_eq!(net.want_dmx(&state).0, arr::<7>(&s["want_dmx"]));
        assert_eq!(net.chnk_dmx(&state).0, arr::<7>(&s["chnk_dmx"]));
        if members.is_empty() {
            assert!(Claim::over(&members).is_none());
            continue;
        }
        let fc = &s["full_claim"];
        let claim = Claim::over(&members).unwrap();
        assert_eq!(claim.lo.0, arr::<32>(&fc["lo"]));
        assert_eq!(claim.hi.0, arr::<32>(&fc["hi"]));
        assert_eq!(claim.xor, arr::<32>(&fc["xor"]));
        assert_eq!(u64::from(claim.cnt), fc["cnt"].as_u64().unwrap());
        assert_eq!(claim.encode(&net).to_vec(), hx(&fc["pkt"]));
        assert_eq!(
            goset::decode(&net, &hx(&fc["pkt"])),
            Ok(GosetPacket::Claim(claim))
        );
        for n in s["novelties"].as_array().unwrap() {
            let fid = FeedId(arr(&n["fid"]));
            assert_eq!(goset::encode_novelty(&net, &fid).to_vec(), hx(&n["pkt"]));
            assert_eq!(
                goset::decode(&net, &hx(&n["pkt"])),
                Ok(GosetPacket::Novelty(fid))
            );
        }
    }
}

#[test]
fn request_vectors() {
    let d = load("tinyssb-replication.json");
    let net = Network::deployed();
    let rv = d["request_vectors"].as_array().unwrap();
    assert_eq!(rv.len(), 6);
    for v in rv {
        let state = set_state(&d, v["set"].as_str().unwrap());
        let pkt = hx(&v["pkt"]);
        assert_eq!(pkt[..DMX_LEN], hx(&v["dmx"])[..]);
        let body = &pkt[DMX_LEN..];
        assert_eq!(body, &hx(&v["bipf_body"])[..]);
        match v["kind"].as_str().unwrap() {
            "WANT" => {
                let w = want_from(&v["vector"]);
                assert_eq!(w.encode(&net, &state), pkt);
                assert_eq!(w.encoded_len(), pkt.len());
                assert_eq!(Want::decode_body(body).unwrap(), w);
                assert_eq!(Dmx::of(&pkt), Some(net.want_dmx(&state)));
            }
            "CHNK" => {
                let c = chnk_from(&v["vector"]);
                assert_eq!(c.encode(&net, &state), pkt);
                assert_eq!(c.encoded_len(), pkt.len());
                assert_eq!(Chnk::decode_body(body).unwrap(), c);
                assert_eq!(Dmx::of(&pkt), Some(net.chnk_dmx(&state)));
            }
            k => panic!("{k}"),
        }
    }
}

#[test]
fn integer_forms_android_esp32_and_canonical() {
    let d = load("tinyssb-replication.json");
    let net = Network::deployed();
    let vs = d["integer_encoding_vectors"]["vectors"].as_array().unwrap();
    assert_eq!(vs.len(), 8);
    for v in vs {
        let state = set_state(&d, v["set"].as_str().unwrap());
        let canonical = hx(&v["canonical_pkt"]);
        let forms: Vec<Vec<u8>> = std::iter::once(canonical.clone())
            .chain(v.get("also_accept_android_esp32_pkt").map(hx))
            .collect();
        match v["kind"].as_str().unwrap() {
            "WANT" => {
                let w = want_from(&v["vector"]);
                assert_eq!(w.encode(&net, &state), canonical);
                for f in &forms {
                    assert_eq!(
                        Want::decode_body(&f[DMX_LEN..]).unwrap(),
                        w,
                        "{}",
                        hex::encode(f)
                    );
                }
            }
            "CHNK" => {
                let c = chnk_from(&v["vector"]);
                assert_eq!(c.encode(&net, &state), canonical);
                for f in &forms {
                    assert_eq!(
                        Chnk::decode_body(&f[DMX_LEN..]).unwrap(),
                        c,
                        "{}",
                        hex::encode(f)
                    );
                }
            }
            k => panic!("{k}"),
        }
    }
}

#[test]
fn goset_scenario_of_the_spec_branch() {
    let d = load("tinyssb-replication.json");
    let net = Network::deployed();
    let g = &d["goset_scenario_spec_branch"];
    let a = fids(&g["peer_A_keys"]);
    let b = fids(&g["peer_B_keys"]);
    let e = &g["expected"];
    let check = |claim: Claim, exp: &Json| {
        assert_eq!(claim.encode(&net).to_vec(), hx(&exp["pkt"]));
        assert_eq!(
            goset::decode(&net, &hx(&exp["pkt"])),
            Ok(GosetPacket::Claim(claim))
        );
        if let Some(w) = exp.get("want_dmx") {
            // These claims cover the whole set, so their XOR is the set's state.
            assert_eq!(net.want_dmx(&claim.xor).0, arr::<7>(w));
            assert_eq!(net.chnk_dmx(&claim.xor).0, arr::<7>(&exp["chnk_dmx"]));
        }
    };
    check(Claim::over(&a).unwrap(), &e["a_A_claim_cnt5"]);
    check(Claim::over(&b).unwrap(), &e["b_B_claim_cnt1"]);
    assert_eq!(
        goset::encode_novelty(&net, &b[0]).to_vec(),
        hx(&e["b_esp32_alternative_novelty"])
    );
    let mut ab = [a.clone(), b.clone()].concat();
    ab.sort();
    check(
        Claim::over(&ab).unwrap(),
        &e["c_A_claim_cnt6_after_learning_B"],
    );
    let mut b3 = vec![b[0], a[0], *a.last().unwrap()];
    b3.sort();
    b3.dedup();
    check(
        Claim::over(&b3).unwrap(),
        &e["d_B_claim_cnt3_after_learning_lo_hi"],
    );

    // Every packet of the reference transcript decodes as the claim or novelty it says.
    let rounds = g["python_reference_transcript"]["rounds"]
        .as_array()
        .unwrap();
    let mut n = 0;
    for r in rounds {
        for side in ["A_sends", "B_sends"] {
            for p in r[side].as_array().unwrap() {
                let pkt = hx(&p["pkt"]);
                match (
                    p["type"].as_str().unwrap(),
                    goset::decode(&net, &pkt).unwrap(),
                ) {
                    ("claim", GosetPacket::Claim(c)) => {
                        assert_eq!(c.lo.0, arr::<32>(&p["lo"]));
                        assert_eq!(c.hi.0, arr::<32>(&p["hi"]));
                        assert_eq!(c.xor, arr::<32>(&p["xor"]));
                        assert_eq!(u64::from(c.cnt), p["cnt"].as_u64().unwrap());
                    }
                    ("novelty", GosetPacket::Novelty(f)) => assert_eq!(f.0, arr::<32>(&p["fid"])),
                    (t, got) => panic!("{t} decoded as {got:?}"),
                }
                n += 1;
            }
        }
    }
    assert!(n >= 4);
}

#[test]
fn reference_replication_run_decodes_packet_by_packet() {
    let d = load("tinyssb-replication.json");
    let entries = load("tinyssb-entries.json");
    let net = Network::deployed();
    let both = set_state(&d, "{feed1,feed2}");
    let empty = [0u8; 32];
    // Every entry and chunk packet the reference sent is one of the vector entries.
    let mut known = std::collections::HashMap::new();
    for feed in entries["feeds"].as_array().unwrap() {
        let label = feed["identity"].as_str().unwrap();
        for e in feed["entries"].as_array().unwrap() {
            let name = format!("{label}/seq{}/entry", e["seq"]);
            known
                .entry(hx(&e["pkt"]))
                .or_insert_with(Vec::new)
                .push(name);
            for c in e["chunks"].as_array().unwrap() {
                // Identical chunk bytes can occur in two feeds (same tail content).
                let name = format!("{label}/seq{}/chunk{}", e["seq"], c["cnr"]);
                known
                    .entry(hx(&c["pkt"]))
                    .or_insert_with(Vec::new)
                    .push(name);
            }
        }
    }
    let pkts = d["python_replication_run"]["packets"].as_array().unwrap();
    assert_eq!(pkts.len(), 65);
    for p in pkts {
        let pkt = hx(&p["pkt"]);
        let what = p["what"].as_str().unwrap();
        let dmx = Dmx::of(&pkt).unwrap();
        let body = &pkt[DMX_LEN..];
        if what.starts_with("GOset") {
            assert!(goset::decode(&net, &pkt).is_ok(), "{what}");
        } else if what.starts_with("WANT") {
            assert!(
                dmx == net.want_dmx(&both) || dmx == net.want_dmx(&empty),
                "{what}"
            );
            let w = Want::decode_body(body).unwrap();
            assert!(
                what.ends_with(&format!("{:?}", [vec![w.offs], w.next].concat())),
                "{what}"
            );
        } else if what.starts_with("CHNK") {
            assert_eq!(dmx, net.chnk_dmx(&both), "{what}");
            let c = Chnk::decode_body(body).unwrap();
            let triples: Vec<Vec<u32>> = c.0.iter().map(|r| vec![r.fndx, r.seq, r.cnr]).collect();
            assert!(what.ends_with(&format!("{triples:?}")), "{what}");
        } else {
            let names = known
                .get(&pkt)
                .unwrap_or_else(|| panic!("{what} is unknown"));
            assert!(names.iter().any(|n| n == what), "{what} vs {names:?}");
        }
    }
}
