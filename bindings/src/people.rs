//! The contacts and invites areas: people with their alias and trust, my name, invites to
//! make (a beacon string for a QR code), preview and accept.

use std::sync::Arc;

use lichen::chat::Contact as CoreContact;
use lichen::{App, FeedId};

use crate::errors::{AreaError, ContactError};
use crate::root::Shared;

/// How far I trust a person (recorded on my feed, sealed to me).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Trust {
    /// Known, not trusted.
    Untrusted,
    /// Trusted.
    Trusted,
    /// Verified in person (an invite accepted, a QR code scanned).
    Verified,
}

impl Trust {
    fn level(self) -> i64 {
        match self {
            Trust::Untrusted => 0,
            Trust::Trusted => 1,
            Trust::Verified => 2,
        }
    }

    fn of(level: Option<i64>) -> Option<Trust> {
        match level? {
            0 => Some(Trust::Untrusted),
            1 => Some(Trust::Trusted),
            2 => Some(Trust::Verified),
            _ => None,
        }
    }
}

/// A person I know.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Contact {
    /// Their feed id (`@….ed25519`).
    pub feed_id: String,
    /// The name I gave them (local only).
    pub alias: Option<String>,
    /// The name they announce (their words: show it made safe).
    pub their_name: Option<String>,
    /// How far I trust them.
    pub trust: Option<Trust>,
    /// The name to show: my alias, else theirs, else the short id.
    pub name: String,
    /// The short id (`XXXXX-XXXXX`) to compare in person.
    pub short_id: String,
}

fn contact(c: CoreContact) -> Contact {
    Contact {
        feed_id: c.fid.to_ref(),
        alias: c.alias,
        their_name: c.iam,
        trust: Trust::of(c.trust),
        name: c.name,
        short_id: c.fid.short_display(),
    }
}

fn resolve(app: &App, reference: &str) -> Result<FeedId, ContactError> {
    app.chats().resolve(reference).map_err(ContactError::from)
}

/// The people of this identity.
#[derive(uniffi::Object)]
pub struct Contacts {
    shared: Arc<Shared>,
}

impl Contacts {
    pub(crate) fn new(shared: Arc<Shared>) -> Contacts {
        Contacts { shared }
    }
}

#[uniffi::export]
impl Contacts {
    /// Everyone I gave an alias or a trust level, by name.
    pub async fn list(&self) -> Result<Vec<Contact>, ContactError> {
        self.shared
            .blocking(|app| Ok(app.chats().contacts()?.into_iter().map(contact).collect()))
            .await
    }

    /// One person (a feed id in any form, or a contact's alias).
    pub async fn get(&self, reference: String) -> Result<Contact, ContactError> {
        self.shared
            .blocking(move |app| {
                let fid = resolve(app, &reference)?;
                Ok(contact(app.chats().person(&fid)?))
            })
            .await
    }

    /// Adds (or updates) a person by feed id, with an alias and a trust level.
    pub async fn add(
        &self,
        feed_id: String,
        alias: Option<String>,
        trust: Trust,
    ) -> Result<Contact, ContactError> {
        self.shared
            .blocking(move |app| {
                let fid: FeedId = feed_id.trim().parse().map_err(|e: lichen::IdentityError| {
                    ContactError::BadReference {
                        reason: e.to_string(),
                    }
                })?;
                Ok(contact(app.chats().add_contact(
                    fid,
                    alias.as_deref(),
                    trust.level(),
                )?))
            })
            .await
    }

    /// Gives a person an alias (`None` or empty: remove it). Local only.
    pub async fn set_alias(
        &self,
        reference: String,
        alias: Option<String>,
    ) -> Result<Contact, ContactError> {
        self.shared
            .blocking(move |app| {
                let fid = resolve(app, &reference)?;
                app.chats().set_alias(&fid, alias.as_deref())?;
                Ok(contact(app.chats().person(&fid)?))
            })
            .await
    }

    /// Records how far I trust a person.
    pub async fn set_trust(
        &self,
        reference: String,
        trust: Trust,
    ) -> Result<Contact, ContactError> {
        self.shared
            .blocking(move |app| {
                let fid = resolve(app, &reference)?;
                Ok(contact(app.chats().add_contact(
                    fid,
                    None,
                    trust.level(),
                )?))
            })
            .await
    }

    /// Forgets a person (their alias and trust).
    pub async fn remove(&self, reference: String) -> Result<(), ContactError> {
        self.shared
            .blocking(move |app| {
                let fid = resolve(app, &reference)?;
                Ok(app.chats().delete_contact(&fid)?)
            })
            .await
    }

    /// The feed id a reference names (`@….ed25519`, `did:ssb:…`, hex, or an alias).
    pub async fn resolve(&self, reference: String) -> Result<String, ContactError> {
        self.shared
            .blocking(move |app| Ok(resolve(app, &reference)?.to_ref()))
            .await
    }
}

/// Why an invite could not be made, read or accepted.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum InviteError {
    /// Not a Lichen invite (damaged, cut short, another app's).
    #[error("{reason}")]
    NotAnInvite {
        /// For a person.
        reason: String,
    },
    /// For another network than this app's.
    #[error("{reason}")]
    OtherNetwork {
        /// For a person.
        reason: String,
    },
    /// My own invite: give it to someone else.
    #[error("{reason}")]
    OwnInvite {
        /// For a person.
        reason: String,
    },
    /// No relay given and none in the settings, or a relay URL that cannot be used.
    #[error("{reason}")]
    NoRelay {
        /// For a person.
        reason: String,
    },
    /// Saving it or starting the relay link failed.
    #[error("{reason}")]
    Failed {
        /// For a person.
        reason: String,
    },
    /// Lichen has stopped.
    #[error("{reason}")]
    Stopped {
        /// For a person.
        reason: String,
    },
}

impl AreaError for InviteError {
    fn stopped() -> Self {
        InviteError::Stopped {
            reason: "Lichen has stopped; open it again".into(),
        }
    }
    fn internal(what: String) -> Self {
        InviteError::Failed { reason: what }
    }
}

impl From<lichen::AppError> for InviteError {
    fn from(e: lichen::AppError) -> Self {
        use lichen::AppError as A;
        let reason = e.to_string();
        match e {
            A::Invite(m) if m.contains("not a usable Lichen invite") => {
                InviteError::NotAnInvite { reason }
            }
            A::Invite(m) if m.contains("another network") => InviteError::OtherNetwork { reason },
            A::Invite(m) if m.contains("your own invite") => InviteError::OwnInvite { reason },
            A::Invalid(_) => InviteError::NoRelay { reason },
            A::Stopped => InviteError::stopped(),
            _ => InviteError::Failed { reason },
        }
    }
}

/// What an invite says, before accepting it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvitePreview {
    /// Who invites (`@….ed25519`).
    pub inviter: String,
    /// The inviter's short id, to compare in person.
    pub inviter_short_id: String,
    /// The name the inviter gave (their words).
    pub alias: Option<String>,
    /// Where the two meet.
    pub relay: String,
    /// Whether it is for this app's network (else accepting fails with `OtherNetwork`).
    pub same_network: bool,
    /// Whether it is my own invite.
    pub mine: bool,
}

/// Invites of this identity.
#[derive(uniffi::Object)]
pub struct Invites {
    shared: Arc<Shared>,
}

impl Invites {
    pub(crate) fn new(shared: Arc<Shared>) -> Invites {
        Invites { shared }
    }
}

#[uniffi::export]
impl Invites {
    /// Mints an invite to meet at `relay` (else the first relay in the settings), showing
    /// `alias` (else my display name); starts meeting there. Returns the beacon string for
    /// one person (show it as a QR code).
    pub async fn make(
        &self,
        relay: Option<String>,
        alias: Option<String>,
    ) -> Result<String, InviteError> {
        self.shared
            .blocking(move |app| Ok(app.make_invite(relay.as_deref(), alias.as_deref())?))
            .await
    }

    /// What `beacon` says, without accepting it.
    pub async fn preview(&self, beacon: String) -> Result<InvitePreview, InviteError> {
        self.shared
            .blocking(move |app| {
                let p = app.preview_invite(&beacon)?;
                Ok(InvitePreview {
                    inviter: p.inviter.to_ref(),
                    inviter_short_id: p.inviter.short_display(),
                    alias: p.alias,
                    relay: p.relay,
                    same_network: p.same_network,
                    mine: p.mine,
                })
            })
            .await
    }

    /// Accepts `beacon`: the inviter becomes a verified contact and is met through the
    /// relay. Returns the inviter's feed id.
    pub async fn accept(&self, beacon: String) -> Result<String, InviteError> {
        self.shared
            .blocking(move |app| Ok(app.accept_invite(&beacon)?.to_ref()))
            .await
    }
}
