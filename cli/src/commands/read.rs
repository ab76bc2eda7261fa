//! `lichen read`: marks a chat read (sends read receipts in one-to-one chats).

use std::process::ExitCode;

use lichen::text::safe;
use lichen::AppOptions;

use super::common::open_app;
use super::messages::chat_arg;
use crate::data::DataDir;

/// Options of `lichen read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The chat to mark read (as for `messages --chat`).
    #[arg(long)]
    chat: String,
}

/// `lichen read`.
pub fn run(data: &DataDir, args: &ReadArgs) -> anyhow::Result<ExitCode> {
    let app = open_app(data, AppOptions::default())?;
    let chat = chat_arg(app.chats(), &args.chat)?;
    app.mark_read(&chat)?;
    outln!("marked read: {}", safe(&app.chats().summary(&chat)?.title))?;
    app.stop();
    Ok(ExitCode::SUCCESS)
}
