//! Deterministic simulation of radio media for tests, the simulator and benchmarks.

pub use lichen_proto::sim::lora;
pub mod net;
