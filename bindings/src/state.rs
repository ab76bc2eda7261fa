//! The settings, sync and backup areas.

use std::sync::Arc;

use crate::errors::SetupError;
use crate::root::Shared;

/// What the person chose. Receipts and the network key apply from the next open.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AppSettings {
    /// The name shown for me (in invites).
    pub display_name: Option<String>,
    /// Send delivery and read receipts.
    pub receipts: bool,
    /// Relays to mint invites at (`ws://…`, `wss://…`).
    pub relays: Vec<String>,
    /// A private network's key in hex (`None`: the deployed network).
    pub network_key: Option<String>,
}

/// Settings of this root.
#[derive(uniffi::Object)]
pub struct Settings {
    shared: Arc<Shared>,
}

impl Settings {
    pub(crate) fn new(shared: Arc<Shared>) -> Settings {
        Settings { shared }
    }
}

#[uniffi::export]
impl Settings {
    /// The settings now.
    pub fn get(&self) -> Result<AppSettings, SetupError> {
        let s = self.shared.app::<SetupError>()?.settings();
        Ok(AppSettings {
            display_name: s.display_name,
            receipts: s.receipts,
            relays: s.relays,
            network_key: s.network_key,
        })
    }

    /// Saves `settings` (a bad network key or relay is refused and nothing changes).
    pub async fn set(&self, settings: AppSettings) -> Result<(), SetupError> {
        self.shared
            .blocking(move |app| {
                for r in &settings.relays {
                    if !(r.starts_with("ws://") || r.starts_with("wss://")) {
                        return Err(SetupError::Invalid {
                            reason: format!("{r:?}: a relay URL starts with ws:// or wss://"),
                        });
                    }
                }
                Ok(app.update_settings(|s| {
                    s.display_name = settings
                        .display_name
                        .clone()
                        .filter(|n| !n.trim().is_empty());
                    s.receipts = settings.receipts;
                    s.relays = settings.relays.clone();
                    s.network_key = settings.network_key.clone();
                })?)
            })
            .await
    }

    /// Sets my name: saved in the settings and announced on my feed (others see it).
    pub async fn set_my_name(&self, name: String) -> Result<(), SetupError> {
        self.shared
            .blocking(move |app| {
                let name = name.trim().to_owned();
                if name.is_empty() || name.chars().count() > 64 {
                    return Err(SetupError::Invalid {
                        reason: "a name has 1 to 64 characters".into(),
                    });
                }
                app.chats()
                    .set_my_alias(&name)
                    .map_err(|e| SetupError::Failed {
                        reason: e.to_string(),
                    })?;
                Ok(app.update_settings(|s| s.display_name = Some(name.clone()))?)
            })
            .await
    }
}

/// One feed that is not complete here.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeedBehind {
    /// The feed (`@….ed25519`).
    pub feed_id: String,
    /// Entries held here.
    pub held: u32,
    /// The most a peer showed (a peer's word).
    pub peer_max: u32,
    /// Side chains still incomplete.
    pub open_chains: u32,
    /// From whom: the open links (ids, as in the link list) whose peers showed more, most
    /// first.
    pub from_links: Vec<u32>,
}

/// Sync progress at a glance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// Open links.
    pub links: u32,
    /// Feeds replicated.
    pub feeds: u32,
    /// Feeds behind what a peer showed.
    pub behind: Vec<FeedBehind>,
    /// Entries still to fetch.
    pub entries_missing: u64,
    /// Side chains still incomplete.
    pub open_chains: u32,
    /// Whether everything a peer showed is here and nothing moves.
    pub synced: bool,
    /// Why not, when not, in words.
    pub why_not: Option<String>,
}

/// Sync progress of this root.
#[derive(uniffi::Object)]
pub struct Sync {
    shared: Arc<Shared>,
}

impl Sync {
    pub(crate) fn new(shared: Arc<Shared>) -> Sync {
        Sync { shared }
    }
}

fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[uniffi::export]
impl Sync {
    /// Links, feeds behind, entries missing, synced or why not.
    pub async fn progress(&self) -> Result<SyncProgress, SetupError> {
        self.shared
            .blocking(|app| {
                let s = app.sync_summary()?;
                Ok(SyncProgress {
                    links: small(s.links),
                    feeds: small(s.feeds),
                    behind: s
                        .behind
                        .into_iter()
                        .map(|b| FeedBehind {
                            feed_id: b.fid.to_ref(),
                            held: b.held,
                            peer_max: b.peer_max,
                            open_chains: small(b.open_chains),
                            from_links: b.from.iter().map(|&(link, _)| link).collect(),
                        })
                        .collect(),
                    entries_missing: s.entries_missing,
                    open_chains: small(s.open_chains),
                    synced: s.synced,
                    why_not: s.why_not,
                })
            })
            .await
    }
}

/// Backup of this root.
#[derive(uniffi::Object)]
pub struct Backup {
    shared: Arc<Shared>,
}

impl Backup {
    pub(crate) fn new(shared: Arc<Shared>) -> Backup {
        Backup { shared }
    }
}

#[uniffi::export]
impl Backup {
    /// The backup text: key, settings, contacts' aliases and trust, saved invites. It holds
    /// the secret key: store it as a secret. Restore it with `LichenBuilder.restore_backup`;
    /// the messages come back from peers.
    pub async fn export(&self) -> Result<String, SetupError> {
        self.shared
            .blocking(|app| Ok(app.export_backup()?.to_string()))
            .await
    }
}
