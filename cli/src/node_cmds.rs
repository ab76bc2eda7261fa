//! `serve`, `connect` and `feeds`: running a node and looking at what it holds.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lichen::chat::{Chats, ChatsConfig};
use lichen::face::udp::UdpConfig;
use lichen::node::{LinkStatus, Node, NodeConfig, NodeEvent, Snapshot};
use lichen::store::Store;
use lichen::sync::Event;

use crate::data::DataDir;
use crate::invite_cmds::{self, RelayLinkArgs};

/// Options of `lichen serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Accept WebSocket peers on this address (e.g. 127.0.0.1:8989).
    #[arg(long)]
    ws: Option<String>,
    /// Join the Wi-Fi UDP multicast group 239.5.5.8:1558.
    #[arg(long)]
    udp: bool,
    /// Local interface address for UDP multicast.
    #[arg(long, requires = "udp")]
    udp_if: Option<std::net::Ipv4Addr>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_parser = crate::args::seconds)]
    timeout: Option<Duration>,
    /// Stop once a peer's GOset matches ours and no new data moved for 2 seconds.
    #[arg(long)]
    until_synced: bool,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    /// Relay links of saved invites (`lichen invite`, `lichen accept`).
    #[command(flatten)]
    relay: RelayLinkArgs,
}

/// Options of `lichen connect`.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// The peer, e.g. ws://127.0.0.1:8989.
    url: String,
    /// Stop once the peer's GOset matches ours and no new data moved for 2 seconds (peers
    /// only replicate once their GOsets agree; a Python pub takes up to 15 s for that).
    #[arg(long)]
    until_synced: bool,
    /// Stop after this many seconds.
    #[arg(long, value_parser = crate::args::seconds)]
    timeout: Option<Duration>,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
}

/// Options of `lichen feeds`.
#[derive(Debug, clap::Args)]
pub struct FeedsArgs {
    /// One JSON object per feed: `fid`, `ref`, `short`, `seq` (frontier), `mid`, `open_chains`,
    /// `member` (in the GOset).
    #[arg(long)]
    json: bool,
}

/// How long without traffic counts as synced.
const QUIET: Duration = Duration::from_secs(2);

/// Starts a node; with an identity, the chat service runs on it (indexing what arrives,
/// sending receipts, following the delivery of own messages) until the node stops.
pub(crate) fn start(data: &DataDir) -> anyhow::Result<(Node, Option<Chats>)> {
    let store: Arc<dyn Store> = Arc::new(data.store()?);
    let node = Node::start(store.clone(), NodeConfig::default()).context("starting the node")?;
    let mut chats = None;
    if data.has_identity() {
        let me = data.identity()?;
        node.add_feed(*me.fid())?;
        let c = Chats::open(
            &data.root().join("chats"),
            store,
            me,
            ChatsConfig::default(),
        )
        .context("opening the chat index")?;
        c.attach(&node)?;
        chats = Some(c);
    }
    Ok((node, chats))
}

/// `lichen serve`.
pub fn serve(data: &DataDir, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let (node, _chats) = start(data)?;
    // The paired dongle, if any: connected now, reconnected whenever its link drops.
    let _dongle = crate::dongle_cmds::attach(&node, data)?;
    if let Some(addr) = &args.ws {
        let bound = node.listen_ws(addr)?;
        say(
            args.json,
            &serde_json::json!({"event": "listening", "ws": bound.to_string()}),
            &format!("listening on ws://{bound}"),
        );
    }
    if args.udp {
        let mut cfg = UdpConfig::default();
        if let Some(i) = args.udp_if {
            cfg.interface = i;
        }
        node.udp_multicast(cfg.clone())?;
        say(
            args.json,
            &serde_json::json!({"event": "udp", "group": format!("{}:{}", cfg.group, cfg.port)}),
            &format!("joined {}:{}", cfg.group, cfg.port),
        );
    }
    let relays = invite_cmds::connect_saved(data, &node, &args.relay)?;
    if relays > 0 {
        say(
            args.json,
            &serde_json::json!({"event": "relays", "invites": relays}),
            &format!("meeting {relays} saved invite(s) through their relays"),
        );
    }
    let deadline = crate::args::deadline(args.timeout);
    let until_synced = args.until_synced;
    run_until(&node, args.json, |snap, _| {
        deadline.is_some_and(|d| Instant::now() >= d) || (until_synced && synced(snap))
    })?;
    finish(node, args.json, args.until_synced)
}

/// `lichen connect`.
pub fn connect(data: &DataDir, args: &ConnectArgs) -> anyhow::Result<ExitCode> {
    let (node, _chats) = start(data)?;
    node.connect_ws(&args.url)?;
    let deadline = crate::args::deadline(args.timeout);
    let until_synced = args.until_synced;
    run_until(&node, args.json, |snap, elapsed| {
        deadline.is_some_and(|d| Instant::now() >= d)
            || (until_synced && synced(snap))
            || (until_synced && snap.links.is_empty() && elapsed > Duration::from_millis(500))
    })?;
    finish(node, args.json, args.until_synced)
}

/// Synced: a peer's GOset matched ours more than QUIET ago, nothing new moved for QUIET, no
/// side chain is open, and no peer showed more than we hold.
pub(crate) fn synced(snap: &Snapshot) -> bool {
    snap.goset_agreed.is_some_and(|d| d > QUIET)
        && snap.idle > QUIET
        && snap
            .progress
            .iter()
            .all(|p| p.open_chains == 0 && p.held >= p.peer_claimed)
}

/// Prints a line; a closed stdout (the reader went away) does not stop the node. The human
/// form may hold what peers said (reasons, aliases, addresses): it is printed made safe.
pub(crate) fn say(json: bool, j: &serde_json::Value, text: &str) {
    let _ = if json {
        outln!("{j}")
    } else {
        outln!("{}", lichen::text::safe(text))
    };
}

/// Prints events until `stop(snapshot, elapsed)` says so, or Ctrl-C.
pub(crate) fn run_until(
    node: &Node,
    json: bool,
    mut stop: impl FnMut(&Snapshot, Duration) -> bool,
) -> anyhow::Result<()> {
    let mut events = node.subscribe();
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        node.handle().spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
    }
    let started = Instant::now();
    let mut last_check = Instant::now();
    loop {
        if let Some(e) = node.next_event(&mut events, Duration::from_millis(100)) {
            print_event(&e, json);
        }
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        if last_check.elapsed() >= Duration::from_millis(100) {
            last_check = Instant::now();
            let snap = node.snapshot()?;
            if stop(&snap, started.elapsed()) {
                return Ok(());
            }
        }
    }
}

fn print_event(e: &NodeEvent, json: bool) {
    let (j, text) = match e {
        NodeEvent::Link {
            face: Some(face),
            kind,
            peer,
            status: LinkStatus::Up,
        } => (
            serde_json::json!({"event": "link_up", "face": face.0, "kind": kind, "peer": peer}),
            format!("link up: {kind} {peer}"),
        ),
        NodeEvent::Link {
            face: Some(face),
            status: LinkStatus::Down { reason },
            ..
        } => (
            serde_json::json!({"event": "link_down", "face": face.0, "reason": reason}),
            format!("link down: {reason}"),
        ),
        NodeEvent::Link { .. } => {
            if let Some(r) = lichen::face::relay::RelayReport::of(e) {
                invite_cmds::relay_status(&r.url, &r.status)
            } else if let Some(d) = lichen::ble::status::DongleEvent::of(e) {
                crate::dongle_cmds::event(d)
            } else {
                return;
            }
        }
        NodeEvent::Sync(Event::FeedAdded { fid }) => (
            serde_json::json!({"event": "feed_added", "fid": fid.to_hex()}),
            format!("new feed {}", fid.short_display()),
        ),
        NodeEvent::Sync(Event::GosetFull { refused }) => (
            serde_json::json!({"event": "goset_full", "refused": refused.to_hex()}),
            format!(
                "GOset full (100 feeds): {} not replicated",
                refused.short_display()
            ),
        ),
        NodeEvent::Sync(Event::AirtimeSpent { face, resumes_at }) => (
            serde_json::json!({"event": "airtime_spent", "face": face.0, "resumes_at_ms": resumes_at}),
            "LoRa duty cycle spent: the radio is silent until the budget recovers".to_string(),
        ),
        NodeEvent::Sync(Event::AirtimeResumed { face }) => (
            serde_json::json!({"event": "airtime_resumed", "face": face.0}),
            "LoRa duty cycle: sending again".to_string(),
        ),
        NodeEvent::Sync(Event::ForkDetected { fid, seq, face, .. }) => (
            serde_json::json!({"event": "fork_detected", "fid": fid.to_hex(), "seq": seq, "face": face.0}),
            format!("FORK: another device signed a different entry {seq} of your feed {}; its branch is refused. Use one device per identity.", fid.short_display()),
        ),
        NodeEvent::Sync(Event::OwnFeedElsewhere { held_by_peer, signed_here, .. }) => (
            serde_json::json!({"event": "own_feed_elsewhere", "held_by_peer": held_by_peer, "signed_here": signed_here}),
            format!("a peer claims {held_by_peer} entries of your feed; this device signed {signed_here}: is another device using your identity?"),
        ),
        // Entries and chunks are summarised at the end, not printed one by one.
        NodeEvent::Sync(_) => return,
    };
    say(json, &j, &text);
}

/// Prints what was synced and stops the node. With `until_synced`, a run that ended without
/// agreeing with a peer, or with a feed behind what a peer showed, says what is behind and
/// exits [`crate::NOT_SYNCED`], so scripts can tell.
pub(crate) fn finish(node: Node, json: bool, until_synced: bool) -> anyhow::Result<ExitCode> {
    let snap = node.snapshot()?;
    node.shutdown(Duration::from_secs(3));
    // A closed stdout must not hide the verdict: the exit code still says it.
    if let Err(e) = print_summary(&snap, json) {
        if !crate::out::is_closed(&e) {
            return Err(e);
        }
    }
    if until_synced {
        if let Some(why) = not_synced(&snap) {
            errln!("not synced: {why}");
            return Ok(ExitCode::from(crate::NOT_SYNCED));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Why a run that should have ended synced did not, if it did not.
pub(crate) fn not_synced(snap: &Snapshot) -> Option<String> {
    if snap.goset_agreed.is_none() {
        return Some("no peer's feed set matched ours before the timeout".into());
    }
    let behind: Vec<String> = snap
        .progress
        .iter()
        .filter(|p| p.held < p.peer_claimed || p.open_chains > 0)
        .map(|p| {
            let mut s = format!("{} held {}", p.fid.short_display(), p.held);
            if p.held < p.peer_claimed {
                s.push_str(&format!(" < peer {}", p.peer_claimed));
            }
            if p.open_chains > 0 {
                s.push_str(&format!(", {} side chain(s) incomplete", p.open_chains));
            }
            s
        })
        .collect();
    (!behind.is_empty()).then(|| format!("behind what a peer showed: {}", behind.join("; ")))
}

fn print_summary(snap: &Snapshot, json: bool) -> anyhow::Result<()> {
    let feeds: Vec<serde_json::Value> = snap
        .progress
        .iter()
        .map(|p| {
            serde_json::json!({
                "fid": p.fid.to_hex(), "held": p.held, "peer_max": p.peer_max,
                "open_chains": p.open_chains,
            })
        })
        .collect();
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "event": "synced",
                "entries_received": snap.stats.entries,
                "chunks_received": snap.stats.chunks,
                "packets_in": snap.stats.rx,
                "packets_out": snap.stats.tx,
                "idle_ms": snap.idle.as_millis() as u64,
                "goset_agreed_for_ms": snap.goset_agreed.map(|d| d.as_millis() as u64),
                "dropped": snap.stats.dropped_bad_entry + snap.stats.dropped_malformed
                    + snap.stats.dropped_short + snap.stats.dropped_keys,
                "feeds": feeds,
            })
        )?;
    } else {
        outln!(
            "synced: {} entries and {} chunks received; {} packets in, {} out",
            snap.stats.entries,
            snap.stats.chunks,
            snap.stats.rx,
            snap.stats.tx
        )?;
        for p in &snap.progress {
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

/// `lichen feeds`.
pub fn feeds(data: &DataDir, args: &FeedsArgs) -> anyhow::Result<ExitCode> {
    let store = data.store()?;
    let members = store.members()?;
    let mut all: Vec<lichen::FeedId> = members.clone();
    for (fid, _) in store.feeds()? {
        if !all.contains(&fid) {
            all.push(fid);
        }
    }
    all.sort();
    for fid in all {
        let front = store.frontier(&fid)?;
        let open = store.open_chains(&fid)?.len();
        if args.json {
            outln!(
                "{}",
                serde_json::json!({
                    "fid": fid.to_hex(), "ref": fid.to_ref(), "short": fid.short_name(),
                    "seq": front.map_or(0, |f| f.seq),
                    "mid": front.map(|f| f.mid.to_string()),
                    "open_chains": open, "member": members.contains(&fid),
                })
            )?;
        } else {
            outln!(
                "{}  {:>6} entries  {} open side chains  {}",
                fid.short_display(),
                front.map_or(0, |f| f.seq),
                open,
                fid.to_ref()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
