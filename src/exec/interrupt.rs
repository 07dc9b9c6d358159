//! When mlcompat is interrupted (Ctrl-C, `timeout`, a cancelled CI job, a closed terminal), the process
//! groups of the programs it is running end with it: a handler for SIGINT, SIGTERM and SIGHUP kills every
//! registered group, then lets the signal take its default course (the exit status says which signal).
//! SIGKILL leaves no handler a chance: on Linux each child also gets a parent-death signal, so the kernel
//! ends it when the thread that started (and waits for) it goes.
//!
//! The handler may only do what is async-signal-safe: it reads a fixed table of atomics and calls
//! `kill`, `write`, `signal` and `raise`; registering and unregistering are lock-free. What a group kill
//! misses — descendants that left the group with `setsid`, orphans re-parented to mlcompat — needs `/proc`
//! and locks, so the handler wakes a watcher thread through a pipe; the watcher ends them, then raises the
//! signal again with its default action. A second signal, or no watcher, ends mlcompat at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Programs run at once at most (the probes run a handful in parallel).
const SLOTS: usize = 256;

static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The write end of the watcher's pipe; -1 without a watcher.
static WAKE: AtomicI32 = AtomicI32::new(-1);
/// The signal that interrupted mlcompat; 0 before any.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Whether an interrupt is being handled (nothing new may start).
pub fn interrupted() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// Records `pid` (a process group leader) to be ended on an interrupt.
pub(super) fn register(pid: i32) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

pub(super) fn unregister(pid: i32) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    for slot in &GROUPS {
        let pid = slot.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill(2) is async-signal-safe; a negative pid names the process group.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
    let first = SIGNAL.swap(signal, Ordering::SeqCst) == 0;
    let wake = WAKE.load(Ordering::SeqCst);
    if first && wake >= 0 {
        let byte = [0u8; 1];
        // SAFETY: write(2) is async-signal-safe; the buffer is one valid byte.
        if unsafe { libc::write(wake, byte.as_ptr().cast(), 1) } == 1 {
            return;
        }
    }
    end_with(signal);
}

/// Ends mlcompat with `signal`'s default action, as if no handler had run.
fn end_with(signal: libc::c_int) {
    // SAFETY: signal(2) and raise(3) are async-signal-safe.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// The watcher: waits for the handler's byte, ends what the group kills missed, ends mlcompat.
fn watch(wake: std::os::fd::OwnedFd) {
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(&wake, &mut byte) {
            Ok(1) => break,
            Err(rustix::io::Errno::INTR) => continue,
            _ => return,
        }
    }
    super::descendants::end_all();
    end_with(SIGNAL.load(Ordering::SeqCst));
}

/// Called before mlcompat exits on its own: once interrupted, the watcher is ending everything and will
/// end mlcompat with the signal, so the exit waits for it (a bounded time, then ends it here).
pub fn wait_if_interrupted() {
    let signal = SIGNAL.load(Ordering::SeqCst);
    if signal == 0 {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    end_with(signal);
}

/// Installs the handler once, for SIGINT, SIGTERM and SIGHUP; a signal the parent ignores (`nohup`)
/// stays ignored. SIGXFSZ is ignored: past a file-size limit (`ulimit -f`) a write then fails with EFBIG,
/// which the cache and the output report, instead of killing mlcompat.
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    // SAFETY: setting a signal's disposition to "ignore" has no handler to run.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    // The watcher; without one (no pipe, no thread under `ulimit -u`) the handler ends mlcompat itself.
    if let Ok((read, write)) = rustix::pipe::pipe() {
        // Not inherited by the programs mlcompat starts (pipe2's O_CLOEXEC is not on every Unix).
        for end in [&read, &write] {
            let _ = rustix::io::fcntl_setfd(end, rustix::io::FdFlags::CLOEXEC);
        }
        let started = std::thread::Builder::new()
            .name("interrupt-watcher".into())
            .spawn(move || watch(read));
        if started.is_ok() {
            use std::os::fd::IntoRawFd;
            WAKE.store(write.into_raw_fd(), Ordering::SeqCst);
        }
    }
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler is an extern "C"
        // fn of the right signature that only does async-signal-safe work.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Asks the kernel to kill the child when the thread that started it ends (Linux; a no-op elsewhere).
/// Called in the child between fork and exec.
#[cfg(target_os = "linux")]
pub(super) fn die_with_parent(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches only the child's own state.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn die_with_parent(_: &mut std::process::Command) {}
