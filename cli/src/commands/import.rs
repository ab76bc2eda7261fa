//! `lichen import --tinyssb DIR`: feeds in the tinySSB reference layout into the store.
//!
//! Import checks every entry (DMX, signature) and every chunk (hash chain) before storing it;
//! what does not check out is reported and skipped, and the rest is kept. The exit code is 0
//! when everything was clean and 1 when something was skipped (or nothing could be read).

use std::path::PathBuf;
use std::process::ExitCode;

use lichen::AppOptions;
use serde_json::json;

use super::common::Door;
use crate::data::DataDir;

/// Options of `lichen import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Read the feeds under DIR/feeds/ (or DIR itself) in the tinySSB reference layout, e.g. a
    /// copy of the Android app's `app_tinyssb` directory or a Python pub's data directory.
    #[arg(long, value_name = "DIR")]
    pub tinyssb: PathBuf,
    /// Print one JSON object: `dir`, `feeds` (each `fid`, `short`, `verified`, `new_entries`,
    /// `new_chunks`, `open_chains`, `new_member`, `problems`), `new_entries`, `new_chunks`,
    /// `skipped` (each `path`, `why`), `problems` (count).
    #[arg(long)]
    pub json: bool,
}

/// `lichen import --tinyssb DIR`.
pub fn run(data: &DataDir, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let door = Door::open(data, AppOptions::default())?;
    let report = door.feed_log()?.import_tinyssb(&args.tinyssb)?;
    door.stop();
    if args.json {
        let feeds: Vec<_> = report
            .feeds
            .iter()
            .map(|f| {
                json!({
                    "fid": f.fid.to_hex(),
                    "short": f.fid.short_name(),
                    "verified": f.verified,
                    "new_entries": f.new_entries,
                    "new_chunks": f.new_chunks,
                    "open_chains": f.open_chains,
                    "new_member": f.new_member,
                    "problems": f.problems,
                })
            })
            .collect();
        let skipped: Vec<_> = report
            .skipped
            .iter()
            .map(|(p, why)| json!({"path": p.display().to_string(), "why": why}))
            .collect();
        outln!(
            "{}",
            json!({
                "dir": report.dir.display().to_string(),
                "feeds": feeds,
                "new_entries": report.new_entries(),
                "new_chunks": report.new_chunks(),
                "skipped": skipped,
                "problems": report.problems(),
            })
        )?;
    } else {
        for f in &report.feeds {
            outln!(
                "imported {} {}: {} entries verified, {} new, {} new chunks, {} open side chains{}",
                f.fid.short_display(),
                f.fid.to_hex(),
                f.verified,
                f.new_entries,
                f.new_chunks,
                f.open_chains,
                if f.new_member {
                    ", added to the GOset"
                } else {
                    ""
                }
            )?;
            for p in &f.problems {
                errln!("problem: {} {}: {p}", f.fid.short_display(), f.fid.to_hex());
            }
        }
        for (path, why) in &report.skipped {
            errln!("skipped {}: {why}", path.display());
        }
        outln!(
            "{} feeds, {} new entries, {} new chunks from {}{}",
            report.feeds.len(),
            report.new_entries(),
            report.new_chunks(),
            report.dir.display(),
            match report.problems() {
                0 => String::new(),
                1 => "; 1 problem (see above), everything else kept".to_string(),
                n => format!("; {n} problems (see above), everything else kept"),
            }
        )?;
    }
    Ok(if report.problems() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
