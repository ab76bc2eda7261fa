//! Why a front-door operation failed: each error says what is wrong and, where it can, what
//! to do.

use std::path::Path;

use crate::ble::BleError;
use crate::chat::ChatError;
use crate::node::NodeError;

/// Why an [`crate::app::App`] operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The directory holds neither an identity nor a store.
    #[error("no Lichen data at {0}")]
    NoData(String),
    /// The directory holds a store but no identity.
    #[error("no identity in {0}")]
    NoIdentity(String),
    /// `create`/`import` into a directory that already holds an identity.
    #[error("{0} already holds a Lichen identity; open it instead")]
    Exists(String),
    /// The key file could not be read or written.
    #[error("key file {path}: {err}")]
    Identity {
        /// The key file.
        path: String,
        /// What went wrong.
        err: String,
    },
    /// Another process holds the store.
    #[error("{0} is in use by another Lichen process (a store has one owner; stop it first)")]
    Busy(String),
    /// The store failed.
    #[error("{0}")]
    Store(String),
    /// A file operation failed.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        err: std::io::Error,
    },
    /// `settings.json` is damaged.
    #[error("settings {path}: {err}")]
    Settings {
        /// The file.
        path: String,
        /// What is wrong.
        err: String,
    },
    /// Bad input from the person or the app.
    #[error("{0}")]
    Invalid(String),
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The chat service failed (or refused: signing held).
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// An invite could not be made, read or saved.
    #[error("invite: {0}")]
    Invite(String),
    /// The dongle could not be resumed.
    #[error(transparent)]
    Ble(#[from] BleError),
    /// The app has stopped.
    #[error("the app has stopped")]
    Stopped,
}

impl AppError {
    pub(crate) fn io(path: &Path, err: std::io::Error) -> AppError {
        AppError::Io {
            path: path.display().to_string(),
            err,
        }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::Store(e.to_string())
    }
}
