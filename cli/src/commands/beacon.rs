//! `lichen beacon decode`: what any Moneysocket beacon holds, or why it is not one.
//!
//! v0 and v1, any case (the QR form is upper case): generation, HRP, generator version, role
//! hint, the seed, the rendezvous id the generation derives from it, every location (unknown
//! ones as hex), unknown records, and the Lichen invite fields when they are there. An
//! invalid beacon exits 1 with the decoder's reason (also as `{"valid": false, "error": …}`
//! with `--json`).

use std::process::ExitCode;

use lichen::invite::Invite;
use moneysocket::beacon::{v0, v1};
use moneysocket::tlv::Record;
use moneysocket::AnyBeacon;
use serde_json::{json, Value};

/// `lichen beacon …`.
#[derive(Debug, clap::Args)]
pub struct BeaconArgs {
    #[command(subcommand)]
    command: BeaconCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BeaconCommand {
    /// Show what a beacon (v0 or v1, any case) holds, or why it is invalid.
    Decode {
        /// The beacon string.
        beacon: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `lichen beacon`.
pub fn run(args: &BeaconArgs) -> anyhow::Result<ExitCode> {
    let BeaconCommand::Decode { beacon, json } = &args.command;
    let text = beacon.trim();
    let lower = moneysocket::bech32::from_qr_string(text).unwrap_or_else(|| text.to_owned());
    match AnyBeacon::decode(&lower) {
        Ok(b) => {
            let v = describe(&b);
            if *json {
                outln!("{v}")?;
            } else {
                print_text(&v)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if *json {
                outln!("{}", json!({"valid": false, "error": e.to_string()}))?;
            }
            errln!("error: not a valid beacon: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn records(list: &[Record]) -> Vec<Value> {
    list.iter()
        .map(|r| json!({"type": r.tlv_type, "value": hex::encode(&r.value)}))
        .collect()
}

fn describe(beacon: &AnyBeacon) -> Value {
    match beacon {
        AnyBeacon::V1(b) => {
            let locations: Vec<Value> = b
                .locations
                .iter()
                .map(|l| match l {
                    v1::Location::WebSocket(w) => json!({
                        "type": "websocket", "url": w.url(), "host": w.hostname,
                        "tls": w.use_tls, "port": w.port, "path": w.path,
                        "preference": w.preference,
                    }),
                    v1::Location::Unknown { tlv_type, value } => json!({
                        "type": "unknown", "tlv_type": tlv_type, "value": hex::encode(value),
                    }),
                })
                .collect();
            let (lichen, lichen_error) = match Invite::from_beacon(b.clone()) {
                Ok(i) => (
                    json!({
                        "inviter": i.inviter().to_hex(), "inviter_ref": i.inviter().to_ref(),
                        "alias": i.alias(), "network_key": i.network_key().map(hex::encode),
                    }),
                    Value::Null,
                ),
                Err(lichen::invite::InviteError::NoInviter) => (Value::Null, Value::Null),
                Err(e) => (Value::Null, json!(e.to_string())),
            };
            json!({
                "valid": true, "version": "v1", "hrp": b.hrp,
                "generator_version": b.version.to_string(),
                "role_hint": b.role_hint.map(|r| r.name()),
                "seed": b.shared_seed.to_hex(),
                "rendezvous_id": b.shared_seed.v1_rendezvous_id().to_string(),
                "locations": locations, "unknown_tlvs": records(&b.unknown_tlvs),
                "lichen": lichen, "lichen_error": lichen_error,
            })
        }
        AnyBeacon::V0(b) => {
            let locations: Vec<Value> = b
                .locations
                .iter()
                .map(|l| match l {
                    v0::Location::WebSocket {
                        host,
                        use_tls,
                        port,
                    } => json!({
                        "type": "websocket",
                        "url": format!("{}://{host}:{port}", if *use_tls { "wss" } else { "ws" }),
                        "host": host, "tls": use_tls, "port": port, "path": "",
                    }),
                    v0::Location::WebRtc(s) => json!({"type": "webrtc", "placeholder": s}),
                    v0::Location::Bluetooth(s) => json!({"type": "bluetooth", "placeholder": s}),
                    v0::Location::Nfc(s) => json!({"type": "nfc", "placeholder": s}),
                })
                .collect();
            json!({
                "valid": true, "version": "v0", "hrp": "moneysocket",
                "generator_version": Value::Null, "role_hint": Value::Null,
                "seed": b.shared_seed.to_hex(),
                "rendezvous_id": b.shared_seed.v0_rendezvous_id().to_string(),
                "locations": locations, "unknown_tlvs": [],
                "lichen": Value::Null, "lichen_error": Value::Null,
            })
        }
    }
}

/// The human form; a beacon is a stranger's bytes, so every value goes through
/// [`lichen::text::safe`].
fn print_text(v: &Value) -> anyhow::Result<()> {
    use lichen::text::safe;
    let s = |k: &str| match &v[k] {
        Value::String(s) => safe(s).into_owned(),
        Value::Null => "none".into(),
        other => other.to_string(),
    };
    outln!("{} beacon, HRP {}", s("version"), s("hrp"))?;
    outln!("generator version  {}", s("generator_version"))?;
    outln!("role hint          {}", s("role_hint"))?;
    outln!("shared seed        {}", s("seed"))?;
    outln!("rendezvous id      {}", s("rendezvous_id"))?;
    for l in v["locations"].as_array().into_iter().flatten() {
        match l["url"].as_str() {
            Some(url) => outln!("location           {}", safe(url))?,
            None => outln!("location           {l}")?,
        }
    }
    for r in v["unknown_tlvs"].as_array().into_iter().flatten() {
        outln!("unknown record     type {} value {}", r["type"], r["value"])?;
    }
    if let Some(l) = v["lichen"].as_object() {
        outln!("Lichen invite from {}", l["inviter_ref"])?;
        if let Some(alias) = l["alias"].as_str() {
            outln!("  alias            \"{}\"", safe(alias))?;
        }
        if let Some(key) = l["network_key"].as_str() {
            outln!("  network key      {key}")?;
        }
    }
    if let Some(e) = v["lichen_error"].as_str() {
        outln!("Lichen records present but invalid: {}", safe(e))?;
    }
    Ok(())
}
