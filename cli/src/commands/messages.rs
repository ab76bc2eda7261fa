//! `lichen messages`: the messages of a chat (or of all chats, and the entries that are not
//! chat messages), paged or searched.

use std::process::ExitCode;

use anyhow::Context;
use lichen::chat::content::Payload;
use lichen::chat::{
    ChatId, Chats, Cursor, GroupDelivery, Message, MessageBody, OtherEntry, OtherKind, Route,
    RouteDirection,
};
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
    /// `kind`, `text`, `payload`, `location`, `mine`, `state` (mine only), `cursor`, `route`
    /// (`{kind, direction, at}` or null), `delivery` (groups: `{stored, read, members:
    /// [{member, name, stored, read}]}`, else null); after a chat's messages, one object per
    /// gap: `{"gap": {chat, author, name, held, claimed, missing, via, vouched_by}}`.
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
        for g in chats.gaps(&id)? {
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({"gap": {
                        "chat": id.to_string(), "author": g.author.to_ref(), "name": g.name,
                        "held": g.held, "claimed": g.claimed, "missing": g.missing,
                        "via": g.via.iter().map(|k| k.name()).collect::<Vec<_>>(),
                        "vouched_by": g.vouched_by.iter().map(|f| f.to_ref()).collect::<Vec<_>>(),
                    }})
                )?;
            } else {
                let title = chats.summary(&id)?.title;
                outln!("[{}] … {}", safe(&title), safe(&g.describe()))?;
            }
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
    let route = m
        .route
        .map(|r| format!("  [{}]", route_text(&r)))
        .unwrap_or_default();
    let delivery = match chats.delivery(&m.mid)? {
        Some(d) => format!("  ({})", d.describe()),
        None => String::new(),
    };
    let title = chats.summary(&m.chat)?.title;
    // Everything but the state mark comes from others: one line, no terminal controls.
    outln!(
        "[{}] {}: {}{state}{}{route}",
        safe(&title),
        safe(&who),
        safe(&text),
        safe(&delivery)
    )?;
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

/// "arrived over relay 2026-12-02 12:01:05 UTC" / "left by dongle …".
fn route_text(r: &Route) -> String {
    let dir = match r.direction {
        RouteDirection::Arrived => "arrived over",
        RouteDirection::Left => "left by",
    };
    let at = chrono_like(r.at);
    format!("{dir} {} {at}", r.kind.name())
}

/// Unix seconds as `YYYY-MM-DD hh:mm:ss UTC`.
fn chrono_like(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("@{t}"))
}

fn delivery_json(d: &GroupDelivery) -> serde_json::Value {
    serde_json::json!({
        "stored": d.stored(), "read": d.read(),
        "members": d.members.iter().map(|m| serde_json::json!({
            "member": m.member.to_ref(), "name": m.name, "stored": m.stored, "read": m.read,
        })).collect::<Vec<_>>(),
    })
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
        "route": m.route.map(|r| serde_json::json!({
            "kind": r.kind.name(),
            "direction": match r.direction {
                RouteDirection::Arrived => "arrived",
                RouteDirection::Left => "left",
            },
            "at": r.at,
        })),
        "delivery": chats.delivery(&m.mid)?.as_ref().map(delivery_json),
    }))
}
