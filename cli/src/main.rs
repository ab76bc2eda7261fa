//! `lichen`: the command-line face of the Lichen core.
//!
//! Every command is scriptable: `--json` output is one JSON object per line with stable keys,
//! errors go to stderr, and the exit code says what happened (0 ok, also when the reader of
//! stdout went away; 1 error or invalid input; 2 usage, bad numbers included; 3 `inspect`
//! could not decide without more state; 4 [`NOT_SYNCED`]). All output goes through
//! [`out`]; every number a person types is parsed by [`args`]. Each user command is a file
//! in [`commands`] over the front door (`lichen::App`); this file is the command enum and
//! its dispatch.

#[macro_use]
mod out;

mod args;
mod commands;
mod data;
mod qr;
mod relay_cmd;
mod tui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::*;

/// Exit code of `--until-synced` runs that ended without being synced (a timeout before any
/// peer agreed, or a feed still behind what a peer showed).
pub const NOT_SYNCED: u8 = 4;

/// Offline group chat over tinySSB.
#[derive(Debug, Parser)]
#[command(name = "lichen", version, about)]
struct Cli {
    #[command(flatten)]
    data: common::DataArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new identity in the data directory, or import one.
    Init(init::InitArgs),
    /// Show this node's identity in all its text forms.
    Id(id::IdArgs),
    /// Append a public chat post (TAV, channel "ALL") to the own feed.
    Post(post::PostArgs),
    /// Send a chat message: private to `--to` (several make a group), else public ("ALL").
    Send(send::SendArgs),
    /// Chat in the terminal: chat list with unread counts, conversations with delivery
    /// marks, contacts, and a node running behind it.
    Chat(chat::ChatArgs),
    /// List chats by last activity, with unread counts.
    Chats(chats::ChatsArgs),
    /// Show messages of a chat (or of all chats, and entries that are not chat messages).
    Messages(messages::MessagesArgs),
    /// List contacts, or add or remove one.
    Contacts(contacts::ContactsArgs),
    /// Mark a chat read (sends read receipts in one-to-one chats).
    Read(read::ReadArgs),
    /// List the entries of the own feed (or of `--feed`).
    Log(log::LogArgs),
    /// List the feeds this node holds, with their frontiers.
    Feeds(feeds::FeedsArgs),
    /// Run a node: accept WebSocket peers and/or join UDP multicast, until stopped.
    Serve(serve::ServeArgs),
    /// Run a node connected to a WebSocket peer.
    Connect(connect::ConnectArgs),
    /// Make an invite (a beacon naming a relay and you) and print it with a QR code.
    Invite(invite::InviteArgs),
    /// Accept an invite: replicate the inviter's feed, meeting through the invite's relay.
    Accept(accept::AcceptArgs),
    /// Look inside Moneysocket beacons.
    Beacon(beacon::BeaconArgs),
    /// Run a Moneysocket rendezvous relay (pairs two nodes by beacon id, forwards their frames).
    Relay(relay_cmd::RelayArgs),
    /// Say what a packet (hex) is, or precisely why it is invalid.
    Inspect(inspect::InspectArgs),
    /// Write the feed store in the tinySSB reference layout (Android app / Python pub).
    Export(export::ExportArgs),
    /// Read feeds in the tinySSB reference layout into the store, verifying everything.
    Import(import::ImportArgs),
    /// Pair with a tinySSB LoRa dongle over Bluetooth LE: scan, pair, status, unpair.
    Dongle(dongle::DongleArgs),
    /// Run an emulated tinySSB LoRa dongle (BLE side on a local socket, LoRa over UDP).
    DongleEmu(dongle_emu::EmuArgs),
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
    let data = data::DataDir::new(cli.data.data);
    let result = match &cli.command {
        Command::Init(a) => init::run(&data, a),
        Command::Id(a) => id::run(&data, a),
        Command::Post(a) => post::run(&data, a),
        Command::Send(a) => send::run(&data, a),
        Command::Chat(a) => chat::run(&data, a),
        Command::Chats(a) => chats::run(&data, a),
        Command::Messages(a) => messages::run(&data, a),
        Command::Contacts(a) => contacts::run(&data, a),
        Command::Read(a) => read::run(&data, a),
        Command::Log(a) => log::run(&data, a),
        Command::Feeds(a) => feeds::run(&data, a),
        Command::Serve(a) => serve::run(&data, a),
        Command::Connect(a) => connect::run(&data, a),
        Command::Invite(a) => invite::run(&data, a),
        Command::Accept(a) => accept::run(&data, a),
        Command::Beacon(a) => beacon::run(a),
        Command::Relay(a) => relay_cmd::run(a),
        Command::Inspect(a) => inspect::run(&data, a),
        Command::Export(a) => export::run(&data, a),
        Command::Import(a) => import::run(&data, a),
        Command::Dongle(a) => dongle::run(&data, a),
        Command::DongleEmu(a) => dongle_emu::run(a),
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
