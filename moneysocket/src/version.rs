//! The three-byte `major.minor.patch` version carried by v1 beacons and
//! messages.

use std::fmt;

/// A protocol or software version, one byte per part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version (protocol generation).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Patch version.
    pub patch: u8,
}

impl Version {
    /// The version this crate writes into v1 beacons and messages by default.
    ///
    /// py-moneysocket's partial v1 code writes 0.99.99 ("implementing v1,
    /// still work in progress"); this crate is in the same position.
    pub const THIS_CODE: Version = Version::new(0, 99, 99);

    /// Creates a version.
    pub const fn new(major: u8, minor: u8, patch: u8) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Reads exactly three bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match *bytes {
            [major, minor, patch] => Some(Version::new(major, minor, patch)),
            _ => None,
        }
    }

    /// The three-byte encoding.
    pub fn to_bytes(self) -> [u8; 3] {
        [self.major, self.minor, self.patch]
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}
