//! `lichen export --tinyssb DIR`: the feed store in the on-disk layout of the tinySSB
//! Android app and Python pub (`DIR/feeds/<FID>/log.bin`, `mid.bin`, `frontier.bin`, and
//! `DIR/feeds/version`).

use std::path::PathBuf;
use std::process::ExitCode;

use lichen::AppOptions;
use serde_json::json;

use super::common::Door;
use crate::data::DataDir;

/// Options of `lichen export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write every feed (and every GOset member without entries) into DIR/feeds/ in the
    /// tinySSB reference layout. DIR/feeds/ must not hold feed directories yet.
    #[arg(long, value_name = "DIR")]
    pub tinyssb: PathBuf,
    /// Print one JSON object: `dir`, `feeds` (each `fid`, `short`, `entries`, `chunks`,
    /// `open_chains`, `log_bytes`), `entries`, `chunks`, `warnings`.
    #[arg(long)]
    pub json: bool,
}

/// `lichen export --tinyssb DIR`.
pub fn run(data: &DataDir, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let door = Door::open(data, AppOptions::default())?;
    let report = door.feed_log()?.export_tinyssb(&args.tinyssb)?;
    door.stop();
    let entries: u64 = report.feeds.iter().map(|f| u64::from(f.entries)).sum();
    let chunks: u64 = report.feeds.iter().map(|f| f.chunks).sum();
    if args.json {
        let feeds: Vec<_> = report
            .feeds
            .iter()
            .map(|f| {
                json!({
                    "fid": f.fid.to_hex(),
                    "short": f.fid.short_name(),
                    "entries": f.entries,
                    "chunks": f.chunks,
                    "open_chains": f.open_chains,
                    "log_bytes": f.log_bytes,
                })
            })
            .collect();
        outln!(
            "{}",
            json!({
                "dir": report.dir.display().to_string(),
                "feeds": feeds,
                "entries": entries,
                "chunks": chunks,
                "warnings": report.warnings,
            })
        )?;
    } else {
        for f in &report.feeds {
            outln!(
                "exported {} {}: {} entries, {} chunks, {} open side chains ({} bytes)",
                f.fid.short_display(),
                f.fid.to_hex(),
                f.entries,
                f.chunks,
                f.open_chains,
                f.log_bytes
            )?;
        }
        outln!(
            "{} feeds, {entries} entries, {chunks} chunks written to {}",
            report.feeds.len(),
            report.dir.display()
        )?;
        for w in &report.warnings {
            errln!("warning: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
