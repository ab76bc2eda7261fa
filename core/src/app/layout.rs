//! The data directory's layout, named in one place: `identity.json` (key file, owner-only),
//! `store/` (feed logs and sled), `chats/` (the chat index), `invites.json`, `dongle.json` and
//! `dongle-status.json`, `settings.json`.

use std::path::{Path, PathBuf};

use crate::app::AppError;
use crate::ble::pairing::{PAIRING_FILE, STATUS_FILE};
use crate::identity::{Identity, IdentityFile};
use crate::store::SledStore;

/// Where one data directory keeps its files.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout rooted at `root` (nothing is read or made).
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
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

    /// The feed store.
    pub fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    /// The chat index.
    pub fn chats_dir(&self) -> PathBuf {
        self.root.join("chats")
    }

    /// Made and accepted invites.
    pub fn invites_file(&self) -> PathBuf {
        self.root.join(crate::invite::saved::FILE)
    }

    /// The paired dongle.
    pub fn dongle_file(&self) -> PathBuf {
        self.root.join(PAIRING_FILE)
    }

    /// What the dongle supervisor last saw.
    pub fn dongle_status_file(&self) -> PathBuf {
        self.root.join(STATUS_FILE)
    }

    /// The app's settings.
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// Whether an identity exists here.
    pub fn has_identity(&self) -> bool {
        self.key_file().exists()
    }

    /// Fails with "no Lichen data at DIR" unless an identity or a store is here.
    pub fn require(&self) -> Result<(), AppError> {
        if self.has_identity() || self.store_dir().is_dir() {
            return Ok(());
        }
        Err(AppError::NoData(self.root.display().to_string()))
    }

    /// Loads the identity of an existing directory.
    pub fn identity(&self) -> Result<Identity, AppError> {
        self.require()?;
        if !self.has_identity() {
            return Err(AppError::NoIdentity(self.root.display().to_string()));
        }
        Identity::load(&self.key_file()).map_err(|e| AppError::Identity {
            path: self.key_file().display().to_string(),
            err: e.to_string(),
        })
    }

    /// Writes a new key file (refuses to replace one), creating the directory.
    pub fn save_identity(&self, me: &Identity) -> Result<(), AppError> {
        if self.has_identity() {
            return Err(AppError::Exists(self.root.display().to_string()));
        }
        std::fs::create_dir_all(&self.root).map_err(|e| AppError::io(&self.root, e))?;
        me.save(&self.key_file()).map_err(|e| AppError::Identity {
            path: self.key_file().display().to_string(),
            err: e.to_string(),
        })
    }

    /// Opens (or makes) the feed store; a store held by another process says so.
    pub fn open_store(&self) -> Result<SledStore, AppError> {
        let dir = self.store_dir();
        SledStore::open(&dir).map_err(|e| {
            if e.to_string().contains("could not acquire lock") {
                AppError::Busy(self.root.display().to_string())
            } else {
                AppError::Store(format!("opening the store in {}: {e}", dir.display()))
            }
        })
    }
}
