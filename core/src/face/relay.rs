//! The relay face: a link to one peer through a Moneysocket rendezvous relay, kept up forever.
//!
//! Each session dials the relay ([`super::relay_dial`]), runs the rendezvous and the tunnel
//! ([`super::relay_session`], sans-IO) and, once the tunnel is open, registers a fast face
//! with the node and carries its packets as binary frames, one packet per frame. When the
//! session ends (the peer left, the relay went away, a frame failed authentication) the face
//! is unregistered and the link waits as the [`Backoff`] policy says, then dials again. It
//! stops when the node shuts down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use moneysocket::uuid::Uuid;
use rand_core::{OsRng, RngCore};
use rustls::ClientConfig;
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, info_span, warn, Instrument};

use super::relay_dial::{dial, tls_config, RelayOptions, RelaySocket, RelayTarget};
use super::relay_session::{RelaySession, SessionError, SessionEvent};
use super::tunnel::TunnelRole;
use super::Link;
use crate::backoff::Backoff;
use crate::node::{LinkDetail, Node, NodeError, NodeEvent};
use crate::sync::{FaceId, FaceProfile};

/// The link kind relay faces register as.
pub const KIND: &str = "relay";

/// Keeps a link to the peer of a beacon through the relay it names, until the node shuts
/// down: dials the relay (reconnecting with backoff), pairs on the beacon's rendezvous id,
/// and carries packets through the encrypted tunnel as `role`. Returns once the link task
/// runs (abort the handle to stop it). Its progress is reported as a
/// [`crate::node::LinkStatus::Progress`] of kind [`KIND`] whose detail is a
/// [`RelayReport`]; the link itself comes up and goes down as every link does.
pub fn connect(
    node: &Node,
    target: RelayTarget,
    role: TunnelRole,
    options: RelayOptions,
) -> Result<tokio::task::AbortHandle, NodeError> {
    spawn(&node.handle(), node.link(), target, role, options)
}

/// [`connect`] for callers holding a runtime handle and a node's port.
pub fn spawn(
    rt: &tokio::runtime::Handle,
    link: Link,
    target: RelayTarget,
    role: TunnelRole,
    options: RelayOptions,
) -> Result<tokio::task::AbortHandle, NodeError> {
    let url = target.url();
    let tls = if target.tls {
        Some(tls_config(&options).map_err(|err| NodeError::Connect {
            url: url.clone(),
            err,
        })?)
    } else {
        None
    };
    info!(%url, role = role.name(), "relay link starting");
    let relay = RelayLink {
        target,
        role,
        options,
        tls,
        link,
    };
    Ok(rt.spawn(relay.run()).abort_handle())
}

/// The peer label of the relay link to `target` (the same in its progress reports and
/// once its face is up): the relay's URL and the rendezvous id's first 8 characters.
pub fn peer_label(target: &RelayTarget) -> String {
    let rid = target.rid.to_string();
    format!("{} #{}", target.url(), rid.get(..8).unwrap_or(&rid))
}

/// A relay link's progress report: the detail of its [`crate::node::LinkStatus::Progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayReport {
    /// The relay's URL.
    pub url: String,
    /// What the link is doing.
    pub status: RelayStatus,
}

impl RelayReport {
    /// The relay report a node event carries, if it is one.
    pub fn of(event: &NodeEvent) -> Option<&RelayReport> {
        event.detail::<RelayReport>()
    }
}

/// What a relay link is doing (reported in a [`RelayReport`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayStatus {
    /// Dialing the relay.
    Connecting,
    /// The relay holds us until the peer arrives.
    Waiting,
    /// Paired with the peer; the tunnel is being set up.
    Paired,
    /// The session ended; the next attempt comes after this delay.
    Retrying {
        /// The delay.
        after: Duration,
        /// Why the session ended.
        reason: String,
    },
}

type Sink = SplitSink<RelaySocket, Message>;
type Stream = SplitStream<RelaySocket>;

/// How a session ended.
enum End {
    /// The node shut down: stop for good.
    NodeGone,
    /// Try again later, for this reason.
    Retry(String),
}

/// One relay link: its settings and its backoff state.
struct RelayLink {
    target: RelayTarget,
    role: TunnelRole,
    options: RelayOptions,
    tls: Option<Arc<ClientConfig>>,
    link: Link,
}

impl RelayLink {
    /// Runs sessions until the node shuts down.
    async fn run(self) {
        let url = self.target.url();
        let rid = self.target.rid.to_string();
        let span = info_span!("relay", url = %url, rid = &rid[..8], role = self.role.name());
        async move {
            let epoch = Instant::now();
            let ms = || u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
            let mut backoff = Backoff::new(self.options.backoff, OsRng.next_u64());
            loop {
                let reason = match self.session(&mut backoff, epoch).await {
                    End::NodeGone => break,
                    End::Retry(reason) => reason,
                };
                // The relay link never stops retrying (nothing calls `stop` on it).
                let Some(after) = backoff.retry_delay(ms()) else {
                    break;
                };
                info!(%reason, after_ms = after.as_millis() as u64, "relay session ended");
                self.status(RelayStatus::Retrying { after, reason });
                tokio::select! {
                    _ = sleep(after) => {}
                    _ = self.link.closed() => break,
                }
            }
            debug!("relay link stopped");
        }
        .instrument(span)
        .await;
    }

    fn status(&self, status: RelayStatus) {
        self.link.progress(
            KIND,
            peer_label(&self.target),
            None,
            LinkDetail::new(RelayReport {
                url: self.target.url(),
                status,
            }),
        );
    }

    async fn session(&self, backoff: &mut Backoff, epoch: Instant) -> End {
        let ms = || u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.status(RelayStatus::Connecting);
        let dialed = tokio::select! {
            r = timeout(self.options.connect_timeout, dial(&self.target, &self.options, self.tls.as_ref())) => r,
            _ = self.link.closed() => return End::NodeGone,
        };
        let (ws, peer) = match dialed {
            Err(_) => return End::Retry("connecting timed out".into()),
            Ok(Err(e)) => return End::Retry(e),
            Ok(Ok(x)) => x,
        };
        debug!(%peer, "connected to the relay");
        let (mut sink, mut stream) = ws.split();
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let now = crate::clock::unix_secs_f64();
        let mut session = RelaySession::new(
            &self.target.seed,
            self.target.rid,
            self.role,
            random,
            Uuid::generate(&mut OsRng),
            now,
        );
        let request = Message::Binary(session.request_frame().to_vec().into());
        if let Err(e) = sink.send(request).await {
            return End::Retry(format!("sending the rendezvous request: {e}"));
        }
        // Until the tunnel is open (waiting at the relay may take long: keep the path checked).
        let mut hello_deadline: Option<Instant> = None;
        let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let mut keepalive = Keepalive::new(self.options.keepalive);
        loop {
            let frame = tokio::select! {
                f = next_frame(&mut stream) => f,
                _ = self.link.closed() => {
                    close(&mut sink).await;
                    return End::NodeGone;
                }
                _ = sleep_until(hello_deadline.unwrap_or(far)) => {
                    close(&mut sink).await;
                    return End::Retry("the peer sent no tunnel hello".into());
                }
                _ = keepalive.tick() => {
                    if let Err(end) = keepalive.ping(&mut sink).await {
                        return end;
                    }
                    continue;
                }
            };
            keepalive.heard();
            let frame = match frame {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                Err(reason) => return End::Retry(reason),
            };
            let events = match session.on_frame(&frame) {
                Ok(ev) => ev,
                Err(e) => {
                    close(&mut sink).await;
                    return End::Retry(e.to_string());
                }
            };
            let mut open = false;
            for event in events {
                match event {
                    SessionEvent::Waiting => {
                        backoff.healthy(ms());
                        self.status(RelayStatus::Waiting);
                    }
                    SessionEvent::Paired => {
                        backoff.healthy(ms());
                        hello_deadline = Some(Instant::now() + self.options.hello_timeout);
                        self.status(RelayStatus::Paired);
                    }
                    SessionEvent::Send(f) => {
                        if let Err(e) = sink.send(Message::Binary(f.into())).await {
                            return End::Retry(format!("sending: {e}"));
                        }
                    }
                    SessionEvent::Open => open = true,
                    SessionEvent::Ended => return End::Retry("the peer left".into()),
                    SessionEvent::Packet(_) => {} // cannot precede Open
                }
            }
            if open {
                break;
            }
        }
        let Ok((face, out)) = self
            .link
            .register(KIND, peer_label(&self.target), FaceProfile::fast())
            .await
        else {
            close(&mut sink).await;
            return End::NodeGone;
        };
        info!(?face, "tunnel open");
        let end = self
            .pipe(face, out, &mut session, &mut sink, &mut stream)
            .await;
        let reason = match &end {
            End::NodeGone => "node shut down".to_string(),
            End::Retry(r) => r.clone(),
        };
        close(&mut sink).await;
        self.link.unregister(face, reason);
        end
    }

    /// Carries packets both ways until the session ends.
    async fn pipe(
        &self,
        face: FaceId,
        mut out: tokio::sync::mpsc::Receiver<Vec<u8>>,
        session: &mut RelaySession,
        sink: &mut Sink,
        stream: &mut Stream,
    ) -> End {
        let mut keepalive = Keepalive::new(self.options.keepalive);
        loop {
            tokio::select! {
                frame = next_frame(stream) => {
                    keepalive.heard();
                    if let Some(end) = self.take_frame(face, session, frame).await {
                        return end;
                    }
                }
                _ = keepalive.tick() => {
                    if let Err(end) = keepalive.ping(sink).await {
                        return end;
                    }
                }
                pkt = out.recv() => {
                    let Some(pkt) = pkt else { return End::NodeGone };
                    if let Err(e) = self.send_batch(pkt, &mut out, session, sink).await {
                        return End::Retry(e);
                    }
                }
            }
        }
    }

    /// Opens one frame from the relay and delivers its packet; `Some` when the session ends.
    async fn take_frame(
        &self,
        face: FaceId,
        session: &mut RelaySession,
        frame: Result<Option<Vec<u8>>, String>,
    ) -> Option<End> {
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => return None,
            Err(reason) => return Some(End::Retry(reason)),
        };
        let events = match session.on_frame(&frame) {
            Ok(events) => events,
            Err(SessionError::Tunnel(e)) if !e.is_fatal() => {
                warn!(error = %e, "tunnel frame dropped");
                return None;
            }
            Err(e) => return Some(End::Retry(e.to_string())),
        };
        for event in events {
            match event {
                SessionEvent::Packet(p) => {
                    let delivered = self.link.deliver(face, p).await;
                    if !delivered {
                        return Some(End::NodeGone);
                    }
                }
                SessionEvent::Ended => return Some(End::Retry("the peer left".into())),
                _ => {}
            }
        }
        None
    }

    /// Seals and sends `first` and whatever else is queued, with one flush.
    async fn send_batch(
        &self,
        first: Vec<u8>,
        out: &mut tokio::sync::mpsc::Receiver<Vec<u8>>,
        session: &mut RelaySession,
        sink: &mut Sink,
    ) -> Result<(), String> {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(pkt) = next {
            let frame = session.seal(&pkt).map_err(|e| e.to_string())?;
            sink.feed(Message::Binary(frame.into()))
                .await
                .map_err(|e| format!("sending: {e}"))?;
            n += 1;
            next = if n < 256 { out.try_recv().ok() } else { None };
        }
        sink.flush().await.map_err(|e| format!("sending: {e}"))
    }
}

/// Sends a close frame, waiting at most a second (a stuck socket is simply dropped).
async fn close(sink: &mut Sink) {
    let _ = timeout(Duration::from_secs(1), sink.close()).await;
}

/// WebSocket pings to the relay: a dead path (a NAT that forgot the flow, a host gone) shows
/// no error until TCP gives up, so nothing heard for 2.5 intervals ends the session.
struct Keepalive {
    every: Duration,
    ticks: tokio::time::Interval,
    heard: Instant,
}

impl Keepalive {
    fn new(every: Duration) -> Keepalive {
        // `interval` refuses a zero period.
        let every = every.max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Keepalive {
            every,
            ticks,
            heard: Instant::now(),
        }
    }

    async fn tick(&mut self) {
        self.ticks.tick().await;
    }

    fn heard(&mut self) {
        self.heard = Instant::now();
    }

    async fn ping(&mut self, sink: &mut Sink) -> Result<(), End> {
        if self.heard.elapsed() > self.every.saturating_mul(5) / 2 {
            return Err(End::Retry("the relay went silent".into()));
        }
        sink.send(Message::Ping(Vec::new().into()))
            .await
            .map_err(|e| End::Retry(format!("sending: {e}")))
    }
}

/// The next data frame's bytes (binary or text), or `None` for a control frame (pings are
/// answered by tungstenite; pongs show the relay is there).
async fn next_frame(stream: &mut Stream) -> Result<Option<Vec<u8>>, String> {
    match stream.next().await {
        Some(Ok(Message::Binary(b))) => Ok(Some(b.to_vec())),
        Some(Ok(Message::Text(t))) => Ok(Some(t.as_bytes().to_vec())),
        Some(Ok(Message::Close(c))) => Err(match c {
            Some(c) if !c.reason.is_empty() => format!("the relay closed: {}", c.reason),
            _ => "the relay closed the connection".into(),
        }),
        Some(Ok(_)) => Ok(None),
        Some(Err(e)) => Err(format!("receiving: {e}")),
        None => Err("the relay connection ended".into()),
    }
}
