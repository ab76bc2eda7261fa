//! `lichen dongle-emu`: an emulated tinySSB LoRa dongle (ESP32 firmware behaviour) with its
//! BLE side on a local socket and its LoRa side over UDP to other emulators.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use lichen::emu::radio::{Radio, UdpRadio};
use lichen::emu::{EmuConfig, Emulator};
use lichen::lora::Plan;
use lichen::AppEvent;

/// Options of `lichen dongle-emu`.
#[derive(Debug, clap::Args)]
pub struct EmuArgs {
    /// Where the BLE side listens (TCP).
    #[arg(long, default_value = "127.0.0.1:0")]
    ble: String,
    /// Advertised name (default `tinySSB-` and four hex digits of the seed).
    #[arg(long)]
    name: Option<String>,
    /// The dongle's ATT MTU, 23 to 517 as in BLE (the firmware uses 128; below 123 a packet
    /// does not fit).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u16).range(23..=517))]
    mtu: u16,
    /// Serve no tinySSB GATT service (emulates a device with other firmware).
    #[arg(long)]
    without_service: bool,
    /// Signal strength centrals see, dBm.
    #[arg(long, default_value_t = -60, allow_hyphen_values = true)]
    rssi: i8,
    /// The LoRa radio: bind this UDP address.
    #[arg(long)]
    lora_udp: Option<String>,
    /// Other emulators' LoRa UDP addresses.
    #[arg(long, requires = "lora_udp")]
    lora_peer: Vec<SocketAddr>,
    /// Probability that a received LoRa frame is lost.
    #[arg(long, default_value = "0", value_parser = crate::args::probability)]
    loss: f64,
    /// Radio plan (airtime), e.g. US915.a, EU868.a.
    #[arg(long, default_value = "US915.a")]
    plan: String,
    /// Seed of the engine, the scheduler and the loss.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many seconds.
    #[arg(long, value_parser = crate::args::seconds)]
    timeout: Option<Duration>,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
}

/// `lichen dongle-emu`.
pub fn run(args: &EmuArgs) -> anyhow::Result<ExitCode> {
    let plan: Plan = args
        .plan
        .parse()
        .map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
    let mut cfg = EmuConfig::new(args.seed);
    if let Some(n) = &args.name {
        cfg.name = n.clone();
    }
    cfg.ble_listen = args.ble.clone();
    cfg.mtu = args.mtu;
    cfg.with_service = !args.without_service;
    cfg.rssi = args.rssi;
    let (radio, lora) = match &args.lora_udp {
        Some(bind) => {
            let r = UdpRadio::bind(bind, args.lora_peer.clone(), plan, args.loss, args.seed)
                .with_context(|| format!("opening the LoRa UDP socket on {bind}"))?;
            let addr = r.local_addr()?.to_string();
            (Radio::Udp(r), Some(addr))
        }
        None => (Radio::Off, None),
    };
    let emu = Emulator::start(cfg, radio).context("starting the emulator")?;
    let ble = emu.ble_addr().to_string();
    if args.json {
        outln!(
            "{}",
            serde_json::json!({"event": "listening", "ble": ble, "name": emu.name(), "lora": lora})
        )?;
    } else {
        outln!(
            "{} listening for centrals on {ble}{}",
            emu.name(),
            lora.as_ref()
                .map_or(String::new(), |l| format!(", LoRa over UDP on {l}"))
        )?;
    }
    let mut events = emu.node().subscribe();
    let deadline = crate::args::deadline(args.timeout);
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        match emu
            .node()
            .next_event(&mut events, Duration::from_millis(200))
            .and_then(AppEvent::from_node)
        {
            Some(AppEvent::LinkUp { kind, peer, .. }) if kind == "ble" => {
                say(
                    args.json,
                    serde_json::json!({"event": "central_connected", "peer": peer}),
                    &format!("{peer} connected"),
                );
            }
            Some(AppEvent::LinkDown { reason, .. }) => {
                say(
                    args.json,
                    serde_json::json!({"event": "link_down", "reason": reason}),
                    &format!("link down: {reason}"),
                );
            }
            _ => {}
        }
    }
    emu.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// Prints a line; a closed stdout does not stop the emulator.
fn say(json: bool, j: serde_json::Value, text: &str) {
    let _ = if json {
        outln!("{j}")
    } else {
        outln!("{}", lichen::text::safe(text))
    };
}
