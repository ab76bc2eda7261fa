#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `wss://`: the relay with a self-signed certificate made in the test; two TLS clients pair
//! and exchange frames, `/metrics` answers over TLS, and clients that do not speak TLS (or
//! do not trust the certificate) fail without disturbing the relay.

mod common;

use std::sync::Arc;

use common::{blob, rid, STEP};
use futures_util::{SinkExt, StreamExt};
use lichen_relay::{Relay, RelayConfig, RelayHandle, TlsIdentity};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{client_async, WebSocketStream};

type Wss = WebSocketStream<TlsStream<TcpStream>>;

struct Setup {
    relay: RelayHandle,
    trusted: Arc<ClientConfig>,
}

fn client_config(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn setup() -> Setup {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let identity = TlsIdentity {
        cert_pem: ck.cert.pem().into_bytes(),
        key_pem: ck.signing_key.serialize_pem().into_bytes(),
    };
    assert!(!format!("{identity:?}").contains("PRIVATE"));
    let relay = Relay::bind(RelayConfig {
        tls: Some(identity),
        ..RelayConfig::default()
    })
    .await
    .unwrap();
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ck.cert.der().to_vec()))
        .unwrap();
    Setup {
        relay,
        trusted: client_config(roots),
    }
}

async fn tls(setup: &Setup, config: Arc<ClientConfig>) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(setup.relay.local_addr()).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

async fn wss(setup: &Setup) -> Wss {
    let stream = tls(setup, Arc::clone(&setup.trusted)).await.unwrap();
    let url = format!("wss://localhost:{}/", setup.relay.local_addr().port());
    client_async(url, stream).await.unwrap().0
}

async fn notice(ws: &mut Wss) -> String {
    let m = timeout(STEP, ws.next()).await.unwrap().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&m.into_data()).unwrap();
    v["notification_name"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pairs_and_forwards_over_tls() {
    let setup = setup().await;
    let id = rid(3);
    let mut a = wss(&setup).await;
    a.send(common::request(&id, 1)).await.unwrap();
    assert_eq!(notice(&mut a).await, "NOTIFY_RENDEZVOUS_NOT_READY");
    let mut b = wss(&setup).await;
    b.send(common::request(&id, 2)).await.unwrap();
    assert_eq!(notice(&mut b).await, "NOTIFY_RENDEZVOUS");
    assert_eq!(notice(&mut a).await, "NOTIFY_RENDEZVOUS");
    let frame = blob(7, 3000);
    a.send(Message::Binary(Bytes::from(frame.clone())))
        .await
        .unwrap();
    let got = timeout(STEP, b.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(got.into_data().as_ref(), frame.as_slice());
    drop(a);
    assert_eq!(notice(&mut b).await, "NOTIFY_RENDEZVOUS_END");

    // /metrics over TLS.
    let mut s = tls(&setup, Arc::clone(&setup.trusted)).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    let _ = timeout(STEP, s.read_to_string(&mut text)).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("lichen_relay_pairs_total 1"), "{text}");
    setup.relay.shutdown().await;
}

#[tokio::test]
async fn plain_and_untrusting_clients_fail_cleanly() {
    let setup = setup().await;
    let addr = setup.relay.local_addr();
    // A plain WebSocket client: the relay expects a TLS ClientHello and drops it.
    let tcp = TcpStream::connect(addr).await.unwrap();
    assert!(timeout(STEP, client_async(format!("ws://{addr}/"), tcp))
        .await
        .unwrap()
        .is_err());
    // A TLS client that does not trust the certificate.
    let untrusting = client_config(RootCertStore::empty());
    assert!(tls(&setup, untrusting).await.is_err());
    // The relay still serves.
    let id = rid(4);
    let mut a = wss(&setup).await;
    a.send(common::request(&id, 1)).await.unwrap();
    assert_eq!(notice(&mut a).await, "NOTIFY_RENDEZVOUS_NOT_READY");
    setup.relay.shutdown().await;
}

#[test]
fn bad_pem_is_a_clear_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(Relay::bind(RelayConfig {
            tls: Some(TlsIdentity {
                cert_pem: b"not pem".to_vec(),
                key_pem: b"nor this".to_vec(),
            }),
            ..RelayConfig::default()
        }))
        .unwrap_err();
    assert!(err.to_string().contains("relay TLS"), "{err}");
}
