//! uniffi bindings of the Lichen core for Kotlin (Android), Swift (iOS) and Python.
//!
//! Proc-macros only (no UDL). One root object, [`Lichen`] (opened through
//! [`LichenBuilder`]), owns the front door (`lichen::App`: the node, its one runtime, the chat
//! service) and hands out sub-objects by area: [`Chats`] and a [`Conversation`] per chat,
//! [`Links`] (WebSocket, multicast, native phone links). The chat list and timelines stream
//! to foreign listeners as diffs ([`ChatListDiff`], [`TimelineDiff`]). Slow calls are
//! `async` on the node's runtime. Errors: one enum per area. See `bindings/README.md` and
//! ADR 0027.

uniffi::setup_scaffolding!();

mod central;
mod chats;
mod dongle;
mod dongles;
mod errors;
mod events;
mod links;
mod logs;
mod native_link;
mod people;
mod root;
mod state;
mod stream;

pub use central::{AdapterState, BleCentral, GattSink, OpenError, ScanSink};
pub use chats::{
    ChatKind, ChatListItem, ChatMessage, Chats, Conversation, DeliveryState, MessagePage,
};
pub use dongle::Dongle;
pub use dongles::{
    DongleEmulator, DongleError, DongleLinkStatus, Dongles, EmulatedAir, FoundDongle, PairedDongle,
    PairingStatus,
};
pub use errors::{CallbackError, ChatError, ContactError, LinkError, SetupError};
pub use events::LichenEvent;
pub use links::{Link, LinkInfo, Links};
pub use logs::{clear_log_sink, dropped_log_lines, set_log_level, set_log_sink, LogLevel, LogSink};
pub use native_link::{FrameSender, NativeLink, SendOutcome};
pub use people::{Contact, Contacts, InviteError, InvitePreview, Invites, Trust};
pub use root::{KeyIs, KeyState, Lichen, LichenBuilder, Started};
pub use state::{AppSettings, Backup, FeedBehind, Settings, Sync, SyncProgress};
pub use stream::{ChatListDiff, ChatListListener, TaskHandle, TimelineDiff, TimelineListener};

use lichen::wire::inspect;

/// The one error type foreign code sees.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LichenError {
    /// Input from the caller was not valid; the message says why.
    #[error("{reason}")]
    InvalidInput {
        /// What is wrong, for a person.
        reason: String,
    },
    /// The node, its store or a socket failed; the message says what and why.
    #[error("{reason}")]
    Node {
        /// What went wrong, for a person.
        reason: String,
    },
    /// The link is down (a native link after `link_down`, or once its node stopped).
    #[error("link down: {reason}")]
    LinkDown {
        /// Why.
        reason: String,
    },
    /// The node has been shut down.
    #[error("the node has shut down")]
    Shutdown,
}

impl LichenError {
    fn node(e: impl std::fmt::Display) -> LichenError {
        LichenError::Node {
            reason: e.to_string(),
        }
    }
}

/// A feed id in all its text forms.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeedIdForms {
    /// 64 hex digits.
    pub hex: String,
    /// `@<base64>.ed25519`.
    pub ssb_ref: String,
    /// `did:ssb:ed25519:<base64>` (the QR form).
    pub did: String,
    /// `XXXXX-XXXXX`.
    pub short: String,
}

/// Parses a feed id in any accepted form and returns all of its forms.
#[uniffi::export]
pub fn feed_id_forms(text: String) -> Result<FeedIdForms, LichenError> {
    let fid: lichen::FeedId =
        text.parse()
            .map_err(|e: lichen::IdentityError| LichenError::InvalidInput {
                reason: e.to_string(),
            })?;
    Ok(FeedIdForms {
        hex: fid.to_hex(),
        ssb_ref: fid.to_ref(),
        did: fid.to_did(),
        short: fid.short_display(),
    })
}

/// What a packet is, as [`inspect_packet`] sees it without any node state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PacketReport {
    /// What the packet is.
    pub kind: String,
    /// `Some(true)` valid, `Some(false)` invalid, `None` undecidable without more state.
    pub valid: Option<bool>,
    /// Why it is invalid, or what would be needed to decide.
    pub problem: Option<String>,
}

/// Says what a packet is, or why it is invalid (no node state: GOset packets, frames, WANTs of
/// the empty GOset, and the shape of everything else).
#[uniffi::export]
pub fn inspect_packet(bytes: Vec<u8>) -> PacketReport {
    let mut ctx = inspect::Context::default();
    ctx.goset_states.push(("empty GOset".into(), [0; 32]));
    let r = inspect::inspect(&ctx, &bytes);
    PacketReport {
        kind: r.kind,
        valid: r.valid,
        problem: r.problem,
    }
}

/// The version of the Lichen core.
#[uniffi::export]
pub fn lichen_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_id_forms_round_trip() {
        let f =
            feed_id_forms("@A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=.ed25519".into()).unwrap();
        assert_eq!(f.short, "AOQQP-P7TZY");
        assert_eq!(feed_id_forms(f.did.clone()).unwrap(), f);
        let err = feed_id_forms("nonsense".into()).unwrap_err();
        assert!(err.to_string().contains("not a feed id"));
    }

    #[test]
    fn inspect_reports_invalid_claims() {
        let r = inspect_packet(hex::decode("613dfa70c47aba6300").unwrap());
        assert_eq!(r.valid, Some(false));
        assert!(r.problem.unwrap().contains("105 bytes"));
    }
}
