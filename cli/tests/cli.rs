//! The `lichen` binary as scripts use it: real processes, a real data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn lichen(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lichen"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn vectors(name: &str) -> serde_json::Value {
    let path = format!("{}/../vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn init_id_post_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let o = lichen(&data, &["init"]);
    assert!(o.status.success(), "{}", stderr(&o));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("identity.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key file must be owner-only");
    }

    let id: serde_json::Value =
        serde_json::from_str(&stdout(&lichen(&data, &["id", "--json"]))).unwrap();
    for k in ["fid", "ref", "did", "short"] {
        assert!(id[k].is_string(), "id --json lacks {k}: {id}");
    }
    assert_eq!(id["fid"].as_str().unwrap().len(), 64);
    assert!(id["ref"].as_str().unwrap().ends_with(".ed25519"));
    assert_eq!(id["short"].as_str().unwrap().len(), 10);

    // A second init must not replace the identity.
    let again = lichen(&data, &["init"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("refusing to replace"),
        "{}",
        stderr(&again)
    );

    let long = "x".repeat(300);
    for text in ["hello valley", long.as_str()] {
        let o = lichen(&data, &["post", text]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let log = stdout(&lichen(&data, &["log", "--json"]));
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64 + 1);
        assert_eq!(l["type"], "chain20");
        assert_eq!(l["dmx"].as_str().unwrap().len(), 14);
        assert_eq!(l["mid"].as_str().unwrap().len(), 40);
        assert_eq!(l["pkt"].as_str().unwrap().len(), 240);
        assert!(l["chunks"].is_array());
        assert!(l["content"].is_string());
    }
    assert_eq!(lines[0]["text"], "hello valley");
    assert_eq!(lines[1]["text"], long.as_str());
    assert!(lines[1]["chunks"].as_array().unwrap().len() >= 3);
    // The content is a 5-element TAV: ["TAV", [], text, null, ts].
    let content = hex::decode(lines[0]["content"].as_str().unwrap()).unwrap();
    let v = lichen::wire::bipf::decode(&content).unwrap();
    let items = v.as_list().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0].as_str(), Some("TAV"));

    // Every logged entry inspects as valid with the data directory's knowledge.
    for l in &lines {
        let o = lichen(&data, &["inspect", l["pkt"].as_str().unwrap(), "--json"]);
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(j["kind"], "log entry", "{j}");
        assert_eq!(j["valid"], true);
        for c in l["chunks"].as_array().unwrap() {
            let o = lichen(&data, &["inspect", c.as_str().unwrap(), "--json"]);
            let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            assert_eq!(j["kind"], "side-chain chunk", "{j}");
        }
    }
}

#[test]
fn import_android_key_file() {
    let v = vectors("tinyssb-entries.json");
    let feed1 = &v["identities"][0];
    let secret = hex::decode(feed1["ed25519_secret_key_64"].as_str().unwrap()).unwrap();
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(secret)
    };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("export.json");
    std::fs::write(&key, format!(r#"{{"curve":"ed25519","secret":"{b64}"}}"#)).unwrap();
    let data = dir.path().join("node");
    let o = lichen(
        &data,
        &["init", "--import", key.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let id: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(id["fid"], feed1["fid"]);
    assert_eq!(id["ref"], feed1["ssb_ref"]);
    assert_eq!(id["did"], feed1["did"]);

    // A broken key file is refused with a reason, and nothing is created.
    std::fs::write(&key, r#"{"curve":"ed25519","secret":"AAAA"}"#).unwrap();
    let other = dir.path().join("other");
    let o = lichen(&other, &["init", "--import", key.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("64 bytes"), "{}", stderr(&o));
    assert!(!other.join("identity.json").exists());
}

#[test]
fn inspect_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("none");
    let rep = vectors("tinyssb-replication.json");
    let ent = vectors("tinyssb-entries.json");
    let claim = rep["sets"][1]["full_claim"]["pkt"].as_str().unwrap();
    let run = |args: &[&str]| {
        let o = lichen(&data, args);
        let j: serde_json::Value = serde_json::from_str(&stdout(&o))
            .unwrap_or_else(|_| panic!("{} / {}", stdout(&o), stderr(&o)));
        (o.status.code(), j)
    };

    let (code, j) = run(&["inspect", claim, "--json"]);
    assert_eq!((code, j["kind"].as_str()), (Some(0), Some("GOset claim")));
    assert_eq!(j["fields"]["cnt"], "1");

    let (code, j) = run(&["inspect", &claim[..claim.len() - 2], "--json"]);
    assert_eq!(code, Some(1));
    assert!(
        j["problem"]
            .as_str()
            .unwrap()
            .contains("must be 105 bytes, got 104"),
        "{j}"
    );

    // Entry 1 of feed1, checked against its feed.
    let e1 = ent["feeds"][0]["entries"][0]["pkt"].as_str().unwrap();
    let fid = ent["identities"][0]["ssb_ref"].as_str().unwrap();
    let (code, j) = run(&["inspect", e1, "--feed", fid, "--seq", "1", "--json"]);
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(
        j["fields"]["content"],
        r#"BIPF ["TAV","hi",null,1700000000]"#
    );

    let mut bad = hex::decode(e1).unwrap();
    bad[70] ^= 0x04;
    let (code, j) = run(&[
        "inspect",
        &hex::encode(&bad),
        "--feed",
        fid,
        "--seq",
        "1",
        "--json",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        j["problem"]
            .as_str()
            .unwrap()
            .contains("signature does not verify"),
        "{j}"
    );

    let (code, j) = run(&[
        "inspect",
        e1,
        "--feed",
        fid,
        "--seq",
        "2",
        "--prev",
        &"00".repeat(20),
        "--json",
    ]);
    assert_eq!(
        code,
        Some(3),
        "a DMX for another seq cannot be checked: {j}"
    );

    // A LoRa frame: CRC checked first.
    let framed = lichen::wire::frame::frame(&hex::decode(claim).unwrap());
    let (code, j) = run(&["inspect", &hex::encode(&framed), "--json"]);
    assert_eq!((code, j["kind"].as_str()), (Some(0), Some("GOset claim")));
    assert!(j["fields"]["framing"].as_str().unwrap().contains("CRC ok"));
    let mut lora = hex::decode(e1).unwrap();
    lora.extend_from_slice(&[1, 2, 3, 4]);
    let (code, j) = run(&["inspect", &hex::encode(&lora), "--json"]);
    assert_eq!(code, Some(1));
    assert!(
        j["problem"].as_str().unwrap().contains("CRC-32 mismatch"),
        "{j}"
    );

    // A WANT under a GOset we know (the empty one) decodes; ints in Android form too.
    let (code, j) = run(&["inspect", "c6f6c4540d6273340a000a800a01", "--json"]);
    assert_eq!(code, Some(0), "{j}");
    assert_eq!(j["fields"]["next_seqs"], "[128, 1]");

    let o = lichen(&data, &["inspect", "zz"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not valid hex"));

    let (code, j) = run(&["inspect", "0102", "--json"]);
    assert_eq!(code, Some(1));
    assert!(j["problem"].as_str().unwrap().contains("7-byte DMX"), "{j}");
}
