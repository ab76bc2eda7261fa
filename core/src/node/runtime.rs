//! The node's tasks: the engine task (commands, packets, timers) and the group-commit
//! flusher. The engine's clock is milliseconds since the task started.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tokio::time::Instant;

use super::events::NodeEvent;
use super::links::Registry;
use super::Snapshot;
use crate::identity::FeedId;
use crate::store::Store;
use crate::sync::goset::Added;
use crate::sync::{Engine, Event, FaceId, FaceProfile};

/// What the node's handles ask the engine task.
pub(crate) enum Cmd {
    AddFace {
        kind: &'static str,
        peer: String,
        profile: FaceProfile,
        tx: mpsc::Sender<Vec<u8>>,
        reply: oneshot::Sender<FaceId>,
    },
    RemoveFace(FaceId, String),
    AddFeed(
        FeedId,
        oneshot::Sender<Result<Added, crate::store::StoreError>>,
    ),
    Refresh(FeedId),
    SetOwn(FeedId),
    Snapshot(oneshot::Sender<Snapshot>),
    /// A face's progress or health report, broadcast in order with registrations.
    Report(NodeEvent),
    Shutdown(oneshot::Sender<()>),
}

/// How often accepted data is also synced to survive a power loss.
const SYNC_INTERVAL: Duration = Duration::from_secs(5);

/// Group commit: after data is accepted, waits one window and flushes (safe against a killed
/// process), and at most every [`SYNC_INTERVAL`] syncs (safe against power loss); off the
/// engine task, so that ingest never waits for the disk.
pub(super) async fn flusher(store: Arc<dyn Store>, dirty: Arc<Notify>, window: Duration) {
    let mut last_sync = Instant::now();
    loop {
        dirty.notified().await;
        tokio::time::sleep(window).await;
        let s = store.clone();
        let sync = last_sync.elapsed() >= SYNC_INTERVAL;
        if sync {
            last_sync = Instant::now();
        }
        match tokio::task::spawn_blocking(move || if sync { s.sync() } else { s.flush() }).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(%e, "store flush failed"),
            Err(_) => return,
        }
    }
}

/// The engine and the faces attached to it.
pub(super) struct EngineTask {
    pub(super) engine: Engine,
    pub(super) store: Arc<dyn Store>,
    pub(super) faces: Registry,
    pub(super) events: broadcast::Sender<NodeEvent>,
    pub(super) dirty: Arc<Notify>,
}

impl EngineTask {
    pub(super) async fn run(
        mut self,
        mut cmd_rx: mpsc::UnboundedReceiver<Cmd>,
        mut in_rx: mpsc::Receiver<(FaceId, Vec<u8>)>,
    ) {
        let start = Instant::now();
        let ms = |t: Instant| t.duration_since(start).as_millis() as u64;
        let mut batch: Vec<(FaceId, Vec<u8>)> = Vec::new();
        let done = loop {
            // Nothing due (no face): sleep until a command or a packet comes.
            let wakeup = self.engine.next_wakeup();
            let deadline = (wakeup != u64::MAX)
                .then(|| start.checked_add(Duration::from_millis(wakeup)))
                .flatten();
            let timer = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    None => break None,
                    Some(Cmd::Shutdown(reply)) => break Some(reply),
                    Some(c) => self.command(c, ms(Instant::now())),
                },
                got = in_rx.recv() => {
                    let Some(first) = got else { break None };
                    batch.push(first);
                    while batch.len() < 1024 {
                        match in_rx.try_recv() {
                            Ok(x) => batch.push(x),
                            Err(_) => break,
                        }
                    }
                    let now = ms(Instant::now());
                    // Hand over consecutive packets of one face together (batch verification).
                    let mut i = 0;
                    while i < batch.len() {
                        let face = batch[i].0;
                        let j = batch[i..].iter().position(|(f, _)| *f != face).map_or(batch.len(), |k| i + k);
                        let pkts: Vec<&[u8]> = batch[i..j].iter().map(|(_, p)| p.as_slice()).collect();
                        self.engine.on_packets(face, &pkts, now);
                        i = j;
                    }
                    batch.clear();
                }
                () = timer => {}
            }
            let now = Instant::now();
            for out in self.engine.poll(ms(now)) {
                self.faces.send(out.face, out.pkt);
            }
            for e in self.engine.take_events() {
                if matches!(e, Event::EntryAdded { .. } | Event::ChainComplete { .. }) {
                    self.dirty.notify_one();
                }
                let _ = self.events.send(NodeEvent::Sync(e));
            }
        };
        self.flush();
        self.faces.clear();
        if let Some(reply) = done {
            let _ = reply.send(());
        }
    }

    fn flush(&self) {
        let store = self.store.clone();
        let r = tokio::task::block_in_place(move || store.sync());
        if let Err(e) = r {
            tracing::warn!(%e, "store flush failed");
        }
    }

    fn command(&mut self, c: Cmd, now: u64) {
        match c {
            Cmd::AddFace {
                kind,
                peer,
                profile,
                tx,
                reply,
            } => {
                let face = self.faces.add(kind, peer, tx);
                self.engine.add_face(face, profile);
                let _ = reply.send(face);
            }
            Cmd::RemoveFace(face, reason) => {
                self.engine.remove_face(face);
                self.faces.remove(face, reason);
            }
            Cmd::AddFeed(fid, reply) => {
                let _ = reply.send(self.engine.add_feed(fid));
            }
            Cmd::SetOwn(fid) => self.engine.set_own_feed(fid),
            Cmd::Refresh(fid) => {
                if let Err(e) = self.engine.refresh_feed(&fid) {
                    tracing::warn!(%e, "refreshing a feed failed");
                }
            }
            Cmd::Snapshot(reply) => {
                let idle = now.saturating_sub(self.engine.last_activity());
                let _ = reply.send(Snapshot {
                    progress: self.engine.progress(),
                    stats: self.engine.stats().clone(),
                    idle: Duration::from_millis(idle),
                    goset_agreed: self
                        .engine
                        .goset_agreed_at()
                        .map(|t| Duration::from_millis(now.saturating_sub(t))),
                    links: self.faces.list(),
                    goset_len: self.engine.goset().len(),
                    goset_xor: self.engine.goset().state(),
                });
            }
            Cmd::Report(e) => {
                let _ = self.events.send(e);
            }
            Cmd::Shutdown(_) => {}
        }
    }
}
