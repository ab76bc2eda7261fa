//! [`Lichen`], the one root object: it owns the front door (`lichen::App`: the node, its one
//! tokio runtime, the chat service, settings) and hands out one sub-object per area.
//!
//! Every call that can take longer than a millisecond is `async`: its work runs on the
//! runtime's blocking pool (store and index access are synchronous sled calls) and the
//! foreign side awaits a join handle, so the caller's thread (Android's main thread, an
//! asyncio loop) gets control back at once. Cheap getters stay synchronous.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use lichen::ble::link::Central;
use lichen::{App, AppOptions};
use tokio::runtime::Handle;

use crate::central::{BleCentral, ForeignCentral};
use crate::chats::Chats;
use crate::dongle::Dongle;
use crate::errors::{AreaError, SetupError};
use crate::links::Links;
use crate::people::{Contacts, Invites};
use crate::state::{Backup, Settings, Sync};

/// What the areas share: the door while it runs, and its runtime.
pub(crate) struct Shared {
    app: RwLock<Option<Arc<App>>>,
    rt: Handle,
}

impl Shared {
    /// The door, unless stopped.
    pub(crate) fn app<E: AreaError>(&self) -> Result<Arc<App>, E> {
        self.app
            .read()
            .ok()
            .and_then(|a| a.clone())
            .ok_or_else(E::stopped)
    }

    /// The runtime everything runs on.
    pub(crate) fn rt(&self) -> &Handle {
        &self.rt
    }

    /// Runs `f` on the runtime's blocking pool and waits for it without blocking the
    /// caller's thread.
    pub(crate) async fn blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: AreaError,
        F: FnOnce(&App) -> Result<T, E> + Send + 'static,
    {
        let app = self.app::<E>()?;
        match self.rt.spawn_blocking(move || f(&app)).await {
            Ok(r) => r,
            Err(e) => Err(E::internal(format!("the task failed: {e}"))),
        }
    }

    fn stop(&self) -> Option<Arc<App>> {
        self.app.write().ok().and_then(|mut a| a.take())
    }
}

/// Whether an imported key may already have entries elsewhere (the fork guard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyIs {
    /// Never used anywhere: posting works at once.
    New,
    /// May have entries on another device: posting waits until its feed is recovered from a
    /// peer (or `confirm_new_key`).
    MayHaveEntries,
}

/// Whether the own key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyState {
    /// Posting works.
    Ready,
    /// Posting waits for the own feed to be recovered from a peer.
    Unrecovered,
}

/// What `start` brought up.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Started {
    /// Saved invites now met through their relays.
    pub relays: u32,
    /// Whether the paired dongle's link runs.
    pub dongle: bool,
}

/// How a root is opened: the data directory and what the app brings.
#[derive(uniffi::Object)]
pub struct LichenBuilder {
    dir: PathBuf,
    options: RwLock<AppOptions>,
}

#[uniffi::export]
impl LichenBuilder {
    /// A builder for the data directory `data_dir` (created if missing).
    #[uniffi::constructor]
    pub fn new(data_dir: String) -> Arc<LichenBuilder> {
        Arc::new(LichenBuilder {
            dir: PathBuf::from(data_dir),
            options: RwLock::new(AppOptions::default()),
        })
    }

    /// Opens the identity in the directory; `NoData` if there is none.
    pub async fn open(&self) -> Result<Arc<Lichen>, SetupError> {
        let (dir, options) = self.parts();
        let central = options.central.clone();
        boot(central, move || App::open(&dir, options)).await
    }

    /// Makes a new identity in the directory; `Exists` if it holds one.
    pub async fn create(&self) -> Result<Arc<Lichen>, SetupError> {
        let (dir, options) = self.parts();
        let central = options.central.clone();
        boot(central, move || App::create(&dir, options)).await
    }

    /// Imports a key file's text (from `Lichen.export_key`) into the directory.
    pub async fn import_key(
        &self,
        key_file: String,
        key_is: KeyIs,
    ) -> Result<Arc<Lichen>, SetupError> {
        let (dir, options) = self.parts();
        let key = match key_is {
            KeyIs::New => lichen::KeyIs::New,
            KeyIs::MayHaveEntries => lichen::KeyIs::MayHaveEntries,
        };
        let central = options.central.clone();
        boot(central, move || App::import(&dir, &key_file, key, options)).await
    }

    /// Restores a backup (from `Backup.export`) into the directory. Posting waits until the
    /// own feed was recovered from a peer.
    pub async fn restore_backup(&self, backup: String) -> Result<Arc<Lichen>, SetupError> {
        let (dir, options) = self.parts();
        let central = options.central.clone();
        boot(central, move || App::restore_backup(&dir, &backup, options)).await
    }
}

impl LichenBuilder {
    fn parts(&self) -> (PathBuf, AppOptions) {
        let options = self.options.read().map(|o| o.clone()).unwrap_or_default();
        (self.dir.clone(), options)
    }

    fn set_central(&self, central: Arc<dyn Central>) {
        if let Ok(mut o) = self.options.write() {
            o.central = Some(central);
        }
    }
}

#[uniffi::export]
impl LichenBuilder {
    /// Reaches dongles through the app's own Bluetooth (Android `BluetoothGatt`, iOS
    /// `CBCentralManager`): pairing, the reconnecting supervisor and link health run on it.
    pub fn ble_central(&self, central: Box<dyn BleCentral>) {
        self.set_central(Arc::new(ForeignCentral::new(central)));
    }

    /// Reaches dongles through dongle emulators at `addrs` (`host:port`, comma-separated)
    /// instead of Bluetooth (tests, demos).
    pub fn dongle_emulator(&self, addrs: String) {
        self.set_central(Arc::new(lichen::ble::emu_client::EmuCentral::new(&addrs)));
    }
}

/// The central a root pairs through when the app brought none.
#[cfg(feature = "ble")]
fn default_central() -> Option<Arc<dyn Central>> {
    Some(Arc::new(lichen::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn default_central() -> Option<Arc<dyn Central>> {
    None
}

/// Opens the door on a thread of its own (no runtime exists before the node starts), then
/// starts what the directory remembers.
async fn boot(
    central: Option<Arc<dyn Central>>,
    open: impl FnOnce() -> Result<App, lichen::AppError> + Send + 'static,
) -> Result<Arc<Lichen>, SetupError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("lichen-open".into())
        .spawn(move || {
            let r = open().map_err(SetupError::from).and_then(|app| {
                let rt = app.runtime().map_err(SetupError::from)?;
                let app = Arc::new(app);
                let queue = crate::events::EventQueue::attach(&app).map_err(SetupError::from)?;
                let started = app.start().map_err(SetupError::from)?;
                Ok((app, rt, queue, started))
            });
            let _ = tx.send(r);
        })
        .map_err(|e| SetupError::Failed {
            reason: format!("starting a thread: {e}"),
        })?;
    let (app, rt, queue, started) = rx.await.map_err(|_| SetupError::Failed {
        reason: "opening Lichen failed unexpectedly".into(),
    })??;
    let shared = Arc::new(Shared {
        app: RwLock::new(Some(app)),
        rt,
    });
    Ok(Arc::new(Lichen {
        shared,
        queue: Arc::new(queue),
        central: central.or_else(default_central),
        started: Started {
            relays: u32::try_from(started.relays).unwrap_or(u32::MAX),
            dongle: started.dongle,
        },
    }))
}

/// A running Lichen over one data directory: the root of everything an app does.
#[derive(uniffi::Object)]
pub struct Lichen {
    shared: Arc<Shared>,
    queue: Arc<crate::events::EventQueue>,
    central: Option<Arc<dyn Central>>,
    started: Started,
}

#[uniffi::export]
impl Lichen {
    /// My feed id (`@….ed25519`).
    pub fn feed_id(&self) -> Result<String, SetupError> {
        Ok(self.shared.app::<SetupError>()?.fid().to_ref())
    }

    /// What opening brought up (relay links of saved invites, the paired dongle).
    pub fn started(&self) -> Started {
        self.started.clone()
    }

    /// What stood out when the store opened (feeds rolled back), for the person.
    pub fn warnings(&self) -> Result<Vec<String>, SetupError> {
        Ok(self.shared.app::<SetupError>()?.warnings().to_vec())
    }

    /// The key file's text, to back the identity up or move it. A secret: never log it.
    pub fn export_key(&self) -> Result<String, SetupError> {
        Ok(self.shared.app::<SetupError>()?.export_key().to_string())
    }

    /// Whether the own key may sign.
    pub fn key_state(&self) -> Result<KeyState, SetupError> {
        Ok(match self.shared.app::<SetupError>()?.key_state() {
            lichen::app::KeyState::Ready => KeyState::Ready,
            lichen::app::KeyState::Unrecovered => KeyState::Unrecovered,
        })
    }

    /// The person says an imported key is new (or accepts the risk of a fork).
    pub async fn confirm_new_key(&self) -> Result<(), SetupError> {
        self.shared
            .blocking(|app| app.confirm_new_key().map_err(SetupError::from))
            .await
    }

    /// The chats: list, conversations, sending, search.
    pub fn chats(&self) -> Arc<Chats> {
        Arc::new(Chats::new(self.shared.clone()))
    }

    /// The paired dongle: scan, pair, status, unpair.
    pub fn dongle(&self) -> Arc<Dongle> {
        Arc::new(Dongle::new(self.shared.clone(), self.central.clone()))
    }

    /// Contacts: aliases, trust, my name.
    pub fn contacts(&self) -> Arc<Contacts> {
        Arc::new(Contacts::new(self.shared.clone()))
    }

    /// Invites: make (a beacon string for a QR code), preview, accept.
    pub fn invites(&self) -> Arc<Invites> {
        Arc::new(Invites::new(self.shared.clone()))
    }

    /// Settings.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::new(Settings::new(self.shared.clone()))
    }

    /// Sync progress.
    pub fn sync(&self) -> Arc<Sync> {
        Arc::new(Sync::new(self.shared.clone()))
    }

    /// Backup export (restore: `LichenBuilder.restore_backup`).
    pub fn backup(&self) -> Arc<Backup> {
        Arc::new(Backup::new(self.shared.clone()))
    }

    /// Links: WebSocket, UDP multicast, relays, native phone links.
    pub fn links(&self) -> Arc<Links> {
        Arc::new(Links::new(self.shared.clone()))
    }

    /// Stops every link and the node and syncs the store. Later calls fail with `Stopped`;
    /// calling it twice is harmless.
    pub async fn shutdown(&self) {
        let Some(mut app) = self.shared.stop() else {
            return;
        };
        self.queue.stop();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The node's runtime is stopped from a thread of its own, never from one of its own.
        let spawned = std::thread::Builder::new()
            .name("lichen-stop".into())
            .spawn(move || {
                // Calls still running hold the door for a moment; wait for them briefly.
                for _ in 0..60 {
                    match Arc::try_unwrap(app) {
                        Ok(a) => {
                            a.stop();
                            break;
                        }
                        Err(a) => {
                            app = a;
                            std::thread::sleep(std::time::Duration::from_millis(50));
                        }
                    }
                }
                let _ = tx.send(());
            });
        if spawned.is_ok() {
            let _ = rx.await;
        }
    }
}

impl Lichen {
    pub(crate) fn queue(&self) -> &Arc<crate::events::EventQueue> {
        &self.queue
    }
}
