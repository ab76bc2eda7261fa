//! Identities: the pure types live in `lichen_proto::identity` and are re-exported here; this
//! module adds what touches the disk — reading and writing the key file
//! ([`IdentityFile`]), which the protocol crate must not do.

use std::path::Path;

use zeroize::Zeroizing;

pub(crate) use lichen_proto::identity::*;

/// Reading and writing an [`Identity`]'s key file.
pub trait IdentityFile: Sized {
    /// Reads a key file from disk: a regular file of at most [`crate::fsutil::KEY_FILE_MAX`]
    /// bytes (a device such as `/dev/zero` or a huge file is refused, not read).
    fn load(path: &Path) -> Result<Self, IdentityError>;

    /// Writes the key file with owner-only permissions; fails if the file exists.
    fn save(&self, path: &Path) -> Result<(), IdentityError>;
}

impl IdentityFile for Identity {
    fn load(path: &Path) -> Result<Identity, IdentityError> {
        let bytes = Zeroizing::new(crate::fsutil::read_small(
            path,
            crate::fsutil::KEY_FILE_MAX,
        )?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| IdentityError::KeyFile("not UTF-8 text".into()))?;
        Identity::from_key_file(text)
    }

    fn save(&self, path: &Path) -> Result<(), IdentityError> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path)?;
        file.write_all(self.to_key_file().as_bytes())?;
        file.sync_all()?;
        Ok(())
    }
}
