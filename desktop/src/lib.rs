//! Lichen on the desktop: an egui window on the front door ([`lichen::App`]). The window
//! ([`ui::Desktop`]) never calls the node itself: a node thread ([`worker`]) takes commands
//! and sends replies and events back, polled each frame.

pub mod ui;
pub mod worker;

use std::ffi::OsString;
use std::path::PathBuf;

/// The settings key (beside the core's fields) for Wi-Fi multicast.
pub const WIFI_KEY: &str = "desktop_wifi_multicast";

/// The data folder: `LICHEN_DESKTOP_DIR`, else the platform's data folder + `lichen-desktop`.
pub fn default_dir() -> PathBuf {
    dir_from(|name| std::env::var_os(name))
}

/// [`default_dir`] over any environment. An empty variable counts as unset, and the
/// platform's folders only when absolute (as the XDG spec says): the folder must not depend
/// on where the app was started. `LICHEN_DESKTOP_DIR` may be relative (a person typed it).
pub fn dir_from(env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let absolute = |name: &str| set(name).filter(|p| p.is_absolute());
    if let Some(d) = set("LICHEN_DESKTOP_DIR") {
        return std::path::absolute(&d).unwrap_or(d);
    }
    let base = absolute("XDG_DATA_HOME")
        .or_else(|| absolute("APPDATA"))
        .or_else(|| {
            absolute("HOME").map(|h| {
                if cfg!(target_os = "macos") {
                    h.join("Library/Application Support")
                } else {
                    h.join(".local/share")
                }
            })
        })
        .unwrap_or_else(|| std::path::absolute(".").unwrap_or_else(|_| PathBuf::from(".")));
    base.join("lichen-desktop")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_data_folder_never_depends_on_the_working_directory_by_accident() {
        let home = [("HOME", "/home/ana")];
        let want = if cfg!(target_os = "macos") {
            "/home/ana/Library/Application Support/lichen-desktop"
        } else {
            "/home/ana/.local/share/lichen-desktop"
        };
        assert_eq!(dir_from(env(&home)), PathBuf::from(want));
        // Empty or relative XDG_DATA_HOME is unset (it once gave "lichen-desktop", relative).
        for bad in ["", "data"] {
            let vars = [("XDG_DATA_HOME", bad), ("HOME", "/home/ana")];
            assert_eq!(dir_from(env(&vars)), PathBuf::from(want), "{bad:?}");
        }
        let xdg = [("XDG_DATA_HOME", "/srv/d"), ("HOME", "/home/ana")];
        assert_eq!(dir_from(env(&xdg)), PathBuf::from("/srv/d/lichen-desktop"));
        let own = [("LICHEN_DESKTOP_DIR", "/tmp/l"), ("HOME", "/home/ana")];
        assert_eq!(dir_from(env(&own)), PathBuf::from("/tmp/l"));
        let rel = [("LICHEN_DESKTOP_DIR", "mine")];
        let d = dir_from(env(&rel));
        assert!(d.is_absolute() && d.ends_with("mine"), "{d:?}");
        assert!(dir_from(env(&[])).is_absolute());
    }
}
