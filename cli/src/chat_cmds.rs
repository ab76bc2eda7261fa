//! `send`, `chats`, `messages`, `contacts` and `read`: the chat service for scripts.
//!
//! Each command opens the store and the chat index (`<data>/chats`), brings the index up to
//! date with the store, does its work and exits; a running `lichen serve` or `connect` keeps
//! the index current (and sends receipts) while it runs.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use lichen::chat::contacts::TRUSTED;
use lichen::chat::content::Payload;
use lichen::chat::{
    ChatId, Chats, ChatsConfig, Cursor, Message, MessageBody, OtherEntry, OtherKind,
};
use lichen::store::Store;
use lichen::text::safe;

use crate::data::DataDir;

/// Options of `lichen send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Recipients, comma-separated: `@….ed25519`, a feed id in hex, or a contact's alias.
    /// Several make a group (at most 6 besides you). Without `--to`, the post goes to the
    /// public channel "ALL".
    #[arg(long, value_delimiter = ',')]
    to: Vec<String>,
    /// The text.
    text: String,
    /// Print the message as JSON (the `messages --json` line format).
    #[arg(long)]
    json: bool,
}

/// Options of `lichen chats`.
#[derive(Debug, clap::Args)]
pub struct ChatsArgs {
    /// One JSON object per chat: `chat`, `title`, `members`, `unread`, `total`, `last_ts`.
    #[arg(long)]
    json: bool,
}

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

/// Options of `lichen contacts`.
#[derive(Debug, clap::Args)]
pub struct ContactsArgs {
    #[command(subcommand)]
    cmd: Option<ContactsCmd>,
    /// One JSON object per contact: `fid`, `ref`, `alias`, `iam`, `trust`, `name`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum ContactsCmd {
    /// Add (or update) a contact; their feed is replicated from now on.
    Add {
        /// `@….ed25519`, `did:ssb:ed25519:…` or a feed id in hex.
        reference: String,
        /// The name you give them (only on this device).
        #[arg(long)]
        alias: Option<String>,
        /// Trust level: 0 untrusted, 1 trusted, 2 verified in person.
        #[arg(long, default_value_t = TRUSTED)]
        trust: i64,
    },
    /// Delete a contact (their entries stay in the log).
    Remove {
        /// The contact.
        reference: String,
    },
}

/// Options of `lichen read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The chat to mark read (as for `messages --chat`).
    #[arg(long)]
    chat: String,
}

fn open(data: &DataDir) -> anyhow::Result<Chats> {
    let me = data.identity()?;
    let store: Arc<dyn Store> = Arc::new(data.store()?);
    Chats::open(
        &data.root().join("chats"),
        store,
        me,
        ChatsConfig::default(),
    )
    .context("opening the chat index")
}

/// The chat a user names.
fn chat_arg(chats: &Chats, s: &str) -> anyhow::Result<ChatId> {
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

/// The text of `post` and `send`: refused if empty or only whitespace (before anything is
/// opened, so nothing is published).
pub(crate) fn text_to_send(text: &str) -> anyhow::Result<&str> {
    if text.trim().is_empty() {
        bail!("nothing to send: the text is empty");
    }
    Ok(text)
}

/// `lichen send`.
pub fn send(data: &DataDir, args: &SendArgs) -> anyhow::Result<ExitCode> {
    let text = text_to_send(&args.text)?;
    let chats = open(data)?;
    let chat = if args.to.is_empty() {
        if !args.json {
            errln!("no --to: posting to the public channel ALL (readable by everyone)");
        }
        ChatId::Public
    } else {
        let people = args
            .to
            .iter()
            .map(|r| chats.resolve(r))
            .collect::<Result<Vec<_>, _>>()?;
        chats.chat_with(&people)?
    };
    let m = chats.send(&chat, text)?;
    if args.json {
        outln!("{}", message_json(&chats, &m)?)?;
    } else {
        outln!(
            "sent #{} to {} ({})",
            m.seq,
            safe(&chats.summary(&chat)?.title),
            m.mid.to_b64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `lichen chats`.
pub fn list(data: &DataDir, args: &ChatsArgs) -> anyhow::Result<ExitCode> {
    let chats = open(data)?;
    for s in chats.list()? {
        if args.json {
            let members: Vec<String> = s.id.members().iter().map(|f| f.to_ref()).collect();
            outln!(
                "{}",
                serde_json::json!({
                    "chat": s.id.to_string(), "title": s.title, "members": members,
                    "unread": s.unread, "total": s.total, "last_ts": s.last_ts,
                })
            )?;
        } else {
            let badge = if s.unread > 0 {
                format!("{} unread", s.unread)
            } else {
                String::new()
            };
            outln!("{:<30} {:>5} messages  {badge}", safe(&s.title), s.total)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lichen messages`.
pub fn messages(data: &DataDir, args: &MessagesArgs) -> anyhow::Result<ExitCode> {
    let chats = open(data)?;
    if let Some(q) = &args.search {
        let limit = if args.limit == 0 {
            usize::MAX
        } else {
            args.limit
        };
        let chat = args
            .chat
            .as_deref()
            .map(|c| chat_arg(&chats, c))
            .transpose()?;
        for m in chats.search(q, limit)? {
            if chat.as_ref().is_none_or(|c| *c == m.chat) {
                show(&chats, &m, args.json)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ids = match &args.chat {
        Some(c) => vec![chat_arg(&chats, c)?],
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
            show(&chats, m, args.json)?;
        }
    }
    if args.chat.is_none() {
        for o in chats.other_entries(usize::MAX)? {
            show_other(&chats, &o, args.json)?;
        }
    }
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

fn message_json(chats: &Chats, m: &Message) -> anyhow::Result<serde_json::Value> {
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

/// `lichen contacts`.
pub fn contacts(data: &DataDir, args: &ContactsArgs) -> anyhow::Result<ExitCode> {
    let chats = open(data)?;
    match &args.cmd {
        Some(ContactsCmd::Add {
            reference,
            alias,
            trust,
        }) => {
            let fid = reference
                .parse::<lichen::FeedId>()
                .with_context(|| format!("{reference:?} is not a feed id"))?;
            let c = chats.add_contact(fid, alias.as_deref(), *trust)?;
            outln!(
                "added {} ({}); their feed is replicated",
                safe(&c.name),
                fid.to_ref()
            )?;
        }
        Some(ContactsCmd::Remove { reference }) => {
            let fid = chats.resolve(reference)?;
            if !chats.contacts()?.iter().any(|c| c.fid == fid) {
                bail!("{reference:?} is not a contact");
            }
            chats.delete_contact(&fid)?;
            outln!("removed {}", fid.to_ref())?;
        }
        None => {
            for c in chats.contacts()? {
                if args.json {
                    outln!(
                        "{}",
                        serde_json::json!({
                            "fid": c.fid.to_hex(), "ref": c.fid.to_ref(), "alias": c.alias,
                            "iam": c.iam, "trust": c.trust, "name": c.name,
                        })
                    )?;
                } else {
                    outln!(
                        "{:<20} trust {}  {}",
                        safe(&c.name),
                        c.trust.unwrap_or(0),
                        c.fid.to_ref()
                    )?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lichen read`.
pub fn read(data: &DataDir, args: &ReadArgs) -> anyhow::Result<ExitCode> {
    let chats = open(data)?;
    let chat = chat_arg(&chats, &args.chat)?;
    chats.mark_read(&chat)?;
    outln!("marked read: {}", safe(&chats.summary(&chat)?.title))?;
    Ok(ExitCode::SUCCESS)
}
