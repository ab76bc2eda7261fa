//! The node's data directory, as the command line names it (`--data DIR`, else
//! `$HOME/.lichen`). Its layout is the front door's ([`lichen::app::Layout`]).
//!
//! Only `lichen init` creates one; every other command needs it to exist already, so a
//! mistyped `--data` is an error instead of a new, empty node.

use std::path::{Path, PathBuf};

use anyhow::bail;
use lichen::app::Layout;

/// Where a node keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir {
    layout: Layout,
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
        DataDir {
            layout: Layout::new(&root),
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// Its layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Whether an identity exists here.
    pub fn has_identity(&self) -> bool {
        self.layout.has_identity()
    }

    /// Fails unless `lichen init` made this directory (it holds an identity or a store),
    /// saying how to make one.
    pub fn require(&self) -> anyhow::Result<()> {
        if self.layout.require().is_ok() {
            return Ok(());
        }
        bail!(
            "no Lichen data at {} (run `lichen --data {} init` first)",
            self.root().display(),
            self.root().display()
        )
    }

    /// Fails unless this directory holds an identity, saying how to make one.
    pub fn require_identity(&self) -> anyhow::Result<()> {
        self.require()?;
        if !self.has_identity() {
            bail!(
                "no identity in {}: run `lichen --data {} init` first",
                self.root().display(),
                self.root().display()
            );
        }
        Ok(())
    }
}
