//! Beacons: the bech32 invite strings that carry a shared seed and where to
//! meet.
//!
//! Two generations exist ([`v0`] is deployed, [`v1`] is the RFC). They are
//! told apart by the first data byte: `0xfe` (the BigSize prefix of v0's
//! type 65979) or `0x00` (v1's type 0). [`AnyBeacon::decode`] does that.

pub mod location;
pub mod v0;
pub mod v1;

use crate::bech32;
use crate::error::{BeaconError, V0BeaconError};

/// A beacon of either generation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnyBeacon {
    /// A deployed (v0) beacon.
    V0(v0::Beacon),
    /// An RFC (v1) beacon.
    V1(v1::Beacon),
}

/// Why a string is not a beacon of either generation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnyBeaconError {
    /// It looks like v0 but does not decode as one.
    #[error("v0 beacon: {0}")]
    V0(V0BeaconError),
    /// It does not decode as v1 (or v0).
    #[error("v1 beacon: {0}")]
    V1(BeaconError),
}

impl AnyBeacon {
    /// Decodes a beacon, choosing the generation by the first data byte.
    pub fn decode(s: &str) -> Result<Self, AnyBeaconError> {
        match bech32::decode(s) {
            Ok((_, data)) if data.first() == Some(&0xfe) => v0::Beacon::decode(s)
                .map(AnyBeacon::V0)
                .map_err(AnyBeaconError::V0),
            _ => v1::Beacon::decode(s)
                .map(AnyBeacon::V1)
                .map_err(AnyBeaconError::V1),
        }
    }

    /// Encodes the beacon again.
    pub fn encode(&self) -> Result<String, AnyBeaconError> {
        match self {
            AnyBeacon::V0(b) => b.encode().map_err(AnyBeaconError::V0),
            AnyBeacon::V1(b) => b.encode().map_err(AnyBeaconError::V1),
        }
    }

    /// The shared seed.
    pub fn shared_seed(&self) -> &crate::seed::SharedSeed {
        match self {
            AnyBeacon::V0(b) => &b.shared_seed,
            AnyBeacon::V1(b) => &b.shared_seed,
        }
    }
}
