//! Moneysocket rendezvous relay (being built).
