//! The dongle area of the root: scan, pair, status, unpair through the root's central (the
//! app's own Bluetooth as a [`crate::BleCentral`], the dongle emulator's socket, or
//! btleplug in builds with the `ble` feature), on the node's runtime. Pairing also starts
//! keeping the dongle connected (the supervisor); `start` resumes a paired one.

use std::sync::Arc;
use std::time::Duration;

use lichen::ble::link::Central;
use lichen::ble::pairing;
use lichen::ble::BleError;

use crate::dongles::{
    found_dongle, pairing_status, DongleError, FoundDongle, PairedDongle, PairingStatus,
};
use crate::errors::AreaError;
use crate::root::Shared;

/// How long `pair` looks for the dongle before connecting.
const PAIR_SCAN: Duration = Duration::from_secs(5);

impl AreaError for DongleError {
    fn stopped() -> Self {
        DongleError::Other {
            reason: "Lichen has stopped; open it again".into(),
        }
    }
    fn internal(what: String) -> Self {
        DongleError::Other { reason: what }
    }
}

/// The paired dongle of this root.
#[derive(uniffi::Object)]
pub struct Dongle {
    shared: Arc<Shared>,
    central: Option<Arc<dyn Central>>,
}

impl Dongle {
    pub(crate) fn new(shared: Arc<Shared>, central: Option<Arc<dyn Central>>) -> Dongle {
        Dongle { shared, central }
    }

    fn pairing(&self) -> Result<pairing::Dongles, DongleError> {
        let central = self
            .central
            .clone()
            .ok_or_else(|| DongleError::from(BleError::Unsupported))?;
        let app = self.shared.app::<DongleError>()?;
        Ok(pairing::Dongles::new(central, app.layout().root()))
    }

    async fn on_rt<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = Result<T, DongleError>> + Send + 'static,
    ) -> Result<T, DongleError> {
        self.shared
            .rt()
            .spawn(f)
            .await
            .unwrap_or_else(|e| Err(DongleError::internal(format!("the task failed: {e}"))))
    }
}

#[uniffi::export]
impl Dongle {
    /// Dongles in range after `timeout_ms`, strongest first.
    pub async fn scan(&self, timeout_ms: u32) -> Result<Vec<FoundDongle>, DongleError> {
        let p = self.pairing()?;
        let within = Duration::from_millis(u64::from(timeout_ms));
        self.on_rt(async move {
            Ok(p.scan(within)
                .await?
                .into_iter()
                .map(found_dongle)
                .collect())
        })
        .await
    }

    /// Pairs with `id` (an id or a name from `scan`): connects to check it is a usable
    /// tinySSB dongle (MTU, service), remembers it, and starts keeping it connected.
    pub async fn pair(&self, id: String) -> Result<PairedDongle, DongleError> {
        let p = self.pairing()?;
        let paired = self
            .on_rt(async move { Ok(p.pair(&id, PAIR_SCAN).await?) })
            .await?;
        self.shared
            .blocking(|app| {
                app.connect_paired_dongle().map_err(|e| DongleError::Other {
                    reason: e.to_string(),
                })
            })
            .await?;
        Ok(paired.into())
    }

    /// The paired dongle and what its link last reported; `NotPaired` if none.
    pub async fn status(&self) -> Result<PairingStatus, DongleError> {
        let p = self.pairing()?;
        self.shared
            .blocking(move |_| Ok(pairing_status(p.status()?)))
            .await
    }

    /// Forgets the paired dongle and stops its link; `NotPaired` if none.
    pub async fn unpair(&self) -> Result<PairedDongle, DongleError> {
        let p = self.pairing()?;
        self.shared
            .blocking(move |app| {
                let was = p.unpair()?;
                app.disconnect_dongle();
                Ok(was.into())
            })
            .await
    }
}
