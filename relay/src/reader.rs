//! A connection's reader: pairing, forwarding and the timers.
//!
//! The reader owns the receiving half of the WebSocket and runs until the
//! connection should close, then says why ([`CloseCause`]). Each frame is
//! either
//!
//! * forwarded straight into the peer's queue (paired, and not JSON: the
//!   ciphertext case the relay exists for), or
//! * taken to the pairing table (REQUEST_RENDEZVOUS, JSON frames after
//!   pairing, anything before pairing), which pairs, refuses, forwards or
//!   drops it as the matchmaker decides.
//!
//! Backpressure: when the peer's queue is full the reader waits for room,
//! so the sender is not read and TCP pushes back on it. If no room appears
//! within `slow_reader_timeout` the peer is closed as a slow reader; the
//! relay never holds more than the queue for it.
//!
//! Timers: one sleep, reset only when it fires. Unpaired, it fires at
//! `wait_timeout` after the handshake; paired, at the pair's last forwarded
//! frame plus `idle_timeout` (checked lazily, so forwarding a frame costs an
//! atomic store, not a timer reset).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use moneysocket::error::V0MessageError;
use moneysocket::message::MessageClass;
use moneysocket::rendezvous::RendezvousMessage;
use moneysocket::v0::codec::is_cleartext;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, warn, Span};

use crate::handle::{CloseCause, Closing, ConnHandle, PeerLink};
use crate::metrics::{RejectReason, TimeoutKind};
use crate::shared::Shared;
use crate::table::Effect;
use crate::tls::IoStream;

pub(crate) type Stream = SplitStream<WebSocketStream<IoStream>>;

/// How soon to look again when the table says paired but the link is not
/// set yet (the pairing task is between its two steps).
const LINK_RETRY: Duration = Duration::from_millis(20);

/// The signals a reader watches while it may wait.
pub(crate) struct Signals {
    pub(crate) closing: watch::Receiver<Option<Closing>>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// The outcome of handing a frame to a peer's queue.
enum Forwarded {
    Sent,
    PeerGone,
    PeerStalled,
    Stop(CloseCause),
}

/// One connection's reading side.
pub(crate) struct Reader {
    pub(crate) me: ConnHandle,
    pub(crate) stream: Stream,
    pub(crate) signals: Signals,
    pub(crate) shared: Arc<Shared>,
    pub(crate) opened: Instant,
    link: Option<PeerLink>,
    dropped: u32,
}

impl Reader {
    pub(crate) fn new(
        me: ConnHandle,
        stream: Stream,
        signals: Signals,
        shared: Arc<Shared>,
    ) -> Self {
        Reader {
            me,
            stream,
            signals,
            shared,
            opened: Instant::now(),
            link: None,
            dropped: 0,
        }
    }

    /// Reads until the connection should close, and says why.
    pub(crate) async fn run(&mut self) -> CloseCause {
        if *self.signals.shutdown.borrow() {
            return CloseCause::Shutdown;
        }
        let sleep = sleep_until(self.opened + self.shared.config.wait_timeout);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                _ = self.signals.closing.changed() => return self.requested_cause(),
                _ = self.signals.shutdown.changed() => return CloseCause::Shutdown,
                () = &mut sleep => match self.on_deadline() {
                    Ok(next) => sleep.as_mut().reset(next),
                    Err(cause) => return cause,
                },
                next = self.stream.next() => match next {
                    None => return CloseCause::ClientGone,
                    Some(Err(WsError::Capacity(e))) => {
                        warn!(error = %e, "frame too large");
                        self.shared.metrics.reject(RejectReason::Oversize);
                        return CloseCause::Oversize;
                    }
                    Some(Err(e)) => {
                        debug!(error = %e, "read failed");
                        return CloseCause::ClientGone;
                    }
                    Some(Ok(message)) => {
                        if let Some(cause) = self.on_message(message).await {
                            return cause;
                        }
                    }
                },
            }
        }
    }

    /// Reads (and discards) until the client finishes closing, or `grace`.
    pub(crate) async fn drain(&mut self, grace: Duration) {
        let _ = timeout(grace, async {
            while let Some(Ok(_)) = self.stream.next().await {}
        })
        .await;
    }

    fn requested_cause(&self) -> CloseCause {
        self.me
            .closing()
            .map_or(CloseCause::ClientGone, |c| c.cause)
    }

    fn refresh_link(&mut self) {
        if self.link.is_none() {
            self.link = self.me.link().cloned();
        }
    }

    /// The timer fired: time out, or say when to look again.
    fn on_deadline(&mut self) -> Result<Instant, CloseCause> {
        let now = Instant::now();
        self.refresh_link();
        let (kind, due) = match &self.link {
            Some(link) => {
                let last = self.shared.instant_of(link.activity.load(Relaxed));
                (TimeoutKind::Idle, last + self.shared.config.idle_timeout)
            }
            None if self.shared.table.is_paired(self.me.id) => return Ok(now + LINK_RETRY),
            None => (TimeoutKind::Wait, now),
        };
        if due > now {
            return Ok(due);
        }
        debug!(kind = kind.as_str(), "timed out");
        self.shared.metrics.timeout(kind);
        Err(CloseCause::Timeout(kind))
    }

    async fn on_message(&mut self, message: Message) -> Option<CloseCause> {
        let text = message.is_text();
        let bytes: &[u8] = match &message {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            Message::Close(_) => return Some(CloseCause::ClientGone),
            // tungstenite answers pings itself; pongs and raw frames are noise.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return None,
        };
        self.refresh_link();
        if self.link.is_some() && !is_cleartext(bytes) {
            return self.forward_to_link(message).await;
        }
        let parsed = moneysocket::v0::Message::from_json_bytes(bytes);
        if let Ok(msg) = &parsed {
            let request = (msg.class() == MessageClass::Request)
                .then(|| RendezvousMessage::from_message(msg))
                .flatten();
            if let Some(RendezvousMessage::Request {
                request_uuid,
                rendezvous_id,
            }) = request
            {
                let hex = rendezvous_id.to_string();
                Span::current().record("rid", hex.get(..8).unwrap_or(&hex));
                debug!(text, "rendezvous requested");
                let now = self.shared.now_ms();
                let effects =
                    self.shared
                        .table
                        .request(&self.me, rendezvous_id, &request_uuid, text, now);
                return self.apply(effects, None).await;
            }
        }
        match self.shared.table.frame(&self.me, bytes) {
            Some(effects) if effects.is_empty() => self.dropped(RejectReason::Malformed),
            Some(effects) => self.apply(effects, Some(message)).await,
            None => {
                let reason = match parsed {
                    Ok(_) => RejectReason::Unpaired,
                    Err(V0MessageError::Json(_)) if !text => RejectReason::Unpaired,
                    Err(_) => RejectReason::Malformed,
                };
                self.dropped(reason)
            }
        }
    }

    fn dropped(&mut self, reason: RejectReason) -> Option<CloseCause> {
        self.shared.metrics.reject(reason);
        self.dropped += 1;
        debug!(reason = reason.as_str(), "frame dropped");
        if self.dropped > self.shared.config.max_dropped_frames {
            self.shared.metrics.reject(RejectReason::TooManyDropped);
            return Some(CloseCause::TooManyDropped);
        }
        None
    }

    /// Carries out table effects; returns this connection's close, if any.
    pub(crate) async fn apply(
        &mut self,
        effects: Vec<Effect>,
        mut frame: Option<Message>,
    ) -> Option<CloseCause> {
        let mut own_close = None;
        for effect in effects {
            match effect {
                Effect::Send { to, message } => {
                    to.push(message);
                }
                Effect::Link { a, b } => ConnHandle::link_pair(&a, &b, self.shared.now_ms()),
                Effect::Close { to, cause } if to.id == self.me.id => own_close = Some(cause),
                Effect::Close { to, cause } => to.close(cause),
                Effect::Forward { to } => {
                    let Some(message) = frame.take() else {
                        continue;
                    };
                    let len = message.len();
                    match forward(&mut self.signals, to.sender(), message, &self.shared).await {
                        Forwarded::Sent => self.forwarded(len),
                        Forwarded::PeerGone => {}
                        Forwarded::PeerStalled => {
                            slow_peer(&self.shared, to.id);
                            to.abort(CloseCause::SlowReader);
                        }
                        Forwarded::Stop(cause) => return Some(cause),
                    }
                }
            }
        }
        own_close
    }

    async fn forward_to_link(&mut self, message: Message) -> Option<CloseCause> {
        let link = self.link.as_ref()?;
        let len = message.len();
        match forward(&mut self.signals, &link.tx, message, &self.shared).await {
            Forwarded::Sent => self.forwarded(len),
            Forwarded::PeerGone => {}
            Forwarded::PeerStalled => {
                slow_peer(&self.shared, link.id);
                link.abort_peer(CloseCause::SlowReader);
            }
            Forwarded::Stop(cause) => return Some(cause),
        }
        None
    }

    fn forwarded(&self, len: usize) {
        self.shared.metrics.forwarded(len);
        // Two-way traffic protects a pair from displacement (see `table`).
        self.me.mark_spoke();
        if let Some(link) = &self.link {
            link.activity.store(self.shared.now_ms(), Relaxed);
        }
    }
}

fn slow_peer(shared: &Shared, peer: u64) {
    warn!(
        peer_conn = peer,
        "peer did not drain its queue in time; closing it as a slow reader"
    );
    shared.metrics.reject(RejectReason::SlowReader);
}

/// Hands a frame to a peer's queue, waiting (bounded) for room.
async fn forward(
    signals: &mut Signals,
    tx: &mpsc::Sender<Message>,
    message: Message,
    shared: &Shared,
) -> Forwarded {
    let message = match tx.try_send(message) {
        Ok(()) => return Forwarded::Sent,
        Err(mpsc::error::TrySendError::Closed(_)) => return Forwarded::PeerGone,
        Err(mpsc::error::TrySendError::Full(message)) => message,
    };
    let wait = timeout(shared.config.slow_reader_timeout, tx.send(message));
    tokio::select! {
        biased;
        _ = signals.closing.changed() => {
            let cause = (*signals.closing.borrow()).map_or(CloseCause::ClientGone, |c| c.cause);
            Forwarded::Stop(cause)
        }
        _ = signals.shutdown.changed() => Forwarded::Stop(CloseCause::Shutdown),
        sent = wait => match sent {
            Ok(Ok(())) => Forwarded::Sent,
            Ok(Err(_)) => Forwarded::PeerGone,
            Err(_) => Forwarded::PeerStalled,
        },
    }
}
