//! What several commands share: the argument groups (flattened into each command that takes
//! them, defined once here), opening the front door, and printing a run's progress and its
//! verdict.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use lichen::app::serve::{RelayOptions, RelayStatus, UdpConfig};
use lichen::app::{feeds::FeedLog, Pub, RunReport, RunUntil, Started, Watch};
use lichen::{App, AppEvent, AppOptions, FeedId};

use crate::data::DataDir;

/// The data directory (global: before or after the command).
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// The node's data directory (identity and feed store).
    #[arg(long, global = true, env = "LICHEN_DATA")]
    pub data: Option<PathBuf>,
}

/// How long a node runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// Stop once a peer's GOset matches ours and no new data moved for 2 seconds (peers
    /// only replicate once their GOsets agree; a Python pub takes up to 15 s for that).
    /// Ending otherwise exits 4 (not synced).
    #[arg(long)]
    pub until_synced: bool,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_parser = crate::args::seconds)]
    pub timeout: Option<Duration>,
}

impl RunArgs {
    /// The stop rule of the front door.
    pub fn until(&self) -> RunUntil {
        RunUntil::new(self.timeout, self.until_synced)
    }
}

/// How relay links dial (`invite`, `accept`, `serve`, `chat`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RelayArgs {
    /// Extra root certificate(s) (PEM) trusted for wss:// relays, e.g. a self-signed relay's.
    #[arg(long, value_name = "PEM")]
    pub relay_ca: Option<PathBuf>,
    /// Local IP address to dial relays from (e.g. 127.0.0.2).
    #[arg(long, value_name = "IP")]
    pub relay_bind: Option<IpAddr>,
}

impl RelayArgs {
    /// The front door's options for these relay settings (the PEM file is read, bounded).
    pub fn options(&self) -> anyhow::Result<AppOptions> {
        let mut relay = RelayOptions {
            bind: self.relay_bind,
            ..RelayOptions::default()
        };
        if let Some(path) = &self.relay_ca {
            relay
                .add_roots_file(path)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        Ok(AppOptions {
            relay,
            ..AppOptions::default()
        })
    }
}

/// The network a new data directory joins.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetworkArgs {
    /// A private network's key (hex, as `settings.json` keeps it); default: the deployed
    /// tinySSB network. Peers on another network neither see nor answer this node.
    #[arg(long, value_name = "HEX")]
    pub network_key: Option<String>,
}

/// Opens the identity in `data` (it must have one).
pub fn open_app(data: &DataDir, options: AppOptions) -> anyhow::Result<App> {
    data.require_identity()?;
    Ok(App::open(data.root(), options)?)
}

/// The door a running command holds: the app, or a pub's (no identity).
pub enum Door {
    /// A data directory with an identity (both boxed: they are large and unequal).
    App(Box<App>),
    /// A pub: replicates, signs nothing.
    Pub(Box<Pub>),
}

impl Door {
    /// Opens `data` as an app if it holds an identity, else as a pub.
    pub fn open(data: &DataDir, options: AppOptions) -> anyhow::Result<Door> {
        data.require()?;
        Ok(if data.has_identity() {
            Door::App(Box::new(App::open(data.root(), options)?))
        } else {
            Door::Pub(Box::new(Pub::open(data.root(), options)?))
        })
    }

    /// My feed, if this is an app.
    pub fn fid(&self) -> Option<FeedId> {
        match self {
            Door::App(a) => Some(*a.fid()),
            Door::Pub(_) => None,
        }
    }

    /// The saved invites' relays and the paired dongle.
    pub fn start(&self) -> anyhow::Result<Started> {
        Ok(match self {
            Door::App(a) => a.start()?,
            Door::Pub(p) => p.start()?,
        })
    }

    /// Accepts WebSocket peers on `addr`; returns the bound address.
    pub fn listen_ws(&self, addr: &str) -> anyhow::Result<String> {
        Ok(match self {
            Door::App(a) => a.listen_ws(addr)?.peer().to_owned(),
            Door::Pub(p) => p.listen_ws(addr)?,
        })
    }

    /// Dials a WebSocket peer.
    pub fn dial_ws(&self, url: &str) -> anyhow::Result<()> {
        match self {
            Door::App(a) => {
                a.dial_ws(url)?;
            }
            Door::Pub(p) => p.dial_ws(url)?,
        }
        Ok(())
    }

    /// Joins the UDP multicast group; returns `group:port`.
    pub fn udp(&self, cfg: UdpConfig) -> anyhow::Result<String> {
        Ok(match self {
            Door::App(a) => a.udp_multicast(cfg)?.peer().to_owned(),
            Door::Pub(p) => p.udp_multicast(cfg)?,
        })
    }

    /// The feeds held here.
    pub fn feed_log(&self) -> anyhow::Result<FeedLog> {
        Ok(match self {
            Door::App(a) => a.feed_log()?,
            Door::Pub(p) => p.feed_log()?,
        })
    }

    /// Starts watching a run's events: before links come up, so that none is missed.
    pub fn watch(&self) -> anyhow::Result<Watch<'_>> {
        Ok(match self {
            Door::App(a) => a.watch()?,
            Door::Pub(p) => p.watch()?,
        })
    }

    /// Runs what `watch` watches until `until`, printing events.
    pub fn run(&self, watch: Watch<'_>, until: RunUntil, json: bool) -> anyhow::Result<RunReport> {
        run_watch(watch, until, json, self.fid())
    }

    /// Stops the node and its links, syncing the store.
    pub fn stop(self) {
        match self {
            Door::App(a) => (*a).stop(),
            Door::Pub(p) => (*p).stop(),
        }
    }
}

/// Runs what `watch` watches until `until`, printing events (`me`: the own feed, if any).
pub fn run_watch(
    watch: Watch<'_>,
    until: RunUntil,
    json: bool,
    me: Option<FeedId>,
) -> anyhow::Result<RunReport> {
    let mut tell = |e: &AppEvent| print_event(e, json, me.as_ref());
    Ok(watch.run(until, &mut tell)?)
}

/// Prints a line; a closed stdout (the reader went away) does not stop the node. The human
/// form may hold what peers said (reasons, aliases, addresses): it is printed made safe.
pub fn say(json: bool, j: &serde_json::Value, text: &str) {
    let _ = if json {
        outln!("{j}")
    } else {
        outln!("{}", lichen::text::safe(text))
    };
}

/// Tells what `start` brought up (the saved invites met again).
pub fn say_started(started: &Started, json: bool) {
    if started.relays > 0 {
        let n = started.relays;
        say(
            json,
            &serde_json::json!({"event": "relays", "invites": n}),
            &format!("meeting {n} saved invite(s) through their relays"),
        );
    }
}

/// Prints one event of a run.
pub fn print_event(e: &AppEvent, json: bool, me: Option<&FeedId>) {
    let (j, text) = match e {
        AppEvent::LinkUp { face, kind, peer } => (
            serde_json::json!({"event": "link_up", "face": face, "kind": kind, "peer": peer}),
            format!("link up: {kind} {peer}"),
        ),
        AppEvent::LinkDown { face, reason } => (
            serde_json::json!({"event": "link_down", "face": face, "reason": reason}),
            format!("link down: {reason}"),
        ),
        AppEvent::Relay { url, status } => relay_status(url, status),
        AppEvent::FeedAdded { fid } => (
            serde_json::json!({"event": "feed_added", "fid": fid.to_hex()}),
            format!("new feed {}", fid.short_display()),
        ),
        AppEvent::GosetFull { refused } => (
            serde_json::json!({"event": "goset_full", "refused": refused.to_hex()}),
            format!(
                "GOset full (100 feeds): {} not replicated",
                refused.short_display()
            ),
        ),
        AppEvent::AirtimeSpent {
            face,
            resumes_at_ms,
        } => (
            serde_json::json!({"event": "airtime_spent", "face": face, "resumes_at_ms": resumes_at_ms}),
            "LoRa duty cycle spent: the radio is silent until the budget recovers".to_string(),
        ),
        AppEvent::AirtimeResumed { face } => (
            serde_json::json!({"event": "airtime_resumed", "face": face}),
            "LoRa duty cycle: sending again".to_string(),
        ),
        AppEvent::ForkDetected { fid, seq, face } => (
            serde_json::json!({"event": "fork_detected", "fid": fid.to_hex(), "seq": seq, "face": face}),
            format!(
                "FORK: another device signed a different entry {seq} of your feed {}; its \
                 branch is refused. Use one device per identity.",
                fid.short_display()
            ),
        ),
        AppEvent::OwnFeedElsewhere {
            held_by_peer,
            signed_here,
        } => (
            serde_json::json!({"event": "own_feed_elsewhere", "held_by_peer": held_by_peer, "signed_here": signed_here}),
            format!(
                "a peer claims {held_by_peer} entries of your feed; this device signed \
                 {signed_here}: is another device using your identity?"
            ),
        ),
        AppEvent::KeyRecovered { held } => (
            serde_json::json!({"event": "key_recovered", "held": held,
                "fid": me.map(FeedId::to_hex)}),
            format!("your feed is recovered ({held} entries): posting works now"),
        ),
        AppEvent::Dongle(d) => super::dongle::event(d),
        // What chats, entries and the door's warnings say is not a run's to print: the
        // report sums up the entries.
        AppEvent::Chat(_) | AppEvent::Progress { .. } | AppEvent::Warning(_) => return,
    };
    say(json, &j, &text);
}

/// How a relay link's progress is printed.
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

/// Stops `door`, prints the run's summary, and says the verdict: with `until_synced`, a run
/// that ended without agreeing with a peer, or with a feed behind what a peer showed, says
/// what is behind and exits [`crate::NOT_SYNCED`].
pub fn finish(
    door: Door,
    report: &RunReport,
    json: bool,
    until_synced: bool,
) -> anyhow::Result<ExitCode> {
    door.stop();
    // A closed stdout must not hide the verdict: the exit code still says it.
    if let Err(e) = print_summary(report, json) {
        if !crate::out::is_closed(&e) {
            return Err(e);
        }
    }
    if until_synced {
        if let Some(why) = &report.not_synced {
            errln!("not synced: {why}");
            return Ok(ExitCode::from(crate::NOT_SYNCED));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &RunReport, json: bool) -> anyhow::Result<()> {
    if json {
        let feeds: Vec<serde_json::Value> = r
            .feeds
            .iter()
            .map(|p| {
                serde_json::json!({
                    "fid": p.fid.to_hex(), "held": p.held, "peer_max": p.peer_max,
                    "open_chains": p.open_chains,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "event": "synced",
                "entries_received": r.entries_received,
                "chunks_received": r.chunks_received,
                "packets_in": r.packets_in,
                "packets_out": r.packets_out,
                "idle_ms": r.idle.as_millis() as u64,
                "goset_agreed_for_ms": r.goset_agreed_for.map(|d| d.as_millis() as u64),
                "dropped": r.dropped,
                "feeds": feeds,
            })
        )?;
    } else {
        outln!(
            "synced: {} entries and {} chunks received; {} packets in, {} out",
            r.entries_received,
            r.chunks_received,
            r.packets_in,
            r.packets_out
        )?;
        for p in &r.feeds {
            outln!(
                "  {}  held {:>6}  peers hold {:>6}  open side chains {}",
                p.fid.short_display(),
                p.held,
                p.peer_max,
                p.open_chains
            )?;
        }
    }
    Ok(())
}

/// The text of `post` and `send`: refused if empty or only whitespace (before anything is
/// opened, so nothing is published).
pub fn text_to_send(text: &str) -> anyhow::Result<&str> {
    if text.trim().is_empty() {
        anyhow::bail!("nothing to send: the text is empty");
    }
    Ok(text)
}
