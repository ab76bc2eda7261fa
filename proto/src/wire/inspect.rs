//! Says what an unknown packet is, or precisely why it is invalid (`lichen inspect`).
//!
//! Most tinySSB packets cannot be understood without state: an entry's DMX depends on the
//! feed, sequence number and predecessor; WANT/CHNK DMXs on the sender's GOset; a chunk is
//! known only by the hash its entry promised. [`Context`] carries what the caller knows, and
//! [`inspect`] tries each interpretation, from the framing inwards.

use super::bipf::{self, IntMode, Value};
use super::entry::{self, EntryKind, Name};
use super::frame::{self, CRC_LEN};
use super::goset::{self, GosetPacket};
use super::network::Network;
use super::request::{Chnk, Want};
use super::sidechain::{self, Chain20};
use super::{Dmx, Mid, DMX_LEN, HASH_LEN, PKT_LEN};
use crate::identity::FeedKey;

/// An entry the caller expects: a feed's key, the sequence number and the predecessor.
#[derive(Debug, Clone)]
pub struct ExpectedEntry {
    /// The feed's key.
    pub key: FeedKey,
    /// Sequence number.
    pub seq: u32,
    /// Message id of the predecessor.
    pub prev: Mid,
}

/// A side-chain chunk the caller expects.
#[derive(Debug, Clone)]
pub struct ExpectedChunk {
    /// `SHA-256(chunk)[0:20]`.
    pub hash: [u8; HASH_LEN],
    /// A description, e.g. `feed … seq 4 chunk 2`.
    pub label: String,
}

/// What the caller knows about the network and its feeds.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The network (prefix and DMXs).
    pub net: Network,
    /// GOset states to try for WANT and CHNK, each with a label.
    pub goset_states: Vec<(String, [u8; 32])>,
    /// Entries to try.
    pub entries: Vec<ExpectedEntry>,
    /// Chunks to try.
    pub chunks: Vec<ExpectedChunk>,
}

/// The verdict on one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// What the packet is: `log entry`, `side-chain chunk`, `GOset claim`, … or `unknown`.
    pub kind: String,
    /// `Some(true)` valid, `Some(false)` invalid, `None` when it cannot be checked without
    /// more state.
    pub valid: Option<bool>,
    /// Fields, in reading order.
    pub fields: Vec<(String, String)>,
    /// Why it is invalid, or what is missing to check it.
    pub problem: Option<String>,
}

impl Inspection {
    fn new(kind: &str) -> Inspection {
        Inspection {
            kind: kind.into(),
            valid: Some(true),
            fields: Vec::new(),
            problem: None,
        }
    }

    fn field(mut self, name: &str, value: impl Into<String>) -> Inspection {
        self.fields.push((name.into(), value.into()));
        self
    }

    fn invalid(mut self, problem: impl Into<String>) -> Inspection {
        self.valid = Some(false);
        self.problem = Some(problem.into());
        self
    }

    fn unchecked(mut self, problem: impl Into<String>) -> Inspection {
        self.valid = None;
        self.problem = Some(problem.into());
        self
    }
}

/// Inspects `bytes` (a bare packet or a CRC-32 frame).
pub fn inspect(ctx: &Context, bytes: &[u8]) -> Inspection {
    if bytes.len() < DMX_LEN {
        return Inspection::new("unknown").invalid(format!(
            "{} bytes: every tinySSB packet starts with a 7-byte DMX",
            bytes.len()
        ));
    }
    let bare = inspect_packet(ctx, bytes);
    if bare.valid == Some(true) {
        return bare;
    }
    match frame::unframe(bytes) {
        Ok(pkt) => {
            let framed = with_framing(inspect_packet(ctx, pkt));
            if framed.valid != Some(false) || bare.kind == "unknown" {
                return framed;
            }
            bare
        }
        // 124 bytes is the size of a LoRa frame of a 120-byte packet.
        Err(e) if bytes.len() == PKT_LEN + CRC_LEN && bare.valid.is_some() => {
            Inspection::new("LoRa/UDP frame").invalid(e.to_string())
        }
        Err(_) => bare,
    }
}

fn with_framing(mut i: Inspection) -> Inspection {
    i.fields.insert(
        0,
        ("framing".into(), "CRC-32 frame (LoRa/UDP), CRC ok".into()),
    );
    i
}

fn inspect_packet(ctx: &Context, pkt: &[u8]) -> Inspection {
    let Some(dmx) = Dmx::of(pkt) else {
        return Inspection::new("unknown").invalid("shorter than a DMX");
    };
    let body = pkt.get(DMX_LEN..).unwrap_or_default();
    if dmx == ctx.net.goset_dmx() {
        return inspect_goset(ctx, pkt);
    }
    for (label, state) in &ctx.goset_states {
        if dmx == ctx.net.want_dmx(state) {
            let i = Inspection::new("WANT request").field("goset", label.clone());
            return match Want::decode_body(body) {
                Ok(w) => i
                    .field("offs", w.offs.to_string())
                    .field("next_seqs", format!("{:?}", w.next)),
                Err(e) => i.invalid(e.to_string()),
            };
        }
        if dmx == ctx.net.chnk_dmx(state) {
            let i = Inspection::new("CHNK request").field("goset", label.clone());
            return match Chnk::decode_body(body) {
                Ok(c) => i.field(
                    "requests",
                    c.0.iter()
                        .map(|r| format!("[fndx {} seq {} cnr {}]", r.fndx, r.seq, r.cnr))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Err(e) => i.invalid(e.to_string()),
            };
        }
    }
    if pkt.len() == PKT_LEN {
        return inspect_120(ctx, pkt, dmx);
    }
    guess_request(dmx, body, pkt.len())
}

fn inspect_goset(ctx: &Context, pkt: &[u8]) -> Inspection {
    match goset::decode(&ctx.net, pkt) {
        Ok(GosetPacket::Claim(c)) => Inspection::new("GOset claim")
            .field("lo", c.lo.to_hex())
            .field("hi", c.hi.to_hex())
            .field("xor", hex::encode(c.xor))
            .field("cnt", c.cnt.to_string()),
        Ok(GosetPacket::Novelty(fid)) => Inspection::new("GOset novelty")
            .field("fid", fid.to_hex())
            .field("ref", fid.to_ref()),
        Ok(GosetPacket::Zap) => Inspection::new("GOset zap")
            .unchecked("zap is an ESP32-only wipe request, dormant in the firmware; ignored"),
        Err(e) => Inspection::new("GOset packet").invalid(e.to_string()),
    }
}

fn inspect_120(ctx: &Context, pkt: &[u8], dmx: Dmx) -> Inspection {
    for exp in &ctx.entries {
        let name = Name::new(&ctx.net, exp.key.fid(), exp.seq, &exp.prev);
        if name.dmx() != dmx {
            continue;
        }
        let base = Inspection::new("log entry")
            .field("feed", exp.key.fid().to_ref())
            .field("seq", exp.seq.to_string());
        return match entry::verify(&ctx.net, &exp.key, exp.seq, &exp.prev, pkt) {
            Ok((e, mid)) => describe_entry(base.field("mid", mid.to_string()), &e),
            Err(err) => base.invalid(err.to_string()),
        };
    }
    let hash = sidechain::chunk_hash(pkt);
    if let Some(c) = ctx.chunks.iter().find(|c| c.hash == hash) {
        let next = pkt.get(100..).unwrap_or_default();
        return Inspection::new("side-chain chunk")
            .field("of", c.label.clone())
            .field("hash", hex::encode(hash))
            .field(
                "next",
                if next.iter().all(|&b| b == 0) {
                    "none (last chunk)".to_string()
                } else {
                    hex::encode(next)
                },
            );
    }
    let mut guess = Inspection::new("log entry or side-chain chunk").field("dmx", dmx.to_string());
    if let Ok(e) = entry::Entry::from_bytes(pkt) {
        guess = describe_entry(guess, &e);
    }
    guess.unchecked(
        "120 bytes whose DMX matches no expected entry and whose hash matches no expected \
         chunk; give --feed, --seq and --prev to check it as a log entry",
    )
}

fn describe_entry(mut i: Inspection, e: &entry::Entry) -> Inspection {
    i = i.field("type", e.kind().name());
    match e.kind() {
        EntryKind::Chain20 => match Chain20::parse(e.payload()) {
            Ok(c) => {
                i = i
                    .field("content_len", c.len.to_string())
                    .field("chunks", c.chunk_count().to_string());
                if c.is_complete_inline() {
                    i = i.field("content", describe_content(&c.inline));
                }
                i
            }
            Err(err) => i.field("payload", format!("not a valid chain20 payload: {err}")),
        },
        EntryKind::Plain48 => i.field("payload", hex::encode(e.payload())),
        EntryKind::Other(_) => i.field("payload", hex::encode(e.payload())),
    }
}

/// A short human rendering of content: its BIPF value, or hex.
pub fn describe_content(content: &[u8]) -> String {
    match bipf::decode(content) {
        Ok(v) => format!("BIPF {v}"),
        Err(_) => format!("{} raw bytes: {}", content.len(), hex::encode(content)),
    }
}

fn guess_request(dmx: Dmx, body: &[u8], len: usize) -> Inspection {
    let shape = match bipf::decode_prefix(body, IntMode::Unsigned) {
        Ok((Value::List(items), _)) if !items.is_empty() => {
            if items.iter().all(|v| v.as_int().is_some()) {
                Some("WANT")
            } else if items
                .iter()
                .all(|v| v.as_list().is_some_and(|t| t.len() == 3))
            {
                Some("CHNK")
            } else {
                None
            }
        }
        _ => None,
    };
    match shape {
        Some(kind) => Inspection::new(&format!("{kind} request (probably)"))
            .field("dmx", dmx.to_string())
            .unchecked(format!(
                "the body has the shape of a {kind} vector, but DMX {dmx} belongs to no GOset \
                 known here: the sender's GOset differs from ours, so we cannot serve it"
            )),
        None => Inspection::new("unknown").invalid(format!(
            "{len} bytes with DMX {dmx}: not a GOset packet, not a WANT/CHNK of a known GOset, \
             and not 120 bytes (log entries and chunks are exactly 120)"
        )),
    }
}
