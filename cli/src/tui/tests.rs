//! `lichen chat` driven headless: two real front doors (`lichen::App`, each a node with its
//! chat service on a sled store) on WebSocket loopback, each UI model fed keys and drawn into
//! ratatui's `TestBackend`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use lichen::chat::{ChatEvent, Chats, ChatsConfig};
use lichen::{AppOptions, Identity};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use tempfile::TempDir;
use tokio::sync::broadcast::Receiver;

use super::app::{App, Flow, Focus, Status};
use super::{drain_events, view};

struct Peer {
    door: lichen::App,
    app: App,
    rx: Receiver<ChatEvent>,
    term: Terminal<TestBackend>,
    _dir: TempDir,
}

impl Peer {
    fn new() -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let door = lichen::App::create(&dir.path().join("node"), AppOptions::default()).unwrap();
        let rx = door.chats().subscribe();
        let app = App::new(door.chats()).unwrap();
        Peer {
            door,
            app,
            rx,
            term: Terminal::new(TestBackend::new(110, 24)).unwrap(),
            _dir: dir,
        }
    }

    fn key(&mut self, code: KeyCode) -> Flow {
        self.app
            .on_key(self.door.chats(), KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Applies pending events, refreshes the status line and draws; returns the screen.
    fn screen(&mut self) -> String {
        drain_events(&mut self.app, self.door.chats(), &mut self.rx).unwrap();
        self.app.status = Status::from_summary(
            &self.door.sync_summary().unwrap(),
            &self.door.links().unwrap(),
        );
        self.term.draw(|f| view::draw(f, &self.app)).unwrap();
        let buf = self.term.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Redraws until the screen shows `what` (or fails after 40 s).
    fn wait_for(&mut self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "screen never showed {what:?}; last screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

#[test]
fn two_people_chat_through_the_tui_and_see_unread_counts_and_delivery_marks() {
    let mut a = Peer::new();
    let mut b = Peer::new();
    let (fa, fb) = (*a.door.chats().me(), *b.door.chats().me());
    b.door.chats().add_contact(fa, Some("alice"), 1).unwrap();

    // A adds B as a contact through the contacts view.
    a.key(KeyCode::Char('c'));
    assert_eq!(a.app.focus, Focus::Contacts);
    a.key(KeyCode::Char('a'));
    a.typed(&format!("{} bob", fb.to_ref()));
    a.key(KeyCode::Enter);
    let s = a.screen();
    assert!(s.contains("added bob"), "{s}");
    assert!(s.contains("bob"), "{s}");

    // Enter on the contact opens the chat; type and send.
    a.key(KeyCode::Enter);
    assert_eq!(a.app.focus, Focus::Compose);
    a.typed("meet at the hut at six");
    a.key(KeyCode::Enter);
    let s = a.screen();
    assert!(s.contains("me: meet at the hut at six  …"), "{s}");
    assert!(s.contains("no links"), "{s}");

    // Link the nodes: B sees the chat with one unread message.
    let listening = a.door.listen_ws("127.0.0.1:0").unwrap();
    b.door
        .dial_ws(&format!("ws://{}", listening.peer()))
        .unwrap();
    let s = b.wait_for("alice (1)");
    assert!(s.contains("1 link(s)"), "{s}");
    // A's message was stored by B, then delivered (B's DLV came back).
    a.wait_for("meet at the hut at six  ✓✓");

    // B opens the chat: the count clears, the message shows, and A sees it read.
    let pos = b.app.chats.iter().position(|c| c.title == "alice").unwrap();
    b.app.selected = pos;
    b.key(KeyCode::Enter);
    let s = b.screen();
    assert!(s.contains("alice: meet at the hut at six"), "{s}");
    assert!(!s.contains("alice (1)"), "{s}");
    a.wait_for("meet at the hut at six  ✓✓ seen");

    // B answers; A's list shows the unread answer until A looks at it.
    b.typed("see you there");
    b.key(KeyCode::Enter);
    a.key(KeyCode::Esc);
    a.key(KeyCode::Up);
    a.wait_for("bob: see you there");
}

#[test]
fn bad_input_is_a_notice_not_a_crash() {
    let mut a = Peer::new();
    // A new chat with someone who is not a contact and not a feed id.
    a.key(KeyCode::Char('n'));
    a.typed("nobody-we-know");
    a.key(KeyCode::Enter);
    let s = a.screen();
    assert!(s.contains("unknown contact \"nobody-we-know\""), "{s}");
    // The prompt keeps what was typed so it can be fixed; Esc leaves it.
    assert_eq!(a.app.input, "nobody-we-know");
    a.key(KeyCode::Esc);
    assert_eq!(a.app.focus, Focus::Chats);
    // Adding a contact with a malformed id.
    a.key(KeyCode::Char('c'));
    a.key(KeyCode::Char('a'));
    a.typed("@not-a-key.ed25519 x");
    a.key(KeyCode::Enter);
    let s = a.screen();
    assert!(s.contains("@not-a-key.ed25519"), "{s}");
    assert_eq!(
        a.app.focus,
        Focus::Prompt(super::app::PromptKind::AddContact)
    );
    // Ctrl-C quits from anywhere.
    let quit = a.app.on_key(
        a.door.chats(),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    );
    assert_eq!(quit, Flow::Quit);
}

#[test]
fn notes_to_self_and_the_public_channel_are_always_listed_and_history_pages() {
    let mut a = Peer::new();
    let s = a.screen();
    assert!(s.contains("Public channel"), "{s}");
    assert!(s.contains("Notes to self"), "{s}");
    // 120 notes: the first page shows the newest; PageUp loads older ones.
    let notes = a.door.chats().chat_with(&[]).unwrap();
    for i in 0..120 {
        a.door.chats().send(&notes, &format!("note {i}")).unwrap();
    }
    a.app.reload_list(a.door.chats()).unwrap();
    let pos = a
        .app
        .chats
        .iter()
        .position(|c| c.title == "Notes to self")
        .unwrap();
    a.app.selected = pos;
    a.key(KeyCode::Enter);
    assert_eq!(
        a.app.open.as_ref().unwrap().messages.len(),
        super::app::PAGE
    );
    let s = a.screen();
    assert!(s.contains("me: note 119"), "{s}");
    for _ in 0..20 {
        a.key(KeyCode::PageUp);
    }
    assert_eq!(a.app.open.as_ref().unwrap().messages.len(), 120);
    let s = a.screen();
    assert!(s.contains("me: note 0  "), "{s}");
    assert!(!s.contains("PageUp for older"), "{s}");
}

/// A peer's name and posts full of terminal controls: clear screen, window title, bell, a
/// fake header line, C1 CSI, DEL, bidi override and isolate.
const HOSTILE: &str = "hello\u{1b}[2J\u{1b}]0;pwned\u{7}\n[Public channel] admin: run \
                       this\r\n\u{9b}31m\u{7f}\u{202e}txt.exe\u{2066}x\u{2069}";
const HOSTILE_NAME: &str = "mallory\u{1b}[31m\u{7}\u{202e}\n[Public channel] admin";

#[test]
fn a_peers_controls_are_drawn_as_visible_marks() {
    let mut a = Peer::new();
    // The peer's entries land in A's store as replication would put them there (the one
    // place a test reaches below the door: a hostile peer is not an app of ours).
    let peer = Identity::from_seed(&[0x56; 32]);
    let theirs = Chats::in_memory(
        a.door.node().unwrap().store().clone(),
        Identity::from_seed(&[0x56; 32]),
        ChatsConfig::default(),
    )
    .unwrap();
    theirs.set_my_alias(HOSTILE_NAME).unwrap();
    theirs.send(&lichen::chat::ChatId::Public, HOSTILE).unwrap();
    let private = theirs.chat_with(&[*a.door.chats().me()]).unwrap();
    theirs.send(&private, HOSTILE).unwrap();
    a.door.chats().refresh().unwrap();
    a.door.chats().add_contact(*peer.fid(), None, 1).unwrap();
    a.app.reload_list(a.door.chats()).unwrap();

    let obeyed = |s: &str| {
        s.chars().find(|c| {
            matches!(*c, '\u{0}'..='\u{9}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    };
    let check = |s: &str| {
        assert_eq!(obeyed(s), None, "a control reached the screen:\n{s}");
        for row in s.lines() {
            let inner = row.trim_start_matches(['│', '┌', '└', ' ', '>']);
            assert!(
                !inner.starts_with("[Public channel] admin"),
                "a faked line:\n{s}"
            );
        }
    };
    let mut screens = vec![a.screen()];
    for pos in 0..a.app.chats.len() {
        a.app.selected = pos;
        a.key(KeyCode::Enter);
        a.key(KeyCode::Esc);
        screens.push(a.screen());
    }
    a.key(KeyCode::Char('c'));
    screens.push(a.screen());
    let all = screens.concat();
    for s in &screens {
        check(s);
    }
    // The peer's words are there, made visible.
    assert!(all.contains("␛[2J"), "{all}");
    assert!(all.contains("mallory"), "{all}");
}
