//! The paired dongle (`dongle.json`), resumed on `start` through the BLE supervisor. The
//! central is the app's ([`crate::app::AppOptions::central`]); without one, a dongle paired
//! through the emulator is reached over its socket and a real one through btleplug.

use std::path::Path;
use std::sync::Arc;

use crate::app::{App, AppError};
use crate::ble::emu_client::EmuCentral;
use crate::ble::link::Central;
use crate::ble::pairing::{paired_in, Dongles, PairingStatus};
use crate::ble::status::DongleStatus;
use crate::ble::supervisor::DongleLink;
use crate::node::Node;

impl App {
    /// Starts keeping the paired dongle connected; false if none is paired, or no central
    /// can reach it here (then a warning says so in the logs).
    pub(crate) fn resume_dongle(&self) -> Result<bool, AppError> {
        let link = resume_paired(
            self.layout.root(),
            self.options.central.as_ref(),
            self.running()?,
        )?;
        let running = link.is_some();
        if let Ok(mut d) = self.dongle.lock() {
            *d = link;
        }
        Ok(running)
    }

    /// The paired dongle and what its link last reported.
    pub fn dongle_status(&self) -> Result<Option<PairingStatus>, AppError> {
        let Some(paired) = paired_in(self.layout.root())? else {
            return Ok(None);
        };
        let link =
            DongleStatus::load(&self.layout.dongle_status_file()).filter(|s| s.id == paired.id);
        Ok(Some(PairingStatus { paired, link }))
    }
}

/// Starts keeping the dongle paired in `root` connected (for an app or a pub), through
/// `central` or, without one, the emulator's socket or btleplug as its pairing says; `None` if
/// none is paired or no central can reach it here (then a warning says so in the logs).
pub(crate) fn resume_paired(
    root: &Path,
    central: Option<&Arc<dyn Central>>,
    node: &Node,
) -> Result<Option<DongleLink>, AppError> {
    let Some(p) = paired_in(root)? else {
        return Ok(None);
    };
    let central = match (central, p.transport.as_str()) {
        (Some(c), _) => c.clone(),
        (None, "emulator") => Arc::new(EmuCentral::new(&p.id)) as Arc<dyn Central>,
        (None, _) => match bluetooth() {
            Some(c) => c,
            None => {
                tracing::warn!("a dongle is paired but this build has no Bluetooth");
                return Ok(None);
            }
        },
    };
    Ok(Dongles::new(central, root).resume(node)?)
}

#[cfg(feature = "ble")]
fn bluetooth() -> Option<Arc<dyn Central>> {
    Some(Arc::new(crate::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn bluetooth() -> Option<Arc<dyn Central>> {
    None
}
