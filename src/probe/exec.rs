//! The one place that starts programs. Each run: the binary resolved on PATH (no shell), stdin closed,
//! `LC_ALL=C`, stdout and stderr captured up to a cap, a timeout after which the child's whole process
//! group is killed. Every way it can go wrong is a value that says what happened.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Output kept per stream; probes read version lines and small JSON documents.
const OUTPUT_CAP: usize = 4 * 1024 * 1024;
/// How long to wait for the output pipes after the child is gone (a grandchild may hold them open).
const DRAIN_GRACE: Duration = Duration::from_millis(200);

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
    TimedOut {
        program: String,
        after: Duration,
    },
    Failed {
        program: String,
        code: Option<i32>,
        stderr_tail: String,
    },
    NotUtf8 {
        program: String,
    },
    Io {
        program: String,
        message: String,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NotFound { program } => write!(f, "{program} not found on PATH"),
            RunError::TimedOut { program, after } => {
                write!(f, "{program} timed out after {}", seconds(*after))
            }
            RunError::Failed {
                program,
                code,
                stderr_tail,
            } => {
                match code {
                    Some(c) => write!(f, "{program} exited with status {c}")?,
                    None => write!(f, "{program} was killed by a signal")?,
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
        }
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 && (s - s.round()).abs() < 0.05 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

/// Finds `program` on PATH (or takes it as a path when it contains a slash).
pub fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = Path::new(program);
        return path.is_file().then(|| path.to_path_buf());
    }
    which::which(program).ok()
}

/// A program that ran to its end, whatever its exit status.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Both streams, lossily decoded: a failing program's message may be on either (nvidia-smi prints
    /// "Failed to initialize NVML" on stdout and exits 18).
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `program args…` and returns its output when it exits 0 within `timeout`.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Result<Output, RunError> {
    let name = program.rsplit('/').next().unwrap_or(program).to_string();
    let done = run_to_end(program, args, timeout)?;
    if done.code != Some(0) {
        return Err(RunError::Failed {
            program: name,
            code: done.code,
            stderr_tail: tail(&done.stderr, 300),
        });
    }
    if done.stdout.contains(char::REPLACEMENT_CHARACTER) {
        return Err(RunError::NotUtf8 { program: name });
    }
    Ok(Output {
        stdout: done.stdout,
        stderr: done.stderr,
        elapsed: done.elapsed,
    })
}

/// Runs `program args…` and returns what it printed and how it ended; only a missing program, a
/// timeout or an I/O failure are errors.
pub fn run_to_end(program: &str, args: &[&str], timeout: Duration) -> Result<Completed, RunError> {
    let name = program.rsplit('/').next().unwrap_or(program).to_string();
    let path = resolve(program).ok_or_else(|| RunError::NotFound {
        program: name.clone(),
    })?;
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
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let start = Instant::now();
    let mut child = command.spawn().map_err(io)?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let status = wait(&mut child, timeout, start);
    let collect = |rx: mpsc::Receiver<Vec<u8>>| rx.recv_timeout(DRAIN_GRACE).unwrap_or_default();
    let (out, err) = (collect(stdout), collect(stderr));
    let elapsed = start.elapsed();
    let status = match status {
        Ok(Some(status)) => status,
        Ok(None) => {
            return Err(RunError::TimedOut {
                program: name,
                after: timeout,
            })
        }
        Err(e) => return Err(io(e)),
    };
    Ok(Completed {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        elapsed,
    })
}

/// Waits for the child; on timeout kills its process group and returns `None`.
fn wait(
    child: &mut Child,
    timeout: Duration,
    start: Instant,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let mut pause = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if start.elapsed() >= timeout {
            kill_group(child);
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group we created with process_group(0).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Reads a pipe on a thread, keeping the first `OUTPUT_CAP` bytes and draining the rest.
fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = pipe {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
        let _ = tx.send(kept);
    });
    rx
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
