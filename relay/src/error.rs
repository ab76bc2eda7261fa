//! The relay's error type.

use thiserror::Error;

/// Why the relay could not start.
#[derive(Debug, Error)]
pub enum RelayError {
    /// The configuration is inconsistent.
    #[error("invalid relay configuration: {0}")]
    Config(String),
    /// The TLS certificate or key is unusable.
    #[error("relay TLS: {0}")]
    Tls(String),
    /// Binding or reading the listening socket failed.
    #[error("relay socket: {0}")]
    Io(#[from] std::io::Error),
}
