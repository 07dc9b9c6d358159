//! The one place that starts programs, for the probes and the GPU worker alike (so it sits below both).
//! Each run: the binary resolved on PATH (no shell), stdin closed, `LC_ALL=C`, stdout and stderr
//! captured up to a cap, a time budget shared by all the programs one probe runs. When the program exits
//! — or its budget runs out — nothing it started survives it (see [`descendants`]), and everything it
//! printed up to then is kept, even when a background child it left behind still held the pipe. A program
//! that a kill does not end (stuck in the kernel) is waited for a bounded time, then left behind and named.
//! Every way it can go wrong is a value that says what happened.

#[cfg(unix)]
mod descendants;
#[cfg(unix)]
pub mod interrupt;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Output kept per stream; probes read version lines and small JSON documents.
const OUTPUT_CAP: usize = 4 * 1024 * 1024;
/// How long to wait for the output pipes once everything the program started is gone (only a process
/// mlcompat may not signal, such as a set-user-ID one, can still hold them).
const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// How long a killed program has to go. SIGKILL takes effect when a process next leaves the kernel; one in
/// uninterruptible sleep (a GPU worker stuck in the driver after an Xid 79 or 45, a reader of a dead NFS
/// mount) may never leave it, and waiting for it without a bound would hang mlcompat too.
const REAP_PATIENCE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    NotFound {
        program: String,
    },
    /// The probe's budget ran out while the program ran (`after`: how long this program had).
    TimedOut {
        program: String,
        after: Duration,
        budget: Duration,
    },
    /// The budget ran out, and the program was still there `REAP_PATIENCE` after SIGKILL: stuck in the
    /// kernel. It is left behind, unreaped.
    Unkillable {
        program: String,
        pid: u32,
        after: Duration,
    },
    Failed {
        program: String,
        code: Option<i32>,
        /// The signal that ended it, when one did (a crash, or a kill from outside).
        signal: Option<i32>,
        stderr_tail: String,
    },
    NotUtf8 {
        program: String,
    },
    Io {
        program: String,
        message: String,
    },
    /// It printed more than is kept of a stream: an answer cut short is not read as whole.
    TooLong {
        program: String,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NotFound { program } => write!(f, "{program} not found on PATH"),
            RunError::TimedOut {
                program,
                after,
                budget,
            } => {
                if after.is_zero() {
                    write!(
                        f,
                        "{program} not run: the probe's {} budget was spent",
                        seconds(*budget)
                    )
                } else if *after + Duration::from_millis(50) >= *budget {
                    write!(f, "{program} timed out after {}", seconds(*budget))
                } else {
                    write!(
                        f,
                        "{program} timed out after {} (the probe's {} budget ran out)",
                        seconds(*after),
                        seconds(*budget)
                    )
                }
            }
            RunError::Unkillable {
                program,
                pid,
                after,
            } => write!(
                f,
                "{program} timed out after {} and could not be ended: pid {pid} was still there {} \
                 after SIGKILL (stuck in the kernel), and was left behind",
                seconds(*after),
                seconds(REAP_PATIENCE)
            ),
            RunError::Failed {
                program,
                code,
                signal,
                stderr_tail,
            } => {
                match (code, signal) {
                    (Some(c), _) => write!(f, "{program} exited with status {c}")?,
                    (None, Some(s)) => write!(f, "{program} was killed by {}", signal_name(*s))?,
                    (None, None) => write!(f, "{program} was killed by a signal")?,
                }
                if !stderr_tail.is_empty() {
                    write!(f, ": {stderr_tail}")?;
                }
                Ok(())
            }
            RunError::NotUtf8 { program } => {
                write!(f, "{program} printed output that is not UTF-8")
            }
            RunError::Io { program, message } => write!(f, "{program}: {message}"),
            RunError::TooLong { program } => write!(
                f,
                "{program} printed more than {} MiB on one stream; its answer was not read",
                OUTPUT_CAP / (1024 * 1024)
            ),
        }
    }
}

/// A signal in words: `signal 11 (SIGSEGV)`.
pub fn signal_name(signal: i32) -> String {
    // The platform's own numbers: SIGBUS is 7 on Linux and 10 on macOS.
    #[cfg(unix)]
    let name = match signal {
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    #[cfg(not(unix))]
    let name = "a signal";
    format!("signal {signal} ({name})")
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 && (s - s.round()).abs() < 0.05 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

/// The time one probe may spend on all the programs it runs (`--timeout`), counted from its creation.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    start: Instant,
    limit: Duration,
}

impl Budget {
    pub fn new(limit: Duration) -> Budget {
        Budget {
            start: Instant::now(),
            limit,
        }
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    pub fn left(&self) -> Duration {
        self.limit.saturating_sub(self.start.elapsed())
    }
}

/// Finds `program` on PATH (or takes it as a path when it contains a slash), as an absolute path: a
/// program may run in another folder than mlcompat's. Only absolute PATH entries are searched: `.`, an
/// empty entry (`::`, a leading or trailing `:`) or any relative one would run a program from the
/// current folder, which Go's os/exec refuses too since 1.19 (`exec.ErrDot`); [`skipped_path_entries`]
/// names them for the report.
pub fn resolve(program: impl AsRef<OsStr>) -> Option<PathBuf> {
    let program = program.as_ref();
    if program.as_encoded_bytes().contains(&b'/') {
        let path = Path::new(program);
        return path
            .is_file()
            .then(|| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    }
    // The folder only matters for relative entries, and none is left.
    which::which_in(program, Some(searched_path()?), Path::new("/")).ok()
}

/// PATH with only its absolute entries: what [`resolve`] searches, and the PATH every program started
/// gets, so a shim's own lookup (`#!/usr/bin/env bash`, `exec asdf …`) cannot reach the current folder
/// either. `None` when PATH is unset or has no absolute entry.
fn searched_path() -> Option<OsString> {
    let path = std::env::var_os("PATH")?;
    let absolute: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .collect();
    if absolute.is_empty() {
        return None;
    }
    std::env::join_paths(absolute).ok()
}

/// Environment variables that name a folder programs are run from (`CUDA_HOME/bin/nvcc`,
/// `VIRTUAL_ENV/bin/python`): a relative value names one under the current folder, and is not used.
pub const FOLDER_VARIABLES: &[&str] = &["CUDA_HOME", "CUDA_PATH", "VIRTUAL_ENV", "CONDA_PREFIX"];

/// `key`'s value when it is an absolute path (see [`FOLDER_VARIABLES`]).
pub fn absolute_folder_var(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The [`FOLDER_VARIABLES`] set to a relative path, as `KEY=value` for the report.
pub fn relative_folder_vars() -> Vec<String> {
    FOLDER_VARIABLES
        .iter()
        .filter_map(|k| {
            let v = std::env::var_os(k).filter(|v| !v.is_empty())?;
            (!Path::new(&v).is_absolute())
                .then(|| format!("{k}={}", crate::terminal::escape(&v.to_string_lossy())))
        })
        .collect()
}

/// The PATH entries [`resolve`] does not search, as written (`.` for the current folder, `(empty)` for
/// an empty entry), in order and without repeats.
pub fn skipped_path_entries(path: &OsStr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dir in std::env::split_paths(path).filter(|d| !d.is_absolute()) {
        let shown = if dir.as_os_str().is_empty() {
            "(empty)".to_string()
        } else {
            crate::terminal::escape(&dir.to_string_lossy()).into_owned()
        };
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    out
}

/// A program to run: argv, and optionally a working folder and extra environment variables.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// As given: a path need not be UTF-8.
    program: OsString,
    /// Files that must still be the ones trusted when it starts.
    pin: Option<Pin>,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        Cmd {
            program: program.as_ref().to_owned(),
            pin: None,
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Starts it only while `pin`'s files are still the ones trust was decided on.
    pub fn pinned(mut self, pin: Pin) -> Cmd {
        self.pin = Some(pin);
        self
    }

    /// Runs the program in `dir` instead of the current folder.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cmd {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Runs it within what is left of `budget`; `Ok` when it exits 0.
    pub fn run(&self, budget: &Budget) -> Result<Output, RunError> {
        let done = run_cmd(self, budget)?;
        let name = self.name();
        if !done.status.success() {
            return Err(RunError::Failed {
                program: name,
                code: done.status.code(),
                signal: exit_signal(&done.status),
                stderr_tail: tail(&String::from_utf8_lossy(&done.stderr), 300),
            });
        }
        let stdout =
            String::from_utf8(done.stdout).map_err(|_| RunError::NotUtf8 { program: name })?;
        Ok(Output {
            stdout,
            stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
            elapsed: done.elapsed,
        })
    }

    /// Runs it within what is left of `budget` and returns what it printed and how it ended, whatever
    /// its exit status: a failing program's message may be on either stream (nvidia-smi prints "Failed
    /// to initialize NVML" on stdout and exits 18). Only a missing program, a timeout or an I/O failure
    /// are errors.
    pub fn run_to_end(&self, budget: &Budget) -> Result<Completed, RunError> {
        let done = run_cmd(self, budget)?;
        Ok(Completed {
            code: done.status.code(),
            signal: exit_signal(&done.status),
            stdout: String::from_utf8_lossy(&done.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
            elapsed: done.elapsed,
        })
    }

    /// The program's file name, for messages (lossily: it is only shown).
    fn name(&self) -> String {
        let path = Path::new(&self.program);
        path.file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy()
            .into_owned()
    }
}

/// Files pinned by identity when they were trusted: each path's device and inode, not following a last
/// link. Checked again just before each start, so a path swapped since (a `./.venv` renamed by whoever
/// owns a folder above it) is not run — the exec by path would otherwise run whatever is there now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pin {
    files: Vec<(PathBuf, Option<(u64, u64)>)>,
}

impl Pin {
    /// The identities of `paths` now (a missing path is pinned as missing).
    pub fn of(paths: &[PathBuf]) -> Pin {
        Pin {
            files: paths.iter().map(|p| (p.clone(), file_id(p))).collect(),
        }
    }

    /// The first path that is no longer the file it was.
    pub fn changed(&self) -> Option<&Path> {
        self.files
            .iter()
            .find(|(path, id)| file_id(path) != *id)
            .map(|(path, _)| path.as_path())
    }
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path).ok().map(|_| (0, 0))
}

/// Runs `program args…` and returns its output when it exits 0 within `timeout`.
pub fn run(
    program: impl AsRef<OsStr>,
    args: &[&str],
    timeout: Duration,
) -> Result<Output, RunError> {
    Cmd::new(program).args(args).run(&Budget::new(timeout))
}

/// A program that ran to its end, whatever its exit status.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended it, when one did (a crash: SIGSEGV, SIGABRT).
    pub signal: Option<i32>,
    /// Both streams, lossily decoded.
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// What a run that ended (not timed out) left behind.
struct Ended {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
}

fn run_cmd(cmd: &Cmd, budget: &Budget) -> Result<Ended, RunError> {
    let name = cmd.name();
    let path = resolve(&cmd.program).ok_or_else(|| RunError::NotFound {
        program: name.clone(),
    })?;
    let timeout = budget.left();
    if timeout.is_zero() {
        return Err(RunError::TimedOut {
            program: name,
            after: Duration::ZERO,
            budget: budget.limit(),
        });
    }
    let io = |e: std::io::Error| RunError::Io {
        program: name.clone(),
        message: e.to_string(),
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that spawns processes"
    )]
    let mut command = Command::new(&path);
    command
        .args(&cmd.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    match searched_path() {
        Some(path) => command.env("PATH", path),
        // An empty PATH would make execvp search the current folder.
        None => command.env("PATH", "/usr/bin:/bin"),
    };
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    #[cfg(unix)]
    let tree = {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        interrupt::die_with_parent(&mut command);
        let tree = descendants::Tree::new();
        command.env(descendants::MARK_VAR, tree.mark());
        tree
    };
    // Last thing before the start: the files trusted are still those files.
    if let Some(changed) = cmd.pin.as_ref().and_then(Pin::changed) {
        return Err(RunError::Io {
            program: name.clone(),
            message: format!(
                "not run: {} was replaced since it was checked",
                changed.display()
            ),
        });
    }
    let start = Instant::now();
    #[cfg(unix)]
    let mut child = tree.spawn(&mut command).map_err(io)?;
    #[cfg(not(unix))]
    let mut child = command.spawn().map_err(io)?;
    // Without a thread to read its output the program could fill a pipe and stall: it is ended at once
    // and the run fails with the reason, as a fact.
    let captures = Capture::start(child.stdout.take())
        .and_then(|stdout| Capture::start(child.stderr.take()).map(|stderr| (stdout, stderr)));
    let waited = match &captures {
        Ok(_) => wait_for_exit(&mut child, timeout, start),
        Err(_) => Ok(false),
    };
    // Whatever happened, nothing the program started outlives it. Its pid is still held (not reaped yet),
    // so its process group cannot have been reused.
    #[cfg(unix)]
    tree.end(&child);
    #[cfg(not(unix))]
    if !matches!(waited, Ok(true)) {
        let _ = child.kill();
    }
    let status = reap_within(&mut child, REAP_PATIENCE);
    #[cfg(unix)]
    match status {
        Ok(None) => tree.abandon(&child),
        _ => tree.reaped(&child),
    }
    let (stdout, stderr) = captures.map_err(|e| RunError::Io {
        program: name.clone(),
        message: format!(
            "could not start a thread to read its output ({e}; a process limit such as ulimit -u?)"
        ),
    })?;
    let exited = waited.map_err(io)?;
    let Some(status) = status.map_err(io)? else {
        return Err(RunError::Unkillable {
            program: name,
            pid: child.id(),
            after: timeout,
        });
    };
    let (out, err) = (stdout.finish(), stderr.finish());
    let elapsed = start.elapsed();
    if !exited {
        return Err(RunError::TimedOut {
            program: name,
            after: timeout,
            budget: budget.limit(),
        });
    }
    if out.cut || err.cut {
        return Err(RunError::TooLong { program: name });
    }
    Ok(Ended {
        status,
        stdout: out.bytes,
        stderr: err.bytes,
        elapsed,
    })
}

#[cfg(unix)]
fn exit_signal(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn exit_signal(_: &ExitStatus) -> Option<i32> {
    None
}

/// Waits until the child exits (true) or `timeout` passes (false). On Unix the child is left unreaped,
/// so its pid and process group stay reserved while what it started is ended.
fn wait_for_exit(child: &mut Child, timeout: Duration, start: Instant) -> std::io::Result<bool> {
    Ok(poll_until(start, timeout, || Ok(has_exited(child)?.then_some(())))?.is_some())
}

/// Reaps `child` once it has exited, waiting at most `patience`; `Ok(None)` when it is still there, left
/// unreaped. Its kill has been sent: a process still there afterwards is in uninterruptible sleep, where
/// no signal reaches it until the kernel lets go, which may be never.
fn reap_within(child: &mut Child, patience: Duration) -> std::io::Result<Option<ExitStatus>> {
    poll_until(Instant::now(), patience, || child.try_wait())
}

/// Asks `check` until it answers or `limit` has passed since `start`, sleeping 0.2 ms, doubling up to 20 ms.
fn poll_until<T>(
    start: Instant,
    limit: Duration,
    mut check: impl FnMut() -> std::io::Result<Option<T>>,
) -> std::io::Result<Option<T>> {
    let mut pause = Duration::from_micros(200);
    loop {
        if let Some(answer) = check()? {
            return Ok(Some(answer));
        }
        if start.elapsed() >= limit {
            return Ok(None);
        }
        thread::sleep(pause.min(limit.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(unix)]
fn has_exited(child: &mut Child) -> std::io::Result<bool> {
    use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
    let pid = Pid::from_child(child);
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    Ok(waitid(WaitId::Pid(pid), options)?.is_some())
}

#[cfg(not(unix))]
fn has_exited(child: &mut Child) -> std::io::Result<bool> {
    Ok(child.try_wait()?.is_some())
}

/// One output pipe read on a thread into a shared buffer: what arrived is kept even if the pipe is
/// never closed.
struct Capture {
    kept: Arc<Mutex<Kept>>,
    done: mpsc::Receiver<()>,
}

/// A stream's first `OUTPUT_CAP` bytes, and whether more came.
#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    cut: bool,
}

impl Capture {
    fn start<R: Read + Send + 'static>(pipe: Option<R>) -> std::io::Result<Capture> {
        let kept = Arc::new(Mutex::new(Kept::default()));
        let (tx, done) = mpsc::channel();
        let shared = Arc::clone(&kept);
        thread::Builder::new().spawn(move || {
            if let Some(mut pipe) = pipe {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut kept) = shared.lock() {
                        let room = OUTPUT_CAP.saturating_sub(kept.bytes.len());
                        kept.bytes.extend_from_slice(&buf[..n.min(room)]);
                        kept.cut |= n > room;
                    }
                }
            }
            let _ = tx.send(());
        })?;
        Ok(Capture { kept, done })
    }

    /// Everything read by end of file, or within the grace period if something still holds the pipe.
    fn finish(self) -> Kept {
        let _ = self.done.recv_timeout(DRAIN_GRACE);
        let taken = match self.kept.lock() {
            Ok(mut kept) => std::mem::take(&mut *kept),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        taken
    }
}

fn tail(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    let lines: Vec<&str> = trimmed.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.last().copied().unwrap_or_default().trim();
    if last.chars().count() <= max {
        last.to_string()
    } else {
        let skip = last.chars().count() - max;
        format!("…{}", last.chars().skip(skip).collect::<String>())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A child its kill did not reach stands in for one stuck in the kernel (a test cannot put a process
    /// in uninterruptible sleep): the wait gives up on it at the bound, and reaps it once it has gone.
    #[test]
    fn a_child_that_does_not_go_is_given_up_on_in_time() {
        #[expect(
            clippy::disallowed_methods,
            reason = "a child that stays, for the test"
        )]
        let mut child = Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .expect("sleep starts");
        let start = Instant::now();
        let reaped = reap_within(&mut child, Duration::from_millis(300)).expect("waits");
        let waited = start.elapsed();
        let _ = child.kill();
        assert!(reaped.is_none());
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        let gone = reap_within(&mut child, Duration::from_secs(10)).expect("waits");
        assert!(gone.is_some());
    }
}
