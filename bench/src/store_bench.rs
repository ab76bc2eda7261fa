//! `lichen-bench bench --storage`: how fast and how compactly the store keeps entries.
//!
//! Three figures, each against a target:
//!
//! * **ingest**: entries validated (DMX, signature and message id through
//!   `entry::verify_batch`) **and durably stored** (`append_batch`, then `flush` per group)
//!   per second, as a ratio to raw ed25519 single verification of the same 122-byte messages
//!   measured in the same rounds (as in `lichen-bench bench`). Target ≥ 1.0 with `flush` at the
//!   group size a node uses (256). The ratio benefits from batch verification, so a second
//!   baseline stands beside it: `entry::verify_batch` alone at the node's group size, storing
//!   nothing, in the same rounds. Also measured: other group sizes, `sync` (power-loss
//!   durable) instead of `flush`, and ingest with side-chain chunks (hash-checked and stored).
//! * **disk**: bytes on disk per stored entry ÷ 120 with 100 000 entries of 20 feeds. Entries
//!   are counted with everything the store keeps for them (records with their message ids,
//!   the sled map with frontiers and open-chain records, file-system rounding); chunks are
//!   reported separately as the extra bytes per 120-byte chunk when all chunks are stored
//!   too. Allocated blocks (`du`) are the headline; apparent sizes are given as well.
//!   Target ≤ 1.5.
//! * **open**: time to open a store holding 1 000 000 entries (100 feeds × 10 000, most side
//!   chains complete) after a clean shutdown (median of 5) and after the writing process was
//!   SIGKILLed right after its last `flush` (first open; it re-checks the CRC of every record
//!   written since the last `sync`, here all of them). Targets < 0.3 s and < 1 s. The 1M store
//!   is written by a child process (this binary, re-executed with [`CHILD_ENV`]); to keep the
//!   run short its packets are the 10 000 signed entries of one feed stored under 100 feed
//!   ids (the store does not verify; nothing it does at open depends on packet contents).
//!
//! Stores live in a fresh directory under the system temp dir, removed afterwards.

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ed25519_dalek::{Signature, Verifier};
use lichen::store::{disk_usage, DiskUsage, SledStore, Store};
use lichen::wire::entry::{first_prev, sign_chain20, verify_batch, BatchItem, Entry, Name};
use lichen::wire::network::Network;
use lichen::wire::sidechain::{Chain20, Reassembly};
use lichen::wire::{Mid, PKT_LEN};
use lichen::{FeedId, FeedKey, Identity};

use crate::verify_bench::median;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Environment variable that makes the binary act as the 1M-entry writer of the open bench.
pub const CHILD_ENV: &str = "LICHEN_STORE_BENCH_CHILD";

const TARGET_INGEST: f64 = 1.0;
const TARGET_DISK: f64 = 1.5;
const TARGET_OPEN_CLEAN_S: f64 = 0.3;
const TARGET_OPEN_KILLED_S: f64 = 1.0;
/// Group size a node commits at (see `lichen::store`).
const NODE_GROUP: usize = 256;
const INGEST_ENTRIES: usize = 8192;
const INGEST_FEEDS: usize = 8;
/// Consecutive entries of one feed in the arrival stream (a WANT answer).
const RUN: usize = 32;
const ROUNDS: usize = 5;
const DISK_ENTRIES: usize = 100_000;
const DISK_FEEDS: usize = 20;
const OPEN_FEEDS: usize = 100;
const OPEN_PER_FEED: u32 = 10_000;
/// Every this many entries of the 1M store keep an incomplete side chain.
const OPEN_PARTIAL_EVERY: u32 = 20;

/// One signed entry of the corpus.
struct Item {
    feed: usize,
    seq: u32,
    prev: Mid,
    entry: Entry,
    mid: Mid,
    chunks: Vec<[u8; PKT_LEN]>,
    /// `name ‖ pkt[0:56]`, for the raw ed25519 baseline.
    msg: Vec<u8>,
}

/// Signed entries of several feeds, in arrival order (runs of [`RUN`] per feed).
struct Corpus {
    net: Network,
    keys: Vec<FeedKey>,
    items: Vec<Item>,
}

/// Content like `lichen-bench bench`'s: mostly short texts, some side chains of 1–10 chunks.
fn content(rng: &mut StdRng, feed: usize, seq: u32) -> Vec<u8> {
    let len = match rng.gen_range(0..10) {
        0..=5 => rng.gen_range(4..=26),
        6..=8 => rng.gen_range(27..=180),
        _ => rng.gen_range(181..=1000),
    };
    let mut text = format!("{feed}/{seq}:").into_bytes();
    while text.len() < len {
        text.push(b"abcdefghijklmnopqrstuvwxyz "[rng.gen_range(0..27)]);
    }
    text.truncate(len);
    text
}

fn identity(tag: u8, i: usize) -> Identity {
    let mut seed = [0u8; 32];
    seed[0] = tag;
    seed[1..9].copy_from_slice(&(i as u64).to_be_bytes());
    Identity::from_seed(&seed)
}

impl Corpus {
    fn new(entries: usize, feeds: usize, tag: u8) -> Result<Corpus> {
        let net = Network::deployed();
        let mut rng = StdRng::seed_from_u64(0x73746f7265 ^ u64::from(tag));
        let authors: Vec<Identity> = (0..feeds).map(|i| identity(tag, i)).collect();
        let keys = authors
            .iter()
            .map(|a| a.fid().key())
            .collect::<Result<Vec<_>, _>>()?;
        let mut prevs: Vec<Mid> = authors.iter().map(|a| first_prev(a.fid())).collect();
        let mut seqs = vec![0u32; feeds];
        let mut items = Vec::with_capacity(entries);
        let mut feed = 0;
        while items.len() < entries {
            for _ in 0..RUN.min(entries - items.len()) {
                seqs[feed] += 1;
                let seq = seqs[feed];
                let prev = prevs[feed];
                let text = content(&mut rng, feed, seq);
                let s = sign_chain20(&net, &authors[feed], seq, &prev, &text)?;
                let name = Name::new(&net, authors[feed].fid(), seq, &prev);
                let mut msg = name.as_bytes().to_vec();
                msg.extend_from_slice(&s.entry.bytes()[..56]);
                prevs[feed] = s.mid;
                items.push(Item {
                    feed,
                    seq,
                    prev,
                    entry: s.entry,
                    mid: s.mid,
                    chunks: s.chunks,
                    msg,
                });
            }
            feed = (feed + 1) % feeds;
        }
        Ok(Corpus { net, keys, items })
    }

    fn fid(&self, feed: usize) -> Result<FeedId> {
        Ok(*self.keys.get(feed).context("feed key")?.fid())
    }
}

/// A scratch directory removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(what: &str) -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "lichen-store-bench-{what}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Raw ed25519 verification of every corpus message; entries per second.
fn raw_verify(c: &Corpus) -> Result<f64> {
    let sigs: Vec<Signature> = c
        .items
        .iter()
        .map(|i| Signature::from_bytes(i.entry.signature()))
        .collect();
    let start = Instant::now();
    for (i, sig) in c.items.iter().zip(&sigs) {
        let key = c.keys.get(i.feed).context("key")?;
        if black_box(key.verifying_key())
            .verify(black_box(&i.msg), black_box(sig))
            .is_err()
        {
            bail!("baseline signature failed");
        }
    }
    Ok(c.items.len() as f64 / start.elapsed().as_secs_f64())
}

/// `entry::verify_batch` of the corpus in groups of `group`, storing nothing: the batch
/// baseline, which shows what storing costs beside what batching gains; entries per second.
fn batch_verify(c: &Corpus, group: usize) -> Result<f64> {
    let batch: Vec<BatchItem<'_>> = c
        .items
        .iter()
        .map(|i| {
            Ok(BatchItem {
                key: c.keys.get(i.feed).context("key")?,
                seq: i.seq,
                prev: i.prev,
                pkt: i.entry.bytes(),
            })
        })
        .collect::<Result<_>>()?;
    let start = Instant::now();
    for g in batch.chunks(group) {
        for r in verify_batch(&c.net, black_box(g)) {
            black_box(r.context("batch baseline entry failed")?);
        }
    }
    Ok(c.items.len() as f64 / start.elapsed().as_secs_f64())
}

/// How an ingest pass commits each group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    Flush,
    Sync,
}

/// Verifies and stores the whole corpus into a fresh store, group by group; entries/s.
fn ingest(c: &Corpus, group: usize, commit: Commit, chunks: bool) -> Result<f64> {
    let dir = Scratch::new("ingest")?;
    let store = SledStore::open(&dir.0)?;
    let start = Instant::now();
    for g in c.items.chunks(group) {
        let batch: Vec<BatchItem<'_>> = g
            .iter()
            .map(|i| {
                Ok(BatchItem {
                    key: c.keys.get(i.feed).context("key")?,
                    seq: i.seq,
                    prev: i.prev,
                    pkt: i.entry.bytes(),
                })
            })
            .collect::<Result<_>>()?;
        let mut items = Vec::with_capacity(g.len());
        for (i, r) in g.iter().zip(verify_batch(&c.net, &batch)) {
            let (entry, mid) = r.with_context(|| format!("entry {} of feed {}", i.seq, i.feed))?;
            items.push((c.fid(i.feed)?, i.seq, entry, mid));
        }
        let stored = store.append_batch(&items)?;
        ensure!(
            stored == items.len(),
            "append_batch stored {stored} of {}",
            items.len()
        );
        if chunks {
            for (i, (fid, seq, entry, _)) in g.iter().zip(&items) {
                let mut chain = Reassembly::new(&Chain20::parse(entry.payload())?);
                for (cnr, chunk) in i.chunks.iter().enumerate() {
                    chain.push(chunk)?;
                    store.put_chunk(fid, *seq, cnr as u32, chunk)?;
                }
            }
        }
        match commit {
            Commit::Flush => store.flush()?,
            Commit::Sync => store.sync()?,
        }
    }
    let rate = c.items.len() as f64 / start.elapsed().as_secs_f64();
    store.abandon();
    Ok(rate)
}

/// One ingest variant and its per-round rates.
struct Variant {
    group: usize,
    commit: Commit,
    chunks: bool,
    rates: Vec<f64>,
    ratios: Vec<f64>,
    batch_ratios: Vec<f64>,
}

fn measure_ingest() -> Result<(Value, f64)> {
    let c = Corpus::new(INGEST_ENTRIES, INGEST_FEEDS, 0x1a)?;
    let with_chunks = c.items.iter().filter(|i| !i.chunks.is_empty()).count();
    let mut variants: Vec<Variant> = [
        (64, Commit::Flush, false),
        (NODE_GROUP, Commit::Flush, false),
        (1024, Commit::Flush, false),
        (NODE_GROUP, Commit::Sync, false),
        (1024, Commit::Sync, false),
        (NODE_GROUP, Commit::Flush, true),
    ]
    .into_iter()
    .map(|(group, commit, chunks)| Variant {
        group,
        commit,
        chunks,
        rates: Vec::new(),
        ratios: Vec::new(),
        batch_ratios: Vec::new(),
    })
    .collect();
    // Warm-up, then rounds interleaving both baselines with every variant.
    raw_verify(&c)?;
    batch_verify(&c, NODE_GROUP)?;
    ingest(&c, NODE_GROUP, Commit::Flush, false)?;
    let (mut raw, mut batched) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let base = raw_verify(&c)?;
        raw.push(base);
        let batch = batch_verify(&c, NODE_GROUP)?;
        batched.push(batch);
        for v in &mut variants {
            let r = ingest(&c, v.group, v.commit, v.chunks)?;
            v.rates.push(r);
            v.ratios.push(r / base);
            v.batch_ratios.push(r / batch);
        }
    }
    let raw_median = median(&raw);
    let list: Vec<Value> = variants
        .iter()
        .map(|v| {
            json!({
                "group": v.group,
                "commit": match v.commit { Commit::Flush => "flush", Commit::Sync => "sync" },
                "chunks": v.chunks,
                "entries_per_s": median(&v.rates),
                "ratio": median(&v.rates) / raw_median,
                "paired_ratio": median(&v.ratios),
                "paired_ratio_to_batch_verify": median(&v.batch_ratios),
            })
        })
        .collect();
    let headline = variants
        .iter()
        .find(|v| v.group == NODE_GROUP && v.commit == Commit::Flush && !v.chunks)
        .map_or(0.0, |v| median(&v.rates) / raw_median);
    Ok((
        json!({
            "entries": c.items.len(),
            "feeds": INGEST_FEEDS,
            "entries_with_side_chain": with_chunks,
            "chunks": c.items.iter().map(|i| i.chunks.len()).sum::<usize>(),
            "run_per_feed": RUN,
            "rounds": ROUNDS,
            "raw_verify_per_s": raw_median,
            "batch_verify_per_s": median(&batched),
            "batch_verify_group": NODE_GROUP,
            "variants": list,
            "ratio": headline,
            "target": TARGET_INGEST,
            "target_met": headline >= TARGET_INGEST,
        }),
        headline,
    ))
}

fn is_log(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "log")
}
fn is_chunks(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "chunks")
}
fn is_map(p: &Path) -> bool {
    !is_log(p) && !is_chunks(p)
}

/// Writes the corpus into a store (groups of [`NODE_GROUP`], flush per group), with or
/// without chunks, closes it, and measures the directory.
fn fill_and_measure(c: &Corpus, chunks: bool) -> Result<(DiskUsage, DiskUsage, DiskUsage)> {
    let dir = Scratch::new(if chunks { "disk-chunks" } else { "disk" })?;
    {
        let store = SledStore::open(&dir.0)?;
        for g in c.items.chunks(NODE_GROUP) {
            let items: Vec<(FeedId, u32, Entry, Mid)> = g
                .iter()
                .map(|i| Ok((c.fid(i.feed)?, i.seq, i.entry.clone(), i.mid)))
                .collect::<Result<_>>()?;
            ensure!(store.append_batch(&items)? == items.len(), "append failed");
            if chunks {
                for i in g {
                    for (cnr, ch) in i.chunks.iter().enumerate() {
                        store.put_chunk(&c.fid(i.feed)?, i.seq, cnr as u32, ch)?;
                    }
                }
            }
            store.flush()?;
        }
    }
    let d = &dir.0;
    Ok((
        disk_usage(d, &is_log)?,
        disk_usage(d, &is_chunks)?,
        disk_usage(d, &is_map)?,
    ))
}

fn measure_disk() -> Result<(Value, f64)> {
    let c = Corpus::new(DISK_ENTRIES, DISK_FEEDS, 0x2b)?;
    let n = c.items.len() as f64;
    let chunk_count: usize = c.items.iter().map(|i| i.chunks.len()).sum();
    let (log, _, map) = fill_and_measure(&c, false)?;
    let entries = log + map;
    let (log2, chunk_logs, map2) = fill_and_measure(&c, true)?;
    let all = log2 + chunk_logs + map2;
    let per_entry = |u: DiskUsage| {
        (
            u.allocated as f64 / n / 120.0,
            u.apparent as f64 / n / 120.0,
        )
    };
    let (ratio, ratio_apparent) = per_entry(entries);
    let extra = all.allocated.saturating_sub(entries.allocated) as f64;
    let chunk_ratio = extra / chunk_count.max(1) as f64 / 120.0;
    Ok((
        json!({
            "entries": DISK_ENTRIES,
            "feeds": DISK_FEEDS,
            "chunks": chunk_count,
            "entries_only": {
                "logs_bytes": log.allocated, "map_bytes": map.allocated,
                "total_bytes": entries.allocated, "apparent_bytes": entries.apparent,
            },
            "with_chunks": {
                "logs_bytes": log2.allocated, "chunk_logs_bytes": chunk_logs.allocated,
                "map_bytes": map2.allocated, "total_bytes": all.allocated,
                "apparent_bytes": all.apparent,
            },
            "bytes_per_entry_ratio": ratio,
            "bytes_per_entry_ratio_apparent": ratio_apparent,
            "bytes_per_chunk_ratio": chunk_ratio,
            "target": TARGET_DISK,
            "target_met": ratio <= TARGET_DISK,
        }),
        ratio,
    ))
}

/// The child: writes the 1M-entry store in `dir` with flushes only, prints `FLUSHED`, and
/// waits to be killed. Returns `None` when the environment does not ask for it. Call this
/// first thing in `main`.
pub fn child_main() -> Option<ExitCode> {
    let dir = std::env::var_os(CHILD_ENV)?;
    Some(match write_million(Path::new(&dir)) {
        Ok(()) => {
            if outln!("FLUSHED").is_err() {
                return Some(ExitCode::FAILURE);
            }
            std::thread::sleep(Duration::from_secs(600));
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("error: {e:#}");
            ExitCode::FAILURE
        }
    })
}

fn write_million(dir: &Path) -> Result<()> {
    let template = Corpus::new(OPEN_PER_FEED as usize, 1, 0x3c)?;
    let store = SledStore::open(dir)?;
    for f in 0..OPEN_FEEDS {
        let fid = *identity(0x4d, f).fid();
        for block in template.items.chunks(1024) {
            let items: Vec<(FeedId, u32, Entry, Mid)> = block
                .iter()
                .map(|i| (fid, i.seq, i.entry.clone(), i.mid))
                .collect();
            ensure!(store.append_batch(&items)? == items.len(), "append failed");
            for i in block {
                let keep = if i.seq % OPEN_PARTIAL_EVERY == 0 {
                    i.chunks.len() / 2
                } else {
                    i.chunks.len()
                };
                for (cnr, ch) in i.chunks.iter().take(keep).enumerate() {
                    store.put_chunk(&fid, i.seq, cnr as u32, ch)?;
                }
            }
            store.flush()?;
        }
    }
    store.flush()?;
    // No sync and no clean close: the parent kills this process.
    std::mem::forget(store);
    Ok(())
}

fn timed_open(dir: &Path) -> Result<(f64, SledStore)> {
    let start = Instant::now();
    let store = SledStore::open(dir)?;
    Ok((start.elapsed().as_secs_f64(), store))
}

fn measure_open() -> Result<(Value, f64, f64)> {
    let dir = Scratch::new("open")?;
    let exe = std::env::current_exe().context("own executable")?;
    let build = Instant::now();
    let mut child = Command::new(exe)
        .env(CHILD_ENV, &dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the writer")?;
    let stdout = child.stdout.take().context("writer stdout")?;
    let flushed = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l == "FLUSHED");
    child.kill().context("killing the writer")?;
    let _ = child.wait();
    ensure!(flushed, "the writer did not finish (run with a build of `lichen-bench` that calls store_bench::child_main)");
    let build_s = build.elapsed().as_secs_f64();

    let (killed_s, store) = timed_open(&dir.0)?;
    let repaired = store.recovery().clone();
    let held: u64 = store.feeds()?.iter().map(|(_, f)| u64::from(f.seq)).sum();
    ensure!(
        held == u64::from(OPEN_PER_FEED) * OPEN_FEEDS as u64,
        "store holds {held} entries after the kill"
    );
    ensure!(repaired.rolled_back.is_empty(), "a kill rolled feeds back");
    let probe = store.entry(identity(0x4d, 0).fid(), OPEN_PER_FEED)?;
    let locate_start = Instant::now();
    let found = match probe {
        Some(p) => store.locate(&p.mid)?,
        None => None,
    };
    let locate_s = locate_start.elapsed().as_secs_f64();
    ensure!(found.is_some(), "locate failed");
    drop(store); // a clean close (sync)

    let mut clean = Vec::new();
    for _ in 0..ROUNDS {
        let (t, s) = timed_open(&dir.0)?;
        ensure!(
            s.recovery() == &Default::default(),
            "a clean close needed repair"
        );
        clean.push(t);
    }
    let clean_s = median(&clean);
    let disk = disk_usage(&dir.0, &|_| true)?;
    Ok((
        json!({
            "entries": held,
            "feeds": OPEN_FEEDS,
            "build_s": build_s,
            "disk_bytes": disk.allocated,
            "open_after_clean_close_s": clean_s,
            "open_after_clean_close_all_s": clean,
            "open_after_kill_s": killed_s,
            "bytes_cut_after_kill": repaired.bytes_cut,
            "first_locate_s": locate_s,
            "target_clean_s": TARGET_OPEN_CLEAN_S,
            "target_killed_s": TARGET_OPEN_KILLED_S,
            "target_met": clean_s < TARGET_OPEN_CLEAN_S && killed_s < TARGET_OPEN_KILLED_S,
        }),
        clean_s,
        killed_s,
    ))
}

/// Runs the storage benchmarks; prints a table (or, with `json`, one JSON object) and
/// returns the figures.
pub fn run_storage(json_out: bool) -> Result<Value> {
    let started = Instant::now();
    let (ingest, ingest_ratio) = measure_ingest()?;
    let (disk, disk_ratio) = measure_disk()?;
    let (open, clean_s, killed_s) = measure_open()?;
    let out = json!({
        "benchmark": "storage",
        "version": env!("CARGO_PKG_VERSION"),
        "threads": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "ingest": ingest,
        "disk": disk,
        "open": open,
        "took_s": started.elapsed().as_secs_f64(),
    });
    if json_out {
        outln!("{out}")?;
        return Ok(out);
    }
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    outln!("lichen-bench bench --storage (release build expected)")?;
    outln!(
        "  ingest: {} entries of {} feeds in runs of {RUN}, {} rounds; raw ed25519 {:.0}/s, \
         verify_batch at {NODE_GROUP} {:.0}/s",
        ingest["entries"],
        ingest["feeds"],
        ingest["rounds"],
        ingest["raw_verify_per_s"].as_f64().unwrap_or(0.0),
        ingest["batch_verify_per_s"].as_f64().unwrap_or(0.0)
    )?;
    outln!(
        "    {:>6} {:>6} {:>7} {:>12} {:>8} {:>8} {:>9}",
        "group",
        "commit",
        "chunks",
        "entries/s",
        "vs raw",
        "paired",
        "vs batch"
    )?;
    for v in ingest["variants"].as_array().into_iter().flatten() {
        outln!(
            "    {:>6} {:>6} {:>7} {:>12.0} {:>7.2}x {:>7.2}x {:>8.2}x",
            v["group"].as_u64().unwrap_or(0),
            v["commit"].as_str().unwrap_or(""),
            if v["chunks"].as_bool().unwrap_or(false) {
                "yes"
            } else {
                "no"
            },
            v["entries_per_s"].as_f64().unwrap_or(0.0),
            v["ratio"].as_f64().unwrap_or(0.0),
            v["paired_ratio"].as_f64().unwrap_or(0.0),
            v["paired_ratio_to_batch_verify"].as_f64().unwrap_or(0.0),
        )?;
    }
    outln!(
        "  target ingest (group {NODE_GROUP}, flush) >= {TARGET_INGEST:.1}x raw: {} ({ingest_ratio:.2}x)",
        verdict(ingest_ratio >= TARGET_INGEST)
    )?;
    outln!(
        "  disk: {} entries of {} feeds: {:.3} x 120 B per entry (apparent {:.3}); chunks {:.3} x 120 B each",
        disk["entries"],
        disk["feeds"],
        disk_ratio,
        disk["bytes_per_entry_ratio_apparent"].as_f64().unwrap_or(0.0),
        disk["bytes_per_chunk_ratio"].as_f64().unwrap_or(0.0)
    )?;
    outln!(
        "  target disk <= {TARGET_DISK:.1}: {} ({disk_ratio:.3})",
        verdict(disk_ratio <= TARGET_DISK)
    )?;
    outln!(
        "  open: {} entries: {:.3} s after a clean close, {:.3} s after SIGKILL; first locate {:.3} s",
        open["entries"],
        clean_s,
        killed_s,
        open["first_locate_s"].as_f64().unwrap_or(0.0)
    )?;
    outln!(
        "  target open < {TARGET_OPEN_CLEAN_S} s clean / < {TARGET_OPEN_KILLED_S} s killed: {}",
        verdict(clean_s < TARGET_OPEN_CLEAN_S && killed_s < TARGET_OPEN_KILLED_S)
    )?;
    outln!("  took {:.1} s", started.elapsed().as_secs_f64())?;
    Ok(out)
}
