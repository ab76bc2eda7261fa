//! TLV records and streams, as defined by Lightning BOLT #1.
//!
//! A record is a BigSize type, a BigSize length and that many value bytes; a
//! stream is records back to back. Two readings are offered because
//! Moneysocket needs both:
//!
//! * [`records`] only checks the framing. The beacon and message decoders
//!   read records positionally and some lists (a beacon's location list)
//!   legitimately repeat a type, so ordering is theirs to check.
//! * [`TlvStream`] is the BOLT #1 stream: types strictly increasing. It keeps
//!   every record, known or not, so a stream can be re-emitted byte for byte.

use crate::bigsize;
use crate::error::TlvError;

/// One TLV record that owns its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The record's type number.
    pub tlv_type: u64,
    /// The value bytes (the length is implied).
    pub value: Vec<u8>,
}

impl Record {
    /// Creates a record.
    pub fn new(tlv_type: u64, value: impl Into<Vec<u8>>) -> Self {
        Record {
            tlv_type,
            value: value.into(),
        }
    }

    /// Appends the encoded record to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_into(self.tlv_type, &self.value, out);
    }

    /// Returns the encoded record.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Number of bytes the encoded record takes.
    pub fn encoded_len(&self) -> usize {
        bigsize::encoded_len(self.tlv_type)
            + bigsize::encoded_len(self.value.len() as u64)
            + self.value.len()
    }
}

impl From<RecordRef<'_>> for Record {
    fn from(r: RecordRef<'_>) -> Self {
        Record::new(r.tlv_type, r.value)
    }
}

/// One TLV record borrowing its value from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The record's type number.
    pub tlv_type: u64,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Appends the record `(tlv_type, value)` to `out`.
pub fn encode_into(tlv_type: u64, value: &[u8], out: &mut Vec<u8>) {
    bigsize::encode_into(tlv_type, out);
    bigsize::encode_into(value.len() as u64, out);
    out.extend_from_slice(value);
}

/// Returns the encoded record `(tlv_type, value)`.
pub fn encode(tlv_type: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(tlv_type, value, &mut out);
    out
}

/// Reads one record from the front of `input`; returns it and the rest.
pub fn pop(input: &[u8]) -> Result<(RecordRef<'_>, &[u8]), TlvError> {
    let (tlv_type, rest) = bigsize::decode(input).map_err(TlvError::Type)?;
    let (length, rest) = bigsize::decode(rest).map_err(TlvError::Length)?;
    let available = rest.len();
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l <= available)
        .ok_or(TlvError::ValueTruncated {
            declared: length,
            available,
        })?;
    let (value, rest) = rest.split_at(length);
    Ok((RecordRef { tlv_type, value }, rest))
}

/// Splits `input` into records, checking only the framing (any order).
pub fn records(mut input: &[u8]) -> Result<Vec<RecordRef<'_>>, TlvError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (record, rest) = pop(input)?;
        out.push(record);
        input = rest;
    }
    Ok(out)
}

/// A BOLT #1 TLV stream: records with strictly increasing types.
///
/// Every record is kept, so the stream re-encodes to exactly the bytes it was
/// decoded from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlvStream {
    records: Vec<Record>,
}

impl TlvStream {
    /// An empty stream.
    pub fn new() -> Self {
        TlvStream::default()
    }

    /// Decodes a whole stream, requiring strictly increasing types.
    pub fn decode(input: &[u8]) -> Result<Self, TlvError> {
        let mut stream = TlvStream::new();
        for record in records(input)? {
            stream.push(record.into())?;
        }
        Ok(stream)
    }

    /// Encodes the stream.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for record in &self.records {
            record.encode_into(&mut out);
        }
        out
    }

    /// Appends a record whose type must be greater than every type so far.
    pub fn push(&mut self, record: Record) -> Result<(), TlvError> {
        if let Some(last) = self.records.last() {
            if record.tlv_type <= last.tlv_type {
                return Err(TlvError::NotIncreasing {
                    previous: last.tlv_type,
                    current: record.tlv_type,
                });
            }
        }
        self.records.push(record);
        Ok(())
    }

    /// Inserts a record at its sorted place, replacing one of the same type.
    pub fn insert(&mut self, record: Record) {
        match self
            .records
            .binary_search_by_key(&record.tlv_type, |r| r.tlv_type)
        {
            Ok(at) => {
                if let Some(r) = self.records.get_mut(at) {
                    *r = record;
                }
            }
            Err(at) => self.records.insert(at, record),
        }
    }

    /// The value of the record of type `tlv_type`, if present.
    pub fn get(&self, tlv_type: u64) -> Option<&[u8]> {
        self.records
            .binary_search_by_key(&tlv_type, |r| r.tlv_type)
            .ok()
            .and_then(|at| self.records.get(at))
            .map(|r| r.value.as_slice())
    }

    /// All records in order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Records whose type is not in `known`, in order.
    pub fn unknown<'a>(&'a self, known: &'a [u64]) -> impl Iterator<Item = &'a Record> + 'a {
        self.records
            .iter()
            .filter(move |r| !known.contains(&r.tlv_type))
    }

    /// BOLT #1 "it's okay to be odd": fails on the first unknown even type.
    pub fn check_unknown_even(&self, known: &[u64]) -> Result<(), TlvError> {
        match self.unknown(known).find(|r| r.tlv_type % 2 == 0) {
            Some(r) => Err(TlvError::UnknownEvenType(r.tlv_type)),
            None => Ok(()),
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the stream has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BigSizeError;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn pop_reads_one_record() {
        let bytes = hex("0102abcdff");
        let (record, rest) = pop(&bytes).unwrap();
        assert_eq!(record.tlv_type, 1);
        assert_eq!(record.value, &[0xab, 0xcd]);
        assert_eq!(rest, &[0xff]);
    }

    #[test]
    fn framing_errors() {
        assert_eq!(
            pop(&[]).unwrap_err(),
            TlvError::Type(BigSizeError::Truncated { bits: 8 })
        );
        assert_eq!(
            pop(&[0]).unwrap_err(),
            TlvError::Length(BigSizeError::Truncated { bits: 8 })
        );
        assert_eq!(
            pop(&hex("fd0001")).unwrap_err(),
            TlvError::Type(BigSizeError::NotMinimal { bits: 16 })
        );
        assert_eq!(
            pop(&hex("000301")).unwrap_err(),
            TlvError::ValueTruncated {
                declared: 3,
                available: 1
            }
        );
        assert!(matches!(
            pop(&hex("00ffffffffffffffffff")).unwrap_err(),
            TlvError::ValueTruncated { .. }
        ));
    }

    /// BOLT #1 Appendix B "TLV Decoding Failures" that concern any stream.
    #[test]
    fn bolt1_stream_failures() {
        for bad in [
            "fd",
            "fd01",
            "fd000100",
            "fd0101",
            "0ffd",
            "0ffd26",
            "0ffd2602",
            "0ffd000100",
        ] {
            assert!(TlvStream::decode(&hex(bad)).is_err(), "{bad}");
        }
        // Duplicates and descending order.
        assert!(matches!(
            TlvStream::decode(&hex("0100010100")),
            Err(TlvError::NotIncreasing {
                previous: 1,
                current: 1
            })
        ));
        assert!(matches!(
            TlvStream::decode(&hex("02000100")),
            Err(TlvError::NotIncreasing {
                previous: 2,
                current: 1
            })
        ));
    }

    #[test]
    fn stream_keeps_unknown_records() {
        let bytes = hex("0100030101fd01bc02beef");
        let stream = TlvStream::decode(&bytes).unwrap();
        assert_eq!(stream.encode(), bytes);
        assert_eq!(stream.get(3), Some(&[1u8][..]));
        let unknown: Vec<_> = stream.unknown(&[1]).map(|r| r.tlv_type).collect();
        assert_eq!(unknown, vec![3, 444]);
        assert_eq!(
            stream.check_unknown_even(&[1]),
            Err(TlvError::UnknownEvenType(444))
        );
        assert_eq!(stream.check_unknown_even(&[1, 444]), Ok(()));
    }

    #[test]
    fn insert_keeps_order() {
        let mut stream = TlvStream::new();
        stream.insert(Record::new(5, vec![1]));
        stream.insert(Record::new(1, vec![2]));
        stream.insert(Record::new(5, vec![3]));
        assert_eq!(stream.encode(), hex("010102050103"));
        assert_eq!(stream.len(), 2);
    }
}
