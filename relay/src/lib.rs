//! Lichen's Moneysocket rendezvous relay.
//!
//! Two Lichen nodes that hold the same beacon meet over the internet here:
//! each opens a WebSocket to the relay named in the beacon and sends the
//! cleartext v0 `REQUEST_RENDEZVOUS` with the rendezvous id derived from
//! the beacon's seed. The relay pairs exactly two clients per id (the first
//! gets `NOTIFY_RENDEZVOUS_NOT_READY`, then both get `NOTIFY_RENDEZVOUS`, a
//! third is sent NOT_READY and closed), then forwards their frames verbatim,
//! and tells the survivor `NOTIFY_RENDEZVOUS_END` when one leaves. This is
//! the deployed v0 wire, so stock py/js Moneysocket clients work too.
//!
//! The pairing rules are `moneysocket::rendezvous::Matchmaker` (sans-IO);
//! this crate is the tokio driver around it, plus what the deployed relay
//! lacks: wait and idle timeouts, a frame size cap, connection caps (total
//! and per IP), a cap on waiting clients, bounded per-connection queues with
//! backpressure (a reader that stays stuck is closed), a cap on dropped
//! frames, Prometheus metrics at `GET /metrics` on the same port, and a
//! graceful shutdown, and optional TLS (`wss://`, rustls) from a PEM
//! certificate and key.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lichen_relay::RelayError> {
//! let relay = lichen_relay::Relay::bind(lichen_relay::RelayConfig::default()).await?;
//! println!("listening on ws://{}", relay.local_addr());
//! relay.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Modules: `server` (accept loop, handle), `conn` (one connection's life),
//! `http` (request head, upgrade, plain answers), `reader` / `writer` (the
//! two halves of a WebSocket), `table` (the matchmaker behind a lock),
//! `handle` (what connections see of each other), `notice` (notice frames),
//! `limits`, `metrics`, `config`, `tls`, [`load`] (the load test) and [`cli`] (the command
//! line of the `lichen-relay` binary and of `lichen relay`).

pub mod cli;
mod clock;
mod config;
mod conn;
mod error;
mod handle;
mod http;
mod limits;
pub mod load;
mod metrics;
mod notice;
mod reader;
mod server;
mod shared;
mod table;
mod tls;
mod writer;

pub use config::{RelayConfig, MAX_FRAME, MAX_QUEUE, MIN_FRAME};
pub use error::RelayError;
pub use metrics::{resident_memory_bytes, MetricsSnapshot, RejectReason, TimeoutKind};
pub use server::{Relay, RelayHandle};
pub use tls::TlsIdentity;
