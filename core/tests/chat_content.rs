//! Entry content as the chat app reads and writes it: the app-level vectors of `bipf.json`,
//! the confidential entry of feed2 in `tinyssb-entries.json`, encode/decode properties, and
//! malformed content reported as unreadable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{hx, load, tagged};
use lichen::chat::content::{self, AppEntry, Payload, ReceiptKind};
use lichen::chat::private_box::{self, Opener};
use lichen::chat::tav::Tav;
use lichen::wire::bipf::Value;
use lichen::wire::Mid;
use lichen::{FeedId, Identity};
use proptest::prelude::*;

fn feed_identity(label: &str) -> Identity {
    common::vector_identity(label).0
}

#[test]
fn app_lists_decode_to_their_meaning_and_encode_back() {
    for v in load("bipf.json")["app_lists"].as_array().unwrap() {
        let bytes = hx(&v["hex"]);
        assert_eq!(tagged(&v["value"]).encode(), bytes);
        let d = content::decode(&bytes, None);
        assert!(!d.confidential);
        match d.entry {
            AppEntry::Post(p) => {
                // Public reading: a 6-element plaintext shown publicly goes to the channel.
                assert!(p.recps.is_none());
                assert_eq!(p.tav.encode(), bytes, "{}", v["description"]);
            }
            AppEntry::Alias(a) => assert_eq!(content::alias_value(&a).encode(), bytes),
            AppEntry::Receipt(r) => {
                assert_eq!(r.kind, ReceiptKind::Delivered);
                assert_eq!(content::receipt_value(r.kind, &r.msg).encode(), bytes);
            }
            other => panic!("{}: {other:?}", v["description"]),
        }
    }
}

#[test]
fn voice_sketch_and_location_are_reported_and_kept_intact() {
    let voice = load("bipf.json")["app_lists"][2]["hex"].clone();
    let AppEntry::Post(p) = content::decode(&hx(&voice), None).entry else {
        panic!()
    };
    assert_eq!(p.payload(), Payload::Voice { mode: Some(3) });
    let text = "pfx:loc/plus,8FVC9G8F+6X|data:image/svg+bipf;base64,AAEC";
    let bytes = Tav::public_text(text, 1).encode();
    let AppEntry::Post(p) = content::decode(&bytes, None).entry else {
        panic!()
    };
    assert_eq!(p.location(), Some("8FVC9G8F+6X"));
    assert_eq!(p.payload(), Payload::Sketch);
    assert_eq!(p.tav.text.as_deref(), Some(text));
    assert_eq!(p.body_text(), Some("data:image/svg+bipf;base64,AAEC"));
}

#[test]
fn the_confidential_entry_of_feed2_reads_as_its_message() {
    let feed2 = load("tinyssb-entries.json")["feeds"][1].clone();
    let entry = &feed2["entries"][1];
    assert_eq!(entry["seq"].as_u64().unwrap_or(2), 2);
    let bytes = hx(&entry["content"]);
    let (id1, id2) = (feed_identity("feed1"), feed_identity("feed2"));
    for me in [&id1, &id2] {
        let d = content::decode(&bytes, Some(&Opener::new(me)));
        assert!(d.confidential);
        let AppEntry::Post(p) = d.entry else {
            panic!("{:?}", d.entry)
        };
        assert_eq!(p.tav.text.as_deref(), Some("secret hi"));
        assert_eq!(p.tav.ts, 1_700_000_200);
        assert_eq!(p.recps, Some(vec![*id1.fid(), *id2.fid()]));
    }
    let stranger = Identity::from_seed(&[0x77; 32]);
    let d = content::decode(&bytes, Some(&Opener::new(&stranger)));
    assert_eq!((d.entry, d.confidential), (AppEntry::Sealed, true));
    assert_eq!(content::decode(&bytes, None).entry, AppEntry::Sealed);
}

#[test]
fn malformed_content_is_unreadable_with_a_reason() {
    let me = Identity::from_seed(&[5; 32]);
    let opener = Opener::new(&me);
    let tav = |items: Vec<Value>| {
        let mut v = vec![Value::str("TAV")];
        v.extend(items);
        Value::List(v).encode()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"\xff\xff not bipf".to_vec(), "not BIPF"),
        (Value::Int(3).encode(), "neither"),
        (Value::List(vec![Value::Int(1)]).encode(), "app tag"),
        (
            tav(vec![
                Value::List(vec![]),
                Value::Int(7),
                Value::Null,
                Value::Int(1),
            ]),
            "text",
        ),
        (
            tav(vec![
                Value::List(vec![]),
                Value::str("x"),
                Value::Null,
                Value::str("when"),
            ]),
            "ts",
        ),
        (tav(vec![Value::Null]), "elements"),
        (
            Value::List(vec![Value::str("DLV"), Value::str("not a ref")]).encode(),
            "receipt",
        ),
        (
            Value::List(vec![Value::str("IAM"), Value::Int(1)]).encode(),
            "alias",
        ),
    ];
    for (bytes, why) in cases {
        match content::decode(&bytes, Some(&opener)).entry {
            AppEntry::Unreadable { reason, .. } => assert!(reason.contains(why), "{reason}"),
            other => panic!("{why}: {other:?}"),
        }
    }
    // A private post to me with a recipient that is not a ref, and one without recipients.
    let bad_recps = Value::List(vec![
        Value::str("TAV"),
        Value::List(vec![]),
        Value::str("x"),
        Value::Null,
        Value::Int(1),
        Value::List(vec![Value::str("bob")]),
    ]);
    let no_recps = Value::List(vec![
        Value::str("TAV"),
        Value::List(vec![]),
        Value::str("x"),
        Value::Null,
        Value::Int(1),
    ]);
    for v in [bad_recps, no_recps] {
        let bytes = content::seal_entry(&v, &[*me.fid()]).unwrap();
        let d = content::decode(&bytes, Some(&opener));
        assert!(matches!(d.entry, AppEntry::Unreadable { tag: Some(ref t), .. } if t == "TAV"));
    }
    // A box addressed to me whose body was altered.
    let mut bytes = content::seal_entry(&content::alias_value("x"), &[*me.fid()]).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    assert!(matches!(
        content::decode(&bytes, Some(&opener)).entry,
        AppEntry::Unreadable { .. }
    ));
    // Other apps are kept as such.
    let kan = Value::List(vec![Value::str("KAN"), Value::Null]).encode();
    assert_eq!(
        content::decode(&kan, None).entry,
        AppEntry::OtherApp { tag: "KAN".into() }
    );
}

#[test]
fn trust_and_delete_entries_round_trip() {
    let me = Identity::from_seed(&[1; 32]);
    let bob = *Identity::from_seed(&[2; 32]).fid();
    let opener = Opener::new(&me);
    let trt = content::trust_value(&bob, 2, 1_700_000_000, &[Mid([9; 20])], me.fid());
    let bytes = content::seal_entry(&trt, &[*me.fid()]).unwrap();
    match content::decode(&bytes, Some(&opener)).entry {
        AppEntry::Trust(t) => assert_eq!((t.contact, t.level, t.ts), (bob, 2, Some(1_700_000_000))),
        other => panic!("{other:?}"),
    }
    let del = content::deleted_value(&bob, 1, me.fid());
    let bytes = content::seal_entry(&del, &[*me.fid()]).unwrap();
    match content::decode(&bytes, Some(&opener)).entry {
        AppEntry::Deleted(d) => assert_eq!((d.contact, d.value), (bob, 1)),
        other => panic!("{other:?}"),
    }
}

fn tav_strategy() -> impl Strategy<Value = Tav> {
    (
        proptest::collection::vec(any::<[u8; 20]>(), 0..4),
        proptest::option::of(".{0,200}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        0i64..(1 << 40),
    )
        .prop_map(|(tips, text, voice, ts)| Tav {
            tips: tips.into_iter().map(|t| Mid(t).to_b64()).collect(),
            text,
            voice,
            ts,
            recps: None,
            old_format: false,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn public_posts_round_trip(t in tav_strategy()) {
        let bytes = t.encode();
        let AppEntry::Post(p) = content::decode(&bytes, None).entry else {
            panic!("not a post")
        };
        prop_assert_eq!(p.tav, t);
    }

    #[test]
    fn private_posts_round_trip_for_every_recipient(t in tav_strategy(), n in 1usize..=7) {
        let ids: Vec<Identity> = (0..n).map(|i| Identity::from_seed(&[i as u8 + 1; 32])).collect();
        let recps: Vec<FeedId> = ids.iter().map(|i| *i.fid()).collect();
        let mut t = t;
        t.recps = Some(recps.iter().map(FeedId::to_ref).collect());
        let bytes = content::seal_entry(&t.to_value(), &recps).unwrap();
        for id in &ids {
            let d = content::decode(&bytes, Some(&Opener::new(id)));
            let AppEntry::Post(p) = d.entry else { panic!("not a post") };
            prop_assert_eq!(&p.recps, &Some(recps.clone()));
            prop_assert_eq!(&p.tav, &t);
        }
    }

    #[test]
    fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let me = Identity::from_seed(&[3; 32]);
        let opener = Opener::new(&me);
        let _ = content::decode(&bytes, Some(&opener));
        let _ = private_box::open(&bytes, &me);
        let _ = content::decode(&Value::Bytes(bytes).encode(), Some(&opener));
    }
}
