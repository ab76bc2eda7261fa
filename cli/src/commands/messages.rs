//! `lichen messages`: the messages of a chat (or of all chats, and the entries that are not
//! chat messages), paged or searched.

use std::process::ExitCode;

use anyhow::Context;
use lichen::chat::content::Payload;
use lichen::chat::{ChatId, Chats, Cursor, Message, MessageBody, OtherEntry, OtherKind};
use lichen::text::safe;
use lichen::AppOptions;

use super::common::open_app;
use crate::data::DataDir;

/// Options of `lichen messages`.
#[derive(Debug, clap::Args)]
pub struct MessagesArgs {
    /// One chat: its id (`ALL`, the concatenated member refs as `chats` prints them), `notes`,
    /// or members as for `send --to`. Without it: every chat, then the entries that are not
    /// chat messages (other apps, unreadable, encrypted for others).
    #[arg(long)]
    chat: Option<String>,
    /// Only messages containing every word of this text (case-insensitive), newest first.
    #[arg(long)]
    search: Option<String>,
    /// Most messages per chat (the newest), printed oldest first; 0 = all.
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Only messages older than this cursor (from a previous `--json` line).
    #[arg(long, requires = "chat")]
    before: Option<String>,
    /// One JSON object per message: `chat`, `mid`, `author`, `author_name`, `seq`, `ts`,
    /// `kind`, `text`, `payload`, `location`, `mine`, `state` (mine only), `cursor`.
    #[arg(long)]
    json: bool,
}

/// The chat a user names.
pub fn chat_arg(chats: &Chats, s: &str) -> anyhow::Result<ChatId> {
    if let Ok(id) = s.parse::<ChatId>() {
        return Ok(id);
    }
    if s.eq_ignore_ascii_case("notes") {
        return Ok(ChatId::notes(chats.me()));
    }
    let people = s
        .split(',')
        .map(|r| chats.resolve(r))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--chat {s:?}"))?;
    Ok(chats.chat_with(&people)?)
}

/// `lichen messages`.
pub fn run(data: &DataDir, args: &MessagesArgs) -> anyhow::Result<ExitCode> {
    let app = open_app(data, AppOptions::default())?;
    let chats = app.chats();
    if let Some(q) = &args.search {
        let limit = if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        };
        let chat = args
            .chat
            .as_deref()
            .map(|c| chat_arg(chats, c))
            .transpose()?;
        for m in chats.search(q, limit)? {
            if chat.as_ref().is_none_or(|c| *c == m.chat) {
                show(chats, &m, args.json)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ids = match &args.chat {
        Some(c) => vec![chat_arg(chats, c)?],
        None => chats.list()?.into_iter().map(|s| s.id).collect(),
    };
    let before = match &args.before {
        Some(c) => Some(c.parse::<Cursor>()?),
        None => None,
    };
    for id in ids {
        let mut got: Vec<Message> = Vec::new();
        let mut cursor = before.clone();
        loop {
            let want = if args.limit == 0 {
                500
            } else {
                args.limit - got.len()
            };
            let page = chats.page(&id, cursor.as_ref(), want)?;
            got.extend(page.messages);
            cursor = page.next;
            if cursor.is_none() || (args.limit > 0 && got.len() >= args.limit) {
                break;
            }
        }
        for m in got.iter().rev() {
            show(chats, m, args.json)?;
        }
    }
    if args.chat.is_none() {
        for o in chats.other_entries(usize::MAX)? {
            show_other(chats, &o, args.json)?;
        }
    }
    app.stop();
    Ok(ExitCode::SUCCESS)
}

fn show(chats: &Chats, m: &Message, json: bool) -> anyhow::Result<()> {
    if json {
        outln!("{}", message_json(chats, m)?)?;
        return Ok(());
    }
    let who = chats.name_of(&m.author)?;
    let text = match &m.body {
        MessageBody::Post { body, payload, .. } => match payload {
            Payload::Text => body.clone().unwrap_or_default(),
            Payload::Empty => String::new(),
            other => format!(
                "[{}] {}",
                payload_name(*other),
                body.clone().unwrap_or_default()
            ),
        },
        MessageBody::Unreadable { reason } => format!("[unreadable entry: {reason}]"),
    };
    let state = m
        .state
        .map(|s| format!("  ({})", s.name()))
        .unwrap_or_default();
    let title = chats.summary(&m.chat)?.title;
    // Everything but the state mark comes from others: one line, no terminal controls.
    outln!("[{}] {}: {}{state}", safe(&title), safe(&who), safe(&text))?;
    Ok(())
}

fn show_other(chats: &Chats, o: &OtherEntry, json: bool) -> anyhow::Result<()> {
    let (kind, tag, reason) = match &o.kind {
        OtherKind::OtherApp { tag } => ("other_app", Some(tag.clone()), None),
        OtherKind::Sealed => ("encrypted", None, None),
        OtherKind::Unreadable { tag, reason } => ("unreadable", tag.clone(), Some(reason.clone())),
    };
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "chat": null, "mid": o.mid.to_b64(), "author": o.author.to_ref(),
                "author_name": chats.name_of(&o.author)?, "seq": o.seq, "ts": null,
                "kind": kind, "tag": tag, "reason": reason, "text": null,
                "mine": o.author == *chats.me(),
            })
        )?;
    } else {
        let what = match (&o.kind, reason) {
            (OtherKind::OtherApp { tag }, _) => format!("entry of another app ({tag})"),
            (OtherKind::Sealed, _) => "encrypted for others".to_string(),
            (_, r) => format!("unreadable entry: {}", r.unwrap_or_default()),
        };
        outln!(
            "[#{} of {}] {}",
            o.seq,
            safe(&chats.name_of(&o.author)?),
            safe(&what)
        )?;
    }
    Ok(())
}

fn payload_name(p: Payload) -> &'static str {
    match p {
        Payload::Text => "text",
        Payload::Voice { .. } => "voice",
        Payload::Sketch => "sketch",
        Payload::Image => "image",
        Payload::Empty => "empty",
    }
}

pub fn message_json(chats: &Chats, m: &Message) -> anyhow::Result<serde_json::Value> {
    let (kind, text, payload, location, reason) = match &m.body {
        MessageBody::Post {
            body,
            payload,
            location,
            ..
        } => (
            "post",
            body.clone(),
            Some(payload_name(*payload)),
            location.clone(),
            None,
        ),
        MessageBody::Unreadable { reason } => {
            ("unreadable", None, None, None, Some(reason.clone()))
        }
    };
    Ok(serde_json::json!({
        "chat": m.chat.to_string(), "mid": m.mid.to_b64(), "author": m.author.to_ref(),
        "author_name": chats.name_of(&m.author)?, "seq": m.seq, "ts": m.ts, "kind": kind,
        "text": text, "payload": payload, "location": location, "reason": reason,
        "mine": m.author == *chats.me(), "state": m.state.map(|s| s.name()),
        "cursor": m.cursor.to_string(),
    }))
}
