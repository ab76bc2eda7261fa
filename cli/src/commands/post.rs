//! `lichen post TEXT`: a public chat post (TAV, channel "ALL") on the own feed.

use std::process::ExitCode;

use lichen::chat::ChatId;
use lichen::AppOptions;

use super::common::{open_app, text_to_send};
use super::log::entry_json;
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

/// `lichen post`.
pub fn run(data: &DataDir, args: &PostArgs) -> anyhow::Result<ExitCode> {
    let text = text_to_send(&args.text)?;
    let app = open_app(data, AppOptions::default())?;
    let m = app.send(&ChatId::Public, text)?;
    let log = app.feed_log()?;
    let entry = log
        .entry(app.fid(), m.seq)?
        .ok_or_else(|| anyhow::anyhow!("entry {} is missing from the store", m.seq))?;
    if args.json {
        outln!("{}", entry_json(&entry))?;
    } else {
        let bytes = match &entry.content {
            lichen::app::feeds::EntryContent::Complete(c) => c.len(),
            _ => 0,
        };
        outln!(
            "posted #{} ({bytes} bytes, {} chunks) mid {}",
            m.seq,
            entry.chunks.len(),
            m.mid.to_b64()
        )?;
    }
    app.stop();
    Ok(ExitCode::SUCCESS)
}
