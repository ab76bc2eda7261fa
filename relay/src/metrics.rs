//! Counters and gauges, and their Prometheus text form.
//!
//! Everything is a relaxed atomic bumped where it happens; a
//! [`MetricsSnapshot`] is a plain copy for tests and for `GET /metrics`.
//! Frames and bytes count what was handed to the peer's outgoing queue.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why the relay turned something away (a connection, a frame, a client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// A TCP connection beyond `max_connections` (answered 503).
    ConnLimit,
    /// A TCP connection beyond `max_per_ip` (answered 429).
    IpLimit,
    /// An HTTP request that is neither a valid WebSocket upgrade nor
    /// `GET /metrics`.
    BadRequest,
    /// A frame that is not a valid v0 message where one was expected:
    /// broken JSON text before pairing, a JSON object that fails the v0
    /// checks (e.g. a bad rendezvous id), or invalid JSON after pairing.
    Malformed,
    /// A frame from a connection that is not paired (yet): binary data or a
    /// message other than REQUEST_RENDEZVOUS.
    Unpaired,
    /// A frame larger than `max_frame` (connection closed, code 1009).
    Oversize,
    /// A peer that did not drain its queue within `slow_reader_timeout`
    /// (connection closed).
    SlowReader,
    /// A third client on an id that is already paired (NOT_READY, closed).
    DuplicateId,
    /// A second REQUEST_RENDEZVOUS on one connection (closed, and its pair
    /// ended).
    Protocol,
    /// A new waiting client beyond `max_pending` (closed, code 1013).
    PendingLimit,
    /// A connection that dropped more than `max_dropped_frames` frames
    /// (closed, code 1008).
    TooManyDropped,
    /// A pair displaced by a newcomer on its id because it never carried a
    /// frame from both sides within `two_way_timeout` (counted per pair).
    Displaced,
}

impl RejectReason {
    /// Every reason, in label order.
    pub const ALL: [RejectReason; 12] = [
        RejectReason::ConnLimit,
        RejectReason::IpLimit,
        RejectReason::BadRequest,
        RejectReason::Malformed,
        RejectReason::Unpaired,
        RejectReason::Oversize,
        RejectReason::SlowReader,
        RejectReason::DuplicateId,
        RejectReason::Protocol,
        RejectReason::PendingLimit,
        RejectReason::TooManyDropped,
        RejectReason::Displaced,
    ];

    /// The Prometheus label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::ConnLimit => "conn_limit",
            RejectReason::IpLimit => "ip_limit",
            RejectReason::BadRequest => "bad_request",
            RejectReason::Malformed => "malformed",
            RejectReason::Unpaired => "unpaired",
            RejectReason::Oversize => "oversize",
            RejectReason::SlowReader => "slow_reader",
            RejectReason::DuplicateId => "duplicate_id",
            RejectReason::Protocol => "protocol",
            RejectReason::PendingLimit => "pending_limit",
            RejectReason::TooManyDropped => "too_many_dropped",
            RejectReason::Displaced => "displaced",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutKind {
    /// The HTTP request / WebSocket handshake took too long.
    Handshake,
    /// A client stayed unpaired past `wait_timeout`.
    Wait,
    /// A pair forwarded nothing for `idle_timeout` (counted per connection).
    Idle,
}

impl TimeoutKind {
    /// Every kind, in label order.
    pub const ALL: [TimeoutKind; 3] =
        [TimeoutKind::Handshake, TimeoutKind::Wait, TimeoutKind::Idle];

    /// The Prometheus label value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Handshake => "handshake",
            TimeoutKind::Wait => "wait",
            TimeoutKind::Idle => "idle",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The live counters, shared by every task of one relay.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    clients_waiting: AtomicU64,
    pairs_active: AtomicU64,
    pairs_total: AtomicU64,
    frames_forwarded: AtomicU64,
    bytes_forwarded: AtomicU64,
    rejections: [AtomicU64; RejectReason::ALL.len()],
    timeouts: [AtomicU64; TimeoutKind::ALL.len()],
}

impl Metrics {
    pub(crate) fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    pub(crate) fn set_waiting(&self, n: usize) {
        self.clients_waiting.store(n as u64, Relaxed);
    }

    pub(crate) fn pair_started(&self) {
        self.pairs_active.fetch_add(1, Relaxed);
        self.pairs_total.fetch_add(1, Relaxed);
    }

    pub(crate) fn pair_ended(&self) {
        self.pairs_active.fetch_sub(1, Relaxed);
    }

    pub(crate) fn forwarded(&self, bytes: usize) {
        self.frames_forwarded.fetch_add(1, Relaxed);
        self.bytes_forwarded.fetch_add(bytes as u64, Relaxed);
    }

    pub(crate) fn reject(&self, reason: RejectReason) {
        self.rejections[reason.index()].fetch_add(1, Relaxed);
    }

    pub(crate) fn timeout(&self, kind: TimeoutKind) {
        self.timeouts[kind.index()].fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            connections_open: self.connections_open.load(Relaxed),
            connections_total: self.connections_total.load(Relaxed),
            clients_waiting: self.clients_waiting.load(Relaxed),
            pairs_active: self.pairs_active.load(Relaxed),
            pairs_total: self.pairs_total.load(Relaxed),
            frames_forwarded: self.frames_forwarded.load(Relaxed),
            bytes_forwarded: self.bytes_forwarded.load(Relaxed),
            rejections: RejectReason::ALL
                .iter()
                .map(|r| (*r, self.rejections[r.index()].load(Relaxed)))
                .collect(),
            timeouts: TimeoutKind::ALL
                .iter()
                .map(|k| (*k, self.timeouts[k.index()].load(Relaxed)))
                .collect(),
            resident_memory_bytes: resident_memory_bytes(),
        }
    }
}

/// A copy of the relay's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// WebSocket connections open now.
    pub connections_open: u64,
    /// WebSocket connections accepted since start.
    pub connections_total: u64,
    /// Clients waiting for a peer now.
    pub clients_waiting: u64,
    /// Pairs forwarding now.
    pub pairs_active: u64,
    /// Pairs made since start.
    pub pairs_total: u64,
    /// Frames forwarded to a peer since start.
    pub frames_forwarded: u64,
    /// Payload bytes of those frames.
    pub bytes_forwarded: u64,
    /// Rejections since start, by reason (every reason present).
    pub rejections: BTreeMap<RejectReason, u64>,
    /// Timeouts since start, by kind (every kind present).
    pub timeouts: BTreeMap<TimeoutKind, u64>,
    /// The process's resident set size (Linux `VmRSS`), if known.
    pub resident_memory_bytes: Option<u64>,
}

impl MetricsSnapshot {
    /// Rejections for one reason.
    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejections.get(&reason).copied().unwrap_or(0)
    }

    /// Timeouts of one kind.
    pub fn timed_out(&self, kind: TimeoutKind) -> u64 {
        self.timeouts.get(&kind).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut one = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        one(
            "lichen_relay_connections_open",
            "gauge",
            "WebSocket connections open now.",
            self.connections_open,
        );
        one(
            "lichen_relay_connections_total",
            "counter",
            "WebSocket connections accepted since start.",
            self.connections_total,
        );
        one(
            "lichen_relay_clients_waiting",
            "gauge",
            "Clients waiting for a peer now.",
            self.clients_waiting,
        );
        one(
            "lichen_relay_pairs_active",
            "gauge",
            "Pairs forwarding now.",
            self.pairs_active,
        );
        one(
            "lichen_relay_pairs_total",
            "counter",
            "Pairs made since start.",
            self.pairs_total,
        );
        one(
            "lichen_relay_frames_forwarded_total",
            "counter",
            "Frames forwarded to a peer.",
            self.frames_forwarded,
        );
        one(
            "lichen_relay_bytes_forwarded_total",
            "counter",
            "Payload bytes forwarded to a peer.",
            self.bytes_forwarded,
        );
        if let Some(rss) = self.resident_memory_bytes {
            one(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                rss,
            );
        }
        let name = "lichen_relay_rejections_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections, frames and clients turned away, by reason.\n# TYPE {name} counter"
        );
        for (reason, n) in &self.rejections {
            let _ = writeln!(out, "{name}{{reason=\"{}\"}} {n}", reason.as_str());
        }
        let name = "lichen_relay_timeouts_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections closed by a timeout, by kind.\n# TYPE {name} counter"
        );
        for (kind, n) in &self.timeouts {
            let _ = writeln!(out, "{name}{{kind=\"{}\"}} {n}", kind.as_str());
        }
        out
    }
}

/// `VmRSS` from `/proc/self/status`, in bytes (Linux only; `None` elsewhere).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_every_series() {
        let m = Metrics::default();
        m.connection_opened();
        m.pair_started();
        m.forwarded(10);
        m.reject(RejectReason::Oversize);
        m.timeout(TimeoutKind::Wait);
        let s = m.snapshot();
        assert_eq!(s.rejected(RejectReason::Oversize), 1);
        assert_eq!(s.timed_out(TimeoutKind::Wait), 1);
        let text = s.to_prometheus();
        assert!(text.contains("lichen_relay_connections_open 1\n"));
        assert!(text.contains("lichen_relay_bytes_forwarded_total 10\n"));
        assert!(text.contains("lichen_relay_rejections_total{reason=\"oversize\"} 1\n"));
        assert!(text.contains("lichen_relay_rejections_total{reason=\"ip_limit\"} 0\n"));
        assert!(text.contains("lichen_relay_timeouts_total{kind=\"wait\"} 1\n"));
    }

    #[test]
    fn rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_memory_bytes().is_some_and(|b| b > 0));
        }
    }
}
