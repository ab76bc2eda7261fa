//! `invite` and `accept`: meeting a peer through a Moneysocket rendezvous relay.
//!
//! `lichen invite --relay URL` mints a Lichen invite (a v1 beacon with a fresh seed, the relay,
//! and this node's feed id and alias), prints it with a terminal QR code, saves it in
//! `invites.json`, and with `--wait` stays online through the relay. `lichen accept BEACON`
//! adds the inviter's feed (its alias goes into the store's metadata; a proper contact list
//! comes with the chat work), saves the invite and meets the inviter through the relay.
//! `lichen serve` meets every saved invite's peer too ([`connect_saved`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use lichen::face::relay::RelayStatus;
use lichen::face::relay_dial::RelayOptions;
use lichen::face::tunnel::TunnelRole;
use lichen::invite::saved::SavedInvites;
use lichen::invite::{relay_location, Invite};
use lichen::node::Node;
use lichen::wire::network::Network;

use crate::data::DataDir;
use crate::node_cmds::{finish, run_until, say, start, synced};
use crate::qr;
use lichen::chat::contacts::VERIFIED;

/// How relay links dial (shared by `invite`, `accept` and `serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct RelayLinkArgs {
    /// Extra root certificate(s) (PEM) trusted for wss:// relays, e.g. a self-signed relay's.
    #[arg(long, value_name = "PEM")]
    relay_ca: Option<PathBuf>,
    /// Local IP address to dial relays from (e.g. 127.0.0.2).
    #[arg(long, value_name = "IP")]
    relay_bind: Option<IpAddr>,
}

impl RelayLinkArgs {
    fn options(&self) -> anyhow::Result<RelayOptions> {
        let mut options = RelayOptions {
            bind: self.relay_bind,
            ..RelayOptions::default()
        };
        if let Some(path) = &self.relay_ca {
            let pem = lichen::fsutil::read_small(path, lichen::fsutil::PEM_MAX)
                .with_context(|| format!("reading {}", path.display()))?;
            options
                .add_roots_pem(&pem)
                .with_context(|| format!("{}", path.display()))?;
        }
        Ok(options)
    }
}

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
    /// Stay online through the relay until stopped (or until synced / the timeout).
    #[arg(long)]
    wait: bool,
    /// With --wait: stop once the peer's GOset matches ours and no new data moved for 2 s.
    #[arg(long, requires = "wait")]
    until_synced: bool,
    /// With --wait: stop after this many seconds.
    #[arg(long, requires = "wait", value_parser = crate::args::seconds)]
    timeout: Option<Duration>,
    /// Print JSON lines (the first one holds the invite).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    link: RelayLinkArgs,
}

/// Options of `lichen accept`.
#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The invite (a `moneysocket-lichen1…` beacon, any case).
    beacon: String,
    /// Stop once the peer's GOset matches ours and no new data moved for 2 s.
    #[arg(long)]
    until_synced: bool,
    /// Stop after this many seconds.
    #[arg(long, value_parser = crate::args::seconds)]
    timeout: Option<Duration>,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    link: RelayLinkArgs,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `lichen invite`.
pub fn invite(data: &DataDir, args: &InviteArgs) -> anyhow::Result<ExitCode> {
    let me = data.identity()?;
    let Some(url) = &args.relay else {
        bail!("no relay: pass --relay ws://HOST:PORT (or set LICHEN_RELAY)");
    };
    let location = relay_location(url).map_err(anyhow::Error::msg)?;
    let invite = Invite::new(
        *me.fid(),
        args.alias.as_deref(),
        None,
        location.clone(),
        &mut rand::rngs::OsRng,
    )?;
    let options = args.link.options()?;
    SavedInvites::load(data.root())?.add(&invite, TunnelRole::Inviter, now_secs())?;
    let beacon = invite.encode();
    if args.json {
        say(
            true,
            &serde_json::json!({
                "event": "invite", "beacon": beacon, "qr": invite.encode_qr(),
                "relay": location.url(), "inviter": me.fid().to_ref(), "alias": args.alias,
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
             They run: lichen accept <invite>. Relay: {}",
            location.url()
        )?;
    }
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let (node, _chats) = start(data)?;
    lichen::face::relay::connect(&node, invite.target(), TunnelRole::Inviter, options)?;
    run_linked(node, args.json, args.until_synced, args.timeout)
}

/// `lichen accept`.
pub fn accept(data: &DataDir, args: &AcceptArgs) -> anyhow::Result<ExitCode> {
    // The invite, the contact and the store go into an existing data directory only.
    data.require()?;
    let invite = Invite::decode(&args.beacon).context("not a usable Lichen invite")?;
    if let Some(key) = invite.network_key() {
        if key != Network::deployed().key() {
            bail!(
                "this invite is for a private network (key {}); this node runs the deployed \
                 network only",
                hex::encode(key)
            );
        }
    }
    if data.has_identity() && data.identity()?.fid() == invite.inviter() {
        bail!("this is your own invite: give it to someone else");
    }
    let options = args.link.options()?;
    let (node, chats) = start(data)?;
    let inviter = *invite.inviter();
    match &chats {
        // A contact met by invite counts as verified: the invite came from them directly.
        Some(c) => {
            if let Err(e) = c.add_contact(inviter, invite.alias(), VERIFIED) {
                // An alias taken by another contact must not stop the meeting.
                errln!(
                    "note: {e}; adding {} without the alias",
                    inviter.short_display()
                );
                c.add_contact(inviter, None, VERIFIED)?;
            }
        }
        None => {
            node.add_feed(inviter)?;
            if let Some(alias) = invite.alias() {
                node.store().set_meta(&inviter, "alias", alias.as_bytes())?;
            }
        }
    }
    SavedInvites::load(data.root())?.add(&invite, TunnelRole::Acceptor, now_secs())?;
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
    lichen::face::relay::connect(&node, invite.target(), TunnelRole::Acceptor, options)?;
    run_linked(node, args.json, args.until_synced, args.timeout)
}

/// Starts relay links for every saved invite; returns how many.
pub fn connect_saved(data: &DataDir, node: &Node, link: &RelayLinkArgs) -> anyhow::Result<usize> {
    let saved = SavedInvites::load(data.root())?;
    if saved.all().is_empty() {
        return Ok(0);
    }
    let options = link.options()?;
    let mut n = 0;
    for s in saved.all() {
        let (Ok(invite), Some(role)) = (Invite::decode(&s.beacon), s.tunnel_role()) else {
            tracing::warn!("skipping an unreadable saved invite");
            continue;
        };
        lichen::face::relay::connect(node, invite.target(), role, options.clone())?;
        n += 1;
    }
    Ok(n)
}

/// Runs the node until synced, the timeout, or Ctrl-C, then prints the summary.
fn run_linked(
    node: Node,
    json: bool,
    until_synced: bool,
    timeout: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let deadline = crate::args::deadline(timeout);
    run_until(&node, json, |snap, _| {
        deadline.is_some_and(|d| Instant::now() >= d) || (until_synced && synced(snap))
    })?;
    finish(node, json, until_synced)
}

/// How `serve`, `connect`, `invite` and `accept` print a relay link's progress.
pub fn relay_status(url: &str, status: &RelayStatus) -> (serde_json::Value, String) {
    match status {
        RelayStatus::Connecting => (
            serde_json::json!({"event": "relay", "url": url, "status": "connecting"}),
            format!("relay {url}: connecting"),
        ),
        RelayStatus::Waiting => (
            serde_json::json!({"event": "relay", "url": url, "status": "waiting"}),
            format!("relay {url}: waiting for the peer"),
        ),
        RelayStatus::Paired => (
            serde_json::json!({"event": "relay", "url": url, "status": "paired"}),
            format!("relay {url}: paired, opening the tunnel"),
        ),
        RelayStatus::Retrying { after, reason } => (
            serde_json::json!({
                "event": "relay", "url": url, "status": "retrying",
                "after_ms": after.as_millis() as u64, "reason": reason,
            }),
            format!(
                "relay {url}: {reason}; trying again in {:.1} s",
                after.as_secs_f64()
            ),
        ),
    }
}
