//! `lichen feeds`: the feeds this node holds, with their frontiers.

use std::process::ExitCode;

use lichen::AppOptions;

use super::common::Door;
use crate::data::DataDir;

/// Options of `lichen feeds`.
#[derive(Debug, clap::Args)]
pub struct FeedsArgs {
    /// One JSON object per feed: `fid`, `ref`, `short`, `seq` (frontier), `mid`, `open_chains`,
    /// `member` (in the GOset).
    #[arg(long)]
    json: bool,
}

/// `lichen feeds`.
pub fn run(data: &DataDir, args: &FeedsArgs) -> anyhow::Result<ExitCode> {
    let door = Door::open(data, AppOptions::default())?;
    for f in door.feed_log()?.list()? {
        if args.json {
            outln!(
                "{}",
                serde_json::json!({
                    "fid": f.fid.to_hex(), "ref": f.fid.to_ref(), "short": f.fid.short_name(),
                    "seq": f.seq, "mid": f.mid.map(|m| m.to_string()),
                    "open_chains": f.open_chains, "member": f.member,
                })
            )?;
        } else {
            outln!(
                "{}  {:>6} entries  {} open side chains  {}",
                f.fid.short_display(),
                f.seq,
                f.open_chains,
                f.fid.to_ref()
            )?;
        }
    }
    door.stop();
    Ok(ExitCode::SUCCESS)
}
