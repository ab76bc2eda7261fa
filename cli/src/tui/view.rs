//! Drawing the model: chat list (or contacts) on the left, the conversation and the compose
//! line on the right, a status line at the bottom.
//!
//! ratatui puts text into cells as it is, control characters included, and the terminal
//! then obeys them: every text that comes from others (titles, names, messages, reasons,
//! notices) goes through [`safe`] first.

use lichen::chat::{DeliveryState, Message, MessageBody};
use lichen::text::safe;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Focus, PromptKind};

/// The mark after one of my messages: how far it has come.
pub fn state_mark(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Written => "…",
        DeliveryState::Sent => "→",
        DeliveryState::Stored => "✓",
        DeliveryState::Delivered => "✓✓",
        DeliveryState::Read => "✓✓ seen",
    }
}

/// Hours and minutes of a unix time, in local time.
fn clock(ts: i64) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%H:%M").to_string(),
        None => "--:--".into(),
    }
}

fn focused(on: bool) -> Style {
    if on {
        Style::default().fg(Color::Yellow)
    } else {
        Style::default()
    }
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(f.area());
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(32), Constraint::Percentage(68)])
        .split(rows[0]);
    match app.focus {
        Focus::Contacts | Focus::Prompt(PromptKind::AddContact) => contacts(f, app, cols[0]),
        _ => chat_list(f, app, cols[0]),
    }
    conversation(f, app, cols[1]);
    status(f, app, rows[1]);
}

fn chat_list(f: &mut Frame<'_>, app: &App, area: Rect) {
    let items: Vec<ListItem<'_>> = app
        .chats
        .iter()
        .map(|c| {
            let mut spans = vec![Span::raw(safe(&c.title).into_owned())];
            if c.unread > 0 {
                spans.push(Span::styled(
                    format!(" ({})", c.unread),
                    Style::default().add_modifier(Modifier::BOLD),
                ));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title("Chats")
                .border_style(focused(app.focus == Focus::Chats)),
        )
        .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut state = ListState::default();
    state.select((!app.chats.is_empty()).then_some(app.selected));
    f.render_stateful_widget(list, area, &mut state);
}

fn contacts(f: &mut Frame<'_>, app: &App, area: Rect) {
    let items: Vec<ListItem<'_>> = app
        .contacts
        .iter()
        .map(|c| {
            let trust = match c.trust {
                Some(2) => " (verified)",
                Some(1) => "",
                Some(_) => " (untrusted)",
                None => " (not a contact)",
            };
            ListItem::new(format!(
                "{}{trust}  {}",
                safe(&c.name),
                c.fid.short_display()
            ))
        })
        .collect();
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title("Contacts — a: add, Enter: chat, Esc: back")
                .border_style(focused(app.focus == Focus::Contacts)),
        )
        .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut state = ListState::default();
    state.select((!app.contacts.is_empty()).then_some(app.contact_selected));
    f.render_stateful_widget(list, area, &mut state);
}

fn message_line<'a>(
    app: &App,
    m: &'a Message,
    names: &dyn Fn(&lichen::FeedId) -> String,
) -> Line<'a> {
    let who = names(&m.author);
    let mut spans = vec![
        Span::styled(clock(m.ts), Style::default().fg(Color::DarkGray)),
        Span::raw(" "),
        Span::styled(
            format!("{}: ", safe(&who)),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ];
    match &m.body {
        MessageBody::Post {
            body,
            voice,
            location,
            ..
        } => {
            if let Some(loc) = location {
                spans.push(Span::styled(
                    format!("[{}] ", safe(loc)),
                    Style::default().fg(Color::Cyan),
                ));
            }
            if let Some(t) = body {
                spans.push(Span::raw(safe(t).into_owned()));
            }
            if let Some(v) = voice {
                spans.push(Span::styled(
                    format!(" [voice message, {} bytes]", v.len()),
                    Style::default().fg(Color::Cyan),
                ));
            }
        }
        MessageBody::Unreadable { reason } => spans.push(Span::styled(
            format!("unreadable entry ({})", safe(reason)),
            Style::default().fg(Color::Red),
        )),
    }
    if let (Some(s), true) = (m.state, m.author == *app.me()) {
        spans.push(Span::styled(
            format!("  {}", state_mark(s)),
            Style::default().fg(Color::Green),
        ));
    }
    Line::from(spans)
}

fn conversation(f: &mut Frame<'_>, app: &App, area: Rect) {
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(1), Constraint::Length(3)])
        .split(area);
    let (title, lines) = match &app.open {
        None => (
            "No chat open".to_owned(),
            vec![Line::from(
                "Enter opens the highlighted chat; n starts a new one; c lists contacts.",
            )],
        ),
        Some(o) => {
            let names = |fid: &lichen::FeedId| {
                if fid == app.me() {
                    "me".to_owned()
                } else {
                    app.contacts
                        .iter()
                        .find(|c| c.fid == *fid)
                        .map_or_else(|| fid.short_display(), |c| c.name.clone())
                }
            };
            let mut lines: Vec<Line<'_>> = Vec::new();
            if o.older.is_some() {
                lines.push(Line::from(Span::styled(
                    "… PageUp for older messages",
                    Style::default().fg(Color::DarkGray),
                )));
            }
            lines.extend(o.messages.iter().map(|m| message_line(app, m, &names)));
            (safe(&o.title).into_owned(), lines)
        }
    };
    let inner_height = parts[0].height.saturating_sub(2);
    // Show the newest lines at the bottom, scrolled up by `scroll` lines.
    let total = wrapped_height(&lines, parts[0].width.saturating_sub(2));
    let scroll = app.open.as_ref().map_or(0, |o| o.scroll);
    let top = total.saturating_sub(inner_height).saturating_sub(scroll);
    let para = Paragraph::new(lines)
        .block(Block::default().borders(Borders::ALL).title(title))
        .wrap(Wrap { trim: false })
        .scroll((top, 0));
    f.render_widget(para, parts[0]);

    let (label, on) = match app.focus {
        Focus::Prompt(PromptKind::NewChat) => {
            ("New chat with (aliases or @refs, comma-separated)", true)
        }
        Focus::Prompt(PromptKind::AddContact) => {
            ("Add contact: @ref or hex id, then an alias", true)
        }
        Focus::Compose => ("Message — Enter sends, Esc: chat list", true),
        _ => ("Message", false),
    };
    let input = Paragraph::new(safe(&app.input).into_owned()).block(
        Block::default()
            .borders(Borders::ALL)
            .title(label)
            .border_style(focused(on)),
    );
    f.render_widget(input, parts[1]);
    if on {
        let x = parts[1].x + 1 + app.input.chars().count() as u16;
        f.set_cursor_position((x.min(parts[1].right().saturating_sub(2)), parts[1].y + 1));
    }
}

/// Lines `lines` take when wrapped at `width` (an estimate by characters).
fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(w))
        .sum::<usize>()
        .min(usize::from(u16::MAX)) as u16
}

fn status(f: &mut Frame<'_>, app: &App, area: Rect) {
    let s = &app.status;
    let mut text = if !s.online {
        "offline (reading only)".to_owned()
    } else if s.links.is_empty() {
        "no links — waiting for peers".to_owned()
    } else {
        let kinds: Vec<String> = s.links.iter().map(|(k, p)| format!("{k} {p}")).collect();
        format!("{} link(s): {}", s.links.len(), kinds.join(", "))
    };
    if s.behind.0 > 0 {
        text.push_str(&format!(
            " | syncing: {} entries missing in {} feed(s)",
            s.behind.1, s.behind.0
        ));
    } else if s.online && !s.links.is_empty() {
        text.push_str(" | in sync");
    }
    if s.open_chains > 0 {
        text.push_str(&format!(" | {} long message(s) arriving", s.open_chains));
    }
    let line = match &app.notice {
        Some(n) => Line::from(vec![
            Span::styled(safe(n).into_owned(), Style::default().fg(Color::Red)),
            Span::raw("  "),
            Span::raw(text),
        ]),
        None => Line::from(vec![
            Span::raw(text),
            Span::styled(
                "   Ctrl-C quits · … written → sent ✓ stored ✓✓ delivered ✓✓ seen read",
                Style::default().fg(Color::DarkGray),
            ),
        ]),
    };
    f.render_widget(Paragraph::new(line), area);
}
