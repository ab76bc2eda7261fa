//! The one link interface every BLE-like transport implements.
//!
//! A [`Central`] scans for devices offering the tinySSB service and opens links to them. An
//! open link is a [`Connection`]: its [`PacketSink`] writes one packet per GATT write, with
//! response (the next write waits for the acknowledgement, so writes pace themselves); its
//! [`PacketSource`] yields one packet per notification and ends with [`LinkError::Down`] when
//! the link goes down. The halves are separate so a face can wait on both at once.
//!
//! The traits return boxed futures so they can be used as trait objects
//! (`Arc<dyn Central>`): the supervisor and the pairing API hold whichever central the build
//! and the user chose.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{BleError, LinkError, ATT_HEADER, MIN_MTU};

/// A boxed, sendable future (what the link traits return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A device seen in a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// How to reach it again (a BlueZ device path, a platform id, an emulator address).
    pub id: String,
    /// Its advertised name (`tinySSB-xxxx` for dongles).
    pub name: String,
    /// Received signal strength, dBm.
    pub rssi: Option<i16>,
}

/// What is known about an open link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The device's id.
    pub id: String,
    /// The device's name.
    pub name: String,
    /// The negotiated ATT MTU.
    pub mtu: usize,
}

impl LinkInfo {
    /// Bytes one write or notification carries (MTU − 3).
    pub fn payload(&self) -> usize {
        self.mtu.saturating_sub(ATT_HEADER)
    }
}

/// The sending half of a link.
pub trait PacketSink: Send {
    /// Writes one packet and waits until the peer acknowledged it.
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>>;
    /// The signal strength now, if the transport can tell.
    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>>;
    /// Disconnects.
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// The receiving half of a link.
pub trait PacketSource: Send {
    /// The next packet; [`LinkError::Down`] once the link is gone (and ever after).
    fn recv(&mut self) -> BoxFuture<'_, Result<Vec<u8>, LinkError>>;
}

/// Why a link went down, shared by its halves: the first reason recorded wins.
#[derive(Debug, Clone, Default)]
pub struct DownReason(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl DownReason {
    /// Records `why` unless a reason is already recorded.
    pub fn set(&self, why: impl Into<String>) {
        if let Ok(mut r) = self.0.lock() {
            r.get_or_insert_with(|| why.into());
        }
    }

    /// Whether the link is down (a poisoned lock counts as down).
    pub fn is_set(&self) -> bool {
        self.0.lock().map(|r| r.is_some()).unwrap_or(true)
    }

    /// The error a half of the link reports once it is down.
    pub fn error(&self) -> LinkError {
        LinkError::Down(
            self.0
                .lock()
                .ok()
                .and_then(|r| r.clone())
                .unwrap_or_else(|| "disconnected".into()),
        )
    }
}

/// A [`PacketSource`] fed by a task that reads the transport into a channel.
pub struct ChannelSource {
    /// Packets from the reading task.
    pub rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    /// Why the link ended, once it has.
    pub reason: DownReason,
}

impl PacketSource for ChannelSource {
    fn recv(&mut self) -> BoxFuture<'_, Result<Vec<u8>, LinkError>> {
        Box::pin(async move { self.rx.recv().await.ok_or_else(|| self.reason.error()) })
    }
}

/// An open link.
pub struct Connection {
    /// What it is.
    pub info: LinkInfo,
    /// Writes.
    pub sink: Box<dyn PacketSink>,
    /// Notifications.
    pub source: Box<dyn PacketSource>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Finds devices and opens links to them.
pub trait Central: Send + Sync {
    /// What the pairing flow calls this transport (`bluetooth`, `emulator`, `in-process`).
    fn kind(&self) -> &'static str;
    /// Devices offering the tinySSB service, seen within `within`.
    fn scan(&self, within: Duration) -> BoxFuture<'_, Result<Vec<Advert>, BleError>>;
    /// Connects to `id`, exchanges the MTU, checks the service and subscribes to TX. Callers
    /// use [`connect`], which adds the timeout and the MTU check.
    fn open<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Connection, BleError>>;
}

/// Opens a link to `id` within `timeout` and checks that its MTU carries a whole packet
/// (a link that does not is closed again and reported as [`BleError::MtuTooSmall`]).
pub async fn connect(
    central: &dyn Central,
    id: &str,
    name: &str,
    timeout: Duration,
) -> Result<Connection, BleError> {
    let mut conn = match tokio::time::timeout(timeout, central.open(id)).await {
        Ok(Err(BleError::DeviceGone { .. })) if !name.is_empty() => {
            return Err(BleError::DeviceGone {
                name: name.to_owned(),
            })
        }
        Ok(r) => r?,
        Err(_) => {
            return Err(BleError::Timeout {
                name: name.to_owned(),
                ms: timeout.as_millis() as u64,
            })
        }
    };
    if let Err(e) = check_mtu(&conn.info) {
        tracing::debug!(id, %e, "closing a link whose MTU is too small");
        conn.sink.close().await;
        return Err(e);
    }
    if conn.info.name.is_empty() {
        conn.info.name = name.to_owned();
    }
    Ok(conn)
}

/// [`BleError::MtuTooSmall`] unless the link carries a 120-byte packet per write.
pub fn check_mtu(info: &LinkInfo) -> Result<(), BleError> {
    if info.mtu < MIN_MTU {
        return Err(BleError::MtuTooSmall {
            name: if info.name.is_empty() {
                info.id.clone()
            } else {
                info.name.clone()
            },
            mtu: info.mtu,
            payload: info.payload(),
        });
    }
    Ok(())
}
