//! Chat ids as the Android app forms them (`recps2nm` in `tremola.js`): the public channel is
//! `"ALL"`; a private chat is the concatenation of its members' `@….ed25519` refs, sorted as
//! strings, with `.ed25519` removed. Notes-to-self is the chat whose only member is oneself.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::identity::FeedId;

/// The public channel's id.
pub const PUBLIC: &str = "ALL";
/// Length of one member in a private chat id: `@` + 44 base64 characters.
const MEMBER_LEN: usize = 45;

/// A conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChatId {
    /// The public channel "ALL".
    Public,
    /// A private chat: its members (oneself included), in id order, without duplicates.
    Private(Vec<FeedId>),
}

/// Why a string is not a chat id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChatIdError {
    /// A private chat without members.
    #[error("a private chat needs at least one member")]
    Empty,
    /// Neither "ALL" nor a list of `@…=` member refs.
    #[error("not a chat id (\"ALL\" or the concatenated @… refs of the members): {0}")]
    Malformed(String),
}

impl ChatId {
    /// The private chat of these members, in any order, duplicates ignored.
    pub fn private(members: impl IntoIterator<Item = FeedId>) -> Result<ChatId, ChatIdError> {
        let mut m: Vec<(String, FeedId)> = members.into_iter().map(|f| (f.to_ref(), f)).collect();
        m.sort();
        m.dedup();
        if m.is_empty() {
            return Err(ChatIdError::Empty);
        }
        Ok(ChatId::Private(m.into_iter().map(|(_, f)| f).collect()))
    }

    /// Notes-to-self of `me`.
    pub fn notes(me: &FeedId) -> ChatId {
        ChatId::Private(vec![*me])
    }

    /// The members (empty for the public channel).
    pub fn members(&self) -> &[FeedId] {
        match self {
            ChatId::Public => &[],
            ChatId::Private(m) => m,
        }
    }

    /// Whether this is the public channel.
    pub fn is_public(&self) -> bool {
        matches!(self, ChatId::Public)
    }

    /// The other person of a one-to-one chat with `me` (the only chats with receipts).
    pub fn peer_of(&self, me: &FeedId) -> Option<FeedId> {
        match self.members() {
            [a, b] if a == me => Some(*b),
            [a, b] if b == me => Some(*a),
            _ => None,
        }
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatId::Public => f.write_str(PUBLIC),
            ChatId::Private(m) => {
                for fid in m {
                    let r = fid.to_ref();
                    f.write_str(r.strip_suffix(".ed25519").unwrap_or(&r))?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for ChatId {
    type Err = ChatIdError;

    fn from_str(s: &str) -> Result<ChatId, ChatIdError> {
        if s == PUBLIC {
            return Ok(ChatId::Public);
        }
        let bad = || ChatIdError::Malformed(s.chars().take(60).collect());
        if s.is_empty() || s.len() % MEMBER_LEN != 0 || !s.is_ascii() {
            return Err(bad());
        }
        let members = (0..s.len() / MEMBER_LEN)
            .map(|i| {
                let part = &s[i * MEMBER_LEN..(i + 1) * MEMBER_LEN];
                if !part.starts_with('@') {
                    return Err(bad());
                }
                format!("{part}.ed25519")
                    .parse::<FeedId>()
                    .map_err(|_| bad())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let id = ChatId::private(members)?;
        // Only the canonical (sorted, duplicate-free) form names a chat.
        if id.to_string() != s {
            return Err(bad());
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Identity;

    #[test]
    fn forms_the_deployed_id() {
        // id1 = @A6EHv…, id2 = @Kay64…: sorted as strings, ".ed25519" removed.
        let a = *Identity::from_seed(&core::array::from_fn(|i| i as u8)).fid();
        let b = *Identity::from_seed(&core::array::from_fn(|i| 32 + i as u8)).fid();
        let id = ChatId::private([b, a, b]).unwrap();
        let s = id.to_string();
        assert_eq!(
            s,
            "@A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=@Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc="
        );
        assert_eq!(s.parse::<ChatId>().unwrap(), id);
        assert_eq!(id.peer_of(&a), Some(b));
        assert_eq!("ALL".parse::<ChatId>().unwrap(), ChatId::Public);
        // Unsorted or damaged forms are refused.
        let swapped = format!("{}{}", &s[45..], &s[..45]);
        assert!(swapped.parse::<ChatId>().is_err());
        assert!(s[..44].parse::<ChatId>().is_err());
        assert!("".parse::<ChatId>().is_err());
        assert_eq!(ChatId::private([]), Err(ChatIdError::Empty));
    }

    #[test]
    fn sorts_as_strings_not_bytes() {
        // Base64 puts letters before digits and '+' '/', unlike bytes.
        let ids: Vec<FeedId> = (0..40u8)
            .map(|i| *Identity::from_seed(&[i; 32]).fid())
            .collect();
        let ChatId::Private(m) = ChatId::private(ids).unwrap() else {
            unreachable!()
        };
        let refs: Vec<String> = m.iter().map(FeedId::to_ref).collect();
        let mut sorted = refs.clone();
        sorted.sort();
        assert_eq!(refs, sorted);
    }
}
