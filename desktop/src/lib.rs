//! Lichen on the desktop: an egui window on the front door ([`lichen::App`]). The window
//! ([`ui::Desktop`]) never calls the node itself: a node thread ([`worker`]) takes commands
//! and sends replies and events back, polled each frame.

pub mod ui;
pub mod worker;

use std::path::PathBuf;

/// The settings key (beside the core's fields) for Wi-Fi multicast.
pub const WIFI_KEY: &str = "desktop_wifi_multicast";

/// The data folder: `LICHEN_DESKTOP_DIR`, else the platform's data folder + `lichen-desktop`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LICHEN_DESKTOP_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                let h = PathBuf::from(h);
                if cfg!(target_os = "macos") {
                    h.join("Library/Application Support")
                } else {
                    h.join(".local/share")
                }
            })
        })
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("lichen-desktop")
}
