//! TLS for `wss://`: the relay's certificate and key (PEM), and the byte stream a connection
//! runs on, plain TCP or TLS.
//!
//! rustls with the ring provider (builds with a C compiler alone). The TLS handshake runs in
//! the connection's task under `handshake_timeout`, like the HTTP head that follows it, so
//! slow or failed handshakes cost one connection slot, never the accept loop.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

use crate::error::RelayError;

/// A byte stream a connection runs on (TCP, or TLS over TCP).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The stream type of every connection.
pub(crate) type IoStream = Box<dyn Io>;

/// The relay's TLS certificate chain and private key, as PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first (PEM `CERTIFICATE` blocks).
    pub cert_pem: Vec<u8>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

/// The most a PEM file may hold (a long chain is a few KiB).
pub(crate) const PEM_MAX: u64 = 1024 * 1024;

/// Reads a PEM file a person named, refusing anything but a regular file of at most
/// [`PEM_MAX`] bytes.
fn read_pem(p: &Path) -> Result<Vec<u8>, RelayError> {
    use std::io::Read;
    let err = |why: String| RelayError::Tls(format!("reading {}: {why}", p.display()));
    let file = std::fs::File::open(p).map_err(|e| err(e.to_string()))?;
    let meta = file.metadata().map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err("not a regular file".into()));
    }
    let mut pem = Vec::new();
    file.take(PEM_MAX + 1)
        .read_to_end(&mut pem)
        .map_err(|e| err(e.to_string()))?;
    if meta.len() > PEM_MAX || pem.len() as u64 > PEM_MAX {
        return Err(err(format!("larger than {PEM_MAX} bytes")));
    }
    Ok(pem)
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"(hidden)")
            .finish()
    }
}

impl TlsIdentity {
    /// Reads the certificate chain and the key from PEM files: regular files of at most
    /// 1 MiB each (a device such as `/dev/zero`, a FIFO or a huge file is refused
    /// with an error, not read).
    pub fn from_files(cert: &Path, key: &Path) -> Result<TlsIdentity, RelayError> {
        Ok(TlsIdentity {
            cert_pem: read_pem(cert)?,
            key_pem: read_pem(key)?,
        })
    }

    /// Checks the PEM and builds the acceptor.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, RelayError> {
        let certs = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RelayError::Tls(format!("certificate PEM: {e}")))?;
        if certs.is_empty() {
            return Err(RelayError::Tls(
                "certificate PEM holds no CERTIFICATE block".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| RelayError::Tls(format!("private key PEM: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| RelayError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| RelayError::Tls(format!("certificate and key: {e}")))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
