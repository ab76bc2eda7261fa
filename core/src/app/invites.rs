//! Invites through the front door: make one (saved, met through its relay at once), accept
//! one (the inviter becomes a verified contact, the invite is saved and met), and meet every
//! saved invite again on `start`.

use crate::app::{App, AppError, LinkHandle};
use crate::chat::contacts::VERIFIED;
use crate::face::tunnel::TunnelRole;
use crate::identity::FeedId;
use crate::invite::saved::SavedInvites;
use crate::invite::{relay_location, Invite};

fn now_secs() -> u64 {
    crate::clock::unix_secs()
}

impl App {
    /// Mints an invite to meet at `relay` (else the first relay in the settings), showing
    /// `alias` (else the display name); saves it and starts meeting through the relay.
    /// Returns the beacon string to give to one person.
    pub fn make_invite(
        &self,
        relay: Option<&str>,
        alias: Option<&str>,
    ) -> Result<String, AppError> {
        let settings = self.settings();
        let url = relay
            .map(str::to_owned)
            .or_else(|| settings.relays.first().cloned())
            .ok_or_else(|| {
                AppError::Invalid("no relay: give one or add one to the settings".into())
            })?;
        let location = relay_location(&url).map_err(AppError::Invalid)?;
        let alias = alias.map(str::to_owned).or(settings.display_name.clone());
        let key = settings.network()?.key().to_vec();
        let private = (key != crate::wire::network::Network::deployed().key()).then_some(key);
        let invite = Invite::new(
            *self.fid(),
            alias.as_deref(),
            private.as_deref(),
            location,
            &mut rand_core::OsRng,
        )
        .map_err(|e| AppError::Invite(e.to_string()))?;
        self.saved()?
            .add(&invite, TunnelRole::Inviter, now_secs())
            .map_err(|e| AppError::Invite(e.to_string()))?;
        self.meet(&invite, TunnelRole::Inviter)?;
        Ok(invite.encode())
    }

    /// Accepts an invite: the inviter becomes a verified contact (with the invite's alias,
    /// unless another contact has it), the invite is saved, and the inviter is met through
    /// the relay it names. Returns the inviter.
    pub fn accept_invite(&self, beacon: &str) -> Result<FeedId, AppError> {
        let invite = Invite::decode(beacon)
            .map_err(|e| AppError::Invite(format!("not a usable Lichen invite: {e}")))?;
        let ours = self.settings().network()?;
        let deployed = crate::wire::network::Network::deployed();
        let theirs = invite.network_key().unwrap_or(deployed.key());
        if theirs != ours.key() {
            return Err(AppError::Invite(
                "this invite is for another network than this app's".into(),
            ));
        }
        let inviter = *invite.inviter();
        if &inviter == self.fid() {
            return Err(AppError::Invite(
                "this is your own invite: give it to someone else".into(),
            ));
        }
        if let Err(e) = self.chats.add_contact(inviter, invite.alias(), VERIFIED) {
            // An alias taken by another contact must not stop the meeting.
            tracing::info!(%e, "adding the inviter without the alias");
            self.chats.add_contact(inviter, None, VERIFIED)?;
        }
        self.saved()?
            .add(&invite, TunnelRole::Acceptor, now_secs())
            .map_err(|e| AppError::Invite(e.to_string()))?;
        self.meet(&invite, TunnelRole::Acceptor)?;
        Ok(inviter)
    }

    /// Starts a relay link for every saved invite; returns how many (unreadable ones are
    /// skipped and logged).
    pub(crate) fn meet_saved(&self) -> Result<usize, AppError> {
        let saved = self.saved()?;
        let mut n = 0;
        for s in saved.all() {
            let (Ok(invite), Some(role)) = (Invite::decode(&s.beacon), s.tunnel_role()) else {
                tracing::warn!("skipping an unreadable saved invite");
                continue;
            };
            self.meet(&invite, role)?;
            n += 1;
        }
        Ok(n)
    }

    /// Meets the peer of `invite` through its relay until closed or stopped; the handle is
    /// also kept by the app (closed on stop).
    pub fn meet(&self, invite: &Invite, role: TunnelRole) -> Result<LinkHandle, AppError> {
        let h = self.relay_link(invite.target(), role)?;
        if let Ok(mut r) = self.relays.lock() {
            r.push(h.clone());
        }
        Ok(h)
    }

    fn saved(&self) -> Result<SavedInvites, AppError> {
        SavedInvites::load(self.layout.root()).map_err(|e| AppError::Invite(e.to_string()))
    }
}
