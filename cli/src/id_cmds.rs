//! `init` and `id`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use lichen::{FeedId, Identity, IdentityFile};

use crate::data::DataDir;

/// Options of `lichen init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Import this key file instead of creating a new identity: the tinySSB Android export
    /// form `{"curve":"ed25519","secret":"<base64>"}`, the app's own `secret` file, or Python
    /// simplechat's `{"seed":"<hex>"}`.
    #[arg(long, value_name = "KEYFILE")]
    import: Option<PathBuf>,
    /// Create the data directory with a feed store but no identity: a pub that replicates
    /// others' feeds and posts nothing (`lichen init` later adds an identity).
    #[arg(long, conflicts_with = "import")]
    no_identity: bool,
    /// Print the identity as JSON.
    #[arg(long)]
    json: bool,
}

/// Options of `lichen id`.
#[derive(Debug, clap::Args)]
pub struct IdArgs {
    /// Print one JSON object with `fid`, `ref`, `did`, `short` and `short_display`.
    #[arg(long)]
    json: bool,
}

/// `lichen init`.
pub fn init(data: &DataDir, args: &InitArgs) -> anyhow::Result<ExitCode> {
    if data.has_identity() {
        bail!(
            "{} already holds an identity ({}); refusing to replace it",
            data.root().display(),
            data.key_file().display()
        );
    }
    if args.no_identity {
        data.create_store()?;
        outln!(
            "created {} without an identity (a pub: `lichen serve` replicates others' feeds)",
            data.root().display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let me = match &args.import {
        Some(path) => {
            Identity::load(path).with_context(|| format!("importing {}", path.display()))?
        }
        None => Identity::generate(),
    };
    std::fs::create_dir_all(data.root())
        .with_context(|| format!("creating {}", data.root().display()))?;
    me.save(&data.key_file())
        .with_context(|| format!("writing {}", data.key_file().display()))?;
    data.create_store()?;
    tracing::info!(feed = %me.fid().short_display(), "identity created");
    print_id(me.fid(), args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// `lichen id`.
pub fn id(data: &DataDir, args: &IdArgs) -> anyhow::Result<ExitCode> {
    let me = data.identity()?;
    print_id(me.fid(), args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_id(fid: &FeedId, json: bool) -> anyhow::Result<()> {
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
