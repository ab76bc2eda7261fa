//! `lichen init`: a new identity, an imported one, or a pub without one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use lichen::app::{Layout, Pub, Settings};
use lichen::{App, AppOptions, KeyIs};

use super::common::NetworkArgs;
use super::id::print_id;
use crate::data::DataDir;

/// Options of `lichen init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Import this key file instead of creating a new identity: the tinySSB Android export
    /// form `{"curve":"ed25519","secret":"<base64>"}`, the app's own `secret` file, or Python
    /// simplechat's `{"seed":"<hex>"}`.
    /// The key's own feed may already have entries on another device, so posting waits until
    /// a peer that holds them was met (`lichen connect`/`serve`); add `--new-key` if it never
    /// signed anything.
    #[arg(long, value_name = "KEYFILE")]
    import: Option<PathBuf>,
    /// With `--import`: the key was never used anywhere, post at once. Wrong on a key that did
    /// post elsewhere, this forks its feed (peers then see two entries at one sequence number).
    #[arg(long, requires = "import")]
    new_key: bool,
    /// Create the data directory with a feed store but no identity: a pub that replicates
    /// others' feeds and posts nothing (`lichen init` later adds an identity).
    #[arg(long, conflicts_with = "import")]
    no_identity: bool,
    #[command(flatten)]
    network: NetworkArgs,
    /// Print the identity as JSON.
    #[arg(long)]
    json: bool,
}

/// `lichen init`.
pub fn run(data: &DataDir, args: &InitArgs) -> anyhow::Result<ExitCode> {
    if data.has_identity() {
        bail!(
            "{} already holds an identity ({}); refusing to replace it",
            data.root().display(),
            data.layout().key_file().display()
        );
    }
    // A bad network key is refused before anything is written.
    let net = network_key(&args.network)?;
    if args.no_identity {
        let p = Pub::create(data.root(), AppOptions::default())?;
        set_network(p.layout(), net.as_deref())?;
        p.stop();
        outln!(
            "created {} without an identity (a pub: `lichen serve` replicates others' feeds)",
            data.root().display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    // An imported key may have entries elsewhere: posting waits for its feed to be recovered
    // from a peer, unless the person says the key is new (issue 11: no forked feeds).
    let key_is = if args.import.is_some() && !args.new_key {
        KeyIs::MayHaveEntries
    } else {
        KeyIs::New
    };
    let app = App::init(
        data.root(),
        args.import.as_deref(),
        key_is,
        AppOptions::default(),
    )?;
    set_network(app.layout(), net.as_deref())?;
    let fid = *app.fid();
    app.stop();
    tracing::info!(feed = %fid.short_display(), "identity created");
    print_id(&fid, args.json)?;
    if key_is == KeyIs::MayHaveEntries && !args.json {
        errln!(
            "posting waits until this key's feed was recovered from a device that holds it \
             (lichen connect URL --until-synced, or lichen serve); `init --import FILE --new-key` \
             if the key never posted"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--network-key`, checked: hex of a key the network accepts.
fn network_key(net: &NetworkArgs) -> anyhow::Result<Option<String>> {
    let Some(key) = &net.network_key else {
        return Ok(None);
    };
    let key = key.trim().to_ascii_lowercase();
    let s = Settings {
        network_key: Some(key.clone()),
        ..Settings::default()
    };
    s.network().context("--network-key")?;
    Ok(Some(key))
}

/// Keeps the network key in the settings.
fn set_network(layout: &Layout, key: Option<&str>) -> anyhow::Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let path = layout.settings_file();
    let mut s = Settings::load(&path)?;
    s.network_key = Some(key.to_owned());
    s.save(&path)?;
    Ok(())
}
