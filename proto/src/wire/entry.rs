//! The 120-byte signed log entry.
//!
//! ```text
//! name   = prefix("tinyssb-v0") ‖ FID(32) ‖ seq(u32 BE) ‖ prev(20)   -- never sent
//! packet = DMX(7) ‖ type(1) ‖ payload(48) ‖ signature(64)          -- 120 bytes
//! DMX    = SHA-256(name)[0:7]
//! sig    = ed25519(name ‖ packet[0:56])
//! MID    = SHA-256(name ‖ packet)[0:20]
//! ```
//!
//! Sequence numbers start at 1, and `prev` of entry 1 is the first 20 bytes of the feed id
//! (deployed code; the draft spec's "all zeros" is wrong). A receiver knows (FID, seq, prev) of
//! the next entry it expects, so the DMX alone tells which feed a packet continues.
//!
//! Verification takes a [`FeedKey`] (the decompressed public key), so repeated checks of one
//! feed cost one hash for the DMX, one signature check and one hash for the MID.
//! [`verify_batch`] checks many entries with one ed25519 batch verification for bursts.

use ed25519_dalek::{Signature, Verifier};
use thiserror::Error;

use super::network::{Network, MAX_KEY_LEN, PREFIX};
use super::sidechain::{self, SideChainError};
use super::{sha256_trunc, Dmx, Mid, DMX_LEN, HASH_LEN, PKT_LEN};
use crate::identity::{FeedId, FeedKey, Identity};

/// Length of the hidden name on the deployed network (empty network key).
pub const NAME_LEN: usize = 10 + 32 + 4 + HASH_LEN;
const MAX_NAME: usize = MAX_KEY_LEN + NAME_LEN;
/// Length of the signed part of a packet (DMX, type, payload).
pub const SIGNED_PKT_LEN: usize = 56;
/// Length of an entry's payload.
pub const PAYLOAD_LEN: usize = 48;

/// Type byte of an entry with 48 raw payload bytes.
pub const TYPE_PLAIN48: u8 = 0x00;
/// Type byte of an entry with a length, inline content and a side-chain pointer.
pub const TYPE_CHAIN20: u8 = 0x01;

/// Why a packet is not the expected log entry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EntryError {
    /// Log entries are exactly 120 bytes.
    #[error("log entry must be 120 bytes, got {0}")]
    WrongLength(usize),
    /// The DMX is not the one of the expected (feed, seq, prev).
    #[error("DMX {found} is not {expected}, the DMX of the expected entry")]
    WrongDmx {
        /// The DMX computed from the expected name.
        expected: Dmx,
        /// The DMX in the packet.
        found: Dmx,
    },
    /// The signature does not verify under the feed's key.
    #[error("signature does not verify under the feed's key")]
    BadSignature,
    /// Sequence numbers are 32 bits on the wire.
    #[error("sequence number past 2^32-1")]
    SeqOverflow,
    /// The content cannot be written as a chain20 entry.
    #[error(transparent)]
    Content(#[from] SideChainError),
}

/// The type of an entry, from its type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// `0x00`: 48 raw bytes.
    Plain48,
    /// `0x01`: length, inline content and a pointer to a side chain.
    Chain20,
    /// Any other type byte: stored as is; no deployed code writes these.
    Other(u8),
}

impl EntryKind {
    /// The kind for a type byte.
    pub fn from_byte(b: u8) -> EntryKind {
        match b {
            TYPE_PLAIN48 => EntryKind::Plain48,
            TYPE_CHAIN20 => EntryKind::Chain20,
            other => EntryKind::Other(other),
        }
    }

    /// A short name: `plain48`, `chain20` or `type-0xNN`.
    pub fn name(&self) -> String {
        match self {
            EntryKind::Plain48 => "plain48".into(),
            EntryKind::Chain20 => "chain20".into(),
            EntryKind::Other(b) => format!("type-0x{b:02x}"),
        }
    }
}

/// The hidden 66-byte (plus network key) name of an entry.
#[derive(Clone)]
pub struct Name {
    buf: [u8; MAX_NAME],
    len: usize,
}

impl Name {
    /// The name of entry `seq` of `fid` whose predecessor has message id `prev`.
    pub fn new(net: &Network, fid: &FeedId, seq: u32, prev: &Mid) -> Name {
        let mut buf = [0u8; MAX_NAME];
        let key = net.key();
        let mut len = 0;
        for part in [key, PREFIX, &fid.0, &seq.to_be_bytes(), &prev.0] {
            if let Some(dst) = buf.get_mut(len..len + part.len()) {
                dst.copy_from_slice(part);
            }
            len += part.len();
        }
        Name { buf, len }
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// `SHA-256(name)[0:7]`.
    pub fn dmx(&self) -> Dmx {
        Dmx(sha256_trunc(&[self.as_bytes()]))
    }

    /// The message id of `pkt` under this name.
    pub fn mid(&self, pkt: &[u8; PKT_LEN]) -> Mid {
        Mid(sha256_trunc(&[self.as_bytes(), pkt]))
    }

    /// The bytes the signature covers: `name ‖ pkt[0:56]`.
    fn signed_bytes(&self, pkt: &[u8; PKT_LEN]) -> ([u8; MAX_NAME + SIGNED_PKT_LEN], usize) {
        let mut out = [0u8; MAX_NAME + SIGNED_PKT_LEN];
        let signed = self
            .as_bytes()
            .iter()
            .chain(pkt.iter().take(SIGNED_PKT_LEN));
        let mut len = 0;
        for (o, b) in out.iter_mut().zip(signed) {
            *o = *b;
            len += 1;
        }
        (out, len)
    }
}

/// `prev` of entry 1: the first 20 bytes of the feed id.
pub fn first_prev(fid: &FeedId) -> Mid {
    let mut m = [0u8; HASH_LEN];
    m.copy_from_slice(&fid.0[..HASH_LEN]);
    Mid(m)
}

/// A 120-byte log entry packet (its signature not necessarily checked).
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    pkt: [u8; PKT_LEN],
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Entry({} {})", self.dmx(), self.kind().name())
    }
}

impl Entry {
    /// Wraps a packet after checking its length.
    pub fn from_bytes(pkt: &[u8]) -> Result<Entry, EntryError> {
        let pkt: [u8; PKT_LEN] = pkt
            .try_into()
            .map_err(|_| EntryError::WrongLength(pkt.len()))?;
        Ok(Entry { pkt })
    }

    /// The 120 bytes.
    pub fn bytes(&self) -> &[u8; PKT_LEN] {
        &self.pkt
    }

    /// The DMX (first 7 bytes).
    pub fn dmx(&self) -> Dmx {
        let mut d = [0u8; DMX_LEN];
        d.copy_from_slice(&self.pkt[..DMX_LEN]);
        Dmx(d)
    }

    /// The type.
    pub fn kind(&self) -> EntryKind {
        EntryKind::from_byte(self.pkt[DMX_LEN])
    }

    /// The 48 payload bytes.
    pub fn payload(&self) -> &[u8; PAYLOAD_LEN] {
        self.pkt[8..SIGNED_PKT_LEN]
            .try_into()
            .unwrap_or(&[0; PAYLOAD_LEN])
    }

    /// The 64 signature bytes.
    pub fn signature(&self) -> &[u8; 64] {
        self.pkt[SIGNED_PKT_LEN..].try_into().unwrap_or(&[0; 64])
    }
}

/// A freshly signed entry with everything needed to store and send it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The entry packet.
    pub entry: Entry,
    /// Its message id (the next entry's `prev`).
    pub mid: Mid,
    /// Side-chain chunks, in order (empty for plain48 and short chain20 content).
    pub chunks: Vec<[u8; PKT_LEN]>,
}

/// Signs entry `seq` with a given type byte and payload.
pub fn sign_raw(
    net: &Network,
    author: &Identity,
    seq: u32,
    prev: &Mid,
    type_byte: u8,
    payload: &[u8; PAYLOAD_LEN],
) -> (Entry, Mid) {
    let name = Name::new(net, author.fid(), seq, prev);
    let mut pkt = [0u8; PKT_LEN];
    pkt[..DMX_LEN].copy_from_slice(&name.dmx().0);
    pkt[DMX_LEN] = type_byte;
    pkt[8..SIGNED_PKT_LEN].copy_from_slice(payload);
    let (signed, len) = name.signed_bytes(&pkt);
    let sig = author.sign(signed.get(..len).unwrap_or_default());
    pkt[SIGNED_PKT_LEN..].copy_from_slice(&sig);
    let mid = name.mid(&pkt);
    (Entry { pkt }, mid)
}

/// Signs `content` as chain20 entry `seq` (what the Android app writes), building the side
/// chain when the content does not fit inline.
pub fn sign_chain20(
    net: &Network,
    author: &Identity,
    seq: u32,
    prev: &Mid,
    content: &[u8],
) -> Result<Signed, EntryError> {
    let (payload, chunks) = sidechain::build(content)?;
    let (entry, mid) = sign_raw(net, author, seq, prev, TYPE_CHAIN20, &payload);
    Ok(Signed { entry, mid, chunks })
}

/// Signs up to 48 bytes as plain48 entry `seq` (zero-padded).
pub fn sign_plain48(
    net: &Network,
    author: &Identity,
    seq: u32,
    prev: &Mid,
    content: &[u8],
) -> Result<Signed, EntryError> {
    if content.len() > PAYLOAD_LEN {
        return Err(SideChainError::Plain48TooLong(content.len()).into());
    }
    let mut payload = [0u8; PAYLOAD_LEN];
    for (p, c) in payload.iter_mut().zip(content) {
        *p = *c;
    }
    let (entry, mid) = sign_raw(net, author, seq, prev, TYPE_PLAIN48, &payload);
    Ok(Signed {
        entry,
        mid,
        chunks: Vec::new(),
    })
}

/// Checks that `pkt` is entry `seq` of the feed, with predecessor `prev`: length, DMX,
/// signature. Returns the entry and its message id.
pub fn verify(
    net: &Network,
    key: &FeedKey,
    seq: u32,
    prev: &Mid,
    pkt: &[u8],
) -> Result<(Entry, Mid), EntryError> {
    let entry = Entry::from_bytes(pkt)?;
    let name = Name::new(net, key.fid(), seq, prev);
    check_dmx(&name, &entry)?;
    let (signed, len) = name.signed_bytes(&entry.pkt);
    let sig = Signature::from_bytes(entry.signature());
    key.verifying_key()
        .verify(signed.get(..len).unwrap_or_default(), &sig)
        .map_err(|_| EntryError::BadSignature)?;
    let mid = name.mid(&entry.pkt);
    Ok((entry, mid))
}

fn check_dmx(name: &Name, entry: &Entry) -> Result<(), EntryError> {
    let expected = name.dmx();
    if expected != entry.dmx() {
        return Err(EntryError::WrongDmx {
            expected,
            found: entry.dmx(),
        });
    }
    Ok(())
}

/// One entry to check in a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The feed's key.
    pub key: &'a FeedKey,
    /// The sequence number the entry must have.
    pub seq: u32,
    /// The message id of its predecessor.
    pub prev: Mid,
    /// The packet.
    pub pkt: &'a [u8],
}

/// Checks many entries at once: DMX and MID per entry, signatures with one ed25519 batch
/// verification. If the batch fails, each signature is checked alone so that exactly the bad
/// ones are reported. Results are in input order.
pub fn verify_batch(
    net: &Network,
    items: &[BatchItem<'_>],
) -> Vec<Result<(Entry, Mid), EntryError>> {
    let mut results: Vec<Result<(Entry, Mid), EntryError>> = Vec::with_capacity(items.len());
    let mut signed_bufs = Vec::with_capacity(items.len());
    let mut pending = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let checked = Entry::from_bytes(item.pkt).and_then(|entry| {
            let name = Name::new(net, item.key.fid(), item.seq, &item.prev);
            check_dmx(&name, &entry)?;
            let (buf, len) = name.signed_bytes(&entry.pkt);
            signed_bufs.push((buf, len));
            pending.push(i);
            let mid = name.mid(&entry.pkt);
            Ok((entry, mid))
        });
        results.push(checked);
    }
    if pending.is_empty() {
        return results;
    }
    let messages: Vec<&[u8]> = signed_bufs
        .iter()
        .map(|(b, l)| b.get(..*l).unwrap_or_default())
        .collect();
    let mut sigs = Vec::with_capacity(pending.len());
    let mut keys = Vec::with_capacity(pending.len());
    for &i in &pending {
        if let (Some(item), Some(Ok((entry, _)))) = (items.get(i), results.get(i)) {
            sigs.push(Signature::from_bytes(entry.signature()));
            keys.push(*item.key.verifying_key());
        }
    }
    if ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok() {
        return results;
    }
    for (j, &i) in pending.iter().enumerate() {
        let ok = match (messages.get(j), sigs.get(j), keys.get(j)) {
            (Some(m), Some(s), Some(k)) => k.verify(m, s).is_ok(),
            _ => false,
        };
        if !ok {
            if let Some(r) = results.get_mut(i) {
                *r = Err(EntryError::BadSignature);
            }
        }
    }
    results
}

/// Checks a consecutive run of one feed's entries, starting at `first_seq` after `prev`,
/// with one batch verification. Returns the longest valid prefix, and the error that ended
/// it if the run was not valid to the end.
pub fn verify_run(
    net: &Network,
    key: &FeedKey,
    first_seq: u32,
    prev: Mid,
    pkts: &[&[u8]],
) -> (Vec<(Entry, Mid)>, Option<EntryError>) {
    // MIDs do not depend on signature validity, so the chain of names is known up front.
    let mut items = Vec::with_capacity(pkts.len());
    let mut prev = prev;
    for (i, pkt) in pkts.iter().enumerate() {
        let Some(seq) = first_seq.checked_add(i as u32) else {
            break;
        };
        items.push(BatchItem {
            key,
            seq,
            prev,
            pkt,
        });
        let Ok(entry) = Entry::from_bytes(pkt) else {
            break;
        };
        prev = Name::new(net, key.fid(), seq, &prev).mid(&entry.pkt);
    }
    let mut good = Vec::with_capacity(items.len());
    for r in verify_batch(net, &items) {
        match r {
            Ok(x) => good.push(x),
            Err(e) => return (good, Some(e)),
        }
    }
    let err = (good.len() < pkts.len()).then_some(EntryError::SeqOverflow);
    (good, err)
}
