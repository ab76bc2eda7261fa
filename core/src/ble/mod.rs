//! Bluetooth LE packet links: to a tinySSB LoRa dongle (ESP32 "loramesh" firmware), to its
//! emulator, and phone to phone.
//!
//! Every link, whatever carries it, is the same thing to the node: a GATT packet link
//! ([`link::Connection`]) with an ATT MTU, writes with response (one write = one packet),
//! notifications (one notification = one packet), and a moment when it goes down. A
//! [`link::Central`] finds and opens such links:
//!
//! * `btle` (feature `ble`): btleplug, i.e. BlueZ on Linux, CoreBluetooth, WinRT, Android;
//! * [`emu_client`]: the dongle emulator's local socket (`lichen dongle-emu`), which carries
//!   the same GATT operations over TCP loopback ([`gatt_wire`]);
//! * [`channel`]: in-process links, the shape the bindings give native peripheral code
//!   (frames in, frames out, link up/down) and what tests use.
//!
//! Above the links sit pure policy ([`syncwatch`]; reconnecting is [`crate::backoff`]) and
//! the parts that do I/O through them: [`pump`] (a connection as a node face), the link
//! [`supervisor`] (reconnects forever, reports health) and the
//! [`pairing`] API (scan, pair, status, unpair) used by the CLI, the desktop app and the
//! bindings. See `docs/BLE.md` for what is tested here and what needs real radios.

#[cfg(feature = "ble")]
pub mod btle;
pub mod channel;
pub mod emu_client;
mod error;
#[deny(clippy::indexing_slicing)] // decodes bytes from the socket
pub mod gatt_wire;
pub mod link;
pub mod mem;
pub mod pairing;
pub mod pump;
pub mod status;
pub mod supervisor;
pub mod syncwatch;

pub use error::{BleError, LinkError};

use crate::wire::PKT_LEN;

/// The tinySSB GATT service (advertised by dongles; scans filter on it).
pub const SERVICE_UUID: u128 = 0x6e40_0001_7646_4b5b_9a50_71be_cce5_1558;
/// RX characteristic: the central writes packets to it, with response.
pub const RX_UUID: u128 = 0x6e40_0002_7646_4b5b_9a50_71be_cce5_1558;
/// TX characteristic: the peripheral notifies packets on it.
pub const TX_UUID: u128 = 0x6e40_0003_7646_4b5b_9a50_71be_cce5_1558;
/// The ATT header in front of every write and notification (opcode + handle).
pub const ATT_HEADER: usize = 3;
/// The smallest ATT MTU that carries one tinySSB packet per write or notification.
pub const MIN_MTU: usize = PKT_LEN + ATT_HEADER;
/// The MTU a central asks for (the Android app asks for 128; the ESP32 sets 128 locally).
pub const REQUESTED_MTU: u16 = 128;
/// Names dongles advertise: `tinySSB-` and two bytes of their MAC in hex.
pub const NAME_PREFIX: &str = "tinySSB-";

/// A UUID in its usual text form (`6e400001-7646-…`).
pub fn uuid_text(u: u128) -> String {
    moneysocket::uuid::Uuid::from_bytes(u.to_be_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_the_deployed_ones() {
        assert_eq!(
            uuid_text(SERVICE_UUID),
            "6e400001-7646-4b5b-9a50-71becce51558"
        );
        assert_eq!(uuid_text(RX_UUID), "6e400002-7646-4b5b-9a50-71becce51558");
        assert_eq!(uuid_text(TX_UUID), "6e400003-7646-4b5b-9a50-71becce51558");
        assert_eq!(MIN_MTU, 123);
    }
}
