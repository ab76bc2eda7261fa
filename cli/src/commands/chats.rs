//! `lichen chats`: chats by last activity, with unread counts.

use std::process::ExitCode;

use lichen::text::safe;
use lichen::AppOptions;

use super::common::open_app;
use crate::data::DataDir;

/// Options of `lichen chats`.
#[derive(Debug, clap::Args)]
pub struct ChatsArgs {
    /// One JSON object per chat: `chat`, `title`, `members`, `unread`, `total`, `last_ts`.
    #[arg(long)]
    json: bool,
}

/// `lichen chats`.
pub fn run(data: &DataDir, args: &ChatsArgs) -> anyhow::Result<ExitCode> {
    let app = open_app(data, AppOptions::default())?;
    for s in app.chats().list()? {
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
    app.stop();
    Ok(ExitCode::SUCCESS)
}
