//! A connection's writer task: drains its bounded queue into the socket.
//!
//! Frames are written in batches (whatever is queued, up to [`BATCH`]) and
//! flushed once per batch. On a close request the writer stops at once; a
//! graceful close then sends what is still queued (a NOTIFY_RENDEZVOUS_END,
//! say) and a close frame, an abort only tries the close frame briefly.
//! Writes are cancel-safe in tokio-tungstenite (a fed frame sits whole in its
//! buffer), so stopping mid-batch loses nothing that a later flush would not
//! send.

use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

use crate::handle::{CloseCause, Closing};
use crate::tls::IoStream;

/// Most frames written per flush.
const BATCH: usize = 64;
/// How long an aborted connection gets to take its close frame.
const ABORT_GRACE: Duration = Duration::from_millis(100);

pub(crate) type Sink = SplitSink<WebSocketStream<IoStream>, Message>;

/// Runs until a close request (or until every sender is gone).
pub(crate) async fn write_loop(
    mut sink: Sink,
    mut rx: mpsc::Receiver<Message>,
    mut closing: watch::Receiver<Option<Closing>>,
    grace: Duration,
) {
    loop {
        let first = tokio::select! {
            biased;
            _ = closing.changed() => break,
            next = rx.recv() => match next {
                Some(message) => message,
                None => break,
            },
        };
        let write = write_batch(&mut sink, &mut rx, first);
        tokio::pin!(write);
        let result = tokio::select! {
            biased;
            _ = closing.changed() => break,
            result = &mut write => result,
        };
        if let Err(e) = result {
            debug!(error = %e, "write failed");
            return;
        }
    }
    let request = *closing.borrow();
    match request {
        Some(Closing {
            cause,
            graceful: true,
        }) => {
            let _ = timeout(grace, finish(&mut sink, &mut rx, cause)).await;
        }
        Some(Closing {
            cause,
            graceful: false,
        }) => {
            let _ = timeout(ABORT_GRACE, sink.send(close_frame(cause))).await;
        }
        None => {}
    }
}

async fn write_batch(
    sink: &mut Sink,
    rx: &mut mpsc::Receiver<Message>,
    first: Message,
) -> Result<(), WsError> {
    sink.feed(first).await?;
    for _ in 1..BATCH {
        match rx.try_recv() {
            Ok(message) => sink.feed(message).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}

/// Sends what is queued, then the close frame.
async fn finish(
    sink: &mut Sink,
    rx: &mut mpsc::Receiver<Message>,
    cause: CloseCause,
) -> Result<(), WsError> {
    while let Ok(message) = rx.try_recv() {
        sink.feed(message).await?;
    }
    if cause == CloseCause::ClientGone {
        // The client closed (tungstenite answers its close frame) or the
        // socket failed: nothing more to say.
        return sink.flush().await;
    }
    sink.send(close_frame(cause)).await
}

fn close_frame(cause: CloseCause) -> Message {
    let (code, reason) = cause.close_frame();
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
