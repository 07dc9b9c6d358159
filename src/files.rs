//! The one way mlcompat reads a file: facts and matrix files, package metadata in site-packages, Docker's
//! `daemon.json`, `/proc` and `/etc` files, cache entries. A FIFO, a device (`/dev/zero`), a socket or a
//! folder is refused with a clear reason instead of blocking forever or filling memory; the file is opened
//! without blocking (`O_NONBLOCK`), checked on the open descriptor (no race between check and read), and
//! read through a hard cap, so a file that grows, or reports size 0 as `/proc` files do, cannot exceed it.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Caps for the kinds of files read. A facts file with thousands of packages is well under 1 MiB.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;
/// A METADATA/PKG-INFO file: only the headers are used, but descriptions can be long.
pub const MAX_METADATA_BYTES: u64 = 8 * 1024 * 1024;
/// Small system and configuration files: `/proc/cpuinfo` on a 256-core machine is about 300 KiB.
pub const MAX_SYSTEM_BYTES: u64 = 4 * 1024 * 1024;

/// Whether the last path component may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (a user's `--facts` may well be a link); the target is still checked.
    Follow,
    /// Refuse it (`O_NOFOLLOW`): for files in folders mlcompat owns, such as the cache.
    Refuse,
}

/// Why a file could not be read, worded for a `file: reason` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    PermissionDenied,
    /// Not a regular file: a folder, FIFO, device, socket, or a refused link.
    NotRegular(&'static str),
    TooLarge {
        limit: u64,
    },
    NotUtf8 {
        offset: usize,
    },
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "no such file or directory"),
            ReadError::PermissionDenied => write!(f, "permission denied"),
            ReadError::NotRegular("a directory") => {
                write!(f, "is a directory, expected a file")
            }
            ReadError::NotRegular(what) => {
                write!(f, "is {what}, not a regular file: not read")
            }
            ReadError::TooLarge { limit } => {
                write!(f, "larger than {}: not read", size_text(*limit))
            }
            ReadError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 text (invalid byte at offset {offset})")
            }
            ReadError::Other(message) => f.write_str(message),
        }
    }
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            _ => {
                #[cfg(unix)]
                if e.raw_os_error() == Some(libc::ELOOP) {
                    return ReadError::NotRegular("a symbolic link");
                }
                ReadError::Other(e.to_string())
            }
        }
    }
}

/// Opens `path` for reading without blocking and returns it only when it is a regular file.
pub fn open_regular(path: &Path, links: Links) -> Result<File, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if links == Links::Refuse {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags);
    }
    let file = options.open(path)?;
    check_regular(&file.metadata()?)?;
    Ok(file)
}

/// `Ok` for a regular file, else what it is.
pub fn check_regular(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(ReadError::NotRegular("a directory"));
    }
    if kind.is_symlink() {
        return Err(ReadError::NotRegular("a symbolic link"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(ReadError::NotRegular("a FIFO (named pipe)"));
        }
        if kind.is_char_device() {
            return Err(ReadError::NotRegular("a character device"));
        }
        if kind.is_block_device() {
            return Err(ReadError::NotRegular("a block device"));
        }
        if kind.is_socket() {
            return Err(ReadError::NotRegular("a socket"));
        }
    }
    Err(ReadError::NotRegular("a special file"))
}

/// Reads at most `limit` bytes from an open file; more is an error, never a partial answer.
pub fn read_capped(file: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::from)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// The bytes of a regular file, at most `limit` of them.
pub fn read_bytes(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path, links)?;
    read_capped(file, limit)
}

/// The text of a regular file, at most `limit` bytes, which must be UTF-8.
pub fn read_text(path: &Path, limit: u64, links: Links) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit, links)?;
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

/// A small system file (`/proc/meminfo`, `/etc/os-release`, `daemon.json`): `None` when absent or refused.
pub fn read_system(path: impl AsRef<Path>) -> Option<String> {
    read_text(path.as_ref(), MAX_SYSTEM_BYTES, Links::Follow).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_through_a_cap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "hello").unwrap();
        assert_eq!(read_text(&file, 5, Links::Follow).unwrap(), "hello");
        assert_eq!(
            read_text(&file, 4, Links::Follow).unwrap_err().to_string(),
            "larger than 4 bytes: not read"
        );
        assert_eq!(
            read_text(dir.path(), 10, Links::Follow).unwrap_err(),
            ReadError::NotRegular("a directory")
        );
        assert_eq!(
            read_text(&dir.path().join("none"), 10, Links::Follow).unwrap_err(),
            ReadError::NotFound
        );
        std::fs::write(&file, b"ok\xff").unwrap();
        assert_eq!(
            read_text(&file, 10, Links::Follow).unwrap_err(),
            ReadError::NotUtf8 { offset: 2 }
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_special_files_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_text(&fifo, 10, Links::Follow).unwrap_err().to_string(),
            "is a FIFO (named pipe), not a regular file: not read"
        );
        assert_eq!(
            read_text(Path::new("/dev/zero"), 10, Links::Follow).unwrap_err(),
            ReadError::NotRegular("a character device")
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            read_text(&link, 10, Links::Follow).unwrap_err(),
            ReadError::NotRegular("a character device")
        );
        let target = dir.path().join("t");
        std::fs::write(&target, "x").unwrap();
        let link2 = dir.path().join("link2");
        std::os::unix::fs::symlink(&target, &link2).unwrap();
        assert_eq!(read_text(&link2, 10, Links::Follow).unwrap(), "x");
        assert_eq!(
            read_text(&link2, 10, Links::Refuse).unwrap_err(),
            ReadError::NotRegular("a symbolic link")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_files_report_size_zero_and_are_still_read() {
        let text = read_system("/proc/self/status").unwrap();
        assert!(text.contains("Name:"));
    }
}
