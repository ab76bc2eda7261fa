//! Gaps: what peers say exists of a feed beyond what this device holds (a peer's WANT, or a
//! member's signed delivery record, `chat::members`).
//!
//! A peer's WANT for entry n+1 of a feed says it holds 1..n. When n is above what the store
//! holds, entries exist (on that peer's word) that have not arrived here: the conversation
//! shows "N messages from Alice have not arrived yet". A WANT is not signed and proves
//! nothing, so a gap is only ever shown as *claimed*: it never moves a delivery state, and
//! the count is computed against the store's frontier at the moment it is asked for, so it
//! clears itself as the entries arrive (over any link).

use std::collections::HashMap;

use crate::chat::routes::LinkKind;
use crate::identity::FeedId;

/// How far peers claim a feed goes, and which links said so.
#[derive(Debug, Clone, Default)]
pub(crate) struct Claim {
    /// The highest sequence number claimed.
    pub upto: u32,
    /// The kinds of link that carried a claim beyond what we held then (could bring them).
    pub via: Vec<LinkKind>,
}

/// Claims per feed.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    map: HashMap<FeedId, Claim>,
}

impl Claims {
    /// A peer on a link of `kind` claims to hold `fid` up to `seq`; we hold `held`.
    /// Returns whether a gap opened or grew.
    pub fn note(&mut self, fid: &FeedId, seq: u32, held: u32, kind: LinkKind) -> bool {
        if seq <= held {
            return false;
        }
        let c = self.map.entry(*fid).or_default();
        if !c.via.contains(&kind) {
            c.via.push(kind);
        }
        if seq > c.upto {
            c.upto = seq;
            return true;
        }
        false
    }

    /// The claim about `fid`, if one goes beyond `held`; forgets it otherwise (healed).
    pub fn beyond(&mut self, fid: &FeedId, held: u32) -> Option<Claim> {
        match self.map.get(fid) {
            Some(c) if c.upto > held => Some(c.clone()),
            Some(_) => {
                self.map.remove(fid);
                None
            }
            None => None,
        }
    }

    /// Every feed with a claim.
    pub fn feeds(&self) -> Vec<FeedId> {
        self.map.keys().copied().collect()
    }
}

/// Entries of a feed that peers say exist and this device does not hold yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Whose feed.
    pub author: FeedId,
    /// The name to show for them.
    pub name: String,
    /// The last entry held here.
    pub held: u32,
    /// The last entry a peer claims to hold (its word, not proof).
    pub claimed: u32,
    /// `claimed - held`: how many have not arrived yet.
    pub missing: u32,
    /// Which kinds of link carried the claim (and so could bring them).
    pub via: Vec<LinkKind>,
    /// Members whose signed delivery records say so (empty: only peers' WANTs).
    pub vouched_by: Vec<FeedId>,
    /// Their names, in the same order.
    pub vouchers: Vec<String>,
}

impl Gap {
    /// "3 messages from Alice have not arrived yet (claimed by a peer over relay)".
    pub fn describe(&self) -> String {
        let via: Vec<&str> = self.via.iter().map(|k| k.name()).collect();
        let via = if via.is_empty() {
            "a link".to_owned()
        } else {
            via.join(", ")
        };
        let head = format!(
            "{} message{} from {} {} not arrived yet",
            self.missing,
            if self.missing == 1 { "" } else { "s" },
            self.name,
            if self.missing == 1 { "has" } else { "have" },
        );
        if self.vouchers.is_empty() {
            format!("{head} (claimed by a peer over {via})")
        } else {
            let who: Vec<String> = self.vouchers.iter().map(|n| format!("{n}'s")).collect();
            let (recs, say) = if who.len() == 1 {
                ("record", "says")
            } else {
                ("records", "say")
            };
            format!(
                "{head} ({} signed {recs} {say} so; could come over {via})",
                who.join(" and ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_opens_a_gap_that_heals_and_never_overflows() {
        let mut c = Claims::default();
        let f = FeedId([1; 32]);
        assert!(
            !c.note(&f, 5, 5, LinkKind::Relay),
            "nothing beyond what is held"
        );
        assert!(c.note(&f, 8, 5, LinkKind::Relay));
        assert!(!c.note(&f, 7, 5, LinkKind::Wifi));
        assert!(c.note(&f, u32::MAX, 5, LinkKind::Wifi));
        let g = c.beyond(&f, 5).map(|c| (c.upto, c.via));
        assert_eq!(g, Some((u32::MAX, vec![LinkKind::Relay, LinkKind::Wifi])));
        assert!(c.beyond(&f, u32::MAX).is_none());
        assert!(c.feeds().is_empty(), "a healed gap is forgotten");
    }
}
