//! v1 beacons, as specified by the Moneysocket RFC (BOM #2).
//!
//! A v1 beacon is a bech32 string whose HRP starts with `moneysocket` (a
//! hint such as `moneysocket-paste-into-wallet-` may follow) and whose data
//! is exactly one TLV record of type 0. Its value is a stream read in a
//! fixed order: generator_version (0, 3 bytes), optional role_hint (1, one
//! byte), shared_seed (2, 16 bytes), location_list (3), then any further
//! records, which are kept and re-emitted unchanged.
//!
//! Nothing deployed speaks v1, but its layout is the better basis for
//! Lichen's own invites, and the RFC ships vectors. Decoding follows the
//! reference decoder (py-moneysocket `moneysocket1`) check for check, so the
//! RFC's 44 decode-error vectors fail for the reasons they name.

use crate::bech32;
use crate::error::BeaconError;
use crate::seed::SharedSeed;
use crate::tlv::{self, Record};
use crate::version::Version;
use crate::HRP_PREFIX;

pub use super::location::{Location, WebSocketLocation};

const BEACON_TYPE: u64 = 0;
const VERSION: u64 = 0;
const ROLE_HINT: u64 = 1;
const SHARED_SEED: u64 = 2;
const LOCATION_LIST: u64 = 3;

/// Which side the generator of a beacon expects to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleHint {
    /// The generator is a provider looking for a consumer (0).
    ProviderSeekingConsumer,
    /// The generator is a consumer looking for a provider (1).
    ConsumerSeekingProvider,
    /// The generator will take either role (2).
    Automatic,
}

impl RoleHint {
    /// The wire byte.
    pub fn to_byte(self) -> u8 {
        match self {
            RoleHint::ProviderSeekingConsumer => 0,
            RoleHint::ConsumerSeekingProvider => 1,
            RoleHint::Automatic => 2,
        }
    }

    /// Reads the wire byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(RoleHint::ProviderSeekingConsumer),
            1 => Some(RoleHint::ConsumerSeekingProvider),
            2 => Some(RoleHint::Automatic),
            _ => None,
        }
    }

    /// The RFC's name (`AUTOMATIC_GENERATOR`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RoleHint::ProviderSeekingConsumer => "PROVIDER_GENERATOR_SEEKING_CONSUMER",
            RoleHint::ConsumerSeekingProvider => "CONSUMER_GENERATOR_SEEKING_PROVIDER",
            RoleHint::Automatic => "AUTOMATIC_GENERATOR",
        }
    }
}

/// A decoded v1 beacon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Beacon {
    /// Human-readable part, lower case, starting with `moneysocket`.
    pub hrp: String,
    /// Version of the software that generated the beacon.
    pub version: Version,
    /// Optional role hint.
    pub role_hint: Option<RoleHint>,
    /// The shared secret.
    pub shared_seed: SharedSeed,
    /// Where to meet, in the generator's order (at least one known).
    pub locations: Vec<Location>,
    /// Records after the location list, kept verbatim and in order.
    pub unknown_tlvs: Vec<Record>,
}

impl Beacon {
    /// A beacon with the plain `moneysocket` HRP, this code's version, no
    /// role hint and no extra records.
    pub fn new(shared_seed: SharedSeed, locations: Vec<Location>) -> Self {
        Beacon {
            hrp: HRP_PREFIX.to_owned(),
            version: Version::THIS_CODE,
            role_hint: None,
            shared_seed,
            locations,
            unknown_tlvs: Vec::new(),
        }
    }

    /// Decodes a beacon string (lower case, or all upper case from a QR).
    pub fn decode(s: &str) -> Result<Self, BeaconError> {
        let (hrp, data) = bech32::decode(s).map_err(BeaconError::Bech32)?;
        if !hrp.starts_with(HRP_PREFIX) {
            return Err(BeaconError::UnknownHrp(hrp));
        }
        let mut beacon = Beacon::decode_bytes(&data)?;
        beacon.hrp = hrp;
        Ok(beacon)
    }

    /// Decodes a string read from a QR code: any-case `moneysocket` prefix,
    /// then lower-cased (BOM #2 "QR Code Decoding").
    pub fn decode_qr(s: &str) -> Result<Self, BeaconError> {
        let lower = bech32::from_qr_string(s)
            .ok_or_else(|| BeaconError::UnknownHrp(s.chars().take(11).collect()))?;
        Beacon::decode(&lower)
    }

    /// Decodes the data part (one TLV of type 0); the HRP is set to
    /// `moneysocket`.
    pub fn decode_bytes(data: &[u8]) -> Result<Self, BeaconError> {
        tlv::records(data).map_err(BeaconError::Tlv)?;
        let (outer, rest) = tlv::pop(data).map_err(BeaconError::Tlv)?;
        if !rest.is_empty() {
            return Err(BeaconError::ExtraBytes);
        }
        if outer.tlv_type != BEACON_TYPE {
            return Err(BeaconError::UnexpectedType(outer.tlv_type));
        }
        let records = tlv::records(outer.value).map_err(BeaconError::InnerTlv)?;
        let mut iter = records.into_iter();

        let version_record = iter.next().ok_or(BeaconError::Empty)?;
        if version_record.tlv_type != VERSION {
            return Err(BeaconError::MissingVersion);
        }
        let version = Version::from_bytes(version_record.value)
            .ok_or(BeaconError::BadVersion(version_record.value.len()))?;

        let next = iter.next().ok_or(BeaconError::MissingSeedOrRoleHint)?;
        let (role_hint, seed_record) = match next.tlv_type {
            ROLE_HINT => {
                let (&byte, extra) = next.value.split_first().ok_or(BeaconError::RoleHintEmpty)?;
                let hint = RoleHint::from_byte(byte).ok_or(BeaconError::UnknownRoleHint(byte))?;
                if !extra.is_empty() {
                    return Err(BeaconError::RoleHintExtraBytes);
                }
                let seed = iter.next().ok_or(BeaconError::MissingSeed)?;
                if seed.tlv_type != SHARED_SEED {
                    return Err(BeaconError::MissingSeed);
                }
                (Some(hint), seed)
            }
            SHARED_SEED => (None, next),
            _ => return Err(BeaconError::MissingSeed),
        };
        let shared_seed = SharedSeed::from_slice(seed_record.value)
            .ok_or(BeaconError::SeedLength(seed_record.value.len()))?;

        let list = iter.next().ok_or(BeaconError::MissingLocationList)?;
        if list.tlv_type != LOCATION_LIST {
            // The reference decoder does not check this type; a wrong one
            // would be read as a location list anyway. Be explicit instead.
            return Err(BeaconError::NotLocationList(list.tlv_type));
        }
        let locations = decode_locations(list.value)?;
        let unknown_tlvs = iter.map(Record::from).collect();
        Ok(Beacon {
            hrp: HRP_PREFIX.to_owned(),
            version,
            role_hint,
            shared_seed,
            locations,
            unknown_tlvs,
        })
    }

    /// The data part: one TLV record of type 0.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        tlv::encode_into(VERSION, &self.version.to_bytes(), &mut inner);
        if let Some(hint) = self.role_hint {
            tlv::encode_into(ROLE_HINT, &[hint.to_byte()], &mut inner);
        }
        tlv::encode_into(SHARED_SEED, self.shared_seed.as_bytes(), &mut inner);
        let mut list = Vec::new();
        for location in &self.locations {
            location.encode_into(&mut list);
        }
        tlv::encode_into(LOCATION_LIST, &list, &mut inner);
        for record in &self.unknown_tlvs {
            record.encode_into(&mut inner);
        }
        tlv::encode(BEACON_TYPE, &inner)
    }

    /// Checks that [`Beacon::decode`] would accept what this encodes to.
    pub fn validate(&self) -> Result<(), BeaconError> {
        if !self.hrp.starts_with(HRP_PREFIX) {
            return Err(BeaconError::UnknownHrp(self.hrp.clone()));
        }
        if self.locations.is_empty() {
            return Err(BeaconError::NoLocations);
        }
        if !self.locations.iter().any(Location::is_known) {
            return Err(BeaconError::NoKnownLocations);
        }
        for location in &self.locations {
            match location {
                Location::WebSocket(ws) => ws.validate()?,
                Location::Unknown { tlv_type: 0, .. } => {
                    return Err(BeaconError::UnknownLocationType0)
                }
                Location::Unknown { .. } => {}
            }
        }
        Ok(())
    }

    /// Encodes the beacon as a lower-case bech32 string.
    pub fn encode(&self) -> Result<String, BeaconError> {
        self.validate()?;
        bech32::encode(&self.hrp, &self.to_bytes()).map_err(BeaconError::Bech32)
    }

    /// Encodes the beacon in QR form (upper case, QR alphanumeric set).
    pub fn encode_qr(&self) -> Result<String, BeaconError> {
        Ok(bech32::to_qr_string(&self.encode()?))
    }

    /// The WebSocket locations, best preference first (stable for ties).
    pub fn websockets_by_preference(&self) -> Vec<&WebSocketLocation> {
        let mut ws: Vec<&WebSocketLocation> = self
            .locations
            .iter()
            .filter_map(|l| match l {
                Location::WebSocket(w) => Some(w),
                Location::Unknown { .. } => None,
            })
            .collect();
        ws.sort_by_key(|w| w.preference);
        ws
    }
}

fn decode_locations(value: &[u8]) -> Result<Vec<Location>, BeaconError> {
    let records = tlv::records(value).map_err(BeaconError::LocationListTlv)?;
    let locations = records
        .into_iter()
        .map(Location::decode)
        .collect::<Result<Vec<_>, _>>()?;
    if locations.is_empty() {
        return Err(BeaconError::NoLocations);
    }
    if !locations.iter().any(Location::is_known) {
        return Err(BeaconError::NoKnownLocations);
    }
    Ok(locations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_beacon_round_trips() {
        let seed = SharedSeed::from_bytes([7; 16]);
        let mut beacon = Beacon::new(
            seed,
            vec![
                Location::WebSocket(WebSocketLocation::new("relay.example.org").with_preference(0)),
                Location::Unknown {
                    tlv_type: 5,
                    value: vec![1, 2, 3],
                },
            ],
        );
        beacon.role_hint = Some(RoleHint::Automatic);
        beacon.hrp = "moneysocket-lichen".to_owned();
        let s = beacon.encode().unwrap();
        assert!(s.starts_with("moneysocket-lichen1"));
        assert_eq!(Beacon::decode(&s).unwrap(), beacon);
        let qr = beacon.encode_qr().unwrap();
        assert_eq!(qr, s.to_uppercase());
        assert_eq!(Beacon::decode(&qr).unwrap(), beacon);
        assert_eq!(Beacon::decode_qr(&qr).unwrap(), beacon);
    }

    #[test]
    fn encode_refuses_what_decode_would_reject() {
        let seed = SharedSeed::from_bytes([7; 16]);
        let empty = Beacon::new(seed.clone(), vec![]);
        assert_eq!(empty.encode(), Err(BeaconError::NoLocations));
        let ip = Beacon::new(
            seed,
            vec![Location::WebSocket(WebSocketLocation::new("127.0.0.1"))],
        );
        assert!(ip.encode().is_err());
    }
}
