//! Links ("faces"): each turns a transport into packets for the node's engine and back.
//!
//! A face task registers itself with the node ([`Link::register`]), forwards every received
//! packet to the engine's inbound channel, and writes what the engine sends it; the node
//! reports it up and down, and the face reports its own progress, through the one generic
//! [`crate::node::NodeEvent::Link`]. Faces know nothing about chat or feeds; the engine knows
//! nothing about transports; the node names no face (faces depend on it, not the reverse).
//!
//! Faces: `ws` (WebSocket server and client), `udp` (multicast), `relay` (a peer met through
//! a Moneysocket rendezvous relay: `relay_dial` reaches the relay, `relay_session` runs the
//! rendezvous and the encrypted `tunnel`; [`crate::backoff`] says when to reconnect).

pub mod relay;
pub mod relay_dial;
pub mod relay_session;
#[deny(clippy::indexing_slicing)] // decodes frames from the relay
pub mod tunnel;
pub mod udp;
pub mod ws;

/// The registration port every face uses (defined by the node, which names no face).
pub use crate::node::{Link, NodeGone, FACE_QUEUE, MAX_PACKET};
