//! The node's data directory: `identity.json` (the key file, owner-only) and `store/` (sled).
//!
//! Only `lichen init` creates one; every other command needs it to exist already, so a
//! mistyped `--data` is an error instead of a new, empty node.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use lichen::store::SledStore;
use lichen::{Identity, IdentityFile};

/// Where a node keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `--data DIR`, else `$HOME/.lichen`.
    pub fn new(arg: Option<PathBuf>) -> DataDir {
        match arg {
            Some(root) => DataDir { root },
            None => DataDir {
                root: std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default()
                    .join(".lichen"),
            },
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The key file.
    pub fn key_file(&self) -> PathBuf {
        self.root.join("identity.json")
    }

    /// Whether an identity exists here.
    pub fn has_identity(&self) -> bool {
        self.key_file().exists()
    }

    /// The feed store's directory.
    fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    /// Fails unless `lichen init` made this directory (it holds an identity or a store).
    pub fn require(&self) -> anyhow::Result<()> {
        if self.has_identity() || self.store_dir().is_dir() {
            return Ok(());
        }
        bail!(
            "no Lichen data at {} (run `lichen --data {} init` first)",
            self.root.display(),
            self.root.display()
        )
    }

    /// Loads the identity.
    pub fn identity(&self) -> anyhow::Result<Identity> {
        self.require()?;
        if !self.has_identity() {
            bail!(
                "no identity in {}: run `lichen --data {} init` first",
                self.root.display(),
                self.root.display()
            );
        }
        Identity::load(&self.key_file())
            .with_context(|| format!("reading {}", self.key_file().display()))
    }

    /// Opens the feed store of an existing data directory ([`DataDir::require`]).
    pub fn store(&self) -> anyhow::Result<SledStore> {
        self.require()?;
        self.open_store()
    }

    /// Opens the feed store, creating it if needed (`lichen init` only).
    pub fn create_store(&self) -> anyhow::Result<SledStore> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        self.open_store()
    }

    fn open_store(&self) -> anyhow::Result<SledStore> {
        let dir = self.store_dir();
        SledStore::open(&dir).map_err(|e| {
            let busy = e.to_string().contains("could not acquire lock");
            let err = anyhow::Error::new(e);
            if busy {
                err.context(format!(
                    "{} is in use by another lichen process (a store has one owner; stop it first)",
                    self.root.display()
                ))
            } else {
                err.context(format!("opening the store in {}", dir.display()))
            }
        })
    }
}
