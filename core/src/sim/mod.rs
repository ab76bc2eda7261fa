//! Deterministic simulation of radio media for tests, the simulator and benchmarks.

pub mod lora;
pub mod net;
mod topology;
