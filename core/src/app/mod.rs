//! The front door: one [`App`] owns a data directory's whole layout ([`Layout`]), the node
//! (and with it the one tokio runtime), the chat service attached to it, saved invites, the
//! paired dongle's link and the settings, and offers every workflow an app needs: create,
//! import or open an identity, chats and contacts, invites, links, a sync summary and one
//! event stream (ADR 0019). The CLI, the bindings and the desktop app sit on this door.
//!
//! An imported key may already have entries elsewhere: until its feed has been recovered
//! from a peer, or the person confirms the key is new, nothing is signed on it ([`KeyIs`]).

pub mod backup;
mod conversation;
mod dongle;
mod error;
pub mod event_queue;
mod events;
pub mod feeds;
pub mod ffi_support;
mod invites;
mod key;
mod layout;
mod links;
mod posting;
mod pub_node;
pub mod serve;
mod settings;
mod setup;
mod sync;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use zeroize::Zeroizing;

use crate::ble::link::Central;
use crate::ble::supervisor::DongleLink;
use crate::chat::{Chats, ChatsConfig, SignGate};
use crate::face::relay_dial::RelayOptions;
use crate::identity::{FeedId, Identity};
use crate::node::{Node, NodeConfig};
use crate::store::Store;

pub use conversation::Conversation;
pub use error::AppError;
pub use events::AppEvent;
pub use key::{KeyIs, UNRECOVERED};
pub use layout::Layout;
pub use links::LinkHandle;
pub use pub_node::Pub;
pub use serve::{RunReport, RunUntil, Watch};
pub use settings::{KeyState, Settings};
pub use sync::{Behind, SyncSummary, QUIET};

/// How long `stop` waits for the engine to stop and the store to sync.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// What an app may bring: the BLE central that reaches its dongle (phones bring their own),
/// and how relays are dialled.
#[derive(Clone, Default)]
pub struct AppOptions {
    /// The central for the paired dongle. `None`: the emulator socket for a dongle paired
    /// as `transport: emulator`, else btleplug (feature `ble`), else no dongle link.
    pub central: Option<Arc<dyn Central>>,
    /// How relay links dial (local address, extra roots).
    pub relay: RelayOptions,
}

/// What `start` brought up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// Saved invites now met through their relays.
    pub relays: usize,
    /// Whether the paired dongle's link runs.
    pub dongle: bool,
}

/// A running Lichen for one data directory.
pub struct App {
    layout: Layout,
    me: Identity,
    node: Option<Node>,
    chats: Chats,
    settings: Arc<Mutex<Settings>>,
    gate: SignGate,
    events: broadcast::Sender<AppEvent>,
    options: AppOptions,
    warnings: Vec<String>,
    dongle: Mutex<Option<DongleLink>>,
    relays: Mutex<Vec<LinkHandle>>,
}

impl App {
    /// Makes a new identity in `dir` (created if missing) and opens it; refuses a directory
    /// that already holds Lichen data. A key made here is new: posting works at once.
    pub fn create(dir: &Path, options: AppOptions) -> Result<App, AppError> {
        let layout = Layout::new(dir);
        refuse_existing(&layout)?;
        let me = Identity::generate();
        layout.save_identity(&me)?;
        Settings::default().save(&layout.settings_file())?;
        App::boot(layout, me, options)
    }

    /// Imports the key file `keyfile_text` into `dir` and opens it. With
    /// [`KeyIs::MayHaveEntries`] posting waits until the own feed was recovered from a peer
    /// (or [`App::confirm_new_key`]); with [`KeyIs::New`] it works at once.
    pub fn import(
        dir: &Path,
        keyfile_text: &str,
        key: KeyIs,
        options: AppOptions,
    ) -> Result<App, AppError> {
        let layout = Layout::new(dir);
        refuse_existing(&layout)?;
        let me = Identity::from_key_file(keyfile_text)
            .map_err(|e| AppError::Invalid(format!("not a usable key file: {e}")))?;
        layout.save_identity(&me)?;
        let settings = Settings {
            key: match key {
                KeyIs::New => KeyState::Ready,
                KeyIs::MayHaveEntries => KeyState::Unrecovered,
            },
            ..Settings::default()
        };
        settings.save(&layout.settings_file())?;
        App::boot(layout, me, options)
    }

    /// Opens the identity in `dir`; fails with "no Lichen data at DIR" if there is none.
    pub fn open(dir: &Path, options: AppOptions) -> Result<App, AppError> {
        let layout = Layout::new(dir);
        let me = layout.identity()?;
        App::boot(layout, me, options)
    }

    fn boot(layout: Layout, me: Identity, options: AppOptions) -> Result<App, AppError> {
        let settings = Settings::load(&layout.settings_file())?;
        let net = settings.network()?;
        let sled = layout.open_store()?;
        let warnings: Vec<String> = sled
            .recovery()
            .rolled_back
            .iter()
            .map(|(fid, was, now)| {
                format!(
                    "feed {} was rolled back from {was} to {now} entries (damage or power loss)",
                    fid.short_display()
                )
            })
            .collect();
        let store: Arc<dyn Store> = Arc::new(sled);
        let node = Node::start(
            store.clone(),
            NodeConfig {
                net: net.clone(),
                ..NodeConfig::default()
            },
        )?;
        node.add_feed(*me.fid())?;
        let gate = SignGate::open();
        if settings.key == KeyState::Unrecovered {
            gate.hold(UNRECOVERED);
        }
        let cfg = ChatsConfig {
            receipts: settings.receipts,
            net,
            gate: gate.clone(),
            ..ChatsConfig::default()
        };
        let chats = Chats::open(&layout.chats_dir(), store, twin(&me)?, cfg)?;
        chats.attach(&node)?;
        let (events, _) = broadcast::channel(4096);
        events::forward(
            &node.handle(),
            node.subscribe(),
            chats.subscribe(),
            events.clone(),
        );
        let app = App {
            layout,
            me,
            node: Some(node),
            chats,
            settings: Arc::new(Mutex::new(settings)),
            gate,
            events,
            options,
            warnings,
            dongle: Mutex::new(None),
            relays: Mutex::new(Vec::new()),
        };
        if !app.gate.is_open() {
            app.watch_recovery()?;
        }
        Ok(app)
    }

    /// Brings up what this directory remembers: every saved invite's relay link (as
    /// `lichen serve` does) and the paired dongle's link. What stood out when the store
    /// opened ([`App::warnings`]) is told on the event stream first, for subscribers that
    /// came after `open`.
    pub fn start(&self) -> Result<Started, AppError> {
        for w in &self.warnings {
            let _ = self.events.send(AppEvent::Warning(w.clone()));
        }
        let relays = self.meet_saved()?;
        let dongle = self.resume_dongle()?;
        Ok(Started { relays, dongle })
    }

    /// Stops every link and the node, syncing the store.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        // The dongle's supervisor and the relay links end with the node.
        if let Ok(mut d) = self.dongle.lock() {
            d.take();
        }
        if let Ok(mut r) = self.relays.lock() {
            r.clear();
        }
        if let Some(n) = self.node.take() {
            n.shutdown(STOP_WAIT);
        }
    }

    /// The node below the door (snapshots, the store), for this repository's tests and
    /// developer tools: only with the `internals` feature (ADR 0035).
    #[cfg(feature = "internals")]
    pub fn node(&self) -> Result<&Node, AppError> {
        self.running()
    }

    /// The running node, or `Stopped` after shutdown.
    pub(crate) fn running(&self) -> Result<&Node, AppError> {
        self.node.as_ref().ok_or(AppError::Stopped)
    }

    /// The data directory's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// My feed id.
    pub fn fid(&self) -> &FeedId {
        self.me.fid()
    }

    /// The key file's text, to back the identity up or move it (a secret: never log it).
    pub fn export_key(&self) -> Zeroizing<String> {
        self.me.to_key_file()
    }

    /// The chat service: chats, messages, contacts, search.
    pub fn chats(&self) -> &Chats {
        &self.chats
    }

    /// What stood out when the store opened (feeds rolled back).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Changes and saves the settings (the key state is not the app's to change: see
    /// [`App::confirm_new_key`]). Receipts and the network apply from the next open.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), AppError> {
        let mut s = self.settings.lock().map_err(|_| AppError::Stopped)?;
        let mut next = s.clone();
        change(&mut next);
        next.key = s.key;
        next.network()?;
        next.save(&self.layout.settings_file())?;
        *s = next;
        Ok(())
    }

    /// Events of the node, the chats, the links and the door.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.events.subscribe()
    }

    /// Links up, feeds held and behind, entries missing, side chains open, synced or why not.
    pub fn sync_summary(&self) -> Result<SyncSummary, AppError> {
        Ok(SyncSummary::of(&self.running()?.snapshot()?))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.halt();
    }
}

fn refuse_existing(layout: &Layout) -> Result<(), AppError> {
    if layout.has_identity() || layout.store_dir().exists() {
        return Err(AppError::Exists(layout.root().display().to_string()));
    }
    Ok(())
}

/// A second `Identity` value of the same key (the chat service owns one).
fn twin(me: &Identity) -> Result<Identity, AppError> {
    Identity::from_key_file(&me.to_key_file())
        .map_err(|e| AppError::Invalid(format!("copying the identity: {e}")))
}
