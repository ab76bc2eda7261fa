//! `lichen-bench bench`: how fast log entries are validated, against raw ed25519 on the same machine.
//!
//! Validating a tinySSB entry is one SHA-256 of the hidden 66-byte name (the DMX), one ed25519
//! signature check over `name ‖ packet[0:56]` (122 bytes) and one SHA-256 of `name ‖ packet`
//! (the message id). The signature dominates, so the honest yardstick is the bare signature
//! check: the benchmark first measures ed25519-dalek's single `VerifyingKey::verify` on the very
//! 122-byte messages, with pre-parsed keys (the baseline), then
//!
//! * `entry::verify`, one entry at a time (DMX + signature + MID);
//! * `entry::verify_batch` on mixed bursts of several feeds, at several batch sizes;
//! * `entry::verify_run` on consecutive runs of one feed, at the same sizes.
//!
//! Absolute rates depend on the CPU; the ratios to the baseline do not much, so every figure is
//! reported with its ratio to the baseline measured in the same run. Targets: the single path
//! reaches at least 0.95 of the baseline (hashing and bookkeeping cost almost nothing), and the
//! best batched path at least 2.0 (batch verification shares the scalar multiplications).
//!
//! Inputs are prepared before any timing: a few feeds with chains of signed chain20 entries of
//! varied content (short inline texts and longer ones with side chains). Each measurement is
//! warmed up, then repeated for several rounds, the measurements interleaved round by round so
//! that frequency drift hits all of them alike; the median round is reported. Every result is
//! checked (a failed verification aborts the benchmark) and passed through
//! [`std::hint::black_box`] so the compiler cannot skip the work.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use lichen::wire::entry::{
    first_prev, sign_chain20, verify, verify_batch, verify_run, BatchItem, Name, SIGNED_PKT_LEN,
};
use lichen::wire::network::Network;
use lichen::wire::PKT_LEN;
use lichen::{FeedKey, Identity, Mid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Length of the message an entry's signature covers on the deployed network.
const SIGNED_MSG_LEN: usize = 122;
/// Target ratio of `entry::verify` to raw ed25519.
const TARGET_SINGLE: f64 = 0.95;
/// Target ratio of the best batched path to raw ed25519.
const TARGET_BATCH: f64 = 2.0;

/// Which measurements to run (the raw ed25519 baseline always runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// The baseline and `entry::verify`.
    Verify,
    /// The baseline, `entry::verify_batch` and `entry::verify_run`.
    Batch,
}

/// Options of `lichen-bench bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Entries prepared and validated per pass, spread evenly over the feeds.
    #[arg(long, default_value_t = 1024)]
    pub entries: usize,
    /// Number of feeds (identities) the entries come from.
    #[arg(long, default_value_t = 4)]
    pub feeds: usize,
    /// Timed rounds per measurement; the median round is reported.
    #[arg(long, default_value_t = 9)]
    pub rounds: usize,
    /// Approximate duration of one round of one measurement, in milliseconds.
    #[arg(long, default_value_t = 150)]
    pub round_ms: u64,
    /// Batch sizes for `verify_batch` and `verify_run` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "16,64,256")]
    pub sizes: Vec<usize>,
    /// Run only some measurements (the baseline always runs).
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Run the storage benchmarks (ingest, disk bytes per entry, open time) instead.
    #[arg(long)]
    pub storage: bool,
    /// Run the LoRa airtime benchmarks (simulated channel) instead.
    #[arg(long)]
    pub lora: bool,
    /// Run the WebSocket loopback replication benchmark instead.
    #[arg(long)]
    pub ws: bool,
    /// Entries replicated by `--ws`.
    #[arg(long, default_value_t = 10_000)]
    pub ws_entries: u32,
    /// Run the chat benchmarks (open a chat, search, unread counts over a large history).
    #[arg(long, conflicts_with = "storage")]
    pub chat: bool,
    /// Messages in the chat benchmark's history.
    #[arg(long, default_value_t = 100_000, requires = "chat")]
    pub messages: usize,
}

/// One prepared entry of the fixture.
struct Prepared {
    /// Index of the feed in [`Fixture::keys`].
    feed: usize,
    seq: u32,
    prev: Mid,
    pkt: [u8; PKT_LEN],
    /// `name ‖ pkt[0:56]`: what the signature covers, for the baseline.
    msg: [u8; SIGNED_MSG_LEN],
    sig: Signature,
}

/// A consecutive run of one feed, for `verify_run`.
struct Run<'a> {
    key: &'a FeedKey,
    first_seq: u32,
    prev: Mid,
    pkts: Vec<&'a [u8]>,
}

/// Everything prepared before timing.
struct Fixture {
    net: Network,
    keys: Vec<FeedKey>,
    /// Entries interleaved across feeds (feed 0 seq 1, feed 1 seq 1, …): a mixed burst.
    entries: Vec<Prepared>,
    /// Entries with side chains.
    with_side_chain: usize,
}

/// Content of entry `seq` of feed `feed`: mostly short texts that fit inline, some longer
/// messages with a side chain of one to ten chunks.
fn content(rng: &mut StdRng, feed: usize, seq: u32) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "hello", "mesh", "lora", "ok", "see", "you", "at", "the", "pub", "tonight", "battery",
        "low", "relay", "node", "north", "ridge", "signal", "weak", "thanks", "lichen",
    ];
    let len = match rng.gen_range(0..10) {
        0..=5 => rng.gen_range(4..=26),
        6..=8 => rng.gen_range(27..=180),
        _ => rng.gen_range(181..=1000),
    };
    let mut text = format!("{feed}/{seq}:");
    while text.len() < len {
        text.push(' ');
        text.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    let mut bytes = text.into_bytes();
    bytes.truncate(len);
    bytes
}

impl Fixture {
    /// Signs `entries` chain20 entries on `feeds` feeds with fixed seeds (same inputs on every
    /// run), and checks each one once.
    fn new(entries: usize, feeds: usize) -> Result<Fixture> {
        ensure!(feeds >= 1, "--feeds must be at least 1");
        ensure!(entries >= feeds, "--entries must be at least --feeds");
        let net = Network::deployed();
        let mut rng = StdRng::seed_from_u64(0x6c69_6368_656e);
        let authors: Vec<Identity> = (0..feeds)
            .map(|f| {
                let mut seed = [0u8; 32];
                seed[0] = 0xbe;
                seed[1..9].copy_from_slice(&(f as u64).to_be_bytes());
                Identity::from_seed(&seed)
            })
            .collect();
        let keys = authors
            .iter()
            .map(|a| a.fid().key())
            .collect::<Result<Vec<_>, _>>()
            .context("feed key")?;
        let mut prevs: Vec<Mid> = authors.iter().map(|a| first_prev(a.fid())).collect();
        let mut out = Vec::with_capacity(entries);
        let mut with_side_chain = 0;
        for i in 0..entries {
            let feed = i % feeds;
            let seq = u32::try_from(i / feeds + 1).context("too many entries")?;
            let (Some(author), Some(key), Some(prev)) =
                (authors.get(feed), keys.get(feed), prevs.get_mut(feed))
            else {
                bail!("feed {feed} missing");
            };
            let text = content(&mut rng, feed, seq);
            let signed = sign_chain20(&net, author, seq, prev, &text)?;
            if !signed.chunks.is_empty() {
                with_side_chain += 1;
            }
            let pkt = *signed.entry.bytes();
            let name = Name::new(&net, key.fid(), seq, prev);
            let mut msg = [0u8; SIGNED_MSG_LEN];
            let name_len = name.as_bytes().len();
            ensure!(
                name_len + SIGNED_PKT_LEN == SIGNED_MSG_LEN,
                "signed message is {} bytes, expected {SIGNED_MSG_LEN}",
                name_len + SIGNED_PKT_LEN
            );
            msg[..name_len].copy_from_slice(name.as_bytes());
            msg[name_len..].copy_from_slice(&pkt[..SIGNED_PKT_LEN]);
            let sig = Signature::from_bytes(signed.entry.signature());
            // Sanity: the prepared inputs verify through every path measured below.
            let (_, mid) = verify(&net, key, seq, prev, &pkt)
                .with_context(|| format!("entry {seq} of feed {feed} does not verify"))?;
            ensure!(mid == signed.mid, "verify computed another MID");
            key.verifying_key()
                .verify(&msg, &sig)
                .context("baseline message does not verify")?;
            out.push(Prepared {
                feed,
                seq,
                prev: *prev,
                pkt,
                msg,
                sig,
            });
            *prev = signed.mid;
        }
        Ok(Fixture {
            net,
            keys,
            entries: out,
            with_side_chain,
        })
    }

    fn key(&self, feed: usize) -> Result<&FeedKey> {
        self.keys.get(feed).context("feed key missing")
    }

    /// Batch items in fixture order (mixed feeds).
    fn batch_items(&self) -> Result<Vec<BatchItem<'_>>> {
        self.entries
            .iter()
            .map(|e| {
                Ok(BatchItem {
                    key: self.key(e.feed)?,
                    seq: e.seq,
                    prev: e.prev,
                    pkt: &e.pkt,
                })
            })
            .collect()
    }

    /// Each feed's entries cut into consecutive runs of at most `size`.
    fn runs(&self, size: usize) -> Result<Vec<Run<'_>>> {
        let mut runs = Vec::new();
        for feed in 0..self.keys.len() {
            let key = self.key(feed)?;
            let mine: Vec<&Prepared> = self.entries.iter().filter(|e| e.feed == feed).collect();
            for chunk in mine.chunks(size.max(1)) {
                let Some(first) = chunk.first() else {
                    continue;
                };
                runs.push(Run {
                    key,
                    first_seq: first.seq,
                    prev: first.prev,
                    pkts: chunk.iter().map(|e| &e.pkt[..]).collect(),
                });
            }
        }
        Ok(runs)
    }
}

/// A pass over the fixture: returns how many entries it validated.
type Pass<'a> = Box<dyn FnMut() -> Result<usize> + 'a>;

/// One measurement and its per-round rates.
struct Measure<'a> {
    path: &'static str,
    size: usize,
    pass: Pass<'a>,
    passes_per_round: u32,
    rates: Vec<f64>,
}

impl<'a> Measure<'a> {
    fn new(path: &'static str, size: usize, pass: Pass<'a>) -> Measure<'a> {
        Measure {
            path,
            size,
            pass,
            passes_per_round: 1,
            rates: Vec::new(),
        }
    }
}

/// Summary of one measurement.
#[derive(Debug, Clone)]
struct Figure {
    path: &'static str,
    size: usize,
    /// Median entries per second over the rounds.
    median: f64,
    min: f64,
    max: f64,
    /// Median over the rounds of (this rate / the baseline's rate in the same round): less
    /// sensitive to drift than the ratio of medians.
    paired_ratio: f64,
}

/// The median (0 for an empty slice).
pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `pass` `times` times; returns entries per second.
fn timed(pass: &mut Pass<'_>, times: u32) -> Result<f64> {
    let start = Instant::now();
    let mut n = 0usize;
    for _ in 0..times {
        n += pass()?;
    }
    let secs = start.elapsed().as_secs_f64();
    ensure!(secs > 0.0, "timer did not advance");
    Ok(n as f64 / secs)
}

/// Warms every measurement up (and sizes its rounds), then runs the rounds interleaved.
fn run_all(measures: &mut [Measure<'_>], rounds: usize, round: Duration) -> Result<()> {
    for m in measures.iter_mut() {
        // Warm-up: at least a third of a round, which also tells how long one pass takes.
        let start = Instant::now();
        let mut passes = 0u32;
        while start.elapsed() < round / 3 || passes < 2 {
            black_box((m.pass)()?);
            passes += 1;
        }
        let per_pass = start.elapsed().as_secs_f64() / f64::from(passes);
        let want = (round.as_secs_f64() / per_pass).ceil();
        m.passes_per_round = if want.is_finite() && want >= 1.0 {
            want.min(f64::from(u32::MAX)) as u32
        } else {
            1
        };
    }
    for _ in 0..rounds {
        for m in measures.iter_mut() {
            let rate = timed(&mut m.pass, m.passes_per_round)?;
            m.rates.push(rate);
        }
    }
    Ok(())
}

fn figure(m: &Measure<'_>, baseline: &[f64]) -> Figure {
    let paired: Vec<f64> = m.rates.iter().zip(baseline).map(|(r, b)| r / b).collect();
    Figure {
        path: m.path,
        size: m.size,
        median: median(&m.rates),
        min: m.rates.iter().copied().fold(f64::INFINITY, f64::min),
        max: m.rates.iter().copied().fold(0.0, f64::max),
        paired_ratio: median(&paired),
    }
}

/// The CPU model from `/proc/cpuinfo`, if there is one.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// Runs the benchmarks.
pub fn run(args: &BenchArgs) -> Result<()> {
    ensure!(args.rounds >= 1, "--rounds must be at least 1");
    ensure!(args.round_ms >= 1, "--round-ms must be at least 1");
    ensure!(
        args.sizes.iter().all(|&s| s >= 1),
        "batch sizes must be at least 1"
    );
    let do_single = args.only != Some(Only::Batch);
    let do_batch = args.only != Some(Only::Verify) && !args.sizes.is_empty();

    let prep = Instant::now();
    let fx = Fixture::new(args.entries, args.feeds)?;
    let prep_s = prep.elapsed().as_secs_f64();
    let items = fx.batch_items()?;
    let runs_by_size: Vec<(usize, Vec<Run<'_>>)> = args
        .sizes
        .iter()
        .map(|&s| Ok((s, fx.runs(s)?)))
        .collect::<Result<_>>()?;
    let vks: Vec<&VerifyingKey> = fx
        .entries
        .iter()
        .map(|e| Ok(fx.key(e.feed)?.verifying_key()))
        .collect::<Result<_>>()?;

    let mut measures: Vec<Measure<'_>> = Vec::new();

    // 1. Baseline: ed25519-dalek alone, same messages, keys already decompressed.
    measures.push(Measure::new(
        "raw_ed25519_verify",
        1,
        Box::new(|| {
            for (e, vk) in fx.entries.iter().zip(&vks) {
                let ok = black_box(*vk).verify(black_box(&e.msg[..]), black_box(&e.sig));
                if black_box(ok).is_err() {
                    bail!("baseline signature failed");
                }
            }
            Ok(fx.entries.len())
        }),
    ));

    // 2. entry::verify, one entry at a time.
    if do_single {
        measures.push(Measure::new(
            "entry_verify",
            1,
            Box::new(|| {
                for e in &fx.entries {
                    let key = fx.key(e.feed)?;
                    let res = verify(
                        &fx.net,
                        black_box(key),
                        black_box(e.seq),
                        black_box(&e.prev),
                        black_box(&e.pkt[..]),
                    );
                    black_box(res?);
                }
                Ok(fx.entries.len())
            }),
        ));
    }

    // 3. Batched paths.
    if do_batch {
        for &size in &args.sizes {
            let items = &items;
            let net = &fx.net;
            measures.push(Measure::new(
                "entry_verify_batch",
                size,
                Box::new(move || {
                    let mut n = 0;
                    for chunk in items.chunks(size) {
                        for r in black_box(verify_batch(net, black_box(chunk))) {
                            black_box(r?);
                            n += 1;
                        }
                    }
                    Ok(n)
                }),
            ));
        }
        for (size, runs) in &runs_by_size {
            let net = &fx.net;
            measures.push(Measure::new(
                "entry_verify_run",
                *size,
                Box::new(move || {
                    let mut n = 0;
                    for run in runs {
                        let (good, err) = verify_run(
                            net,
                            black_box(run.key),
                            black_box(run.first_seq),
                            black_box(run.prev),
                            black_box(&run.pkts),
                        );
                        if let Some(e) = err {
                            bail!("verify_run stopped after {} entries: {e}", good.len());
                        }
                        n += black_box(good).len();
                    }
                    Ok(n)
                }),
            ));
        }
    }

    let started = Instant::now();
    run_all(
        &mut measures,
        args.rounds,
        Duration::from_millis(args.round_ms),
    )?;
    let timed_s = started.elapsed().as_secs_f64();
    let baseline = measures
        .first()
        .map(|m| m.rates.clone())
        .context("baseline missing")?;
    let figures: Vec<Figure> = measures.iter().map(|m| figure(m, &baseline)).collect();
    drop(measures);

    let raw = figures
        .iter()
        .find(|f| f.path == "raw_ed25519_verify")
        .map(|f| f.median)
        .context("baseline missing")?;
    ensure!(raw > 0.0, "baseline rate is zero");
    let ratio = |x: f64| x / raw;
    let single = figures.iter().find(|f| f.path == "entry_verify");
    let batched: Vec<&Figure> = figures
        .iter()
        .filter(|f| f.path == "entry_verify_batch" || f.path == "entry_verify_run")
        .collect();
    let best = batched
        .iter()
        .max_by(|a, b| a.median.total_cmp(&b.median))
        .copied();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model();

    if args.json {
        let fig_json = |f: &Figure| {
            serde_json::json!({
                "size": f.size,
                "per_s": f.median,
                "min_per_s": f.min,
                "max_per_s": f.max,
                "us_per_entry": 1e6 / f.median,
                "ratio": ratio(f.median),
                "paired_ratio": f.paired_ratio,
            })
        };
        let list = |path: &str| -> Vec<serde_json::Value> {
            figures
                .iter()
                .filter(|f| f.path == path)
                .map(fig_json)
                .collect()
        };
        let out = serde_json::json!({
            "benchmark": "entry_verification",
            "version": env!("CARGO_PKG_VERSION"),
            "cpu": cpu,
            "threads": threads,
            "feeds": args.feeds,
            "entries": fx.entries.len(),
            "entries_with_side_chain": fx.with_side_chain,
            "rounds": args.rounds,
            "round_ms": args.round_ms,
            "statistic": "median",
            "raw_verify_per_s": raw,
            "entry_verify_per_s": single.map(|f| f.median),
            "entry_verify_ratio": single.map(|f| ratio(f.median)),
            "entry_verify_paired_ratio": single.map(|f| f.paired_ratio),
            "batch": list("entry_verify_batch"),
            "run": list("entry_verify_run"),
            "best_batch": best.map(|f| serde_json::json!({
                "path": f.path,
                "size": f.size,
                "per_s": f.median,
                "ratio": ratio(f.median),
                "paired_ratio": f.paired_ratio,
            })),
            "target_entry_verify_ratio": TARGET_SINGLE,
            "target_batch_ratio": TARGET_BATCH,
            "entry_verify_target_met": single.map(|f| ratio(f.median) >= TARGET_SINGLE),
            "batch_target_met": best.map(|f| ratio(f.median) >= TARGET_BATCH),
        });
        outln!("{out}")?;
        return Ok(());
    }

    outln!("lichen-bench bench: entry verification (release build expected)")?;
    outln!(
        "  cpu: {} ({threads} threads available, benchmark is single-threaded)",
        cpu.as_deref().unwrap_or("unknown")
    )?;
    outln!(
        "  inputs: {} feeds, {} chain20 entries ({} with side chains), signed in {prep_s:.2} s",
        args.feeds,
        fx.entries.len(),
        fx.with_side_chain
    )?;
    outln!(
        "  {} rounds of ~{} ms per measurement, median reported; timing took {timed_s:.1} s",
        args.rounds,
        args.round_ms
    )?;
    outln!()?;
    outln!(
        "  {:<22} {:>6} {:>12} {:>10} {:>21} {:>9} {:>9}",
        "path",
        "batch",
        "entries/s",
        "us/entry",
        "min..max entries/s",
        "vs raw",
        "paired"
    )?;
    for f in &figures {
        outln!(
            "  {:<22} {:>6} {:>12.0} {:>10.2} {:>10.0}..{:<10.0} {:>8.2}x {:>8.2}x",
            f.path,
            f.size,
            f.median,
            1e6 / f.median,
            f.min,
            f.max,
            ratio(f.median),
            f.paired_ratio
        )?;
    }
    outln!("  (vs raw: ratio of medians; paired: median of per-round ratios)")?;
    outln!()?;
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    if let Some(f) = single {
        let r = ratio(f.median);
        outln!(
            "  target entry_verify >= {TARGET_SINGLE:.2}x raw: {} ({r:.3}x)",
            verdict(r >= TARGET_SINGLE)
        )?;
    }
    if let Some(f) = best {
        let r = ratio(f.median);
        outln!(
            "  target best batched >= {TARGET_BATCH:.2}x raw: {} ({r:.2}x, {} at size {})",
            verdict(r >= TARGET_BATCH),
            f.path,
            f.size
        )?;
    }
    Ok(())
}
