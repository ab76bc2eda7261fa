//! Deterministic radio media for tests, the simulator and benchmarks: the simulated LoRa
//! channel (`lora`) and the topologies it is laid out on. Networks of engines on it live in
//! `lichen::sim::net`, which brings the stores.

pub mod lora;
mod topology;
