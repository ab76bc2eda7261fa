//! Unsigned LEB128 varints, as used for BIPF tags and for the chain20 content length.
//!
//! Decoding is strict about what can go wrong with outside bytes: a varint that runs past the
//! end of the input, or one longer than the caller allows, is an error, never a panic.

use thiserror::Error;

/// Why a varint could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VarintError {
    /// The input ended before the varint's last byte (one without the 0x80 bit).
    #[error("varint runs past the end of the input")]
    Truncated,
    /// The varint has more bytes than this field allows.
    #[error("varint longer than {max} bytes")]
    TooLong {
        /// The largest number of bytes allowed here.
        max: usize,
    },
}

/// Appends the LEB128 encoding of `value` to `out`.
pub fn encode_into(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// The LEB128 encoding of `value`.
pub fn encode(value: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    encode_into(value, &mut out);
    out
}

/// How many bytes the LEB128 encoding of `value` takes.
pub fn encoded_len(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Reads a LEB128 varint of at most `max_bytes` bytes (at most 10) from the start of `input`.
/// Returns the value and how many bytes it took.
pub fn decode(input: &[u8], max_bytes: usize) -> Result<(u64, usize), VarintError> {
    let max = max_bytes.min(10);
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i >= max {
            return Err(VarintError::TooLong { max });
        }
        value |= u64::from(byte & 0x7f)
            .checked_shl(7 * i as u32)
            .unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if input.len() >= max {
        Err(VarintError::TooLong { max })
    } else {
        Err(VarintError::Truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values() {
        assert_eq!(encode(0), vec![0]);
        assert_eq!(encode(127), vec![0x7f]);
        assert_eq!(encode(128), vec![0x80, 0x01]);
        assert_eq!(decode(&[0xfa, 0x01], 3), Ok((250, 2)));
    }

    #[test]
    fn errors() {
        assert_eq!(decode(&[0x80], 3), Err(VarintError::Truncated));
        assert_eq!(decode(&[], 3), Err(VarintError::Truncated));
        assert_eq!(
            decode(&[0x80, 0x80, 0x80, 0x01], 3),
            Err(VarintError::TooLong { max: 3 })
        );
    }

    #[test]
    fn encoded_len_matches() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u32::MAX as u64, u64::MAX] {
            assert_eq!(encoded_len(v), encode(v).len(), "{v}");
        }
    }
}
