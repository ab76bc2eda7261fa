//! The dongle pairing API ([`Dongles`]: scan, pair, status, unpair) over core's
//! `ble::pairing::Dongles`, and a dongle emulator to run it against ([`DongleEmulator`]).
//!
//! The platform's Bluetooth (btleplug) is only compiled in with the `ble` feature (off by
//! default: it does not build for Android or iOS here, where the apps reach dongles through
//! their own Bluetooth code); without it, [`Dongles::bluetooth`] fails with `Unsupported`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::Central;
use lichen::ble::pairing;
use lichen::ble::status::LinkPhase;
use lichen::ble::syncwatch::SyncState;
use lichen::ble::BleError;
use lichen::emu::radio::{Radio, SimAir};
use lichen::emu::{EmuConfig, Emulator};
use lichen::lora::Plan;
use tokio::runtime::Runtime;

use crate::LichenError;

/// How long `pair` looks for the dongle before connecting.
const PAIR_SCAN: Duration = Duration::from_secs(5);

/// Why scanning, pairing or connecting failed. Every message is written for the person at
/// the screen (what is wrong, what to do); the variant lets the app react (ask to switch
/// Bluetooth on, ask for the permission, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum DongleError {
    /// Bluetooth is switched off.
    #[error("{reason}")]
    BluetoothOff {
        /// For a person.
        reason: String,
    },
    /// No usable Bluetooth adapter or service.
    #[error("{reason}")]
    BluetoothAbsent {
        /// For a person.
        reason: String,
    },
    /// The system refused access to Bluetooth.
    #[error("{reason}")]
    PermissionMissing {
        /// For a person.
        reason: String,
    },
    /// The dongle is out of range, off, busy, or unknown.
    #[error("{reason}")]
    DeviceGone {
        /// For a person.
        reason: String,
    },
    /// The link cannot carry a 120-byte packet per write.
    #[error("{reason}")]
    MtuTooSmall {
        /// For a person.
        reason: String,
    },
    /// The device has no tinySSB service (other firmware).
    #[error("{reason}")]
    ServiceMissing {
        /// For a person.
        reason: String,
    },
    /// Connecting took too long.
    #[error("{reason}")]
    Timeout {
        /// For a person.
        reason: String,
    },
    /// No dongle is paired.
    #[error("{reason}")]
    NotPaired {
        /// For a person.
        reason: String,
    },
    /// This build has no Bluetooth support.
    #[error("{reason}")]
    Unsupported {
        /// For a person.
        reason: String,
    },
    /// Anything else (the pairing record, the Bluetooth stack).
    #[error("{reason}")]
    Other {
        /// For a person.
        reason: String,
    },
}

impl From<BleError> for DongleError {
    fn from(e: BleError) -> DongleError {
        let reason = e.to_string();
        match e {
            BleError::Off => DongleError::BluetoothOff { reason },
            BleError::Absent { .. } => DongleError::BluetoothAbsent { reason },
            BleError::PermissionDenied { .. } => DongleError::PermissionMissing { reason },
            BleError::DeviceGone { .. } => DongleError::DeviceGone { reason },
            BleError::MtuTooSmall { .. } => DongleError::MtuTooSmall { reason },
            BleError::ServiceMissing { .. } => DongleError::ServiceMissing { reason },
            BleError::Timeout { .. } => DongleError::Timeout { reason },
            BleError::NotPaired => DongleError::NotPaired { reason },
            BleError::Unsupported => DongleError::Unsupported { reason },
            BleError::Record { .. } | BleError::Other(_) => DongleError::Other { reason },
        }
    }
}

/// A dongle found by a scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FoundDongle {
    /// How to reach it (what `pair` takes).
    pub id: String,
    /// Its name (`tinySSB-xxxx`).
    pub name: String,
    /// Signal strength, dBm.
    pub rssi: Option<i16>,
    /// Paired with this device before (or now).
    pub paired_before: bool,
    /// The dongle this device is paired with now.
    pub paired: bool,
}

/// The dongle this device is paired with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PairedDongle {
    /// How to reach it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Which central reached it: `bluetooth` or `emulator`.
    pub transport: String,
    /// When it was paired (Unix ms).
    pub paired_unix_ms: u64,
}

impl From<pairing::PairedDongle> for PairedDongle {
    fn from(p: pairing::PairedDongle) -> PairedDongle {
        PairedDongle {
            id: p.id,
            name: p.name,
            transport: p.transport,
            paired_unix_ms: p.paired_unix_ms,
        }
    }
}

/// What a node running the paired dongle's link last reported.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DongleLinkStatus {
    /// `connecting`, `connected`, `waiting` (for the next attempt) or `stopped`.
    pub phase: String,
    /// Whether the link is up.
    pub connected: bool,
    /// The ATT MTU of the current (or last) link.
    pub mtu: Option<u32>,
    /// Signal strength, dBm.
    pub rssi: Option<i16>,
    /// Packets received and written.
    pub packets_in: u64,
    /// Packets written.
    pub packets_out: u64,
    /// Whether the dongle and this device replicate the same feeds, in words.
    pub sync: String,
    /// The same, for the app to act on (a badge, a notification).
    pub sync_state: DongleSync,
    /// Whether the dongle holds as many feeds as it can: a new contact or group member
    /// cannot pass through it (in sync or not; see `sync_state`).
    pub dongle_full: bool,
    /// The last connection error, in words.
    pub last_error: Option<String>,
    /// When the supervisor tries again (Unix ms), while it waits between attempts.
    pub next_attempt_unix_ms: Option<u64>,
    /// When this was written (Unix ms): old means no node runs the link now.
    pub updated_unix_ms: u64,
}

/// Whether this device and the dongle replicate the same feeds (tinySSB replicates
/// nothing through a dongle until both sides hold the same list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DongleSync {
    /// No list of feeds heard from the dongle yet.
    Unknown,
    /// Both hold the same feeds: messages move. `full`: the dongle holds as many as it can.
    Agreed {
        /// Feeds on both sides.
        feeds: u32,
        /// The dongle cannot take another feed.
        full: bool,
    },
    /// The lists differ and are being reconciled.
    Converging {
        /// Feeds on this device.
        ours: u32,
        /// Feeds on the dongle.
        theirs: u32,
    },
    /// The lists have differed for over a minute: nothing replicates.
    Stalled {
        /// Feeds on this device.
        ours: u32,
        /// Feeds on the dongle.
        theirs: u32,
    },
    /// The dongle is full and lacks some of this device's feeds: nothing replicates
    /// through it until they match (fewer contacts here, or a dongle with room).
    Full {
        /// Feeds on this device.
        ours: u32,
        /// Feeds on the dongle (its most).
        theirs: u32,
    },
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<&SyncState> for DongleSync {
    fn from(s: &SyncState) -> DongleSync {
        match *s {
            SyncState::Unknown => DongleSync::Unknown,
            SyncState::Agreed { feeds, full } => DongleSync::Agreed {
                feeds: count(feeds),
                full,
            },
            SyncState::Converging { ours, theirs } => DongleSync::Converging {
                ours: count(ours),
                theirs: count(theirs),
            },
            SyncState::Stalled { ours, theirs } => DongleSync::Stalled {
                ours: count(ours),
                theirs: count(theirs),
            },
            SyncState::DongleFull { ours, theirs } => DongleSync::Full {
                ours: count(ours),
                theirs: count(theirs),
            },
        }
    }
}

/// The paired dongle and its link.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PairingStatus {
    /// The paired dongle.
    pub paired: PairedDongle,
    /// What a node last reported about its link, if any.
    pub link: Option<DongleLinkStatus>,
}

pub(crate) fn found_dongle(f: pairing::Found) -> FoundDongle {
    FoundDongle {
        id: f.id,
        name: f.name,
        rssi: f.rssi,
        paired_before: f.paired_before,
        paired: f.paired,
    }
}

pub(crate) fn pairing_status(st: pairing::PairingStatus) -> PairingStatus {
    PairingStatus {
        paired: st.paired.into(),
        link: st.link.map(|l| DongleLinkStatus {
            phase: match l.phase {
                LinkPhase::Connecting => "connecting",
                LinkPhase::Connected => "connected",
                LinkPhase::Waiting => "waiting",
                LinkPhase::Stopped => "stopped",
            }
            .to_owned(),
            connected: l.health.connected,
            mtu: l.health.mtu.map(|m| m as u32),
            rssi: l.health.rssi,
            packets_in: l.health.packets_in,
            packets_out: l.health.packets_out,
            sync: l.sync.describe(),
            sync_state: DongleSync::from(&l.sync),
            dongle_full: l.sync.dongle_full(),
            last_error: l.last_error,
            next_attempt_unix_ms: l.next_attempt_unix_ms,
            updated_unix_ms: l.updated_unix_ms,
        }),
    }
}

/// Scan, pair, status and unpair, with the pairing remembered in the node's data directory
/// (`dongle.json`, shared with `lichen dongle`).
#[derive(uniffi::Object)]
pub struct Dongles {
    inner: pairing::Dongles,
    rt: Runtime,
}

fn runtime() -> Result<Runtime, DongleError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("lichen-dongles")
        .enable_all()
        .build()
        .map_err(|e| DongleError::Other {
            reason: format!("starting the runtime: {e}"),
        })
}

impl Dongles {
    fn over(central: Arc<dyn Central>, data_dir: &str) -> Result<Arc<Dongles>, DongleError> {
        Ok(Arc::new(Dongles {
            inner: pairing::Dongles::new(central, Path::new(data_dir)),
            rt: runtime()?,
        }))
    }
}

#[cfg(feature = "ble")]
fn bluetooth() -> Result<Arc<dyn Central>, DongleError> {
    Ok(Arc::new(lichen::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn bluetooth() -> Result<Arc<dyn Central>, DongleError> {
    Err(BleError::Unsupported.into())
}

#[uniffi::export]
impl Dongles {
    /// Dongle emulators at `addrs` (`host:port`, several separated by commas) instead of
    /// Bluetooth, as `lichen dongle --emu ADDR`.
    #[uniffi::constructor]
    pub fn emulator(data_dir: String, addrs: String) -> Result<Arc<Dongles>, DongleError> {
        Dongles::over(Arc::new(EmuCentral::new(&addrs)), &data_dir)
    }

    /// The platform's Bluetooth (btleplug; only in builds with the `ble` feature, otherwise
    /// `Unsupported`).
    #[uniffi::constructor]
    pub fn bluetooth(data_dir: String) -> Result<Arc<Dongles>, DongleError> {
        Dongles::over(bluetooth()?, &data_dir)
    }

    /// Dongles in range after `timeout_ms`, strongest first.
    pub fn scan(&self, timeout_ms: u64) -> Result<Vec<FoundDongle>, DongleError> {
        let found = self
            .rt
            .block_on(self.inner.scan(Duration::from_millis(timeout_ms)))?;
        Ok(found.into_iter().map(found_dongle).collect())
    }

    /// Pairs with `id` (an id or a name from `scan`): connects to check it is a usable
    /// tinySSB dongle (MTU, service), then remembers it.
    pub fn pair(&self, id: String) -> Result<PairedDongle, DongleError> {
        Ok(self.rt.block_on(self.inner.pair(&id, PAIR_SCAN))?.into())
    }

    /// The paired dongle and what a running node last reported about its link;
    /// `NotPaired` if none.
    pub fn status(&self) -> Result<PairingStatus, DongleError> {
        Ok(pairing_status(self.inner.status()?))
    }

    /// Forgets the paired dongle and returns it (a running node stops reconnecting);
    /// `NotPaired` if none.
    pub fn unpair(&self) -> Result<PairedDongle, DongleError> {
        Ok(self.inner.unpair()?.into())
    }
}

/// An emulated tinySSB dongle (the ESP32 firmware's behaviour, BLE over a loopback socket,
/// no radio), for tests and demos of the pairing flow.
#[derive(uniffi::Object)]
pub struct DongleEmulator {
    emu: Mutex<Option<Emulator>>,
    addr: String,
    name: String,
}

#[uniffi::export]
impl DongleEmulator {
    /// Starts a dongle named after `seed` (`tinySSB-` and four hex digits) on a free
    /// loopback port.
    #[uniffi::constructor]
    pub fn start(seed: u64) -> Result<Arc<DongleEmulator>, LichenError> {
        let emu = Emulator::start(EmuConfig::new(seed), Radio::Off).map_err(LichenError::node)?;
        Ok(Arc::new(DongleEmulator {
            addr: emu.ble_addr().to_string(),
            name: emu.name().to_owned(),
            emu: Mutex::new(Some(emu)),
        }))
    }

    /// Starts a dongle on the emulated LoRa channel `air`: what one dongle sends on air,
    /// the others on it hear (with the channel's losses).
    #[uniffi::constructor]
    pub fn on_air(air: Arc<EmulatedAir>, seed: u64) -> Result<Arc<DongleEmulator>, LichenError> {
        let emu = Emulator::start(EmuConfig::new(seed), air.air.radio(seed))
            .map_err(LichenError::node)?;
        Ok(Arc::new(DongleEmulator {
            addr: emu.ble_addr().to_string(),
            name: emu.name().to_owned(),
            emu: Mutex::new(Some(emu)),
        }))
    }

    /// Switches the BLE side off (every central is dropped, new ones fail: the phone walked
    /// out of range) or on again.
    pub fn set_ble(&self, on: bool) {
        if let Some(e) = self.emu.lock().ok().as_ref().and_then(|e| e.as_ref()) {
            e.set_ble(on);
        }
    }

    /// Where centrals connect (`127.0.0.1:port`): what `Dongles.emulator` takes.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// The name it advertises.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Stops it; harmless twice.
    pub fn shutdown(&self) {
        let emu = self.emu.lock().ok().and_then(|mut e| e.take());
        if let Some(e) = emu {
            e.shutdown();
        }
    }
}

/// An emulated LoRa channel shared by emulated dongles in this process (the deployed
/// airtime plan), losing each reception with probability `loss`.
#[derive(uniffi::Object)]
pub struct EmulatedAir {
    air: SimAir,
}

#[uniffi::export]
impl EmulatedAir {
    /// A channel (`loss` from 0.0 to 1.0).
    #[uniffi::constructor]
    pub fn new(seed: u64, loss: f64) -> Result<Arc<EmulatedAir>, LichenError> {
        let air = SimAir::new(Plan::default_plan(), seed, loss).map_err(|e| {
            LichenError::InvalidInput {
                reason: e.to_string(),
            }
        })?;
        Ok(Arc::new(EmulatedAir { air }))
    }
}

impl Drop for DongleEmulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use lichen::ble::status::DongleStatus;

    use super::*;

    fn status_with(sync: SyncState, phase: LinkPhase, next: Option<u64>) -> PairingStatus {
        let mut link = DongleStatus::new("emu:1", "tinySSB-f011");
        link.sync = sync;
        link.phase = phase;
        link.next_attempt_unix_ms = next;
        pairing_status(pairing::PairingStatus {
            paired: pairing::PairedDongle {
                id: "emu:1".into(),
                name: "tinySSB-f011".into(),
                transport: "emulator".into(),
                paired_unix_ms: 1,
            },
            link: Some(link),
        })
    }

    #[test]
    fn a_full_dongle_is_a_field_not_only_words() {
        let full = status_with(
            SyncState::DongleFull { ours: 4, theirs: 3 },
            LinkPhase::Connected,
            None,
        );
        let link = full.link.unwrap();
        assert!(link.dongle_full);
        assert_eq!(link.sync_state, DongleSync::Full { ours: 4, theirs: 3 });
        assert!(link.sync.contains("the dongle is full"));
        // Agreed but at its most: still full (a new contact cannot pass).
        let at_most = status_with(
            SyncState::Agreed {
                feeds: 3,
                full: true,
            },
            LinkPhase::Connected,
            None,
        );
        assert!(at_most.link.unwrap().dongle_full);
        for sync in [
            SyncState::Unknown,
            SyncState::Agreed {
                feeds: 2,
                full: false,
            },
            SyncState::Converging { ours: 4, theirs: 3 },
            SyncState::Stalled { ours: 4, theirs: 3 },
        ] {
            let link = status_with(sync.clone(), LinkPhase::Connected, None)
                .link
                .unwrap();
            assert!(!link.dongle_full, "{sync:?} is not full");
        }
    }

    #[test]
    fn the_next_attempt_crosses_while_waiting() {
        let waiting = status_with(SyncState::Unknown, LinkPhase::Waiting, Some(1_234_567));
        let link = waiting.link.unwrap();
        assert_eq!(link.phase, "waiting");
        assert_eq!(link.next_attempt_unix_ms, Some(1_234_567));
        assert!(!link.connected);
    }
}
