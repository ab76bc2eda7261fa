//! Running until a goal, through the front door: what `lichen serve`, `connect`, `invite
//! --wait` and `accept` do between bringing links up and stopping. [`App::watch`] (and
//! [`crate::app::Pub::watch`]), taken before the links come up, then [`Watch::run`] reports
//! progress as [`AppEvent`]s (the front door's one event type) until the deadline, until
//! synced, until no link is left, or until Ctrl-C, and returns a [`RunReport`]: the traffic,
//! each feed's progress, and why the run is not synced if it is not (ADR 0016's exit 4).
//!
//! "Synced" here is the rule the CLI has always stopped on: a peer's GOset matched ours for
//! more than [`QUIET`], nothing moved for [`QUIET`], no side chain is open, and no peer *said*
//! it holds more of a feed than we do — the own feed included, so that a device that
//! forked or still has history elsewhere is never reported synced.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::app::events::from_node;
use crate::app::sync::QUIET;
use crate::app::{App, AppError, AppEvent};
use crate::identity::FeedId;
use crate::node::{Node, NodeEvent, Snapshot};

pub use crate::ble::status::DongleEvent;
pub use crate::face::relay::RelayStatus;
/// How relay links dial (for [`crate::app::AppOptions::relay`]).
pub use crate::face::relay_dial::RelayOptions;
/// The UDP multicast group to join ([`App::udp_multicast`]).
pub use crate::face::udp::UdpConfig;

/// How often the stop rule is checked.
const TICK: Duration = Duration::from_millis(100);

/// When a run stops (besides Ctrl-C).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunUntil {
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Stop once synced (see the module doc).
    pub until_synced: bool,
    /// Stop once no link is open, after this long (a dialled peer that went away).
    pub alone_after: Option<Duration>,
}

impl RunUntil {
    /// Until `timeout` has passed (none: no deadline; too far for the clock: none either),
    /// or synced if `until_synced`.
    pub fn new(timeout: Option<Duration>, until_synced: bool) -> RunUntil {
        RunUntil {
            deadline: timeout.and_then(|d| Instant::now().checked_add(d)),
            until_synced,
            alone_after: None,
        }
    }
}

/// One feed's progress at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedProgress {
    /// The feed.
    pub fid: FeedId,
    /// Entries held.
    pub held: u32,
    /// The most a peer showed (checked against what exists).
    pub peer_max: u32,
    /// The most a peer said it holds (unchecked).
    pub peer_claimed: u32,
    /// Side chains still incomplete.
    pub open_chains: usize,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Entries received.
    pub entries_received: u64,
    /// Chunks received.
    pub chunks_received: u64,
    /// Packets in.
    pub packets_in: u64,
    /// Packets out.
    pub packets_out: u64,
    /// Packets dropped as bad, malformed, short or with refused keys.
    pub dropped: u64,
    /// Time since data last moved.
    pub idle: Duration,
    /// For how long a peer's GOset has matched ours.
    pub goset_agreed_for: Option<Duration>,
    /// Every feed's progress.
    pub feeds: Vec<FeedProgress>,
    /// Why the run is not synced (no peer agreed, or a feed is behind what a peer said).
    pub not_synced: Option<String>,
    /// Whether Ctrl-C ended it.
    pub interrupted: bool,
}

impl RunReport {
    fn of(snap: &Snapshot, interrupted: bool) -> RunReport {
        let s = &snap.stats;
        RunReport {
            entries_received: s.entries,
            chunks_received: s.chunks,
            packets_in: s.rx,
            packets_out: s.tx,
            dropped: s.dropped_bad_entry + s.dropped_malformed + s.dropped_short + s.dropped_keys,
            idle: snap.idle,
            goset_agreed_for: snap.goset_agreed,
            feeds: snap
                .progress
                .iter()
                .map(|p| FeedProgress {
                    fid: p.fid,
                    held: p.held,
                    peer_max: p.peer_max,
                    peer_claimed: p.peer_claimed,
                    open_chains: p.open_chains,
                })
                .collect(),
            not_synced: not_synced(snap),
            interrupted,
        }
    }
}

/// Synced: see the module doc.
fn synced(snap: &Snapshot) -> bool {
    snap.goset_agreed.is_some_and(|d| d > QUIET)
        && snap.idle > QUIET
        && snap
            .progress
            .iter()
            .all(|p| p.open_chains == 0 && p.held >= p.peer_claimed)
}

/// Why a run that should have ended synced did not, if it did not.
fn not_synced(snap: &Snapshot) -> Option<String> {
    if snap.goset_agreed.is_none() {
        return Some("no peer's feed set matched ours before the timeout".into());
    }
    let behind: Vec<String> = snap
        .progress
        .iter()
        .filter(|p| p.held < p.peer_claimed || p.open_chains > 0)
        .map(|p| {
            let mut s = format!("{} held {}", p.fid.short_display(), p.held);
            if p.held < p.peer_claimed {
                s.push_str(&format!(" < peer {}", p.peer_claimed));
            }
            if p.open_chains > 0 {
                s.push_str(&format!(", {} side chain(s) incomplete", p.open_chains));
            }
            s
        })
        .collect();
    (!behind.is_empty()).then(|| format!("behind what a peer showed: {}", behind.join("; ")))
}

/// A run's view of the events, taken before links come up so that none is missed (a dongle
/// that connects at once, a peer that was quick): [`App::watch`], then [`App::start`] or
/// links, then [`Watch::run`].
pub struct Watch<'a> {
    node: &'a Node,
    events: broadcast::Receiver<NodeEvent>,
    door: Option<broadcast::Receiver<AppEvent>>,
}

impl<'a> Watch<'a> {
    pub(crate) fn new(node: &'a Node, door: Option<broadcast::Receiver<AppEvent>>) -> Watch<'a> {
        Watch {
            node,
            events: node.subscribe(),
            door,
        }
    }

    /// Runs until `until` says so or Ctrl-C, telling `tell` what happened since the watch
    /// began, and reports what the run did. Links keep running.
    pub fn run(
        mut self,
        until: RunUntil,
        tell: &mut dyn FnMut(&AppEvent),
    ) -> Result<RunReport, AppError> {
        let node = self.node;
        let interrupted = Arc::new(AtomicBool::new(false));
        {
            let flag = interrupted.clone();
            node.handle().spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    flag.store(true, Ordering::SeqCst);
                }
            });
        }
        let started = Instant::now();
        let mut last_check = Instant::now();
        loop {
            if let Some(e) = node.next_event(&mut self.events, TICK) {
                if let Some(r) = from_node(e) {
                    tell(&r);
                }
            }
            if let Some(rx) = self.door.as_mut() {
                while let Ok(e) = rx.try_recv() {
                    // The door forwards the node's events too (told above): only its own.
                    if matches!(e, AppEvent::KeyRecovered { .. }) {
                        tell(&e);
                    }
                }
            }
            let stop_now = interrupted.load(Ordering::SeqCst);
            if stop_now || last_check.elapsed() >= TICK {
                last_check = Instant::now();
                let snap = node.snapshot()?;
                let done = stop_now
                    || until.deadline.is_some_and(|d| Instant::now() >= d)
                    || (until.until_synced && synced(&snap))
                    || until
                        .alone_after
                        .is_some_and(|a| snap.links.is_empty() && started.elapsed() > a);
                if done {
                    return Ok(RunReport::of(&snap, stop_now));
                }
            }
        }
    }
}

/// An open link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Its id (for [`App::close_link`]).
    pub face: u32,
    /// `ws`, `udp`, `relay`, `ble`, …
    pub kind: String,
    /// Who or where.
    pub peer: String,
}

impl App {
    /// The links open now.
    pub fn links(&self) -> Result<Vec<LinkInfo>, AppError> {
        Ok(self
            .running()?
            .snapshot()?
            .links
            .into_iter()
            .map(|(face, kind, peer)| LinkInfo {
                face: face.0,
                kind: kind.to_owned(),
                peer,
            })
            .collect())
    }

    /// Starts watching the events of a run ([`Watch::run`]).
    pub fn watch(&self) -> Result<Watch<'_>, AppError> {
        Ok(Watch::new(self.running()?, Some(self.subscribe())))
    }

    /// Runs until `until` says so (or Ctrl-C), telling `tell` what happens from now on, and
    /// reports what the run did. Links brought up before keep running.
    pub fn run(
        &self,
        until: RunUntil,
        tell: &mut dyn FnMut(&AppEvent),
    ) -> Result<RunReport, AppError> {
        self.watch()?.run(until, tell)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::app::AppOptions;
    use crate::chat::ChatId;

    #[test]
    fn two_apps_run_until_synced_and_report_the_entries() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        for t in ["one", "two", "three"] {
            a.send(&ChatId::Public, t).unwrap();
        }
        let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
        b.chats()
            .add_contact(*a.fid(), Some("a"), crate::chat::contacts::TRUSTED)
            .unwrap();
        let l = a.listen_ws("127.0.0.1:0").unwrap();
        let watch = b.watch().unwrap();
        b.dial_ws(&format!("ws://{}", l.peer())).unwrap();
        let mut seen = Vec::new();
        let until = RunUntil::new(Some(Duration::from_secs(60)), true);
        let r = watch.run(until, &mut |e| seen.push(e.clone())).unwrap();
        assert_eq!(r.not_synced, None, "{r:?}");
        assert!(!r.interrupted);
        assert_eq!(r.entries_received, 3, "{r:?}");
        let held = r.feeds.iter().find(|f| f.fid == *a.fid()).map(|f| f.held);
        assert_eq!(held, Some(3));
        assert!(seen
            .iter()
            .any(|e| matches!(e, AppEvent::LinkUp { kind, .. } if kind == "ws")));
        let links = b.links().unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].kind, "ws");
    }

    #[test]
    fn a_watch_taken_before_the_links_misses_no_event() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(&dir.path().join("a"), AppOptions::default()).unwrap();
        let b = App::create(&dir.path().join("b"), AppOptions::default()).unwrap();
        let l = a.listen_ws("127.0.0.1:0").unwrap();
        let watch = b.watch().unwrap();
        // The link comes up (dial_ws returns once it has) well before the run begins.
        b.dial_ws(&format!("ws://{}", l.peer())).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let mut seen = Vec::new();
        let until = RunUntil::new(Some(Duration::from_millis(200)), false);
        watch.run(until, &mut |e| seen.push(e.clone())).unwrap();
        assert!(
            seen.iter()
                .any(|e| matches!(e, AppEvent::LinkUp { kind, .. } if kind == "ws")),
            "{seen:?}"
        );
    }

    #[test]
    fn a_run_alone_stops_on_its_deadline_not_synced() {
        let dir = tempfile::tempdir().unwrap();
        let a = App::create(dir.path(), AppOptions::default()).unwrap();
        let until = RunUntil::new(Some(Duration::from_millis(300)), true);
        let r = a.run(until, &mut |_| {}).unwrap();
        let why = r.not_synced.unwrap();
        assert!(why.contains("no peer's feed set matched ours"), "{why}");
        // A timeout too far for the clock means no deadline, never a panic.
        assert_eq!(RunUntil::new(Some(Duration::MAX), false).deadline, None);
    }
}
