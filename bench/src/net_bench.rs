//! Replication benchmarks: `lichen-bench bench --lora` (airtime of Lichen's engines on the
//! simulated LoRa channel against the airtime the data needs, beside the same engines with
//! the deployed Android app's timers) and `lichen-bench bench --ws` (entries per second
//! between two fresh nodes over WebSocket loopback, against raw ed25519 and batch
//! verification measured beside each round).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ed25519_dalek::{Signature, Verifier};
use lichen::feed;
use lichen::lora::{DutyLimit, Plan};
use lichen::node::{Node, NodeConfig};
use lichen::sim::net::{self, Pacing, SimConfig, SimReport, Topology};
use lichen::store::{SledStore, Store};
use lichen::wire::entry::{first_prev, verify_batch, BatchItem, Name};
use lichen::wire::network::Network;
use lichen::wire::{Mid, PKT_LEN};
use lichen::{FeedId, FeedKey};
use serde_json::{json, Value};

use crate::store_bench::Scratch;
use crate::verify_bench::median;

/// Rounds of `--ws`.
const ROUNDS: usize = 3;
/// Group size of the batch-verification baseline of `--ws` (the node's burst size).
const BATCH_BASELINE: usize = 256;

/// One LoRa run of Lichen's engines, with their own timers or the Android app's, at a loss
/// rate.
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

/// `lichen-bench bench --lora`: the four runs of the LoRa table in `docs/BENCHMARKS.md`.
pub fn run_lora(json_out: bool) -> Result<Value> {
    let mut rows = Vec::new();
    for (name, pacing) in [
        ("lichen", Pacing::Lichen),
        ("lichen_android_timers", Pacing::AndroidReference),
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
        outln!("pacing                 loss  airtime/needed  sim time   frames  converged")?;
        for r in &rows {
            outln!(
                "{:<22} {:>4.0}%  {:>14.2}  {:>7.0} s  {:>7}  {}",
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

/// Every entry of the feeds as the baselines verify it, prepared once before any timing.
struct Work {
    net: Network,
    entries: Vec<WorkEntry>,
}

struct WorkEntry {
    key: FeedKey,
    seq: u32,
    prev: Mid,
    pkt: [u8; PKT_LEN],
    /// `name ‖ pkt[0:56]`: what the signature covers.
    msg: Vec<u8>,
    sig: Signature,
}

impl Work {
    fn new(store: &dyn Store, fids: &[FeedId]) -> Result<Work> {
        let net = Network::deployed();
        let mut entries = Vec::new();
        for fid in fids {
            let key = fid.key()?;
            let last = store.frontier(fid)?.map_or(0, |f| f.seq);
            let mut prev = first_prev(fid);
            for seq in 1..=last {
                let stored = store.entry(fid, seq)?.context("entry missing")?;
                let mut msg = Name::new(&net, fid, seq, &prev).as_bytes().to_vec();
                msg.extend_from_slice(&stored.entry.bytes()[..56]);
                entries.push(WorkEntry {
                    key: key.clone(),
                    seq,
                    prev,
                    pkt: *stored.entry.bytes(),
                    msg,
                    sig: Signature::from_bytes(stored.entry.signature()),
                });
                prev = stored.mid;
            }
        }
        Ok(Work { net, entries })
    }

    /// Raw ed25519 single verification of every entry; entries per second.
    fn raw_verify(&self) -> Result<f64> {
        let start = Instant::now();
        for e in &self.entries {
            if black_box(e.key.verifying_key())
                .verify(black_box(&e.msg), &e.sig)
                .is_err()
            {
                bail!("baseline signature failed");
            }
        }
        Ok(self.entries.len() as f64 / start.elapsed().as_secs_f64())
    }

    /// `entry::verify_batch` (DMX, signature, MID) of every entry in groups of
    /// [`BATCH_BASELINE`], the way the engine verifies a burst; entries per second.
    fn batch_verify(&self) -> Result<f64> {
        let items: Vec<BatchItem<'_>> = self
            .entries
            .iter()
            .map(|e| BatchItem {
                key: &e.key,
                seq: e.seq,
                prev: e.prev,
                pkt: &e.pkt,
            })
            .collect();
        let start = Instant::now();
        for group in items.chunks(BATCH_BASELINE) {
            for r in verify_batch(&self.net, black_box(group)) {
                black_box(r.context("batch baseline entry failed")?);
            }
        }
        Ok(self.entries.len() as f64 / start.elapsed().as_secs_f64())
    }
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

/// `lichen-bench bench --ws`: two fresh nodes on WebSocket loopback, `entries` entries in two
/// feeds, half of them with side chains; three rounds, each beside both baselines (raw
/// ed25519 single verification, and `entry::verify_batch` as the engine verifies bursts)
/// measured right before it, so that load on the machine hits round and baselines alike.
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
    let work = Work::new(sa.as_ref(), &fids)?;
    // Warm-up of both baselines.
    work.raw_verify()?;
    work.batch_verify()?;
    let a = Node::start(sa.clone(), NodeConfig::default())?;
    for f in &fids {
        a.add_feed(*f)?;
    }
    let addr = a.listen_ws("127.0.0.1:0")?.to_string();
    let (mut rates, mut raws, mut batches) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        raws.push(work.raw_verify()?);
        batches.push(work.batch_verify()?);
        rates.push(ws_round(&a, &addr, &fids, total)?);
    }
    a.shutdown(Duration::from_secs(2));
    let paired = |base: &[f64]| -> f64 {
        let r: Vec<f64> = rates.iter().zip(base).map(|(x, b)| x / b).collect();
        median(&r)
    };
    let (rate, raw, batch) = (median(&rates), median(&raws), median(&batches));
    let (to_raw, to_batch) = (paired(&raws), paired(&batches));
    let out = json!({
        "entries": total,
        "chunks": chunks,
        "entries_per_s": rate,
        "rounds": rates,
        "raw_verify_per_s": raw,
        "raw_verify_rounds": raws,
        "batch_verify_per_s": batch,
        "batch_verify_rounds": batches,
        "batch_verify_size": BATCH_BASELINE,
        "ratio_to_raw_verify": to_raw,
        "ratio_to_batch_verify": to_batch,
        "statistic": "median; ratios are medians of per-round ratios",
        "target_entries_per_s": 20_000,
    });
    if json_out {
        outln!("{out}")?;
    } else {
        outln!(
            "WebSocket loopback: {total} entries ({chunks} chunks) replicated at {rate:.0} entries/s \
             (median of {ROUNDS}; target 20000/s)"
        )?;
        outln!(
            "  per round, beside it: {to_raw:.2}x raw ed25519 single verify ({raw:.0}/s), \
             {to_batch:.2}x entry::verify_batch at {BATCH_BASELINE} ({batch:.0}/s)"
        )?;
    }
    Ok(out)
}
