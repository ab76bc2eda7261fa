//! `lichen id`: this node's identity in all its text forms (read from the key file only, so
//! it works while another `lichen` serves the directory).

use std::process::ExitCode;

use lichen::FeedId;

use crate::data::DataDir;

/// Options of `lichen id`.
#[derive(Debug, clap::Args)]
pub struct IdArgs {
    /// Print one JSON object with `fid`, `ref`, `did`, `short` and `short_display`.
    #[arg(long)]
    json: bool,
}

/// `lichen id`.
pub fn run(data: &DataDir, args: &IdArgs) -> anyhow::Result<ExitCode> {
    data.require_identity()?;
    let me = data.layout().identity()?;
    print_id(me.fid(), args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a feed id as `init` and `id` do.
pub fn print_id(fid: &FeedId, json: bool) -> anyhow::Result<()> {
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "fid": fid.to_hex(),
                "ref": fid.to_ref(),
                "did": fid.to_did(),
                "short": fid.short_name(),
                "short_display": fid.short_display(),
            })
        )?;
    } else {
        outln!("ref    {}", fid.to_ref())?;
        outln!("did    {}", fid.to_did())?;
        outln!("short  {}", fid.short_display())?;
        outln!("hex    {}", fid.to_hex())?;
    }
    Ok(())
}
