//! Invites this node made or accepted, kept in `invites.json` in the data directory so that a
//! node started later (`lichen serve`) meets the same peers through the same relays.
//!
//! The file holds bearer secrets (the beacons), so it is written owner-only, through a
//! temporary file and a rename, and never logged. Format:
//!
//! ```json
//! {"version": 1, "invites": [{"beacon": "moneysocket-lichen1…", "role": "inviter",
//!   "peer": null, "alias": null, "saved_at": 1700000000}]}
//! ```
//!
//! `peer` is the inviter's feed id (hex) for accepted invites; `alias` the name it gave.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Invite;
use crate::face::tunnel::TunnelRole;

/// The file name inside the data directory.
pub const FILE: &str = "invites.json";

/// One saved invite. The beacon is a bearer secret: `Debug` does not show it, and it is wiped
/// from memory when the value is dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedInvite {
    /// The beacon string.
    pub beacon: String,
    /// `inviter` (we made it) or `acceptor` (we accepted it).
    pub role: String,
    /// The inviter's feed id (hex), for accepted invites.
    pub peer: Option<String>,
    /// The inviter's alias, if the invite carried one.
    pub alias: Option<String>,
    /// When it was saved (UNIX seconds).
    pub saved_at: u64,
}

impl std::fmt::Debug for SavedInvite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedInvite")
            .field("beacon", &"(secret)")
            .field("role", &self.role)
            .field("peer", &self.peer)
            .field("alias", &self.alias)
            .field("saved_at", &self.saved_at)
            .finish()
    }
}

impl Drop for SavedInvite {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.beacon);
    }
}

impl SavedInvite {
    /// The role as a type (`None` for a value this code does not know).
    pub fn tunnel_role(&self) -> Option<TunnelRole> {
        match self.role.as_str() {
            "inviter" => Some(TunnelRole::Inviter),
            "acceptor" => Some(TunnelRole::Acceptor),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileForm {
    version: u32,
    invites: Vec<SavedInvite>,
}

/// Why the saved invites could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    /// Reading or writing failed.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        err: std::io::Error,
    },
    /// The file is not what this code writes.
    #[error("{path}: not a saved-invites file: {err}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        err: String,
    },
}

/// The saved invites of one data directory.
#[derive(Debug, Clone)]
pub struct SavedInvites {
    path: PathBuf,
    invites: Vec<SavedInvite>,
}

impl SavedInvites {
    /// Reads `dir/invites.json` (an absent file is an empty list; anything but a regular
    /// file of at most [`crate::fsutil::RECORD_MAX`] bytes is an error).
    pub fn load(dir: &Path) -> Result<SavedInvites, SavedError> {
        let path = dir.join(FILE);
        let invites = match crate::fsutil::read_small(&path, crate::fsutil::RECORD_MAX) {
            Ok(mut bytes) => {
                let parsed = serde_json::from_slice::<FileForm>(&bytes);
                // The file's bytes hold every beacon: wiped once parsed.
                zeroize::Zeroize::zeroize(&mut bytes);
                let form = parsed.map_err(|e| SavedError::Format {
                    path: path.clone(),
                    err: e.to_string(),
                })?;
                if form.version != 1 {
                    return Err(SavedError::Format {
                        path,
                        err: format!("version {} (this code reads 1)", form.version),
                    });
                }
                form.invites
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(SavedError::Io { path, err }),
        };
        Ok(SavedInvites { path, invites })
    }

    /// Every saved invite, oldest first.
    pub fn all(&self) -> &[SavedInvite] {
        &self.invites
    }

    /// Adds an invite (once per beacon and role) and writes the file; false if it was there.
    pub fn add(
        &mut self,
        invite: &Invite,
        role: TunnelRole,
        now_secs: u64,
    ) -> Result<bool, SavedError> {
        let beacon = invite.encode();
        if self
            .invites
            .iter()
            .any(|s| s.beacon == beacon && s.role == role.name())
        {
            return Ok(false);
        }
        self.invites.push(SavedInvite {
            beacon,
            role: role.name().to_owned(),
            peer: match role {
                TunnelRole::Acceptor => Some(invite.inviter().to_hex()),
                TunnelRole::Inviter => None,
            },
            alias: invite.alias().map(str::to_owned),
            saved_at: now_secs,
        });
        self.write()?;
        Ok(true)
    }

    fn write(&self) -> Result<(), SavedError> {
        let io = |err| SavedError::Io {
            path: self.path.clone(),
            err,
        };
        let form = FileForm {
            version: 1,
            invites: self.invites.clone(),
        };
        let mut text = serde_json::to_vec_pretty(&form).map_err(|e| SavedError::Format {
            path: self.path.clone(),
            err: e.to_string(),
        })?;
        text.push(b'\n');
        let tmp = self.path.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let written = opts.open(&tmp).and_then(|mut file| {
            file.write_all(&text)?;
            file.sync_all()
        });
        // The text holds every beacon: wiped once written.
        zeroize::Zeroize::zeroize(&mut text);
        written.map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invite::relay_location;
    use crate::FeedId;

    #[test]
    fn add_reload_and_dedup() {
        let dir = tempfile::tempdir().unwrap();
        let mut saved = SavedInvites::load(dir.path()).unwrap();
        assert!(saved.all().is_empty());
        let invite = Invite::new(
            FeedId([7; 32]),
            Some("Ana"),
            None,
            relay_location("ws://localhost:7000").unwrap(),
            &mut rand_core::OsRng,
        )
        .unwrap();
        assert!(saved.add(&invite, TunnelRole::Acceptor, 5).unwrap());
        assert!(!saved.add(&invite, TunnelRole::Acceptor, 6).unwrap());
        assert!(saved.add(&invite, TunnelRole::Inviter, 6).unwrap());
        let again = SavedInvites::load(dir.path()).unwrap();
        assert_eq!(again.all().len(), 2);
        assert_eq!(again.all()[0].peer, Some(FeedId([7; 32]).to_hex()));
        assert_eq!(again.all()[0].alias.as_deref(), Some("Ana"));
        let shown = format!("{:?}", again.all()[0]);
        assert!(
            !shown.contains(&again.all()[0].beacon),
            "Debug shows the beacon: {shown}"
        );
        assert_eq!(
            Invite::decode(&again.all()[1].beacon).unwrap().inviter(),
            &FeedId([7; 32])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }
        std::fs::write(dir.path().join(FILE), b"{nope").unwrap();
        assert!(SavedInvites::load(dir.path()).is_err());
    }
}
