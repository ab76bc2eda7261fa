//! `lichen dongle scan|pair|status|unpair`: pairing through the library's pairing API
//! ([`Dongles`], the one the bindings use); the paired dongle's link itself is the front
//! door's, resumed by `lichen serve` (`App::start`). `status` reads the pairing and the status
//! record only, so it works while a node runs the link.
//!
//! Without `--emu` the commands use the platform's Bluetooth (btleplug); with `--emu ADDR`
//! (or `LICHEN_DONGLE_EMU`) they talk to `lichen dongle-emu` over its local socket, the same
//! way, so tests and demos run without a radio.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use lichen::ble::emu_client::EmuCentral;
use lichen::ble::link::Central;
use lichen::ble::pairing::Dongles;
use lichen::ble::status::{unix_ms, DongleEvent, LinkPhase};
use lichen::ble::BleError;

use crate::data::DataDir;

/// A status record older than this means no node is running the link.
const LIVE: u64 = 15_000;

/// Options of `lichen dongle`.
#[derive(Debug, clap::Args)]
pub struct DongleArgs {
    /// Talk to dongle emulators at these socket addresses (comma-separated) instead of
    /// Bluetooth.
    #[arg(long, global = true, env = "LICHEN_DONGLE_EMU", value_parser = crate::args::socket_addrs)]
    emu: Option<String>,
    /// One JSON object per line.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: DongleCmd,
}

#[derive(Debug, clap::Subcommand)]
enum DongleCmd {
    /// List tinySSB dongles in range: name, signal strength, whether paired before.
    Scan {
        /// How long to scan, seconds.
        #[arg(long, default_value = "5", value_parser = crate::args::seconds)]
        secs: Duration,
    },
    /// Pair with a dongle (its name or id from `scan`): checks it, then remembers it.
    Pair {
        /// `tinySSB-xxxx` or the id `scan` printed.
        dongle: String,
        /// How long to scan for it, seconds.
        #[arg(long, default_value = "5", value_parser = crate::args::seconds)]
        secs: Duration,
    },
    /// Show the paired dongle, its link and whether its feeds match ours.
    Status,
    /// Forget the paired dongle (a running node stops reconnecting to it).
    Unpair,
}

fn central(emu: Option<&str>) -> Result<Arc<dyn Central>, BleError> {
    if let Some(addrs) = emu {
        return Ok(Arc::new(EmuCentral::new(addrs)));
    }
    bluetooth()
}

#[cfg(feature = "ble")]
fn bluetooth() -> Result<Arc<dyn Central>, BleError> {
    Ok(Arc::new(lichen::ble::btle::BtleCentral::new()))
}

#[cfg(not(feature = "ble"))]
fn bluetooth() -> Result<Arc<dyn Central>, BleError> {
    Err(BleError::Unsupported)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?)
}

/// Prints a line; the human form (dongle names, errors from a radio) is printed made safe.
fn say(json: bool, j: serde_json::Value, text: &str) -> anyhow::Result<()> {
    if json {
        outln!("{j}")
    } else {
        outln!("{}", lichen::text::safe(text))
    }
}

/// `lichen dongle …`.
pub fn run(data: &DataDir, args: &DongleArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    if !matches!(args.cmd, DongleCmd::Scan { .. }) {
        // Pairing state lives in the data directory: never create one by mistake.
        data.require()?;
    }
    let rt = runtime()?;
    let dongles = || -> Result<Dongles, BleError> {
        Ok(Dongles::new(central(args.emu.as_deref())?, data.root()))
    };
    match &args.cmd {
        DongleCmd::Scan { secs } => {
            let d = dongles()?;
            let found = rt.block_on(d.scan((*secs).max(Duration::from_millis(100))))?;
            if found.is_empty() && !json {
                outln!("no tinySSB dongle found: is it switched on and within range?")?;
            }
            for f in found {
                let rssi = f.rssi.map_or("? dBm".into(), |r| format!("{r} dBm"));
                let mark = if f.paired {
                    "paired"
                } else if f.paired_before {
                    "paired before"
                } else {
                    ""
                };
                say(
                    json,
                    serde_json::json!({"id": f.id, "name": f.name, "rssi": f.rssi,
                        "paired": f.paired, "paired_before": f.paired_before}),
                    &format!("{:<14} {:>8}  {:<13} {}", f.name, rssi, mark, f.id),
                )?;
            }
        }
        DongleCmd::Pair { dongle, secs } => {
            let d = dongles()?;
            let p = rt.block_on(d.pair(dongle, (*secs).max(Duration::from_millis(100))))?;
            say(
                json,
                serde_json::json!({"event": "paired", "id": p.id, "name": p.name,
                    "transport": p.transport}),
                &format!(
                    "paired with {} ({}); `lichen serve` connects to it and reconnects whenever \
                     the link drops",
                    p.name, p.id
                ),
            )?;
        }
        DongleCmd::Status => {
            let st = Dongles::new(Arc::new(EmuCentral::new("")), data.root()).status()?;
            let link = st
                .link
                .filter(|l| unix_ms().saturating_sub(l.updated_unix_ms) < LIVE);
            let p = &st.paired;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"paired": p, "live": link.is_some(), "link": link})
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            outln!(
                "paired with {} ({}) over {}",
                lichen::text::safe(&p.name),
                lichen::text::safe(&p.id),
                p.transport
            )?;
            let Some(l) = link else {
                outln!("link: no node is running it (start `lichen serve` to connect)")?;
                return Ok(ExitCode::SUCCESS);
            };
            let h = &l.health;
            let phase = match l.phase {
                LinkPhase::Connected => "connected".to_string(),
                LinkPhase::Connecting => "connecting".to_string(),
                LinkPhase::Waiting => format!(
                    "disconnected, next attempt in {:.0} s",
                    l.next_attempt_unix_ms
                        .map_or(0, |t| t.saturating_sub(unix_ms())) as f64
                        / 1000.0
                ),
                LinkPhase::Stopped => "stopped".to_string(),
            };
            outln!("link: {phase}")?;
            if let Some(e) = &l.last_error {
                outln!("last error: {}", lichen::text::safe(e))?;
            }
            outln!(
                "  MTU {}, signal {}, last packet {}, {} packets in, {} out, {} write errors, \
                 {} bad frames skipped, connected {} times",
                h.mtu.map_or("?".into(), |m| m.to_string()),
                h.rssi.map_or("?".into(), |r| format!("{r} dBm")),
                h.last_packet_unix_ms.map_or("never".into(), |t| format!(
                    "{:.0} s ago",
                    unix_ms().saturating_sub(t) as f64 / 1000.0
                )),
                h.packets_in,
                h.packets_out,
                h.write_errors,
                h.bad_frames,
                h.connects
            )?;
            outln!("feeds: {}", l.sync.describe())?;
        }
        DongleCmd::Unpair => {
            let p = Dongles::new(Arc::new(EmuCentral::new("")), data.root()).unpair()?;
            say(
                json,
                serde_json::json!({"event": "unpaired", "id": p.id, "name": p.name}),
                &format!(
                    "unpaired {}; a running node stops reconnecting to it",
                    p.name
                ),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A dongle event as a JSON object and a line of text.
pub fn event(e: &DongleEvent) -> (serde_json::Value, String) {
    match e {
        DongleEvent::Connected {
            id,
            name,
            face,
            mtu,
        } => (
            serde_json::json!({"event": "dongle_connected", "id": id, "name": name,
                "face": face.0, "mtu": mtu}),
            format!("dongle {name} connected (MTU {mtu})"),
        ),
        DongleEvent::Disconnected {
            id,
            reason,
            retry_in_ms,
        } => (
            serde_json::json!({"event": "dongle_disconnected", "id": id, "reason": reason,
                "retry_in_ms": retry_in_ms}),
            format!(
                "dongle disconnected ({reason}); reconnecting in {:.1} s",
                *retry_in_ms as f64 / 1000.0
            ),
        ),
        DongleEvent::ConnectFailed {
            id,
            error,
            retry_in_ms,
        } => (
            serde_json::json!({"event": "dongle_connect_failed", "id": id,
                "error": error.to_string(), "retry_in_ms": retry_in_ms}),
            format!(
                "dongle not reachable: {error} Retrying in {:.1} s.",
                *retry_in_ms as f64 / 1000.0
            ),
        ),
        DongleEvent::Health { id, health } => (
            serde_json::json!({"event": "dongle_health", "id": id, "health": health}),
            format!(
                "dongle: {} in, {} out, {} write errors, signal {}",
                health.packets_in,
                health.packets_out,
                health.write_errors,
                health.rssi.map_or("?".into(), |r| format!("{r} dBm"))
            ),
        ),
        DongleEvent::Sync { id, state } => (
            serde_json::json!({"event": "dongle_sync", "id": id, "sync": state,
                "text": state.describe()}),
            format!("dongle feeds: {}", state.describe()),
        ),
        DongleEvent::Stopped { id, reason } => (
            serde_json::json!({"event": "dongle_stopped", "id": id, "reason": reason}),
            format!("dongle link stopped: {reason}"),
        ),
    }
}
