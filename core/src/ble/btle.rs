//! The btleplug adapter (feature `ble`): tinySSB dongles over the platform's Bluetooth stack
//! (BlueZ over D-Bus on Linux, CoreBluetooth, WinRT, Android).
//!
//! Kept thin on purpose: it scans with the tinySSB service filter, connects, discovers the
//! service, reads the ATT MTU, subscribes to TX and writes to RX with response; everything
//! above it (MTU check, reconnects, health) is shared with the other centrals. Each call
//! re-fetches the peripheral from the adapter, so a reconnect after a dongle reboot finds it
//! again. On Linux it is tested against a BlueZ D-Bus mock (`core/tests/ble_dbusmock.rs`);
//! real radios are not available on the development machines.

use std::pin::Pin;
use std::time::Duration;

use btleplug::api::{
    Central as _, CentralEvent, CentralState, CharPropFlags, Characteristic, Manager as _,
    Peripheral as _, ScanFilter, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures_util::{Stream, StreamExt};
use tokio::sync::{mpsc, OnceCell};
use tracing::debug;
use uuid::Uuid;

use super::link::{
    Advert, BoxFuture, Central, ChannelSource, Connection, DownReason, LinkInfo, PacketSink,
};
use super::{uuid_text, BleError, LinkError, NAME_PREFIX, RX_UUID, SERVICE_UUID, TX_UUID};

/// How long `open` scans for a dongle the adapter does not know yet.
const FIND_TIMEOUT: Duration = Duration::from_secs(8);

/// The platform's Bluetooth stack as a [`Central`].
#[derive(Default)]
pub struct BtleCentral {
    manager: OnceCell<Manager>,
}

impl BtleCentral {
    /// A central; the platform stack is reached on first use.
    pub fn new() -> BtleCentral {
        BtleCentral::default()
    }

    async fn adapter(&self) -> Result<Adapter, BleError> {
        let manager = self
            .manager
            .get_or_try_init(|| async {
                Manager::new().await.map_err(absent_or(&"the system bus"))
            })
            .await?;
        let adapters = manager.adapters().await.map_err(absent_or(&"BlueZ"))?;
        let Some(adapter) = adapters.into_iter().next() else {
            return Err(BleError::Absent {
                detail: "the Bluetooth service lists no adapter".into(),
            });
        };
        match adapter.adapter_state().await.map_err(map_err)? {
            CentralState::PoweredOn => Ok(adapter),
            _ => Err(BleError::Off),
        }
    }

    /// Peripherals offering the tinySSB service (or named like a dongle), with their names.
    async fn dongles(adapter: &Adapter) -> Result<Vec<(Peripheral, Advert)>, BleError> {
        let mut out = Vec::new();
        for p in adapter.peripherals().await.map_err(map_err)? {
            let Ok(Some(props)) = p.properties().await else {
                continue;
            };
            let name = props.local_name.unwrap_or_default();
            if !props.services.contains(&Uuid::from_u128(SERVICE_UUID))
                && !name.starts_with(NAME_PREFIX)
            {
                continue;
            }
            let advert = Advert {
                id: p.id().to_string(),
                name,
                rssi: props.rssi,
            };
            out.push((p, advert));
        }
        Ok(out)
    }

    async fn find(&self, adapter: &Adapter, id: &str) -> Result<Peripheral, BleError> {
        let filter = ScanFilter {
            services: vec![Uuid::from_u128(SERVICE_UUID)],
        };
        let mut scanning = false;
        let deadline = tokio::time::Instant::now() + FIND_TIMEOUT;
        loop {
            let found = Self::dongles(adapter).await?;
            if let Some((p, _)) = found.into_iter().find(|(_, a)| a.id == id || a.name == id) {
                if scanning {
                    let _ = adapter.stop_scan().await;
                }
                return Ok(p);
            }
            if tokio::time::Instant::now() >= deadline {
                if scanning {
                    let _ = adapter.stop_scan().await;
                }
                return Err(BleError::DeviceGone { name: id.into() });
            }
            if !scanning {
                adapter.start_scan(filter.clone()).await.map_err(map_err)?;
                scanning = true;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Maps a btleplug error to what a person can act on.
fn map_err(e: btleplug::Error) -> BleError {
    match e {
        btleplug::Error::PermissionDenied => BleError::PermissionDenied {
            detail: "the Bluetooth stack refused".into(),
        },
        btleplug::Error::DeviceNotFound | btleplug::Error::NotConnected => BleError::DeviceGone {
            name: "the dongle".into(),
        },
        btleplug::Error::NoAdapterAvailable => BleError::Absent {
            detail: "no adapter available".into(),
        },
        other => from_text(other.to_string()),
    }
}

fn from_text(text: String) -> BleError {
    // D-Bus policy refusals read "Rejected send message, …"; BlueZ's own say NotAuthorized
    // or NotPermitted; polkit's mention it.
    const DENIED: [&str; 5] = [
        "AccessDenied",
        "Rejected send message",
        "NotAuthorized",
        "NotPermitted",
        "PolicyKit",
    ];
    if text.contains("Rejected send message") {
        BleError::PermissionDenied {
            detail: "the system's D-Bus policy refuses access to BlueZ (org.bluez)".into(),
        }
    } else if DENIED.iter().any(|d| text.contains(d)) {
        BleError::PermissionDenied { detail: text }
    } else if text.contains("NotReady") || text.contains("Powered") {
        BleError::Off
    } else if text.contains("ServiceUnknown")
        || text.contains("NameHasNoOwner")
        || text.contains("not provided by any .service files")
    {
        BleError::Absent {
            detail: "BlueZ (org.bluez) is not running".into(),
        }
    } else {
        BleError::Other(text)
    }
}

/// Errors reaching the stack at all mean "absent" unless they say "denied".
fn absent_or(what: &'static dyn std::fmt::Display) -> impl Fn(btleplug::Error) -> BleError {
    move |e| match map_err(e) {
        BleError::Other(text) => BleError::Absent {
            detail: format!("cannot reach {what}: {text}"),
        },
        other => other,
    }
}

fn characteristic(p: &Peripheral, uuid: u128, prop: CharPropFlags) -> Option<Characteristic> {
    p.services()
        .into_iter()
        .filter(|s| s.uuid == Uuid::from_u128(SERVICE_UUID))
        .flat_map(|s| s.characteristics)
        .find(|c| c.uuid == Uuid::from_u128(uuid) && c.properties.contains(prop))
}

impl Central for BtleCentral {
    fn kind(&self) -> &'static str {
        "bluetooth"
    }

    fn scan(&self, within: Duration) -> BoxFuture<'_, Result<Vec<Advert>, BleError>> {
        Box::pin(async move {
            let adapter = self.adapter().await?;
            let filter = ScanFilter {
                services: vec![Uuid::from_u128(SERVICE_UUID)],
            };
            adapter.start_scan(filter).await.map_err(map_err)?;
            tokio::time::sleep(within).await;
            let found = Self::dongles(&adapter).await;
            let _ = adapter.stop_scan().await;
            Ok(found?.into_iter().map(|(_, a)| a).collect())
        })
    }

    fn open<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Connection, BleError>> {
        Box::pin(async move {
            let adapter = self.adapter().await?;
            let p = self.find(&adapter, id).await?;
            let name = p
                .properties()
                .await
                .ok()
                .flatten()
                .and_then(|pr| pr.local_name)
                .unwrap_or_else(|| id.to_owned());
            let gone = |e: btleplug::Error| match map_err(e) {
                BleError::DeviceGone { .. } => BleError::DeviceGone { name: name.clone() },
                other => other,
            };
            // Subscribe to adapter events first so a disconnect right after connecting is seen.
            let events = adapter.events().await.map_err(map_err)?;
            if !p.is_connected().await.unwrap_or(false) {
                p.connect().await.map_err(gone)?;
            }
            p.discover_services().await.map_err(gone)?;
            let missing = |what: String| BleError::ServiceMissing {
                name: name.clone(),
                missing: what,
            };
            if !p
                .services()
                .iter()
                .any(|s| s.uuid == Uuid::from_u128(SERVICE_UUID))
            {
                let _ = p.disconnect().await;
                return Err(missing(format!("service {}", uuid_text(SERVICE_UUID))));
            }
            let Some(rx) = characteristic(&p, RX_UUID, CharPropFlags::WRITE) else {
                let _ = p.disconnect().await;
                return Err(missing(format!(
                    "writable RX characteristic {}",
                    uuid_text(RX_UUID)
                )));
            };
            let Some(tx) = characteristic(&p, TX_UUID, CharPropFlags::NOTIFY) else {
                let _ = p.disconnect().await;
                return Err(missing(format!(
                    "notifying TX characteristic {}",
                    uuid_text(TX_UUID)
                )));
            };
            let mtu = usize::from(p.mtu());
            let notes = p.notifications().await.map_err(gone)?;
            p.subscribe(&tx).await.map_err(gone)?;
            let rssi = p.read_rssi().await.ok();
            let reason = DownReason::default();
            let (ntx, nrx) = mpsc::channel(256);
            tokio::spawn(listen(p.clone(), notes, events, ntx, reason.clone()));
            Ok(Connection {
                info: LinkInfo {
                    id: id.to_owned(),
                    name,
                    mtu,
                },
                sink: Box::new(BtleSink {
                    p,
                    rx,
                    mtu,
                    last_rssi: rssi,
                    reason: reason.clone(),
                }),
                source: Box::new(ChannelSource { rx: nrx, reason }),
            })
        })
    }
}

type Events<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// Forwards TX notifications until the peripheral disconnects.
async fn listen(
    p: Peripheral,
    mut notes: Events<btleplug::api::ValueNotification>,
    mut events: Events<CentralEvent>,
    out: mpsc::Sender<Vec<u8>>,
    reason: DownReason,
) {
    let me = p.id();
    let why = loop {
        tokio::select! {
            n = notes.next() => match n {
                Some(n) if n.uuid == Uuid::from_u128(TX_UUID) => {
                    if out.send(n.value).await.is_err() {
                        break "closed by this side".to_string();
                    }
                }
                Some(_) => {}
                None => break "the notification stream ended".to_string(),
            },
            e = events.next() => match e {
                Some(CentralEvent::DeviceDisconnected(id)) if id == me => {
                    break "the dongle disconnected".to_string();
                }
                Some(CentralEvent::StateUpdate(s)) if s != CentralState::PoweredOn => {
                    break "Bluetooth was turned off".to_string();
                }
                Some(_) => {}
                None => break "the Bluetooth service went away".to_string(),
            },
        }
    };
    debug!(%why, "dongle link ended");
    reason.set(why);
}

struct BtleSink {
    p: Peripheral,
    rx: Characteristic,
    mtu: usize,
    last_rssi: Option<i16>,
    reason: DownReason,
}

impl PacketSink for BtleSink {
    fn write<'a>(&'a mut self, pkt: &'a [u8]) -> BoxFuture<'a, Result<(), LinkError>> {
        Box::pin(async move {
            if pkt.len() + super::ATT_HEADER > self.mtu {
                return Err(LinkError::TooLong {
                    len: pkt.len(),
                    mtu: self.mtu,
                });
            }
            if self.reason.is_set() {
                return Err(self.reason.error());
            }
            match self.p.write(&self.rx, pkt, WriteType::WithResponse).await {
                Ok(()) => Ok(()),
                Err(btleplug::Error::NotConnected | btleplug::Error::DeviceNotFound) => {
                    Err(self.reason.error())
                }
                Err(e) => Err(LinkError::Refused(e.to_string())),
            }
        })
    }

    fn rssi(&mut self) -> BoxFuture<'_, Option<i16>> {
        Box::pin(async move {
            if let Ok(r) = self.p.read_rssi().await {
                self.last_rssi = Some(r);
            }
            self.last_rssi
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.reason.set("closed by this side");
            let _ = self.p.disconnect().await;
        })
    }
}
