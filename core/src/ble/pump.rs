//! Runs an open [`Connection`] as a face of a node: packets from the link go to the engine,
//! the engine's packets are written to the link, one write at a time, each acknowledged.
//!
//! The same pump serves the phone's side of a dongle link (through the supervisor) and the
//! dongle emulator's side of it. A notification that is no tinySSB packet (too short for a
//! DMX, or longer than 120 bytes) is counted and skipped; the link stays up. A refused or
//! unacknowledged write is counted; only several in a row, or the link going down, end it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;

use super::link::Connection;
use super::status::LinkHealth;
use super::LinkError;
use crate::clock::unix_ms;
use crate::node::Link;
use crate::sync::{FaceId, FaceProfile, Pace};
use crate::wire::{DMX_LEN, PKT_LEN};

/// The engine's view of a BLE link: moderate answers, chunks pushed, writes pace themselves
/// (each waits for its acknowledgement).
pub fn profile() -> FaceProfile {
    FaceProfile {
        credit: 32,
        max_queue: 256,
        pace: Pace::Unlimited,
        push_chunks: true,
        dedupe: true,
        resend_after: 3_000,
        repair_after: None,
    }
}

/// Pump settings.
#[derive(Debug, Clone)]
pub struct PumpConfig {
    /// A write not acknowledged within this counts as failed.
    pub write_timeout: Duration,
    /// This many failed writes in a row take the link down.
    pub max_failed_writes: u32,
    /// How often the signal strength is read.
    pub rssi_every: Duration,
}

impl Default for PumpConfig {
    fn default() -> Self {
        PumpConfig {
            write_timeout: Duration::from_secs(5),
            max_failed_writes: 3,
            rssi_every: Duration::from_secs(5),
        }
    }
}

/// Link figures shared between the pump and whoever reports them.
#[derive(Debug, Default)]
pub struct Meter(Mutex<LinkHealth>);

impl Meter {
    /// A copy of the figures.
    pub fn get(&self) -> LinkHealth {
        self.0.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Changes the figures.
    pub fn update(&self, f: impl FnOnce(&mut LinkHealth)) {
        if let Ok(mut h) = self.0.lock() {
            f(&mut h);
        }
    }
}

/// Whether a received value can be a tinySSB packet.
pub fn plausible(pkt: &[u8]) -> bool {
    (DMX_LEN..=PKT_LEN).contains(&pkt.len())
}

/// Moves packets between `conn` and the node until the link goes down or the node stops;
/// returns why it ended. `tap` sees every packet that reaches the engine.
pub async fn pump(
    conn: &mut Connection,
    face: FaceId,
    out: &mut mpsc::Receiver<Vec<u8>>,
    link: &Link,
    meter: &Meter,
    tap: &(dyn Fn(&[u8]) + Sync),
    cfg: &PumpConfig,
) -> String {
    let name = conn.info.name.clone();
    let source = &mut conn.source;
    let sink = &mut conn.sink;
    let inbound = async {
        loop {
            match source.recv().await {
                Ok(pkt) if plausible(&pkt) => {
                    meter.update(|h| {
                        h.packets_in += 1;
                        h.last_packet_unix_ms = Some(unix_ms());
                    });
                    tap(&pkt);
                    if !link.deliver(face, pkt).await {
                        return "the node has shut down".to_string();
                    }
                }
                Ok(bad) => {
                    meter.update(|h| h.bad_frames += 1);
                    tracing::debug!(%name, len = bad.len(), "skipped a value that is no tinySSB packet");
                }
                Err(LinkError::Down(why)) => return why,
                Err(e) => tracing::debug!(%name, %e, "receive error"),
            }
        }
    };
    let outbound = async {
        let mut failed_in_row = 0u32;
        let mut rssi_tick = tokio::time::interval(cfg.rssi_every);
        rssi_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let pkt = tokio::select! {
                p = out.recv() => match p {
                    Some(p) => p,
                    None => return "the node has shut down".to_string(),
                },
                _ = rssi_tick.tick() => {
                    if let Some(r) = sink.rssi().await {
                        meter.update(|h| h.rssi = Some(r));
                    }
                    continue;
                }
            };
            match tokio::time::timeout(cfg.write_timeout, sink.write(&pkt)).await {
                Ok(Ok(())) => {
                    failed_in_row = 0;
                    meter.update(|h| h.packets_out += 1);
                }
                Ok(Err(LinkError::Down(why))) => return why,
                Ok(Err(LinkError::TooLong { len, mtu })) => {
                    meter.update(|h| h.write_errors += 1);
                    tracing::warn!(%name, len, mtu, "packet too long for the link; not sent");
                }
                Ok(Err(e)) => {
                    failed_in_row += 1;
                    meter.update(|h| h.write_errors += 1);
                    tracing::debug!(%name, %e, failed_in_row, "write failed");
                    if failed_in_row >= cfg.max_failed_writes {
                        return format!("{failed_in_row} writes in a row failed ({e})");
                    }
                }
                Err(_) => {
                    failed_in_row += 1;
                    meter.update(|h| h.write_errors += 1);
                    if failed_in_row >= cfg.max_failed_writes {
                        return format!("{failed_in_row} writes in a row were not acknowledged");
                    }
                }
            }
        }
    };
    tokio::select! {
        why = inbound => why,
        why = outbound => why,
    }
}

/// Runs `conn` as a face of the node behind `link` until the link goes down or the node
/// stops, with default pump settings: registers the face (`kind`, peer named after the
/// link), pumps, unregisters, closes the link. Returns why it ended. This is how a link
/// opened elsewhere (a phone-to-phone link from native peripheral code) joins a node.
pub async fn run(link: Link, mut conn: Connection, kind: &'static str) -> String {
    let peer = format!("{} ({})", conn.info.name, conn.info.id);
    let Ok((face, mut out)) = link.register(kind, peer, profile()).await else {
        return "the node has shut down".to_string();
    };
    let meter = Meter::default();
    let why = pump(
        &mut conn,
        face,
        &mut out,
        &link,
        &meter,
        &|_| {},
        &PumpConfig::default(),
    )
    .await;
    link.unregister(face, why.clone());
    conn.sink.close().await;
    why
}
