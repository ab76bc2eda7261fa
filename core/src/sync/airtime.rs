//! LoRa airtime (being built).
