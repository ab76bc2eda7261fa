//! Reading small files a person names (key files, PEM, the data directory's JSON records)
//! without trusting them: a path to `/dev/zero`, a FIFO or a huge file must give a clear
//! error, never an unbounded read.

use std::io::Read;
use std::path::Path;

/// The most a key file may hold (real ones are under 200 bytes).
pub const KEY_FILE_MAX: u64 = 64 * 1024;
/// The most a PEM file (certificates, keys) may hold.
pub const PEM_MAX: u64 = 1024 * 1024;
/// The most a JSON record of the data directory (`invites.json`, `dongle.json`) may hold.
pub const RECORD_MAX: u64 = 4 * 1024 * 1024;

/// Reads the whole of `path` if it is a regular file of at most `max` bytes.
///
/// Refuses anything else (a device, a FIFO, a directory, a file that is or grows too large)
/// with an [`std::io::Error`] whose message says what is wrong; `NotFound` and permission
/// errors pass through unchanged so callers can tell a missing file from a bad one.
pub fn read_small(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    if meta.len() > max {
        return Err(too_large(path, max));
    }
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte more than allowed tells a file that grew past the limit from one that fits.
    file.take(max.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(too_large(path, max));
    }
    Ok(out)
}

/// [`read_small`] as UTF-8 text.
pub fn read_small_string(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read_small(path, max)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text", path.display()),
        )
    })
}

fn too_large(path: &Path, max: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{} is larger than {max} bytes", path.display()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_a_small_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read_small(&p, 5).unwrap(), b"hello");
        let e = read_small(&p, 4).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
    }

    #[test]
    fn refuses_devices_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_small(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = read_small(Path::new("/dev/zero"), KEY_FILE_MAX).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
    }

    #[test]
    fn missing_stays_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_small(&dir.path().join("none"), 10).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }
}
