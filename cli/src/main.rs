//! `lichen`: the command-line face of the Lichen core.
//!
//! Every command is scriptable: `--json` output is one JSON object per line with stable keys,
//! errors go to stderr, and the exit code says what happened (0 ok, also when the reader of
//! stdout went away; 1 error or invalid input; 2 usage, bad numbers included; 3 `inspect`
//! could not decide without more state; 4 [`NOT_SYNCED`]). All output goes through
//! [`out`]; every number a person types is parsed by [`args`].

#[macro_use]
mod out;

mod args;
mod beacon_cmd;
mod chat_cmds;
mod data;
mod dongle_cmds;
mod dongle_emu_cmd;
mod export_cmds;
mod feed_cmds;
mod id_cmds;
mod inspect_cmd;
mod invite_cmds;
mod node_cmds;
mod qr;
mod relay_cmd;
mod tui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code of `--until-synced` runs that ended without being synced (a timeout before any
/// peer agreed, or a feed still behind what a peer showed).
pub const NOT_SYNCED: u8 = 4;

/// Offline group chat over tinySSB.
#[derive(Debug, Parser)]
#[command(name = "lichen", version, about)]
struct Cli {
    /// The node's data directory (identity and feed store).
    #[arg(long, global = true, env = "LICHEN_DATA")]
    data: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new identity in the data directory, or import one.
    Init(id_cmds::InitArgs),
    /// Show this node's identity in all its text forms.
    Id(id_cmds::IdArgs),
    /// Append a public chat post (TAV, channel "ALL") to the own feed.
    Post(feed_cmds::PostArgs),
    /// Send a chat message: private to `--to` (several make a group), else public ("ALL").
    Send(chat_cmds::SendArgs),
    /// Chat in the terminal: chat list with unread counts, conversations with delivery
    /// marks, contacts, and a node running behind it.
    Chat(tui::ChatArgs),
    /// List chats by last activity, with unread counts.
    Chats(chat_cmds::ChatsArgs),
    /// Show messages of a chat (or of all chats, and entries that are not chat messages).
    Messages(chat_cmds::MessagesArgs),
    /// List contacts, or add or remove one.
    Contacts(chat_cmds::ContactsArgs),
    /// Mark a chat read (sends read receipts in one-to-one chats).
    Read(chat_cmds::ReadArgs),
    /// List the entries of the own feed (or of `--feed`).
    Log(feed_cmds::LogArgs),
    /// List the feeds this node holds, with their frontiers.
    Feeds(node_cmds::FeedsArgs),
    /// Run a node: accept WebSocket peers and/or join UDP multicast, until stopped.
    Serve(node_cmds::ServeArgs),
    /// Run a node connected to a WebSocket peer.
    Connect(node_cmds::ConnectArgs),
    /// Make an invite (a beacon naming a relay and you) and print it with a QR code.
    Invite(invite_cmds::InviteArgs),
    /// Accept an invite: replicate the inviter's feed, meeting through the invite's relay.
    Accept(invite_cmds::AcceptArgs),
    /// Look inside Moneysocket beacons.
    Beacon(beacon_cmd::BeaconArgs),
    /// Run a Moneysocket rendezvous relay (pairs two nodes by beacon id, forwards their frames).
    Relay(relay_cmd::RelayArgs),
    /// Say what a packet (hex) is, or precisely why it is invalid.
    Inspect(inspect_cmd::InspectArgs),
    /// Write the feed store in the tinySSB reference layout (Android app / Python pub).
    Export(export_cmds::ExportArgs),
    /// Read feeds in the tinySSB reference layout into the store, verifying everything.
    Import(export_cmds::ImportArgs),
    /// Pair with a tinySSB LoRa dongle over Bluetooth LE: scan, pair, status, unpair.
    Dongle(dongle_cmds::DongleArgs),
    /// Run an emulated tinySSB LoRa dongle (BLE side on a local socket, LoRa over UDP).
    DongleEmu(dongle_emu_cmd::EmuArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LICHEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let data = data::DataDir::new(cli.data);
    let result = match &cli.command {
        Command::Init(a) => id_cmds::init(&data, a),
        Command::Id(a) => id_cmds::id(&data, a),
        Command::Post(a) => feed_cmds::post(&data, a),
        Command::Send(a) => chat_cmds::send(&data, a),
        Command::Chat(a) => tui::run(&data, a),
        Command::Chats(a) => chat_cmds::list(&data, a),
        Command::Messages(a) => chat_cmds::messages(&data, a),
        Command::Contacts(a) => chat_cmds::contacts(&data, a),
        Command::Read(a) => chat_cmds::read(&data, a),
        Command::Log(a) => feed_cmds::log(&data, a),
        Command::Feeds(a) => node_cmds::feeds(&data, a),
        Command::Serve(a) => node_cmds::serve(&data, a),
        Command::Connect(a) => node_cmds::connect(&data, a),
        Command::Invite(a) => invite_cmds::invite(&data, a),
        Command::Accept(a) => invite_cmds::accept(&data, a),
        Command::Beacon(a) => beacon_cmd::run(a),
        Command::Relay(a) => relay_cmd::run(a),
        Command::Inspect(a) => inspect_cmd::inspect(&data, a),
        Command::Export(a) => export_cmds::export(&data, a),
        Command::Import(a) => export_cmds::import(&data, a),
        Command::Dongle(a) => dongle_cmds::dongle(&data, a),
        Command::DongleEmu(a) => dongle_emu_cmd::run(a),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`lichen log | head -1`): what it wanted, it has.
        Err(e) if out::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors can quote what a peer or a file said: no terminal controls, and continuation
            // lines indented so that none can pass for a line of ours.
            let text = format!("{e:#}");
            let lines: Vec<_> = text.lines().map(lichen::text::safe).collect();
            errln!("error: {}", lines.join("\n  "));
            ExitCode::FAILURE
        }
    }
}
