//! The replication engine: a plain struct driven by calls, with an injected clock and seed.
//!
//! Inbound, [`Engine::on_packets`] demultiplexes by the first 7 bytes: the GOset DMX goes to the
//! [`Goset`]; the current WANT/CHNK DMXs to the request server; a feed's next-entry DMX to entry
//! ingest (DMX, signature, append; runs of entries are verified as one batch); otherwise the
//! packet's SHA-256[0:20] is looked up among expected side-chain chunks. Anything else is
//! dropped with a trace event and counted. Outbound, [`Engine::poll`] yields GOset rounds,
//! WANT/CHNK vectors and queued answers, each for a face, paced per face.
//!
//! The engine calls the [`Store`] (synchronous; the in-memory one in simulations) but does no
//! network I/O and reads no clock: everything is reproducible from the seed and the inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tracing::{debug, trace, warn};

use super::goset::{Added, Goset, GosetOut, DEFAULT_QUARANTINE, DEFAULT_TTL, MAX_KEYS};
use super::link::{FaceId, FaceProfile, FaceState};
use super::repair::Answer;
use super::stash::Stash;
use crate::identity::{FeedId, FeedKey};
use crate::lora::BudgetEvent;
use crate::store::{Store, StoreError};
use crate::time::Millis;
use crate::wire::entry::{self, first_prev, BatchItem, Entry, EntryKind, Name, SIGNED_PKT_LEN};
use crate::wire::goset::{self as wire_goset, GosetPacket};
use crate::wire::network::Network;
use crate::wire::request::{Chnk, ChunkRequest, Want};
use crate::wire::sidechain::{chunk_hash, Chain20, CHUNK_DATA};
use crate::wire::{Dmx, Mid, DMX_LEN, HASH_LEN, PKT_LEN};

/// Largest WANT/CHNK packet we build: one LoRa frame carries 120 bytes.
const MAX_REQUEST_LEN: usize = PKT_LEN;
/// Open side chains requested per feed in one CHNK vector (Android: 3).
const CHAINS_PER_FEED: usize = 3;
/// Own entries whose DMX an audit probe arms (the probed one and those after it, which a
/// peer's burst brings along).
const AUDIT_WINDOW: u32 = 64;
/// Most own-entry DMXs armed at once (bounds memory whatever the feed's length).
const MAX_AUDIT_DMXS: usize = 4096;
/// Probes of one seq that may go unanswered before an audit gives up.
const AUDIT_TRIES: u8 = 3;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most feeds in the GOset.
    pub max_feeds: usize,
    /// Time between GOset rounds.
    pub goset_interval: Millis,
    /// Time between WANT/CHNK rounds when nothing arrives.
    pub want_interval: Millis,
    /// After new data arrived, re-request once no packet came for this long.
    pub quiet_before_rewant: Millis,
    /// Keys learned from the network per GOset interval (bounds novelty floods; early
    /// rounds do not refill it).
    pub new_keys_per_round: usize,
    /// How long a key learned from a peer may wait for its first entry before it leaves the
    /// GOset (ADR 0012).
    pub provisional_ttl: Millis,
    /// How long such a dropped key is refused when a peer names it again.
    pub quarantine_for: Millis,
    /// Unplaced 120-byte packets kept for when the packet they follow arrives (0: none;
    /// see [`super::stash`]).
    pub stash: usize,
    /// How often the own feed is audited for forks against one face that holds some of it
    /// (ADR 0020); [`Millis::MAX`]: never.
    pub audit_interval: Millis,
    /// How long an audit probe waits for the peer's answer.
    pub audit_timeout: Millis,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_feeds: MAX_KEYS,
            goset_interval: 2_000,
            want_interval: 1_000,
            quiet_before_rewant: 15,
            new_keys_per_round: 16,
            provisional_ttl: DEFAULT_TTL,
            quarantine_for: DEFAULT_QUARANTINE,
            stash: 0,
            audit_interval: 60_000,
            audit_timeout: 1_000,
        }
    }
}

impl Config {
    /// Timers for LoRa: a claim every 20 s (as the ESP32), WANT/CHNK every 10 s, a
    /// re-request once nothing arrived for 1.5 s (several frame times), and a stash of 128
    /// frames that arrived after a lost one.
    pub fn lora() -> Config {
        Config {
            goset_interval: 20_000,
            want_interval: 10_000,
            quiet_before_rewant: 1_500,
            stash: 128,
            audit_interval: 600_000,
            audit_timeout: 20_000,
            ..Config::default()
        }
    }

    /// The deployed Android app's timers: GOset every 10 s, WANT/CHNK every 5 s.
    pub fn android_reference() -> Config {
        Config {
            goset_interval: 10_000,
            want_interval: 5_000,
            quiet_before_rewant: Millis::MAX,
            ..Config::default()
        }
    }
}

/// Something the node, the chat layer or a UI should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new entry was verified and stored.
    EntryAdded {
        /// The face it came in on (the first that brought it).
        face: FaceId,
        /// The feed.
        fid: FeedId,
        /// Its sequence number.
        seq: u32,
        /// Its message id.
        mid: Mid,
        /// Side-chain chunks still to come (0 = content complete).
        chunks_missing: u64,
    },
    /// The last chunk of a side chain arrived.
    ChainComplete {
        /// The feed.
        fid: FeedId,
        /// The entry.
        seq: u32,
    },
    /// A feed joined the GOset (and is now replicated; provisionally if a peer named it).
    FeedAdded {
        /// The feed.
        fid: FeedId,
    },
    /// The GOset is full; a key a peer announced was not added.
    GosetFull {
        /// The key refused.
        refused: FeedId,
    },
    /// A key a peer named left the GOset: no entry came for it in time, or a newer key
    /// needed its place (ADR 0012).
    FeedDropped {
        /// The feed.
        fid: FeedId,
    },
    /// A LoRa face spent its duty-cycle budget; it sends again at `resumes_at`.
    AirtimeSpent {
        /// The face.
        face: FaceId,
        /// When sending resumes (engine clock).
        resumes_at: Millis,
    },
    /// A LoRa face may send again.
    AirtimeResumed {
        /// The face.
        face: FaceId,
    },
    /// An entry of the own feed (see [`Engine::set_own_feed`]) was handed out by `poll` for a
    /// face: it is on its way to a peer.
    OwnEntrySent {
        /// The face.
        face: FaceId,
        /// The entry.
        seq: u32,
    },
    /// A peer's WANT showed it holds a feed up to `seq` (reported when that face's value
    /// rises). For the own feed `seq` is at most what we hold; for other feeds it is only the
    /// peer's word, a hint. A WANT proves nothing: whoever counts on it must check it
    /// against what was sent (see `chat::inner`).
    PeerHolds {
        /// Where the WANT came from.
        face: FaceId,
        /// The feed.
        fid: FeedId,
        /// The peer's last entry.
        seq: u32,
    },
    /// Proof that the own feed is forked: a peer sent an entry at `seq` that follows our
    /// entry `seq - 1` (same name, hence same DMX), is validly signed with our key, and is not
    /// our entry `seq`. Another device writes this key. Neither branch is merged: we keep
    /// ours and refuse theirs (ADR 0020). Reported once per (feed, seq).
    ForkDetected {
        /// The feed.
        fid: FeedId,
        /// The first sequence number with two entries (as far as this face showed).
        seq: u32,
        /// Our entry's message id.
        ours: Mid,
        /// The other entry's message id.
        theirs: Mid,
        /// Where the other entry came from.
        face: FaceId,
        /// Our entry (120 bytes).
        ours_entry: Vec<u8>,
        /// The other entry (120 bytes), kept as evidence only.
        theirs_entry: Vec<u8>,
    },
    /// A peer's WANT claims it holds more of the own feed than this device ever signed (the
    /// store's signing high-water mark): another device may write this key, or this one is
    /// being restored. Only a claim (ADR 0013): nothing relies on the number. Reported when
    /// a face's claim rises.
    OwnFeedElsewhere {
        /// Where the WANT came from.
        face: FaceId,
        /// The feed.
        fid: FeedId,
        /// What the peer says it holds.
        held_by_peer: u32,
        /// The highest entry this device signed.
        signed_here: u32,
    },
}

/// A packet to send on a face.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The face.
    pub face: FaceId,
    /// The packet (bare; the face adds its framing).
    pub pkt: Vec<u8>,
}

/// Counters of what the engine did and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets received.
    pub rx: u64,
    /// Packets handed out by `poll`.
    pub tx: u64,
    /// Entries stored.
    pub entries: u64,
    /// Chunks stored.
    pub chunks: u64,
    /// Packets shorter than a DMX.
    pub dropped_short: u64,
    /// Packets whose DMX and hash matched nothing (duplicates, other GOsets, noise).
    pub dropped_unknown: u64,
    /// Entries with the right DMX whose signature failed.
    pub dropped_bad_entry: u64,
    /// Malformed GOset, WANT or CHNK packets.
    pub dropped_malformed: u64,
    /// Keys refused by the per-round budget, the cap, as invalid or as quarantined.
    pub dropped_keys: u64,
    /// Answers not queued because a face's queue was full.
    pub dropped_queue_full: u64,
    /// Store failures (the packet was dropped; the node keeps going).
    pub store_errors: u64,
    /// Own-feed forks proven (distinct sequence numbers).
    pub forks: u64,
}

/// An audit of the own feed against one face: a search for the first seq at which the
/// face's branch differs from ours. Invariant: the face showed it shares our entries
/// `1..=lo`; if it differs, it does so at a seq in `lo+1..=hi`.
#[derive(Debug, Clone, Copy)]
struct Audit {
    lo: u32,
    hi: u32,
    /// The seq last asked for.
    probe: u32,
    /// When the probe counts as unanswered.
    deadline: Millis,
    /// Unanswered probes of `probe` so far.
    tries: u8,
    /// A fork was proven: the audit is over.
    found: bool,
}

#[derive(Debug, Clone)]
struct FeedState {
    key: FeedKey,
    next_seq: u32,
    prev: Mid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ChunkSlot {
    fid: FeedId,
    seq: u32,
    cnr: u32,
    total: u32,
}

/// Per-feed replication progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedProgress {
    /// The feed.
    pub fid: FeedId,
    /// Entries held.
    pub held: u32,
    /// The most any peer showed it holds: for the own feed at most `held`, for others the
    /// peers' word (a hint, up to `u32::MAX - 1`).
    pub peer_max: u32,
    /// Side chains still incomplete.
    pub open_chains: usize,
    /// The most any peer *said* it holds, unchecked. For the own feed, more than `held` is
    /// never a delivery state (see `peer_max`) but is worth telling the person: another
    /// device writes this key, or this device's history is still to be recovered.
    pub peer_claimed: u32,
    /// The open links whose peer showed more than is held, with the most each showed, most
    /// first: where the missing entries can come from.
    pub shown_by: Vec<(FaceId, u32)>,
}

/// The replication engine of one node.
pub struct Engine {
    net: Network,
    store: Arc<dyn Store>,
    cfg: Config,
    goset: Goset,
    want_dmx: Dmx,
    chnk_dmx: Dmx,
    feeds: BTreeMap<FeedId, FeedState>,
    by_dmx: BTreeMap<Dmx, FeedId>,
    expected_chunks: BTreeMap<[u8; HASH_LEN], Vec<ChunkSlot>>,
    faces: BTreeMap<FaceId, FaceState>,
    stash: Stash,
    peer_holds: BTreeMap<FeedId, u32>,
    /// What peers said they hold, unchecked (reported, never used as a delivery state).
    peer_claims: BTreeMap<FeedId, u32>,
    /// What each face showed it holds, per feed (events fire when one rises).
    face_holds: BTreeMap<(FaceId, FeedId), u32>,
    want_offs: usize,
    chnk_offs: usize,
    next_goset: Millis,
    next_want: Millis,
    last_rx: Millis,
    last_activity: Millis,
    fresh_data: bool,
    keys_budget: usize,
    /// When the key budget is refilled next.
    budget_at: Millis,
    agreed_at: Option<Millis>,
    rng: ChaCha8Rng,
    events: Vec<Event>,
    stats: Stats,
    own: Option<FeedId>,
    /// Own entries queued for a face, by DMX, until `poll` hands them out.
    own_queued: BTreeMap<Dmx, u32>,
    /// Running own-feed audits, per face.
    audits: BTreeMap<FaceId, Audit>,
    /// When each face's last audit ended.
    audited_at: BTreeMap<FaceId, Millis>,
    /// DMXs of own entries armed by audit probes: a packet under one of them is either a
    /// copy of our entry or the other branch's entry at that seq.
    audit_dmx: BTreeMap<Dmx, u32>,
    /// Forks reported, (feed, seq).
    forks: BTreeSet<(FeedId, u32)>,
    /// The highest own-feed claim above the signing mark reported, per face.
    elsewhere: BTreeMap<FaceId, u32>,
}

impl Engine {
    /// An engine over `store`, replicating the feeds of the store's persisted GOset.
    pub fn new(
        net: Network,
        store: Arc<dyn Store>,
        cfg: Config,
        seed: u64,
    ) -> Result<Engine, StoreError> {
        let mut e = Engine {
            want_dmx: net.want_dmx(&[0; 32]),
            chnk_dmx: net.chnk_dmx(&[0; 32]),
            net,
            store,
            goset: Goset::with_ttl(cfg.max_feeds, cfg.provisional_ttl, cfg.quarantine_for),
            stash: Stash::new(cfg.stash),
            keys_budget: cfg.new_keys_per_round,
            budget_at: 0,
            agreed_at: None,
            cfg,
            feeds: BTreeMap::new(),
            by_dmx: BTreeMap::new(),
            expected_chunks: BTreeMap::new(),
            faces: BTreeMap::new(),
            peer_holds: BTreeMap::new(),
            peer_claims: BTreeMap::new(),
            face_holds: BTreeMap::new(),
            want_offs: 0,
            chnk_offs: 0,
            next_goset: 0,
            next_want: 0,
            last_rx: 0,
            last_activity: 0,
            fresh_data: false,
            rng: ChaCha8Rng::seed_from_u64(seed),
            events: Vec::new(),
            stats: Stats::default(),
            own: None,
            own_queued: BTreeMap::new(),
            audits: BTreeMap::new(),
            audited_at: BTreeMap::new(),
            audit_dmx: BTreeMap::new(),
            forks: BTreeSet::new(),
            elsewhere: BTreeMap::new(),
        };
        // Persisted members are anchored: added locally or holding entries. Bytes that are
        // not a key (a store written by an older version) are skipped.
        for fid in e.store.members()? {
            if fid.key().is_err() {
                debug!(?fid, "skipping a persisted GOset member that is not a key");
                continue;
            }
            if e.goset.add(fid) == Added::New {
                e.load_feed(&fid)?;
            }
        }
        e.set_changed();
        Ok(e)
    }

    /// Adds a feed to replicate (the own feed, a contact's, an invite's): anchored in the
    /// GOset and persisted in the store. A key a peer had named becomes anchored.
    pub fn add_feed(&mut self, fid: FeedId) -> Result<Added, StoreError> {
        if fid.key().is_err() {
            return Ok(Added::Known);
        }
        if self.goset.anchor(&fid) {
            self.store.add_member(&fid)?;
            return Ok(Added::Known);
        }
        let added = self.goset.add(fid);
        if added == Added::New {
            self.store.add_member(&fid)?;
            self.load_feed(&fid)?;
            self.set_changed();
            self.events.push(Event::FeedAdded { fid });
            self.want_offs = self.rng.next_u32() as usize;
            self.next_goset = 0;
        }
        Ok(added)
    }

    /// After the set changed: drops the state of keys that left it, rebinds the DMXs.
    fn set_changed(&mut self) {
        for fid in self.goset.take_removed() {
            debug!(?fid, "GOset key dropped");
            if let Some(st) = self.feeds.remove(&fid) {
                let dmx = Name::new(&self.net, &fid, st.next_seq, &st.prev).dmx();
                self.by_dmx.remove(&dmx);
            }
            self.expected_chunks.retain(|_, slots| {
                slots.retain(|s| s.fid != fid);
                !slots.is_empty()
            });
            self.peer_holds.remove(&fid);
            self.peer_claims.remove(&fid);
            self.face_holds.retain(|(_, f), _| *f != fid);
            for f in self.faces.values_mut() {
                f.forget_feed(&fid);
            }
            self.events.push(Event::FeedDropped { fid });
        }
        self.update_dmxs();
    }

    /// Names the feed this node authors, so that sending its entries is reported
    /// ([`Event::OwnEntrySent`]).
    pub fn set_own_feed(&mut self, fid: FeedId) {
        self.own = Some(fid);
    }

    /// Re-reads a feed's frontier after something outside the engine appended to it (the
    /// node publishing the own feed).
    pub fn refresh_feed(&mut self, fid: &FeedId) -> Result<(), StoreError> {
        if self.feeds.contains_key(fid) {
            self.load_feed(fid)?;
        }
        Ok(())
    }

    /// Registers a link.
    pub fn add_face(&mut self, id: FaceId, profile: FaceProfile) {
        self.faces.insert(id, FaceState::new(profile));
        // Greet the new peer with our claim and ask for what it has.
        self.next_goset = 0;
        self.next_want = 0;
    }

    /// Forgets a link and what was queued for it.
    pub fn remove_face(&mut self, id: FaceId) {
        self.faces.remove(&id);
        self.face_holds.retain(|(f, _), _| *f != id);
        self.audits.remove(&id);
        self.audited_at.remove(&id);
        self.elsewhere.remove(&id);
    }

    /// The GOset.
    pub fn goset(&self) -> &Goset {
        &self.goset
    }

    /// The DMX WANT vectors currently carry.
    pub fn want_dmx(&self) -> Dmx {
        self.want_dmx
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// When we last received new data or sent data a peer asked for (requests we had nothing
    /// for do not count, so two synced peers go idle).
    pub fn last_activity(&self) -> Millis {
        self.last_activity
    }

    /// Since when a peer's full claim has matched our GOset (same count and XOR); cleared
    /// when our set changes. Only while sets agree do WANT/CHNK vectors flow between peers.
    pub fn goset_agreed_at(&self) -> Option<Millis> {
        self.agreed_at
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The feeds whose next entry the demux table recognises (one DMX per replicated feed).
    pub fn demuxed_feeds(&self) -> Vec<FeedId> {
        self.by_dmx.values().copied().collect()
    }

    /// The links that showed more of `fid` than `held`, most first.
    fn shown_by(&self, fid: &FeedId, held: u32) -> Vec<(FaceId, u32)> {
        let mut v: Vec<(FaceId, u32)> = self
            .face_holds
            .iter()
            .filter(|((_, f), &m)| f == fid && m > held)
            .map(|(&(face, _), &m)| (face, m))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// Progress per replicated feed.
    pub fn progress(&self) -> Vec<FeedProgress> {
        self.feeds
            .iter()
            .map(|(fid, st)| FeedProgress {
                fid: *fid,
                held: st.next_seq - 1,
                shown_by: self.shown_by(fid, st.next_seq - 1),
                peer_claimed: self.peer_claims.get(fid).copied().unwrap_or(0),
                peer_max: self.peer_holds.get(fid).map_or(0, |&m| {
                    if self.own == Some(*fid) {
                        m.min(st.next_seq - 1)
                    } else {
                        m
                    }
                }),
                open_chains: self
                    .expected_chunks
                    .values()
                    .flatten()
                    .filter(|s| s.fid == *fid)
                    .count(),
            })
            .collect()
    }

    /// Handles one received packet.
    pub fn on_packet(&mut self, face: FaceId, pkt: &[u8], now: Millis) {
        self.on_packets(face, &[pkt], now);
    }

    /// Handles packets received together on one face; consecutive log entries are verified as
    /// one batch.
    pub fn on_packets(&mut self, face: FaceId, pkts: &[&[u8]], now: Millis) {
        self.last_rx = now;
        let progress_before = self.stats.entries + self.stats.chunks;
        let mut run: Vec<(FeedId, u32, Mid, &[u8])> = Vec::new();
        let mut others: Vec<(Dmx, &[u8])> = Vec::new();
        // The next DMX of each feed if the entries gathered so far are valid.
        let mut speculative: BTreeMap<Dmx, (FeedId, u32, Mid)> = BTreeMap::new();
        for pkt in pkts {
            self.stats.rx += 1;
            let Some(dmx) = Dmx::of(pkt) else {
                self.stats.dropped_short += 1;
                trace!(?face, len = pkt.len(), "dropped: shorter than a DMX");
                continue;
            };
            let next = speculative.remove(&dmx).or_else(|| {
                let fid = self.by_dmx.get(&dmx)?;
                let st = self.feeds.get(fid)?;
                (!run.iter().any(|(f, ..)| f == fid)).then_some((*fid, st.next_seq, st.prev))
            });
            if let (Some((fid, seq, prev)), Ok(e)) = (next, Entry::from_bytes(pkt)) {
                let mid = Name::new(&self.net, &fid, seq, &prev).mid(e.bytes());
                if let Some(n) = seq.checked_add(1) {
                    let ndmx = Name::new(&self.net, &fid, n, &mid).dmx();
                    speculative.insert(ndmx, (fid, n, mid));
                }
                run.push((fid, seq, prev, pkt));
                continue;
            }
            others.push((dmx, *pkt));
        }
        // Entries first, as one batch: the chunks and requests received with them (a fast
        // face pushes each entry's chunks right behind it) are placed once their entries are
        // in, in the order they came.
        self.ingest_run(face, &mut run, now);
        for (dmx, pkt) in others {
            self.on_other(face, dmx, pkt, now);
        }
        if self.stats.entries + self.stats.chunks > progress_before && !self.stash.is_empty() {
            self.unstash(face, now);
        }
    }

    /// Feeds back stashed packets that the entries and chunks just accepted made placeable.
    fn unstash(&mut self, face: FaceId, now: Millis) {
        let (by_dmx, chunks) = (&self.by_dmx, &self.expected_chunks);
        let ready = self
            .stash
            .take(|dmx, hash| by_dmx.contains_key(dmx) || chunks.contains_key(hash));
        if ready.is_empty() {
            return;
        }
        trace!(?face, n = ready.len(), "placing stashed packets");
        let pkts: Vec<&[u8]> = ready.iter().map(Vec::as_slice).collect();
        self.on_packets(face, &pkts, now);
    }

    fn on_other(&mut self, face: FaceId, dmx: Dmx, pkt: &[u8], now: Millis) {
        let body = pkt.get(DMX_LEN..).unwrap_or_default();
        if dmx == self.net.goset_dmx() {
            match wire_goset::decode(&self.net, pkt) {
                Ok(p) => self.on_goset(face, p, now),
                Err(e) => self.malformed(face, "GOset", &e.to_string()),
            }
        } else if dmx == self.want_dmx {
            match Want::decode_body(body) {
                Ok(w) => self.serve_want(face, &w, now),
                Err(e) => self.malformed(face, "WANT", &e.to_string()),
            }
        } else if dmx == self.chnk_dmx {
            match Chnk::decode_body(body) {
                Ok(c) => self.serve_chnk(face, &c, now),
                Err(e) => self.malformed(face, "CHNK", &e.to_string()),
            }
        } else if !self.ingest_chunk(pkt, now) {
            if let Some(&seq) = self.audit_dmx.get(&dmx) {
                // Never stashed: it names an entry we hold, so it can never be appended.
                self.audit_reply(face, seq, pkt, now);
            } else if self.stash.keep(pkt) {
                // Perhaps it follows a lost frame: ask again once the burst is over.
                self.fresh_data = true;
                trace!(?face, %dmx, "stashed: no handler for this DMX or hash yet");
            } else {
                self.stats.dropped_unknown += 1;
                trace!(?face, %dmx, len = pkt.len(), "dropped: no handler for this DMX or hash");
            }
        }
    }

    fn malformed(&mut self, face: FaceId, what: &str, why: &str) {
        self.stats.dropped_malformed += 1;
        debug!(?face, what, why, "dropped malformed packet");
    }

    fn ingest_run(&mut self, face: FaceId, run: &mut Vec<(FeedId, u32, Mid, &[u8])>, now: Millis) {
        if run.is_empty() {
            return;
        }
        let keys: Vec<Option<FeedKey>> = run
            .iter()
            .map(|(fid, ..)| self.feeds.get(fid).map(|s| s.key.clone()))
            .collect();
        let items: Vec<BatchItem<'_>> = run
            .iter()
            .zip(&keys)
            .filter_map(|((_, seq, prev, pkt), key)| {
                Some(BatchItem {
                    key: key.as_ref()?,
                    seq: *seq,
                    prev: *prev,
                    pkt,
                })
            })
            .collect();
        let results = entry::verify_batch(&self.net, &items);
        let mut broken: Vec<FeedId> = Vec::new();
        let mut valid: Vec<(FeedId, u32, Entry, Mid)> = Vec::new();
        for ((fid, seq, _, _), result) in run.iter().zip(results) {
            if broken.contains(fid) {
                continue; // a later entry of a feed whose earlier entry failed
            }
            match result {
                Ok((e, mid)) => valid.push((*fid, *seq, e, mid)),
                Err(err) => {
                    self.stats.dropped_bad_entry += 1;
                    debug!(?face, feed = ?fid, seq, %err, "dropped entry");
                    broken.push(*fid);
                }
            }
        }
        run.clear();
        let stored = match self.store.append_batch(&valid) {
            Ok(n) => n,
            Err(err) => {
                debug!(?face, %err, "store refused entries");
                usize::MAX
            }
        };
        if stored < valid.len() {
            // The store took a prefix (or failed part-way): count the rest and re-read the
            // frontiers of the feeds involved so the demux table matches what is stored.
            self.stats.store_errors += (valid.len() - stored.min(valid.len())) as u64;
            let mut fids: Vec<FeedId> = valid.iter().map(|v| v.0).collect();
            fids.dedup();
            for fid in fids {
                if let Err(err) = self.load_feed(&fid) {
                    debug!(%err, "re-reading a feed failed");
                }
            }
            valid.truncate(if stored == usize::MAX { 0 } else { stored });
        }
        for (fid, seq, e, mid) in &valid {
            self.accepted(face, fid, *seq, e, *mid, now);
        }
    }

    /// Bookkeeping after an entry was stored: counters, its side chain's first chunk hash,
    /// the feed's next DMX, the event.
    fn accepted(&mut self, face: FaceId, fid: &FeedId, seq: u32, e: &Entry, mid: Mid, now: Millis) {
        self.stats.entries += 1;
        if self.goset.anchor(fid) {
            // The first entry of a key a peer named: it is a feed now, keep it.
            self.persist_member(fid);
        }
        self.fresh_data = true;
        self.last_activity = now;
        let mut missing = 0;
        if e.kind() == EntryKind::Chain20 {
            if let Ok(h) = Chain20::parse(e.payload()) {
                missing = h.chunk_count();
                if missing > 0 {
                    self.arm_chunk(
                        h.ptr,
                        ChunkSlot {
                            fid: *fid,
                            seq,
                            cnr: 0,
                            total: u32::try_from(missing).unwrap_or(u32::MAX),
                        },
                    );
                }
            }
        }
        self.set_next(fid, seq.saturating_add(1), mid);
        self.events.push(Event::EntryAdded {
            face,
            fid: *fid,
            seq,
            mid,
            chunks_missing: missing,
        });
    }

    fn arm_chunk(&mut self, hash: [u8; HASH_LEN], slot: ChunkSlot) {
        let slots = self.expected_chunks.entry(hash).or_default();
        if !slots.contains(&slot) {
            slots.push(slot);
        }
    }

    /// A 120-byte packet matching an expected chunk hash; false if it matched none.
    fn ingest_chunk(&mut self, pkt: &[u8], now: Millis) -> bool {
        let Ok(chunk) = <&[u8; PKT_LEN]>::try_from(pkt) else {
            return false;
        };
        let Some(slots) = self.expected_chunks.remove(&chunk_hash(chunk)) else {
            return false;
        };
        for slot in slots {
            if let Err(err) = self.store.put_chunk(&slot.fid, slot.seq, slot.cnr, chunk) {
                self.stats.store_errors += 1;
                debug!(%err, "store refused a chunk");
                continue;
            }
            self.stats.chunks += 1;
            self.fresh_data = true;
            self.last_activity = now;
            let next = slot.cnr + 1;
            if next >= slot.total {
                self.events.push(Event::ChainComplete {
                    fid: slot.fid,
                    seq: slot.seq,
                });
            } else {
                let mut h = [0u8; HASH_LEN];
                h.copy_from_slice(&chunk[CHUNK_DATA..]);
                self.arm_chunk(h, ChunkSlot { cnr: next, ..slot });
            }
        }
        true
    }

    fn on_goset(&mut self, face: FaceId, p: GosetPacket, now: Millis) {
        let learned = match p {
            GosetPacket::Claim(c) => {
                if usize::from(c.cnt) == self.goset.len()
                    && c.xor == self.goset.state()
                    && self.agreed_at.is_none()
                {
                    self.agreed_at = Some(now);
                }
                let known = |k: &FeedId| self.goset.index_of(k).is_some();
                if self.keys_budget == 0 && !(known(&c.lo) && known(&c.hi)) {
                    self.stats.dropped_keys += 1;
                    return;
                }
                self.goset.on_claim(c, now)
            }
            GosetPacket::Novelty(fid) => {
                if self.goset.index_of(&fid).is_some() {
                    return;
                }
                if self.keys_budget == 0 {
                    self.stats.dropped_keys += 1;
                    trace!(?face, "dropped novelty: key budget spent");
                    return;
                }
                vec![(fid, self.goset.on_novelty(fid, now))]
            }
            GosetPacket::Zap => return,
        };
        for (fid, added) in learned {
            match added {
                Added::New => {
                    self.keys_budget = self.keys_budget.saturating_sub(1);
                    if self.goset.index_of(&fid).is_none() {
                        continue; // evicted again by a later key of the same claim
                    }
                    // In memory only: a peer's word is not worth a place on disk until the
                    // feed shows an entry (then `accepted` persists it).
                    if let Err(err) = self.load_feed(&fid) {
                        self.stats.store_errors += 1;
                        debug!(%err, "could not read a new GOset key's feed");
                    }
                    if self.feeds.get(&fid).is_some_and(|st| st.next_seq > 1) {
                        // We hold entries of it already: anchored from the start.
                        self.goset.anchor(&fid);
                        self.persist_member(&fid);
                    }
                    self.events.push(Event::FeedAdded { fid });
                    // Tell peers at once, and ask under the new WANT DMX without waiting.
                    self.next_goset = 0;
                    self.next_want = 0;
                }
                Added::Full => {
                    self.stats.dropped_keys += 1;
                    self.events.push(Event::GosetFull { refused: fid });
                }
                Added::Invalid | Added::Quarantined => {
                    self.stats.dropped_keys += 1;
                    trace!(?face, ?fid, ?added, "refused a GOset key");
                }
                Added::Known => {}
            }
        }
        self.set_changed();
    }

    fn persist_member(&mut self, fid: &FeedId) {
        if let Err(err) = self.store.add_member(fid) {
            self.stats.store_errors += 1;
            debug!(%err, "could not persist a GOset key");
        }
    }

    fn serve_want(&mut self, face: FaceId, w: &Want, now: Millis) {
        let n = self.goset.len();
        if n == 0 {
            return;
        }
        let mut cursors = Vec::new();
        let mut own_claim = None;
        for (i, &s) in w.next.iter().enumerate() {
            let idx = (w.offs as usize + i) % n;
            let Some(fid) = self.goset.get(idx).copied() else {
                continue;
            };
            if s == 0 {
                continue;
            }
            let mut held = s - 1;
            let claimed = self.peer_claims.entry(fid).or_insert(0);
            *claimed = (*claimed).max(held);
            if self.own == Some(fid) {
                own_claim = Some(held);
                // Nobody holds more of my feed than I wrote.
                held = held.min(self.feeds.get(&fid).map_or(0, |st| st.next_seq - 1));
            }
            let best = self.peer_holds.entry(fid).or_insert(0);
            *best = (*best).max(held);
            // Per face, so that a peer's inflated word cannot hide another peer's progress.
            let this_face = self.face_holds.entry((face, fid)).or_insert(0);
            if held > *this_face {
                *this_face = held;
                self.events.push(Event::PeerHolds {
                    face,
                    fid,
                    seq: held,
                });
            }
            if !cursors.iter().any(|(f, _)| *f == fid) {
                cursors.push((fid, s));
            }
        }
        if let Some(claim) = own_claim {
            self.on_own_claim(face, claim, now);
        }
        let Some(f) = self.faces.get_mut(&face) else {
            return;
        };
        f.prune(now);
        let profile = f.profile.clone();
        let mut repairs = Vec::new();
        cursors.retain(|(fid, seq)| match f.answer_entry(fid, *seq, now) {
            Answer::Burst => true,
            Answer::Repair => {
                repairs.push((*fid, *seq));
                false
            }
            Answer::Hold => false,
        });
        let mut budget = profile.credit;
        debug!(?face, now, ?cursors, ?repairs, "answering WANT");
        // A repair is the entry alone: its chunks, if they were lost too, are asked for by
        // CHNK once the entry is in (a Lichen receiver has most of them stashed already).
        for (fid, seq) in repairs {
            if budget == 0 {
                break;
            }
            let Ok(Some(stored)) = self.store.entry(&fid, seq) else {
                continue;
            };
            budget -= 1;
            self.queue(face, stored.entry.bytes().to_vec());
            self.last_activity = now;
            if let Some(f) = self.faces.get_mut(&face) {
                f.repaired_entry(&fid, seq, now);
            }
        }
        // Round-robin over the requested feeds, one entry (and its chunks) each per pass.
        while budget > 0 && !cursors.is_empty() {
            cursors.retain_mut(|(fid, seq)| {
                if budget == 0 {
                    return false;
                }
                let Ok(Some(stored)) = self.store.entry(fid, *seq) else {
                    return false;
                };
                if self.own == Some(*fid) && self.own_queued.len() < 4096 {
                    self.own_queued.insert(stored.entry.dmx(), *seq);
                }
                let mut pkts = vec![stored.entry.bytes().to_vec()];
                let mut chunks_sent = 0;
                if profile.push_chunks {
                    if let Ok(chunks) = self.store.chunks(fid, *seq) {
                        chunks_sent = chunks.len();
                        pkts.extend(chunks.iter().map(|c| c.to_vec()));
                    }
                }
                budget = budget.saturating_sub(pkts.len());
                for p in pkts {
                    self.queue(face, p);
                }
                self.last_activity = now;
                if let Some(f) = self.faces.get_mut(&face) {
                    f.sent_entries.insert(*fid, (*seq, now));
                    if chunks_sent > 0 {
                        f.sent_chunks
                            .insert((*fid, *seq), (chunks_sent as u32 - 1, now));
                    }
                }
                *seq += 1;
                true
            });
        }
    }

    /// A peer's WANT showed it holds `claim` entries of the own feed: a claim above what
    /// this device ever signed is reported, and an audit starts if one is due (ADR 0020).
    fn on_own_claim(&mut self, face: FaceId, claim: u32, now: Millis) {
        let Some(own) = self.own else {
            return;
        };
        let Some(held) = self.feeds.get(&own).map(|st| st.next_seq - 1) else {
            return;
        };
        if claim > self.elsewhere.get(&face).copied().unwrap_or(0) {
            match self.store.signed_mark(&own) {
                Ok(signed) if claim > signed => {
                    self.elsewhere.insert(face, claim);
                    warn!(
                        ?face,
                        held_by_peer = claim,
                        signed_here = signed,
                        "a peer claims more of the own feed than this device signed: \
                         another device may write this key"
                    );
                    self.events.push(Event::OwnFeedElsewhere {
                        face,
                        fid: own,
                        held_by_peer: claim,
                        signed_here: signed,
                    });
                }
                Ok(_) => {}
                Err(err) => {
                    self.stats.store_errors += 1;
                    debug!(%err, "could not read the signing mark");
                }
            }
        }
        if claim == 0
            || held == 0
            || self.cfg.audit_interval == Millis::MAX
            || self.audits.contains_key(&face)
            || self
                .audited_at
                .get(&face)
                .is_some_and(|&t| now < t.saturating_add(self.cfg.audit_interval))
        {
            return;
        }
        // Start at the highest seq both hold: if the branches share everything below it,
        // one probe settles the audit.
        let top = claim.min(held);
        self.audits.insert(
            face,
            Audit {
                lo: 0,
                hi: top,
                probe: top,
                deadline: now,
                tries: 0,
                found: false,
            },
        );
        debug!(?face, top, "auditing the own feed");
        self.send_probe(face, top, 0, now);
    }

    /// Asks `face` for own entry `seq` (a WANT naming a seq we hold is legal) and arms the
    /// DMXs of our entries from `seq` on, so that its answer can be compared with them.
    fn send_probe(&mut self, face: FaceId, seq: u32, tries: u8, now: Millis) {
        let (Some(own), Some(held)) = (
            self.own,
            self.own
                .and_then(|o| self.feeds.get(&o))
                .map(|st| st.next_seq - 1),
        ) else {
            self.end_audit(face, now);
            return;
        };
        let Some(idx) = self.goset.index_of(&own) else {
            self.end_audit(face, now);
            return;
        };
        let end = seq.saturating_add(AUDIT_WINDOW - 1).min(held);
        for s in seq..=end {
            if self.audit_dmx.len() >= MAX_AUDIT_DMXS {
                break;
            }
            match self.store.entry(&own, s) {
                Ok(Some(stored)) => {
                    self.audit_dmx.insert(stored.entry.dmx(), s);
                }
                Ok(None) => break,
                Err(err) => {
                    self.stats.store_errors += 1;
                    debug!(%err, "could not read an own entry for an audit");
                    break;
                }
            }
        }
        let want = Want {
            offs: idx as u32,
            next: vec![seq],
        };
        let pkt = want.encode(&self.net, &self.goset.state());
        self.queue(face, pkt);
        if let Some(a) = self.audits.get_mut(&face) {
            a.probe = seq;
            a.tries = tries;
            a.deadline = now.saturating_add(self.cfg.audit_timeout);
        }
    }

    fn end_audit(&mut self, face: FaceId, now: Millis) {
        if let Some(a) = self.audits.remove(&face) {
            debug!(
                ?face,
                lo = a.lo,
                hi = a.hi,
                found = a.found,
                "own-feed audit over"
            );
        }
        self.audited_at.insert(face, now);
        if self.audits.is_empty() {
            self.audit_dmx.clear();
        }
    }

    /// Moves each audit on: the next probe once one was answered or timed out, the end once
    /// the search range is empty, a fork was proven or a probe went unanswered too often.
    fn run_audits(&mut self, now: Millis) {
        let faces: Vec<FaceId> = self.audits.keys().copied().collect();
        for face in faces {
            let Some(mut a) = self.audits.get(&face).copied() else {
                continue;
            };
            if a.found || a.lo >= a.hi {
                self.end_audit(face, now);
                continue;
            }
            let (seq, tries) = if a.lo >= a.probe {
                // Shared through `lo`: look higher.
                (a.lo + 1 + (a.hi - a.lo - 1) / 2, 0)
            } else if now < a.deadline {
                continue;
            } else if a.probe <= a.lo + 1 {
                // Nothing came for a seq whose DMX we know the face's entry must carry:
                // lost, or the face does not hold what it claimed.
                if a.tries + 1 >= AUDIT_TRIES {
                    self.end_audit(face, now);
                    continue;
                }
                (a.probe, a.tries + 1)
            } else {
                // No entry under our DMX for `probe`: the branches differ below it.
                a.hi = a.probe - 1;
                (a.lo + 1 + (a.hi - a.lo - 1) / 2, 0)
            };
            self.audits.insert(face, a);
            self.send_probe(face, seq, tries, now);
        }
    }

    /// A packet under the DMX of our own entry `seq`: a copy of it (the face shares our
    /// feed through `seq`), or, if validly signed and different, proof of a fork.
    fn audit_reply(&mut self, face: FaceId, seq: u32, pkt: &[u8], now: Millis) {
        let Some(own) = self.own else {
            return;
        };
        let ours = match self.store.entry(&own, seq) {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(err) => {
                self.stats.store_errors += 1;
                debug!(%err, "could not read an own entry for an audit");
                return;
            }
        };
        if ours.entry.bytes()[..] == *pkt {
            self.stats.dropped_unknown += 1; // a copy of what we hold
            if let Some(a) = self.audits.get_mut(&face) {
                a.lo = a.lo.max(seq);
            }
            return;
        }
        if pkt.get(..SIGNED_PKT_LEN) == Some(&ours.entry.bytes()[..SIGNED_PKT_LEN]) {
            // Our entry with other signature bytes: whatever it is, not a second entry.
            self.stats.dropped_unknown += 1;
            return;
        }
        let prev = if seq == 1 {
            first_prev(&own)
        } else {
            match self.store.entry(&own, seq - 1) {
                Ok(Some(s)) => s.mid,
                Ok(None) => return,
                Err(err) => {
                    self.stats.store_errors += 1;
                    debug!(%err, "could not read an own entry for an audit");
                    return;
                }
            }
        };
        let Some(key) = self.feeds.get(&own).map(|st| st.key.clone()) else {
            return;
        };
        match entry::verify(&self.net, &key, seq, &prev, pkt) {
            Err(err) => {
                self.stats.dropped_bad_entry += 1;
                debug!(?face, seq, %err, "dropped a forged entry under an own DMX");
            }
            Ok((theirs_entry, theirs)) => {
                self.last_activity = now;
                if let Some(a) = self.audits.get_mut(&face) {
                    a.found = true;
                }
                if self.forks.insert((own, seq)) {
                    self.stats.forks += 1;
                    warn!(
                        ?face,
                        seq,
                        ours = %ours.mid,
                        theirs = %theirs,
                        "FORK: another device signed a different entry of the own feed at \
                         this seq; its branch is refused"
                    );
                    self.events.push(Event::ForkDetected {
                        fid: own,
                        seq,
                        ours: ours.mid,
                        theirs,
                        face,
                        ours_entry: ours.entry.bytes().to_vec(),
                        theirs_entry: theirs_entry.bytes().to_vec(),
                    });
                }
            }
        }
    }

    fn serve_chnk(&mut self, face: FaceId, c: &Chnk, now: Millis) {
        let Some(credit) = self.faces.get(&face).map(|f| f.profile.credit) else {
            return;
        };
        let mut budget = credit;
        for r in &c.0 {
            let Some(fid) = self.goset.get(r.fndx as usize).copied() else {
                continue;
            };
            let Ok(chunks) = self.store.chunks(&fid, r.seq) else {
                continue;
            };
            let answer = self
                .faces
                .get(&face)
                .map_or(Answer::Hold, |f| f.answer_chunk(&fid, r.seq, r.cnr, now));
            if answer == Answer::Hold {
                continue;
            }
            // A repair is the requested chunk alone; a burst runs to the end of the chain.
            let end = match answer {
                Answer::Repair => (r.cnr as usize + 1).min(chunks.len()),
                _ => chunks.len(),
            };
            for (cnr, chunk) in chunks.iter().enumerate().take(end).skip(r.cnr as usize) {
                if budget == 0 {
                    return;
                }
                budget -= 1;
                self.queue(face, chunk.to_vec());
                self.last_activity = now;
                if let Some(f) = self.faces.get_mut(&face) {
                    if answer == Answer::Repair {
                        f.repaired_chunk(&fid, r.seq, cnr as u32, now);
                    } else {
                        f.sent_chunks.insert((fid, r.seq), (cnr as u32, now));
                    }
                }
            }
        }
    }

    fn queue(&mut self, face: FaceId, pkt: Vec<u8>) {
        if let Some(f) = self.faces.get_mut(&face) {
            if !f.push(pkt) && !f.profile.dedupe {
                self.stats.dropped_queue_full += 1;
            }
        }
    }

    fn broadcast(&mut self, pkt: &[u8]) {
        let ids: Vec<FaceId> = self.faces.keys().copied().collect();
        for id in ids {
            self.queue(id, pkt.to_vec());
        }
    }

    /// Packets to send now, and housekeeping (GOset and WANT/CHNK rounds).
    pub fn poll(&mut self, now: Millis) -> Vec<Outgoing> {
        if self
            .goset
            .next_expiry(self.agreed_at)
            .is_some_and(|t| now >= t)
        {
            self.goset.expire(now, self.agreed_at);
            self.set_changed();
        }
        self.run_audits(now);
        if now >= self.next_goset && !self.faces.is_empty() {
            self.next_goset = now + self.jittered(self.cfg.goset_interval);
            // Early rounds (a key was learned, a face came) do not refill the budget.
            if now >= self.budget_at {
                self.budget_at = now.saturating_add(self.cfg.goset_interval);
                self.keys_budget = self.cfg.new_keys_per_round;
            }
            for out in self.goset.round() {
                let pkt = match out {
                    GosetOut::Claim(c) => c.encode(&self.net).to_vec(),
                    GosetOut::Novelty(f) => wire_goset::encode_novelty(&self.net, &f).to_vec(),
                };
                self.broadcast(&pkt);
            }
            self.set_changed();
        }
        let rewant =
            self.fresh_data && now >= self.last_rx.saturating_add(self.cfg.quiet_before_rewant);
        if (now >= self.next_want || rewant) && !self.faces.is_empty() {
            self.next_want = now + self.jittered(self.cfg.want_interval);
            self.fresh_data = false;
            debug!(now, rewant, "sending WANT/CHNK");
            for pkt in self.requests() {
                self.broadcast(&pkt);
            }
        }
        let mut out = Vec::new();
        for (id, f) in self.faces.iter_mut() {
            for pkt in f.drain(now) {
                if let Some(seq) = Dmx::of(&pkt).and_then(|d| self.own_queued.remove(&d)) {
                    self.events.push(Event::OwnEntrySent { face: *id, seq });
                }
                out.push(Outgoing { face: *id, pkt });
            }
            for e in f.budget_events(now) {
                self.events.push(match e {
                    BudgetEvent::Exhausted { resumes_at, .. } => Event::AirtimeSpent {
                        face: *id,
                        resumes_at,
                    },
                    BudgetEvent::Resumed { .. } => Event::AirtimeResumed { face: *id },
                });
            }
        }
        self.stats.tx += out.len() as u64;
        out
    }

    /// `interval` shortened by up to a tenth at random, so that nodes whose timers started
    /// together drift apart: two nodes that cannot hear each other but share a neighbour
    /// would otherwise collide at that neighbour on every round, forever.
    fn jittered(&mut self, interval: Millis) -> Millis {
        let spread = interval / 10;
        if spread == 0 {
            return interval;
        }
        interval - u64::from(self.rng.next_u32()) % spread
    }

    /// When `poll` next has something to do: [`Millis::MAX`] if nothing will be due until
    /// a face is added or a packet arrives. Rounds and requests need a face, so with none
    /// only the expiry of learned GOset keys can be due (an idle node sleeps instead of
    /// polling timers it cannot act on).
    pub fn next_wakeup(&self) -> Millis {
        let mut t = self
            .goset
            .next_expiry(self.agreed_at)
            .unwrap_or(Millis::MAX);
        if self.faces.is_empty() {
            return t;
        }
        t = t.min(self.next_goset).min(self.next_want);
        if self.fresh_data {
            t = t.min(self.last_rx.saturating_add(self.cfg.quiet_before_rewant));
        }
        for f in self.faces.values() {
            if let Some(w) = f.wakeup() {
                t = t.min(w);
            }
        }
        for a in self.audits.values() {
            // An answered probe is followed up at the next poll.
            let due = if a.found || a.lo >= a.probe {
                0
            } else {
                a.deadline
            };
            t = t.min(due);
        }
        t
    }

    /// This round's WANT and (if any chain is open) CHNK packet.
    fn requests(&mut self) -> Vec<Vec<u8>> {
        let n = self.goset.len();
        if n == 0 {
            return Vec::new();
        }
        let state = self.goset.state();
        let start = self.want_offs % n;
        let mut want = Want {
            offs: start as u32,
            next: Vec::new(),
        };
        for i in 0..n {
            let Some(fid) = self.goset.get((start + i) % n) else {
                break;
            };
            let next = self.feeds.get(fid).map_or(1, |s| s.next_seq);
            want.next.push(next);
            if want.encoded_len() > MAX_REQUEST_LEN {
                want.next.pop();
                break;
            }
        }
        // Advance past exactly the feeds listed (the deployed code skips one more).
        self.want_offs = (start + want.next.len().max(1)) % n;
        let mut out = vec![want.encode(&self.net, &state)];

        let mut open: BTreeMap<usize, Vec<ChunkRequest>> = BTreeMap::new();
        for slot in self.expected_chunks.values().flatten() {
            if let Some(idx) = self.goset.index_of(&slot.fid) {
                let list = open.entry(idx).or_default();
                if list.len() < CHAINS_PER_FEED {
                    list.push(ChunkRequest {
                        fndx: idx as u32,
                        seq: slot.seq,
                        cnr: slot.cnr,
                    });
                }
            }
        }
        if !open.is_empty() {
            let feeds: Vec<usize> = open.keys().copied().collect();
            let first = self.chnk_offs % feeds.len();
            let mut chnk = Chnk::default();
            'outer: for k in 0..feeds.len() {
                let idx = feeds[(first + k) % feeds.len()];
                for r in open.get(&idx).into_iter().flatten() {
                    chnk.0.push(*r);
                    if chnk.encoded_len() > MAX_REQUEST_LEN {
                        chnk.0.pop();
                        break 'outer;
                    }
                }
            }
            self.chnk_offs = self.chnk_offs.wrapping_add(1);
            if !chnk.0.is_empty() {
                out.push(chnk.encode(&self.net, &state));
            }
        }
        out
    }

    fn update_dmxs(&mut self) {
        let state = self.goset.state();
        if self.net.want_dmx(&state) != self.want_dmx {
            self.agreed_at = None;
        }
        self.want_dmx = self.net.want_dmx(&state);
        self.chnk_dmx = self.net.chnk_dmx(&state);
    }

    fn set_next(&mut self, fid: &FeedId, next_seq: u32, prev: Mid) {
        let Some(st) = self.feeds.get_mut(fid) else {
            return;
        };
        let old = Name::new(&self.net, fid, st.next_seq, &st.prev).dmx();
        self.by_dmx.remove(&old);
        st.next_seq = next_seq;
        st.prev = prev;
        let new = Name::new(&self.net, fid, next_seq, &prev).dmx();
        self.by_dmx.insert(new, *fid);
    }

    /// Loads a feed's frontier and open side chains from the store and arms its DMX and
    /// expected chunk hashes.
    fn load_feed(&mut self, fid: &FeedId) -> Result<(), StoreError> {
        let Ok(key) = fid.key() else {
            return Ok(());
        };
        let (next_seq, prev) = match self.store.frontier(fid)? {
            Some(f) => (f.seq.saturating_add(1), f.mid),
            None => (1, first_prev(fid)),
        };
        if let Some(st) = self.feeds.get(fid) {
            let old = Name::new(&self.net, fid, st.next_seq, &st.prev).dmx();
            self.by_dmx.remove(&old);
        }
        self.feeds.insert(
            *fid,
            FeedState {
                key,
                next_seq: 1,
                prev: first_prev(fid),
            },
        );
        self.set_next(fid, next_seq, prev);
        for seq in self.store.open_chains(fid)? {
            let Some(stored) = self.store.entry(fid, seq)? else {
                continue;
            };
            let Ok(h) = Chain20::parse(stored.entry.payload()) else {
                continue;
            };
            let held = self.store.chunks(fid, seq)?;
            let hash = match held.last() {
                None => h.ptr,
                Some(last) => {
                    let mut x = [0u8; HASH_LEN];
                    x.copy_from_slice(&last[CHUNK_DATA..]);
                    x
                }
            };
            self.arm_chunk(
                hash,
                ChunkSlot {
                    fid: *fid,
                    seq,
                    cnr: held.len() as u32,
                    total: u32::try_from(h.chunk_count()).unwrap_or(u32::MAX),
                },
            );
        }
        Ok(())
    }
}
