//! chain20 payloads and side chains.
//!
//! A chain20 payload is `LEB128(L) ‖ first min(L, 28−v) content bytes, zero-padded ‖ ptr(20)`,
//! where v is the varint's length: the 20-byte pointer slot is always reserved, so the inline
//! capacity is 28 − v, not 48. The rest of the content travels in 120-byte chunks:
//! `100 content bytes (last one zero-padded) ‖ SHA-256(next chunk)[0:20]` (zeros in the last).
//! The pointer in the entry is the hash of chunk 0. Chunks carry no DMX and no signature; a
//! receiver recognises one by its hash, which the entry's signature covers transitively.

use thiserror::Error;

use super::varint::{self, VarintError};
use super::{sha256_trunc, HASH_LEN, PKT_LEN};

/// Content bytes per chunk.
pub const CHUNK_DATA: usize = 100;
/// Size of the pointer slot at the end of a chain20 payload.
const PTR_AT: usize = 28;
/// Largest content length we write: Android decodes at most 3 length-varint bytes.
pub const MAX_CONTENT_LEN: usize = (1 << 21) - 1;
/// Longest length varint we read (the ESP32 firmware reads up to 5 bytes).
const MAX_VARINT: usize = 5;

/// Why content cannot be written, or a payload or chunk is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SideChainError {
    /// Content too long for deployed readers.
    #[error("content of {0} bytes is longer than 2097151, the most Android can read")]
    ContentTooLong(usize),
    /// plain48 holds at most 48 bytes.
    #[error("plain48 content of {0} bytes; at most 48 fit")]
    Plain48TooLong(usize),
    /// The length varint is malformed.
    #[error("chain20 length: {0}")]
    BadLength(VarintError),
    /// The length is larger than a side chain can be.
    #[error("chain20 length {0} is larger than 2^32-1")]
    LengthTooLarge(u64),
    /// Content continues in a side chain but the pointer is all zeros.
    #[error("content needs {0} chunks but the chunk pointer is all zeros")]
    MissingPointer(u64),
    /// A chunk is not 120 bytes.
    #[error("side-chain chunk must be 120 bytes, got {0}")]
    ChunkLength(usize),
    /// A chunk does not hash to the expected pointer.
    #[error("chunk {cnr} hashes to {found}, expected {expected}")]
    ChunkHash {
        /// Chunk number.
        cnr: u64,
        /// The hash the previous link promised.
        expected: String,
        /// The chunk's hash.
        found: String,
    },
    /// Not all chunks were given.
    #[error("side chain incomplete: {have} of {need} chunks")]
    Incomplete {
        /// Chunks given.
        have: u64,
        /// Chunks needed.
        need: u64,
    },
    /// All chunks have arrived already.
    #[error("side chain is already complete")]
    AlreadyComplete,
}

/// `SHA-256(chunk)[0:20]`: how a chunk is recognised.
pub fn chunk_hash(chunk: &[u8]) -> [u8; HASH_LEN] {
    sha256_trunc(&[chunk])
}

/// Builds the chain20 payload and the side chain for `content`.
pub fn build(content: &[u8]) -> Result<([u8; 48], Vec<[u8; PKT_LEN]>), SideChainError> {
    if content.len() > MAX_CONTENT_LEN {
        return Err(SideChainError::ContentTooLong(content.len()));
    }
    let len = varint::encode(content.len() as u64);
    let inline_cap = PTR_AT - len.len();
    let (inline, rest) = content.split_at(content.len().min(inline_cap));
    let mut payload = [0u8; 48];
    for (p, b) in payload.iter_mut().zip(len.iter().chain(inline)) {
        *p = *b;
    }

    // Back to front: each chunk carries the hash of the one after it.
    let blocks: Vec<&[u8]> = rest.chunks(CHUNK_DATA).collect();
    let mut chunks = vec![[0u8; PKT_LEN]; blocks.len()];
    let mut next = [0u8; HASH_LEN];
    for (chunk, block) in chunks.iter_mut().zip(&blocks).rev() {
        for (c, b) in chunk.iter_mut().zip(block.iter()) {
            *c = *b;
        }
        chunk[CHUNK_DATA..].copy_from_slice(&next);
        next = chunk_hash(chunk);
    }
    if !chunks.is_empty() {
        payload[PTR_AT..].copy_from_slice(&next);
    }
    Ok((payload, chunks))
}

/// A parsed chain20 payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain20 {
    /// Total content length.
    pub len: u64,
    /// The content bytes carried in the entry itself.
    pub inline: Vec<u8>,
    /// Hash of chunk 0 (all zeros when there are no chunks).
    pub ptr: [u8; HASH_LEN],
}

impl Chain20 {
    /// Parses a chain20 payload.
    pub fn parse(payload: &[u8; 48]) -> Result<Chain20, SideChainError> {
        let (len, v) = varint::decode(payload, MAX_VARINT).map_err(SideChainError::BadLength)?;
        if len > u64::from(u32::MAX) {
            return Err(SideChainError::LengthTooLarge(len));
        }
        let inline_cap = PTR_AT.saturating_sub(v) as u64;
        let inline_len = len.min(inline_cap) as usize;
        let inline = payload.get(v..v + inline_len).unwrap_or_default().to_vec();
        let mut ptr = [0u8; HASH_LEN];
        ptr.copy_from_slice(&payload[PTR_AT..]);
        let parsed = Chain20 { len, inline, ptr };
        let n = parsed.chunk_count();
        if n > 0 && ptr == [0; HASH_LEN] {
            return Err(SideChainError::MissingPointer(n));
        }
        Ok(parsed)
    }

    /// How many chunks the side chain has.
    pub fn chunk_count(&self) -> u64 {
        (self.len - self.inline.len() as u64).div_ceil(CHUNK_DATA as u64)
    }

    /// Whether the whole content is inline.
    pub fn is_complete_inline(&self) -> bool {
        self.chunk_count() == 0
    }
}

/// Collects the chunks of one side chain in order and yields the content when complete.
#[derive(Debug, Clone)]
pub struct Reassembly {
    len: u64,
    total: u64,
    received: u64,
    expected: [u8; HASH_LEN],
    content: Vec<u8>,
}

impl Reassembly {
    /// Starts collecting the side chain of a chain20 entry.
    pub fn new(header: &Chain20) -> Reassembly {
        let mut content = Vec::with_capacity(header.inline.len());
        content.extend_from_slice(&header.inline);
        Reassembly {
            len: header.len,
            total: header.chunk_count(),
            received: 0,
            expected: header.ptr,
            content,
        }
    }

    /// The number of the next chunk wanted (= chunks held).
    pub fn next_cnr(&self) -> u64 {
        self.received
    }

    /// The total number of chunks.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The hash the next chunk must have, or `None` when complete.
    pub fn expected_hash(&self) -> Option<[u8; HASH_LEN]> {
        (!self.is_complete()).then_some(self.expected)
    }

    /// Whether every chunk has arrived.
    pub fn is_complete(&self) -> bool {
        self.received >= self.total
    }

    /// Adds the next chunk after checking its hash.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SideChainError> {
        if self.is_complete() {
            return Err(SideChainError::AlreadyComplete);
        }
        let chunk: &[u8; PKT_LEN] = chunk
            .try_into()
            .map_err(|_| SideChainError::ChunkLength(chunk.len()))?;
        let found = chunk_hash(chunk);
        if found != self.expected {
            return Err(SideChainError::ChunkHash {
                cnr: self.received,
                expected: hex::encode(self.expected),
                found: hex::encode(found),
            });
        }
        let missing = (self.len as usize).saturating_sub(self.content.len());
        self.content
            .extend_from_slice(chunk.get(..missing.min(CHUNK_DATA)).unwrap_or_default());
        self.expected.copy_from_slice(&chunk[CHUNK_DATA..]);
        self.received += 1;
        Ok(())
    }

    /// The content, once complete.
    pub fn content(&self) -> Option<&[u8]> {
        self.is_complete().then_some(self.content.as_slice())
    }

    /// Consumes the reassembly and returns the content, once complete.
    pub fn into_content(self) -> Option<Vec<u8>> {
        self.is_complete().then_some(self.content)
    }
}

/// Reassembles content from a chain20 payload and all of its chunks, in order.
pub fn reassemble(payload: &[u8; 48], chunks: &[[u8; PKT_LEN]]) -> Result<Vec<u8>, SideChainError> {
    let header = Chain20::parse(payload)?;
    let mut r = Reassembly::new(&header);
    for c in chunks {
        r.push(c)?;
    }
    let (have, need) = (r.next_cnr(), r.total());
    r.into_content()
        .ok_or(SideChainError::Incomplete { have, need })
}
