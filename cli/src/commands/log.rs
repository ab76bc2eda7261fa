//! `lichen log`: the entries of the own feed, or of `--feed`.

use std::process::ExitCode;

use anyhow::Context;
use lichen::app::feeds::{EntryContent, EntryView};
use lichen::AppOptions;

use super::common::Door;
use crate::data::DataDir;

/// Options of `lichen log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Another feed than the own one (`@….ed25519`, `did:ssb:…` or hex).
    #[arg(long)]
    feed: Option<String>,
    /// One JSON object per entry: `seq`, `type`, `dmx`, `mid`, `mid_b64`, `pkt`, `chunks`,
    /// `content` (hex of the reassembled content, null while incomplete), `complete`, `text`.
    #[arg(long)]
    json: bool,
}

/// `lichen log`.
pub fn run(data: &DataDir, args: &LogArgs) -> anyhow::Result<ExitCode> {
    let fid = match &args.feed {
        Some(f) => f.parse::<lichen::FeedId>().context("--feed")?,
        None => {
            data.require_identity()?;
            *data.layout().identity()?.fid()
        }
    };
    let door = Door::open(data, AppOptions::default())?;
    let log = door.feed_log()?;
    let last = log.frontier(&fid)?.map_or(0, |f| f.0);
    for seq in 1..=last {
        let e = log
            .entry(&fid, seq)?
            .with_context(|| format!("entry {seq} is missing from the store"))?;
        if args.json {
            outln!("{}", entry_json(&e))?;
        } else {
            let shown = match e.text() {
                Some(t) => format!("\"{}\"", lichen::text::safe(&t)),
                None => lichen::text::safe(&e.summary()).into_owned(),
            };
            outln!("#{seq:<5} {} {}", e.mid.to_b64(), shown)?;
        }
    }
    door.stop();
    Ok(ExitCode::SUCCESS)
}

/// One entry as the JSON line of `log --json`.
pub fn entry_json(e: &EntryView) -> serde_json::Value {
    let chunks: Vec<String> = e.chunks.iter().map(hex::encode).collect();
    let (content, complete) = match &e.content {
        EntryContent::Complete(c) => (Some(hex::encode(c)), true),
        _ => (None, false),
    };
    serde_json::json!({
        "seq": e.seq,
        "type": e.kind,
        "dmx": e.dmx,
        "mid": e.mid.to_string(),
        "mid_b64": e.mid.to_b64(),
        "pkt": hex::encode(&e.pkt),
        "chunks": chunks,
        "content": content,
        "complete": complete,
        "summary": e.summary(),
        "text": e.text(),
    })
}
