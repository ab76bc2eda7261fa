//! The pairing API the CLI, the desktop app and the bindings use: scan → list → pair(id) →
//! status → unpair.
//!
//! Pairing checks the dongle for real (connect, MTU, service, subscribe) and then remembers
//! it in the data directory (`dongle.json`), so the node reconnects to it on start. The
//! supervisor of a running node writes what it sees to `dongle-status.json`; `status` reads
//! both. Each failure is a [`BleError`] whose message tells the person what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::link::{self, Central};
use super::status::{unix_ms, DongleStatus};
use super::supervisor::{DongleLink, SupervisorConfig};
use super::BleError;
use crate::node::Node;

/// The pairing record's file name in the data directory.
pub const PAIRING_FILE: &str = "dongle.json";
/// The supervisor's status file name in the data directory.
pub const STATUS_FILE: &str = "dongle-status.json";
/// How long pairing waits for a connection.
pub const PAIR_TIMEOUT: Duration = Duration::from_secs(15);

/// The dongle this device is paired with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedDongle {
    /// How to reach it.
    pub id: String,
    /// Its name (`tinySSB-xxxx`).
    pub name: String,
    /// Which central reached it (`bluetooth`, `emulator`, …).
    pub transport: String,
    /// When it was paired (Unix ms).
    pub paired_unix_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Record {
    paired: Option<PairedDongle>,
    /// Ids of every dongle paired before (newest last).
    #[serde(default)]
    known: Vec<String>,
}

/// A dongle found by a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// How to reach it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Signal strength, dBm.
    pub rssi: Option<i16>,
    /// Paired with this device before (or now).
    pub paired_before: bool,
    /// The dongle this device is paired with now.
    pub paired: bool,
}

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingStatus {
    /// The paired dongle.
    pub paired: PairedDongle,
    /// The last status a node's supervisor wrote, if any.
    pub link: Option<DongleStatus>,
}

/// Scan, pair, status and unpair over one central, remembering the pairing in `dir`.
#[derive(Clone)]
pub struct Dongles {
    central: Arc<dyn Central>,
    dir: PathBuf,
}

impl Dongles {
    /// The pairing API over `central`, with its records in the data directory `dir`.
    pub fn new(central: Arc<dyn Central>, dir: &Path) -> Dongles {
        Dongles {
            central,
            dir: dir.to_owned(),
        }
    }

    /// The central in use.
    pub fn central(&self) -> &Arc<dyn Central> {
        &self.central
    }

    /// The supervisor's status file.
    pub fn status_path(&self) -> PathBuf {
        self.dir.join(STATUS_FILE)
    }

    fn record_path(&self) -> PathBuf {
        self.dir.join(PAIRING_FILE)
    }

    fn load(&self) -> Result<Record, BleError> {
        read_record(&self.record_path())
    }

    fn save(&self, r: &Record) -> Result<(), BleError> {
        let path = self.record_path();
        let err = |e: &dyn std::fmt::Display| BleError::Record {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let text = serde_json::to_string_pretty(r).map_err(|e| err(&e))?;
        std::fs::create_dir_all(&self.dir).map_err(|e| err(&e))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| err(&e))?;
        std::fs::rename(&tmp, &path).map_err(|e| err(&e))
    }

    /// Dongles in range, strongest first.
    pub async fn scan(&self, within: Duration) -> Result<Vec<Found>, BleError> {
        let rec = self.load()?;
        let mut found: Vec<Found> = self
            .central
            .scan(within)
            .await?
            .into_iter()
            .map(|a| Found {
                paired_before: rec.known.contains(&a.id),
                paired: rec.paired.as_ref().is_some_and(|p| p.id == a.id),
                id: a.id,
                name: a.name,
                rssi: a.rssi,
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.rssi.unwrap_or(i16::MIN)));
        Ok(found)
    }

    /// Finds `who` (an id or a name from `scan`), connects to check it is a usable tinySSB
    /// dongle, and remembers it.
    pub async fn pair(&self, who: &str, within: Duration) -> Result<PairedDongle, BleError> {
        let seen = self.central.scan(within).await?;
        let Some(advert) = seen
            .iter()
            .find(|a| a.id == who)
            .or_else(|| seen.iter().find(|a| a.name.eq_ignore_ascii_case(who)))
        else {
            return Err(BleError::DeviceGone {
                name: who.to_owned(),
            });
        };
        let mut conn = link::connect(
            self.central.as_ref(),
            &advert.id,
            &advert.name,
            PAIR_TIMEOUT,
        )
        .await?;
        conn.sink.close().await;
        let paired = PairedDongle {
            id: advert.id.clone(),
            name: advert.name.clone(),
            transport: self.central.kind().to_owned(),
            paired_unix_ms: unix_ms(),
        };
        let mut rec = self.load()?;
        rec.known.retain(|k| *k != paired.id);
        rec.known.push(paired.id.clone());
        rec.paired = Some(paired.clone());
        self.save(&rec)?;
        Ok(paired)
    }

    /// The paired dongle, if any.
    pub fn paired(&self) -> Result<Option<PairedDongle>, BleError> {
        Ok(self.load()?.paired)
    }

    /// The paired dongle and what a running node last reported about its link.
    pub fn status(&self) -> Result<PairingStatus, BleError> {
        let paired = self.paired()?.ok_or(BleError::NotPaired)?;
        let link = DongleStatus::load(&self.status_path()).filter(|s| s.id == paired.id);
        Ok(PairingStatus { paired, link })
    }

    /// Starts keeping the paired dongle connected for `node` (on start-up: the remembered
    /// dongle is reconnected without asking); `None` if nothing is paired.
    pub fn resume(&self, node: &Node) -> Result<Option<DongleLink>, BleError> {
        let Some(p) = self.paired()? else {
            return Ok(None);
        };
        let mut cfg = SupervisorConfig::new(&p.id, &p.name);
        cfg.data_dir = Some(self.dir.clone());
        Ok(Some(DongleLink::start(node, self.central.clone(), cfg)))
    }

    /// Forgets the paired dongle (a running node's supervisor notices and stops).
    pub fn unpair(&self) -> Result<PairedDongle, BleError> {
        let mut rec = self.load()?;
        let paired = rec.paired.take().ok_or(BleError::NotPaired)?;
        self.save(&rec)?;
        let _ = std::fs::remove_file(self.status_path());
        Ok(paired)
    }
}

/// The paired dongle recorded in the data directory `dir`, if any.
pub fn paired_in(dir: &Path) -> Result<Option<PairedDongle>, BleError> {
    Ok(read_record(&dir.join(PAIRING_FILE))?.paired)
}

fn read_record(path: &Path) -> Result<Record, BleError> {
    match crate::fsutil::read_small_string(path, crate::fsutil::RECORD_MAX) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| BleError::Record {
            path: path.display().to_string(),
            detail: format!("not a pairing record: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
        Err(e) => Err(BleError::Record {
            path: path.display().to_string(),
            detail: e.to_string(),
        }),
    }
}
