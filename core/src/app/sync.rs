//! What "synced" means, in one place: the summary an app shows and the rule `lichen serve
//! --until-synced` stops on.

use std::time::Duration;

use crate::identity::FeedId;
use crate::node::Snapshot;

/// How long without traffic counts as synced.
pub const QUIET: Duration = Duration::from_secs(2);

/// One feed that is not complete here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    /// The feed.
    pub fid: FeedId,
    /// Entries held here.
    pub held: u32,
    /// The most a peer showed (a peer's word: a hint).
    pub peer_max: u32,
    /// Side chains still incomplete.
    pub open_chains: usize,
    /// From whom: the open links (id, the most that link's peer showed) that have more than
    /// is held here, most first.
    pub from: Vec<(u32, u32)>,
}

/// Progress at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    /// Open links.
    pub links: usize,
    /// Feeds replicated.
    pub feeds: usize,
    /// Feeds behind what a peer showed, or with side chains open.
    pub behind: Vec<Behind>,
    /// Entries missing: the sum over feeds of what peers showed beyond what is held.
    pub entries_missing: u64,
    /// Side chains still incomplete, over all feeds.
    pub open_chains: usize,
    /// A peer's GOset matched ours for more than [`QUIET`], nothing moved for [`QUIET`],
    /// no side chain is open and no peer showed more than we hold.
    pub synced: bool,
    /// Why not, when not.
    pub why_not: Option<String>,
}

impl SyncSummary {
    /// The summary of a node snapshot.
    pub fn of(snap: &Snapshot) -> SyncSummary {
        let behind: Vec<Behind> = snap
            .progress
            .iter()
            .filter(|p| p.held < p.peer_max || p.open_chains > 0)
            .map(|p| Behind {
                fid: p.fid,
                held: p.held,
                peer_max: p.peer_max,
                open_chains: p.open_chains,
                from: p.shown_by.iter().map(|&(f, m)| (f.0, m)).collect(),
            })
            .collect();
        let entries_missing = snap
            .progress
            .iter()
            .map(|p| u64::from(p.peer_max.saturating_sub(p.held)))
            .sum();
        let open_chains = snap.progress.iter().map(|p| p.open_chains).sum();
        let why_not = why_not(snap, &behind);
        SyncSummary {
            links: snap.links.len(),
            feeds: snap.progress.len(),
            entries_missing,
            open_chains,
            synced: why_not.is_none(),
            why_not,
            behind,
        }
    }
}

fn why_not(snap: &Snapshot, behind: &[Behind]) -> Option<String> {
    if snap.goset_agreed.is_none() {
        return Some("no peer's feed set matched ours yet".into());
    }
    if !behind.is_empty() {
        let parts: Vec<String> = behind
            .iter()
            .map(|b| {
                let mut s = format!("{} held {}", b.fid.short_display(), b.held);
                if b.held < b.peer_max {
                    s.push_str(&format!(" < peer {}", b.peer_max));
                }
                if b.open_chains > 0 {
                    s.push_str(&format!(", {} side chain(s) incomplete", b.open_chains));
                }
                s
            })
            .collect();
        return Some(format!("behind what a peer showed: {}", parts.join("; ")));
    }
    if snap.goset_agreed.is_some_and(|d| d <= QUIET) {
        return Some("a peer's feed set matched ours only just now".into());
    }
    if snap.idle <= QUIET {
        return Some("data is still moving".into());
    }
    None
}
