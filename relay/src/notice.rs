//! Turning a matchmaker [`Notice`] into the cleartext frame a client gets.
//!
//! The deployed clients (py-moneysocket, js-moneysocket) send and expect
//! every frame, cleartext JSON included, as a *binary* WebSocket message and
//! drop text messages. A client that asked in a text message gets its
//! notices as text instead, so both kinds of client understand the answer.
//!
//! Notification UUIDs must be unique, not secret: they are version-4 UUIDs
//! filled from SipHash (with the process's random `RandomState` keys) of a
//! counter, which needs no extra dependency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

use moneysocket::rendezvous::Notice;
use moneysocket::uuid::Uuid;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// The frame for `notice`, as text or binary.
pub(crate) fn frame(notice: &Notice, text: bool) -> Message {
    let json = notice.to_message(unix_now(), fresh_uuid()).to_json_bytes();
    if text {
        // The JSON writer produces UTF-8; fall back to binary if it ever did not.
        match String::from_utf8(json) {
            Ok(s) => Message::text(s),
            Err(e) => Message::Binary(Bytes::from(e.into_bytes())),
        }
    } else {
        Message::Binary(Bytes::from(json))
    }
}

fn unix_now() -> f64 {
    crate::clock::unix_secs_f64()
}

fn fresh_uuid() -> Uuid {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let keys = KEYS.get_or_init(RandomState::new);
    let n = COUNTER.fetch_add(1, Relaxed);
    let half = |salt: u64| {
        let mut h = keys.build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.finish().to_le_bytes()
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&half(0));
    bytes[8..].copy_from_slice(&half(1));
    Uuid::new_v4(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use moneysocket::rendezvous::{NoticeKind, RendezvousMessage};
    use moneysocket::v0::Message as V0;
    use moneysocket::RendezvousId;

    #[test]
    fn notices_are_valid_v0_messages_in_the_asked_frame_type() {
        let notice = Notice {
            kind: NoticeKind::NotReady,
            rendezvous_id: RendezvousId::from_bytes([7; 32]),
            request_reference_uuid: Some("a5b32936-3143-4856-bdea-7b3dda7aa5e8".into()),
        };
        let bin = frame(&notice, false);
        assert!(bin.is_binary());
        let parsed = V0::from_json_bytes(&bin.into_data()).unwrap();
        assert_eq!(
            RendezvousMessage::from_message(&parsed),
            Some(RendezvousMessage::Notice(notice.clone()))
        );
        assert!(frame(&notice, true).is_text());
        assert_ne!(fresh_uuid(), fresh_uuid());
    }
}
