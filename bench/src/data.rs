//! The data directory `lichen-bench fill` writes into: the `store/` of a directory that
//! `lichen init` made (the same layout as the `lichen` command's). A mistyped `--data` is an
//! error, never a new, empty node.

use std::path::PathBuf;

use anyhow::{bail, Context};
use lichen::store::SledStore;

/// Where a node keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `--data DIR`, else `$HOME/.lichen`.
    pub fn new(arg: Option<PathBuf>) -> DataDir {
        let root = arg.unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".lichen")
        });
        DataDir { root }
    }

    /// Opens the feed store; fails unless `lichen init` made this directory.
    pub fn store(&self) -> anyhow::Result<SledStore> {
        let dir = self.root.join("store");
        if !self.root.join("identity.json").exists() && !dir.is_dir() {
            bail!(
                "no Lichen data at {} (run `lichen --data {} init` first)",
                self.root.display(),
                self.root.display()
            );
        }
        SledStore::open(&dir).with_context(|| format!("opening the store in {}", dir.display()))
    }
}
