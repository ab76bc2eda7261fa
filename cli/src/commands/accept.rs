//! `lichen accept BEACON`: accepts an invite — the inviter becomes a verified contact (a pub
//! replicates their feed), the invite is saved — and meets the inviter through its relay.

use std::process::ExitCode;

use lichen::invite::Invite;

use super::common::{finish, say, Door, RelayArgs, RunArgs};
use crate::data::DataDir;

/// Options of `lichen accept`.
#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The invite (a `moneysocket-lichen1…` beacon, any case).
    beacon: String,
    #[command(flatten)]
    run: RunArgs,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    link: RelayArgs,
}

/// `lichen accept`.
pub fn run(data: &DataDir, args: &AcceptArgs) -> anyhow::Result<ExitCode> {
    // The invite, the contact and the store go into an existing data directory only.
    data.require()?;
    let door = Door::open(data, args.link.options()?)?;
    let watch = door.watch()?;
    let inviter = match &door {
        Door::App(a) => a.accept_invite(&args.beacon)?,
        Door::Pub(p) => p.accept_invite(&args.beacon)?,
    };
    // Accepted, so it decodes; what it says is shown made safe.
    let invite = Invite::decode(&args.beacon)?;
    let relay = invite.target().url();
    say(
        args.json,
        &serde_json::json!({
            "event": "accepted", "inviter": inviter.to_ref(), "alias": invite.alias(),
            "relay": relay,
        }),
        &format!(
            "accepted the invite of {} ({}); meeting through {relay}",
            invite.alias().unwrap_or("no alias"),
            inviter.short_display()
        ),
    );
    let report = door.run(watch, args.run.until(), args.json)?;
    finish(door, &report, args.json, args.run.until_synced)
}
