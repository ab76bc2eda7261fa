//! WANT and CHNK request vectors.
//!
//! ```text
//! WANT = want_dmx(state) ‖ BIPF [offs, next_0, next_1, …]        next_i = next seq wanted of
//!                                                               the feed at (offs+i) mod |set|
//! CHNK = chnk_dmx(state) ‖ BIPF [[fndx, seq, next_cnr], …]
//! ```
//!
//! Both are unpadded, and their DMX depends on the XOR of the sender's GOset, so only peers
//! with identical sets understand each other. We encode INTs canonically (SIP-11) and decode
//! them as unsigned, because Android and the ESP32 write counters ≥ 128 as unsigned bytes.
//! Trailing zero bytes after the vector are tolerated (the draft spec once asked for padding);
//! any other trailing byte is an error.

use thiserror::Error;

use super::bipf::{self, BipfError, IntMode, Value};
use super::network::Network;
use super::DMX_LEN;

/// A request for log entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// GOset index of the first feed in `next`.
    pub offs: u32,
    /// The next sequence number wanted, per feed, starting at `offs` and wrapping around.
    pub next: Vec<u32>,
}

/// One side chain whose chunks are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRequest {
    /// GOset index of the feed.
    pub fndx: u32,
    /// Sequence number of the entry with the side chain.
    pub seq: u32,
    /// The next chunk wanted (= chunks already held).
    pub cnr: u32,
}

/// A request for side-chain chunks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chnk(pub Vec<ChunkRequest>);

/// Why a WANT or CHNK body is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The body is not BIPF.
    #[error("body is not BIPF: {0}")]
    Bipf(#[from] BipfError),
    /// Non-zero bytes after the vector.
    #[error("{0} non-zero bytes after the vector")]
    Trailing(usize),
    /// The body is not a LIST.
    #[error("body is a BIPF {0}, not a LIST")]
    NotAList(&'static str),
    /// A WANT without its offset.
    #[error("WANT vector is empty (no feed offset)")]
    MissingOffset,
    /// An element that should be an INT is something else.
    #[error("element {index} is not an INT")]
    NotAnInt {
        /// Position in the vector.
        index: usize,
    },
    /// A counter larger than 32 bits.
    #[error("element {index} is {value}, larger than 2^32-1")]
    TooLarge {
        /// Position in the vector.
        index: usize,
        /// The value.
        value: i64,
    },
    /// A CHNK element that is not a LIST of three INTs.
    #[error("CHNK element {index} is not a list [fndx, seq, cnr]")]
    BadTriple {
        /// Position in the vector.
        index: usize,
    },
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Bool(_) => "BOOLNONE",
        Value::Int(_) => "INT",
        Value::Double(_) => "DOUBLE",
        Value::Str(_) => "STRING",
        Value::Bytes(_) => "BYTES",
        Value::List(_) => "LIST",
        Value::Dict(_) => "DICT",
    }
}

/// Decodes the body (after the DMX) into a LIST, tolerating zero padding.
fn body_list(body: &[u8]) -> Result<Vec<Value>, RequestError> {
    let (value, used) = bipf::decode_prefix(body, IntMode::Unsigned)?;
    let extra = body.get(used..).unwrap_or_default();
    if extra.iter().any(|&b| b != 0) {
        return Err(RequestError::Trailing(extra.len()));
    }
    match value {
        Value::List(items) => Ok(items),
        other => Err(RequestError::NotAList(type_name(&other))),
    }
}

fn counter(v: &Value, index: usize) -> Result<u32, RequestError> {
    let i = v.as_int().ok_or(RequestError::NotAnInt { index })?;
    u32::try_from(i).map_err(|_| RequestError::TooLarge { index, value: i })
}

fn packet(dmx: [u8; DMX_LEN], body: Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(DMX_LEN + body.encoded_len());
    out.extend_from_slice(&dmx);
    body.encode_into(&mut out);
    out
}

impl Want {
    /// The body as a BIPF value.
    pub fn to_value(&self) -> Value {
        let mut items = Vec::with_capacity(self.next.len() + 1);
        items.push(Value::Int(i64::from(self.offs)));
        items.extend(self.next.iter().map(|&s| Value::Int(i64::from(s))));
        Value::List(items)
    }

    /// The packet for a GOset with XOR `state`.
    pub fn encode(&self, net: &Network, state: &[u8; 32]) -> Vec<u8> {
        packet(net.want_dmx(state).0, self.to_value())
    }

    /// Length of the encoded packet.
    pub fn encoded_len(&self) -> usize {
        DMX_LEN + self.to_value().encoded_len()
    }

    /// Decodes the body of a WANT packet (the bytes after the DMX).
    pub fn decode_body(body: &[u8]) -> Result<Want, RequestError> {
        let items = body_list(body)?;
        let (first, rest) = items.split_first().ok_or(RequestError::MissingOffset)?;
        let offs = counter(first, 0)?;
        let next = rest
            .iter()
            .enumerate()
            .map(|(i, v)| counter(v, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Want { offs, next })
    }
}

impl Chnk {
    /// The body as a BIPF value.
    pub fn to_value(&self) -> Value {
        Value::List(
            self.0
                .iter()
                .map(|r| {
                    Value::List(vec![
                        Value::Int(i64::from(r.fndx)),
                        Value::Int(i64::from(r.seq)),
                        Value::Int(i64::from(r.cnr)),
                    ])
                })
                .collect(),
        )
    }

    /// The packet for a GOset with XOR `state`.
    pub fn encode(&self, net: &Network, state: &[u8; 32]) -> Vec<u8> {
        packet(net.chnk_dmx(state).0, self.to_value())
    }

    /// Length of the encoded packet.
    pub fn encoded_len(&self) -> usize {
        DMX_LEN + self.to_value().encoded_len()
    }

    /// Decodes the body of a CHNK packet (the bytes after the DMX).
    pub fn decode_body(body: &[u8]) -> Result<Chnk, RequestError> {
        let items = body_list(body)?;
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let triple = match item.as_list() {
                Some(t) if t.len() == 3 => t,
                _ => return Err(RequestError::BadTriple { index }),
            };
            let get = |k: usize| {
                triple
                    .get(k)
                    .ok_or(RequestError::BadTriple { index })
                    .and_then(|v| counter(v, index))
            };
            out.push(ChunkRequest {
                fndx: get(0)?,
                seq: get(1)?,
                cnr: get(2)?,
            });
        }
        Ok(Chnk(out))
    }
}
