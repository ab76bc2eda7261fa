//! `fill`: authors synthetic feeds with deterministic identities, for tests, demos and
//! benchmarks (hidden from `--help`).

use std::process::ExitCode;

use lichen::feed;
use lichen::store::Store;
use lichen::wire::network::Network;

use crate::data::DataDir;

/// Options of `lichen-bench fill`.
#[derive(Debug, clap::Args)]
pub struct FillArgs {
    /// Number of feeds.
    #[arg(long, default_value_t = 1)]
    feeds: u8,
    /// Entries per feed.
    #[arg(long, default_value_t = 100)]
    entries: u32,
    /// Seed of the first identity (feed k uses seed + k, as 32 repeated bytes).
    #[arg(long, default_value_t = 100)]
    seed: u8,
}

/// Public TAV posts; every other one long enough for a side chain of several chunks.
pub fn fill(data: &DataDir, args: &FillArgs) -> anyhow::Result<ExitCode> {
    let store = data.store()?;
    let net = Network::deployed();
    for k in 0..args.feeds {
        let (fid, _) =
            feed::author_synthetic(&store, &net, args.seed.wrapping_add(k), args.entries)?;
        store.add_member(&fid)?;
        outln!("{}", fid.to_ref())?;
    }
    store.flush()?;
    Ok(ExitCode::SUCCESS)
}
