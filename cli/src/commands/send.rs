//! `lichen send`: a chat message, private to `--to` (several make a group), else public.

use std::process::ExitCode;

use lichen::chat::ChatId;
use lichen::text::safe;
use lichen::AppOptions;

use super::common::{open_app, text_to_send};
use super::messages::message_json;
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

/// `lichen send`.
pub fn run(data: &DataDir, args: &SendArgs) -> anyhow::Result<ExitCode> {
    let text = text_to_send(&args.text)?;
    let app = open_app(data, AppOptions::default())?;
    let chats = app.chats();
    let m = if args.to.is_empty() {
        if !args.json {
            errln!("no --to: posting to the public channel ALL (readable by everyone)");
        }
        app.send(&ChatId::Public, text)?
    } else {
        let people = args
            .to
            .iter()
            .map(|r| chats.resolve(r))
            .collect::<Result<Vec<_>, _>>()?;
        app.send_to(&people, text)?
    };
    if args.json {
        outln!("{}", message_json(chats, &m)?)?;
    } else {
        outln!(
            "sent #{} to {} ({})",
            m.seq,
            safe(&chats.summary(&m.chat)?.title),
            m.mid.to_b64()
        )?;
    }
    app.stop();
    Ok(ExitCode::SUCCESS)
}
