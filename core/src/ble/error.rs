//! The two kinds of BLE failure: setting a link up ([`BleError`], shown to people by the
//! pairing flow) and using one ([`LinkError`], handled by the supervisor).

use thiserror::Error;

/// Why scanning, pairing or connecting failed. Each message is written for the person at the
/// screen: what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BleError {
    /// The adapter exists but is switched off.
    #[error("Bluetooth is turned off. Turn it on and try again.")]
    Off,
    /// No Bluetooth adapter (or no Bluetooth service) on this device.
    #[error("This device has no Bluetooth adapter that Lichen can use ({detail}).")]
    Absent {
        /// What was looked for and not found.
        detail: String,
    },
    /// The operating system refused access to Bluetooth.
    #[error(
        "Lichen is not allowed to use Bluetooth ({detail}). Grant the Bluetooth permission \
         (on Linux: access to BlueZ on the system bus) and try again."
    )]
    PermissionDenied {
        /// What the system said.
        detail: String,
    },
    /// The device is not in range, switched off, or no longer advertising.
    #[error(
        "The dongle {name} cannot be reached: it is out of range, switched off, or connected \
         to three other devices. Bring it closer or switch it on, then try again."
    )]
    DeviceGone {
        /// The dongle's name or id.
        name: String,
    },
    /// The link's MTU cannot carry a 120-byte packet in one write.
    #[error(
        "The Bluetooth link to {name} carries only {payload} bytes per write (ATT MTU {mtu}); \
         tinySSB needs 120 (MTU 123 or more). Update the dongle's firmware or this device's \
         Bluetooth stack."
    )]
    MtuTooSmall {
        /// The dongle.
        name: String,
        /// The negotiated ATT MTU.
        mtu: usize,
        /// Bytes per write it allows (MTU − 3).
        payload: usize,
    },
    /// The device does not offer the tinySSB service or its characteristics.
    #[error(
        "{name} does not offer the tinySSB service ({missing} missing): it is not a tinySSB \
         dongle, or it runs other firmware."
    )]
    ServiceMissing {
        /// The device.
        name: String,
        /// What was not found.
        missing: String,
    },
    /// Connecting took too long.
    #[error(
        "Connecting to {name} timed out after {:.1} s. Bring it closer and try again.",
        *ms as f64 / 1000.0
    )]
    Timeout {
        /// The dongle.
        name: String,
        /// The timeout, milliseconds.
        ms: u64,
    },
    /// No dongle is paired.
    #[error("No dongle is paired. Run `lichen dongle scan`, then `lichen dongle pair NAME`.")]
    NotPaired,
    /// This build cannot talk to Bluetooth at all.
    #[error(
        "This build of Lichen has no Bluetooth support (built without the `ble` feature); \
         use --emu ADDR to reach a dongle emulator."
    )]
    Unsupported,
    /// The pairing record in the data directory could not be read or written.
    #[error("the pairing record {path}: {detail}")]
    Record {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// Anything else the Bluetooth stack reported.
    #[error("Bluetooth error: {0}")]
    Other(String),
}

/// Why an operation on an open link failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The link is down.
    #[error("link down: {0}")]
    Down(String),
    /// A packet longer than one write can carry; it was not sent.
    #[error("a {len}-byte packet does not fit the link's ATT MTU of {mtu}")]
    TooLong {
        /// Packet length.
        len: usize,
        /// The link's MTU.
        mtu: usize,
    },
    /// The peer refused the write (an ATT error); the link stays up.
    #[error("the peer refused the write: {0}")]
    Refused(String),
    /// The write was not acknowledged in time; the link may be dying.
    #[error("the write was not acknowledged in time")]
    Timeout,
}
