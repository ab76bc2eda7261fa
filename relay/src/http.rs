//! The HTTP side of the port: read one request head, then either upgrade
//! to WebSocket or answer plainly (`GET /metrics`, errors).
//!
//! tungstenite's own server handshake rejects a request that is not an
//! upgrade before any callback can see it, so `GET /metrics` could not share
//! the port. Instead the head is read and parsed here (httparse), the
//! upgrade is answered here (101 with `Sec-WebSocket-Accept` from
//! tungstenite's `derive_accept_key`), and the bytes read past the head are
//! handed to `WebSocketStream::from_partially_read`. No extensions or
//! subprotocols are negotiated (the deployed relay uses none).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Largest request head read; a longer one is answered 431.
const MAX_HEAD: usize = 8 * 1024;
/// Most header lines parsed.
const MAX_HEADERS: usize = 32;

/// What the client asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// A valid WebSocket upgrade; `rest` is what followed the head.
    Upgrade {
        /// `Sec-WebSocket-Key`.
        key: String,
        /// Bytes read past the head (early frames).
        rest: Vec<u8>,
    },
    /// A plain `GET` of `path`.
    Get {
        /// The request target.
        path: String,
    },
    /// Something to refuse with this status.
    Refuse(Status),
}

/// The error statuses the relay answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    BadRequest,
    NotFound,
    MethodNotAllowed,
    UpgradeRequired,
    TooManyRequests,
    HeadTooLarge,
    Unavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::BadRequest => "400 Bad Request",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::UpgradeRequired => "426 Upgrade Required",
            Status::TooManyRequests => "429 Too Many Requests",
            Status::HeadTooLarge => "431 Request Header Fields Too Large",
            Status::Unavailable => "503 Service Unavailable",
        }
    }
}

/// Reads one request head; `Ok(None)` if the client closed first.
pub(crate) async fn read_request(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
) -> io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(request) = parse(&buf) {
            return Ok(Some(request));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Some(Request::Refuse(Status::HeadTooLarge)));
        }
    }
}

/// Parses a head from `buf`; `None` if it is not complete yet.
pub(crate) fn parse(buf: &[u8]) -> Option<Request> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return None,
        Err(_) => return Some(Request::Refuse(Status::BadRequest)),
    };
    if req.method != Some("GET") {
        return Some(Request::Refuse(Status::MethodNotAllowed));
    }
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    let has_token = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("upgrade", "websocket") {
        let path = req.path.unwrap_or("/").to_owned();
        return Some(Request::Get { path });
    }
    if req.version != Some(1) || !has_token("connection", "upgrade") {
        return Some(Request::Refuse(Status::BadRequest));
    }
    if header("sec-websocket-version").map(str::trim) != Some("13") {
        return Some(Request::Refuse(Status::UpgradeRequired));
    }
    match header("sec-websocket-key").map(str::trim) {
        Some(key) if !key.is_empty() => Some(Request::Upgrade {
            key: key.to_owned(),
            rest: buf[len..].to_vec(),
        }),
        _ => Some(Request::Refuse(Status::BadRequest)),
    }
}

/// Writes the 101 answer to an upgrade.
pub(crate) async fn accept_upgrade(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    key: &str,
) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await
}

/// Answers `200 OK` with a Prometheus text body, then closes.
pub(crate) async fn respond_metrics(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    body: &str,
) -> io::Result<()> {
    respond(
        stream,
        "200 OK",
        "text/plain; version=0.0.4; charset=utf-8",
        body,
    )
    .await
}

/// Answers with an error status and a one-line body, then closes.
pub(crate) async fn respond_error(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    status: Status,
) -> io::Result<()> {
    let body = format!("{}\n", status.line());
    respond(stream, status.line(), "text/plain; charset=utf-8", &body).await
}

async fn respond(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    status: &str,
    content_type: &str,
    body: &str,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    if status.starts_with("426") {
        head.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x82\x00";

    #[test]
    fn upgrade_keeps_the_bytes_after_the_head() {
        assert_eq!(
            parse(UPGRADE),
            Some(Request::Upgrade {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                rest: vec![0x82, 0x00],
            })
        );
        assert_eq!(parse(&UPGRADE[..20]), None);
    }

    #[test]
    fn plain_requests_and_refusals() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Request::Get {
                path: "/metrics".into()
            })
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\n\r\n"),
            Some(Request::Refuse(Status::MethodNotAllowed))
        );
        assert_eq!(
            parse(b"\x00\x01garbage\r\n\r\n"),
            Some(Request::Refuse(Status::BadRequest))
        );
        let old = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
            Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: a\r\n\r\n";
        assert_eq!(parse(old), Some(Request::Refuse(Status::UpgradeRequired)));
    }

    #[test]
    fn accept_key_matches_rfc6455_example() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
