//! A network of engines on a simulated LoRa channel: the driver behind `lichen sim`, the
//! convergence tests and the LoRa benchmarks. Everything runs on one simulated clock, so a
//! run is reproducible from its seed.

use std::collections::VecDeque;
use std::sync::Arc;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use super::lora::{Medium, NodeId, SimError, TxError};
use crate::feed;
use crate::identity::FeedId;
use crate::lora::{DutyLimit, Plan};
use crate::store::{MemoryStore, Store, StoreError};
use crate::sync::{Config, Engine, FaceId, FaceProfile, Millis};
use crate::wire::frame;
use crate::wire::network::Network;

/// The one face every simulated node has: its radio.
const RADIO: FaceId = FaceId(1);

/// How the nodes are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// Each node hears only its neighbours; data must hop.
    Line,
    /// Everyone hears everyone.
    Mesh,
}

/// Which protocol timing the nodes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Lichen's LoRa profile: airtime-paced, chunks pushed, duty cycle enforced.
    Lichen,
    /// Lichen's engine with the deployed Android app's timers: one packet per second, WANT
    /// every 5 s, credit 5, no repair, no stash. The app's own engine is not simulated.
    AndroidReference,
}

/// A simulation to run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of nodes (node 0 authors every feed).
    pub nodes: usize,
    /// Feeds authored at node 0.
    pub feeds: u8,
    /// Entries per feed (every other one needs a side chain).
    pub entries: u32,
    /// Per-frame, per-receiver loss probability.
    pub loss: f64,
    /// Placement.
    pub topology: Topology,
    /// Radio plan.
    pub plan: Plan,
    /// Duty-cycle limit (enforced with Lichen pacing).
    pub duty: DutyLimit,
    /// Seed of the medium and the engines.
    pub seed: u64,
    /// Protocol timing.
    pub pacing: Pacing,
    /// A partition: nodes below `split` cannot hear the others during [from, until) ms.
    pub partition: Option<(usize, Millis, Millis)>,
    /// Give up after this much simulated time.
    pub max_time: Millis,
}

/// What a simulation did.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReport {
    /// Whether every node holds every feed completely.
    pub converged: bool,
    /// Simulated time until convergence (or until giving up), ms.
    pub sim_time_ms: Millis,
    /// Airtime spent by all nodes, µs.
    pub airtime_us: u64,
    /// Airtime of the frames the entries need, sent once per required hop, µs.
    pub lower_bound_airtime_us: u64,
    /// Frames transmitted.
    pub packets: u64,
    /// Frames delivered.
    pub delivered: u64,
    /// Frames lost (random loss, collisions, half-duplex).
    pub lost: u64,
}

/// Why a simulation could not run.
#[derive(Debug, Error)]
pub enum SimRunError {
    /// Bad medium settings.
    #[error(transparent)]
    Medium(#[from] SimError),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Authoring failed.
    #[error(transparent)]
    Feed(#[from] feed::FeedError),
    /// Fewer than two nodes.
    #[error("a simulation needs at least two nodes")]
    TooFewNodes,
}

struct SimNode {
    id: NodeId,
    engine: Engine,
    store: Arc<MemoryStore>,
    radio_queue: VecDeque<Vec<u8>>,
    /// Listen-before-talk: do not start before this time.
    backoff_until: Millis,
}

/// Authors the feeds at node 0; returns (feed ids, frames their entries and chunks need).
/// A chunk that several entries share is needed once: one copy on air serves them all.
fn author(store: &dyn Store, cfg: &SimConfig) -> Result<(Vec<FeedId>, u64), SimRunError> {
    let net = Network::deployed();
    let mut fids = Vec::new();
    let mut entries = 0u64;
    let mut chunks = std::collections::HashSet::new();
    for k in 0..cfg.feeds {
        let (fid, _) = feed::author_synthetic(store, &net, 200u8.wrapping_add(k), cfg.entries)?;
        for seq in 1..=cfg.entries {
            entries += 1;
            chunks.extend(store.chunks(&fid, seq)?);
        }
        fids.push(fid);
    }
    Ok((fids, entries + chunks.len() as u64))
}

/// Whether `store` holds every feed exactly as the author's store does: all entries, and
/// every chunk of every side chain (checked chunk by chunk once the frontiers match).
fn complete(store: &dyn Store, author: &dyn Store, fids: &[FeedId]) -> Result<bool, StoreError> {
    for f in fids {
        if store.frontier(f)? != author.frontier(f)? || !store.open_chains(f)?.is_empty() {
            return Ok(false);
        }
    }
    for f in fids {
        let last = author.frontier(f)?.map_or(0, |x| x.seq);
        for seq in 1..=last {
            if store.chunks(f, seq)?.len() != author.chunks(f, seq)?.len() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Runs a simulation to convergence or to `max_time`.
pub fn run(cfg: &SimConfig) -> Result<SimReport, SimRunError> {
    if cfg.nodes < 2 {
        return Err(SimRunError::TooFewNodes);
    }
    let mut medium = Medium::new(cfg.plan, cfg.seed);
    medium.set_loss_rate(cfg.loss)?;
    let (profile, engine_cfg) = match cfg.pacing {
        Pacing::Lichen => (FaceProfile::lora(cfg.plan, cfg.duty), Config::lora()),
        Pacing::AndroidReference => (
            FaceProfile::android_reference(),
            Config::android_reference(),
        ),
    };
    let mut nodes = Vec::with_capacity(cfg.nodes);
    let mut fids = Vec::new();
    let mut frames_needed = 0;
    for i in 0..cfg.nodes {
        let store = Arc::new(MemoryStore::new_empty());
        if i == 0 {
            (fids, frames_needed) = author(store.as_ref(), cfg)?;
        }
        let mut engine = Engine::new(
            Network::deployed(),
            store.clone(),
            engine_cfg.clone(),
            cfg.seed.wrapping_add(i as u64 + 1),
        )?;
        if i == 0 {
            for f in &fids {
                engine.add_feed(*f)?;
            }
        }
        engine.add_face(RADIO, profile.clone());
        nodes.push(SimNode {
            id: medium.add_node(),
            engine,
            store,
            radio_queue: VecDeque::new(),
            backoff_until: 0,
        });
    }
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
    let hops = match cfg.topology {
        Topology::Line => {
            medium.set_line(&ids)?;
            cfg.nodes as u64 - 1
        }
        Topology::Mesh => {
            medium.set_mesh();
            1
        }
    };
    if let Some((split, from, until)) = cfg.partition {
        let (left, right) = ids.split_at(split.min(ids.len()));
        medium.partition(&[left.to_vec(), right.to_vec()], from, until)?;
    }
    let frame_us = cfg.plan.time_on_air_us(frame::MAX_LORA_FRAME);

    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed);
    let mut now: Millis = 0;
    let mut next_check: Millis = 0;
    let mut converged = false;
    while now <= cfg.max_time {
        for n in nodes.iter_mut() {
            for out in n.engine.poll(now) {
                n.radio_queue.push_back(frame::frame(&out.pkt));
            }
            if let (Some(f), true) = (n.radio_queue.front(), now >= n.backoff_until) {
                // Listen before talk, then wait a random part of a frame time so that two
                // nodes that both waited do not start together.
                if let Some(free) = medium.channel_busy_until(n.id, now) {
                    n.backoff_until = free + rng.next_u64() % (frame_us / 1000).max(1);
                    continue;
                }
                match medium.transmit(n.id, f.clone(), now) {
                    Ok(_) => {
                        n.radio_queue.pop_front();
                    }
                    Err(TxError::Busy { .. }) => {}
                    Err(_) => {
                        n.radio_queue.pop_front();
                    }
                }
            }
        }
        for d in medium.poll(now) {
            if let (Some(n), Ok(pkt)) = (nodes.get_mut(d.to.index()), frame::unframe(&d.frame)) {
                n.engine.on_packet(RADIO, pkt, d.at);
            }
        }
        if now >= next_check {
            next_check = now + 1_000;
            let mut all = true;
            let author = nodes[0].store.clone();
            for n in &nodes[1..] {
                if !complete(n.store.as_ref(), author.as_ref(), &fids)? {
                    all = false;
                    break;
                }
            }
            if all {
                converged = true;
                break;
            }
        }
        let mut next = next_check;
        for n in &nodes {
            next = next.min(n.engine.next_wakeup());
            if !n.radio_queue.is_empty() {
                next = next.min(
                    n.backoff_until
                        .max(medium.busy_until(n.id).unwrap_or(now + 1)),
                );
            }
        }
        if let Some(t) = medium.next_event() {
            next = next.min(t);
        }
        now = next.max(now + 1);
    }
    for (i, n) in nodes.iter().enumerate() {
        let held: Vec<(u32, usize)> = fids
            .iter()
            .map(|f| {
                let seq = n.store.frontier(f).ok().flatten().map_or(0, |x| x.seq);
                let open = n.store.open_chains(f).map_or(0, |c| c.len());
                (seq, open)
            })
            .collect();
        tracing::debug!(node = i, ?held, stats = ?n.engine.stats(), "end of simulation");
    }
    let c = medium.counters();
    Ok(SimReport {
        converged,
        sim_time_ms: now,
        airtime_us: c.airtime_us,
        lower_bound_airtime_us: frames_needed * hops * frame_us,
        packets: c.sent,
        delivered: c.delivered,
        lost: c.lost_to_loss + c.lost_to_collision + c.lost_to_half_duplex,
    })
}
