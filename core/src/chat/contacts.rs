//! People: contacts (my TRT entries, as the app writes them, plus the alias I gave them, which
//! stays on this device), the aliases people announce (IAM), and resolving what a user types
//! (`@….ed25519`, a feed id in hex, `did:ssb:…`, or a contact's alias) to a feed.
//!
//! A contact's feed is always replicated: adding a contact adds it to the replication set,
//! and the service re-adds every contact when it attaches to a node.

use crate::chat::content;
use crate::chat::ingest::Work;
use crate::chat::service::{now_secs, Chats};
use crate::chat::types::{ChatError, ChatEvent, Contact};
use crate::identity::FeedId;

/// Trust level of a contact added by hand (the app's "trusted"; 2 needs a QR scan or invite).
pub const TRUSTED: i64 = 1;
/// Trust level of a contact verified in person (QR code) or by an invite.
pub const VERIFIED: i64 = 2;

impl Chats {
    /// My contacts (not deleted), by name.
    pub fn contacts(&self) -> Result<Vec<Contact>, ChatError> {
        let mut fids: Vec<FeedId> = Vec::new();
        for tree in [&self.inner.ix.trust, &self.inner.ix.alias] {
            for k in tree.iter().keys() {
                if let Ok(b) = <[u8; 32]>::try_from(k?.as_ref()) {
                    fids.push(FeedId(b));
                }
            }
        }
        fids.sort();
        fids.dedup();
        let mut out = fids
            .iter()
            .filter(|f| **f != self.inner.fid)
            .map(|f| self.person(f))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|a| a.name.to_lowercase());
        Ok(out)
    }

    /// What I know about anyone (a contact or not).
    pub fn person(&self, fid: &FeedId) -> Result<Contact, ChatError> {
        let ix = &self.inner.ix;
        let text = |v: Option<sled::IVec>| {
            v.map(|b| String::from_utf8_lossy(&b).into_owned())
                .filter(|s| !s.is_empty())
        };
        let alias = text(ix.alias.get(fid.0)?);
        let iam = text(ix.iam.get(fid.0)?);
        let trust = ix
            .trust
            .get(fid.0)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(i64::from_be_bytes);
        let name = alias
            .clone()
            .or_else(|| iam.clone())
            .unwrap_or_else(|| fid.short_display());
        Ok(Contact {
            fid: *fid,
            alias,
            iam,
            trust,
            name,
        })
    }

    /// The name to show for a feed ("me" for mine).
    pub fn name_of(&self, fid: &FeedId) -> Result<String, ChatError> {
        if *fid == self.inner.fid {
            return Ok("me".into());
        }
        Ok(self.person(fid)?.name)
    }

    /// Adds (or updates) a contact: records the trust level in my feed (TRT, encrypted to
    /// myself, as the app does), sets my alias for them if given, and replicates their feed.
    pub fn add_contact(
        &self,
        fid: FeedId,
        alias: Option<&str>,
        trust: i64,
    ) -> Result<Contact, ChatError> {
        if fid == self.inner.fid {
            return Err(ChatError::Invalid("that is your own feed".into()));
        }
        if fid.key().is_err() {
            return Err(ChatError::Invalid(format!(
                "{} is not a valid ed25519 key",
                fid.short_display()
            )));
        }
        if !(0..=2).contains(&trust) {
            return Err(ChatError::Invalid("trust levels are 0, 1 and 2".into()));
        }
        if let Some(a) = alias {
            self.set_alias(&fid, Some(a))?;
        }
        let inner = &self.inner;
        let _g = inner.lock();
        let mut work = Work::default();
        if self.person(&fid)?.trust != Some(trust) {
            let v = content::trust_value(&fid, trust, now_secs(), &[], &inner.fid);
            inner.publish(&content::seal_entry(&v, &[inner.fid])?)?;
            inner.index_feed(&inner.fid, &mut work)?;
        }
        inner.keep_feed(&fid)?;
        work.events.push(ChatEvent::Contacts);
        inner.finish(work)?;
        self.person(&fid)
    }

    /// Sets (or with `None` clears) the alias I use for someone. Aliases are unique among
    /// contacts and cannot look like a feed id.
    pub fn set_alias(&self, fid: &FeedId, alias: Option<&str>) -> Result<(), ChatError> {
        let ix = &self.inner.ix;
        match alias.map(str::trim) {
            None | Some("") => {
                ix.alias.remove(fid.0)?;
            }
            Some(a) => {
                if a.parse::<FeedId>().is_ok() || a.contains(',') || a.starts_with('@') {
                    return Err(ChatError::Invalid(format!(
                        "alias {a:?} must not look like a feed id or contain ','"
                    )));
                }
                for c in self.contacts()? {
                    if c.fid != *fid
                        && c.alias.as_deref().map(str::to_lowercase) == Some(a.to_lowercase())
                    {
                        return Err(ChatError::Invalid(format!(
                            "alias {a:?} is already taken by {}",
                            c.fid.short_display()
                        )));
                    }
                }
                ix.alias.insert(fid.0, a.as_bytes())?;
            }
        }
        ix.db.flush()?;
        let _ = self.inner.events.send(ChatEvent::Contacts);
        Ok(())
    }

    /// Deletes a contact (DEL entry, as the app writes it). Their entries stay in the log.
    pub fn delete_contact(&self, fid: &FeedId) -> Result<(), ChatError> {
        let inner = &self.inner;
        let _g = inner.lock();
        let v = content::deleted_value(fid, 1, &inner.fid);
        inner.publish(&content::seal_entry(&v, &[inner.fid])?)?;
        inner.ix.alias.remove(fid.0)?;
        let mut work = Work::default();
        inner.index_feed(&inner.fid, &mut work)?;
        inner.finish(work)
    }

    /// Announces my alias to everyone (IAM; "" resets it).
    pub fn set_my_alias(&self, alias: &str) -> Result<(), ChatError> {
        let inner = &self.inner;
        let _g = inner.lock();
        inner.publish(&content::alias_value(alias).encode())?;
        let mut work = Work::default();
        inner.index_feed(&inner.fid, &mut work)?;
        inner.finish(work)
    }

    /// The feed a user means: `@….ed25519`, `did:ssb:ed25519:…`, 64 hex digits, or the alias
    /// of a contact (mine first, then the one they announce if only one contact uses it).
    pub fn resolve(&self, reference: &str) -> Result<FeedId, ChatError> {
        let r = reference.trim();
        if let Ok(fid) = r.parse::<FeedId>() {
            return Ok(fid);
        }
        let want = r.to_lowercase();
        let contacts = self.contacts()?;
        let by = |f: &dyn Fn(&crate::chat::types::Contact) -> Option<&String>| {
            contacts
                .iter()
                .filter(|c| f(c).map(|a| a.to_lowercase()) == Some(want.clone()))
                .map(|c| c.fid)
                .collect::<Vec<_>>()
        };
        for hits in [by(&|c| c.alias.as_ref()), by(&|c| c.iam.as_ref())] {
            match hits.as_slice() {
                [one] => return Ok(*one),
                [] => {}
                _ => return Err(ChatError::AmbiguousContact(r.into())),
            }
        }
        Err(ChatError::UnknownContact(r.into()))
    }
}
