//! The window: every screen drawn from [`Desktop`]'s state, which changes only through the
//! replies of the node thread ([`crate::worker`]) and the person's clicks. Nothing here waits
//! on the node: a call that can be slow is a [`Cmd`] and the screen shows it as busy.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::{Color32, RichText};
use lichen::app::ffi_support::ChatEntry;
use lichen::app::{AppEvent, KeyState, Settings, SyncSummary};
use lichen::ble::pairing::{Found, PairingStatus};
use lichen::ble::status::{unix_ms, DongleEvent, LinkPhase};
use lichen::chat::{ChatEvent, ChatId, Contact, DeliveryState, Gap, Message};
use lichen::FeedId;

use crate::worker::{Cmd, Reply, Worker};

/// Messages loaded per page.
pub const PAGE: usize = 60;
/// The height of one message row (rows are one line, so the list is virtual).
pub const ROW: f32 = 22.0;
/// How often the sync and pairing screens ask again.
const POLL: Duration = Duration::from_millis(1000);

/// Which screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// First run: create, import or restore; the data folder.
    Setup,
    /// Chat list and conversation.
    Chats,
    /// Contacts, my id and invite.
    Contacts,
    /// Dongle pairing.
    Pairing,
    /// Links and sync progress.
    Sync,
    /// Settings, export and import.
    Settings,
}

/// The open conversation.
#[derive(Debug, Clone)]
pub struct Open {
    /// Which chat.
    pub id: ChatId,
    /// Its title.
    pub title: String,
    /// Loaded messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether older history remains.
    pub more: bool,
    /// What peers say has not arrived.
    pub gaps: Vec<Gap>,
    /// The names of the loaded messages' authors.
    pub names: std::collections::HashMap<FeedId, String>,
}

/// What the paired dongle's link last said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DongleLive {
    /// Nothing heard yet.
    Unknown,
    /// Connected (MTU).
    Connected(usize),
    /// Down: the supervisor tries again at the instant.
    Reconnecting {
        /// Why it went down.
        reason: String,
        /// When the next attempt is.
        next: Instant,
    },
    /// The supervisor stopped.
    Stopped(String),
}

#[derive(Default)]
struct Inflight {
    busy: bool,
    stale: bool,
}

impl Inflight {
    /// True if the caller should send now.
    fn want(&mut self) -> bool {
        if self.busy {
            self.stale = true;
            false
        } else {
            self.busy = true;
            true
        }
    }
    /// True if another request should follow the reply that just came.
    fn done(&mut self) -> bool {
        self.busy = false;
        std::mem::take(&mut self.stale)
    }
}

/// Everything the window shows.
pub struct Desktop {
    worker: Worker,
    /// The current screen.
    pub screen: Screen,
    /// The data folder.
    pub dir: String,
    key_text: String,
    /// The fork guard on import: the key may have entries elsewhere.
    pub may_have_entries: bool,
    backup_text: String,
    /// My feed, once an identity is open.
    pub me: Option<FeedId>,
    /// Whether posting is allowed.
    pub key: KeyState,
    settings: Settings,
    form: SettingsForm,
    /// The chat list, most recent first.
    pub chats: Vec<ChatEntry>,
    /// The open chat.
    pub open: Option<Open>,
    /// The compose box.
    pub compose: String,
    /// The contacts.
    pub contacts: Vec<Contact>,
    add_ref: String,
    add_alias: String,
    invite_in: String,
    my_invite: Option<String>,
    new_chat: String,
    /// Open links (id, kind, peer).
    pub links: Vec<(u32, String, String)>,
    /// Sync progress.
    pub sync: Option<SyncSummary>,
    /// Dongle emulator address(es); empty: Bluetooth.
    pub emu_addr: String,
    /// Dongles found by the last scan.
    pub found: Vec<Found>,
    /// The paired dongle.
    pub dongle: Option<PairingStatus>,
    /// Its link, as the events tell.
    pub dongle_live: DongleLive,
    /// What the node thread is doing, if anything.
    pub busy: Option<String>,
    busy_since: Option<Instant>,
    /// The last notice.
    pub notice: Option<String>,
    /// The last error.
    pub error: Option<String>,
    /// A warning that stays (a fork, a rolled-back feed).
    pub alarm: Option<String>,
    /// Where WebSocket peers may reach this app.
    pub listening: Option<String>,
    listen_addr: String,
    dial_url: String,
    export_dir: String,
    list: Inflight,
    chat: Inflight,
    older: bool,
    scroll_to: Option<f32>,
    last_poll: Option<Instant>,
    title: String,
    /// Desktop notifications (notify-send where present); off in tests.
    pub notify: bool,
    marked: Option<(ChatId, u32)>,
    fonts: bool,
}

#[derive(Default)]
struct SettingsForm {
    name: String,
    receipts: bool,
    network_key: String,
    relays: String,
    wifi: bool,
}

impl SettingsForm {
    fn of(s: &Settings) -> SettingsForm {
        SettingsForm {
            name: s.display_name.clone().unwrap_or_default(),
            receipts: s.receipts,
            network_key: s.network_key.clone().unwrap_or_default(),
            relays: s.relays.join("\n"),
            wifi: wifi_on(s),
        }
    }
}

/// Whether the settings ask for Wi-Fi multicast (kept beside the core's fields).
pub fn wifi_on(s: &Settings) -> bool {
    s.other
        .get(crate::WIFI_KEY)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Roughly how many tinySSB packets a text needs: 48 bytes fit the entry itself, longer
/// posts go in a side chain (28 bytes in the entry, 100 per further packet).
pub fn packets_for(text: &str) -> usize {
    let n = text.len() + 8; // the post's encoding around the text
    if n <= 48 {
        1
    } else {
        1 + (n - 28).div_ceil(100)
    }
}

/// The mark shown beside one of my messages.
pub fn mark(state: Option<DeliveryState>) -> &'static str {
    match state {
        None => "",
        Some(DeliveryState::Written) => "·",
        Some(DeliveryState::Sent) => "↑",
        Some(DeliveryState::Stored) => "✔",
        Some(DeliveryState::Delivered) => "✔✔",
        Some(DeliveryState::Read) => "✔✔ read",
    }
}

impl Desktop {
    /// A window over `dir` (opened at once if it holds an identity); `wake` repaints.
    pub fn new(dir: PathBuf, wake: impl Fn() + Send + Sync + 'static) -> Desktop {
        let worker = Worker::start(wake);
        let existing = lichen::app::Layout::new(&dir).has_identity();
        if existing {
            worker.send(Cmd::Open(dir.clone()));
        }
        Desktop {
            worker,
            screen: Screen::Setup,
            dir: dir.display().to_string(),
            key_text: String::new(),
            may_have_entries: true,
            backup_text: String::new(),
            me: None,
            key: KeyState::Ready,
            settings: Settings::default(),
            form: SettingsForm::default(),
            chats: Vec::new(),
            open: None,
            compose: String::new(),
            contacts: Vec::new(),
            add_ref: String::new(),
            add_alias: String::new(),
            invite_in: String::new(),
            my_invite: None,
            new_chat: String::new(),
            links: Vec::new(),
            sync: None,
            emu_addr: std::env::var("LICHEN_DONGLE_EMU").unwrap_or_default(),
            found: Vec::new(),
            dongle: None,
            dongle_live: DongleLive::Unknown,
            busy: None,
            busy_since: None,
            notice: None,
            error: None,
            alarm: None,
            listening: None,
            listen_addr: "0.0.0.0:8940".into(),
            dial_url: String::new(),
            export_dir: String::new(),
            list: Inflight::default(),
            chat: Inflight::default(),
            older: false,
            scroll_to: None,
            last_poll: None,
            title: String::new(),
            notify: true,
            marked: None,
            fonts: false,
        }
    }

    /// Sends a command to the node thread (tests and the bench drive the app through it too).
    pub fn command(&self, cmd: Cmd) {
        self.worker.send(cmd);
    }

    /// The unread total over all chats (the window title shows it).
    pub fn unread_total(&self) -> u64 {
        self.chats.iter().map(|c| u64::from(c.summary.unread)).sum()
    }

    /// The window title.
    pub fn title(&self) -> String {
        match self.unread_total() {
            0 => "Lichen".into(),
            n => format!("Lichen ({n} unread)"),
        }
    }

    /// Opens a chat (its newest page comes from the node thread).
    pub fn open_chat(&mut self, id: ChatId) {
        let title = self
            .chats
            .iter()
            .find(|c| c.summary.id == id)
            .map(|c| c.summary.title.clone())
            .unwrap_or_default();
        self.open = Some(Open {
            id: id.clone(),
            title,
            messages: Vec::new(),
            more: false,
            gaps: Vec::new(),
            names: Default::default(),
        });
        self.chat = Inflight::default();
        self.chat.busy = true;
        self.older = false;
        self.marked = None;
        self.scroll_to = None;
        self.worker.send(Cmd::OpenChat(id, PAGE));
    }

    /// Takes every waiting reply (called each frame).
    pub fn poll(&mut self) {
        while let Some(r) = self.worker.poll() {
            self.take(r);
        }
        let polling = matches!(self.screen, Screen::Sync | Screen::Pairing | Screen::Chats);
        if self.me.is_some()
            && polling
            && self.last_poll.is_none_or(|t| t.elapsed() >= POLL)
            && self.busy.is_none()
        {
            self.last_poll = Some(Instant::now());
            self.worker.send(Cmd::Sync);
            if self.screen == Screen::Pairing {
                self.worker.send(Cmd::DongleStatus);
            }
        }
        // Mark the open chat read while it shows unread messages.
        if let Some(o) = &self.open {
            let unread = self
                .chats
                .iter()
                .find(|c| c.summary.id == o.id)
                .map_or(0, |c| c.summary.unread);
            if unread > 0
                && self.screen == Screen::Chats
                && self.marked != Some((o.id.clone(), unread))
            {
                self.marked = Some((o.id.clone(), unread));
                self.worker.send(Cmd::MarkRead(o.id.clone()));
            }
        }
    }

    fn refresh_list(&mut self) {
        if self.list.want() {
            self.worker.send(Cmd::Chats);
        }
    }

    fn refresh_chat(&mut self) {
        if let Some(o) = &self.open {
            let id = o.id.clone();
            if self.chat.want() {
                self.worker.send(Cmd::OpenChat(id, PAGE));
            }
        }
    }

    fn take(&mut self, r: Reply) {
        match r {
            Reply::Opened {
                fid,
                settings,
                key,
                warnings,
            } => {
                self.me = Some(fid);
                self.form = SettingsForm::of(&settings);
                self.settings = settings;
                self.key = key;
                if !warnings.is_empty() {
                    self.alarm = Some(warnings.join("; "));
                }
                if self.screen == Screen::Setup {
                    self.screen = Screen::Chats;
                }
                self.worker.send(Cmd::Contacts);
                self.worker.send(Cmd::DongleStatus);
            }
            Reply::Failed(e) => self.error = Some(e),
            Reply::Notice(n) => {
                self.notice = Some(n);
                self.error = None;
            }
            Reply::Chats(c) => {
                self.chats = c;
                if self.list.done() {
                    self.refresh_list();
                }
            }
            Reply::Chat {
                id,
                title,
                messages,
                more,
                gaps,
                names,
            } => {
                let again = self.chat.done();
                if let Some(o) = self.open.as_mut().filter(|o| o.id == id) {
                    let first_page = o.messages.is_empty();
                    o.title = title;
                    o.gaps = gaps;
                    o.names.extend(names);
                    merge_newest(o, messages, more);
                    if first_page {
                        // A chat opens at its newest message; from there the list sticks
                        // to the bottom. (A finite offset: egui's row maths overflows on
                        // f32::MAX.)
                        self.scroll_to = Some(o.messages.len() as f32 * ROW);
                    }
                }
                if again {
                    self.refresh_chat();
                }
            }
            Reply::Older {
                id,
                messages,
                more,
                names,
            } => {
                self.older = false;
                if let Some(o) = self.open.as_mut().filter(|o| o.id == id) {
                    o.names.extend(names);
                    let k = messages.len();
                    let mut all = messages;
                    all.append(&mut o.messages);
                    o.messages = all;
                    o.more = more;
                    self.scroll_to = Some(k as f32 * ROW);
                }
            }
            Reply::NewChat(id) => {
                self.screen = Screen::Chats;
                self.open_chat(id);
            }
            Reply::Contacts(c) => self.contacts = c,
            Reply::Invite(i) => self.my_invite = Some(i),
            Reply::Sync(links, s) => {
                self.links = links;
                self.sync = Some(s);
            }
            Reply::Listening(a) => self.listening = Some(a),
            Reply::Found(f) => self.found = f,
            Reply::Dongle(d) => {
                if d.is_none() {
                    self.dongle_live = DongleLive::Unknown;
                }
                self.dongle = d;
            }
            Reply::Event(e) => self.event(e),
            Reply::Busy(b) => {
                self.busy_since = b.as_ref().map(|_| Instant::now());
                self.busy = b;
            }
        }
    }

    fn event(&mut self, e: AppEvent) {
        match e {
            AppEvent::Chat(c) => {
                if let ChatEvent::Message {
                    chat, mine: false, ..
                } = &c
                {
                    self.notify_new(chat);
                }
                let touches_open = match &c {
                    ChatEvent::Message { chat, .. }
                    | ChatEvent::State { chat, .. }
                    | ChatEvent::Read { chat } => self.open.as_ref().is_some_and(|o| &o.id == chat),
                    ChatEvent::Reload => true,
                    _ => false,
                };
                if matches!(c, ChatEvent::Contacts) {
                    self.worker.send(Cmd::Contacts);
                }
                self.refresh_list();
                if touches_open {
                    self.refresh_chat();
                }
            }
            AppEvent::Dongle(d) => {
                self.dongle_live = match d {
                    DongleEvent::Connected { mtu, .. } => DongleLive::Connected(mtu),
                    DongleEvent::Disconnected {
                        reason,
                        retry_in_ms,
                        ..
                    } => DongleLive::Reconnecting {
                        reason,
                        next: Instant::now() + Duration::from_millis(retry_in_ms),
                    },
                    DongleEvent::ConnectFailed {
                        error, retry_in_ms, ..
                    } => DongleLive::Reconnecting {
                        reason: error.to_string(),
                        next: Instant::now() + Duration::from_millis(retry_in_ms),
                    },
                    DongleEvent::Stopped { reason, .. } => DongleLive::Stopped(reason),
                    DongleEvent::Health { .. } | DongleEvent::Sync { .. } => {
                        return;
                    }
                };
                self.worker.send(Cmd::DongleStatus);
            }
            AppEvent::KeyRecovered { held } => {
                self.key = KeyState::Ready;
                self.notice = Some(format!(
                    "your feed was recovered ({held} entries): posting works"
                ));
            }
            AppEvent::Warning(w) => self.alarm = Some(w),
            AppEvent::ForkDetected { seq, .. } => {
                self.alarm = Some(format!(
                    "another device writes with this key (two entries at {seq}): stop using one of them"
                ));
            }
            AppEvent::OwnFeedElsewhere {
                held_by_peer,
                signed_here,
            } => {
                self.alarm = Some(format!(
                    "a peer claims {held_by_peer} entries of your feed; this device signed {signed_here}"
                ));
            }
            AppEvent::LinkUp { .. } | AppEvent::LinkDown { .. } | AppEvent::Relay { .. } => {
                self.last_poll = None;
            }
            AppEvent::GosetFull { refused } => {
                self.alarm = Some(format!(
                    "this device follows 100 feeds, the most tinySSB allows: {} is not replicated",
                    refused.short_display()
                ));
            }
            AppEvent::AirtimeSpent { face, .. } => {
                self.notice = Some(format!(
                    "link #{face} used its LoRa airtime budget: it sends again when the budget recovers"
                ));
                self.last_poll = None;
            }
            AppEvent::AirtimeResumed { face } => {
                self.notice = Some(format!("link #{face} sends again"));
                self.last_poll = None;
            }
            AppEvent::FeedAdded { .. } => self.last_poll = None,
            AppEvent::Progress { .. } => {}
        }
    }

    fn notify_new(&self, chat: &ChatId) {
        if !self.notify {
            return;
        }
        let title = self
            .chats
            .iter()
            .find(|c| &c.summary.id == chat)
            .map(|c| c.summary.title.clone())
            .unwrap_or_else(|| "Lichen".into());
        // The text stays private: the notification names the chat only.
        let _ = std::process::Command::new("notify-send")
            .args(["--app-name=Lichen", &title, "New message"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }

    /// Draws the window (called each frame by eframe, or by the test harness).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if !self.fonts {
            install_fonts(ui.ctx());
            self.fonts = true;
        }
        self.poll();
        let title = self.title();
        if title != self.title {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        egui::Panel::top("bar").show(ui, |ui| self.bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_line(ui));
        match self.screen {
            Screen::Setup => {
                egui::CentralPanel::default().show(ui, |ui| self.setup(ui));
            }
            Screen::Chats => {
                egui::Panel::left("chats")
                    .default_size(260.0)
                    .show(ui, |ui| self.chat_list(ui));
                egui::CentralPanel::default().show(ui, |ui| self.conversation(ui));
            }
            Screen::Contacts => {
                egui::CentralPanel::default().show(ui, |ui| self.contacts_screen(ui));
            }
            Screen::Pairing => {
                egui::CentralPanel::default().show(ui, |ui| self.pairing(ui));
            }
            Screen::Sync => {
                egui::CentralPanel::default().show(ui, |ui| self.sync_screen(ui));
            }
            Screen::Settings => {
                egui::CentralPanel::default().show(ui, |ui| self.settings_screen(ui));
            }
        }
        if self.busy.is_some() || matches!(self.dongle_live, DongleLive::Reconnecting { .. }) {
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        } else if self.me.is_some() {
            ui.ctx().request_repaint_after(POLL);
        }
    }

    fn bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Lichen");
            if self.me.is_none() {
                return;
            }
            for (s, name) in [
                (Screen::Chats, "Chats"),
                (Screen::Contacts, "Contacts"),
                (Screen::Pairing, "Dongle"),
                (Screen::Sync, "Sync"),
                (Screen::Settings, "Settings"),
            ] {
                let label = if s == Screen::Chats && self.unread_total() > 0 {
                    format!("{name} ({})", self.unread_total())
                } else {
                    name.to_owned()
                };
                if ui.selectable_label(self.screen == s, label).clicked() {
                    self.screen = s;
                    self.last_poll = None;
                }
            }
        });
        if let Some(a) = &self.alarm {
            ui.colored_label(Color32::from_rgb(200, 40, 40), a);
        }
        if self.key == KeyState::Unrecovered && self.me.is_some() {
            ui.horizontal(|ui| {
                ui.colored_label(
                    Color32::from_rgb(200, 120, 0),
                    "Posting waits until your feed is recovered from a peer (the key may have messages elsewhere).",
                );
                if ui.button("This key is new: allow posting").clicked() {
                    self.worker.send(Cmd::ConfirmNewKey);
                }
            });
        }
    }

    fn status_line(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(b) = &self.busy {
                ui.spinner();
                let secs = self.busy_since.map_or(0, |t| t.elapsed().as_secs());
                ui.label(if secs >= 1 {
                    format!("{b}… ({secs} s)")
                } else {
                    format!("{b}…")
                });
            }
            if let Some(e) = &self.error {
                ui.colored_label(Color32::from_rgb(200, 40, 40), e);
            } else if let Some(n) = &self.notice {
                ui.label(n);
            }
            if let Some(s) = &self.sync {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(if s.synced {
                        format!("{} links · synced", s.links)
                    } else {
                        format!("{} links · {} entries missing", s.links, s.entries_missing)
                    });
                });
            }
        });
    }

    fn setup(&mut self, ui: &mut egui::Ui) {
        ui.heading("Welcome to Lichen");
        ui.label("Offline group chat over tinySSB. Choose where your data lives, then create a new identity, import a key or restore a backup.");
        ui.horizontal(|ui| {
            field(
                ui,
                "Data folder:",
                egui::TextEdit::singleline(&mut self.dir),
            );
        });
        let dir = PathBuf::from(self.dir.trim());
        ui.separator();
        ui.horizontal(|ui| {
            if ui.button("Create a new identity").clicked() {
                self.worker.send(Cmd::Create(dir.clone()));
            }
            if ui.button("Open the existing identity").clicked() {
                self.worker.send(Cmd::Open(dir.clone()));
            }
        });
        ui.separator();
        field(
            ui,
            "Import a key file (paste its text):",
            egui::TextEdit::multiline(&mut self.key_text).desired_rows(3),
        );
        ui.checkbox(
            &mut self.may_have_entries,
            "This key may already have messages on another device (posting waits until they are recovered, so the feed never forks)",
        );
        if ui.button("Import the key").clicked() {
            self.worker.send(Cmd::Import {
                dir: dir.clone(),
                key: self.key_text.clone(),
                may_have_entries: self.may_have_entries,
            });
        }
        ui.separator();
        field(
            ui,
            "Restore a backup (paste its text):",
            egui::TextEdit::multiline(&mut self.backup_text).desired_rows(3),
        );
        if ui.button("Restore the backup").clicked() {
            self.worker.send(Cmd::Restore {
                dir,
                text: self.backup_text.clone(),
            });
        }
    }

    fn chat_list(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            field(
                ui,
                "New chat with:",
                egui::TextEdit::singleline(&mut self.new_chat)
                    .hint_text("names or ids, comma-separated")
                    .desired_width(120.0),
            );
            if ui.button("Start").clicked() && !self.new_chat.trim().is_empty() {
                let refs = self
                    .new_chat
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect();
                self.worker.send(Cmd::NewChat(refs));
                self.new_chat.clear();
            }
        });
        ui.separator();
        let mut clicked = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for c in &self.chats {
                let open = self.open.as_ref().is_some_and(|o| o.id == c.summary.id);
                let mut head = c.summary.title.clone();
                if c.summary.unread > 0 {
                    head.push_str(&format!("  ({})", c.summary.unread));
                }
                let preview: String = c
                    .last
                    .as_ref()
                    .and_then(|m| m.text())
                    .unwrap_or("")
                    .chars()
                    .take(40)
                    .collect();
                let text = if c.summary.unread > 0 {
                    RichText::new(format!("{head}\n{preview}")).strong()
                } else {
                    RichText::new(format!("{head}\n{preview}"))
                };
                if ui.selectable_label(open, text).clicked() {
                    clicked = Some(c.summary.id.clone());
                }
            }
        });
        if let Some(id) = clicked {
            self.open_chat(id);
        }
    }

    fn conversation(&mut self, ui: &mut egui::Ui) {
        let Some(o) = &self.open else {
            ui.label("Choose a chat on the left.");
            return;
        };
        let me = self.me;
        ui.horizontal(|ui| {
            ui.heading(&o.title);
            ui.label(format!("{} messages loaded", o.messages.len()))
                .on_hover_text("older ones load as you scroll up");
        });
        ui.label(
            RichText::new(
                "Marks: · written  ↑ sent  ✔ stored on another device  ✔✔ delivered  ✔✔ read",
            )
            .small(),
        );
        for g in &o.gaps {
            ui.colored_label(
                Color32::from_rgb(200, 120, 0),
                format!(
                    "{} messages from {} have not arrived yet (via {})",
                    g.missing,
                    g.name,
                    g.via
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let compose_h = 70.0;
        let avail = (ui.available_height() - compose_h).max(ROW * 3.0);
        let n = o.messages.len();
        let mut area = egui::ScrollArea::vertical()
            .max_height(avail)
            .auto_shrink([false, false])
            .stick_to_bottom(true);
        if let Some(y) = self.scroll_to.take() {
            area = area.vertical_scroll_offset(y);
        }
        let row_h = ROW - ui.spacing().item_spacing.y;
        let out = area.show_rows(ui, row_h, n, |ui, rows| {
            let first = rows.start;
            for m in &o.messages[rows] {
                let mine = Some(m.author) == me;
                let who = if mine {
                    "me".to_owned()
                } else {
                    display_name(&o.names, &self.contacts, &m.author)
                };
                let text = m.text().unwrap_or("(cannot be shown)");
                ui.horizontal(|ui| {
                    ui.label(RichText::new(who).strong());
                    ui.add(egui::Label::new(text).truncate());
                    if mine {
                        let c = if m.state == Some(DeliveryState::Read) {
                            Color32::from_rgb(40, 120, 220)
                        } else {
                            Color32::GRAY
                        };
                        ui.colored_label(c, mark(m.state));
                    }
                });
            }
            first
        });
        let first_shown = out.inner;
        if first_shown < 5 && o.more && !self.older {
            if let Some(c) = o.messages.first().map(|m| m.cursor.clone()) {
                self.older = true;
                self.worker.send(Cmd::Older(o.id.clone(), c, PAGE));
            }
        }
        if self.older {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("loading older messages…");
            });
        }
        ui.separator();
        let id = o.id.clone();
        ui.horizontal(|ui| {
            let edit = field(
                ui,
                "Message:",
                egui::TextEdit::singleline(&mut self.compose)
                    .hint_text("Write a message")
                    .desired_width(ui.available_width() - 160.0),
            );
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let packets = packets_for(&self.compose);
            if packets > 1 {
                ui.label(format!("{packets} packets"))
                    .on_hover_text("long messages travel as several packets: slower on LoRa");
            }
            if (ui.button("Send").clicked() || enter) && !self.compose.trim().is_empty() {
                self.worker
                    .send(Cmd::Send(id, std::mem::take(&mut self.compose)));
            }
        });
    }

    fn contacts_screen(&mut self, ui: &mut egui::Ui) {
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.heading("Contacts");
            for c in &self.contacts {
                let trust = match c.trust {
                    Some(2) => " (verified)",
                    Some(1) => " (trusted)",
                    _ => "",
                };
                ui.label(format!("{}{trust} — {}", c.name, c.fid.short_display()));
            }
            ui.separator();
            field(
                ui,
                "Add from a feed id:",
                egui::TextEdit::singleline(&mut self.add_ref),
            );
            ui.horizontal(|ui| {
                field(ui, "Name:", egui::TextEdit::singleline(&mut self.add_alias));
            });
            if ui.button("Add contact").clicked() {
                let alias = Some(self.add_alias.trim().to_owned()).filter(|a| !a.is_empty());
                self.worker
                    .send(Cmd::AddContact(self.add_ref.clone(), alias));
                self.add_ref.clear();
                self.add_alias.clear();
            }
            field(
                ui,
                "Or accept an invite:",
                egui::TextEdit::singleline(&mut self.invite_in),
            );
            if ui.button("Accept invite").clicked() {
                self.worker
                    .send(Cmd::AcceptInvite(std::mem::take(&mut self.invite_in)));
            }
            let ui = &mut cols[1];
            if let Some(me) = self.me {
                ui.heading("My id");
                let r = me.to_ref();
                ui.add(egui::Label::new(RichText::new(&r).monospace().small()).wrap());
                qr(ui, &r, 3.0);
                if ui.button("Make my invite").clicked() {
                    self.worker.send(Cmd::MakeInvite(None));
                }
                if let Some(i) = &self.my_invite {
                    ui.label("My invite (give it to one person):");
                    ui.add(egui::Label::new(RichText::new(i).monospace().small()).wrap());
                    qr(ui, i, 2.0);
                }
            }
        });
    }

    fn pairing(&mut self, ui: &mut egui::Ui) {
        ui.heading("Dongle");
        ui.horizontal(|ui| {
            field(
                ui,
                "Emulator address (empty: Bluetooth):",
                egui::TextEdit::singleline(&mut self.emu_addr),
            );
        });
        let emu = Some(self.emu_addr.trim().to_owned()).filter(|e| !e.is_empty());
        if ui.button("Scan").clicked() {
            self.worker.send(Cmd::Scan(emu.clone()));
        }
        let mut pair = None;
        egui::Grid::new("found").striped(true).show(ui, |ui| {
            ui.strong("name");
            ui.strong("signal");
            ui.strong("");
            ui.end_row();
            for f in &self.found {
                ui.label(&f.name);
                ui.label(f.rssi.map_or("?".into(), |r| format!("{r} dBm")));
                let label = if f.paired { "paired" } else { "Pair" };
                if ui
                    .add_enabled(!f.paired, egui::Button::new(label))
                    .clicked()
                {
                    pair = Some(f.name.clone());
                }
                ui.end_row();
            }
        });
        if let Some(name) = pair {
            self.worker.send(Cmd::Pair(emu, name));
        }
        ui.separator();
        match &self.dongle {
            None => {
                ui.label("No dongle paired.");
            }
            Some(p) => {
                ui.label(format!(
                    "Paired: {} ({})",
                    p.paired.name, p.paired.transport
                ));
                ui.label(self.dongle_text());
                if let Some(l) = &p.link {
                    ui.label(format!(
                        "packets in {} · out {} · connects {}{}",
                        l.health.packets_in,
                        l.health.packets_out,
                        l.health.connects,
                        l.health
                            .rssi
                            .map_or(String::new(), |r| format!(" · {r} dBm"))
                    ));
                }
                if ui.button("Unpair").clicked() {
                    self.worker.send(Cmd::Unpair);
                }
            }
        }
    }

    /// The dongle's link in words ("connected", "reconnecting — next try in 3 s", …).
    pub fn dongle_text(&self) -> String {
        match &self.dongle_live {
            DongleLive::Connected(mtu) => format!("connected (MTU {mtu})"),
            DongleLive::Reconnecting { reason, next } => {
                let left = next.saturating_duration_since(Instant::now());
                format!(
                    "reconnecting — next try in {:.0} s ({reason})",
                    left.as_secs_f32().ceil()
                )
            }
            DongleLive::Stopped(r) => format!("stopped: {r}"),
            DongleLive::Unknown => match self.dongle.as_ref().and_then(|p| p.link.as_ref()) {
                Some(l) => match l.phase {
                    LinkPhase::Connected => "connected".into(),
                    LinkPhase::Connecting => "connecting".into(),
                    LinkPhase::Waiting => {
                        let secs = l
                            .next_attempt_unix_ms
                            .map_or(0, |t| t.saturating_sub(unix_ms()) / 1000);
                        format!("reconnecting — next try in {secs} s")
                    }
                    LinkPhase::Stopped => "stopped".into(),
                },
                None => "not connected yet".into(),
            },
        }
    }

    fn sync_screen(&mut self, ui: &mut egui::Ui) {
        ui.heading("Links");
        ui.horizontal(|ui| {
            field(
                ui,
                "Listen on:",
                egui::TextEdit::singleline(&mut self.listen_addr),
            );
            if ui.button("Listen").clicked() {
                self.worker.send(Cmd::ListenWs(self.listen_addr.clone()));
            }
            if let Some(l) = &self.listening {
                ui.label(format!("listening on {l}"));
            }
        });
        ui.horizontal(|ui| {
            field(
                ui,
                "Connect to:",
                egui::TextEdit::singleline(&mut self.dial_url).hint_text("ws://host:port"),
            );
            if ui.button("Connect").clicked() {
                self.worker.send(Cmd::DialWs(self.dial_url.clone()));
            }
        });
        egui::Grid::new("links").striped(true).show(ui, |ui| {
            for (id, kind, peer) in &self.links {
                ui.label(format!("#{id}"));
                ui.label(kind);
                ui.label(peer);
                ui.end_row();
            }
        });
        ui.separator();
        ui.heading("Sync");
        let Some(s) = &self.sync else {
            ui.label("…");
            return;
        };
        if s.synced {
            ui.label(format!("Synced: {} feeds, {} links.", s.feeds, s.links));
        } else {
            ui.label(format!(
                "{} feeds · {} entries missing · {} side chains open{}",
                s.feeds,
                s.entries_missing,
                s.open_chains,
                s.why_not
                    .as_ref()
                    .map_or(String::new(), |w| format!(" — {w}"))
            ));
        }
        if s.behind.is_empty() {
            ui.label("Every feed is complete here: no link has shown more than this device holds.");
            return;
        }
        egui::Grid::new("behind").striped(true).show(ui, |ui| {
            ui.strong("feed");
            ui.strong("held");
            ui.strong("a peer has");
            ui.strong("missing");
            ui.strong("from");
            ui.end_row();
            for b in &s.behind {
                ui.label(display_name(&Default::default(), &self.contacts, &b.fid));
                ui.label(b.held.to_string());
                ui.label(b.peer_max.to_string());
                let open = if b.open_chains > 0 {
                    format!(" (+{} side chains)", b.open_chains)
                } else {
                    String::new()
                };
                ui.add(
                    egui::ProgressBar::new(if b.peer_max == 0 {
                        1.0
                    } else {
                        b.held as f32 / b.peer_max as f32
                    })
                    .text(format!("{}{open}", b.peer_max.saturating_sub(b.held))),
                );
                ui.label(from_whom(&self.links, &b.from));
                ui.end_row();
            }
        });
    }

    fn settings_screen(&mut self, ui: &mut egui::Ui) {
        ui.heading("Settings");
        egui::Grid::new("settings").show(ui, |ui| {
            field(
                ui,
                "My name",
                egui::TextEdit::singleline(&mut self.form.name),
            );
            ui.end_row();
            ui.label("Receipts");
            ui.checkbox(&mut self.form.receipts, "send delivered and read receipts");
            ui.end_row();
            field(
                ui,
                "Network key",
                egui::TextEdit::singleline(&mut self.form.network_key)
                    .hint_text("empty: the public network"),
            );
            ui.end_row();
            field(
                ui,
                "Relays",
                egui::TextEdit::multiline(&mut self.form.relays)
                    .desired_rows(2)
                    .hint_text("wss://… one a line"),
            );
            ui.end_row();
            ui.label("Wi-Fi");
            ui.checkbox(
                &mut self.form.wifi,
                "find peers on the local network (multicast)",
            );
            ui.end_row();
        });
        if ui.button("Save settings").clicked() {
            let mut s = self.settings.clone();
            s.display_name = Some(self.form.name.trim().to_owned()).filter(|n| !n.is_empty());
            s.receipts = self.form.receipts;
            s.network_key = Some(self.form.network_key.trim().to_owned()).filter(|n| !n.is_empty());
            s.relays = self
                .form
                .relays
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            s.other.insert(
                crate::WIFI_KEY.into(),
                serde_json::Value::Bool(self.form.wifi),
            );
            self.settings = s.clone();
            self.worker.send(Cmd::SaveSettings(s));
        }
        ui.separator();
        ui.heading("History");
        ui.horizontal(|ui| {
            field(
                ui,
                "Folder:",
                egui::TextEdit::singleline(&mut self.export_dir),
            );
        });
        let dir = PathBuf::from(self.export_dir.trim());
        ui.horizontal(|ui| {
            if ui.button("Export history").clicked() {
                self.worker.send(Cmd::ExportHistory(dir.clone()));
            }
            if ui.button("Import history").clicked() {
                self.worker.send(Cmd::ImportHistory(dir.clone()));
            }
            if ui.button("Write a backup file there").clicked() {
                self.worker
                    .send(Cmd::ExportBackup(dir.join("lichen-backup.json")));
            }
        });
    }
}

/// The name to show for a feed: the core's name for it (sent with a page), else a contact's,
/// else its short id. Looked up per row shown, so no frame builds a table of every name.
pub fn display_name(
    page: &std::collections::HashMap<FeedId, String>,
    contacts: &[Contact],
    fid: &FeedId,
) -> String {
    page.get(fid)
        .or_else(|| contacts.iter().find(|c| c.fid == *fid).map(|c| &c.name))
        .cloned()
        .unwrap_or_else(|| fid.short_display())
}

/// The links a feed's missing entries can come from, in words ("#3 ws 10.0.0.7:8940 (has
/// 120)"), or why none is named.
pub fn from_whom(links: &[(u32, String, String)], from: &[(u32, u32)]) -> String {
    if from.is_empty() {
        return "no open link has more".into();
    }
    from.iter()
        .map(|(id, has)| match links.iter().find(|(l, _, _)| l == id) {
            Some((_, kind, peer)) => format!("#{id} {kind} {peer} (has {has})"),
            None => format!("#{id} (has {has})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces the newest part of `o`'s messages by `newest` (oldest first), keeping what was
/// paged in before it.
fn merge_newest(o: &mut Open, newest: Vec<Message>, more: bool) {
    let Some(first) = newest.first() else {
        return;
    };
    if o.messages.is_empty() {
        o.more = more;
    }
    let overlap = o.messages.iter().position(|m| m.cursor >= first.cursor);
    match overlap {
        Some(keep) => o.messages.truncate(keep),
        // A full page that does not reach what was loaded: more came than a page holds, so
        // what lies between is unknown here. Start again from the newest rather than show a
        // history with a silent hole.
        None if more && !o.messages.is_empty() => {
            o.messages.clear();
            o.more = true;
        }
        None => {}
    }
    o.messages.extend(newest);
}

/// egui's fonts, with Hack behind Ubuntu in the proportional family: it draws the arrows
/// and marks (↑ →) that Ubuntu lacks, where egui would otherwise draw a box.
fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if fonts.font_data.contains_key("Hack") {
        if let Some(list) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
            list.insert(1.min(list.len()), "Hack".to_owned());
        }
    }
    ctx.set_fonts(fonts);
}

/// A text field named by the label before it: screen readers (and the UI tests) find it by
/// that name.
fn field(ui: &mut egui::Ui, label: &str, edit: egui::TextEdit<'_>) -> egui::Response {
    let name = ui.label(label);
    ui.add(edit).labelled_by(name.id)
}

/// Draws `text` as a QR code, `px` points a module.
fn qr(ui: &mut egui::Ui, text: &str, px: f32) {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        ui.label("(too long for a QR code)");
        return;
    };
    let w = code.width();
    let colors = code.to_colors();
    let size = egui::vec2((w + 8) as f32 * px, (w + 8) as f32 * px);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let p = ui.painter_at(rect);
    p.rect_filled(rect, 0.0, Color32::WHITE);
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i % w + 4) as f32, (i / w + 4) as f32);
            let min = rect.min + egui::vec2(x * px, y * px);
            p.rect_filled(
                egui::Rect::from_min_size(min, egui::vec2(px, px)),
                0.0,
                Color32::BLACK,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_whom_names_each_link_that_has_more() {
        let links = vec![
            (1, "ble".to_owned(), "tinySSB-7e57".to_owned()),
            (2, "ws".to_owned(), "10.0.0.7:8940".to_owned()),
        ];
        assert_eq!(
            from_whom(&links, &[(2, 120), (1, 90)]),
            "#2 ws 10.0.0.7:8940 (has 120), #1 ble tinySSB-7e57 (has 90)"
        );
        // A link that closed since the summary: named by its id only.
        assert_eq!(from_whom(&links, &[(5, 3)]), "#5 (has 3)");
        assert_eq!(from_whom(&links, &[]), "no open link has more");
    }

    #[test]
    fn display_name_prefers_the_cores_name_then_a_contacts_then_the_short_id() {
        let fid = |b: u8| *lichen::Identity::from_seed(&[b; 32]).fid();
        let (ana, bo, cy) = (fid(1), fid(2), fid(3));
        let contact = |f: FeedId, name: &str| Contact {
            fid: f,
            alias: Some(name.into()),
            iam: None,
            trust: Some(1),
            name: name.into(),
        };
        let contacts = vec![contact(ana, "ana (contact)"), contact(bo, "bo")];
        let page: std::collections::HashMap<FeedId, String> =
            [(ana, "Ana".to_owned())].into_iter().collect();
        assert_eq!(display_name(&page, &contacts, &ana), "Ana");
        assert_eq!(display_name(&page, &contacts, &bo), "bo");
        assert_eq!(display_name(&page, &contacts, &cy), cy.short_display());
    }

    #[test]
    fn packet_hint_and_marks() {
        assert_eq!(packets_for("hi"), 1);
        assert!(packets_for(&"x".repeat(300)) > 1);
        assert_eq!(mark(Some(DeliveryState::Read)), "✔✔ read");
        assert_eq!(mark(None), "");
    }
}
