//! Connection admission: a total cap and a per-IP cap.
//!
//! A [`Slot`] is taken when a TCP connection is accepted, before anything is
//! read from it, and given back when it is dropped, so connections that are
//! still handshaking count too. Addresses are counted as they are (an IPv6
//! client can use many addresses of its /64; grouping by prefix is future
//! work).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::metrics::RejectReason;

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The admission counters of one relay.
#[derive(Debug)]
pub(crate) struct Limits {
    max_total: usize,
    max_per_ip: usize,
    counts: Mutex<Counts>,
}

/// A held admission; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Limits {
    pub(crate) fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Limits {
            max_total,
            max_per_ip,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Takes a place for a connection from `ip`, or says which cap is full.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, RejectReason> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.max_total {
            return Err(RejectReason::ConnLimit);
        }
        let n = counts.per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(RejectReason::IpLimit);
        }
        *n += 1;
        counts.total += 1;
        Ok(Slot {
            limits: Arc::clone(self),
            ip,
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&ip);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let limits = Limits::new(3, 2);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let s1 = limits.admit(a).unwrap();
        let _s2 = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).unwrap_err(), RejectReason::IpLimit);
        let _s3 = limits.admit(b).unwrap();
        assert_eq!(limits.admit(b).unwrap_err(), RejectReason::ConnLimit);
        drop(s1);
        assert!(limits.admit(a).is_ok());
    }
}
