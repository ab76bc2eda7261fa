//! WebSocket faces: one binary frame carries one packet (as the Python pub); text frames are
//! ignored. A server accepts any number of peers; a client dials one URL.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, info_span, Instrument};

use super::{Link, MAX_PACKET};
use crate::sync::FaceProfile;

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_PACKET * 4))
        .max_frame_size(Some(MAX_PACKET * 4))
}

/// Accepts WebSocket peers on `listener` until the node shuts down.
pub async fn serve(listener: TcpListener, link: Link) {
    loop {
        let Ok((tcp, addr)) = listener.accept().await else {
            continue;
        };
        let link = link.clone();
        tokio::spawn(
            async move {
                match tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config())).await {
                    Ok(ws) => run(ws, link, addr.to_string()).await,
                    Err(e) => debug!(%e, "WebSocket handshake failed"),
                }
            }
            .instrument(info_span!("ws-in", peer = %addr)),
        );
    }
}

/// Dials `url` and runs the face until either side closes.
pub async fn dial(
    url: &str,
    link: Link,
) -> Result<SocketAddr, tokio_tungstenite::tungstenite::Error> {
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true).await?;
    let peer = match ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(s) => s.peer_addr().ok(),
        _ => None,
    };
    let addr = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    tokio::spawn(run(ws, link, url.to_owned()).instrument(info_span!("ws-out", peer = %url)));
    Ok(addr)
}

async fn run<S>(ws: WebSocketStream<S>, link: Link, peer: String)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok((face, mut out)) = link.register("ws", peer, FaceProfile::fast()).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let reason = loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) => {
                    if !link.deliver(face, b.to_vec()).await {
                        break "node shut down".to_string();
                    }
                }
                Some(Ok(Message::Close(_))) | None => break "closed by peer".to_string(),
                Some(Ok(_)) => {} // text, ping, pong: not packets
                Some(Err(e)) => break format!("receive error: {e}"),
            },
            pkt = out.recv() => {
                let Some(pkt) = pkt else { break "node shut down".to_string() };
                if let Err(e) = sink.feed(Message::Binary(pkt.into())).await {
                    break format!("send error: {e}");
                }
                // Send whatever else is already queued in one flush.
                while let Ok(more) = out.try_recv() {
                    if let Err(e) = sink.feed(Message::Binary(more.into())).await {
                        debug!(%e, "send error");
                        break;
                    }
                }
                if let Err(e) = sink.flush().await {
                    break format!("send error: {e}");
                }
            }
        }
    };
    let _ = sink.close().await;
    link.unregister(face, reason);
}
