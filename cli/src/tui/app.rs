//! The state of `lichen chat` and what each key does to it. No terminal here: the model is
//! driven by keys and service events and drawn by `view`, so tests run it headless.

use lichen::app::serve::LinkInfo;
use lichen::app::SyncSummary;
use lichen::chat::{ChatEvent, ChatId, ChatSummary, Chats, Contact, Cursor, Message};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Messages loaded per page (one screenful and some).
pub const PAGE: usize = 50;

/// Where the keyboard goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The chat list (Up/Down, Enter).
    Chats,
    /// The compose line of the open chat.
    Compose,
    /// The contacts list.
    Contacts,
    /// A one-line prompt (new chat, add contact).
    Prompt(PromptKind),
}

/// What a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// Members of a new chat: refs or aliases, comma-separated.
    NewChat,
    /// A contact to add: `REF [ALIAS]`.
    AddContact,
}

/// What the caller should do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Leave the UI.
    Quit,
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
    /// Where older history continues (None: all loaded).
    pub older: Option<Cursor>,
    /// Lines scrolled up from the newest message.
    pub scroll: u16,
}

/// Everything the screen shows.
pub struct App {
    /// The chats, most recent first.
    pub chats: Vec<ChatSummary>,
    /// Index into `chats` of the highlighted one.
    pub selected: usize,
    /// The open chat.
    pub open: Option<Open>,
    /// Keyboard focus.
    pub focus: Focus,
    /// What is typed into the compose line or the prompt.
    pub input: String,
    /// Contacts (shown in the contacts view).
    pub contacts: Vec<Contact>,
    /// Highlighted contact.
    pub contact_selected: usize,
    /// Links and sync progress, from the node.
    pub status: Status,
    /// The last error or notice, shown in the status line until the next key.
    pub notice: Option<String>,
    /// Names for feed ids (contacts, "me").
    me: lichen::FeedId,
}

/// The status line's facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Open links: (kind, peer).
    pub links: Vec<(String, String)>,
    /// Feeds where a peer showed more than we hold, and how many entries are missing.
    pub behind: (usize, u64),
    /// Side chains still incomplete.
    pub open_chains: usize,
    /// Whether a node runs at all (false: offline reading).
    pub online: bool,
}

impl Status {
    /// From the front door's sync summary and open links.
    pub fn from_summary(s: &SyncSummary, links: &[LinkInfo]) -> Status {
        let behind_feeds = s.behind.iter().filter(|b| b.peer_max > b.held).count();
        Status {
            links: links
                .iter()
                .map(|l| (l.kind.clone(), l.peer.clone()))
                .collect(),
            behind: (behind_feeds, s.entries_missing),
            open_chains: s.open_chains,
            online: true,
        }
    }
}

impl App {
    /// A fresh model showing `chats`' list, with the first chat highlighted.
    pub fn new(chats: &Chats) -> anyhow::Result<App> {
        let mut app = App {
            chats: Vec::new(),
            selected: 0,
            open: None,
            focus: Focus::Chats,
            input: String::new(),
            contacts: Vec::new(),
            contact_selected: 0,
            status: Status::default(),
            notice: None,
            me: *chats.me(),
        };
        app.reload_list(chats)?;
        Ok(app)
    }

    /// My feed id.
    pub fn me(&self) -> &lichen::FeedId {
        &self.me
    }

    /// Re-reads the chat list, keeping the highlighted chat where it was.
    pub fn reload_list(&mut self, chats: &Chats) -> anyhow::Result<()> {
        let current = self.chats.get(self.selected).map(|c| c.id.clone());
        self.chats = chats.list()?;
        self.selected = current
            .and_then(|id| self.chats.iter().position(|c| c.id == id))
            .unwrap_or(0);
        Ok(())
    }

    /// Opens the highlighted chat with its newest page and marks it read.
    pub fn open_selected(&mut self, chats: &Chats) -> anyhow::Result<()> {
        let Some(id) = self.chats.get(self.selected).map(|c| c.id.clone()) else {
            return Ok(());
        };
        self.open_chat(chats, id)
    }

    /// Opens `id` and marks it read.
    pub fn open_chat(&mut self, chats: &Chats, id: ChatId) -> anyhow::Result<()> {
        let (summary, page) = chats.open_chat(&id, PAGE)?;
        let mut messages = page.messages;
        messages.reverse();
        self.open = Some(Open {
            id: id.clone(),
            title: summary.title,
            messages,
            older: page.next,
            scroll: 0,
        });
        chats.mark_read(&id)?;
        self.reload_list(chats)?;
        if let Some(i) = self.chats.iter().position(|c| c.id == id) {
            self.selected = i;
        }
        self.focus = Focus::Compose;
        Ok(())
    }

    /// Reloads the open chat's newest messages (after something changed), keeping as much
    /// history as was loaded; marks it read while it is on screen.
    fn reload_open(&mut self, chats: &Chats) -> anyhow::Result<()> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        let id = open.id.clone();
        let want = open.messages.len().max(PAGE);
        let page = chats.page(&id, None, want)?;
        let mut messages = page.messages;
        messages.reverse();
        if let Some(o) = self.open.as_mut() {
            o.messages = messages;
            o.older = page.next;
        }
        chats.mark_read(&id)?;
        Ok(())
    }

    /// Loads the next older page of the open chat.
    fn load_older(&mut self, chats: &Chats) -> anyhow::Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let Some(cursor) = open.older.clone() else {
            self.notice = Some("beginning of the conversation".into());
            return Ok(());
        };
        let page = chats.page(&open.id, Some(&cursor), PAGE)?;
        let mut older = page.messages;
        older.reverse();
        older.append(&mut open.messages);
        open.messages = older;
        open.older = page.next;
        Ok(())
    }

    /// Applies a service event: new messages, state changes, contacts.
    pub fn on_event(&mut self, chats: &Chats, e: &ChatEvent) -> anyhow::Result<()> {
        match e {
            ChatEvent::Message { chat, .. } | ChatEvent::State { chat, .. } => {
                if self.open.as_ref().is_some_and(|o| &o.id == chat) {
                    self.reload_open(chats)?;
                }
                self.reload_list(chats)
            }
            ChatEvent::Read { .. } => self.reload_list(chats),
            ChatEvent::Contacts => {
                self.contacts = chats.contacts()?;
                self.reload_list(chats)
            }
            ChatEvent::Other { .. } | ChatEvent::Gap { .. } => Ok(()),
            ChatEvent::Members { chat } => {
                if self.open.as_ref().is_some_and(|o| &o.id == chat) {
                    self.reload_open(chats)?;
                }
                Ok(())
            }
            ChatEvent::Reload => {
                self.contacts = chats.contacts()?;
                self.reload_open(chats)?;
                self.reload_list(chats)
            }
        }
    }

    /// Handles one key. Errors from the service become a notice, never an exit.
    pub fn on_key(&mut self, chats: &Chats, key: KeyEvent) -> Flow {
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q'))
        {
            return Flow::Quit;
        }
        self.notice = None;
        match self.key(chats, key) {
            Ok(flow) => flow,
            Err(e) => {
                self.notice = Some(format!("{e:#}"));
                Flow::Continue
            }
        }
    }

    fn key(&mut self, chats: &Chats, key: KeyEvent) -> anyhow::Result<Flow> {
        match self.focus {
            Focus::Chats => self.key_chats(chats, key),
            Focus::Compose => self.key_compose(chats, key),
            Focus::Contacts => self.key_contacts(chats, key),
            Focus::Prompt(kind) => self.key_prompt(chats, kind, key),
        }
    }

    fn key_chats(&mut self, chats: &Chats, key: KeyEvent) -> anyhow::Result<Flow> {
        match key.code {
            KeyCode::Char('q') => return Ok(Flow::Quit),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.chats.len().saturating_sub(1));
            }
            KeyCode::Enter | KeyCode::Right => self.open_selected(chats)?,
            KeyCode::Tab if self.open.is_some() => self.focus = Focus::Compose,
            KeyCode::Char('n') => self.prompt(PromptKind::NewChat),
            KeyCode::Char('c') => {
                self.contacts = chats.contacts()?;
                self.contact_selected = 0;
                self.focus = Focus::Contacts;
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn key_compose(&mut self, chats: &Chats, key: KeyEvent) -> anyhow::Result<Flow> {
        match key.code {
            KeyCode::Esc | KeyCode::Tab => self.focus = Focus::Chats,
            KeyCode::Enter => {
                let text = self.input.trim().to_owned();
                if let (Some(open), false) = (&self.open, text.is_empty()) {
                    let id = open.id.clone();
                    chats.send(&id, &text)?;
                    self.input.clear();
                    self.reload_open(chats)?;
                    self.reload_list(chats)?;
                    if let Some(o) = self.open.as_mut() {
                        o.scroll = 0;
                    }
                }
            }
            KeyCode::PageUp => {
                let Some(open) = self.open.as_mut() else {
                    return Ok(Flow::Continue);
                };
                let most = u16::try_from(open.messages.len()).unwrap_or(u16::MAX);
                open.scroll = open.scroll.saturating_add(10).min(most);
                // Scrolled past what is loaded: fetch older history.
                if usize::from(open.scroll) + 10 >= open.messages.len() {
                    self.load_older(chats)?;
                }
            }
            KeyCode::PageDown => {
                if let Some(open) = self.open.as_mut() {
                    open.scroll = open.scroll.saturating_sub(10);
                }
            }
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) => self.input.push(c),
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn key_contacts(&mut self, chats: &Chats, key: KeyEvent) -> anyhow::Result<Flow> {
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => self.focus = Focus::Chats,
            KeyCode::Up | KeyCode::Char('k') => {
                self.contact_selected = self.contact_selected.saturating_sub(1);
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.contact_selected =
                    (self.contact_selected + 1).min(self.contacts.len().saturating_sub(1));
            }
            KeyCode::Char('a') => self.prompt(PromptKind::AddContact),
            KeyCode::Enter => {
                if let Some(c) = self.contacts.get(self.contact_selected) {
                    let id = chats.chat_with(&[c.fid])?;
                    self.open_chat(chats, id)?;
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn prompt(&mut self, kind: PromptKind) {
        self.input.clear();
        self.focus = Focus::Prompt(kind);
    }

    fn key_prompt(
        &mut self,
        chats: &Chats,
        kind: PromptKind,
        key: KeyEvent,
    ) -> anyhow::Result<Flow> {
        match key.code {
            KeyCode::Esc => {
                self.input.clear();
                self.focus = match kind {
                    PromptKind::NewChat => Focus::Chats,
                    PromptKind::AddContact => Focus::Contacts,
                };
            }
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) => self.input.push(c),
            KeyCode::Enter => {
                let line = std::mem::take(&mut self.input);
                match kind {
                    PromptKind::NewChat => {
                        let people = line
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|r| chats.resolve(r))
                            .collect::<Result<Vec<_>, _>>();
                        let people = match people {
                            Ok(p) => p,
                            Err(e) => {
                                self.input = line;
                                return Err(e.into());
                            }
                        };
                        let id = chats.chat_with(&people)?;
                        self.open_chat(chats, id)?;
                    }
                    PromptKind::AddContact => {
                        let mut parts = line.split_whitespace();
                        let Some(reference) = parts.next() else {
                            self.focus = Focus::Contacts;
                            return Ok(Flow::Continue);
                        };
                        let alias: Vec<&str> = parts.collect();
                        let alias = (!alias.is_empty()).then(|| alias.join(" "));
                        let fid = match reference.parse::<lichen::FeedId>() {
                            Ok(f) => f,
                            Err(e) => {
                                self.input = line.clone();
                                anyhow::bail!("{reference}: {e}");
                            }
                        };
                        let c = chats.add_contact(
                            fid,
                            alias.as_deref(),
                            lichen::chat::contacts::TRUSTED,
                        )?;
                        self.notice = Some(format!("added {}", c.name));
                        self.contacts = chats.contacts()?;
                        self.focus = Focus::Contacts;
                    }
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }
}
