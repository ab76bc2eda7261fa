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
    data.store()?;
    tracing::info!(feed = %me.fid().short_display(), "identity created");
    print_id(me.fid(), args.json);
    Ok(ExitCode::SUCCESS)
}

/// `lichen id`.
pub fn id(data: &DataDir, args: &IdArgs) -> anyhow::Result<ExitCode> {
    let me = data.identity()?;
    print_id(me.fid(), args.json);
    Ok(ExitCode::SUCCESS)
}

fn print_id(fid: &FeedId, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "fid": fid.to_hex(),
                "ref": fid.to_ref(),
                "did": fid.to_did(),
                "short": fid.short_name(),
                "short_display": fid.short_display(),
            })
        );
    } else {
        println!("ref    {}", fid.to_ref());
        println!("did    {}", fid.to_did());
        println!("short  {}", fid.short_display());
        println!("hex    {}", fid.to_hex());
    }
}
