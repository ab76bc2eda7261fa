//! What the engine knows about each link ("face"): how much to send per request, how fast,
//! and what is queued for it.

use std::collections::{BTreeMap, VecDeque};

use super::repair::{self, Answer, Policy, Repaired};
use crate::identity::FeedId;
use crate::lora::{AirtimeBudget, BudgetError, BudgetEvent, DutyLimit, Plan, DUTY_WINDOW_MS};
use crate::wire::frame::CRC_LEN;

/// Records of what was sent kept before old ones are pruned.
const PRUNE_ABOVE: usize = 512;

use crate::time::Millis;

/// A link, as the engine names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaceId(pub u32);

/// How a face paces its output.
#[derive(Debug, Clone, PartialEq)]
pub enum Pace {
    /// As fast as the link takes it (WebSocket, UDP, in-process).
    Unlimited,
    /// One packet per interval (the Android app's 1 packet/s sender; the ESP32's slots).
    Interval(Millis),
    /// A LoRa radio: one frame at a time, each taking its time on air on this plan, within
    /// the duty-cycle limit (checked over a sliding hour).
    Lora {
        /// The region plan (modulation, region).
        plan: Plan,
        /// The duty-cycle limit.
        duty: DutyLimit,
    },
}

/// The engine's view of a link's capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceProfile {
    /// Packets served for one WANT or CHNK request.
    pub credit: usize,
    /// Most packets queued; further answers are dropped until the queue drains.
    pub max_queue: usize,
    /// Output pacing.
    pub pace: Pace,
    /// Send a served entry's side-chain chunks right after it, without waiting for a CHNK.
    /// Receivers arm the hash of chunk 0 when they accept the entry, so the chunks are
    /// accepted in order (deployed receivers included).
    pub push_chunks: bool,
    /// Drop a packet identical to one already queued (the Android sender does this).
    pub dedupe: bool,
    /// A request for something already sent on this face within this window is not
    /// answered with the same burst again: the peer's WANT may have crossed our answer in
    /// flight. Once the window has passed, everything from the request on is sent again.
    pub resend_after: Millis,
    /// Answer a request for a packet we already sent with that packet alone (a repair, see
    /// [`super::repair`]), at most once per this interval; `None` holds for the resend
    /// window instead.
    pub repair_after: Option<Millis>,
}

impl FaceProfile {
    /// A fast link: large credit, no pacing.
    pub fn fast() -> FaceProfile {
        FaceProfile {
            credit: 4096,
            max_queue: 65_536,
            pace: Pace::Unlimited,
            push_chunks: true,
            dedupe: false,
            resend_after: 200,
            repair_after: None,
        }
    }

    /// A LoRa face on `plan` within `duty`: answers of 16 packets with chunks pushed, and
    /// single-packet repairs of what was sent before.
    pub fn lora(plan: Plan, duty: DutyLimit) -> FaceProfile {
        FaceProfile {
            credit: 16,
            max_queue: 64,
            pace: Pace::Lora { plan, duty },
            push_chunks: true,
            dedupe: true,
            resend_after: 5_000,
            repair_after: Some(1_000),
        }
    }

    /// The deployed Android app's pacing: credit 5, one packet per second, a queue of 10.
    pub fn android_reference() -> FaceProfile {
        FaceProfile {
            credit: 5,
            max_queue: 10,
            pace: Pace::Interval(1000),
            push_chunks: false,
            dedupe: true,
            resend_after: 0,
            repair_after: None,
        }
    }
}

/// A face's queue and pacing state.
#[derive(Debug)]
pub(crate) struct FaceState {
    pub profile: FaceProfile,
    pub queue: VecDeque<Vec<u8>>,
    pub next_send: Millis,
    /// Per feed: the last entry sent on this face, and when.
    pub sent_entries: BTreeMap<FeedId, (u32, Millis)>,
    /// Per side chain: the last chunk sent on this face, and when.
    pub sent_chunks: BTreeMap<(FeedId, u32), (u32, Millis)>,
    /// Per feed: the last entry repaired.
    pub repaired_entries: BTreeMap<FeedId, Repaired>,
    /// Per side chain: the last chunk repaired.
    pub repaired_chunks: BTreeMap<(FeedId, u32), Repaired>,
    /// The duty-cycle budget of a LoRa face.
    pub budget: Option<AirtimeBudget>,
}

impl FaceState {
    pub fn new(profile: FaceProfile) -> FaceState {
        let budget = match &profile.pace {
            Pace::Lora { plan, duty } => Some(
                AirtimeBudget::with_limit(plan.radio(), *duty, DUTY_WINDOW_MS)
                    .unwrap_or_else(|_| AirtimeBudget::new(plan)),
            ),
            _ => None,
        };
        FaceState {
            budget,
            profile,
            queue: VecDeque::new(),
            next_send: 0,
            sent_entries: BTreeMap::new(),
            sent_chunks: BTreeMap::new(),
            repaired_entries: BTreeMap::new(),
            repaired_chunks: BTreeMap::new(),
        }
    }

    /// Forgets what was sent or repaired longer ago than the resend window (it no longer
    /// changes any answer), once the records grow past a few hundred side chains.
    pub fn prune(&mut self, now: Millis) {
        let keep = self.profile.resend_after;
        let live = |at: Millis| now < at.saturating_add(keep);
        if self.sent_chunks.len() > PRUNE_ABOVE {
            self.sent_chunks.retain(|_, (_, at)| live(*at));
            self.repaired_chunks.retain(|_, r| live(r.at));
        }
        if self.sent_entries.len() > PRUNE_ABOVE {
            self.sent_entries.retain(|_, (_, at)| live(*at));
            self.repaired_entries.retain(|_, r| live(r.at));
        }
    }

    /// Forgets everything recorded about a feed that left the GOset.
    pub fn forget_feed(&mut self, fid: &FeedId) {
        self.sent_entries.remove(fid);
        self.repaired_entries.remove(fid);
        self.sent_chunks.retain(|(f, _), _| f != fid);
        self.repaired_chunks.retain(|(f, _), _| f != fid);
    }

    fn policy(&self) -> Policy {
        Policy {
            resend_after: self.profile.resend_after,
            repair_after: self.profile.repair_after,
        }
    }

    /// How to answer a request for entry `seq` of `fid` now. A request for something sent
    /// within the resend window means our answer may still be in flight, or one packet of it
    /// was lost: we repair that one or hold (see [`super::repair`]).
    pub fn answer_entry(&self, fid: &FeedId, seq: u32, now: Millis) -> Answer {
        let sent = self.sent_entries.get(fid).copied();
        let repaired = self.repaired_entries.get(fid).copied();
        self.policy().answer(sent, repaired, seq, now)
    }

    /// Like [`FaceState::answer_entry`] for chunk `cnr` of a side chain.
    pub fn answer_chunk(&self, fid: &FeedId, seq: u32, cnr: u32, now: Millis) -> Answer {
        let sent = self.sent_chunks.get(&(*fid, seq)).copied();
        let repaired = self.repaired_chunks.get(&(*fid, seq)).copied();
        self.policy().answer(sent, repaired, cnr, now)
    }

    /// Records that entry `seq` of `fid` was sent alone as a repair.
    pub fn repaired_entry(&mut self, fid: &FeedId, seq: u32, now: Millis) {
        let previous = self.repaired_entries.get(fid).copied();
        self.repaired_entries
            .insert(*fid, repair::note(previous, seq, now));
    }

    /// Records that chunk `cnr` of a side chain was sent alone as a repair.
    pub fn repaired_chunk(&mut self, fid: &FeedId, seq: u32, cnr: u32, now: Millis) {
        let previous = self.repaired_chunks.get(&(*fid, seq)).copied();
        self.repaired_chunks
            .insert((*fid, seq), repair::note(previous, cnr, now));
    }

    /// Queues a packet; false if the queue is full (or it is a duplicate on a deduping face).
    pub fn push(&mut self, pkt: Vec<u8>) -> bool {
        if self.profile.dedupe && self.queue.iter().any(|q| *q == pkt) {
            return false;
        }
        if self.queue.len() >= self.profile.max_queue {
            return false;
        }
        self.queue.push_back(pkt);
        true
    }

    /// Packets that may leave now.
    pub fn drain(&mut self, now: Millis) -> Vec<Vec<u8>> {
        match self.profile.pace {
            Pace::Unlimited => self.queue.drain(..).collect(),
            Pace::Interval(gap) => {
                if now < self.next_send {
                    return Vec::new();
                }
                match self.queue.pop_front() {
                    Some(p) => {
                        self.next_send = now + gap;
                        vec![p]
                    }
                    None => Vec::new(),
                }
            }
            Pace::Lora { .. } => {
                if now < self.next_send {
                    return Vec::new();
                }
                let (Some(budget), Some(len)) = (
                    self.budget.as_mut(),
                    self.queue.front().map(|p| p.len() + CRC_LEN),
                ) else {
                    return Vec::new();
                };
                match budget.can_send(len, now) {
                    Ok(()) => {
                        let us = budget.record(len, now);
                        // The radio is busy for the frame's time on air.
                        self.next_send = now + us.div_ceil(1000);
                        self.queue.pop_front().into_iter().collect()
                    }
                    Err(BudgetError::Wait { until }) => {
                        self.next_send = until;
                        Vec::new()
                    }
                    Err(BudgetError::FrameTooLong { .. }) => {
                        self.queue.pop_front();
                        Vec::new()
                    }
                }
            }
        }
    }

    /// Duty-cycle events (budget spent, sending resumed) since the last call.
    pub fn budget_events(&mut self, now: Millis) -> Vec<BudgetEvent> {
        self.budget
            .as_mut()
            .map(|b| b.take_events(now))
            .unwrap_or_default()
    }

    /// When this face next wants to be polled.
    pub fn wakeup(&self) -> Option<Millis> {
        if self.queue.is_empty() {
            return None;
        }
        Some(match self.profile.pace {
            Pace::Unlimited => 0,
            Pace::Interval(_) | Pace::Lora { .. } => self.next_send,
        })
    }
}
