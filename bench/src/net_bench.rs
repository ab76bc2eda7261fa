//! Replication benchmarks: `lichen bench --lora` (airtime on the simulated LoRa channel
//! against the airtime the data needs, beside the deployed Android pacing) and
//! `lichen bench --ws` (entries per second between two fresh nodes over WebSocket loopback,
//! against raw ed25519 verification measured in the same run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ed25519_dalek::{Signature, Verifier};
use lichen::feed;
use lichen::node::{Node, NodeConfig};
use lichen::sim::net::{self, Pacing, SimConfig, SimReport, Topology};
use lichen::store::{SledStore, Store};
use lichen::sync::airtime::{DutyLimit, Plan};
use lichen::wire::entry::{first_prev, Name};
use lichen::wire::network::Network;
use lichen::FeedId;
use serde_json::{json, Value};

use crate::store_bench::Scratch;

/// One LoRa run: Lichen's or the Android pacing at a loss rate.
fn lora_run(pacing: Pacing, loss: f64) -> Result<SimReport> {
    let plan = Plan::by_name("EU868.a").context("plan EU868.a")?;
    let cfg = SimConfig {
        nodes: 2,
        feeds: 1,
        entries: 1000,
        loss,
        topology: Topology::Mesh,
        plan,
        duty: DutyLimit::Unlimited,
        seed: 1,
        pacing,
        partition: None,
        max_time: 24 * 3_600_000,
    };
    Ok(net::run(&cfg)?)
}

/// `lichen bench --lora`: the four runs of the LoRa table in `docs/BENCHMARKS.md`.
pub fn run_lora(json_out: bool) -> Result<Value> {
    let mut rows = Vec::new();
    for (name, pacing) in [
        ("lichen", Pacing::Lichen),
        ("android_reference", Pacing::AndroidReference),
    ] {
        for loss in [0.0, 0.1] {
            let r = lora_run(pacing, loss)?;
            let ratio = r.airtime_us as f64 / r.lower_bound_airtime_us.max(1) as f64;
            rows.push(json!({
                "pacing": name,
                "loss": loss,
                "converged": r.converged,
                "airtime_ratio": ratio,
                "airtime_s": r.airtime_us as f64 / 1e6,
                "lower_bound_airtime_s": r.lower_bound_airtime_us as f64 / 1e6,
                "sim_time_s": r.sim_time_ms as f64 / 1e3,
                "packets": r.packets,
            }));
        }
    }
    let out = json!({
        "plan": "EU868.a",
        "entries": 1000,
        "targets": {"lichen_no_loss": 1.1, "lichen_10pct_loss": 1.3},
        "runs": rows,
    });
    if json_out {
        outln!("{out}")?;
    } else {
        outln!("pacing              loss  airtime/needed  sim time   frames  converged")?;
        for r in &rows {
            outln!(
                "{:<19} {:>4.0}%  {:>14.2}  {:>7.0} s  {:>7}  {}",
                r["pacing"].as_str().unwrap_or(""),
                r["loss"].as_f64().unwrap_or(0.0) * 100.0,
                r["airtime_ratio"].as_f64().unwrap_or(0.0),
                r["sim_time_s"].as_f64().unwrap_or(0.0),
                r["packets"].as_u64().unwrap_or(0),
                r["converged"].as_bool().unwrap_or(false),
            )?;
        }
    }
    Ok(out)
}

/// Raw ed25519 single verification of every entry in `store`'s feeds; entries per second.
fn raw_verify(store: &dyn Store, fids: &[FeedId]) -> Result<f64> {
    let net = Network::deployed();
    let mut work = Vec::new();
    for fid in fids {
        let key = fid.key()?;
        let last = store.frontier(fid)?.map_or(0, |f| f.seq);
        let mut prev = first_prev(fid);
        for seq in 1..=last {
            let stored = store.entry(fid, seq)?.context("entry missing")?;
            let mut msg = Name::new(&net, fid, seq, &prev).as_bytes().to_vec();
            msg.extend_from_slice(&stored.entry.bytes()[..56]);
            prev = stored.mid;
            work.push((
                key.clone(),
                msg,
                Signature::from_bytes(stored.entry.signature()),
            ));
        }
    }
    let start = Instant::now();
    for (key, msg, sig) in &work {
        if std::hint::black_box(key.verifying_key())
            .verify(std::hint::black_box(msg), sig)
            .is_err()
        {
            bail!("baseline signature failed");
        }
    }
    Ok(work.len() as f64 / start.elapsed().as_secs_f64())
}

/// Whether `store` holds every feed of `source` with every chunk.
fn caught_up(store: &dyn Store, source: &dyn Store, fids: &[FeedId]) -> Result<bool> {
    for f in fids {
        if store.frontier(f)? != source.frontier(f)? || !store.open_chains(f)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One replication from `a` to a fresh node; entries per second (until the last entry and
/// chunk is stored and flushed).
fn ws_round(a: &Node, addr: &str, fids: &[FeedId], entries: u64) -> Result<f64> {
    let dir = Scratch::new("ws-b")?;
    let sb: Arc<dyn Store> = Arc::new(SledStore::open(&dir.0)?);
    let b = Node::start(sb.clone(), NodeConfig::default())?;
    let start = Instant::now();
    b.connect_ws(&format!("ws://{addr}"))?;
    while !caught_up(sb.as_ref(), a.store().as_ref(), fids)? {
        if start.elapsed() > Duration::from_secs(120) {
            bail!("no convergence in 120 s");
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    sb.flush()?;
    let took = start.elapsed().as_secs_f64();
    b.shutdown(Duration::from_secs(2));
    Ok(entries as f64 / took)
}

/// `lichen bench --ws`: two fresh nodes on WebSocket loopback, `entries` entries in two
/// feeds, half of them with side chains; the median of three rounds.
pub fn run_ws(json_out: bool, entries: u32) -> Result<Value> {
    let dir = Scratch::new("ws-a")?;
    let sa: Arc<dyn Store> = Arc::new(SledStore::open(&dir.0)?);
    let net = Network::deployed();
    let mut fids = Vec::new();
    let mut chunks = 0;
    for seed in [1u8, 2] {
        let (fid, packets) = feed::author_synthetic(sa.as_ref(), &net, seed, entries / 2)?;
        chunks += packets - u64::from(entries / 2);
        fids.push(fid);
    }
    sa.flush()?;
    let total = u64::from(entries / 2) * 2;
    let baseline = raw_verify(sa.as_ref(), &fids)?;
    let a = Node::start(sa.clone(), NodeConfig::default())?;
    for f in &fids {
        a.add_feed(*f)?;
    }
    let addr = a.listen_ws("127.0.0.1:0")?.to_string();
    let mut rates = Vec::new();
    for _ in 0..3 {
        rates.push(ws_round(&a, &addr, &fids, total)?);
    }
    a.shutdown(Duration::from_secs(2));
    let rate = crate::bench::median(&rates);
    let out = json!({
        "entries": total,
        "chunks": chunks,
        "entries_per_s": rate,
        "rounds": rates,
        "raw_verify_per_s": baseline,
        "ratio_to_raw_verify": rate / baseline,
        "target_entries_per_s": 20_000,
    });
    if json_out {
        outln!("{out}")?;
    } else {
        outln!(
            "WebSocket loopback: {total} entries ({chunks} chunks) replicated at {rate:.0} entries/s \
             (median of 3; {:.2}x raw ed25519 verify at {baseline:.0}/s; target 20000/s)",
            rate / baseline
        )?;
    }
    Ok(out)
}
