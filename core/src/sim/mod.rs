//! Deterministic simulation of radio media for tests, the simulator and benchmarks.

pub mod lora;
mod topology;
