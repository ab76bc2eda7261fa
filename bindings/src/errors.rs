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
                    message: "Lichen has stopped; open it again".into(),
                }
            }
            fn internal(what: String) -> Self {
                $name::Failed { message: what }
            }
        }
    };
}

/// Why opening, creating or importing an identity failed, or a root-level call.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SetupError {
    /// No Lichen data in the directory: create or import an identity.
    #[error("{message}")]
    NoData {
        /// For a person.
        message: String,
    },
    /// The directory already holds an identity: open it instead.
    #[error("{message}")]
    Exists {
        /// For a person.
        message: String,
    },
    /// The key file is not usable (damaged, not a Lichen key).
    #[error("{message}")]
    BadKey {
        /// For a person.
        message: String,
    },
    /// Another process holds the store: stop it first.
    #[error("{message}")]
    Busy {
        /// For a person.
        message: String,
    },
    /// Bad input (a setting, a path).
    #[error("{message}")]
    Invalid {
        /// For a person.
        message: String,
    },
    /// The store, a file or the node failed.
    #[error("{message}")]
    Failed {
        /// For a person.
        message: String,
    },
    /// Lichen has stopped.
    #[error("{message}")]
    Stopped {
        /// For a person.
        message: String,
    },
}
area_error!(SetupError);

impl From<AppError> for SetupError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e {
            AppError::NoData(_) | AppError::NoIdentity(_) => SetupError::NoData { message },
            AppError::Exists(_) => SetupError::Exists { message },
            AppError::Identity { .. } => SetupError::BadKey { message },
            AppError::Busy(_) => SetupError::Busy { message },
            AppError::Invalid(_) => {
                if message.contains("key file") {
                    SetupError::BadKey { message }
                } else {
                    SetupError::Invalid { message }
                }
            }
            AppError::Stopped => SetupError::Stopped { message },
            _ => SetupError::Failed { message },
        }
    }
}

/// Why a chat operation failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ChatError {
    /// A chat id, message id, cursor or person that cannot be read: fix the reference.
    #[error("{message}")]
    BadReference {
        /// For a person.
        message: String,
    },
    /// A name that is no contact's alias and no feed id.
    #[error("{message}")]
    UnknownContact {
        /// For a person.
        message: String,
    },
    /// A name several contacts go by: use the feed id.
    #[error("{message}")]
    AmbiguousContact {
        /// For a person.
        message: String,
    },
    /// I am not a member of this chat.
    #[error("{message}")]
    NotAMember {
        /// For a person.
        message: String,
    },
    /// Posting is held (an imported key whose feed is not yet recovered): connect to a
    /// device that holds it, or confirm the key is new.
    #[error("{message}")]
    SigningHeld {
        /// For a person.
        message: String,
    },
    /// Bad input: empty text, too many recipients.
    #[error("{message}")]
    Invalid {
        /// For a person.
        message: String,
    },
    /// The store or the chat index failed.
    #[error("{message}")]
    Failed {
        /// For a person.
        message: String,
    },
    /// Lichen has stopped.
    #[error("{message}")]
    Stopped {
        /// For a person.
        message: String,
    },
}
area_error!(ChatError);

impl From<CoreChat> for ChatError {
    fn from(e: CoreChat) -> Self {
        let message = e.to_string();
        match e {
            CoreChat::UnknownContact(_) => ChatError::UnknownContact { message },
            CoreChat::AmbiguousContact(_) => ChatError::AmbiguousContact { message },
            CoreChat::NotAMember => ChatError::NotAMember { message },
            CoreChat::Held(_) => ChatError::SigningHeld { message },
            CoreChat::Invalid(_) | CoreChat::Box(_) => ChatError::Invalid { message },
            _ => ChatError::Failed { message },
        }
    }
}

impl From<AppError> for ChatError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Chat(c) => c.into(),
            AppError::Invalid(message) => ChatError::Invalid { message },
            AppError::Stopped => ChatError::stopped(),
            e => ChatError::Failed {
                message: e.to_string(),
            },
        }
    }
}

/// Why a contact operation failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ContactError {
    /// Not a feed id (`@….ed25519`, `did:ssb:…`, 64 hex digits) nor a contact's alias.
    #[error("{message}")]
    BadReference {
        /// For a person.
        message: String,
    },
    /// A name several contacts go by: use the feed id.
    #[error("{message}")]
    Ambiguous {
        /// For a person.
        message: String,
    },
    /// Bad input: an alias another contact has, a trust level out of range.
    #[error("{message}")]
    Invalid {
        /// For a person.
        message: String,
    },
    /// Posting is held (the change is signed on my feed).
    #[error("{message}")]
    SigningHeld {
        /// For a person.
        message: String,
    },
    /// The store or the index failed.
    #[error("{message}")]
    Failed {
        /// For a person.
        message: String,
    },
    /// Lichen has stopped.
    #[error("{message}")]
    Stopped {
        /// For a person.
        message: String,
    },
}
area_error!(ContactError);

impl From<CoreChat> for ContactError {
    fn from(e: CoreChat) -> Self {
        let message = e.to_string();
        match e {
            CoreChat::UnknownContact(_) => ContactError::BadReference { message },
            CoreChat::AmbiguousContact(_) => ContactError::Ambiguous { message },
            CoreChat::Held(_) => ContactError::SigningHeld { message },
            CoreChat::Invalid(_) => ContactError::Invalid { message },
            _ => ContactError::Failed { message },
        }
    }
}

impl From<AppError> for ContactError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Chat(c) => c.into(),
            AppError::Invalid(message) => ContactError::Invalid { message },
            AppError::Stopped => ContactError::stopped(),
            e => ContactError::Failed {
                message: e.to_string(),
            },
        }
    }
}

/// Why a link could not be opened.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LinkError {
    /// An address or URL that cannot be used (`ws://host:port`, `host:port`).
    #[error("{message}")]
    BadAddress {
        /// For a person.
        message: String,
    },
    /// The peer could not be reached or the link closed before it came up.
    #[error("{message}")]
    Unreachable {
        /// For a person.
        message: String,
    },
    /// The link did not come up in time.
    #[error("{message}")]
    Timeout {
        /// For a person.
        message: String,
    },
    /// A native link cannot carry a whole packet per write (MTU below 123).
    #[error("{message}")]
    MtuTooSmall {
        /// For a person.
        message: String,
    },
    /// The link is down.
    #[error("{message}")]
    LinkDown {
        /// For a person.
        message: String,
    },
    /// A socket or the node failed.
    #[error("{message}")]
    Failed {
        /// For a person.
        message: String,
    },
    /// Lichen has stopped.
    #[error("{message}")]
    Stopped {
        /// For a person.
        message: String,
    },
}
area_error!(LinkError);

impl From<AppError> for LinkError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e {
            AppError::Invalid(_) => LinkError::BadAddress { message },
            AppError::Stopped => LinkError::stopped(),
            _ => LinkError::Failed { message },
        }
    }
}
