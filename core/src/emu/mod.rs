//! A dongle emulator: behaves like a tinySSB LoRa dongle running the ESP32 "loramesh"
//! firmware, for tests and for `lichen dongle-emu`.
//!
//! Like the firmware it is a full tinySSB peer, not a modem: a node (the same sans-IO
//! engine, with the firmware's timers and its 100-feed cap) that stores and forwards feeds.
//! Everything it sends goes through the firmware's slot scheduler ([`sched`]: a slot every
//! 250–549 ms, at most 10 packets waiting, duplicates dropped). On LoRa ([`radio`]) frames
//! carry `packet ‖ CRC-32`, on the simulated channel or over UDP between processes; on BLE
//! ([`gatt`]) it serves the tinySSB GATT service over a local socket, one packet per write or
//! notification, to at most three centrals.
//!
//! What it does not emulate: the peer-ping packets, the statistics characteristic, the
//! firmware's 3-packet BLE input ring, flash limits, and its rule of sending WANT/CHNK only
//! while "in sync" (the engine always sends them).

pub mod gatt;
pub mod radio;
pub mod sched;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info_span, Instrument};

use self::radio::Radio;
use self::sched::SlotScheduler;
use crate::node::Link;
use crate::node::{Node, NodeConfig, NodeError};
use crate::store::{MemoryStore, Store};
use crate::sync::{Config, FaceId, FaceProfile, Pace};
use crate::wire::frame;
use crate::wire::network::Network;

/// The firmware's engine timers: a full claim every 20 s, WANT/CHNK every 1.5 s + up to
/// 0.5 s (1.75 s here), no early re-request, at most 100 feeds.
pub fn firmware_config() -> Config {
    Config {
        goset_interval: 20_000,
        want_interval: 1_750,
        quiet_before_rewant: u64::MAX,
        ..Config::default()
    }
}

/// How the firmware answers on any face: 5 packets per request, chunks only when asked,
/// the scheduler does the pacing.
pub fn dongle_profile() -> FaceProfile {
    FaceProfile {
        credit: 5,
        max_queue: 64,
        pace: Pace::Unlimited,
        push_chunks: false,
        dedupe: true,
        resend_after: 0,
        repair_after: None,
    }
}

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct EmuConfig {
    /// Advertised name (`tinySSB-xxxx`).
    pub name: String,
    /// Where the BLE side listens (TCP, loopback).
    pub ble_listen: String,
    /// The dongle's ATT MTU (the firmware sets 128).
    pub mtu: u16,
    /// Whether the GATT table has the tinySSB service (false: "other firmware").
    pub with_service: bool,
    /// Signal strength a central sees, dBm.
    pub rssi: i8,
    /// Most centrals at once (the firmware stops advertising at 3).
    pub max_centrals: usize,
    /// Engine timers and the feed cap.
    pub engine: Config,
    /// Seed of the engine and the scheduler.
    pub seed: u64,
}

impl EmuConfig {
    /// A dongle named after `seed` (`tinySSB-` and four hex digits), listening on a free
    /// loopback port.
    pub fn new(seed: u64) -> EmuConfig {
        EmuConfig {
            name: format!("{}{:04x}", crate::ble::NAME_PREFIX, seed & 0xffff),
            ble_listen: "127.0.0.1:0".into(),
            mtu: 128,
            with_service: true,
            rssi: -60,
            max_centrals: 3,
            engine: firmware_config(),
            seed,
        }
    }
}

/// Why an emulator could not start.
#[derive(Debug, Error)]
pub enum EmuError {
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The BLE socket could not be opened.
    #[error("opening the BLE socket on {addr}: {err}")]
    Listen {
        /// The address.
        addr: String,
        /// The error.
        err: std::io::Error,
    },
}

/// State the emulator's tasks share.
pub(crate) struct Shared {
    pub(crate) cfg: EmuConfig,
    pub(crate) link: Link,
    rt: tokio::runtime::Handle,
    pub(crate) ble_on: watch::Sender<bool>,
    sched: Mutex<SlotScheduler>,
    wires: Mutex<BTreeMap<FaceId, mpsc::Sender<Vec<u8>>>>,
    start: Instant,
}

impl Shared {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Routes a face's output through the scheduler; returns what the face should send.
    pub(crate) fn attach(
        self: &Arc<Self>,
        face: FaceId,
        mut out: mpsc::Receiver<Vec<u8>>,
    ) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel(16);
        if let Ok(mut w) = self.wires.lock() {
            w.insert(face, tx);
        }
        let me = self.clone();
        self.rt.spawn(async move {
            while let Some(pkt) = out.recv().await {
                if let Ok(mut s) = me.sched.lock() {
                    s.push(pkt, face);
                }
            }
        });
        rx
    }

    /// A face is gone.
    pub(crate) fn detach(&self, face: FaceId) {
        if let Ok(mut w) = self.wires.lock() {
            w.remove(&face);
        }
        if let Ok(mut s) = self.sched.lock() {
            s.remove_face(face);
        }
    }

    /// Sends what each slot carries, forever.
    async fn slots(self: Arc<Self>) {
        loop {
            let next = self.sched.lock().map_or(0, |s| s.next_slot());
            tokio::time::sleep_until(self.start + Duration::from_millis(next)).await;
            let due = self.sched.lock().ok().and_then(|mut s| s.tick(self.now()));
            let Some((pkt, faces)) = due else { continue };
            let Ok(wires) = self.wires.lock() else {
                continue;
            };
            for f in faces {
                if let Some(w) = wires.get(&f) {
                    if w.try_send(pkt.clone()).is_err() {
                        debug!(face = ?f, "face busy; slot packet dropped");
                    }
                }
            }
        }
    }
}

/// A running emulated dongle.
pub struct Emulator {
    node: Node,
    shared: Arc<Shared>,
    ble_addr: SocketAddr,
}

impl Emulator {
    /// Starts a dongle with an empty store on `radio`.
    pub fn start(cfg: EmuConfig, radio: Radio) -> Result<Emulator, EmuError> {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new_empty());
        let node = Node::start(
            store,
            NodeConfig {
                net: Network::deployed(),
                engine: cfg.engine.clone(),
                seed: cfg.seed,
                ..NodeConfig::default()
            },
        )?;
        let addr = cfg.ble_listen.clone();
        let listener = node
            .handle()
            .block_on(tokio::net::TcpListener::bind(&addr))
            .map_err(|err| EmuError::Listen {
                addr: addr.clone(),
                err,
            })?;
        let ble_addr = listener
            .local_addr()
            .map_err(|err| EmuError::Listen { addr, err })?;
        let shared = Arc::new(Shared {
            sched: Mutex::new(SlotScheduler::new(0, cfg.seed ^ 0x5c4ed)),
            wires: Mutex::new(BTreeMap::new()),
            ble_on: watch::channel(true).0,
            start: Instant::now(),
            link: node.link(),
            rt: node.handle(),
            cfg,
        });
        let rt = node.handle();
        let span = info_span!("dongle-emu", name = %shared.cfg.name);
        rt.spawn(shared.clone().slots().instrument(span.clone()));
        rt.spawn(gatt::serve(listener, shared.clone()).instrument(span.clone()));
        if !matches!(radio, Radio::Off) {
            rt.spawn(lora_face(radio, shared.clone()).instrument(span));
        }
        Ok(Emulator {
            node,
            shared,
            ble_addr,
        })
    }

    /// Where centrals connect.
    pub fn ble_addr(&self) -> SocketAddr {
        self.ble_addr
    }

    /// The advertised name.
    pub fn name(&self) -> &str {
        &self.shared.cfg.name
    }

    /// The dongle's node (its store, events, snapshot).
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Stops the dongle (its node, radio and BLE side).
    pub fn shutdown(self) {
        self.node.shutdown(Duration::from_secs(2));
    }

    /// Switches the BLE side off (every central is dropped and new ones fail, as when the
    /// phone walks out of range) or on again.
    pub fn set_ble(&self, on: bool) {
        self.shared.ble_on.send_replace(on);
    }
}

/// The LoRa face: slot packets go on air with their CRC; frames heard go to the engine
/// (a frame with a bad CRC is dropped, as by the firmware).
async fn lora_face(mut radio: Radio, shared: Arc<Shared>) {
    let link: Link = shared.link.clone();
    let Ok((face, out)) = link.register("lora", "air".into(), dongle_profile()).await else {
        return;
    };
    let mut wire = shared.attach(face, out);
    loop {
        tokio::select! {
            pkt = wire.recv() => {
                let Some(pkt) = pkt else { break };
                radio.send(frame::frame(&pkt)).await;
            }
            got = radio.recv() => {
                let Some(f) = got else { break };
                match frame::unframe(&f) {
                    Ok(pkt) => {
                        if !link.deliver(face, pkt.to_vec()).await {
                            break;
                        }
                    }
                    Err(e) => debug!(%e, "dropped a LoRa frame"),
                }
            }
        }
    }
    shared.detach(face);
    link.unregister(face, "radio stopped".into());
}
