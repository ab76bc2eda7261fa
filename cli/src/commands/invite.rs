//! `lichen invite`: mints an invite (a beacon naming a relay and you), saves it, prints it
//! with a QR code, and with `--wait` stays online through the relay.

use std::process::ExitCode;

use anyhow::bail;
use lichen::invite::Invite;

use super::common::{finish, open_app, run_watch, say, Door, RelayArgs, RunArgs};
use crate::data::DataDir;
use crate::qr;

/// Options of `lichen invite`.
#[derive(Debug, clap::Args)]
pub struct InviteArgs {
    /// The relay to meet at: ws://HOST[:PORT][/PATH] or wss://… (a host name, not an IP).
    #[arg(long, env = "LICHEN_RELAY")]
    relay: Option<String>,
    /// The name the invite shows for you (up to 64 bytes).
    #[arg(long)]
    alias: Option<String>,
    /// Do not print the QR code.
    #[arg(long)]
    no_qr: bool,
    /// Stay online through the relay until stopped (or until synced / the timeout, which
    /// need it).
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    run: RunArgs,
    /// Print JSON lines (the first one holds the invite).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    link: RelayArgs,
}

/// `lichen invite`.
pub fn run(data: &DataDir, args: &InviteArgs) -> anyhow::Result<ExitCode> {
    if !args.wait && (args.run.until_synced || args.run.timeout.is_some()) {
        // As clap says it of a missing requirement: a usage error.
        errln!("error: --until-synced and --timeout need --wait");
        return Ok(ExitCode::from(2));
    }
    data.require_identity()?;
    let Some(url) = &args.relay else {
        bail!("no relay: pass --relay ws://HOST:PORT (or set LICHEN_RELAY)");
    };
    let options = args.link.options()?;
    let app = open_app(data, options)?;
    let watch = app.watch()?;
    let beacon = app.make_invite(Some(url), args.alias.as_deref())?;
    let invite = Invite::decode(&beacon)?;
    let relay = invite.target().url();
    if args.json {
        say(
            true,
            &serde_json::json!({
                "event": "invite", "beacon": beacon, "qr": invite.encode_qr(),
                "relay": relay, "inviter": app.fid().to_ref(), "alias": invite.alias(),
            }),
            "",
        );
    } else {
        if !args.no_qr {
            out!("{}", qr::render(&invite.encode_qr())?)?;
        }
        outln!("{beacon}")?;
        outln!(
            "Give this invite to one person (it is a secret: whoever holds it can meet you).\n\
             They run: lichen accept <invite>. Relay: {relay}"
        )?;
    }
    if !args.wait {
        drop(watch);
        app.stop();
        return Ok(ExitCode::SUCCESS);
    }
    let report = run_watch(watch, args.run.until(), args.json, Some(*app.fid()))?;
    finish(
        Door::App(Box::new(app)),
        &report,
        args.json,
        args.run.until_synced,
    )
}
