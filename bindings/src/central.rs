//! The phone's own Bluetooth as Lichen's BLE central: Android (`BluetoothGatt`) and iOS
//! (`CBCentralManager`) code implements [`BleCentral`]; [`ForeignCentral`] adapts it onto
//! core's `Central`, so pairing, the reconnect-forever supervisor, link health and "dongle
//! full" detection run unchanged on phones.
//!
//! Foreign calls are blocking (`open` returns once connected, the MTU exchanged, the
//! tinySSB service found and TX subscribed; `write` once the write was answered); Lichen
//! makes them on the runtime's blocking pool. Scan results and notifications come in through
//! Rust objects ([`ScanSink`], [`GattSink`]) from any thread, as the platform delivers them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lichen::ble::link::{
    Advert, BoxFuture, Central, ChannelSource, Connection, DownReason, LinkInfo, PacketSink,
};
use lichen::ble::{BleError, LinkError};
use tokio::sync::mpsc;

use crate::errors::CallbackError;

/// Notifications queued towards the link before more are dropped (tinySSB repairs losses).
const NOTIFY_QUEUE: usize = 1024;

/// The Bluetooth adapter's state, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AdapterState {
    /// On and usable.
    PoweredOn,
    /// Switched off.
    PoweredOff,
    /// The app lacks the Bluetooth permission.
    Unauthorized,
    /// No Bluetooth LE on this device.
    Unsupported,
}

/// Why a foreign `open` failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum OpenError {
    /// The device did not answer (out of range, off, busy).
    #[error("{reason}")]
    DeviceGone {
        /// What the platform said.
        reason: String,
    },
    /// The device lacks the tinySSB service or one of its characteristics.
    #[error("{missing}")]
    ServiceMissing {
        /// What is missing.
        missing: String,
    },
    /// The app lacks the permission.
    #[error("{reason}")]
    PermissionMissing {
        /// What the platform said.
        reason: String,
    },
    /// Anything else (including an exception in the foreign code).
    #[error("{reason}")]
    Failed {
        /// What happened.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for OpenError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        OpenError::Failed { reason: e.reason }
    }
}

/// Implemented by the app's Bluetooth code.
#[uniffi::export(callback_interface)]
pub trait BleCentral: Send + Sync {
    /// The adapter's state now.
    fn adapter_state(&self) -> AdapterState;
    /// Starts scanning for devices offering the tinySSB service
    /// (`6e400001-7646-4b5b-9a50-71becce51558`); report each one to `sink` as it is seen.
    fn start_scan(&self, sink: Arc<ScanSink>) -> Result<(), CallbackError>;
    /// Stops the scan.
    fn stop_scan(&self);
    /// Connects to `device_id`, asks for an MTU of 128 or more, checks the tinySSB service
    /// (RX written with response, TX notified) and subscribes to TX; returns the MTU. Hand
    /// every TX notification to `sink.notified` and the link's loss to `sink.disconnected`.
    fn connect(&self, device_id: String, sink: Arc<GattSink>) -> Result<u32, OpenError>;
    /// Writes `value` to RX with response; returns once answered.
    fn write(&self, device_id: String, value: Vec<u8>) -> Result<(), CallbackError>;
    /// Disconnects `device_id`.
    fn close(&self, device_id: String);
}

/// Where the app's scan reports devices.
#[derive(uniffi::Object)]
pub struct ScanSink {
    found: Mutex<Vec<Advert>>,
}

#[uniffi::export]
impl ScanSink {
    /// A device was seen (again): its id, advertised name and signal strength.
    pub fn found(&self, device_id: String, name: String, rssi: Option<i16>) {
        if let Ok(mut f) = self.found.lock() {
            match f.iter_mut().find(|a| a.id == device_id) {
                Some(a) => {
                    a.rssi = rssi.or(a.rssi);
                    if !name.is_empty() {
                        a.name = name;
                    }
                }
                None => f.push(Advert {
                    id: device_id,
                    name,
                    rssi,
                }),
            }
        }
    }
}

/// Where the app hands one open device's notifications and its loss.
#[derive(uniffi::Object)]
pub struct GattSink {
    notes: mpsc::Sender<Vec<u8>>,
    reason: DownReason,
}

#[uniffi::export]
impl GattSink {
    /// A TX notification (one packet). Never blocks.
    pub fn notified(&self, value: Vec<u8>) {
        if self.notes.try_send(value).is_err() && !self.reason.is_set() {
            tracing::debug!("a notification was dropped (queue full)");
        }
    }

    /// The link was lost (disconnect, Bluetooth off).
    pub fn disconnected(&self, reason: String) {
        self.reason.set(reason);
        // Ends the source once queued packets are read: the sender side is dropped below.
        let _ = self.notes.try_send(Vec::new());
    }
}

/// The app's central as core's `Central`.
#[derive(Clone)]
pub(crate) struct ForeignCentral(Arc<dyn BleCentral>);

impl ForeignCentral {
    pub(crate) fn new(c: Box<dyn BleCentral>) -> ForeignCentral {
        ForeignCentral(Arc::from(c))
    }

    fn ready(&self) -> Result<(), BleError> {
        match self.0.adapter_state() {
            AdapterState::PoweredOn => Ok(()),
            AdapterState::PoweredOff => Err(BleError::Off),
            AdapterState::Unauthorized => Err(BleError::PermissionDenied {
                detail: "the app has no Bluetooth permission".into(),
            }),
            AdapterState::Unsupported => Err(BleError::Absent {
                detail: "no Bluetooth LE".into(),
            }),
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

impl Central for ForeignCentral {
    fn kind(&self) -> &'static str {
        "bluetooth"
    }

    fn scan(&self, within: Duration) -> BoxFuture<'_, Result<Vec<Advert>, BleError>> {
        Box::pin(async move {
            self.ready()?;
            let sink = Arc::new(ScanSink {
                found: Mutex::new(Vec::new()),
            });
            let (c, s) = (self.0.clone(), sink.clone());
            match blocking(move || c.start_scan(s)).await {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(BleError::Other(format!("scanning failed: {e}"))),
                None => return Err(BleError::Other("scanning failed".into())),
            }
            tokio::time::sleep(within).await;
            let c = self.0.clone();
            let _ = blocking(move || c.stop_scan()).await;
            let found = sink.found.lock().map(|f| f.clone()).unwrap_or_default();
            Ok(found)
        })
    }

    fn open<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Connection, BleError>> {
        Box::pin(async move {
            self.ready()?;
            let reason = DownReason::default();
            let (tx, rx) = mpsc::channel(NOTIFY_QUEUE);
            let sink = Arc::new(GattSink {
                notes: tx,
                reason: reason.clone(),
            });
            let (c, dev) = (self.0.clone(), id.to_owned());
            let mtu = match blocking(move || c.connect(dev, sink)).await {
                Some(Ok(mtu)) => mtu,
                Some(Err(OpenError::DeviceGone { .. })) => {
                    return Err(BleError::DeviceGone { name: id.into() })
                }
                Some(Err(OpenError::ServiceMissing { missing })) => {
                    return Err(BleError::ServiceMissing {
                        name: id.into(),
                        missing,
                    })
                }
                Some(Err(OpenError::PermissionMissing { reason })) => {
                    return Err(BleError::PermissionDenied { detail: reason })
                }
                Some(Err(OpenError::Failed { reason })) => return Err(BleError::Other(reason)),
                None => return Err(BleError::Other("opening the device failed".into())),
            };
            Ok(Connection {
                info: LinkInfo {
                    id: id.to_owned(),
                    name: String::new(),
                    mtu: mtu as usize,
                },
                sink: Box::new(ForeignSink {
                    central: self.0.clone(),
                    id: id.to_owned(),
                    reason: reason.clone(),
                }),
                source: Box::new(EndingSource(ChannelSource { rx, reason })),
            })
        })
    }
}

/// A source that ends at the empty packet `disconnected` queues.
struct EndingSource(ChannelSource);

impl lichen::ble::link::PacketSource for EndingSource {
    fn recv(&mut self) -> BoxFuture<'_, Result<Vec<u8>, LinkError>> {
        Box::pin(async move {
            match self.0.recv().await {
                Ok(p) if p.is_empty() && self.0.reason.is_set() => Err(self.0.reason.error()),
                other => other,
            }
        })
    }
}

struct ForeignSink {
    central: Arc<dyn BleCentral>,
    id: String,
    reason: DownReason,
}

impl PacketSink for ForeignSink {
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            if self.reason.is_set() {
                return Err(self.reason.error());
            }
            let (c, id, v) = (self.central.clone(), self.id.clone(), pkt.to_vec());
            match blocking(move || c.write(id, v)).await {
                Some(Ok(())) => Ok(()),
                Some(Err(e)) if !self.reason.is_set() => Err(LinkError::Refused(e.to_string())),
                _ => Err(self.reason.error()),
            }
        })
    }

    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>> {
        Box::pin(async { None })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.reason.set("closed by this side");
            let (c, id) = (self.central.clone(), self.id.clone());
            let _ = blocking(move || c.close(id)).await;
        })
    }
}
