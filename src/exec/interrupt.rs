//! When mlcompat is interrupted (Ctrl-C, `timeout`, a cancelled CI job, a closed terminal), the process
//! groups of the programs it is running end with it: a handler for SIGINT, SIGTERM and SIGHUP kills every
//! registered group, then lets the signal take its default course (the exit status says which signal).
//! SIGKILL leaves no handler a chance: on Linux each child also gets a parent-death signal, so the kernel
//! ends it when the thread that started (and waits for) it goes.
//!
//! The handler may only do what is async-signal-safe: it reads a fixed table of atomics and calls
//! `kill`, `signal` and `raise`; registering and unregistering are lock-free.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Programs run at once at most (the probes run a handful in parallel).
const SLOTS: usize = 256;

static GROUPS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
static INSTALLED: AtomicBool = AtomicBool::new(false);

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
    // SAFETY: signal(2) and raise(3) are async-signal-safe; the default action ends the process with
    // this signal, as if no handler had run.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
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
