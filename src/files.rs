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

/// Opens `path` for reading without blocking and returns it only when it is a regular file. The type is
/// checked before the open (opening a device can act: `/dev/ptmx` allocates a terminal, a FIFO releases a
/// writer waiting on it, `/dev/watchdog` arms), and again on the open descriptor, which must be the same
/// file (device and inode) as the one checked.
pub fn open_regular(path: &Path, links: Links) -> Result<File, ReadError> {
    let before = match links {
        Links::Refuse => std::fs::symlink_metadata(path)?,
        Links::Follow => std::fs::metadata(path)?,
    };
    check_regular(&before)?;
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
    let after = file.metadata()?;
    check_regular(&after)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (before.dev(), before.ino()) != (after.dev(), after.ino()) {
            return Err(ReadError::Other(
                "the file was replaced while it was being opened".into(),
            ));
        }
    }
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

/// A log read through a cap: whole when it fits, else its first `head` bytes and its last `tail`
/// (errors are at the end of a log, the environment it printed at the start), each cut at a line
/// break, with the middle counted but not kept.
#[derive(Debug, Default)]
pub struct Excerpt {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub total: u64,
    pub skipped_bytes: u64,
    pub skipped_lines: u64,
    /// Reading stopped at the limit before the input ended (an endless stream: `/dev/zero`, a pipe that
    /// never closes); the tail is the last of what was read.
    pub unfinished: bool,
}

/// How much of a log is read at most: past it the input is taken to be endless.
pub const MAX_LOG_READ: u64 = 1024 * 1024 * 1024;

/// Reads `reader` to its end or to `limit` bytes, keeping at most `head + tail` bytes; whatever its size,
/// memory stays within the cap, and an endless input ends at `limit`.
pub fn read_excerpt(
    mut reader: impl Read,
    head: usize,
    tail: usize,
    limit: u64,
) -> Result<Excerpt, ReadError> {
    let lines_in = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
    let mut out = Excerpt::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if out.total >= limit {
            out.unfinished = true;
            break;
        }
        let room = usize::try_from(limit - out.total).unwrap_or(usize::MAX);
        let n = match reader.read(&mut chunk[..room.min(64 * 1024)]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        out.total += n as u64;
        let mut data = &chunk[..n];
        if out.head.len() < head {
            let take = (head - out.head.len()).min(data.len());
            out.head.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        out.tail.extend_from_slice(data);
        if out.tail.len() > 2 * tail.max(1) {
            let drop = out.tail.len() - tail;
            out.skipped_bytes += drop as u64;
            out.skipped_lines += lines_in(&out.tail[..drop]);
            out.tail.drain(..drop);
        }
    }
    if out.skipped_bytes == 0 && out.tail.len() <= tail {
        // It fits: one piece.
        let rest = std::mem::take(&mut out.tail);
        out.head.extend_from_slice(&rest);
        return Ok(out);
    }
    if out.tail.len() > tail {
        let drop = out.tail.len() - tail;
        out.skipped_bytes += drop as u64;
        out.skipped_lines += lines_in(&out.tail[..drop]);
        out.tail.drain(..drop);
    }
    // Whole lines on both sides of the gap.
    let head_end = out
        .head
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let cut = out.head.split_off(head_end);
    out.skipped_bytes += cut.len() as u64;
    let tail_start = out
        .tail
        .iter()
        .position(|&c| c == b'\n')
        .map_or(out.tail.len(), |i| i + 1);
    out.skipped_bytes += tail_start as u64;
    out.skipped_lines += lines_in(&out.tail[..tail_start]);
    out.tail.drain(..tail_start);
    Ok(out)
}

/// A small system file (`/proc/meminfo`, `/etc/os-release`, `daemon.json`): `None` when absent or refused.
pub fn read_system(path: impl AsRef<Path>) -> Option<String> {
    read_text(path.as_ref(), MAX_SYSTEM_BYTES, Links::Follow).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_keeps_head_and_tail_whole_lines() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let small = read_excerpt(text.as_bytes(), 1 << 20, 1 << 20, MAX_LOG_READ).unwrap();
        assert_eq!(small.head, text.as_bytes());
        assert!(small.tail.is_empty());
        assert_eq!((small.skipped_bytes, small.total), (0, text.len() as u64));
        let cut = read_excerpt(text.as_bytes(), 100, 200, MAX_LOG_READ).unwrap();
        let head = String::from_utf8(cut.head.clone()).unwrap();
        let tail = String::from_utf8(cut.tail.clone()).unwrap();
        assert!(
            head.starts_with("line 1\n") && head.ends_with('\n'),
            "{head}"
        );
        assert!(
            tail.ends_with("line 1000\n") && tail.starts_with("line "),
            "{tail}"
        );
        assert_eq!(
            cut.head.len() as u64 + cut.tail.len() as u64 + cut.skipped_bytes,
            text.len() as u64
        );
        let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
        assert_eq!(
            lines(&cut.head) + lines(&cut.tail) + cut.skipped_lines,
            1000
        );
        assert!(!cut.unfinished);
        // An endless input ends at the limit, its tail the last of what was read.
        let endless = read_excerpt(std::io::repeat(b'x'), 100, 200, 10_000).unwrap();
        assert!(endless.unfinished);
        assert_eq!(endless.total, 10_000);
    }

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
