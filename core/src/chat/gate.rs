//! A hold on signing: while it is held, the chat service signs nothing on the own feed (no
//! post, no receipt, no alias), and says why. The front door (`crate::app`) holds it for an
//! imported key whose feed may already have entries elsewhere (ADR 0019).

use std::sync::{Arc, RwLock};

/// Shared by the chat service and whoever decides; cloning shares the same hold.
#[derive(Debug, Clone, Default)]
pub struct SignGate(Arc<RwLock<Option<String>>>);

impl SignGate {
    /// A gate that lets signing through.
    pub fn open() -> SignGate {
        SignGate::default()
    }

    /// Holds signing, with the reason posting is refused.
    pub fn hold(&self, reason: &str) {
        if let Ok(mut g) = self.0.write() {
            *g = Some(reason.to_owned());
        }
    }

    /// Lets signing through again.
    pub fn release(&self) {
        if let Ok(mut g) = self.0.write() {
            *g = None;
        }
    }

    /// Why signing is held, if it is (a poisoned lock counts as held).
    pub fn reason(&self) -> Option<String> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(_) => Some("signing is held (internal lock poisoned)".into()),
        }
    }

    /// Whether signing is allowed now.
    pub fn is_open(&self) -> bool {
        self.reason().is_none()
    }
}
