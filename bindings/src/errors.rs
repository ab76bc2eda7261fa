//! One error enum per area, each variant something an app can act on, each carrying a
//! message written for the person at the screen; and [`CallbackError`], what foreign
//! callbacks return.

use lichen::chat::ChatError as CoreChat;
use lichen::AppError;

/// A failure of a foreign callback (a listener or a sink that raised or returned an error).
/// Lichen logs it and carries on; it never becomes a panic.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The foreign code failed on purpose (its own reason).
    #[error("{reason}")]
    Failed {
        /// Why, for the logs.
        reason: String,
    },
    /// The foreign code raised something unexpected.
    #[error("unexpected failure in foreign code: {reason}")]
    Unexpected {
        /// What the foreign side said.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Unexpected { reason: e.reason }
    }
}

/// What every area's error can say: the root has stopped, or something failed inside.
pub(crate) trait AreaError: Sized + Send + 'static {
    /// The root has been shut down.
    fn stopped() -> Self;
    /// An unexpected failure (a crashed task), in words.
    fn internal(what: String) -> Self;
}

macro_rules! area_error {
    ($name:ident) => {
        impl AreaError for $name {
            fn stopped() -> Self {
                $name::Stopped {
                    reason: "Lichen has stopped; open it again".into(),
                }
            }
            fn internal(what: String) -> Self {
                $name::Failed { reason: what }
            }
        }
    };
}

/// Why opening, creating or importing an identity failed, or a root-level call.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SetupError {
    /// No Lichen data in the directory: create or import an identity.
    #[error("{reason}")]
    NoData {
        /// For a person.
        reason: String,
    },
    /// The directory already holds an identity: open it instead.
    #[error("{reason}")]
    Exists {
        /// For a person.
        reason: String,
    },
    /// The key file is not usable (damaged, not a Lichen key).
    #[error("{reason}")]
    BadKey {
        /// For a person.
        reason: String,
    },
    /// Another process holds the store: stop it first.
    #[error("{reason}")]
    Busy {
        /// For a person.
        reason: String,
    },
    /// Bad input (a setting, a path).
    #[error("{reason}")]
    Invalid {
        /// For a person.
        reason: String,
    },
    /// The store, a file or the node failed.
    #[error("{reason}")]
    Failed {
        /// For a person.
        reason: String,
    },
    /// Lichen has stopped.
    #[error("{reason}")]
    Stopped {
        /// For a person.
        reason: String,
    },
}
area_error!(SetupError);

impl From<AppError> for SetupError {
    fn from(e: AppError) -> Self {
        let reason = e.to_string();
        match e {
            AppError::NoData(_) | AppError::NoIdentity(_) => SetupError::NoData { reason },
            AppError::Exists(_) => SetupError::Exists { reason },
            AppError::Identity { .. } => SetupError::BadKey { reason },
            AppError::Busy(_) => SetupError::Busy { reason },
            AppError::Invalid(_) => {
                if reason.contains("key file") {
                    SetupError::BadKey { reason }
                } else {
                    SetupError::Invalid { reason }
                }
            }
            AppError::Stopped => SetupError::Stopped { reason },
            _ => SetupError::Failed { reason },
        }
    }
}

/// Why a chat operation failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ChatError {
    /// A chat id, message id, cursor or person that cannot be read: fix the reference.
    #[error("{reason}")]
    BadReference {
        /// For a person.
        reason: String,
    },
    /// A name that is no contact's alias and no feed id.
    #[error("{reason}")]
    UnknownContact {
        /// For a person.
        reason: String,
    },
    /// A name several contacts go by: use the feed id.
    #[error("{reason}")]
    AmbiguousContact {
        /// For a person.
        reason: String,
    },
    /// I am not a member of this chat.
    #[error("{reason}")]
    NotAMember {
        /// For a person.
        reason: String,
    },
    /// Posting is held (an imported key whose feed is not yet recovered): connect to a
    /// device that holds it, or confirm the key is new.
    #[error("{reason}")]
    SigningHeld {
        /// For a person.
        reason: String,
    },
    /// Bad input: empty text, too many recipients.
    #[error("{reason}")]
    Invalid {
        /// For a person.
        reason: String,
    },
    /// The store or the chat index failed.
    #[error("{reason}")]
    Failed {
        /// For a person.
        reason: String,
    },
    /// Lichen has stopped.
    #[error("{reason}")]
    Stopped {
        /// For a person.
        reason: String,
    },
}
area_error!(ChatError);

impl From<CoreChat> for ChatError {
    fn from(e: CoreChat) -> Self {
        let reason = e.to_string();
        match e {
            CoreChat::UnknownContact(_) => ChatError::UnknownContact { reason },
            CoreChat::AmbiguousContact(_) => ChatError::AmbiguousContact { reason },
            CoreChat::NotAMember => ChatError::NotAMember { reason },
            CoreChat::Held(_) => ChatError::SigningHeld { reason },
            CoreChat::Invalid(_) | CoreChat::Box(_) => ChatError::Invalid { reason },
            _ => ChatError::Failed { reason },
        }
    }
}

impl From<AppError> for ChatError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Chat(c) => c.into(),
            AppError::Invalid(reason) => ChatError::Invalid { reason },
            AppError::Stopped => ChatError::stopped(),
            e => ChatError::Failed {
                reason: e.to_string(),
            },
        }
    }
}

/// Why a contact operation failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ContactError {
    /// Not a feed id (`@….ed25519`, `did:ssb:…`, 64 hex digits) nor a contact's alias.
    #[error("{reason}")]
    BadReference {
        /// For a person.
        reason: String,
    },
    /// A name several contacts go by: use the feed id.
    #[error("{reason}")]
    Ambiguous {
        /// For a person.
        reason: String,
    },
    /// Bad input: an alias another contact has, a trust level out of range.
    #[error("{reason}")]
    Invalid {
        /// For a person.
        reason: String,
    },
    /// Posting is held (the change is signed on my feed).
    #[error("{reason}")]
    SigningHeld {
        /// For a person.
        reason: String,
    },
    /// The store or the index failed.
    #[error("{reason}")]
    Failed {
        /// For a person.
        reason: String,
    },
    /// Lichen has stopped.
    #[error("{reason}")]
    Stopped {
        /// For a person.
        reason: String,
    },
}
area_error!(ContactError);

impl From<CoreChat> for ContactError {
    fn from(e: CoreChat) -> Self {
        let reason = e.to_string();
        match e {
            CoreChat::UnknownContact(_) => ContactError::BadReference { reason },
            CoreChat::AmbiguousContact(_) => ContactError::Ambiguous { reason },
            CoreChat::Held(_) => ContactError::SigningHeld { reason },
            CoreChat::Invalid(_) => ContactError::Invalid { reason },
            _ => ContactError::Failed { reason },
        }
    }
}

impl From<AppError> for ContactError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Chat(c) => c.into(),
            AppError::Invalid(reason) => ContactError::Invalid { reason },
            AppError::Stopped => ContactError::stopped(),
            e => ContactError::Failed {
                reason: e.to_string(),
            },
        }
    }
}

/// Why a link could not be opened.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LinkError {
    /// An address or URL that cannot be used (`ws://host:port`, `host:port`).
    #[error("{reason}")]
    BadAddress {
        /// For a person.
        reason: String,
    },
    /// The peer could not be reached or the link closed before it came up.
    #[error("{reason}")]
    Unreachable {
        /// For a person.
        reason: String,
    },
    /// The link did not come up in time.
    #[error("{reason}")]
    Timeout {
        /// For a person.
        reason: String,
    },
    /// A native link cannot carry a whole packet per write (MTU below 123).
    #[error("{reason}")]
    MtuTooSmall {
        /// For a person.
        reason: String,
    },
    /// The link is down.
    #[error("{reason}")]
    LinkDown {
        /// For a person.
        reason: String,
    },
    /// A socket or the node failed.
    #[error("{reason}")]
    Failed {
        /// For a person.
        reason: String,
    },
    /// Lichen has stopped.
    #[error("{reason}")]
    Stopped {
        /// For a person.
        reason: String,
    },
}
area_error!(LinkError);

impl From<AppError> for LinkError {
    fn from(e: AppError) -> Self {
        let reason = e.to_string();
        match e {
            AppError::Invalid(_) => LinkError::BadAddress { reason },
            AppError::Stopped => LinkError::stopped(),
            _ => LinkError::Failed { reason },
        }
    }
}
