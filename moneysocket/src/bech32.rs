//! Bech32 (BIP-173) strings as beacons use them.
//!
//! Beacons use the original BIP-173 checksum (constant 1), never bech32m.
//! They are often longer than BIP-173's 90-character limit (up to about 240
//! characters), so no such limit applies; the `bech32` crate still bounds
//! the whole string at its 1023-character code length. An all-upper-case
//! string (the QR-code form) decodes like its lower-case twin; mixed case is
//! rejected. The human-readable part is returned in lower case.

use ::bech32::primitives::decode::CheckedHrpstring;
use ::bech32::{Bech32, Fe32, Hrp};

use crate::error::Bech32Error;

/// Decodes a bech32 string into its lower-case HRP and data bytes.
///
/// The 5-bit groups are regrouped into bytes; fewer than 5 padding bits, all
/// zero, are required (the BIP-173 rule). An empty data part is rejected.
pub fn decode(s: &str) -> Result<(String, Vec<u8>), Bech32Error> {
    let checked =
        CheckedHrpstring::new::<Bech32>(s).map_err(|e| Bech32Error::Invalid(e.to_string()))?;
    let hrp = checked.hrp().to_lowercase();
    let mut bytes = Vec::new();
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &c in checked.data_part_ascii_no_checksum() {
        let fe = Fe32::from_char(char::from(c)).map_err(|e| Bech32Error::Invalid(e.to_string()))?;
        acc = ((acc << 5) | u32::from(fe.to_u8())) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 {
        return Err(Bech32Error::Padding);
    }
    if bytes.is_empty() {
        return Err(Bech32Error::Empty);
    }
    Ok((hrp, bytes))
}

/// Encodes `data` under `hrp` as a lower-case bech32 string.
pub fn encode(hrp: &str, data: &[u8]) -> Result<String, Bech32Error> {
    let hrp = Hrp::parse(hrp).map_err(|e| Bech32Error::Hrp(e.to_string()))?;
    ::bech32::encode_lower::<Bech32>(hrp, data).map_err(|_| Bech32Error::TooLong)
}

/// Prepares a beacon string for a QR code (BOM #2 "QR Code Encoding").
///
/// Letters are upper-cased so the QR alphanumeric mode applies; any
/// character outside that mode's set (`0-9 A-Z $ % * + - . / :`) becomes
/// `.`. Bech32 strings have no spaces, so space is mapped too.
pub fn to_qr_string(s: &str) -> String {
    s.chars()
        .map(|c| {
            let up = c.to_ascii_uppercase();
            if up.is_ascii_digit() || up.is_ascii_uppercase() || "$%*+-./:".contains(up) {
                up
            } else {
                '.'
            }
        })
        .collect()
}

/// Normalises a string read from a QR code (BOM #2 "QR Code Decoding").
///
/// Returns `None` unless it starts with `moneysocket` in any case;
/// otherwise returns it lower-cased, ready for a beacon decoder (which then
/// checks the checksum).
pub fn from_qr_string(s: &str) -> Option<String> {
    let prefix = s.get(..crate::HRP_PREFIX.len())?;
    if prefix.eq_ignore_ascii_case(crate::HRP_PREFIX) {
        Some(s.to_ascii_lowercase())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_long_data() {
        let data: Vec<u8> = (0..=255u8).collect();
        let s = encode("moneysocket", &data).unwrap();
        assert!(s.len() > 90);
        assert_eq!(decode(&s).unwrap(), ("moneysocket".to_string(), data));
        assert_eq!(decode(&s.to_uppercase()).unwrap().1.len(), 256);
    }

    #[test]
    fn rejects_mixed_case_and_bech32m() {
        let s = encode("moneysocket", b"hello").unwrap();
        let mut mixed = s.clone();
        mixed.replace_range(0..1, "M");
        assert!(decode(&mixed).is_err());
        let m = ::bech32::encode::<::bech32::Bech32m>(Hrp::parse("moneysocket").unwrap(), b"hello")
            .unwrap();
        assert!(decode(&m).is_err());
    }

    #[test]
    fn rejects_empty_data() {
        let s = encode("moneysocket", b"").unwrap();
        assert_eq!(decode(&s), Err(Bech32Error::Empty));
    }

    #[test]
    fn qr_form() {
        assert_eq!(to_qr_string("moneysocket-x_y1qq"), "MONEYSOCKET-X.Y1QQ");
        assert_eq!(
            from_qr_string("MONEYSOCKET1QQ").as_deref(),
            Some("moneysocket1qq")
        );
        assert_eq!(from_qr_string("lnbc1"), None);
        assert_eq!(from_qr_string("mo"), None);
    }
}
