//! Simulated LoRa medium (being built).
