//! `lichen contacts`: list contacts, or add or remove one.

use std::process::ExitCode;

use anyhow::{bail, Context};
use lichen::chat::contacts::TRUSTED;
use lichen::text::safe;
use lichen::AppOptions;

use super::common::open_app;
use crate::data::DataDir;

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

/// `lichen contacts`.
pub fn run(data: &DataDir, args: &ContactsArgs) -> anyhow::Result<ExitCode> {
    let app = open_app(data, AppOptions::default())?;
    let chats = app.chats();
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
    app.stop();
    Ok(ExitCode::SUCCESS)
}
