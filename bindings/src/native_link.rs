//! Phone-to-phone links whose GATT side is native code (Android `BluetoothGattServer`, iOS
//! `CBPeripheralManager`): the interface the Kotlin and Swift peripheral code implements
//! ([`FrameSender`]) and drives ([`NativeLink`]).
//!
//! One GATT write or notification is one tinySSB packet. Native code:
//! * hands Lichen every packet the other phone wrote into our RX characteristic:
//!   [`NativeLink::frame_in`];
//! * sends the packets Lichen gives its [`FrameSender`] (a notification on our TX
//!   characteristic) and answers when it went out ([`SendOutcome::Sent`]) or was refused;
//! * says when the link went down: [`NativeLink::link_down`].
//!
//! Lichen sees an ordinary BLE link (core's `ble::channel::native_link`) and runs it as a
//! face of the node (core's `ble::pump::run`). The glue here only crosses threads: sends run
//! on a blocking thread, one at a time, so native code may block in `send` until the
//! notification is out, and may call `frame_in` from any thread, also from inside `send`.

use std::sync::{Arc, Mutex};

use lichen::ble::channel::{native_link, NativeEnd, Outbound};
use lichen::ble::link::LinkInfo;
use tokio::sync::{mpsc, watch};

use crate::errors::{CallbackError, LinkError};
use crate::links::Links;

/// Packets from native code queued towards the node before `frame_in` waits.
const INBOUND_QUEUE: usize = 64;

/// What became of a packet native code was asked to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SendOutcome {
    /// The notification (or write) went out.
    Sent,
    /// The platform refused it (an ATT error, a full queue); the link stays up, but several
    /// refusals in a row take it down.
    Refused {
        /// Why, for the logs.
        reason: String,
    },
}

/// Implemented by native peripheral code: sends one packet to the other phone.
#[uniffi::export(callback_interface)]
pub trait FrameSender: Send + Sync {
    /// Sends `frame` (at most MTU − 3 bytes) as one notification on the TX characteristic
    /// and returns once it went out or was refused. Called on a Lichen thread, never two
    /// calls at once for one link. A call that does not return within 5 s counts as failed.
    /// An error (an exception in Kotlin, Swift or Python) counts as a refused frame.
    fn send(&self, frame: Vec<u8>) -> Result<SendOutcome, CallbackError>;
}

/// A phone-to-phone link attached to a node, driven by native code.
#[derive(uniffi::Object)]
pub struct NativeLink {
    frames: mpsc::Sender<Vec<u8>>,
    down: watch::Sender<Option<String>>,
    ended: Arc<Mutex<Option<String>>>,
    handle: lichen::app::LinkHandle,
}

/// The least ATT MTU that carries a whole 120-byte packet per write (3 bytes of header).
pub const MIN_MTU: u32 = 123;

#[uniffi::export]
impl Links {
    /// Attaches a phone-to-phone link as a face of the node. `peer` names the other phone
    /// (its address or name, for logs and `list`), `mtu` is the negotiated ATT MTU (123 or
    /// more: a smaller one is refused with `MtuTooSmall`), `sender` sends what Lichen writes
    /// to that phone. Returns the handle native code gives the packets it receives and the
    /// link's end.
    pub fn attach_native_link(
        &self,
        peer: String,
        mtu: u32,
        sender: Box<dyn FrameSender>,
    ) -> Result<Arc<NativeLink>, LinkError> {
        if mtu < MIN_MTU {
            return Err(LinkError::MtuTooSmall {
                reason: format!(
                    "an MTU of {mtu} cannot carry a whole packet (it takes {MIN_MTU}); \
                     ask the other phone for a larger MTU"
                ),
            });
        }
        let app = self.shared().app::<LinkError>()?;
        let rt = self.shared().rt().clone();
        let info = LinkInfo {
            id: peer.clone(),
            name: peer,
            mtu: mtu as usize,
        };
        let (conn, end) = native_link(info, None);
        let (frames, frames_rx) = mpsc::channel(INBOUND_QUEUE);
        let (down, down_rx) = watch::channel(None);
        let ended = Arc::new(Mutex::new(None));
        // Unbounded: a hung native send must never stop `drive` from passing packets in;
        // the face waits for each write's outcome, so at most a few writes wait here.
        let (writes_tx, writes_rx) = mpsc::unbounded_channel();
        rt.spawn(send_loop(writes_rx, Arc::from(sender)));
        rt.spawn(drive(end, frames_rx, down_rx, writes_tx, ended.clone()));
        let handle = app.attach_connection(conn, "ble")?;
        Ok(Arc::new(NativeLink {
            frames,
            down,
            ended,
            handle,
        }))
    }
}

#[uniffi::export]
impl NativeLink {
    /// A packet the other phone wrote into our RX characteristic. Fails with `LinkDown` once
    /// the link is down. May wait briefly while the node catches up.
    pub fn frame_in(&self, frame: Vec<u8>) -> Result<(), LinkError> {
        if let Some(why) = self.down_reason() {
            return Err(LinkError::LinkDown { reason: why });
        }
        self.frames
            .blocking_send(frame)
            .map_err(|_| LinkError::LinkDown {
                reason: self.down_reason().unwrap_or_else(|| "closed".into()),
            })
    }

    /// The platform lost the link (disconnect, Bluetooth off, app suspended). Lichen stops
    /// using it; attach a new link when the phone comes back.
    pub fn link_down(&self, reason: String) {
        self.down.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// Whether the link is still up (false after `link_down`, or once Lichen ended it:
    /// too many failed sends, or the node stopped).
    pub fn is_up(&self) -> bool {
        self.down_reason().is_none()
    }
}

impl NativeLink {
    fn down_reason(&self) -> Option<String> {
        let ended = self.ended.lock().ok().and_then(|e| e.clone());
        self.down.borrow().clone().or(ended)
    }
}

impl Drop for NativeLink {
    fn drop(&mut self) {
        self.link_down("the native side went away".into());
        self.handle.close();
    }
}

/// Owns the link's native end: passes packets from native code in, Lichen's writes to the
/// send loop, and a reported link down on.
async fn drive(
    mut end: NativeEnd,
    mut frames: mpsc::Receiver<Vec<u8>>,
    mut down: watch::Receiver<Option<String>>,
    writes: mpsc::UnboundedSender<Outbound>,
    ended: Arc<Mutex<Option<String>>>,
) {
    let end_as = |why: &str| {
        if let Ok(mut e) = ended.lock() {
            e.get_or_insert_with(|| why.to_owned());
        }
    };
    loop {
        tokio::select! {
            w = end.next_write() => match w {
                Some(w) => if let Err(e) = writes.send(w) {
                    e.0.refuse("the send loop stopped");
                    end_as("the send loop stopped");
                    break;
                },
                None => {
                    end_as("Lichen ended the link");
                    break;
                }
            },
            f = frames.recv() => match f {
                Some(f) => if end.frame_in(f).await.is_err() {
                    end_as("Lichen ended the link");
                    break;
                },
                None => {
                    end.link_down("the native side went away");
                    break;
                }
            },
            changed = down.changed() => {
                let why = down.borrow().clone();
                if changed.is_err() || why.is_some() {
                    end.link_down(&why.unwrap_or_else(|| "the native side went away".into()));
                    break;
                }
            }
        }
    }
}

/// Hands Lichen's writes to native code one at a time, on a blocking thread.
async fn send_loop(mut writes: mpsc::UnboundedReceiver<Outbound>, sender: Arc<dyn FrameSender>) {
    while let Some(w) = writes.recv().await {
        let s = sender.clone();
        let pkt = w.pkt.clone();
        match tokio::task::spawn_blocking(move || s.send(pkt)).await {
            Ok(Ok(SendOutcome::Sent)) => w.ack(),
            Ok(Ok(SendOutcome::Refused { reason })) => w.refuse(&reason),
            Ok(Err(e)) => {
                tracing::debug!(%e, "the native sender failed");
                w.refuse("the native sender failed");
            }
            Err(_) => w.refuse("the native sender failed"),
        }
    }
}
