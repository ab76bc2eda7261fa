//! `lichen-bench bench --chat`: the chat service with a large history.
//!
//! Builds a store of `--messages` chat messages (default 100 000) spread over 100 chats — the
//! public channel, notes-to-self, 20 one-to-one chats and 78 groups of 3 to 6 people, private
//! ones sealed to their members — by 21 authors, each message citing the chat's previous one
//! as its tip (as the app does), then opens the chat index over it (indexing everything,
//! decrypting what is addressed to us) and measures what a UI does:
//!
//! * **open a chat and render its first page** (`open_chat` with 50 messages, each turned into
//!   a display line with the author's name and the delivery state), on 20 different chats;
//!   target < 20 ms. Baseline: reading and decoding the same number of entries straight from
//!   the feed store (`feed::content` + `content::decode`), the least work a UI without an index
//!   would do for one page.
//! * **full-text search** (`search`, 50 results) for rare, common and two-word queries;
//!   target < 100 ms. The first search also loads the texts (reported separately, "cold").
//!   Baseline: a plain `str::contains` scan over every text, already in memory.
//! * **unread counts for all 100 chats** (`list`: counts, titles, last activity);
//!   target < 5 ms. Baseline: 100 point reads of small JSON values from a sled tree.
//!
//! Each measurement is repeated and the baselines are measured in the same run, interleaved;
//! the median is reported with the ratio to its baseline.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use lichen::chat::content;
use lichen::chat::private_box::Opener;
use lichen::chat::tav::Tav;
use lichen::chat::{ChatId, Chats, ChatsConfig, Message};
use lichen::feed::{self, Content};
use lichen::store::{disk_usage, SledStore, Store};
use lichen::wire::network::Network;
use lichen::wire::Mid;
use lichen::{FeedId, Identity};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::verify_bench::median;

const CHATS: usize = 100;
const PEOPLE: usize = 20;
const PAGE: usize = 50;
const TARGET_OPEN_MS: f64 = 20.0;
const TARGET_SEARCH_MS: f64 = 100.0;
const TARGET_UNREAD_MS: f64 = 5.0;
const WORDS: &[&str] = &[
    "hello", "mesh", "lora", "ok", "see", "you", "at", "the", "pub", "tonight", "battery", "low",
    "relay", "node", "north", "ridge", "signal", "weak", "thanks", "lichen", "water", "camp",
    "trail", "storm", "coming", "back", "soon", "map", "tent", "fire",
];

fn identity(i: usize) -> Identity {
    let mut seed = [0u8; 32];
    seed[0] = 0xc4;
    seed[1..9].copy_from_slice(&(i as u64).to_be_bytes());
    Identity::from_seed(&seed)
}

/// Chat `c`'s members as indexes into the people (0 = me); empty for the public channel.
fn members(c: usize, rng: &mut StdRng) -> Vec<usize> {
    match c {
        0 => Vec::new(),
        1 => vec![0],
        c if c < 2 + PEOPLE => vec![0, c - 1],
        _ => {
            let n = rng.gen_range(2..=5);
            let mut m = vec![0];
            while m.len() < n + 1 {
                let p = rng.gen_range(1..=PEOPLE);
                if !m.contains(&p) {
                    m.push(p);
                }
            }
            m
        }
    }
}

struct Built {
    chats: Vec<ChatId>,
    texts: Vec<String>,
    /// One feed and its length, for the baseline page read.
    sample_feed: FeedId,
    sample_len: u32,
}

/// Writes `n` messages into `store`; returns the chats and every text.
fn build(store: &dyn Store, n: usize) -> Result<Built> {
    let net = Network::deployed();
    let mut rng = StdRng::seed_from_u64(0x6368_6174);
    let people: Vec<Identity> = (0..=PEOPLE).map(identity).collect();
    let fids: Vec<FeedId> = people.iter().map(|p| *p.fid()).collect();
    let plans: Vec<Vec<usize>> = (0..CHATS).map(|c| members(c, &mut rng)).collect();
    let ids: Vec<ChatId> = plans
        .iter()
        .map(|m| {
            if m.is_empty() {
                Ok(ChatId::Public)
            } else {
                ChatId::private(m.iter().map(|&i| fids[i])).map_err(anyhow::Error::from)
            }
        })
        .collect::<Result<_>>()?;
    let mut last: Vec<Option<Mid>> = vec![None; CHATS];
    let mut texts = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % CHATS;
        let plan = &plans[c];
        let author = if plan.is_empty() {
            rng.gen_range(0..=PEOPLE)
        } else {
            plan[(i / CHATS) % plan.len()]
        };
        let len = rng.gen_range(3..12);
        let mut text: Vec<&str> = (0..len)
            .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
            .collect();
        let tag = format!("m{i}z");
        text.push(&tag);
        let text = text.join(" ");
        let mut tav = Tav {
            tips: last[c].iter().map(Mid::to_b64).collect(),
            text: Some(text.clone()),
            voice: None,
            ts: 1_700_000_000 + i as i64,
            recps: None,
            old_format: false,
        };
        let bytes = if plan.is_empty() {
            tav.encode()
        } else {
            let mut recps: Vec<FeedId> = plan
                .iter()
                .filter(|&&p| p != author)
                .map(|&p| fids[p])
                .collect();
            recps.push(fids[author]);
            tav.recps = Some(recps.iter().map(FeedId::to_ref).collect());
            content::seal_entry(&tav.to_value(), &recps)?
        };
        let p = feed::append_own(store, &net, &people[author], &bytes)?;
        last[c] = Some(p.signed.mid);
        if plan.is_empty() || plan.contains(&0) {
            texts.push(text.to_lowercase());
        }
    }
    store.flush()?;
    let sample_len = store.frontier(&fids[1])?.map_or(0, |f| f.seq);
    ensure!(sample_len as usize > PAGE, "too few messages for a page");
    Ok(Built {
        chats: ids,
        texts,
        sample_feed: fids[1],
        sample_len,
    })
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn render(chats: &Chats, msgs: &[Message]) -> Result<usize> {
    let mut n = 0;
    for m in msgs {
        let line = format!(
            "{}: {} {}",
            chats.name_of(&m.author)?,
            m.text().unwrap_or("[unreadable]"),
            m.state.map_or("", |s| s.name())
        );
        n += black_box(line).len();
    }
    Ok(n)
}

/// Baseline page: read and decode `PAGE` entries of one feed straight from the store.
fn raw_page(store: &dyn Store, opener: &Opener, fid: &FeedId, from: u32) -> Result<usize> {
    let mut n = 0;
    for seq in from..from + PAGE as u32 {
        if let Some(Content::Complete(c)) = feed::content(store, fid, seq)? {
            n += usize::from(!matches!(
                black_box(content::decode(&c, Some(opener))).entry,
                content::AppEntry::Sealed
            ));
        }
    }
    Ok(n)
}

/// A full rebuild of the index from the feeds (seconds), then the baseline in the same run:
/// every private box in the store, read into memory first, opened with the raw X25519 opener
/// (how many, seconds).
fn rebuild_and_boxes(
    chats: &Chats,
    store: &dyn Store,
    opener: &Opener,
) -> Result<(f64, usize, f64)> {
    let t = Instant::now();
    chats.rebuild()?;
    let rebuild_s = t.elapsed().as_secs_f64();
    let mut boxes = Vec::new();
    for (fid, _) in store.feeds()? {
        let last = store.frontier(&fid)?.map_or(0, |f| f.seq);
        for seq in 1..=last {
            if let Some(Content::Complete(c)) = feed::content(store, &fid, seq)? {
                if let Ok(lichen::wire::bipf::Value::Bytes(b)) = lichen::wire::bipf::decode(&c) {
                    boxes.push(b);
                }
            }
        }
    }
    let t = Instant::now();
    let opened = boxes.iter().filter(|b| opener.open(b).is_ok()).count();
    let box_s = t.elapsed().as_secs_f64();
    black_box(opened);
    Ok((rebuild_s, boxes.len(), box_s))
}

fn stats(xs: &[f64]) -> Value {
    let max = xs.iter().copied().fold(0.0, f64::max);
    json!({ "median_ms": median(xs), "max_ms": max, "runs": xs.len() })
}

/// Runs the chat benchmark; prints a table (or one JSON object) and returns the figures.
pub fn run_chat(messages: usize, json_out: bool) -> Result<Value> {
    ensure!(messages >= CHATS, "--messages must be at least {CHATS}");
    let dir = tempfile_dir()?;
    let store_dir = dir.join("store");
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&store_dir)?);
    let t = Instant::now();
    let built = build(store.as_ref(), messages)?;
    let build_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let cfg = ChatsConfig {
        receipts: false,
        ..ChatsConfig::default()
    };
    let chats = Chats::open(&dir.join("chats"), store.clone(), identity(0), cfg)?;
    let index_s = t.elapsed().as_secs_f64();
    let indexed: u32 = chats.list()?.iter().map(|s| s.total).sum();
    let index_disk = disk_usage(&dir.join("chats"), &|_| true)?;
    let store_disk = disk_usage(&store_dir, &|_| true)?;

    let opener = Opener::new(&identity(0));
    let (rebuild_s, boxes, box_s) = rebuild_and_boxes(&chats, store.as_ref(), &opener)?;
    let rebuild_rate = f64::from(indexed) / rebuild_s;
    let box_rate = boxes as f64 / box_s;
    let scratch = sled::Config::new().temporary(true).open()?;
    for c in 0..CHATS as u32 {
        scratch.insert(
            c.to_be_bytes(),
            serde_json::to_vec(&json!({"n": c, "o": 3, "t": 1}))?,
        )?;
    }

    // Warm up every path once.
    chats.open_chat(&built.chats[0], PAGE)?;
    raw_page(store.as_ref(), &opener, &built.sample_feed, 1)?;
    let t = Instant::now();
    let cold_hits = chats.search("ridge", PAGE)?.len();
    let search_cold_ms = ms(t);

    let (mut open, mut open_base) = (Vec::new(), Vec::new());
    let (mut unread, mut unread_base) = (Vec::new(), Vec::new());
    for r in 0..21usize {
        let chat = &built.chats[(r * 7) % CHATS];
        let t = Instant::now();
        let (summary, page) = chats.open_chat(chat, PAGE)?;
        black_box(summary.unread);
        render(&chats, &page.messages)?;
        open.push(ms(t));
        let t = Instant::now();
        let from = 1 + (r as u32 * 97) % (built.sample_len - PAGE as u32);
        raw_page(store.as_ref(), &opener, &built.sample_feed, from)?;
        open_base.push(ms(t));

        let t = Instant::now();
        let list = chats.list()?;
        black_box(list.iter().map(|s| s.unread).sum::<u32>());
        unread.push(ms(t));
        let t = Instant::now();
        let mut s = 0u64;
        for c in 0..CHATS as u32 {
            if let Some(v) = scratch.get(c.to_be_bytes())? {
                let j: Value = serde_json::from_slice(&v)?;
                s += j["o"].as_u64().unwrap_or(0);
            }
        }
        black_box(s);
        unread_base.push(ms(t));
    }

    let unique = format!("m{}z", messages / 2 + 7);
    let queries = [
        "ridge",
        unique.as_str(),
        "storm coming",
        "lichen relay node",
        "qqq",
    ];
    let (mut search, mut search_base) = (Vec::new(), Vec::new());
    let mut hits = Vec::new();
    for _ in 0..5 {
        for q in queries {
            let t = Instant::now();
            let found = chats.search(q, PAGE)?;
            search.push(ms(t));
            hits.push(found.len());
            let words: Vec<&str> = q.split_whitespace().collect();
            let t = Instant::now();
            let n = built
                .texts
                .iter()
                .filter(|x| words.iter().all(|w| x.contains(w)))
                .count();
            black_box(n);
            search_base.push(ms(t));
        }
    }
    ensure!(cold_hits > 0 && hits.contains(&1), "search found nothing");

    let figures = json!({
        "messages": messages,
        "indexed_messages": indexed,
        "chats": CHATS,
        "build_s": build_s,
        "index_s": index_s,
        "index_disk_bytes": index_disk.allocated,
        "index_bytes_per_message": index_disk.allocated as f64 / f64::from(indexed.max(1)),
        "rebuild_s": rebuild_s,
        "rebuild_msgs_per_s": rebuild_rate,
        "x25519_boxes_opened": boxes,
        "x25519_box_opens_per_s": box_rate,
        "rebuild_vs_box_opening": rebuild_rate / box_rate,
        "store_disk_bytes": store_disk.allocated,
        "open_chat_first_page": stats(&open),
        "open_chat_baseline_raw_page": stats(&open_base),
        "open_ratio": median(&open) / median(&open_base),
        "search_cold_ms": search_cold_ms,
        "search_warm": stats(&search),
        "search_baseline_scan": stats(&search_base),
        "search_ratio": median(&search) / median(&search_base),
        "unread_100_chats": stats(&unread),
        "unread_baseline_sled_reads": stats(&unread_base),
        "unread_ratio": median(&unread) / median(&unread_base),
        "targets_ms": {"open": TARGET_OPEN_MS, "search": TARGET_SEARCH_MS, "unread": TARGET_UNREAD_MS},
    });
    if json_out {
        outln!("{figures}")?;
    } else {
        print_table(&figures)?;
    }
    drop(chats);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}

fn print_table(f: &Value) -> anyhow::Result<()> {
    let g = |k: &str, m: &str| f[k][m].as_f64().unwrap_or(f64::NAN);
    let met = |v: f64, t: f64| if v < t { "met" } else { "MISSED" };
    outln!(
        "{} messages in {} chats ({} readable and indexed); built in {:.1} s, indexed in {:.1} s; on disk: feed store {:.1} MB, chat index {:.1} MB",
        f["messages"], f["chats"], f["indexed_messages"],
        f["build_s"].as_f64().unwrap_or(0.0), f["index_s"].as_f64().unwrap_or(0.0),
        f["store_disk_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        f["index_disk_bytes"].as_f64().unwrap_or(0.0) / 1e6
    )?;
    outln!(
        "index: {:.0} bytes/message (target ≤ 300: {}); rebuild {:.0} messages/s against {:.0} raw X25519 box openings/s in the same run: {:.2} (target ≥ 0.8: {})",
        f["index_bytes_per_message"].as_f64().unwrap_or(f64::NAN),
        if f["index_bytes_per_message"].as_f64().unwrap_or(f64::NAN) <= 300.0 { "met" } else { "MISSED" },
        f["rebuild_msgs_per_s"].as_f64().unwrap_or(0.0),
        f["x25519_box_opens_per_s"].as_f64().unwrap_or(0.0),
        f["rebuild_vs_box_opening"].as_f64().unwrap_or(f64::NAN),
        if f["rebuild_vs_box_opening"].as_f64().unwrap_or(0.0) >= 0.8 { "met" } else { "MISSED" },
    )?;
    outln!("| measurement | median ms | max ms | baseline median ms | vs baseline | target |")?;
    outln!("|---|---:|---:|---:|---:|---|")?;
    let rows = [
        (
            "open chat + render first page (50)",
            "open_chat_first_page",
            "open_chat_baseline_raw_page",
            "open_ratio",
            TARGET_OPEN_MS,
        ),
        (
            "full-text search, warm (50 results)",
            "search_warm",
            "search_baseline_scan",
            "search_ratio",
            TARGET_SEARCH_MS,
        ),
        (
            "unread counts, 100 chats",
            "unread_100_chats",
            "unread_baseline_sled_reads",
            "unread_ratio",
            TARGET_UNREAD_MS,
        ),
    ];
    for (name, k, b, r, target) in rows {
        let v = g(k, "median_ms");
        outln!(
            "| {name} | {v:.3} | {:.3} | {:.3} | {:.2} | < {target} ms: {} |",
            g(k, "max_ms"),
            g(b, "median_ms"),
            f[r].as_f64().unwrap_or(f64::NAN),
            met(v, target)
        )?;
    }
    let cold = f["search_cold_ms"].as_f64().unwrap_or(f64::NAN);
    outln!(
        "| first search after start (loads the texts) | {cold:.3} | | | | < {TARGET_SEARCH_MS} ms: {} |",
        met(cold, TARGET_SEARCH_MS)
    )?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir =
        std::env::temp_dir().join(format!("lichen-chat-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
