//! The acknowledged event queue for a notification service (ldk-node's shape):
//! `next_event()` waits for the oldest unhandled event and returns it again until
//! `event_handled()`; unhandled events survive the process (core's `EventQueue`).

use std::sync::Arc;

use lichen::app::event_queue::{EventQueue as CoreQueue, QueuedEvent};
use lichen::App;

use crate::errors::SetupError;
use crate::root::Lichen;

/// Something a notification service tells the person.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LichenEvent {
    /// A message from someone else arrived.
    MessageReceived {
        /// Its chat (open it with `chats().conversation(chat_id)`).
        chat_id: String,
        /// The message (read it with `chats().message(message_id)`).
        message_id: String,
    },
    /// The own feed was recovered from a peer: posting works now.
    KeyRecovered {
        /// Entries of the own feed held.
        held: u32,
    },
    /// Another device writes this key: the own feed forked at `seq`. Stop using the key on
    /// one of the devices.
    ForkDetected {
        /// The first sequence number with two entries.
        seq: u32,
    },
    /// Something the person should know, in words.
    Warning {
        /// For a person.
        message: String,
    },
}

impl From<QueuedEvent> for LichenEvent {
    fn from(e: QueuedEvent) -> Self {
        match e {
            QueuedEvent::MessageReceived { chat, mid } => LichenEvent::MessageReceived {
                chat_id: chat,
                message_id: mid,
            },
            QueuedEvent::KeyRecovered { held } => LichenEvent::KeyRecovered { held },
            QueuedEvent::ForkDetected { seq } => LichenEvent::ForkDetected { seq },
            QueuedEvent::Warning { message } => LichenEvent::Warning { message },
        }
    }
}

/// The root's queue.
pub(crate) struct EventQueue(CoreQueue);

impl EventQueue {
    pub(crate) fn attach(app: &Arc<App>) -> Result<EventQueue, lichen::AppError> {
        Ok(EventQueue(CoreQueue::attach(app)?))
    }

    pub(crate) fn stop(&self) {
        self.0.stop();
    }
}

#[uniffi::export]
impl Lichen {
    /// Waits for the oldest unhandled event; returns the same one until `event_handled`.
    pub async fn next_event(&self) -> LichenEvent {
        self.queue().0.next().await.into()
    }

    /// The oldest unhandled event, if any (does not wait).
    pub fn peek_event(&self) -> Option<LichenEvent> {
        self.queue().0.peek().map(Into::into)
    }

    /// The event `next_event` returned was handled: it is dropped for good.
    pub fn event_handled(&self) -> Result<bool, SetupError> {
        self.queue().0.handled().map_err(SetupError::from)
    }
}
