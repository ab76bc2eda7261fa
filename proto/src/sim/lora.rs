//! A simulated LoRa channel shared by many nodes: discrete-event, deterministic under a seed.
//!
//! The driver calls [`Medium::transmit`] when a node sends and [`Medium::poll`] to collect the
//! frames whose airtime has ended; [`Medium::next_event`] says how far time may jump. Time is
//! the caller's (milliseconds, never going back); internally everything is in microseconds so
//! airtimes are exact (205.056 ms for a 124-byte frame on EU868.a), and a delivery's `at` is
//! the end of the frame rounded up to the millisecond.
//!
//! The model, kept simple on purpose:
//!
//! * **Airtime** from [`crate::lora`] with the plan's tinySSB radio settings.
//! * **Reachability** is a directed matrix, every pair by default (a mesh); `set_link` is
//!   symmetric, `set_link_directed` one-way; `set_line` builds a chain. **Partitions**
//!   separate groups for `[from, until)` and heal on their own. Both are evaluated when a
//!   transmission *starts*.
//! * **Half-duplex**: a node cannot start a transmission while its last one is on air
//!   (`transmit` returns [`TxError::Busy`]; queueing is the face's job, as on the ESP32), and
//!   a node that transmits hears nothing that overlaps its own transmission.
//! * **Collisions**: two transmissions that overlap in time at a receiver that hears both
//!   are both lost there. No capture effect: LoRa can often decode the stronger of two
//!   frames, but without positions or power the simulator cannot say which is stronger, and
//!   counting both as lost is the pessimistic choice for a protocol test.
//! * **Loss**: each reception that survives collisions is independently dropped with the
//!   medium's loss rate. The draws are made when the frame starts, one per hearing receiver
//!   in node order, so the outcome does not depend on how often the driver polls.
//!
//! The first cause of a loss is the one counted: half-duplex, then collision, then loss.

use std::fmt;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use thiserror::Error;

use super::topology::{Topology, REST};
use crate::lora::{Micros, Plan, MAX_FRAME_LEN};
use crate::time::Millis;

/// A node on the medium, handed out by [`Medium::add_node`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// Position in the order nodes were added, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node{}", self.0)
    }
}

/// A frame that reached a node intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Receiver.
    pub to: NodeId,
    /// Sender.
    pub from: NodeId,
    /// The bytes as sent.
    pub frame: Vec<u8>,
    /// When the frame's airtime ended (rounded up to the millisecond).
    pub at: Millis,
}

/// What `transmit` tells the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxReport {
    /// When the frame went on air (the `now` passed in).
    pub start: Millis,
    /// When it leaves the air, rounded up to the millisecond; the node is busy until then.
    pub end: Millis,
    /// Exact time on air.
    pub airtime_us: Micros,
    /// Nodes in range when it started (they may still lose it).
    pub hearers: usize,
}

/// Why a transmission was refused. A refused frame never goes on air.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The node is not on this medium.
    #[error("{0} is not on this medium")]
    UnknownNode(NodeId),
    /// The node is still sending its previous frame (half-duplex, one frame at a time).
    #[error("{node} is transmitting until t={until} ms")]
    Busy {
        /// The sender.
        node: NodeId,
        /// When its current frame ends.
        until: Millis,
    },
    /// Longer than a LoRa payload can be.
    #[error("a frame of {len} bytes exceeds the {MAX_FRAME_LEN}-byte LoRa limit")]
    FrameTooLong {
        /// Frame length.
        len: usize,
    },
    /// Nothing to send.
    #[error("an empty frame cannot be sent")]
    EmptyFrame,
    /// `now` is earlier than a time the medium has already seen.
    #[error("time went back: t={now} ms after t={latest} ms")]
    TimeWentBack {
        /// The time passed in.
        now: Millis,
        /// The latest time seen by `transmit` or `poll`.
        latest: Millis,
    },
}

/// Why a topology or loss setting was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    /// The node is not on this medium.
    #[error("{0} is not on this medium")]
    UnknownNode(NodeId),
    /// A loss rate outside `0.0..=1.0` (or NaN).
    #[error("loss rate must be between 0 and 1, got {0}")]
    BadLossRate(f64),
    /// A node named in two groups of one partition.
    #[error("{0} is in two groups of the partition")]
    NodeInTwoGroups(NodeId),
    /// A partition that ends before it starts.
    #[error("partition from t={from} ms until t={until} ms is empty")]
    EmptyInterval {
        /// Start.
        from: Millis,
        /// End.
        until: Millis,
    },
}

/// Frame counters, for the whole medium or for one node. For a node, `sent` and
/// `airtime_us` count its transmissions and the other fields its receptions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames put on air.
    pub sent: u64,
    /// Receptions that arrived intact.
    pub delivered: u64,
    /// Receptions dropped by the loss rate.
    pub lost_to_loss: u64,
    /// Receptions destroyed by an overlapping frame.
    pub lost_to_collision: u64,
    /// Receptions missed because the receiver was transmitting.
    pub lost_to_half_duplex: u64,
    /// Time on air of the frames sent.
    pub airtime_us: Micros,
}

/// Why a reception failed, if it has so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Collision,
    HalfDuplex,
}

#[derive(Debug, Clone)]
struct Reception {
    to: usize,
    fate: Fate,
    faded: bool,
}

#[derive(Debug, Clone)]
struct InFlight {
    seq: u64,
    from: usize,
    end_us: u64,
    frame: Vec<u8>,
    receptions: Vec<Reception>,
}

#[derive(Debug, Clone, Default)]
struct NodeState {
    busy_until_us: u64,
    counters: Counters,
}

/// One LoRa channel and the nodes on it.
#[derive(Debug, Clone)]
pub struct Medium {
    plan: Plan,
    rng: ChaCha8Rng,
    nodes: Vec<NodeState>,
    topology: Topology,
    loss_rate: f64,
    in_flight: Vec<InFlight>,
    latest: Millis,
    next_seq: u64,
    totals: Counters,
}

fn us(ms: Millis) -> u64 {
    ms.saturating_mul(1000)
}

fn ms_ceil(us: u64) -> Millis {
    us.div_ceil(1000)
}

impl Medium {
    /// An empty channel on `plan` whose random choices all come from `seed`.
    pub fn new(plan: Plan, seed: u64) -> Medium {
        Medium {
            plan,
            rng: ChaCha8Rng::seed_from_u64(seed),
            nodes: Vec::new(),
            topology: Topology::default(),
            loss_rate: 0.0,
            in_flight: Vec::new(),
            latest: 0,
            next_seq: 0,
            totals: Counters::default(),
        }
    }

    /// `n` nodes in a line, each hearing only its neighbours: `0 — 1 — … — n−1`.
    pub fn line(plan: Plan, seed: u64, n: usize) -> (Medium, Vec<NodeId>) {
        let mut m = Medium::new(plan, seed);
        let ids: Vec<NodeId> = (0..n).map(|_| m.add_node()).collect();
        m.topology.set_all(false);
        for w in ids.windows(2) {
            if let [a, b] = w {
                m.topology.set(a.index(), b.index(), true);
                m.topology.set(b.index(), a.index(), true);
            }
        }
        (m, ids)
    }

    /// The plan the channel runs on.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Adds a node that hears, and is heard by, every node (including later ones).
    pub fn add_node(&mut self) -> NodeId {
        let i = self.topology.add_node();
        self.nodes.push(NodeState::default());
        NodeId(u32::try_from(i).unwrap_or(u32::MAX))
    }

    /// All nodes, in the order they were added.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len()).map(|i| NodeId(u32::try_from(i).unwrap_or(u32::MAX)))
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn check(&self, n: NodeId) -> Result<usize, SimError> {
        let i = n.index();
        if i < self.nodes.len() {
            Ok(i)
        } else {
            Err(SimError::UnknownNode(n))
        }
    }

    /// Whether `a` and `b` hear each other (both directions).
    pub fn set_link(&mut self, a: NodeId, b: NodeId, reachable: bool) -> Result<(), SimError> {
        let (ia, ib) = (self.check(a)?, self.check(b)?);
        self.topology.set(ia, ib, reachable);
        self.topology.set(ib, ia, reachable);
        Ok(())
    }

    /// Whether `to` hears `from` (one direction only, for asymmetric links).
    pub fn set_link_directed(
        &mut self,
        from: NodeId,
        to: NodeId,
        reachable: bool,
    ) -> Result<(), SimError> {
        let (f, t) = (self.check(from)?, self.check(to)?);
        self.topology.set(f, t, reachable);
        Ok(())
    }

    /// Every node hears every other again (a mesh); partitions still apply.
    pub fn set_mesh(&mut self) {
        self.topology.set_all(true);
    }

    /// Among the listed nodes, only neighbours in `order` hear each other. Links to nodes not
    /// listed are left as they are.
    pub fn set_line(&mut self, order: &[NodeId]) -> Result<(), SimError> {
        let idx = order
            .iter()
            .map(|&n| self.check(n))
            .collect::<Result<Vec<_>, _>>()?;
        for (p, &a) in idx.iter().enumerate() {
            for (q, &b) in idx.iter().enumerate() {
                if a != b {
                    self.topology.set(a, b, p.abs_diff(q) == 1);
                }
            }
        }
        Ok(())
    }

    /// Whether `to` would hear a frame `from` starts at `at` (links and partitions).
    pub fn hears(&self, from: NodeId, to: NodeId, at: Millis) -> bool {
        self.topology.hears(from.index(), to.index(), at)
    }

    /// Between `from` (inclusive) and `until` (exclusive), nodes in different `groups` do not
    /// hear each other; at `until` the partition heals. Nodes in no group (including nodes
    /// added later) form one more group together. Partitions add up with links and with each
    /// other.
    pub fn partition<G: AsRef<[NodeId]>>(
        &mut self,
        groups: &[G],
        from: Millis,
        until: Millis,
    ) -> Result<(), SimError> {
        if until <= from {
            return Err(SimError::EmptyInterval { from, until });
        }
        let mut group = vec![REST; self.nodes.len()];
        for (g, members) in groups.iter().enumerate() {
            let g = u32::try_from(g).unwrap_or(REST - 1).min(REST - 1);
            for &n in members.as_ref() {
                let i = self.check(n)?;
                match group.get_mut(i) {
                    Some(slot) if *slot == REST || *slot == g => *slot = g,
                    _ => return Err(SimError::NodeInTwoGroups(n)),
                }
            }
        }
        self.topology.add_partition(group, from, until);
        Ok(())
    }

    /// Each reception that survives collisions is dropped with probability `rate`.
    pub fn set_loss_rate(&mut self, rate: f64) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SimError::BadLossRate(rate));
        }
        self.loss_rate = rate;
        Ok(())
    }

    /// The loss rate in force.
    pub fn loss_rate(&self) -> f64 {
        self.loss_rate
    }

    /// Time on air of a `len`-byte frame on this channel.
    pub fn airtime_us(&self, len: usize) -> Micros {
        self.plan.time_on_air_us(len)
    }

    /// The latest time `transmit` or `poll` has seen.
    pub fn now(&self) -> Millis {
        self.latest
    }

    /// When `node`'s current transmission ends, if it is on air after the latest time seen.
    pub fn busy_until(&self, node: NodeId) -> Option<Millis> {
        let n = self.nodes.get(node.index())?;
        (n.busy_until_us > us(self.latest)).then(|| ms_ceil(n.busy_until_us))
    }

    /// Carrier sense: when the channel, as `node` hears it at `now`, is free again (its own
    /// transmission included); `None` if it is free now. LoRa radios detect a preamble on
    /// the channel (CAD) before they send; drivers use this for listen-before-talk.
    pub fn channel_busy_until(&self, node: NodeId, now: Millis) -> Option<Millis> {
        let i = node.index();
        self.in_flight
            .iter()
            .filter(|t| t.end_us > us(now))
            .filter(|t| t.from == i || self.hears(NodeId(t.from as u32), node, now))
            .map(|t| ms_ceil(t.end_us))
            .max()
    }

    /// Puts `frame` on air from `node` at `now`. It occupies the channel for its airtime and
    /// reaches the nodes that hear `node` (see the module documentation for what can go
    /// wrong on the way); collect it with [`poll`](Self::poll).
    pub fn transmit(
        &mut self,
        node: NodeId,
        frame: Vec<u8>,
        now: Millis,
    ) -> Result<TxReport, TxError> {
        let sender = self.check(node).map_err(|_| TxError::UnknownNode(node))?;
        if frame.is_empty() {
            return Err(TxError::EmptyFrame);
        }
        if frame.len() > MAX_FRAME_LEN {
            return Err(TxError::FrameTooLong { len: frame.len() });
        }
        if now < self.latest {
            return Err(TxError::TimeWentBack {
                now,
                latest: self.latest,
            });
        }
        let now_us = us(now);
        let busy_until_us = self.nodes.get(sender).map_or(0, |n| n.busy_until_us);
        if busy_until_us > now_us {
            return Err(TxError::Busy {
                node,
                until: ms_ceil(busy_until_us),
            });
        }
        self.latest = now;
        self.topology.prune(now);

        let airtime_us = self.plan.time_on_air_us(frame.len());
        let end_us = now_us.saturating_add(airtime_us);

        // The sender stops hearing whatever it was receiving.
        for t in &mut self.in_flight {
            if t.end_us > now_us {
                for r in t.receptions.iter_mut().filter(|r| r.to == sender) {
                    if r.fate == Fate::Pending {
                        r.fate = Fate::HalfDuplex;
                    }
                }
            }
        }

        let mut receptions = Vec::new();
        for to in 0..self.nodes.len() {
            if !self.topology.hears(sender, to, now) {
                continue;
            }
            let transmitting = self.nodes.get(to).is_some_and(|n| n.busy_until_us > now_us);
            let mut fate = if transmitting {
                Fate::HalfDuplex
            } else {
                Fate::Pending
            };
            // Every frame still on air that `to` hears collides with this one there.
            for t in &mut self.in_flight {
                if t.end_us <= now_us {
                    continue;
                }
                for r in t.receptions.iter_mut().filter(|r| r.to == to) {
                    if r.fate == Fate::Pending {
                        r.fate = Fate::Collision;
                    }
                    if fate == Fate::Pending {
                        fate = Fate::Collision;
                    }
                }
            }
            let faded = self.loss_rate > 0.0 && self.draw() < self.loss_rate;
            receptions.push(Reception { to, fate, faded });
        }

        let hearers = receptions.len();
        tracing::trace!(%node, now, airtime_us, hearers, len = frame.len(), crc = %hex::encode(&frame[frame.len().saturating_sub(4)..]), "lora transmit");
        self.in_flight.push(InFlight {
            seq: self.next_seq,
            from: sender,
            end_us,
            frame,
            receptions,
        });
        self.next_seq += 1;
        if let Some(n) = self.nodes.get_mut(sender) {
            n.busy_until_us = end_us;
            n.counters.sent += 1;
            n.counters.airtime_us = n.counters.airtime_us.saturating_add(airtime_us);
        }
        self.totals.sent += 1;
        self.totals.airtime_us = self.totals.airtime_us.saturating_add(airtime_us);
        Ok(TxReport {
            start: now,
            end: ms_ceil(end_us),
            airtime_us,
            hearers,
        })
    }

    /// The frames whose airtime ended at or before `now` and that survived, ordered by end
    /// time, then by send order, then by receiver. Advances the medium's clock to `now`.
    pub fn poll(&mut self, now: Millis) -> Vec<Delivery> {
        self.latest = self.latest.max(now);
        self.topology.prune(self.latest);
        let now_us = us(now);
        let (mut done, pending): (Vec<InFlight>, Vec<InFlight>) =
            std::mem::take(&mut self.in_flight)
                .into_iter()
                .partition(|t| t.end_us <= now_us);
        self.in_flight = pending;
        done.sort_by_key(|t| (t.end_us, t.seq));

        let mut out = Vec::new();
        for t in done {
            let at = ms_ceil(t.end_us);
            for r in t.receptions {
                let Some(node) = self.nodes.get_mut(r.to) else {
                    continue;
                };
                let (mine, total) = (&mut node.counters, &mut self.totals);
                match (r.fate, r.faded) {
                    (Fate::HalfDuplex, _) => {
                        mine.lost_to_half_duplex += 1;
                        total.lost_to_half_duplex += 1;
                    }
                    (Fate::Collision, _) => {
                        mine.lost_to_collision += 1;
                        total.lost_to_collision += 1;
                    }
                    (Fate::Pending, true) => {
                        mine.lost_to_loss += 1;
                        total.lost_to_loss += 1;
                    }
                    (Fate::Pending, false) => {
                        mine.delivered += 1;
                        total.delivered += 1;
                        out.push(Delivery {
                            to: NodeId(u32::try_from(r.to).unwrap_or(u32::MAX)),
                            from: NodeId(u32::try_from(t.from).unwrap_or(u32::MAX)),
                            frame: t.frame.clone(),
                            at,
                        });
                    }
                }
            }
        }
        out
    }

    /// When the next frame leaves the air (the next time `poll` can return something), or
    /// `None` when the channel is quiet.
    pub fn next_event(&self) -> Option<Millis> {
        self.in_flight.iter().map(|t| ms_ceil(t.end_us)).min()
    }

    /// Frames on air (or ended but not yet polled).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Counters for the whole channel.
    pub fn counters(&self) -> Counters {
        self.totals
    }

    /// Counters for one node (its transmissions and its receptions).
    pub fn node_counters(&self, node: NodeId) -> Option<Counters> {
        self.nodes.get(node.index()).map(|n| n.counters)
    }

    /// A uniform draw in `[0, 1)` with 53 bits of precision.
    fn draw(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}
