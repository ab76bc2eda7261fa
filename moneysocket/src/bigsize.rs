//! BigSize, the variable-length unsigned integer of Lightning BOLT #1.
//!
//! Values below `0xfd` take one byte; larger values take a one-byte prefix
//! (`0xfd`, `0xfe`, `0xff`) followed by a big-endian `u16`, `u32` or `u64`.
//! Moneysocket uses BigSize for every TLV type and length, so the decoder is
//! strict: an encoding that is longer than needed is rejected, as BOLT #1
//! requires and as every Moneysocket implementation does.

use crate::error::BigSizeError;

/// Largest value that still fits in the one-byte form.
const MAX_ONE_BYTE: u64 = 0xfc;

/// Appends the BigSize encoding of `value` to `out`.
pub fn encode_into(value: u64, out: &mut Vec<u8>) {
    if value <= MAX_ONE_BYTE {
        out.push(value as u8);
    } else if value <= u64::from(u16::MAX) {
        out.push(0xfd);
        out.extend_from_slice(&(value as u16).to_be_bytes());
    } else if value <= u64::from(u32::MAX) {
        out.push(0xfe);
        out.extend_from_slice(&(value as u32).to_be_bytes());
    } else {
        out.push(0xff);
        out.extend_from_slice(&value.to_be_bytes());
    }
}

/// Returns the BigSize encoding of `value`.
pub fn encode(value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(value));
    encode_into(value, &mut out);
    out
}

/// Number of bytes the BigSize encoding of `value` takes (1, 3, 5 or 9).
pub fn encoded_len(value: u64) -> usize {
    if value <= MAX_ONE_BYTE {
        1
    } else if value <= u64::from(u16::MAX) {
        3
    } else if value <= u64::from(u32::MAX) {
        5
    } else {
        9
    }
}

/// Decodes one BigSize from the front of `input`.
///
/// Returns the value and the bytes after it. Fails when the input ends
/// early or when the value was not written in its shortest form.
pub fn decode(input: &[u8]) -> Result<(u64, &[u8]), BigSizeError> {
    let (&head, rest) = input
        .split_first()
        .ok_or(BigSizeError::Truncated { bits: 8 })?;
    match head {
        0xfd => {
            let (bytes, rest) = take::<2>(rest, 16)?;
            let value = u64::from(u16::from_be_bytes(bytes));
            minimal(value, 0xfd, 16)?;
            Ok((value, rest))
        }
        0xfe => {
            let (bytes, rest) = take::<4>(rest, 32)?;
            let value = u64::from(u32::from_be_bytes(bytes));
            minimal(value, 0x1_0000, 32)?;
            Ok((value, rest))
        }
        0xff => {
            let (bytes, rest) = take::<8>(rest, 64)?;
            let value = u64::from_be_bytes(bytes);
            minimal(value, 0x1_0000_0000, 64)?;
            Ok((value, rest))
        }
        small => Ok((u64::from(small), rest)),
    }
}

fn take<const N: usize>(input: &[u8], bits: u8) -> Result<([u8; N], &[u8]), BigSizeError> {
    if input.len() < N {
        return Err(BigSizeError::Truncated { bits });
    }
    let (head, rest) = input.split_at(N);
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(head);
    Ok((bytes, rest))
}

fn minimal(value: u64, lowest: u64, bits: u8) -> Result<(), BigSizeError> {
    if value < lowest {
        Err(BigSizeError::NotMinimal { bits })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// BOLT #1 Appendix A, "BigSize Decoding Tests" and "Encoding Tests".
    #[test]
    fn bolt1_appendix_a_round_trips() {
        let cases: &[(u64, &str)] = &[
            (0, "00"),
            (252, "fc"),
            (253, "fd00fd"),
            (65535, "fdffff"),
            (65536, "fe00010000"),
            (4294967295, "feffffffff"),
            (4294967296, "ff0000000100000000"),
            (18446744073709551615, "ffffffffffffffffff"),
        ];
        for &(value, bytes) in cases {
            assert_eq!(encode(value), hex(bytes), "encode {value}");
            assert_eq!(encoded_len(value), hex(bytes).len());
            let decoded = hex(bytes);
            let (got, rest) = decode(&decoded).unwrap();
            assert_eq!(got, value);
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn bolt1_appendix_a_failures() {
        let cases: &[(&str, BigSizeError)] = &[
            ("fd00fc", BigSizeError::NotMinimal { bits: 16 }),
            ("fe0000ffff", BigSizeError::NotMinimal { bits: 32 }),
            ("ff00000000ffffffff", BigSizeError::NotMinimal { bits: 64 }),
            ("fd00", BigSizeError::Truncated { bits: 16 }),
            ("feffff", BigSizeError::Truncated { bits: 32 }),
            ("ffffffffff", BigSizeError::Truncated { bits: 64 }),
            ("", BigSizeError::Truncated { bits: 8 }),
            ("fd", BigSizeError::Truncated { bits: 16 }),
            ("fe", BigSizeError::Truncated { bits: 32 }),
            ("ff", BigSizeError::Truncated { bits: 64 }),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(&hex(bytes)).unwrap_err(), *want, "{bytes}");
        }
    }

    #[test]
    fn decode_leaves_the_rest() {
        let (value, rest) = decode(&[0xfd, 0x01, 0x00, 0xaa]).unwrap();
        assert_eq!(value, 256);
        assert_eq!(rest, &[0xaa]);
    }
}
