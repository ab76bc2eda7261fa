//! An in-process central: the host says which devices are in range and how the adapter is
//! (on, off, absent, permission refused), and supplies each connection. Tests use it to
//! reach every pairing error; a platform without btleplug support can feed it from native
//! scan results.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::link::{Advert, BoxFuture, Central, Connection};
use super::BleError;

/// The state of the (emulated) Bluetooth adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterState {
    /// Powered and usable.
    On,
    /// Present but switched off.
    Off,
    /// No adapter.
    Absent,
    /// The system refused access.
    Denied,
}

type Connector = Arc<dyn Fn() -> BoxFuture<'static, Result<Connection, BleError>> + Send + Sync>;

/// A central over devices registered in process.
pub struct MemCentral {
    state: Mutex<AdapterState>,
    devices: Mutex<Vec<(Advert, Connector)>>,
}

impl Default for MemCentral {
    fn default() -> Self {
        MemCentral {
            state: Mutex::new(AdapterState::On),
            devices: Mutex::new(Vec::new()),
        }
    }
}

impl MemCentral {
    /// An adapter that is on, with nothing in range.
    pub fn new() -> MemCentral {
        MemCentral::default()
    }

    /// Sets the adapter's state.
    pub fn set_state(&self, s: AdapterState) {
        if let Ok(mut st) = self.state.lock() {
            *st = s;
        }
    }

    /// A device comes into range; `connect` opens a link to it.
    pub fn add<F>(&self, advert: Advert, connect: F)
    where
        F: Fn() -> BoxFuture<'static, Result<Connection, BleError>> + Send + Sync + 'static,
    {
        if let Ok(mut d) = self.devices.lock() {
            d.retain(|(a, _)| a.id != advert.id);
            d.push((advert, Arc::new(connect)));
        }
    }

    /// A device leaves range.
    pub fn remove(&self, id: &str) {
        if let Ok(mut d) = self.devices.lock() {
            d.retain(|(a, _)| a.id != id);
        }
    }

    fn usable(&self) -> Result<(), BleError> {
        match self
            .state
            .lock()
            .map(|s| *s)
            .unwrap_or(AdapterState::Absent)
        {
            AdapterState::On => Ok(()),
            AdapterState::Off => Err(BleError::Off),
            AdapterState::Absent => Err(BleError::Absent {
                detail: "no adapter reported by the platform".into(),
            }),
            AdapterState::Denied => Err(BleError::PermissionDenied {
                detail: "the platform refused the Bluetooth permission".into(),
            }),
        }
    }
}

impl Central for MemCentral {
    fn kind(&self) -> &'static str {
        "in-process"
    }

    fn scan(&self, _within: Duration) -> BoxFuture<'_, Result<Vec<Advert>, BleError>> {
        let r = self.usable().map(|()| {
            self.devices
                .lock()
                .map(|d| d.iter().map(|(a, _)| a.clone()).collect())
                .unwrap_or_default()
        });
        Box::pin(async move { r })
    }

    fn open<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Connection, BleError>> {
        let found = self.usable().and_then(|()| {
            self.devices
                .lock()
                .ok()
                .and_then(|d| d.iter().find(|(a, _)| a.id == id).map(|(_, c)| c.clone()))
                .ok_or_else(|| BleError::DeviceGone { name: id.into() })
        });
        Box::pin(async move { found?().await })
    }
}
