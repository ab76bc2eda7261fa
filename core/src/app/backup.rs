//! Backup and restore through the door, and an invite's preview before accepting it.
//!
//! A backup is what cannot be fetched again from peers: the key, the settings, the
//! contacts' aliases and trust levels, the saved invites. The feeds themselves (the own one
//! included) come back by replication, so a restored identity is imported as possibly
//! having entries elsewhere: posting waits until the own feed was recovered (the fork
//! guard, ADR 0019). The backup holds the secret key: it is a secret as the key file is.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::app::{App, AppError, AppOptions, KeyIs, Settings};
use crate::identity::FeedId;
use crate::invite::saved::SavedInvites;
use crate::invite::Invite;

/// The backup format version written.
pub const BACKUP_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct BackupContact {
    fid: String,
    alias: Option<String>,
    trust: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Backup {
    lichen_backup: u32,
    key_file: String,
    settings: Settings,
    #[serde(default)]
    contacts: Vec<BackupContact>,
    #[serde(default)]
    invites: Vec<String>,
}

/// What an invite says, before accepting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitePreview {
    /// Who invites.
    pub inviter: FeedId,
    /// The name the inviter gave (their words).
    pub alias: Option<String>,
    /// The relay where the two meet.
    pub relay: String,
    /// Whether it is for this app's network (else accepting it fails).
    pub same_network: bool,
    /// Whether it is my own invite.
    pub mine: bool,
}

impl App {
    /// The backup text (JSON): key, settings, contacts, saved invites. A secret.
    pub fn export_backup(&self) -> Result<Zeroizing<String>, AppError> {
        let contacts = self
            .chats()
            .contacts()?
            .into_iter()
            .map(|c| BackupContact {
                fid: c.fid.to_ref(),
                alias: c.alias,
                trust: c.trust,
            })
            .collect();
        let invites = SavedInvites::load(self.layout().root())
            .map(|s| s.all().iter().map(|i| i.beacon.clone()).collect())
            .unwrap_or_default();
        let b = Backup {
            lichen_backup: BACKUP_VERSION,
            key_file: self.export_key().to_string(),
            settings: self.settings(),
            contacts,
            invites,
        };
        serde_json::to_string_pretty(&b)
            .map(Zeroizing::new)
            .map_err(|e| AppError::Invalid(format!("writing the backup: {e}")))
    }

    /// Restores a backup into `dir` (which must hold no identity) and opens it. The own
    /// feed is recovered from peers before posting works again.
    pub fn restore_backup(dir: &Path, text: &str, options: AppOptions) -> Result<App, AppError> {
        let b: Backup = serde_json::from_str(text)
            .map_err(|e| AppError::Invalid(format!("not a Lichen backup: {e}")))?;
        if b.lichen_backup > BACKUP_VERSION {
            return Err(AppError::Invalid(format!(
                "this backup was written by a newer Lichen (format {}); update the app",
                b.lichen_backup
            )));
        }
        let app = App::import(dir, &b.key_file, KeyIs::MayHaveEntries, options)?;
        app.update_settings(|s| {
            let key = s.key;
            *s = b.settings.clone();
            s.key = key;
        })?;
        for c in &b.contacts {
            let Ok(fid) = c.fid.parse::<FeedId>() else {
                tracing::warn!("skipping an unreadable contact in the backup");
                continue;
            };
            // Trust is signed on the own feed, which waits for recovery: keep the alias now.
            if let Err(e) = app.chats().set_alias(&fid, c.alias.as_deref()) {
                tracing::warn!(%e, "skipping a contact's alias from the backup");
            }
        }
        let mut saved =
            SavedInvites::load(app.layout().root()).map_err(|e| AppError::Invite(e.to_string()))?;
        for beacon in &b.invites {
            if let Ok(invite) = Invite::decode(beacon) {
                let role = if invite.inviter() == app.fid() {
                    crate::face::tunnel::TunnelRole::Inviter
                } else {
                    crate::face::tunnel::TunnelRole::Acceptor
                };
                if let Err(e) = saved.add(&invite, role, 0) {
                    tracing::warn!(%e, "skipping a saved invite from the backup");
                }
            }
        }
        Ok(app)
    }

    /// What the invite `beacon` says, without accepting it.
    pub fn preview_invite(&self, beacon: &str) -> Result<InvitePreview, AppError> {
        let invite = Invite::decode(beacon)
            .map_err(|e| AppError::Invite(format!("not a usable Lichen invite: {e}")))?;
        let ours = self.settings().network()?;
        let deployed = crate::wire::network::Network::deployed();
        let theirs = invite.network_key().unwrap_or(deployed.key());
        Ok(InvitePreview {
            inviter: *invite.inviter(),
            alias: invite.alias().map(str::to_owned),
            relay: invite.target().url(),
            same_network: theirs == ours.key(),
            mine: invite.inviter() == self.fid(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::KeyState;

    #[test]
    fn a_backup_restores_key_settings_and_aliases_and_waits_for_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        app.update_settings(|s| s.display_name = Some("Ann".into()))
            .unwrap();
        let friend = crate::Identity::generate();
        app.chats()
            .add_contact(*friend.fid(), Some("Bo"), 1)
            .unwrap();
        let text = app.export_backup().unwrap();
        let fid = *app.fid();
        app.stop();
        let restored =
            App::restore_backup(&dir.path().join("b"), &text, AppOptions::default()).unwrap();
        assert_eq!(restored.fid(), &fid);
        assert_eq!(restored.settings().display_name.as_deref(), Some("Ann"));
        assert_eq!(restored.key_state(), KeyState::Unrecovered);
        let bo = restored.chats().person(friend.fid()).unwrap();
        assert_eq!(bo.alias.as_deref(), Some("Bo"));
        restored.stop();
        let bad = App::restore_backup(&dir.path().join("c"), "{}", AppOptions::default());
        assert!(matches!(bad, Err(AppError::Invalid(m)) if m.contains("not a Lichen backup")));
        assert!(!dir.path().join("c").join("identity.json").exists());
    }
}
