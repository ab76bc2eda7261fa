//! `lichen-bench` as a process: bad numbers are usage errors, `fill` writes only into a data
//! directory that exists, `sim` converges and says so, and `bench --ws` measures its
//! baselines beside every round.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use lichen::store::{SledStore, Store};

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lichen-bench"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LICHEN_DATA")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    serde_json::from_str(line).unwrap()
}

/// A data directory as `lichen init --no-identity` leaves it: an empty store.
fn data_dir(root: &Path) -> std::path::PathBuf {
    let data = root.join("node");
    drop(SledStore::open(&data.join("store")).unwrap());
    data
}

/// Every option of `lichen-bench` a person types a number into.
const NUMBER_OPTIONS: &[(&[&str], &str)] = &[
    (&["sim"], "--loss"),
    (&["sim"], "--duty"),
    (&["sim"], "--max-hours"),
    (&["sim"], "--nodes"),
    (&["sim"], "--entries"),
    (&["sim"], "--seed"),
    (&["bench"], "--entries"),
    (&["bench"], "--round-ms"),
    (&["bench"], "--rounds"),
    (&["bench", "--ws"], "--ws-entries"),
    (&["bench", "--chat"], "--messages"),
    (&["fill"], "--entries"),
    (&["fill"], "--feeds"),
];

#[test]
fn bad_numbers_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path());
    for (before, opt) in NUMBER_OPTIONS {
        for bad in ["-1", "inf", "NaN", "1e30", "-inf", "ten"] {
            let arg = format!("{opt}={bad}");
            let mut args: Vec<&str> = before.to_vec();
            args.push(&arg);
            let o = run(&data, &args);
            let err = stderr(&o);
            assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("invalid value") && err.contains(opt),
                "{args:?}: {err}"
            );
        }
    }
    for (args, why) in [
        (&["sim", "--loss=1.5"][..], "probability"),
        (&["sim", "--duty=0"], "percentage"),
        (&["sim", "--max-hours=0"], "out of range"),
    ] {
        let o = run(&data, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
    // Numbers that parse but mean nothing are errors with a message, not panics.
    for (args, why) in [
        (&["sim", "--nodes", "1", "--entries", "1"][..], "node"),
        (
            &["sim", "--nodes", "4000000000", "--entries", "1"],
            "--nodes",
        ),
        (&["sim", "--plan", "MARS.a", "--entries", "1"], "--plan"),
        (
            &["sim", "--topology", "ring", "--entries", "1"],
            "--topology",
        ),
        (&["bench", "--rounds", "0"], "--rounds"),
        (&["bench", "--feeds", "0"], "--feeds"),
        (&["bench", "--sizes", "0"], "batch sizes"),
    ] {
        let o = run(&data, args);
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

#[test]
fn fill_writes_feeds_into_an_existing_data_directory_only() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("nodee");
    let o = run(&typo, &["fill"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(&o).contains(&format!("no Lichen data at {}", typo.display()))
            && stderr(&o).contains("init` first"),
        "{}",
        stderr(&o)
    );
    assert!(!typo.exists(), "fill created {}", typo.display());

    let data = data_dir(dir.path());
    let o = run(
        &data,
        &["fill", "--feeds", "2", "--entries", "30", "--seed", "7"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let refs: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let store = SledStore::open(&data.join("store")).unwrap();
    assert_eq!(refs.len(), 2);
    for (k, r) in refs.iter().enumerate() {
        let me = lichen::Identity::from_seed(&[7 + k as u8; 32]);
        assert_eq!(r, &me.fid().to_ref());
        assert_eq!(store.frontier(me.fid()).unwrap().map(|f| f.seq), Some(30));
        assert!(store.open_chains(me.fid()).unwrap().is_empty());
    }
}

#[test]
fn sim_converges_and_reports_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "sim",
            "--nodes",
            "3",
            "--entries",
            "12",
            "--loss",
            "0.1",
            "--json",
        ],
    );
    let r = json(&o);
    assert_eq!(r["converged"], true, "{r}");
    assert_eq!(r["plan"], "EU868.a");
    let ratio = r["airtime_ratio"].as_f64().unwrap();
    assert!(ratio >= 1.0, "{r}");
    assert!(
        r["lost"].as_u64().unwrap() > 0,
        "10 % loss lost nothing: {r}"
    );
}

/// The WebSocket figure stands beside baselines measured in its own rounds: one raw ed25519
/// and one batch-verification figure per replication round, and ratios paired round by round.
#[test]
fn ws_bench_measures_its_baselines_beside_every_round() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &["bench", "--ws", "--ws-entries", "200", "--json"],
    );
    let r = json(&o);
    assert_eq!(r["entries"], 200, "{r}");
    let rounds = r["rounds"].as_array().unwrap().len();
    assert_eq!(rounds, 3, "{r}");
    for key in ["raw_verify_rounds", "batch_verify_rounds"] {
        let base = r[key].as_array().unwrap_or_else(|| panic!("no {key}: {r}"));
        assert_eq!(base.len(), rounds, "{key}: {r}");
        assert!(base.iter().all(|b| b.as_f64().unwrap() > 0.0), "{r}");
    }
    for key in ["ratio_to_raw_verify", "ratio_to_batch_verify"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}: {r}");
    }
}
