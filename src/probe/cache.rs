//! A small cache for answers that cost a process start (an interpreter's `sys.path`, a tool's version).
//! Lives in the user's cache directory (`$XDG_CACHE_HOME/mlcompat`, `~/.cache/mlcompat`,
//! `~/Library/Caches/mlcompat`), or `$MLCOMPAT_CACHE_DIR`; a failure to read or write an entry only costs
//! the process start again. `--no-cache` (or `MLCOMPAT_NO_CACHE`) skips it.
//!
//! Nobody else can poison it:
//! - the folder is created `0700` and must be a real folder (not a link) owned by the user; one owned by
//!   someone else is refused, and the refusal is reported as a fact (`failed.cache`);
//! - entries are opened relative to the folder's descriptor with `O_NOFOLLOW`, must be regular files owned
//!   by the user, and are read through a cap;
//! - an entry is written to an unpredictable temporary name with `O_CREAT|O_EXCL` and mode `0600`, then
//!   renamed over the old one, so a planted link is never written through;
//! - every entry holds its whole key (the program's identity: path, device, inode, size, modification and
//!   change times, and whatever else its answer depends on) and is used only when the key matches; callers
//!   never take a program to run from an entry;
//! - entries hold what the parsers need (a version, a list of targets), not whole outputs, and the folder
//!   keeps at most [`MAX_ENTRIES`], the oldest evicted first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::exec::{self, Budget, RunError};

/// Entries kept; the oldest go first.
pub const MAX_ENTRIES: usize = 256;
/// The largest entry read or written.
const MAX_ENTRY_BYTES: u64 = 256 * 1024;

fn configured_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("MLCOMPAT_CACHE_DIR") {
        return Some(d);
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return Some(d.join("mlcompat"));
    }
    let home = env("HOME")?;
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Caches/mlcompat"))
    } else {
        Some(home.join(".cache/mlcompat"))
    }
}

/// The opened, checked cache folder.
struct Dir {
    path: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

/// The folder, opened and checked once per process; `Err` says why the cache is not used.
fn dir() -> &'static Result<Dir, String> {
    static DIR: OnceLock<Result<Dir, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let path =
            configured_dir().ok_or_else(|| "no cache folder (HOME is not set)".to_string())?;
        open_dir(path)
    })
}

/// Why the cache cannot be used, when that is something the user should hear about (a folder owned by
/// someone else, a link); `None` when it works or simply has no home.
pub fn problem() -> Option<String> {
    match (dir(), configured_dir()) {
        (Err(e), Some(_)) => Some(e.clone()),
        _ => None,
    }
}

#[cfg(unix)]
fn open_dir(path: PathBuf) -> Result<Dir, String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};

    use rustix::fs::{fchmod, open, Mode, OFlags};

    let shown = path.display().to_string();
    if let Some(parent) = path.parent() {
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent);
    }
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&path);
    let fd = open(
        &path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
            format!(
                "cache folder {shown} is a symbolic link or not a folder: the cache is not used"
            )
        }
        e => format!("cache folder {shown}: {e}: the cache is not used"),
    })?;
    let file = std::fs::File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| format!("cache folder {shown}: {e}: the cache is not used"))?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "cache folder {shown} is owned by uid {}, not by you (uid {me}): the cache is not used; set \
             MLCOMPAT_CACHE_DIR to a folder of your own",
            meta.uid()
        ));
    }
    let fd = std::os::fd::OwnedFd::from(file);
    if meta.mode() & 0o077 != 0 {
        // Ours, but others could list or write it (an old umask): close it to them.
        let _ = fchmod(&fd, Mode::from_raw_mode(0o700));
    }
    Ok(Dir { path, fd })
}

#[cfg(not(unix))]
fn open_dir(path: PathBuf) -> Result<Dir, String> {
    std::fs::create_dir_all(&path).map_err(|e| format!("cache folder {}: {e}", path.display()))?;
    Ok(Dir { path })
}

/// FNV-1a: stable across Rust releases, unlike `DefaultHasher`.
fn hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn entry_name(kind: &str, key: &str) -> String {
    format!("{kind}-{:016x}.json", hash(key))
}

/// What mlcompat build wrote an entry: a rebuilt binary may parse differently, so it starts afresh.
fn build_identity() -> &'static str {
    static BUILD: OnceLock<String> = OnceLock::new();
    BUILD.get_or_init(|| {
        let exe = std::env::current_exe().ok();
        format!(
            "{}@{}",
            env!("CARGO_PKG_VERSION"),
            exe.as_deref().and_then(identity).unwrap_or_default()
        )
    })
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    key: String,
    value: T,
}

pub fn read<T: DeserializeOwned>(kind: &str, key: &str) -> Option<T> {
    let dir = dir().as_ref().ok()?;
    let bytes = read_entry(dir, &entry_name(kind, key))?;
    let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
    (entry.key == full_key(key)).then_some(entry.value)
}

fn full_key(key: &str) -> String {
    format!("{}|{key}", build_identity())
}

#[cfg(unix)]
fn read_entry(dir: &Dir, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::fs::MetadataExt;

    use rustix::fs::{openat, Mode, OFlags};

    let fd = openat(
        &dir.fd,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let file = std::fs::File::from(fd);
    let meta = file.metadata().ok()?;
    crate::files::check_regular(&meta).ok()?;
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return None;
    }
    crate::files::read_capped(file, MAX_ENTRY_BYTES).ok()
}

#[cfg(not(unix))]
fn read_entry(dir: &Dir, name: &str) -> Option<Vec<u8>> {
    crate::files::read_bytes(
        &dir.path.join(name),
        MAX_ENTRY_BYTES,
        crate::files::Links::Refuse,
    )
    .ok()
}

pub fn write<T: Serialize>(kind: &str, key: &str, value: &T) {
    let Ok(dir) = dir() else { return };
    let entry = Entry {
        key: full_key(key),
        value,
    };
    let Ok(bytes) = serde_json::to_vec(&entry) else {
        return;
    };
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return;
    }
    if write_entry(dir, &entry_name(kind, key), &bytes).is_some() {
        evict(dir);
    }
}

fn temp_name(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        ".{name}.{}.{}.{:x}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        hash(&nanos.to_string())
    )
}

#[cfg(unix)]
fn write_entry(dir: &Dir, name: &str, bytes: &[u8]) -> Option<()> {
    use rustix::fs::{openat, renameat, unlinkat, AtFlags, Mode, OFlags};

    let tmp = temp_name(name);
    let fd = openat(
        &dir.fd,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .ok()?;
    let mut file = std::fs::File::from(fd);
    let written = file.write_all(bytes).is_ok();
    drop(file);
    if written && renameat(&dir.fd, tmp.as_str(), &dir.fd, name).is_ok() {
        return Some(());
    }
    let _ = unlinkat(&dir.fd, tmp.as_str(), AtFlags::empty());
    None
}

#[cfg(not(unix))]
fn write_entry(dir: &Dir, name: &str, bytes: &[u8]) -> Option<()> {
    let tmp = dir.path.join(temp_name(name));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .ok()?;
    let written = file.write_all(bytes).is_ok();
    drop(file);
    if written && std::fs::rename(&tmp, dir.path.join(name)).is_ok() {
        return Some(());
    }
    let _ = std::fs::remove_file(&tmp);
    None
}

/// Keeps at most `MAX_ENTRIES` entries (oldest out first) and clears temporary files a crashed run left.
fn evict(dir: &Dir) {
    let Ok(list) = std::fs::read_dir(&dir.path) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut entries: Vec<(std::time::SystemTime, String)> = Vec::new();
    for e in list.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Ok(modified) = e.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        if name.starts_with('.') && name.ends_with(".tmp") {
            let stale = now
                .duration_since(modified)
                .is_ok_and(|age| age.as_secs() > 60);
            if stale {
                remove(dir, &name);
            }
        } else if is_entry_name(&name) {
            entries.push((modified, name));
        }
    }
    if entries.len() <= MAX_ENTRIES {
        return;
    }
    entries.sort();
    let excess = entries.len() - MAX_ENTRIES * 3 / 4;
    for (_, name) in entries.into_iter().take(excess) {
        remove(dir, &name);
    }
}

/// `kind-0123456789abcdef.json`: the only names eviction removes.
fn is_entry_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    let Some((kind, hex)) = stem.rsplit_once('-') else {
        return false;
    };
    !kind.is_empty() && hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn remove(dir: &Dir, name: &str) {
    #[cfg(unix)]
    {
        let _ = rustix::fs::unlinkat(&dir.fd, name, rustix::fs::AtFlags::empty());
    }
    #[cfg(not(unix))]
    {
        let _ = std::fs::remove_file(dir.path.join(name));
    }
}

/// Who a file is: the path and, through links, its device, inode, size, and modification and change times
/// (a swapped file with the same size and modification time still has another inode or change time).
pub fn identity(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let nanos = |t: std::io::Result<std::time::SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    #[cfg(unix)]
    let extra = {
        use std::os::unix::fs::MetadataExt;
        format!(
            "{}:{}:{}.{}",
            meta.dev(),
            meta.ino(),
            meta.ctime(),
            meta.ctime_nsec()
        )
    };
    #[cfg(not(unix))]
    let extra = String::new();
    Some(format!(
        "{}|{}|{}|{extra}",
        path.display(),
        meta.len(),
        nanos(meta.modified())
    ))
}

/// A version manager's shim (asdf, mise, rtx, rbenv, nodenv, goenv, proto, volta, pyenv): one file that
/// runs whichever version the current folder and the environment pin (`.tool-versions`, `mise.toml`,
/// `ASDF_UV_VERSION`…), so the file's identity says nothing about its answer and the answer is not
/// cached. (Python's probe keys a pyenv shim on the version it selects instead.)
pub fn is_shim(path: &Path) -> bool {
    if path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|folder| folder == "shims")
    {
        return true;
    }
    // mise and volta shims are links to the manager's own program, which dispatches on its name.
    if let Ok(target) = std::fs::read_link(path) {
        if target
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "mise" | "rtx" | "volta-shim" | "proto-shim"))
        {
            return true;
        }
    }
    // asdf (before 0.16) and mise's older bash shims are scripts that hand over to the manager.
    let Ok(file) = crate::files::open_regular(path, crate::files::Links::Follow) else {
        return false;
    };
    let mut head = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(file, 4096), &mut head).is_err()
        || !head.starts_with(b"#!")
    {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    ["asdf exec", "mise x ", "mise exec", "rtx exec", "rtx x "]
        .iter()
        .any(|hand_over| head.contains(hand_over))
}

/// What `parse` makes of a program's output for `args`: from the cache when the program file is the same
/// one (see [`identity`]) and not a version manager's shim ([`is_shim`]), else by running it within
/// `budget`. Only the parsed answer of a successful run is stored.
pub fn run_parsed<T>(
    kind: &str,
    program: &Path,
    args: &[&str],
    budget: &Budget,
    use_cache: bool,
    parse: impl FnOnce(&str) -> T,
) -> Result<T, RunError>
where
    T: Serialize + DeserializeOwned,
{
    let key = (!is_shim(program))
        .then(|| identity(program))
        .flatten()
        .map(|id| format!("{id}|{}", args.join(" ")));
    if let (true, Some(key)) = (use_cache, &key) {
        if let Some(value) = read::<T>(kind, key) {
            return Ok(value);
        }
    }
    let out = exec::Cmd::new(program).args(args).run(budget)?;
    // Tools print versions on either stream (llama.cpp uses stderr).
    let value = parse(&format!("{}\n{}", out.stdout, out.stderr));
    if let (true, Some(key)) = (use_cache, &key) {
        write(kind, key, &value);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_and_identity() {
        assert!(is_entry_name("run-0123456789abcdef.json"));
        assert!(is_entry_name(&entry_name("python", "k")));
        assert!(!is_entry_name(".run-0123456789abcdef.json.1.2.3.tmp"));
        assert!(!is_entry_name("notes.json"));
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, "12345").unwrap();
        let first = identity(&a).unwrap();
        // Same size, same modification time, another file: another identity.
        let b = dir.path().join("b");
        std::fs::write(&b, "54321").unwrap();
        let modified = std::fs::metadata(&a).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&b)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        std::fs::rename(&b, &a).unwrap();
        assert_ne!(identity(&a).unwrap(), first);
    }
}
