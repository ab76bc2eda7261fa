//! `inspect HEX`: what a packet is, or precisely why it is invalid.
//!
//! What can be checked depends on what is known: with a data directory, its feeds (their next
//! entries, stored entries and expected chunks) and GOset states are tried; `--feed`, `--seq`
//! and `--prev` name the entry a 120-byte packet should be.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use lichen::app::feeds::FeedLog;
use lichen::wire::entry::first_prev;
use lichen::wire::inspect::{self, Context, ExpectedEntry};
use lichen::wire::{Mid, HASH_LEN};
use lichen::FeedId;

use lichen::AppOptions;

use super::common::Door;
use crate::data::DataDir;

/// Options of `lichen inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The packet or LoRa/UDP frame, in hex (spaces and a 0x prefix are ignored).
    hex: String,
    /// Check it as an entry of this feed (`@….ed25519`, `did:ssb:…` or hex).
    #[arg(long)]
    feed: Option<String>,
    /// … with this sequence number (default: the next one after what the store holds, or 1).
    #[arg(long, requires = "feed")]
    seq: Option<u32>,
    /// … after this message id (hex or base64; default: from the store, or the feed's first).
    #[arg(long, requires = "feed")]
    prev: Option<String>,
    /// Print one JSON object: `kind`, `valid` (true/false/null), `fields`, `problem`.
    #[arg(long)]
    json: bool,
}

/// `lichen inspect`.
pub fn run(data: &DataDir, args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let cleaned: String = args
        .hex
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = hex::decode(&cleaned).context("the packet is not valid hex")?;
    if bytes.is_empty() {
        anyhow::bail!("no packet given: the hex is empty");
    }
    // What the data directory holds, if there is one (no node needed without it).
    let door = if data.layout().store_dir().exists() {
        Some(Door::open(data, AppOptions::default())?)
    } else {
        None
    };
    let log = door.as_ref().map(Door::feed_log).transpose()?;
    let mut ctx = match &log {
        Some(l) => l.inspect_context()?,
        None => {
            let mut c = Context::default();
            c.goset_states.push(("empty GOset".into(), [0; 32]));
            c
        }
    };
    if let Some(feed) = &args.feed {
        ctx.entries.insert(0, expected(log.as_ref(), feed, args)?);
    }
    if let Some(d) = door {
        d.stop();
    }
    let verdict = inspect::inspect(&ctx, &bytes);
    if args.json {
        let fields: serde_json::Map<String, serde_json::Value> = verdict
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "kind": verdict.kind,
                "valid": verdict.valid,
                "len": bytes.len(),
                "fields": fields,
                "problem": verdict.problem,
            })
        )?;
    } else {
        let valid = match verdict.valid {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "cannot tell",
        };
        outln!("{} ({} bytes), valid: {valid}", verdict.kind, bytes.len())?;
        for (k, v) in &verdict.fields {
            outln!("  {k:<12} {}", lichen::text::safe(&v.to_string()))?;
        }
        if let Some(p) = &verdict.problem {
            outln!("  problem:     {}", lichen::text::safe(&p.to_string()))?;
        }
    }
    Ok(match verdict.valid {
        Some(true) => ExitCode::SUCCESS,
        Some(false) => ExitCode::FAILURE,
        None => ExitCode::from(3),
    })
}

fn expected(
    log: Option<&FeedLog>,
    feed: &str,
    args: &InspectArgs,
) -> anyhow::Result<ExpectedEntry> {
    let fid: FeedId = feed.parse().context("--feed")?;
    let key = fid.key().context("--feed")?;
    let frontier = match log {
        Some(l) => l.frontier(&fid)?,
        None => None,
    };
    let seq = args
        .seq
        .unwrap_or_else(|| frontier.map_or(1, |f| f.0.saturating_add(1)));
    let prev = match &args.prev {
        Some(p) => parse_mid(p)?,
        None if seq == 1 => first_prev(&fid),
        None => match log.map(|l| l.entry(&fid, seq - 1)).transpose()?.flatten() {
            Some(e) => e.mid,
            None => bail!(
                "entry {} of that feed is not held here: give --prev",
                seq - 1
            ),
        },
    };
    Ok(ExpectedEntry { key, seq, prev })
}

fn parse_mid(s: &str) -> anyhow::Result<Mid> {
    if let Ok(raw) = hex::decode(s) {
        if let Ok(m) = <[u8; HASH_LEN]>::try_from(raw.as_slice()) {
            return Ok(Mid(m));
        }
    }
    Mid::from_b64(s).context("--prev must be a 20-byte message id in hex or base64")
}
