//! Property tests: codecs round-trip, and no decoder of outside bytes panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lichen::wire::bipf::{self, IntMode, Value};
use lichen::wire::entry::{self, first_prev};
use lichen::wire::goset::{self, Claim, GosetPacket};
use lichen::wire::inspect::{self, Context};
use lichen::wire::network::Network;
use lichen::wire::request::{Chnk, ChunkRequest, Want};
use lichen::wire::sidechain::{self, Chain20, Reassembly};
use lichen::wire::{frame, varint};
use lichen::{FeedId, Identity};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e12f64..1e12).prop_map(Value::Double),
        ".{0,20}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Dict),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bipf_round_trip(v in value()) {
        let bytes = v.encode();
        prop_assert_eq!(bytes.len(), v.encoded_len());
        prop_assert_eq!(bipf::decode(&bytes).unwrap(), v);
    }

    #[test]
    fn bipf_non_negative_ints_read_the_same_in_both_modes(i in 0i64..i64::MAX) {
        let bytes = Value::Int(i).encode();
        prop_assert_eq!(bipf::decode_with(&bytes, IntMode::Unsigned).unwrap(), Value::Int(i));
    }

    #[test]
    fn varint_round_trip(x in any::<u64>()) {
        let b = varint::encode(x);
        prop_assert_eq!(varint::decode(&b, 10), Ok((x, b.len())));
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let net = Network::deployed();
        let _ = bipf::decode(&bytes);
        let _ = bipf::decode_with(&bytes, IntMode::Unsigned);
        let _ = varint::decode(&bytes, 10);
        let _ = goset::decode(&net, &bytes);
        let _ = Want::decode_body(&bytes);
        let _ = Chnk::decode_body(&bytes);
        let _ = frame::unframe(&bytes);
        let _ = inspect::inspect(&Context::default(), &bytes);
        if let Ok(p) = <[u8; 48]>::try_from(bytes.get(..48).unwrap_or_default()) {
            if let Ok(h) = Chain20::parse(&p) {
                let mut r = Reassembly::new(&h);
                let _ = r.push(&bytes);
            }
        }
    }

    #[test]
    fn goset_packets_with_the_goset_dmx_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..120)) {
        let net = Network::deployed();
        let mut pkt = net.goset_dmx().0.to_vec();
        pkt.extend_from_slice(&tail);
        let _ = goset::decode(&net, &pkt);
        let _ = inspect::inspect(&Context::default(), &pkt);
    }

    #[test]
    fn entries_and_side_chains_round_trip(
        seed in any::<[u8; 32]>(),
        contents in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 1..4),
    ) {
        let net = Network::deployed();
        let me = Identity::from_seed(&seed);
        let key = me.fid().key().unwrap();
        let mut prev = first_prev(me.fid());
        for (i, content) in contents.iter().enumerate() {
            let seq = i as u32 + 1;
            let s = entry::sign_chain20(&net, &me, seq, &prev, content).unwrap();
            let (e, mid) = entry::verify(&net, &key, seq, &prev, s.entry.bytes()).unwrap();
            prop_assert_eq!(mid, s.mid);
            let header = Chain20::parse(e.payload()).unwrap();
            prop_assert_eq!(header.chunk_count() as usize, s.chunks.len());
            prop_assert_eq!(&sidechain::reassemble(e.payload(), &s.chunks).unwrap(), content);
            prev = mid;
        }
    }

    #[test]
    fn plain48_round_trip(seed in any::<[u8; 32]>(), content in proptest::collection::vec(any::<u8>(), 0..=48)) {
        let net = Network::with_key(b"test-net").unwrap();
        let me = Identity::from_seed(&seed);
        let s = entry::sign_plain48(&net, &me, 1, &first_prev(me.fid()), &content).unwrap();
        let (e, _) = entry::verify(&net, &me.fid().key().unwrap(), 1, &first_prev(me.fid()), s.entry.bytes()).unwrap();
        prop_assert_eq!(&e.payload()[..content.len()], &content[..]);
        // The same entry is not valid on another network.
        prop_assert!(entry::verify(&Network::deployed(), &me.fid().key().unwrap(), 1, &first_prev(me.fid()), s.entry.bytes()).is_err());
    }

    #[test]
    fn claims_round_trip(mut keys in proptest::collection::btree_set(any::<[u8; 32]>(), 1..40)) {
        let net = Network::deployed();
        let sorted: Vec<FeedId> = std::mem::take(&mut keys).into_iter().map(FeedId).collect();
        let claim = Claim::over(&sorted).unwrap();
        prop_assert_eq!(goset::decode(&net, &claim.encode(&net)), Ok(GosetPacket::Claim(claim)));
        let n = goset::encode_novelty(&net, &sorted[0]);
        prop_assert_eq!(goset::decode(&net, &n), Ok(GosetPacket::Novelty(sorted[0])));
    }

    #[test]
    fn want_and_chnk_round_trip(
        offs in any::<u32>(),
        next in proptest::collection::vec(any::<u32>(), 0..20),
        triples in proptest::collection::vec(any::<(u32, u32, u32)>(), 0..10),
        state in any::<[u8; 32]>(),
    ) {
        let net = Network::deployed();
        let w = Want { offs, next };
        let pkt = w.encode(&net, &state);
        prop_assert_eq!(pkt.len(), w.encoded_len());
        prop_assert_eq!(Want::decode_body(&pkt[7..]).unwrap(), w.clone());
        // Zero padding after the vector is tolerated.
        let mut padded = pkt.clone();
        padded.extend_from_slice(&[0; 13]);
        prop_assert_eq!(Want::decode_body(&padded[7..]).unwrap(), w);
        let c = Chnk(triples.into_iter().map(|(fndx, seq, cnr)| ChunkRequest { fndx, seq, cnr }).collect());
        let pkt = c.encode(&net, &state);
        prop_assert_eq!(Chnk::decode_body(&pkt[7..]).unwrap(), c);
    }

    #[test]
    fn frames_round_trip(pkt in proptest::collection::vec(any::<u8>(), 7..200)) {
        let framed = frame::frame(&pkt);
        prop_assert_eq!(frame::unframe(&framed).unwrap(), &pkt[..]);
    }
}
