//! `lichen-ffi-bench`: the Rust half of `bindings/bench/run.sh`.
//!
//! * `make DIR MESSAGES`: a root in `DIR` (key, settings, feed store, chat index) holding
//!   `MESSAGES` chat messages in 100 chats, once: a directory already made with the same
//!   count is kept (`DIR/bench-made` says how many);
//! * `rust DIR ROUNDS`: opens the root with `lichen::App` and measures, as JSON, what the
//!   Python binding does in the same run: a conversation's first page of 50 (with author
//!   names, as the binding's `Conversation.page` maps them) and the chat list with previews
//!   (`App::chat_list`, what the binding's first `ChatListDiff::Reset` is made of);
//! * `rss DIR`: opens the root, reads a page and the list, prints VmRSS and VmHWM (kB).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use lichen::app::{App, AppOptions, Layout};
use lichen::chat::content::seal_entry;
use lichen::chat::tav::Tav;
use lichen::chat::ChatId;
use lichen::feed;
use lichen::store::Store;
use lichen::wire::network::Network;
use lichen::wire::Mid;
use lichen::Settings;
use lichen::{FeedId, Identity};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Chats in the root: the public channel, notes to self, 20 one-to-one, 78 groups.
const CHATS: usize = 100;
/// Other people (authors besides me).
const OTHERS: usize = 20;
const PAGE: usize = 50;
const VOCAB: &[&str] = &[
    "camp", "ridge", "relay", "low", "battery", "north", "water", "see", "you", "soon", "map",
    "storm", "ok", "mesh", "signal", "thanks", "trail", "fire", "tent", "back",
];

/// Person `i` (0 is the root's own key), the same in every run.
fn person(i: usize) -> Identity {
    let mut seed = [0x5au8; 32];
    seed[24..].copy_from_slice(&(i as u64).to_le_bytes());
    Identity::from_seed(&seed)
}

/// Who is in chat `c`, as person numbers; empty for the public channel.
fn plan(c: usize, rng: &mut StdRng) -> Vec<usize> {
    if c == 0 {
        return Vec::new();
    }
    if c == 1 {
        return vec![0];
    }
    if c <= OTHERS + 1 {
        return vec![0, c - 1];
    }
    let size = rng.gen_range(3..=6);
    let mut m = vec![0];
    while m.len() < size {
        let p = rng.gen_range(1..=OTHERS);
        if !m.contains(&p) {
            m.push(p);
        }
    }
    m
}

fn make(dir: &Path, messages: usize) -> Result<()> {
    let marker = dir.join("bench-made");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(&messages.to_string()) {
        println!(
            "{{\"made\": false, \"dir\": {:?}}}",
            dir.display().to_string()
        );
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let t = Instant::now();
    let layout = Layout::new(dir);
    let people: Vec<Identity> = (0..=OTHERS).map(person).collect();
    layout.save_identity(&people[0])?;
    // No read receipts: opening a root must not write 100k receipts into the store.
    Settings {
        receipts: false,
        ..Settings::default()
    }
    .save(&layout.settings_file())?;
    let fids: Vec<FeedId> = people.iter().map(|p| *p.fid()).collect();
    let mut rng = StdRng::seed_from_u64(100_000);
    // Two groups of the same people are one chat: draw again until the 100 are distinct.
    let mut plans: Vec<Vec<usize>> = Vec::with_capacity(CHATS);
    let mut seen = std::collections::BTreeSet::new();
    while plans.len() < CHATS {
        let p = plan(plans.len(), &mut rng);
        let mut key = p.clone();
        key.sort_unstable();
        if seen.insert(key) {
            plans.push(p);
        }
    }
    {
        let store = layout.open_store()?;
        let net = Network::deployed();
        let mut tips: Vec<Option<Mid>> = vec![None; CHATS];
        for i in 0..messages {
            let c = i % CHATS;
            let who = &plans[c];
            let author = if who.is_empty() {
                i / CHATS % (OTHERS + 1)
            } else {
                who[i / CHATS % who.len()]
            };
            let words: Vec<&str> = (0..rng.gen_range(2..10))
                .map(|_| VOCAB[rng.gen_range(0..VOCAB.len())])
                .collect();
            let mut tav = Tav::public_text(
                &format!("{} #{i}", words.join(" ")),
                1_750_000_000 + i as i64,
            );
            tav.tips = tips[c].iter().map(Mid::to_b64).collect();
            let bytes = if who.is_empty() {
                tav.encode()
            } else {
                let recps: Vec<FeedId> = who.iter().map(|&p| fids[p]).collect();
                tav.recps = Some(recps.iter().map(FeedId::to_ref).collect());
                seal_entry(&tav.to_value(), &recps)?
            };
            tips[c] = Some(
                feed::append_own(&store, &net, &people[author], &bytes)?
                    .signed
                    .mid,
            );
        }
        store.flush()?;
    }
    let written = t.elapsed().as_secs_f64();
    // The first open indexes every message (and decrypts what is addressed to us).
    let t = Instant::now();
    let app = App::open(dir, AppOptions::default())?;
    let total: u32 = app.chats().list()?.iter().map(|s| s.total).sum();
    app.stop();
    ensure!(total as usize == messages, "indexed {total} of {messages}");
    std::fs::write(&marker, messages.to_string())?;
    println!(
        "{}",
        json!({"made": true, "messages": messages, "write_s": written,
               "index_s": t.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// The chats in list order (as the binding's list shows them), for both sides to walk.
fn chat_ids(app: &App) -> Result<Vec<ChatId>> {
    Ok(app.chats().list()?.into_iter().map(|s| s.id).collect())
}

/// A conversation's first page as the binding's `Conversation.page` makes it, minus the
/// crossing into the foreign language: the page, oldest first, and each author's name.
fn first_page(app: &App, chat: &ChatId) -> Result<usize> {
    let (msgs, _more) = app.timeline_page(chat, None, PAGE)?;
    let mut names = std::collections::HashMap::new();
    let mut n = 0;
    for m in &msgs {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(m.author) {
            e.insert(app.chats().name_of(&m.author)?);
        }
        n += m.text().map_or(0, str::len) + m.cursor.to_string().len();
    }
    Ok(std::hint::black_box(n))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn rust(dir: &Path, rounds: usize) -> Result<()> {
    let t = Instant::now();
    let app = App::open(dir, AppOptions::default())?;
    let open_ms = ms(t);
    let ids = chat_ids(&app)?;
    ensure!(ids.len() == CHATS, "{} chats, not {CHATS}", ids.len());
    first_page(&app, &ids[0])?;
    app.chat_list()?;
    let mut page = Vec::new();
    let mut list = Vec::new();
    for r in 0..rounds {
        let chat = &ids[(r * 7) % ids.len()];
        let t = Instant::now();
        first_page(&app, chat)?;
        page.push(ms(t));
        let t = Instant::now();
        let l = app.chat_list()?;
        list.push(ms(t));
        ensure!(l.len() == CHATS, "the list has {} chats", l.len());
    }
    app.stop();
    println!(
        "{}",
        json!({"open_root_ms": open_ms, "page_ms": median(page), "list_ms": median(list),
               "rounds": rounds})
    );
    Ok(())
}

/// VmRSS and VmHWM of this process, in kB.
fn memory() -> Result<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/self/status"))?;
        line.split_whitespace()
            .nth(1)
            .context("an empty field")?
            .parse()
            .context("not a number")
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn rss(dir: &Path) -> Result<()> {
    let app = App::open(dir, AppOptions::default())?;
    let ids = chat_ids(&app)?;
    first_page(&app, &ids[0])?;
    app.chat_list()?;
    let (rss, hwm) = memory()?;
    app.stop();
    println!("{}", json!({"vm_rss_kb": rss, "vm_hwm_kb": hwm}));
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> Result<usize> {
        args.get(i)
            .context("missing a number")?
            .parse()
            .context("not a number")
    };
    match (
        args.first().map(String::as_str),
        args.get(1).map(PathBuf::from),
    ) {
        (Some("make"), Some(dir)) => make(&dir, num(2)?),
        (Some("rust"), Some(dir)) => rust(&dir, num(2)?),
        (Some("rss"), Some(dir)) => rss(&dir),
        _ => bail!("usage: lichen-ffi-bench make DIR MESSAGES | rust DIR ROUNDS | rss DIR"),
    }
}
