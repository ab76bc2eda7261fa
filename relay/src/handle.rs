//! What one connection exposes to the rest of the relay: its bounded
//! outgoing queue, a close signal, and (once paired) a link to its peer.
//!
//! The queue is the only path to a connection's writer, so it bounds what
//! the relay buffers for a slow reader. Notices and close requests from
//! other tasks never wait: if the queue is full the connection is aborted
//! instead. Links hold the peer's control block weakly, so two paired
//! connections never keep each other alive.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::metrics::TimeoutKind;

/// A connection's number, unique within one relay.
pub(crate) type ConnId = u64;

/// Why a connection is being closed; chooses the close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseCause {
    /// The client closed or the socket failed.
    ClientGone,
    /// The peer left (NOTIFY_RENDEZVOUS_END was queued first).
    PeerLeft,
    /// A timeout fired.
    Timeout(TimeoutKind),
    /// A frame above `max_frame`.
    Oversize,
    /// The connection did not drain its queue.
    SlowReader,
    /// The id is already paired (NOT_READY was queued first).
    DuplicateId,
    /// A second REQUEST_RENDEZVOUS.
    Protocol,
    /// Too many clients waiting.
    PendingLimit,
    /// Too many dropped frames.
    TooManyDropped,
    /// Displaced by a newcomer on the same id: the pair never carried a
    /// frame from both sides within `two_way_timeout` (END was queued first).
    Displaced,
    /// The relay is shutting down.
    Shutdown,
}

impl CloseCause {
    /// The close code and reason sent to the client.
    pub(crate) fn close_frame(self) -> (CloseCode, &'static str) {
        match self {
            CloseCause::ClientGone => (CloseCode::Normal, ""),
            CloseCause::PeerLeft => (CloseCode::Normal, "peer left"),
            CloseCause::Timeout(TimeoutKind::Wait) => {
                (CloseCode::Normal, "no peer arrived in time")
            }
            CloseCause::Timeout(TimeoutKind::Idle) => (CloseCode::Normal, "pair idle too long"),
            CloseCause::Timeout(TimeoutKind::Handshake) => {
                (CloseCode::Policy, "handshake too slow")
            }
            CloseCause::Oversize => (CloseCode::Size, "frame too large"),
            CloseCause::SlowReader => (CloseCode::Policy, "reader too slow"),
            CloseCause::DuplicateId => (CloseCode::Policy, "rendezvous id already paired"),
            CloseCause::Protocol => (CloseCode::Protocol, "second rendezvous request"),
            CloseCause::PendingLimit => (CloseCode::Again, "too many clients waiting"),
            CloseCause::TooManyDropped => (CloseCode::Policy, "too many unexpected frames"),
            CloseCause::Displaced => (CloseCode::Policy, "pair displaced: no two-way traffic"),
            CloseCause::Shutdown => (CloseCode::Away, "relay shutting down"),
        }
    }

    /// A short name for logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CloseCause::ClientGone => "client_gone",
            CloseCause::PeerLeft => "peer_left",
            CloseCause::Timeout(kind) => kind.as_str(),
            CloseCause::Oversize => "oversize",
            CloseCause::SlowReader => "slow_reader",
            CloseCause::DuplicateId => "duplicate_id",
            CloseCause::Protocol => "protocol",
            CloseCause::PendingLimit => "pending_limit",
            CloseCause::TooManyDropped => "too_many_dropped",
            CloseCause::Displaced => "displaced",
            CloseCause::Shutdown => "shutdown",
        }
    }
}

/// A close request: graceful ones let the writer send what is queued first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closing {
    pub(crate) cause: CloseCause,
    pub(crate) graceful: bool,
}

/// A paired connection's view of its peer.
#[derive(Debug, Clone)]
pub(crate) struct PeerLink {
    pub(crate) id: ConnId,
    pub(crate) tx: mpsc::Sender<Message>,
    control: Weak<Control>,
    /// Milliseconds since relay start of the pair's last forwarded frame.
    pub(crate) activity: Arc<AtomicU64>,
}

impl PeerLink {
    /// Closes the peer without waiting for its queue.
    pub(crate) fn abort_peer(&self, cause: CloseCause) {
        if let Some(control) = self.control.upgrade() {
            control.close(cause, false);
        }
    }
}

#[derive(Debug)]
struct Control {
    closing: watch::Sender<Option<Closing>>,
    link: OnceLock<PeerLink>,
    text_notices: AtomicBool,
    /// Relay clock (ms) when the connection was paired; `u64::MAX` before.
    paired_ms: AtomicU64,
    /// Whether the connection has had a frame forwarded to its peer.
    spoke: AtomicBool,
}

impl Control {
    fn close(&self, cause: CloseCause, graceful: bool) {
        self.closing.send_if_modified(|c| {
            if c.is_some() {
                return false;
            }
            *c = Some(Closing { cause, graceful });
            true
        });
    }
}

/// A connection as seen by other tasks (cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    pub(crate) id: ConnId,
    tx: mpsc::Sender<Message>,
    control: Arc<Control>,
}

/// The receiving ends, kept by the connection's own tasks.
pub(crate) struct ConnEnds {
    pub(crate) rx: mpsc::Receiver<Message>,
    pub(crate) reader_closing: watch::Receiver<Option<Closing>>,
    pub(crate) writer_closing: watch::Receiver<Option<Closing>>,
}

impl ConnHandle {
    /// A new connection with a queue of `queue` frames.
    pub(crate) fn new(id: ConnId, queue: usize) -> (ConnHandle, ConnEnds) {
        let (tx, rx) = mpsc::channel(queue);
        let (closing, reader_closing) = watch::channel(None);
        let writer_closing = closing.subscribe();
        let control = Arc::new(Control {
            closing,
            link: OnceLock::new(),
            text_notices: AtomicBool::new(false),
            paired_ms: AtomicU64::new(u64::MAX),
            spoke: AtomicBool::new(false),
        });
        let ends = ConnEnds {
            rx,
            reader_closing,
            writer_closing,
        };
        (ConnHandle { id, tx, control }, ends)
    }

    /// Queues a frame without waiting; a full queue aborts the connection.
    /// Returns false if the frame was not queued.
    pub(crate) fn push(&self, message: Message) -> bool {
        match self.tx.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.abort(CloseCause::SlowReader);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// The sending end of this connection's queue.
    pub(crate) fn sender(&self) -> &mpsc::Sender<Message> {
        &self.tx
    }

    /// Closes after what is already queued (first request wins).
    pub(crate) fn close(&self, cause: CloseCause) {
        self.control.close(cause, true);
    }

    /// Closes now, dropping what is queued (first request wins).
    pub(crate) fn abort(&self, cause: CloseCause) {
        self.control.close(cause, false);
    }

    /// The close request, if any.
    pub(crate) fn closing(&self) -> Option<Closing> {
        *self.control.closing.borrow()
    }

    /// Whether notices go out as text frames (the client asked in text).
    pub(crate) fn text_notices(&self) -> bool {
        self.control.text_notices.load(Relaxed)
    }

    /// Records the frame type the client used for its request.
    pub(crate) fn set_text_notices(&self, text: bool) {
        self.control.text_notices.store(text, Relaxed);
    }

    /// Records that a frame of this connection reached its peer's queue.
    pub(crate) fn mark_spoke(&self) {
        if !self.control.spoke.load(Relaxed) {
            self.control.spoke.store(true, Relaxed);
        }
    }

    /// Whether a frame of this connection has reached its peer's queue.
    pub(crate) fn has_spoken(&self) -> bool {
        self.control.spoke.load(Relaxed)
    }

    /// The relay clock (ms) at which this connection was linked to its
    /// peer; `None` until the link is made.
    pub(crate) fn paired_ms(&self) -> Option<u64> {
        let ms = self.control.paired_ms.load(Relaxed);
        (ms != u64::MAX).then_some(ms)
    }

    /// The peer, once paired.
    pub(crate) fn link(&self) -> Option<&PeerLink> {
        self.control.link.get()
    }

    /// Links two connections as a pair sharing one activity clock.
    pub(crate) fn link_pair(a: &ConnHandle, b: &ConnHandle, now_ms: u64) {
        let activity = Arc::new(AtomicU64::new(now_ms));
        let to = |h: &ConnHandle| PeerLink {
            id: h.id,
            tx: h.tx.clone(),
            control: Arc::downgrade(&h.control),
            activity: Arc::clone(&activity),
        };
        let _ = a.control.link.set(to(b));
        let _ = b.control.link.set(to(a));
        a.control.paired_ms.store(now_ms, Relaxed);
        b.control.paired_ms.store(now_ms, Relaxed);
    }
}
