//! The sans-IO replication engine: demux tables, GOset, WANT/CHNK, per-link scheduling and the
//! LoRa airtime budget. Driven by calls with an injected clock and random source.

pub mod airtime;
