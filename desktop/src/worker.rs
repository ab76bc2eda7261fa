//! The one thread that talks to the node. The window sends [`Cmd`]s and polls [`Reply`]s each
//! frame, so a slow disk or link never freezes it: while a command runs the window shows
//! what it waits for (`Desktop::busy`). Events of the front door arrive the same way.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use lichen::app::ffi_support::ChatEntry;
use lichen::app::{App, AppEvent, AppOptions, KeyIs, KeyState, Settings, SyncSummary};
use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::Central;
use lichen::ble::pairing::{Dongles, Found, PairingStatus};
use lichen::chat::{ChatId, Contact, Cursor, Gap, Message};
use lichen::FeedId;

/// How long a dongle scan or pairing looks for dongles.
pub const SCAN: Duration = Duration::from_secs(3);

/// What the window asks of the node.
#[derive(Debug, Clone)]
pub enum Cmd {
    /// Make a new identity in the folder.
    Create(PathBuf),
    /// Import a key file; `may_have_entries` holds posting until the feed is recovered.
    Import {
        /// The data folder.
        dir: PathBuf,
        /// The key file's text.
        key: String,
        /// The fork guard: the key may have entries on another device.
        may_have_entries: bool,
    },
    /// Restore a backup (key, settings, contacts, invites).
    Restore {
        /// The data folder.
        dir: PathBuf,
        /// The backup's text.
        text: String,
    },
    /// Open the identity in the folder.
    Open(PathBuf),
    /// The person says the imported key is new: allow posting.
    ConfirmNewKey,
    /// Read the chat list again.
    Chats,
    /// Open a chat: its newest page.
    OpenChat(ChatId, usize),
    /// The page older than a cursor.
    Older(ChatId, Cursor, usize),
    /// Post.
    Send(ChatId, String),
    /// Mark a chat read.
    MarkRead(ChatId),
    /// A chat with these people (refs or aliases).
    NewChat(Vec<String>),
    /// Add a contact from a feed id (with an alias).
    AddContact(String, Option<String>),
    /// Accept an invite.
    AcceptInvite(String),
    /// Mint my invite at a relay (None: the first in the settings).
    MakeInvite(Option<String>),
    /// Read the contacts.
    Contacts,
    /// Listen for WebSocket peers.
    ListenWs(String),
    /// Dial a WebSocket peer.
    DialWs(String),
    /// Links and sync progress.
    Sync,
    /// Look for dongles (through the emulator at the address, else Bluetooth).
    Scan(Option<String>),
    /// Pair with a dongle and keep it connected.
    Pair(Option<String>, String),
    /// Forget the paired dongle.
    Unpair,
    /// The paired dongle's status.
    DongleStatus,
    /// Save the settings.
    SaveSettings(Settings),
    /// Export history (tinySSB log files) into a folder.
    ExportHistory(PathBuf),
    /// Import history from a folder.
    ImportHistory(PathBuf),
    /// Write the backup to a file.
    ExportBackup(PathBuf),
}

/// What came back.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An identity is open.
    Opened {
        /// My feed id (ref form).
        fid: FeedId,
        /// The settings.
        settings: Settings,
        /// Whether posting is allowed.
        key: KeyState,
        /// Warnings from opening the store.
        warnings: Vec<String>,
    },
    /// A command failed; the text says why.
    Failed(String),
    /// Done, with a line to show.
    Notice(String),
    /// The chat list, most recent first.
    Chats(Vec<ChatEntry>),
    /// A chat's newest page (oldest first), whether older ones remain, its gaps.
    Chat {
        /// Which chat.
        id: ChatId,
        /// Its title.
        title: String,
        /// The messages, oldest first.
        messages: Vec<Message>,
        /// Whether older history remains.
        more: bool,
        /// What peers say has not arrived.
        gaps: Vec<Gap>,
        /// The names to show for the page's authors (their own, my alias, or the short id).
        names: Vec<(FeedId, String)>,
    },
    /// An older page (oldest first).
    Older {
        /// Which chat.
        id: ChatId,
        /// The messages, oldest first.
        messages: Vec<Message>,
        /// Whether older history remains.
        more: bool,
        /// The names to show for the page's authors.
        names: Vec<(FeedId, String)>,
    },
    /// A new chat exists.
    NewChat(ChatId),
    /// The contacts.
    Contacts(Vec<Contact>),
    /// My invite's text.
    Invite(String),
    /// Links (id, kind, peer) and sync progress.
    Sync(Vec<(u32, String, String)>, SyncSummary),
    /// A WebSocket listener's address.
    Listening(String),
    /// Dongles found.
    Found(Vec<Found>),
    /// The paired dongle (None: none).
    Dongle(Option<PairingStatus>),
    /// An event of the front door.
    Event(AppEvent),
    /// The worker took a command (the text says which) or finished one (None).
    Busy(Option<String>),
}

/// The window's end of the worker.
pub struct Worker {
    tx: Sender<Cmd>,
    rx: Receiver<Reply>,
}

impl Worker {
    /// Starts the thread; `wake` is called after each reply (to repaint the window).
    pub fn start(wake: impl Fn() + Send + Sync + 'static) -> Worker {
        let (tx, cmds) = channel::<Cmd>();
        let (out, rx) = channel::<Reply>();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
        let spawned = std::thread::Builder::new()
            .name("lichen-node".into())
            .spawn(move || run(cmds, Out { tx: out, wake }));
        if let Err(e) = spawned {
            tracing::error!("cannot start the node thread: {e}");
        }
        Worker { tx, rx }
    }

    /// Queues a command (never blocks).
    pub fn send(&self, cmd: Cmd) {
        let _ = self.tx.send(cmd);
    }

    /// The next reply, if one is waiting (never blocks).
    pub fn poll(&self) -> Option<Reply> {
        // Empty or disconnected (the thread ended): nothing to take.
        self.rx.try_recv().ok()
    }
}

#[derive(Clone)]
struct Out {
    tx: Sender<Reply>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Out {
    fn send(&self, r: Reply) {
        let _ = self.tx.send(r);
        (self.wake)();
    }
}

fn run(cmds: Receiver<Cmd>, out: Out) {
    let mut app: Option<Arc<App>> = None;
    while let Ok(cmd) = cmds.recv() {
        out.send(Reply::Busy(Some(describe(&cmd))));
        let r = handle(&mut app, cmd, &out);
        if let Err(e) = r {
            out.send(Reply::Failed(format!("{e:#}")));
        }
        out.send(Reply::Busy(None));
    }
    if let Some(a) = app.take() {
        if let Ok(a) = Arc::try_unwrap(a) {
            a.stop();
        }
    }
}

fn describe(cmd: &Cmd) -> String {
    match cmd {
        Cmd::Create(_) | Cmd::Import { .. } | Cmd::Restore { .. } | Cmd::Open(_) => {
            "opening the data folder".into()
        }
        Cmd::Chats => "reading chats".into(),
        Cmd::OpenChat(..) => "opening the chat".into(),
        Cmd::Older(..) => "loading older messages".into(),
        Cmd::Send(..) => "writing the message".into(),
        Cmd::Scan(_) => "scanning for dongles".into(),
        Cmd::Pair(..) => "pairing".into(),
        Cmd::DialWs(u) => format!("connecting to {u}"),
        Cmd::ExportHistory(_) | Cmd::ImportHistory(_) | Cmd::ExportBackup(_) => {
            "copying history".into()
        }
        other => format!("{other:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("working")
            .to_lowercase(),
    }
}

fn opened(app: App, slot: &mut Option<Arc<App>>, out: &Out) -> anyhow::Result<()> {
    let started = app.start();
    if crate::ui::wifi_on(&app.settings()) {
        if let Err(e) = app.udp_multicast(lichen::UdpConfig::default()) {
            out.send(Reply::Failed(format!("Wi-Fi multicast: {e}")));
        }
    }
    let app = Arc::new(app);
    let mut events = app.subscribe();
    let rt = app.runtime()?;
    let o = out.clone();
    rt.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(e) => o.send(Reply::Event(e)),
                Err(RecvError::Lagged(_)) => o.send(Reply::Event(AppEvent::Chat(
                    lichen::chat::ChatEvent::Reload,
                ))),
                Err(RecvError::Closed) => break,
            }
        }
    });
    out.send(Reply::Opened {
        fid: *app.fid(),
        settings: app.settings(),
        key: app.key_state(),
        warnings: app.warnings().to_vec(),
    });
    if let Err(e) = started {
        out.send(Reply::Failed(format!("starting links: {e}")));
    }
    *slot = Some(app);
    out.send(Reply::Chats(
        slot.as_ref()
            .map(|a| a.chat_list())
            .transpose()?
            .unwrap_or_default(),
    ));
    Ok(())
}

fn central(emu: Option<&str>) -> anyhow::Result<Arc<dyn Central>> {
    match emu.filter(|e| !e.trim().is_empty()) {
        Some(addrs) => Ok(Arc::new(EmuCentral::new(addrs.trim()))),
        None => bluetooth(),
    }
}

#[cfg(feature = "ble")]
fn bluetooth() -> anyhow::Result<Arc<dyn Central>> {
    Ok(Arc::new(lichen::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn bluetooth() -> anyhow::Result<Arc<dyn Central>> {
    anyhow::bail!("this build has no Bluetooth: give a dongle emulator's address")
}

/// The names of a page's authors, each asked once (a name the core cannot give is left to
/// the window's short id).
fn names_of(app: &App, messages: &[Message]) -> Vec<(FeedId, String)> {
    let mut seen = std::collections::BTreeSet::new();
    messages
        .iter()
        .filter(|m| seen.insert(m.author))
        .filter_map(|m| Some((m.author, app.chats().name_of(&m.author).ok()?)))
        .collect()
}

fn handle(slot: &mut Option<Arc<App>>, cmd: Cmd, out: &Out) -> anyhow::Result<()> {
    let opts = AppOptions::default;
    match cmd {
        Cmd::Create(dir) => return opened(App::create(&dir, opts())?, slot, out),
        Cmd::Import {
            dir,
            key,
            may_have_entries,
        } => {
            let guard = if may_have_entries {
                KeyIs::MayHaveEntries
            } else {
                KeyIs::New
            };
            return opened(App::import(&dir, &key, guard, opts())?, slot, out);
        }
        Cmd::Restore { dir, text } => {
            return opened(App::restore_backup(&dir, &text, opts())?, slot, out)
        }
        Cmd::Open(dir) => return opened(App::open(&dir, opts())?, slot, out),
        _ => {}
    }
    let Some(app) = slot.as_ref() else {
        anyhow::bail!("no identity is open yet");
    };
    match cmd {
        Cmd::Create(_) | Cmd::Import { .. } | Cmd::Restore { .. } | Cmd::Open(_) => {}
        Cmd::ConfirmNewKey => {
            app.confirm_new_key()?;
            out.send(Reply::Opened {
                fid: *app.fid(),
                settings: app.settings(),
                key: app.key_state(),
                warnings: Vec::new(),
            });
        }
        Cmd::Chats => out.send(Reply::Chats(app.chat_list()?)),
        Cmd::OpenChat(id, limit) => {
            let (messages, more) = app.timeline_page(&id, None, limit)?;
            let summary = app.chats().summary(&id)?;
            let gaps = app.chats().gaps(&id)?;
            let names = names_of(app, &messages);
            out.send(Reply::Chat {
                id,
                title: summary.title,
                messages,
                more,
                gaps,
                names,
            });
        }
        Cmd::Older(id, cursor, limit) => {
            let (messages, more) = app.timeline_page(&id, Some(&cursor), limit)?;
            let names = names_of(app, &messages);
            out.send(Reply::Older {
                id,
                messages,
                more,
                names,
            });
        }
        Cmd::Send(chat, text) => {
            app.send(&chat, &text)?;
        }
        Cmd::MarkRead(chat) => app.mark_read(&chat)?,
        Cmd::NewChat(refs) => {
            let people = refs
                .iter()
                .map(|r| app.chats().resolve(r.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            let id = app.chats().chat_with(&people)?;
            out.send(Reply::NewChat(id));
            out.send(Reply::Chats(app.chat_list()?));
        }
        Cmd::AddContact(r, alias) => {
            let fid = app.chats().resolve(r.trim())?;
            app.chats().add_contact(fid, alias.as_deref(), 1)?;
            out.send(Reply::Contacts(app.chats().contacts()?));
        }
        Cmd::AcceptInvite(beacon) => {
            let who = app.accept_invite(beacon.trim())?;
            out.send(Reply::Notice(format!(
                "invite accepted: {}",
                app.chats().name_of(&who)?
            )));
            out.send(Reply::Contacts(app.chats().contacts()?));
        }
        Cmd::MakeInvite(relay) => {
            out.send(Reply::Invite(app.make_invite(relay.as_deref(), None)?));
        }
        Cmd::Contacts => out.send(Reply::Contacts(app.chats().contacts()?)),
        Cmd::ListenWs(addr) => {
            let l = app.listen_ws(&addr)?;
            // Dropping the handle leaves the listener running for the app's life.
            out.send(Reply::Listening(l.peer().to_owned()));
        }
        Cmd::DialWs(url) => {
            let l = app.dial_ws(&url)?;
            out.send(Reply::Notice(format!("linked to {}", l.peer())));
        }
        Cmd::Sync => out.send(Reply::Sync(app.link_list()?, app.sync_summary()?)),
        Cmd::Scan(emu) => {
            let d = Dongles::new(central(emu.as_deref())?, app.layout().root());
            let found = app.runtime()?.block_on(d.scan(SCAN))?;
            out.send(Reply::Found(found));
        }
        Cmd::Pair(emu, who) => {
            let d = Dongles::new(central(emu.as_deref())?, app.layout().root());
            let p = app.runtime()?.block_on(d.pair(&who, SCAN))?;
            app.connect_paired_dongle()?;
            out.send(Reply::Notice(format!("paired with {}", p.name)));
            out.send(Reply::Dongle(app.dongle_status()?));
        }
        Cmd::Unpair => {
            app.disconnect_dongle();
            if let Some(p) = lichen::ble::pairing::paired_in(app.layout().root())? {
                let c = central(Some(&p.id)).or_else(|_| bluetooth())?;
                Dongles::new(c, app.layout().root()).unpair()?;
            }
            out.send(Reply::Dongle(app.dongle_status()?));
        }
        Cmd::DongleStatus => out.send(Reply::Dongle(app.dongle_status()?)),
        Cmd::SaveSettings(s) => {
            app.update_settings(|cur| *cur = s)?;
            if let Some(name) = app.settings().display_name {
                app.chats().set_my_alias(&name)?;
            }
            out.send(Reply::Notice(
                "settings saved (receipts and network apply from the next start)".into(),
            ));
        }
        Cmd::ExportHistory(dir) => {
            let r = app.feed_log()?.export_tinyssb(&dir)?;
            out.send(Reply::Notice(format!("exported: {r:?}")));
        }
        Cmd::ImportHistory(dir) => {
            let r = app.feed_log()?.import_tinyssb(&dir)?;
            out.send(Reply::Notice(format!("imported: {r:?}")));
        }
        Cmd::ExportBackup(path) => {
            let text = app.export_backup()?;
            std::fs::write(&path, text.as_bytes())?;
            out.send(Reply::Notice(format!(
                "backup written to {}",
                path.display()
            )));
        }
    }
    Ok(())
}
