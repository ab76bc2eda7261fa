//! `settings.json`: what the person chose (network key, receipts, relays, display name) and
//! whether the own key may sign yet. Versioned; fields this code does not know are kept
//! when it writes the file back, so a newer app's settings survive an older one.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::app::AppError;

/// The format version written.
pub(crate) const VERSION: u32 = 1;

/// Whether the own key may have entries elsewhere (ADR 0019).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Made here, confirmed new, or its feed recovered from a peer: posting is allowed.
    Ready,
    /// Imported, its history unknown: posting waits until the feed is recovered from a
    /// peer or the person confirms the key is new.
    Unrecovered,
}

/// The settings of one data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Format version.
    pub version: u32,
    /// A private network's key in hex (None: the deployed network).
    #[serde(default)]
    pub network_key: Option<String>,
    /// Send delivery and read receipts.
    #[serde(default = "yes")]
    pub receipts: bool,
    /// Relays to mint invites at (`ws://…`, `wss://…`).
    #[serde(default)]
    pub relays: Vec<String>,
    /// The name shown for me (in invites).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether the own key may sign.
    #[serde(default = "ready")]
    pub key: KeyState,
    /// Fields this version does not know, kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

fn ready() -> KeyState {
    KeyState::Ready
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: VERSION,
            network_key: None,
            receipts: true,
            relays: Vec::new(),
            display_name: None,
            key: KeyState::Ready,
            other: serde_json::Map::new(),
        }
    }
}

impl Settings {
    /// Reads `path`; a missing file gives the defaults (directories made before settings
    /// existed), a damaged one is an error that names it.
    pub fn load(path: &Path) -> Result<Settings, AppError> {
        let text = match crate::fsutil::read_small_string(path, crate::fsutil::RECORD_MAX) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => return Err(AppError::io(path, e)),
        };
        let s: Settings = serde_json::from_str(&text).map_err(|e| AppError::Settings {
            path: path.display().to_string(),
            err: e.to_string(),
        })?;
        if s.version > VERSION {
            tracing::info!(version = s.version, "settings written by a newer version");
        }
        Ok(s)
    }

    /// Writes `path` atomically (temporary file, sync, rename), owner-only.
    pub fn save(&self, path: &Path) -> Result<(), AppError> {
        use std::io::Write;
        let mut out = self.clone();
        out.version = out.version.max(VERSION);
        let text = serde_json::to_string_pretty(&out).map_err(|e| AppError::Settings {
            path: path.display().to_string(),
            err: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| AppError::io(&tmp, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| AppError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| AppError::io(path, e))
    }

    /// The network these settings name.
    pub fn network(&self) -> Result<crate::wire::network::Network, AppError> {
        match &self.network_key {
            None => Ok(crate::wire::network::Network::deployed()),
            Some(h) => {
                let key = hex::decode(h)
                    .map_err(|e| AppError::Invalid(format!("network key {h:?}: {e}")))?;
                crate::wire::network::Network::with_key(&key)
                    .map_err(|e| AppError::Invalid(format!("network key: {e}")))
            }
        }
    }
}
