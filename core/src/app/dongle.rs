//! The paired dongle (`dongle.json`), resumed on `start` through the BLE supervisor. The
//! central is the app's ([`crate::app::AppOptions::central`]); without one, a dongle paired
//! through the emulator is reached over its socket and a real one through btleplug.

use std::sync::Arc;

use crate::app::{App, AppError};
use crate::ble::emu_client::EmuCentral;
use crate::ble::link::Central;
use crate::ble::pairing::{paired_in, Dongles, PairingStatus};
use crate::ble::status::DongleStatus;

impl App {
    /// Starts keeping the paired dongle connected; false if none is paired, or no central
    /// can reach it here (then a warning says so in the logs).
    pub(crate) fn resume_dongle(&self) -> Result<bool, AppError> {
        let Some(p) = paired_in(self.layout.root())? else {
            return Ok(false);
        };
        let central = match (&self.options.central, p.transport.as_str()) {
            (Some(c), _) => c.clone(),
            (None, "emulator") => Arc::new(EmuCentral::new(&p.id)) as Arc<dyn Central>,
            (None, _) => match bluetooth() {
                Some(c) => c,
                None => {
                    tracing::warn!("a dongle is paired but this build has no Bluetooth");
                    return Ok(false);
                }
            },
        };
        let link = Dongles::new(central, self.layout.root()).resume(self.node()?)?;
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

#[cfg(feature = "ble")]
fn bluetooth() -> Option<Arc<dyn Central>> {
    Some(Arc::new(crate::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn bluetooth() -> Option<Arc<dyn Central>> {
    None
}
