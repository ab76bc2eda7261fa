//! `post` and `log`.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use lichen::chat::tav::Tav;
use lichen::feed::{self, Content};
use lichen::store::Store;
use lichen::wire::inspect::describe_content;
use lichen::wire::network::Network;

use crate::data::DataDir;

/// Options of `lichen post`.
#[derive(Debug, clap::Args)]
pub struct PostArgs {
    /// The text of the post.
    text: String,
    /// Print the new entry as JSON (the `log --json` line format).
    #[arg(long)]
    json: bool,
}

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

/// `lichen post TEXT`.
pub fn post(data: &DataDir, args: &PostArgs) -> anyhow::Result<ExitCode> {
    let text = crate::chat_cmds::text_to_send(&args.text)?;
    let me = data.identity()?;
    let store = data.store()?;
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let content = Tav::public_text(text, ts).encode();
    let published =
        feed::publish(&store, &Network::deployed(), &me, &content).context("appending the post")?;
    if args.json {
        outln!("{}", entry_json(&store, me.fid(), published.seq)?)?;
    } else {
        outln!(
            "posted #{} ({} bytes, {} chunks) mid {}",
            published.seq,
            content.len(),
            published.signed.chunks.len(),
            published.signed.mid.to_b64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `lichen log`.
pub fn log(data: &DataDir, args: &LogArgs) -> anyhow::Result<ExitCode> {
    let fid = match &args.feed {
        Some(f) => f.parse::<lichen::FeedId>().context("--feed")?,
        None => *data.identity()?.fid(),
    };
    let store = data.store()?;
    let last = store.frontier(&fid)?.map_or(0, |f| f.seq);
    for seq in 1..=last {
        if args.json {
            outln!("{}", entry_json(&store, &fid, seq)?)?;
        } else {
            let j = entry_json(&store, &fid, seq)?;
            let shown = j["text"]
                .as_str()
                .map(|t| format!("\"{}\"", lichen::text::safe(t)))
                .or_else(|| {
                    j["summary"]
                        .as_str()
                        .map(|s| lichen::text::safe(s).into_owned())
                })
                .unwrap_or_default();
            outln!(
                "#{seq:<5} {} {}",
                j["mid_b64"].as_str().unwrap_or(""),
                shown
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One entry as the JSON line of `log --json`.
pub fn entry_json(
    store: &dyn Store,
    fid: &lichen::FeedId,
    seq: u32,
) -> anyhow::Result<serde_json::Value> {
    let stored = store
        .entry(fid, seq)?
        .with_context(|| format!("entry {seq} is missing from the store"))?;
    let chunks: Vec<String> = store.chunks(fid, seq)?.iter().map(hex::encode).collect();
    let content = feed::content(store, fid, seq)?;
    let (content_hex, complete, summary, text) = match &content {
        Some(Content::Complete(c)) => (
            Some(hex::encode(c)),
            true,
            describe_content(c),
            Tav::decode(c).ok().and_then(|t| t.text),
        ),
        Some(Content::Partial { have, need }) => (
            None,
            false,
            format!("side chain {have}/{need} chunks"),
            None,
        ),
        Some(Content::Unreadable(why)) => (None, false, format!("unreadable: {why}"), None),
        None => (None, false, "missing".into(), None),
    };
    Ok(serde_json::json!({
        "seq": seq,
        "type": stored.entry.kind().name(),
        "dmx": stored.entry.dmx().to_string(),
        "mid": stored.mid.to_string(),
        "mid_b64": stored.mid.to_b64(),
        "pkt": hex::encode(stored.entry.bytes()),
        "chunks": chunks,
        "content": content_hex,
        "complete": complete,
        "summary": summary,
        "text": text,
    }))
}
