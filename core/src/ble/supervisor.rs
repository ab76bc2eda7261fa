//! The link supervisor: keeps one paired dongle connected, forever.
//!
//! After every disconnect (or failed attempt) it waits as the [`Backoff`] policy says, then
//! finds the device again, reconnects, checks the MTU and re-subscribes (all inside
//! [`link::connect`]), and registers a fresh face with the node. It reports link health,
//! connection changes and whether the GOsets agree as [`DongleEvent`]s (the detail of the
//! generic link-status event, kind [`KIND`]), keeps a
//! [`DongleStatus`] (also written to the data directory for `lichen dongle status`), and
//! stops only when the dongle is unpaired (here, or by another process removing the
//! pairing record) or the node shuts down.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, info_span, Instrument};

use super::link::{self, Central, Connection};
use super::pairing;
use super::pump::{self, Meter, PumpConfig};
use super::status::{DongleEvent, DongleStatus, LinkPhase, KIND};
use super::syncwatch::{SyncWatch, DEFAULT_GRACE};
use crate::backoff::{Backoff, BackoffConfig};
use crate::clock::unix_ms;
use crate::node::{Link, LinkDetail, Node};
use crate::sync::goset::MAX_KEYS;
use crate::sync::{FaceId, Millis};
use crate::wire::network::Network;

/// Supervisor settings.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// The dongle's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Backoff between attempts ([`BackoffConfig::dongle`] by default).
    pub policy: BackoffConfig,
    /// Longest wait for one connection attempt.
    pub connect_timeout: Duration,
    /// How often health is reported while connected.
    pub health_every: Duration,
    /// How long the GOsets may differ before the state says "stalled".
    pub sync_grace: Millis,
    /// Most feeds the dongle holds (100 on deployed firmware).
    pub dongle_cap: usize,
    /// The data directory: the status file is written there, and the supervisor stops when
    /// the pairing record there no longer names this dongle.
    pub data_dir: Option<PathBuf>,
    /// The network (GOset DMX).
    pub net: Network,
    /// Seed of the backoff jitter.
    pub seed: u64,
    /// Write timeouts and tolerance.
    pub pump: PumpConfig,
}

impl SupervisorConfig {
    /// Defaults for the dongle `id` named `name`.
    pub fn new(id: &str, name: &str) -> SupervisorConfig {
        let mut seed = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
        SupervisorConfig {
            id: id.to_owned(),
            name: name.to_owned(),
            policy: BackoffConfig::dongle(),
            connect_timeout: Duration::from_secs(15),
            health_every: Duration::from_secs(5),
            sync_grace: DEFAULT_GRACE,
            dongle_cap: MAX_KEYS,
            data_dir: None,
            net: Network::deployed(),
            seed: u64::from_le_bytes(seed),
            pump: PumpConfig::default(),
        }
    }
}

/// A running supervisor. Dropping it does not stop it; [`DongleLink::unpair`] or the node's
/// shutdown does.
pub struct DongleLink {
    stop: watch::Sender<Option<String>>,
    status: watch::Receiver<DongleStatus>,
    task: JoinHandle<()>,
}

impl DongleLink {
    /// Starts supervising `cfg.id` for `node` over `central`.
    pub fn start(node: &Node, central: Arc<dyn Central>, cfg: SupervisorConfig) -> DongleLink {
        DongleLink::spawn(&node.handle(), node.link(), central, cfg)
    }

    /// Like [`DongleLink::start`], for callers holding a runtime handle and a node link.
    pub fn spawn(
        rt: &tokio::runtime::Handle,
        link: Link,
        central: Arc<dyn Central>,
        cfg: SupervisorConfig,
    ) -> DongleLink {
        let (stop, stop_rx) = watch::channel(None);
        let (status_tx, status) = watch::channel(DongleStatus::new(&cfg.id, &cfg.name));
        let span = info_span!("dongle", name = %cfg.name);
        let sup = Supervisor {
            link,
            central,
            meter: Arc::new(Meter::default()),
            status: status_tx,
            stop: stop_rx,
            started: Instant::now(),
            cfg,
        };
        let task = rt.spawn(sup.run().instrument(span));
        DongleLink { stop, status, task }
    }

    /// The current status.
    pub fn status(&self) -> DongleStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change.
    pub fn watch(&self) -> watch::Receiver<DongleStatus> {
        self.status.clone()
    }

    /// Stops for good: disconnects and retries no more.
    pub fn unpair(&self) {
        let _ = self.stop.send(Some("unpaired".into()));
    }

    /// Whether the supervisor has stopped.
    pub fn is_stopped(&self) -> bool {
        self.task.is_finished()
    }
}

struct Supervisor {
    link: Link,
    central: Arc<dyn Central>,
    meter: Arc<Meter>,
    status: watch::Sender<DongleStatus>,
    stop: watch::Receiver<Option<String>>,
    started: Instant,
    cfg: SupervisorConfig,
}

impl Supervisor {
    fn now(&self) -> Millis {
        self.started.elapsed().as_millis() as u64
    }

    /// The link's peer label (the same as its face's once connected).
    fn peer(&self) -> String {
        format!("{} ({})", self.cfg.name, self.cfg.id)
    }

    fn emit(&self, face: Option<FaceId>, e: DongleEvent) {
        let health = matches!(e, DongleEvent::Health { .. });
        let detail = LinkDetail::new(e);
        if health {
            self.link.health(KIND, self.peer(), face, detail);
        } else {
            self.link.progress(KIND, self.peer(), face, detail);
        }
    }

    fn publish(&self, f: impl FnOnce(&mut DongleStatus)) {
        let health = self.meter.get();
        self.status.send_modify(|s| {
            f(s);
            s.health = health;
            s.updated_unix_ms = unix_ms();
        });
        if let Some(dir) = &self.cfg.data_dir {
            let s = self.status.borrow().clone();
            if let Err(e) = s.save(&dir.join(pairing::STATUS_FILE)) {
                debug!(%e, "could not write the dongle status file");
            }
        }
    }

    /// Why to stop, if the dongle was unpaired here or in the data directory.
    fn stop_reason(&self) -> Option<String> {
        if let Some(r) = self.stop.borrow().clone() {
            return Some(r);
        }
        let dir = self.cfg.data_dir.as_ref()?;
        match pairing::paired_in(dir) {
            Ok(Some(p)) if p.id == self.cfg.id => None,
            Ok(_) => Some("unpaired".into()),
            Err(_) => None, // a half-written record: look again later
        }
    }

    async fn run(mut self) {
        let mut rc = Backoff::new(self.cfg.policy, self.cfg.seed);
        let reason = loop {
            if let Some(r) = self.stop_reason() {
                break r;
            }
            self.publish(|s| {
                s.phase = LinkPhase::Connecting;
                s.next_attempt_unix_ms = None;
            });
            let (id, name) = (self.cfg.id.clone(), self.cfg.name.clone());
            let attempt =
                link::connect(self.central.as_ref(), &id, &name, self.cfg.connect_timeout);
            let mut stop = self.stop.clone();
            let result = tokio::select! {
                r = attempt => r,
                _ = stop.changed() => continue,
            };
            let retry_at = match result {
                Ok(conn) => {
                    rc.healthy(self.now());
                    let Some(why) = self.serve(conn).await else {
                        break "the node has shut down".into();
                    };
                    let Some(wait) = rc.retry_delay(self.now()) else {
                        break why;
                    };
                    let wait = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    let at = self.now().saturating_add(wait);
                    info!(reason = %why, retry_in_ms = wait, "dongle link down");
                    self.publish(|s| {
                        s.phase = LinkPhase::Waiting;
                        s.last_error = Some(format!("link lost: {why}"));
                        s.next_attempt_unix_ms = Some(unix_ms().saturating_add(wait));
                    });
                    self.emit(
                        None,
                        DongleEvent::Disconnected {
                            id: id.clone(),
                            reason: why.clone(),
                            retry_in_ms: wait,
                        },
                    );
                    at
                }
                Err(error) => {
                    let Some(wait) = rc.retry_delay(self.now()) else {
                        break "unpaired".into();
                    };
                    let wait = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    let at = self.now().saturating_add(wait);
                    debug!(%error, retry_in_ms = wait, "connecting to the dongle failed");
                    self.publish(|s| {
                        s.phase = LinkPhase::Waiting;
                        s.last_error = Some(error.to_string());
                        s.next_attempt_unix_ms = Some(unix_ms().saturating_add(wait));
                    });
                    self.emit(
                        None,
                        DongleEvent::ConnectFailed {
                            id: id.clone(),
                            error,
                            retry_in_ms: wait,
                        },
                    );
                    at
                }
            };
            // Wait, looking for an unpair now and then.
            while self.now() < retry_at {
                if self.stop_reason().is_some() {
                    break;
                }
                let step = retry_at.saturating_sub(self.now()).min(1_000);
                let mut stop = self.stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(step)) => {}
                    _ = stop.changed() => {}
                }
            }
        };
        rc.stop();
        info!(%reason, "dongle supervisor stopped");
        self.publish(|s| {
            s.phase = LinkPhase::Stopped;
            s.next_attempt_unix_ms = None;
        });
        if reason == "unpaired" {
            if let Some(dir) = &self.cfg.data_dir {
                let _ = std::fs::remove_file(dir.join(pairing::STATUS_FILE));
            }
        }
        self.emit(
            None,
            DongleEvent::Stopped {
                id: self.cfg.id.clone(),
                reason,
            },
        );
    }

    /// Runs one connection as a face; returns why it ended (`None`: the node is gone).
    async fn serve(&mut self, mut conn: Connection) -> Option<String> {
        let peer = format!("{} ({})", conn.info.name, conn.info.id);
        let (face, mut out) = self.link.register(KIND, peer, pump::profile()).await.ok()?;
        let rssi = conn.sink.rssi().await;
        let mtu = conn.info.mtu;
        self.meter.update(|h| {
            h.connected = true;
            h.mtu = Some(mtu);
            h.rssi = rssi.or(h.rssi);
            h.connects += 1;
        });
        info!(mtu, ?rssi, "dongle connected");
        self.publish(|s| {
            s.phase = LinkPhase::Connected;
            s.last_error = None;
        });
        self.emit(
            Some(face),
            DongleEvent::Connected {
                id: self.cfg.id.clone(),
                name: conn.info.name.clone(),
                face,
                mtu,
            },
        );
        let watch = Mutex::new(SyncWatch::new(
            self.cfg.net.clone(),
            self.cfg.sync_grace,
            self.cfg.dongle_cap,
        ));
        let started = self.started;
        let tap = |pkt: &[u8]| {
            if let Ok(mut w) = watch.lock() {
                w.on_packet(pkt, started.elapsed().as_millis() as u64);
            }
        };
        let link = self.link.clone();
        let meter = self.meter.clone();
        let pump_cfg = self.cfg.pump.clone();
        let pump = pump::pump(&mut conn, face, &mut out, &link, &meter, &tap, &pump_cfg);
        let mut stop = self.stop.clone();
        let why = tokio::select! {
            why = pump => why,
            why = self.report(face, &watch) => why,
            _ = stop.changed() => "unpaired".to_string(),
        };
        self.link.unregister(face, why.clone());
        conn.sink.close().await;
        self.meter.update(|h| h.connected = false);
        Some(why)
    }

    /// Every second: compares GOsets, notices an unpair; every `health_every`: reports
    /// health and writes the status. Returns only to end the connection.
    async fn report(&self, face: FaceId, watch: &Mutex<SyncWatch>) -> String {
        let mut last_health = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some(r) = self.stop_reason() {
                return r;
            }
            let Some(snap) = self.link.snapshot().await else {
                return "the node has shut down".into();
            };
            let changed = watch.lock().ok().and_then(|mut w| {
                w.set_ours(snap.goset_len, snap.goset_xor);
                w.poll(self.now())
            });
            if let Some(state) = changed {
                info!(state = %state.describe(), "dongle sync state");
                self.publish(|s| s.sync = state.clone());
                self.emit(
                    Some(face),
                    DongleEvent::Sync {
                        id: self.cfg.id.clone(),
                        state,
                    },
                );
            }
            if last_health.elapsed() >= self.cfg.health_every {
                last_health = Instant::now();
                self.publish(|_| {});
                self.emit(
                    Some(face),
                    DongleEvent::Health {
                        id: self.cfg.id.clone(),
                        health: self.meter.get(),
                    },
                );
            }
        }
    }
}
