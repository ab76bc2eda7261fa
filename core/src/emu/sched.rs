//! The ESP32 firmware's output scheduler (`SchedClass` in `tinySSBlib/sched.cpp`), sans-IO.
//!
//! Everything a dongle sends, on LoRa and BLE alike, waits for a slot. A slot comes every
//! 250 ms plus a random 0–299 ms ("4 slots per second", about 2.5 in practice) and carries
//! at most one packet. At most 10 packets wait; a packet identical to one already waiting is
//! not queued again, and once 10 wait, new ones are dropped. The firmware sends a probe
//! (claim, WANT) to all faces at once; here the engine hands the scheduler one copy per face,
//! and identical copies are merged into one slot for all their faces, which has the same
//! effect.

use std::collections::VecDeque;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::lora::esp32_slot_gap;
use crate::sync::{FaceId, Millis};

/// Most packets waiting (`SCHED_MAX`).
pub const MAX_WAITING: usize = 10;

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued for a slot.
    Queued,
    /// Already waiting for another face: that slot now serves this face too.
    Merged,
    /// Already waiting for this face: dropped.
    Duplicate,
    /// 10 packets wait: dropped.
    Full,
}

/// The slot scheduler of one dongle.
#[derive(Debug)]
pub struct SlotScheduler {
    waiting: VecDeque<(Vec<u8>, Vec<FaceId>)>,
    next_slot: Millis,
    rng: ChaCha8Rng,
    dropped: u64,
}

impl SlotScheduler {
    /// A scheduler whose first slot is at `now`.
    pub fn new(now: Millis, seed: u64) -> SlotScheduler {
        SlotScheduler {
            waiting: VecDeque::new(),
            next_slot: now,
            rng: ChaCha8Rng::seed_from_u64(seed),
            dropped: 0,
        }
    }

    /// Queues `pkt` for `face`.
    pub fn push(&mut self, pkt: Vec<u8>, face: FaceId) -> Pushed {
        if let Some((_, faces)) = self.waiting.iter_mut().find(|(p, _)| *p == pkt) {
            if faces.contains(&face) {
                return Pushed::Duplicate;
            }
            faces.push(face);
            return Pushed::Merged;
        }
        if self.waiting.len() >= MAX_WAITING {
            self.dropped += 1;
            return Pushed::Full;
        }
        self.waiting.push_back((pkt, vec![face]));
        Pushed::Queued
    }

    /// If a slot is due at `now`, uses it: the packet it carries (and its faces), if any.
    /// An empty slot passes unused, as on the firmware.
    pub fn tick(&mut self, now: Millis) -> Option<(Vec<u8>, Vec<FaceId>)> {
        if now < self.next_slot {
            return None;
        }
        self.next_slot = now + esp32_slot_gap(&mut self.rng);
        self.waiting.pop_front()
    }

    /// When the next slot is due.
    pub fn next_slot(&self) -> Millis {
        self.next_slot
    }

    /// Packets waiting.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Packets dropped because 10 were waiting.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Forgets a face (it disconnected): its packets no longer wait for it.
    pub fn remove_face(&mut self, face: FaceId) {
        for (_, faces) in self.waiting.iter_mut() {
            faces.retain(|f| *f != face);
        }
        self.waiting.retain(|(_, faces)| !faces.is_empty());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_packet_per_slot_at_250_to_549_ms() {
        let mut s = SlotScheduler::new(0, 1);
        for i in 0..5u8 {
            assert_eq!(s.push(vec![i; 20], FaceId(1)), Pushed::Queued);
        }
        let mut now = 0;
        let mut sent = Vec::new();
        let mut gaps = Vec::new();
        while sent.len() < 5 {
            let before = s.next_slot();
            if let Some((p, faces)) = s.tick(now) {
                assert_eq!(faces, vec![FaceId(1)]);
                sent.push(p[0]);
                gaps.push(s.next_slot() - before.max(now));
            }
            assert_eq!(s.tick(now), None, "one packet per slot");
            now = s.next_slot();
        }
        assert_eq!(sent, vec![0, 1, 2, 3, 4]);
        assert!(gaps.iter().all(|g| (250..550).contains(g)), "{gaps:?}");
    }

    #[test]
    fn about_two_and_a_half_slots_per_second() {
        let mut s = SlotScheduler::new(0, 42);
        let mut now = 0;
        let mut slots = 0;
        while now < 600_000 {
            s.tick(now);
            slots += 1;
            now = s.next_slot();
        }
        let per_s = slots as f64 / 600.0;
        assert!((2.3..2.7).contains(&per_s), "{per_s} slots/s");
    }

    #[test]
    fn ten_wait_at_most_and_duplicates_are_dropped_or_merged() {
        let mut s = SlotScheduler::new(0, 1);
        for i in 0..10u8 {
            assert_eq!(s.push(vec![i; 8], FaceId(1)), Pushed::Queued);
        }
        assert_eq!(s.push(vec![99; 8], FaceId(1)), Pushed::Full);
        assert_eq!(s.dropped(), 1);
        assert_eq!(s.push(vec![3; 8], FaceId(1)), Pushed::Duplicate);
        assert_eq!(s.push(vec![3; 8], FaceId(2)), Pushed::Merged);
        assert_eq!(s.waiting(), 10);
        let mut now = 0;
        let mut got = Vec::new();
        while got.len() < 10 {
            if let Some(x) = s.tick(now) {
                got.push(x);
            }
            now = s.next_slot();
        }
        assert_eq!(got[3], (vec![3; 8], vec![FaceId(1), FaceId(2)]));
    }

    #[test]
    fn a_gone_face_frees_its_slots() {
        let mut s = SlotScheduler::new(0, 1);
        s.push(vec![1; 8], FaceId(1));
        s.push(vec![2; 8], FaceId(2));
        s.push(vec![2; 8], FaceId(1));
        s.remove_face(FaceId(1));
        assert_eq!(s.waiting(), 1);
        assert_eq!(s.tick(0), Some((vec![2; 8], vec![FaceId(2)])));
    }
}
