//! One accepted TCP connection, from its HTTP request to its last byte.
//!
//! A connection task reads the request head (bounded by the handshake
//! timeout), answers `GET /metrics` or an error, or upgrades to WebSocket.
//! A WebSocket connection gets a [`ConnHandle`], a writer task and a
//! [`Reader`]; when the reader stops, the connection leaves the pairing
//! table first (so the peer hears NOTIFY_RENDEZVOUS_END at once), then asks
//! its writer for a close frame and waits, bounded, for the client to finish
//! the close handshake. Connections beyond the limits get a short plain
//! HTTP answer (503 or 429) from [`refuse`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, field, info, info_span, Instrument};

use crate::handle::ConnHandle;
use crate::http::{self, Request, Status};
use crate::limits::Slot;
use crate::metrics::{RejectReason, TimeoutKind};
use crate::reader::{Reader, Signals};
use crate::shared::{Shared, Tls};
use crate::tls::IoStream;
use crate::writer::write_loop;

/// Longest a refused connection is given to send its request.
const REFUSE_WAIT: Duration = Duration::from_secs(2);

/// Serves an admitted connection to the end; `slot` is held until then.
pub(crate) async fn serve(
    tcp: TcpStream,
    addr: SocketAddr,
    slot: Slot,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let _slot = slot;
    let handshake = async {
        let mut stream = secure(tcp, &shared).await?;
        let request = http::read_request(&mut stream).await?;
        if let Some(Request::Upgrade { key, .. }) = &request {
            http::accept_upgrade(&mut stream, key).await?;
        }
        Ok::<_, std::io::Error>((stream, request))
    };
    let (mut stream, request) = match timeout(shared.config.handshake_timeout, handshake).await {
        Err(_) => {
            debug!(peer = %addr, "handshake timed out");
            shared.metrics.timeout(TimeoutKind::Handshake);
            return;
        }
        Ok(Err(e)) => {
            debug!(peer = %addr, error = %e, "handshake failed");
            return;
        }
        Ok(Ok((_, None))) => return,
        Ok(Ok((stream, Some(request)))) => (stream, request),
    };
    match request {
        Request::Upgrade { rest, .. } => {
            let ws = WebSocketStream::from_partially_read(
                stream,
                rest,
                Role::Server,
                Some(shared.ws_config),
            )
            .await;
            let id = shared.next_id();
            let span = info_span!("conn", id, peer = %addr, rid = field::Empty);
            run_websocket(ws, id, shared, shutdown)
                .instrument(span)
                .await;
        }
        other => answer_plain(&mut stream, other, &shared, None).await,
    }
}

/// Answers a connection that is over a limit, reading its request first so
/// that the client sees the answer (and `GET /metrics` still works when the
/// relay is full). Holds a permit so that refusals are bounded too.
pub(crate) async fn refuse(
    tcp: TcpStream,
    reason: RejectReason,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    let _permit = permit;
    let wait = REFUSE_WAIT.min(shared.config.handshake_timeout);
    let read = async {
        let mut stream = secure(tcp, &shared).await?;
        let request = http::read_request(&mut stream).await?;
        Ok::<_, std::io::Error>((stream, request))
    };
    if let Ok(Ok((mut stream, Some(request)))) = timeout(wait, read).await {
        let status = match reason {
            RejectReason::IpLimit => Status::TooManyRequests,
            _ => Status::Unavailable,
        };
        let _ = timeout(
            wait,
            answer_plain(&mut stream, request, &shared, Some(status)),
        )
        .await;
    }
}

/// Runs the TLS handshake if the relay serves TLS.
async fn secure(tcp: TcpStream, shared: &Shared) -> std::io::Result<IoStream> {
    match &shared.tls {
        Some(Tls(acceptor)) => Ok(Box::new(acceptor.accept(tcp).await?)),
        None => Ok(Box::new(tcp)),
    }
}

/// Answers a request that is not (or may not become) a WebSocket.
async fn answer_plain(
    stream: &mut IoStream,
    request: Request,
    shared: &Shared,
    refusal: Option<Status>,
) {
    let result = match (request, refusal) {
        (Request::Get { path }, _) if path == "/metrics" && shared.config.serve_metrics => {
            let body = shared.metrics.snapshot().to_prometheus();
            http::respond_metrics(stream, &body).await
        }
        (_, Some(status)) => http::respond_error(stream, status).await,
        (Request::Get { path }, None) if path == "/metrics" => {
            http::respond_error(stream, Status::NotFound).await
        }
        (Request::Get { .. }, None) => {
            shared.metrics.reject(RejectReason::BadRequest);
            http::respond_error(stream, Status::UpgradeRequired).await
        }
        (Request::Refuse(status), None) => {
            shared.metrics.reject(RejectReason::BadRequest);
            http::respond_error(stream, status).await
        }
        (Request::Upgrade { .. }, None) => Ok(()),
    };
    if let Err(e) = result {
        debug!(error = %e, "plain answer failed");
    }
}

async fn run_websocket(
    ws: WebSocketStream<IoStream>,
    id: u64,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    shared.metrics.connection_opened();
    info!("open");
    let (me, ends) = ConnHandle::new(id, shared.config.queue_frames);
    shared.table.register(me.clone());
    let (sink, stream) = ws.split();
    let grace = shared.close_grace();
    let writer = tokio::spawn(
        write_loop(sink, ends.rx, ends.writer_closing, grace).instrument(tracing::Span::current()),
    );
    let signals = Signals {
        closing: ends.reader_closing,
        shutdown,
    };
    let mut reader = Reader::new(me.clone(), stream, signals, Arc::clone(&shared));
    let cause = reader.run().await;

    // Leave the table first, so that the peer hears END now.
    let effects = shared.table.leave(id, cause);
    let _ = reader.apply(effects, None).await;
    me.close(cause);
    reader.drain(grace).await;
    let mut writer = writer;
    if timeout(grace, &mut writer).await.is_err() {
        writer.abort();
    }
    shared.table.unregister(id);
    shared.metrics.connection_closed();
    let lived = reader.opened.elapsed();
    info!(cause = cause.name(), secs = lived.as_secs(), "closed");
}
