//! What a dongle link reports: health, events for the node's subscribers, and the status
//! record `lichen dongle status` reads.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::syncwatch::SyncState;
use super::BleError;
use crate::sync::FaceId;

/// Milliseconds since the Unix epoch (the one wall-clock helper, [`crate::clock`]).
pub use crate::clock::unix_ms;

/// How a dongle link is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHealth {
    /// Whether the link is up.
    pub connected: bool,
    /// The ATT MTU of the current (or last) link.
    pub mtu: Option<usize>,
    /// Signal strength, dBm, last read.
    pub rssi: Option<i16>,
    /// When the last packet arrived from the dongle (Unix ms).
    pub last_packet_unix_ms: Option<u64>,
    /// Packets received over all links.
    pub packets_in: u64,
    /// Packets written over all links.
    pub packets_out: u64,
    /// Writes that failed (refused or not acknowledged).
    pub write_errors: u64,
    /// Notifications that were no tinySSB packet (skipped; the link stays).
    pub bad_frames: u64,
    /// Times the link came up.
    pub connects: u64,
}

/// The link supervisor's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPhase {
    /// Trying to connect.
    Connecting,
    /// Connected.
    Connected,
    /// Waiting before the next attempt.
    Waiting,
    /// Stopped (unpaired or shut down).
    Stopped,
}

/// The link kind dongle faces register as.
pub const KIND: &str = "ble";

/// Something a dongle link did; the detail of a [`crate::node::LinkStatus::Progress`] (or,
/// for [`DongleEvent::Health`], a `Health`) of kind [`KIND`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DongleEvent {
    /// The link came up and is registered as a face.
    Connected {
        /// The dongle.
        id: String,
        /// Its name.
        name: String,
        /// The face.
        face: FaceId,
        /// The ATT MTU.
        mtu: usize,
    },
    /// The link went down; the supervisor retries after `retry_in_ms`.
    Disconnected {
        /// The dongle.
        id: String,
        /// Why.
        reason: String,
        /// Wait before the next attempt.
        retry_in_ms: u64,
    },
    /// A connection attempt failed; retried after `retry_in_ms`.
    ConnectFailed {
        /// The dongle.
        id: String,
        /// Why.
        error: BleError,
        /// Wait before the next attempt.
        retry_in_ms: u64,
    },
    /// Link health, every few seconds while connected.
    Health {
        /// The dongle.
        id: String,
        /// The figures.
        health: LinkHealth,
    },
    /// Whether our GOset and the dongle's agree changed.
    Sync {
        /// The dongle.
        id: String,
        /// The new state.
        state: SyncState,
    },
    /// The supervisor stopped (unpaired or shut down); no more retries.
    Stopped {
        /// The dongle.
        id: String,
        /// Why.
        reason: String,
    },
}

impl DongleEvent {
    /// The dongle event a node event carries, if it is one.
    pub fn of(event: &crate::node::NodeEvent) -> Option<&DongleEvent> {
        event.detail::<DongleEvent>()
    }
}

/// The status record a supervisor keeps (and writes to the data directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DongleStatus {
    /// The dongle.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What the supervisor is doing.
    pub phase: LinkPhase,
    /// Link figures.
    pub health: LinkHealth,
    /// GOset agreement.
    pub sync: SyncState,
    /// The last connection error, in words.
    pub last_error: Option<String>,
    /// When the next attempt is due (Unix ms), while waiting.
    pub next_attempt_unix_ms: Option<u64>,
    /// When this record was written (Unix ms).
    pub updated_unix_ms: u64,
}

impl DongleStatus {
    /// A fresh record for a dongle about to be connected.
    pub fn new(id: &str, name: &str) -> DongleStatus {
        DongleStatus {
            id: id.to_owned(),
            name: name.to_owned(),
            phase: LinkPhase::Connecting,
            health: LinkHealth::default(),
            sync: SyncState::Unknown,
            last_error: None,
            next_attempt_unix_ms: None,
            updated_unix_ms: unix_ms(),
        }
    }

    /// Reads a record; `None` if there is none or it does not parse.
    pub fn load(path: &Path) -> Option<DongleStatus> {
        let text = crate::fsutil::read_small_string(path, crate::fsutil::RECORD_MAX).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the record (through a temporary file, so readers never see half of it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}
