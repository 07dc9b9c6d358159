//! The Python environment: which interpreter, why that one, its version and architecture, and every
//! installed distribution with its version — read from the environment's `*.dist-info`/`*.egg-info`
//! metadata, the way `pip list` finds them, without importing anything.
//!
//! Starting Python costs 20–250 ms, so the interpreter is asked once for its version, architecture and
//! `sys.path` (`probes/python_info.py`) and the answer is cached (see [`cache_key`] for what it depends on).
//! Every later run reads metadata files only.
//!
//! No code from the folder mlcompat runs in is executed: the child starts in a neutral folder, with
//! `PYTHONSAFEPATH=1` (Python 3.11+ then leaves the script's folder off `sys.path`), and the probe scripts
//! drop `''` from `sys.path` before their own imports (older Pythons). The user's site-packages and
//! `PYTHONPATH` are kept, so the environment is the one `pip list` sees. A `./.venv` owned by someone other
//! than the user or root is not run (like git's `safe.directory`) unless `MLCOMPAT_TRUST_VENV` names it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::exec;
use crate::facts::{normalize_package, Arch, Python};
use crate::files;
use crate::probe::cache;
use crate::probe::requirements::{self, Distribution};
use crate::version::PyVersion;

const INFO_SCRIPT: &str = include_str!("../../probes/python_info.py");

/// Environment variable listing `.venv` folders to run even when someone else owns them (`*`: any).
pub const TRUST_VENV_VAR: &str = "MLCOMPAT_TRUST_VENV";

/// An interpreter candidate and why it was picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub chosen_by: &'static str,
}

/// Where interpreters come from, in order of preference: `--python`, `$VIRTUAL_ENV`, `$CONDA_PREFIX`,
/// `./.venv`, `python3` on PATH. Pure over its inputs (it only looks whether a prefix has `bin/python` or
/// `bin/python3`) so the order is testable.
pub fn candidates(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    cwd: &Path,
    on_path: Option<PathBuf>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(Candidate {
            path: p.to_path_buf(),
            chosen_by: "--python",
        });
    }
    if let Some(v) = env("VIRTUAL_ENV") {
        out.push(Candidate {
            path: env_interpreter(Path::new(&v)),
            chosen_by: "VIRTUAL_ENV",
        });
    }
    if let Some(c) = env("CONDA_PREFIX") {
        out.push(Candidate {
            path: env_interpreter(Path::new(&c)),
            chosen_by: "CONDA_PREFIX",
        });
    }
    out.push(Candidate {
        path: env_interpreter(&cwd.join(".venv")),
        chosen_by: "./.venv",
    });
    if let Some(p) = on_path {
        out.push(Candidate {
            path: p,
            chosen_by: "PATH",
        });
    }
    out
}

/// The interpreter of a virtual environment or conda prefix.
fn env_interpreter(prefix: &Path) -> PathBuf {
    if cfg!(windows) {
        let scripts = prefix.join("Scripts").join("python.exe");
        if scripts.is_file() {
            return scripts;
        }
        return prefix.join("python.exe");
    }
    let python = prefix.join("bin").join("python");
    if python.is_file() {
        return python;
    }
    let python3 = prefix.join("bin").join("python3");
    if python3.is_file() {
        return python3;
    }
    python
}

/// What `--python ARG` names: a folder holding a virtual environment or conda prefix, an interpreter file,
/// or (a bare name such as `python3.11`) a program on PATH — never a file in the current folder by a bare
/// name, as a shell would not run one. `Err` is a usage error.
pub fn resolve_explicit(arg: &Path) -> Result<PathBuf, String> {
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    resolve_explicit_in(arg).map(absolute)
}

fn resolve_explicit_in(arg: &Path) -> Result<PathBuf, String> {
    let shown = arg.display();
    let bare = arg.components().count() == 1 && !arg.as_os_str().to_string_lossy().starts_with('.');
    if arg.is_dir() {
        let python = env_interpreter(arg);
        return if python.is_file() {
            Ok(python)
        } else {
            Err(format!(
                "--python {shown}: this folder has no bin/python (expected a virtual environment or a conda \
                 prefix)"
            ))
        };
    }
    if bare {
        return arg.to_str().and_then(crate::exec::resolve).ok_or_else(|| {
            format!("--python {shown}: no such program on PATH (give a path or a virtual environment folder)")
        });
    }
    if arg.is_file() {
        return Ok(arg.to_path_buf());
    }
    Err(format!("--python {shown}: no such file or folder"))
}

/// What the interpreter says about itself (cached).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Interpreter {
    pub version: String,
    pub implementation: String,
    pub machine: String,
    /// `sys.executable`: shown to the user, never run (a cache entry is no source of programs to run).
    pub executable: String,
    pub prefix: String,
    pub path: Vec<PathEntry>,
}

/// A `sys.path` folder as the probe script prints it: text, or its bytes in hex when they are not UTF-8
/// (a folder named in Latin-1 on Linux). Kept exact: distributions are read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathEntry {
    Text(String),
    Bytes { hex: String },
}

impl PathEntry {
    /// The folder; `None` for hex that is not hex.
    pub fn to_path(&self) -> Option<PathBuf> {
        match self {
            PathEntry::Text(text) => Some(PathBuf::from(text)),
            PathEntry::Bytes { hex } => {
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| {
                        hex.get(i..i + 2)
                            .and_then(|b| u8::from_str_radix(b, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>()?;
                #[cfg(unix)]
                let path = {
                    use std::os::unix::ffi::OsStringExt;
                    PathBuf::from(std::ffi::OsString::from_vec(bytes))
                };
                #[cfg(not(unix))]
                let path = PathBuf::from(String::from_utf8_lossy(&bytes).into_owned());
                Some(path)
            }
        }
    }
}

impl Interpreter {
    /// The `sys.path` folders, exactly.
    pub fn folders(&self) -> Vec<PathBuf> {
        self.path.iter().filter_map(PathEntry::to_path).collect()
    }
}

/// Cache entry: the interpreter's answer plus the folders it depends on.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    dir_stamps: Vec<(String, u128)>,
    info: Interpreter,
}

/// The interpreter mlcompat chose and, for a `./.venv`, the files its trust was decided on: every start
/// of it checks they are still those files.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub path: PathBuf,
    pub pin: Option<exec::Pin>,
}

pub struct PythonProbe {
    pub python: Option<Python>,
    pub failure: Option<String>,
    /// The interpreter's `sys.path` folders (where NVRTC's wheel may live).
    pub sys_path: Vec<PathBuf>,
    /// The interpreter mlcompat chose and ran (what `--deep` runs again; not `sys.executable`).
    pub interpreter: Option<Chosen>,
    /// Distributions that could not be read (a FIFO or device as METADATA, a folder without access).
    pub packages_problem: Option<String>,
}

impl PythonProbe {
    fn failed(failure: String, notes: Vec<String>) -> PythonProbe {
        let failure = if notes.is_empty() {
            failure
        } else {
            format!("{failure} ({})", notes.join("; "))
        };
        PythonProbe {
            python: None,
            failure: Some(failure),
            sys_path: vec![],
            interpreter: None,
            packages_problem: None,
        }
    }
}

pub fn probe(explicit: Option<&Path>, timeout: Duration, use_cache: bool) -> PythonProbe {
    // A relative VIRTUAL_ENV or CONDA_PREFIX would name a folder under the current one: not used (the
    // probe's notes say so).
    let env = |k: &str| match k {
        "VIRTUAL_ENV" | "CONDA_PREFIX" => exec::absolute_folder_var(k).map(PathBuf::into_os_string),
        _ => std::env::var_os(k).filter(|v| !v.is_empty()),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let explicit = match explicit.map(resolve_explicit).transpose() {
        Ok(p) => p,
        Err(e) => return PythonProbe::failed(e, vec![]),
    };
    let all = candidates(explicit.as_deref(), &env, &cwd, exec::resolve("python3"));
    let mut chosen: Option<Candidate> = None;
    let mut chosen_pin = None;
    let mut others = Vec::new();
    let mut notes = Vec::new();
    for c in all {
        if !c.path.is_file() {
            match c.chosen_by {
                "VIRTUAL_ENV" | "CONDA_PREFIX" => notes.push(format!(
                    "{}={}: no interpreter at {}, ignored",
                    c.chosen_by,
                    env(c.chosen_by).unwrap_or_default().to_string_lossy(),
                    c.path.display()
                )),
                _ => {}
            }
            continue;
        }
        let mut pin = None;
        if c.chosen_by == "./.venv" {
            match trust_venv(&cwd.join(".venv"), &c.path, &env) {
                Ok(trusted) => pin = Some(trusted),
                Err(why) => {
                    notes.push(why);
                    continue;
                }
            }
        }
        match &chosen {
            None => {
                chosen = Some(c);
                chosen_pin = pin;
            }
            Some(first) if same_file(&first.path, &c.path) => {}
            Some(_) => others.push(format!("{} ({})", c.path.display(), c.chosen_by)),
        }
    }
    let Some(chosen) = chosen else {
        return PythonProbe::failed(
            "no Python interpreter found (python3 not on PATH, no virtual environment)".into(),
            notes,
        );
    };
    let pyenv = pyenv_selection(&chosen.path, &cwd, &env);
    if let Some(p) = &pyenv {
        notes.push(p.describe(&chosen.path));
    }
    let interpreter = Chosen {
        path: chosen.path.clone(),
        pin: chosen_pin,
    };
    let info = match interpreter_info(&interpreter, &cwd, pyenv.as_ref(), timeout, use_cache) {
        Ok(info) => info,
        Err(e) => {
            let mut failed = PythonProbe::failed(e, notes);
            failed.interpreter = Some(interpreter);
            return failed;
        }
    };
    let (distributions, unread) = read_distributions(info.folders());
    let env = crate::pep508::MarkerEnv::for_interpreter(
        &info.version,
        &info.machine,
        &info.implementation,
    );
    let parsed = requirements::Parsed::new(&distributions);
    let unmet = requirements::check(&distributions, &parsed, &env);
    let unused_cuda = requirements::unused_cuda_wheels(&distributions, &parsed, &env);
    drop(parsed);
    let packages = distributions
        .into_iter()
        .map(|(name, d)| (name, d.version))
        .collect();
    PythonProbe {
        python: Some(Python {
            // The interpreter's own path (a pyenv shim or a venv symlink resolves to the real one).
            path: Some(if info.executable.is_empty() {
                chosen.path.display().to_string()
            } else {
                info.executable.clone()
            }),
            version: info.version.parse().ok(),
            arch: Arch::from_name(&info.machine),
            implementation: Some(info.implementation.clone()),
            chosen_by: Some(chosen.chosen_by.to_string()),
            others,
            notes,
            packages,
            unmet_requirements: Some(unmet),
            unused_cuda_wheels: Some(unused_cuda),
            damaged_files: None,
        }),
        failure: None,
        sys_path: info.folders(),
        interpreter: Some(interpreter),
        packages_problem: describe_unread(&unread),
    }
}

fn describe_unread(unread: &[(PathBuf, String)]) -> Option<String> {
    if unread.is_empty() {
        return None;
    }
    let shown: Vec<String> = unread
        .iter()
        .take(3)
        .map(|(path, why)| format!("{}: {why}", path.display()))
        .collect();
    let more = unread.len().saturating_sub(3);
    let mut text = format!(
        "{} installed distribution{} not read: {}",
        unread.len(),
        if unread.len() == 1 { "" } else { "s" },
        shown.join("; ")
    );
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    Some(text)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A `./.venv` is run only when what decides what it runs belongs to the user or root: the folder that
/// holds it (whoever owns it can rename `.venv` to another), the venv, its `bin` folder and its
/// interpreter (the link and what it points to), and what Python reads at startup — `pyvenv.cfg`, the
/// `lib/python*/site-packages` folders and every `.pth` file in them (a `.pth` line runs code) — or
/// `MLCOMPAT_TRUST_VENV` names it (`*` for any).
fn trust_venv(
    venv: &Path,
    python: &Path,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<exec::Pin, String> {
    let canonical = venv.canonicalize().unwrap_or_else(|_| venv.to_path_buf());
    // Every folder the interpreter's path walks through, the interpreter (the link) and what it points
    // to, pinned before the owners are read and checked again after: each later start checks they are
    // still these files.
    let mut walked: Vec<PathBuf> = python.ancestors().map(Path::to_path_buf).collect();
    walked.extend(python.canonicalize().ok());
    let pin = exec::Pin::of(&walked);
    if let Some(list) = env(TRUST_VENV_VAR) {
        let trusted = list == "*"
            || std::env::split_paths(&list)
                .any(|p| p == venv || p.canonicalize().is_ok_and(|p| p == canonical));
        if trusted {
            return Ok(pin);
        }
    }
    let mut checked: Vec<PathBuf> = Vec::new();
    if let Some(holder) = canonical.parent() {
        checked.push(holder.to_path_buf());
    }
    checked.extend([
        venv.to_path_buf(),
        venv.join("bin"),
        python.to_path_buf(),
        venv.join("pyvenv.cfg"),
    ]);
    checked.extend(startup_files(venv));
    let paths: Vec<&Path> = checked.iter().map(PathBuf::as_path).collect();
    let owners = owners(&paths);
    if let Some(swapped) = pin.changed() {
        return Err(format!(
            "./.venv ({}) not run: {} was replaced while it was checked",
            venv.display(),
            swapped.display()
        ));
    }
    untrusted_owner(&owners, my_uid()).map_or(Ok(pin), |(path, uid)| {
        Err(format!(
            "./.venv ({}) not run: {} is owned by uid {uid}, not by you or root (to trust it: \
             {TRUST_VENV_VAR}={} or --python {})",
            venv.display(),
            path.display(),
            canonical.display(),
            venv.display()
        ))
    })
}

/// What the venv's Python reads at startup besides `pyvenv.cfg`: its `lib`/`lib64` folders, each
/// `python*` folder and `site-packages` in them, and every `.pth` file there (at most a few hundred
/// entries are looked at: a venv's site-packages folder is listed, not walked).
fn startup_files(venv: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lib in ["lib", "lib64"] {
        let lib = venv.join(lib);
        let Ok(entries) = std::fs::read_dir(&lib) else {
            continue;
        };
        out.push(lib.clone());
        for entry in entries.flatten().take(16) {
            let version = entry.path();
            if !entry.file_name().to_string_lossy().starts_with("python") {
                continue;
            }
            let site = version.join("site-packages");
            out.push(version);
            if let Ok(files) = std::fs::read_dir(&site) {
                out.extend(
                    files
                        .flatten()
                        .take(4096)
                        .map(|f| f.path())
                        .filter(|f| f.extension().is_some_and(|e| e == "pth")),
                );
                out.push(site);
            }
        }
    }
    out
}

/// The first (path, owner) owned by neither `me` nor root.
fn untrusted_owner(owners: &[(PathBuf, u32)], me: u32) -> Option<(PathBuf, u32)> {
    owners
        .iter()
        .find(|(_, uid)| *uid != me && *uid != 0)
        .cloned()
}

#[cfg(unix)]
fn my_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(not(unix))]
fn my_uid() -> u32 {
    0
}

/// Owners of each path and, for a link, of what it points to.
#[cfg(unix)]
fn owners(paths: &[&Path]) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for path in paths {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            out.push((path.to_path_buf(), meta.uid()));
            if meta.file_type().is_symlink() {
                if let Ok(target) = std::fs::metadata(path) {
                    let shown = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
                    out.push((shown, target.uid()));
                }
            }
        }
    }
    out
}

#[cfg(not(unix))]
fn owners(_: &[&Path]) -> Vec<(PathBuf, u32)> {
    Vec::new()
}

/// The folder Python children start in: nothing there is imported, even by a Python that puts its
/// working folder on `sys.path` (an empty `PYTHONPATH` entry does).
fn neutral_dir() -> PathBuf {
    if cfg!(unix) {
        PathBuf::from("/")
    } else {
        std::env::temp_dir()
    }
}

/// A Python command isolated from the current folder (see the module docs); `cwd` is the user's folder,
/// where a pyenv shim still looks for `.python-version`.
pub fn isolated(python: &Chosen, cwd: &Path) -> exec::Cmd {
    let mut cmd = exec::Cmd::new(&python.path)
        .cwd(neutral_dir())
        .env("PYTHONSAFEPATH", "1");
    if std::env::var_os("PYENV_DIR").is_none() {
        cmd = cmd.env("PYENV_DIR", cwd);
    }
    if let Some(pin) = &python.pin {
        cmd = cmd.pinned(pin.clone());
    }
    cmd
}

/// Asks the interpreter (or the cache) for its version, architecture and `sys.path`.
fn interpreter_info(
    interpreter: &Chosen,
    cwd: &Path,
    pyenv: Option<&PyenvSelection>,
    timeout: Duration,
    use_cache: bool,
) -> Result<Interpreter, String> {
    let python = interpreter.path.as_path();
    let key = cache_key(python, pyenv);
    if let (true, Some(key)) = (use_cache, &key) {
        if let Some(cached) = cache::read::<Cached>("python", key) {
            if cached.dir_stamps == dir_stamps(&cached.info.folders()) {
                return Ok(cached.info);
            }
        }
    }
    let name = python.file_name().map_or_else(
        || python.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let out = isolated(interpreter, cwd)
        .args(["-c", INFO_SCRIPT])
        .run(&exec::Budget::new(timeout))
        .map_err(|e| e.to_string())?;
    let info: Interpreter = serde_json::from_str(out.stdout.trim()).map_err(|_| {
        let shown: String = out.stdout.trim().chars().take(120).collect();
        format!("{name} printed unexpected output instead of its version and path: {shown}")
    })?;
    if let (true, Some(key)) = (use_cache, &key) {
        cache::write(
            "python",
            key,
            &Cached {
                dir_stamps: dir_stamps(&info.folders()),
                info: info.clone(),
            },
        );
    }
    Ok(info)
}

/// Everything the interpreter's answer depends on: the interpreter file (identity through links, and the
/// link itself), its environment's `pyvenv.cfg`, the variables that move `sys.path` (`PYTHONPATH`,
/// `PYTHONHOME`, user site: `HOME`, `PYTHONUSERBASE`, `PYTHONNOUSERSITE`), the user base folders (a first
/// `pip install --user` creates them), a pyenv shim's selected version, and the probe script itself.
/// The folders on `sys.path` are checked separately when an entry is read. `None`: do not cache.
fn cache_key(python: &Path, pyenv: Option<&PyenvSelection>) -> Option<String> {
    if pyenv.is_none() && cache::is_shim(python) {
        return None;
    }
    let target = cache::identity(python)?;
    let link = link_identity(python);
    let env: Vec<String> = [
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONNOUSERSITE",
        "PYTHONUSERBASE",
        "PYTHONPLATLIBDIR",
        "PYTHONSAFEPATH",
        "HOME",
        "APPDATA",
    ]
    .iter()
    // Debug form: bytes that are not UTF-8 stay distinct (`"caf\xE9"`).
    .map(|k| format!("{k}={:?}", std::env::var_os(k).unwrap_or_default()))
    .collect();
    let pyvenv = python
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join("pyvenv.cfg"))
        .and_then(|cfg| cache::identity(&cfg))
        .unwrap_or_default();
    let user_bases: Vec<String> = user_bases()
        .iter()
        .flat_map(|b| [b.clone(), b.join("lib")])
        .map(|d| format!("{}={}", d.display(), stamp(&d)))
        .collect();
    let pyenv = pyenv.map(PyenvSelection::key).unwrap_or_default();
    Some(format!(
        "{target}|{link}|{}|{pyvenv}|{}|{pyenv}|script={:016x}",
        env.join(","),
        user_bases.join(","),
        fnv(INFO_SCRIPT)
    ))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The link itself (its inode and change time), when `path` is a symbolic link.
fn link_identity(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(path).unwrap_or_default();
                return format!(
                    "link:{}:{}:{}",
                    meta.ino(),
                    meta.ctime_nsec() + meta.ctime() * 1_000_000_000,
                    target.display()
                );
            }
        }
    }
    let _ = path;
    String::new()
}

/// Where `pip install --user` puts packages: `PYTHONUSERBASE`, else `~/.local` (and on macOS
/// `~/Library/Python`), `%APPDATA%\Python` on Windows.
fn user_bases() -> Vec<PathBuf> {
    if let Some(base) = std::env::var_os("PYTHONUSERBASE").filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(base)];
    }
    let mut out = Vec::new();
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        let home = PathBuf::from(home);
        out.push(home.join(".local"));
        if cfg!(target_os = "macos") {
            out.push(home.join("Library/Python"));
        }
    }
    if let Some(appdata) = std::env::var_os("APPDATA").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(appdata).join("Python"));
    }
    out
}

fn stamp(path: &Path) -> u128 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

fn dir_stamps(dirs: &[PathBuf]) -> Vec<(String, u128)> {
    dirs.iter()
        .map(|d| (d.display().to_string(), stamp(d)))
        .collect()
}

/// The version a pyenv shim runs, and what set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyenvSelection {
    /// Version names, in order (`PYENV_VERSION=3.12.1:3.11.7`).
    pub versions: Vec<String>,
    /// `PYENV_VERSION`, the `.python-version` file, or the global `version` file.
    pub origin: String,
    /// The interpreter the shim will run, when it can be told without running pyenv.
    pub interpreter: Option<PathBuf>,
}

impl PyenvSelection {
    fn key(&self) -> String {
        format!(
            "pyenv:{}@{}:{}",
            self.versions.join(":"),
            self.origin,
            self.interpreter
                .as_deref()
                .and_then(cache::identity)
                .unwrap_or_default()
        )
    }

    fn describe(&self, shim: &Path) -> String {
        let versions = if self.versions.is_empty() {
            "system".to_string()
        } else {
            self.versions.join(":")
        };
        format!(
            "{} is a pyenv shim: version {versions} (set by {})",
            shim.display(),
            self.origin
        )
    }
}

/// When `python` is a pyenv shim (`$PYENV_ROOT/shims/NAME`), the version it selects from the user's
/// folder: `PYENV_VERSION`, else the nearest `.python-version` from `PYENV_DIR` (or the current folder)
/// up, else `$PYENV_ROOT/version`, else `system` — pyenv's own order.
pub fn pyenv_selection(
    python: &Path,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<PyenvSelection> {
    let shims = python.parent()?;
    if shims.file_name()? != "shims" {
        return None;
    }
    let root = shims.parent()?;
    if !root.join("versions").is_dir() {
        return None;
    }
    let program = python.file_name()?;
    let (versions, origin) = if let Some(v) = env("PYENV_VERSION") {
        (
            split_versions(&v.to_string_lossy()),
            "PYENV_VERSION".to_string(),
        )
    } else {
        let start = env("PYENV_DIR").map_or_else(|| cwd.to_path_buf(), PathBuf::from);
        let local = start
            .ancestors()
            .map(|d| d.join(".python-version"))
            .find(|f| f.is_file());
        match local {
            Some(file) => (
                files::read_system(&file)
                    .map(|t| split_versions(&t))
                    .unwrap_or_default(),
                file.display().to_string(),
            ),
            None => {
                let global = root.join("version");
                (
                    files::read_system(&global)
                        .map(|t| split_versions(&t))
                        .unwrap_or_default(),
                    global.display().to_string(),
                )
            }
        }
    };
    let interpreter = versions.iter().find_map(|v| {
        if v == "system" {
            return None;
        }
        let candidate = root.join("versions").join(v).join("bin").join(program);
        candidate.is_file().then_some(candidate)
    });
    Some(PyenvSelection {
        versions,
        origin,
        interpreter,
    })
}

/// Version names in a `.python-version` file or `PYENV_VERSION`: words, `#` comments ignored.
fn split_versions(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every distribution on `path`, first one per name wins (as `importlib.metadata` and pip resolve it),
/// and the ones that could not be read, with why (a METADATA that is a FIFO, a device or missing; a
/// folder without permission).
pub fn read_distributions(
    path: impl IntoIterator<Item = PathBuf>,
) -> (BTreeMap<String, Distribution>, Vec<(PathBuf, String)>) {
    let mut found: BTreeMap<String, Distribution> = BTreeMap::new();
    let mut unread: Vec<(PathBuf, String)> = Vec::new();
    for dir in path {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                unread.push((dir.clone(), files::ReadError::from(e).to_string()));
                continue;
            }
        };
        entries.sort();
        if dir.extension().is_some_and(|e| e == "egg") {
            entries.push(dir.join("EGG-INFO"));
        }
        for entry in entries {
            let (metadata, egg_requires) = match entry.extension().and_then(|e| e.to_str()) {
                Some("dist-info") => (entry.join("METADATA"), None),
                Some("egg-info") if entry.is_dir() => {
                    (entry.join("PKG-INFO"), Some(entry.join("requires.txt")))
                }
                Some("egg-info") => (entry.clone(), None),
                _ if entry.file_name().is_some_and(|n| n == "EGG-INFO") => {
                    (entry.join("PKG-INFO"), Some(entry.join("requires.txt")))
                }
                _ => continue,
            };
            let meta = match read_metadata_headers(&metadata) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => {
                    unread.push((metadata, e.to_string()));
                    continue;
                }
            };
            let Ok(version) = meta.version.parse::<PyVersion>() else {
                continue;
            };
            let name = normalize_package(&meta.name);
            if found.contains_key(&name) {
                continue;
            }
            let mut requires = meta.requires;
            // Eggs keep their requirements beside PKG-INFO, in setuptools' requires.txt sections.
            if let Some(path) = egg_requires.filter(|_| requires.is_empty()) {
                requires = read_egg_requires(&path);
            }
            found.insert(name, Distribution { version, requires });
        }
    }
    (found, unread)
}

/// setuptools' `requires.txt`: bare lines are requirements; a `[extra:marker]` section header applies
/// its extra and marker to the lines under it. Unreadable: none (the check then finds nothing to say).
fn read_egg_requires(path: &Path) -> Vec<String> {
    let Ok(file) = files::open_regular(path, files::Links::Follow) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for line in BufReader::new(file.take(files::MAX_METADATA_BYTES))
        .lines()
        .map_while(Result::ok)
    {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, marker) = header.split_once(':').unwrap_or((header, ""));
            let mut parts = Vec::new();
            if !extra.is_empty() {
                parts.push(format!("extra == \"{extra}\""));
            }
            if !marker.is_empty() {
                parts.push(format!("({marker})"));
            }
            section = Some(parts.join(" and ")).filter(|s| !s.is_empty());
            continue;
        }
        out.push(match &section {
            Some(m) => format!("{line}; {m}"),
            None => line.to_string(),
        });
    }
    out
}

/// A core metadata file's headers that the probe uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub requires: Vec<String>,
}

/// `Name`, `Version` and `Requires-Dist` from a core metadata file (a regular file, opened without
/// blocking, read through a cap); stops at the end of the headers. `Ok(None)`: readable, but without
/// both `Name` and `Version`.
pub fn read_metadata_headers(path: &Path) -> Result<Option<Metadata>, files::ReadError> {
    let file = files::open_regular(path, files::Links::Follow)?;
    Ok(parse_metadata_headers(BufReader::new(
        file.take(files::MAX_METADATA_BYTES),
    )))
}

/// `Name` and `Version` of a core metadata file.
pub fn parse_metadata(reader: impl BufRead) -> Option<(String, String)> {
    parse_metadata_headers(reader).map(|m| (m.name, m.version))
}

pub fn parse_metadata_headers(mut reader: impl BufRead) -> Option<Metadata> {
    let (mut name, mut version) = (None, None);
    let mut requires = Vec::new();
    // Bytes, one buffer: headers can hold a long folded `Description`, read here line by line.
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_string();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        if let Some(v) = line.strip_prefix(b"Name:") {
            if name.is_none() {
                name = Some(text(v));
            }
        } else if let Some(v) = line.strip_prefix(b"Version:") {
            if version.is_none() {
                version = Some(text(v));
            }
        } else if let Some(v) = line.strip_prefix(b"Requires-Dist:") {
            requires.push(text(v));
        }
    }
    Some(Metadata {
        name: name?,
        version: version?,
        requires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_headers() {
        let text = "Metadata-Version: 2.1\nName: flash_attn\nVersion: 2.7.4.post1\nSummary: x\n\nName: not-me\n";
        assert_eq!(
            parse_metadata(text.as_bytes()),
            Some(("flash_attn".into(), "2.7.4.post1".into()))
        );
        assert_eq!(parse_metadata("Name: x\n".as_bytes()), None);
    }

    #[test]
    fn candidate_order() {
        let env = |k: &str| match k {
            "VIRTUAL_ENV" => Some("/venv".into()),
            "CONDA_PREFIX" => Some("/conda".into()),
            _ => None,
        };
        let c = candidates(
            Some(Path::new("/x/python")),
            &env,
            Path::new("/work"),
            Some(PathBuf::from("/usr/bin/python3")),
        );
        let order: Vec<&str> = c.iter().map(|c| c.chosen_by).collect();
        assert_eq!(
            order,
            vec!["--python", "VIRTUAL_ENV", "CONDA_PREFIX", "./.venv", "PATH"]
        );
        assert_eq!(c[1].path, PathBuf::from("/venv/bin/python"));
        assert_eq!(c[3].path, PathBuf::from("/work/.venv/bin/python"));
    }

    #[test]
    fn only_the_user_and_root_are_trusted_owners() {
        let owners = vec![
            (PathBuf::from("/w/.venv"), 1000),
            (PathBuf::from("/w/.venv/bin"), 0),
            (PathBuf::from("/w/.venv/bin/python"), 1001),
        ];
        assert_eq!(
            untrusted_owner(&owners, 1000),
            Some((PathBuf::from("/w/.venv/bin/python"), 1001))
        );
        assert_eq!(untrusted_owner(&owners[..2], 1000), None);
        assert_eq!(
            untrusted_owner(&owners[..2], 1001),
            Some((PathBuf::from("/w/.venv"), 1000))
        );
    }

    #[test]
    fn pyenv_versions_and_files() {
        assert_eq!(
            split_versions("3.12.1\n# a comment\n3.11.7 system\n"),
            vec!["3.12.1", "3.11.7", "system"]
        );
        assert_eq!(split_versions("3.13.0:3.12.1"), vec!["3.13.0", "3.12.1"]);
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for v in ["3.12.1", "3.13.0"] {
            std::fs::create_dir_all(r.join("versions").join(v).join("bin")).unwrap();
            std::fs::write(r.join("versions").join(v).join("bin/python3"), "").unwrap();
        }
        std::fs::create_dir_all(r.join("shims")).unwrap();
        std::fs::write(r.join("version"), "3.12.1\n").unwrap();
        let project = r.join("project/sub");
        std::fs::create_dir_all(&project).unwrap();
        let shim = r.join("shims/python3");
        let no_env = |_: &str| None;
        let global = pyenv_selection(&shim, &project, &no_env).unwrap();
        assert_eq!(global.versions, vec!["3.12.1"]);
        assert_eq!(
            global.interpreter,
            Some(r.join("versions/3.12.1/bin/python3"))
        );
        std::fs::write(r.join("project/.python-version"), "3.13.0\n").unwrap();
        let local = pyenv_selection(&shim, &project, &no_env).unwrap();
        assert_eq!(local.versions, vec!["3.13.0"]);
        assert!(local.origin.ends_with(".python-version"));
        let by_env = |k: &str| (k == "PYENV_VERSION").then(|| "system".into());
        let system = pyenv_selection(&shim, &project, &by_env).unwrap();
        assert_eq!(
            (system.origin.as_str(), system.interpreter),
            ("PYENV_VERSION", None)
        );
        assert_ne!(global.key(), local.key());
        assert_eq!(
            pyenv_selection(Path::new("/usr/bin/python3"), &project, &no_env),
            None
        );
    }

    #[test]
    fn explicit_interpreters() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        assert!(resolve_explicit(&venv)
            .unwrap_err()
            .contains("has no bin/python"));
        std::fs::write(venv.join("bin/python"), "").unwrap();
        assert_eq!(resolve_explicit(&venv).unwrap(), venv.join("bin/python"));
        assert_eq!(
            resolve_explicit(&venv.join("bin/python")).unwrap(),
            venv.join("bin/python")
        );
        assert_eq!(
            resolve_explicit(&dir.path().join("nope")).unwrap_err(),
            format!(
                "--python {}: no such file or folder",
                dir.path().join("nope").display()
            )
        );
        assert!(resolve_explicit(Path::new("mlcompat-no-such-python"))
            .unwrap_err()
            .contains("no such program on PATH"));
    }

    #[test]
    fn reads_dist_info_egg_info_first_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        for (root, name, version) in [
            (&a, "torch-2.6.0+cu126.dist-info", "2.6.0+cu126"),
            (&b, "torch-2.5.0.dist-info", "2.5.0"),
        ] {
            std::fs::create_dir_all(root.join(name)).unwrap();
            std::fs::write(
                root.join(name).join("METADATA"),
                format!("Metadata-Version: 2.1\nName: torch\nVersion: {version}\n\nbody"),
            )
            .unwrap();
        }
        std::fs::write(
            b.join("old_pkg-1.0-py3.11.egg-info"),
            "Metadata-Version: 1.1\nName: Old_Pkg\nVersion: 1.0\n",
        )
        .unwrap();
        std::fs::create_dir_all(b.join("broken.dist-info")).unwrap();
        let (found, unread) = read_distributions([a, b.clone()]);
        assert_eq!(found["torch"].version.to_string(), "2.6.0+cu126");
        assert_eq!(found["old-pkg"].version.to_string(), "1.0");
        assert_eq!(found.len(), 2);
        assert_eq!(
            unread,
            vec![(
                b.join("broken.dist-info/METADATA"),
                "no such file or directory".to_string()
            )]
        );
        assert_eq!(
            describe_unread(&unread).unwrap(),
            format!(
                "1 installed distribution not read: {}: no such file or directory",
                b.join("broken.dist-info/METADATA").display()
            )
        );
    }
}
