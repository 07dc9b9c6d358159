//! Ending everything a program started, after every run (not only on timeout).
//!
//! - Each program runs in its own process group, which is killed as a whole once the program has exited
//!   (its pid is still unreaped then, so the group id cannot have been reused).
//! - Each program also carries `MLCOMPAT_RUN=<mark>` in its environment, unique to the run; descendants
//!   inherit it, including those that leave the group with `setsid`.
//! - On Linux mlcompat is a child subreaper (`PR_SET_CHILD_SUBREAPER`): a descendant whose parent exits is
//!   re-parented to mlcompat instead of init, so mlcompat can reap it. `/proc` is scanned for processes
//!   started since the program: those in its group, those carrying its mark, and their descendants. Each is
//!   killed through a pidfd opened and checked against its start time (no pid-reuse race), until none is
//!   left; the ones re-parented to mlcompat are reaped.
//! - Several programs run at once on different threads; a run only touches processes in its own group, with
//!   its own mark, or below them, so it never kills or reaps another run's processes or direct child.
//!   What cannot be told apart — an orphan that left the group and cleared its environment — is killed by
//!   the last run to end, when no other program is running (every direct child is registered at spawn,
//!   under the same lock, so a just-started program is never mistaken for an orphan).
//! - Elsewhere (macOS, the BSDs) the process group is killed; a descendant that left the group and outlives
//!   its parent is not found.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rustix::process::{kill_process_group, Pid, Signal};

pub(super) const MARK_VAR: &str = "MLCOMPAT_RUN";

/// Direct children started and not yet reaped: pid and the mark their run carries.
static RUNNING: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

fn running() -> MutexGuard<'static, Vec<(i32, String)>> {
    RUNNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Direct children killed that never went (stuck in the kernel), left unreaped, by pid.
static LEFT_BEHIND: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn left_behind() -> MutexGuard<'static, Vec<i32>> {
    LEFT_BEHIND
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) struct Tree {
    mark: String,
}

impl Tree {
    pub(super) fn new() -> Tree {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        #[cfg(target_os = "linux")]
        linux::become_subreaper();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Tree {
            mark: format!(
                "{}.{}.{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    pub(super) fn mark(&self) -> &str {
        &self.mark
    }

    /// Starts `command` and registers the child before any other run can look for orphans, and in the
    /// signal-safe table [`super::interrupt`] ends on Ctrl-C, `timeout` or a cancelled job.
    pub(super) fn spawn(&self, command: &mut Command) -> std::io::Result<Child> {
        let mut running = running();
        // Once interrupted, everything running is being ended: nothing new starts.
        if super::interrupt::interrupted() {
            return Err(std::io::Error::other(
                "not started: mlcompat was interrupted",
            ));
        }
        let child = command.spawn()?;
        let pid = Pid::from_child(&child).as_raw_nonzero().get();
        running.push((pid, self.mark.clone()));
        super::interrupt::register(pid);
        Ok(child)
    }

    /// Kills everything `child` (exited or not, but not yet reaped) started, and `child` itself.
    pub(super) fn end(&self, child: &Child) {
        let pid = Pid::from_child(child);
        let _ = kill_process_group(pid, Signal::KILL);
        #[cfg(target_os = "linux")]
        {
            let raw = pid.as_raw_nonzero().get();
            linux::end(raw, &self.mark);
            let running = running();
            if running.iter().all(|(p, _)| *p == raw) {
                let mut known: Vec<i32> = running.iter().map(|(p, _)| *p).collect();
                known.extend(left_behind().iter());
                linux::end_orphans(&known);
            }
        }
    }

    /// Called once `child` is reaped.
    pub(super) fn reaped(&self, child: &Child) {
        let pid = Pid::from_child(child).as_raw_nonzero().get();
        super::interrupt::unregister(pid);
        running().retain(|(p, _)| *p != pid);
    }

    /// Called when `child` was killed but would not go (stuck in the kernel) and is left unreaped. It no
    /// longer counts as running, so later runs still end orphans; nor is it taken for one (each would
    /// spend the whole patience on a process no signal reaches).
    pub(super) fn abandon(&self, child: &Child) {
        let pid = Pid::from_child(child).as_raw_nonzero().get();
        super::interrupt::unregister(pid);
        let mut running = running();
        running.retain(|(p, _)| *p != pid);
        left_behind().push(pid);
    }
}

/// On an interrupt (from [`super::interrupt`]'s watcher, outside the signal handler): ends every running
/// program's group and, on Linux, everything carrying its mark or below it — what left the group with
/// `setsid` too — and every orphan re-parented to mlcompat. The direct children are left for the threads
/// waiting on them to reap.
pub(super) fn end_all() {
    let runs = running().clone();
    for (pid, _) in &runs {
        if let Some(pid) = Pid::from_raw(*pid) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
    #[cfg(target_os = "linux")]
    {
        for (pid, mark) in &runs {
            linux::end(*pid, mark);
        }
        let mut known: Vec<i32> = runs.iter().map(|(p, _)| *p).collect();
        known.extend(left_behind().iter());
        linux::end_orphans(&known);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::{HashMap, HashSet};
    use std::sync::Once;
    use std::time::{Duration, Instant};

    use rustix::process::{
        getpid, kill_process, pidfd_open, pidfd_send_signal, set_child_subreaper, waitpid, Pid,
        PidfdFlags, Signal, WaitOptions,
    };

    /// How long to keep killing and reaping (a process in uninterruptible sleep dies late).
    const PATIENCE: Duration = Duration::from_secs(2);

    pub(super) fn become_subreaper() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let _ = set_child_subreaper(Some(getpid()));
        });
    }

    #[derive(Debug, Clone, Copy)]
    struct Proc {
        pid: i32,
        ppid: i32,
        pgid: i32,
        zombie: bool,
        /// Start time in clock ticks since boot: with the pid, it names one process.
        start: u64,
    }

    fn stat(pid: i32) -> Option<Proc> {
        let text = crate::files::read_system(format!("/proc/{pid}/stat"))?;
        parse_stat(&text)
    }

    /// `/proc/PID/stat`: `pid (comm) state ppid pgrp session … starttime` (the 22nd field); `comm` may
    /// hold spaces and parentheses, so fields are counted from the last `)`.
    fn parse_stat(text: &str) -> Option<Proc> {
        let (head, rest) = text.rsplit_once(')')?;
        let pid = head.split_whitespace().next()?.parse().ok()?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Proc {
            pid,
            zombie: matches!(*fields.first()?, "Z" | "X"),
            ppid: fields.get(1)?.parse().ok()?,
            pgid: fields.get(2)?.parse().ok()?,
            start: fields.get(19)?.parse().ok()?,
        })
    }

    /// Processes started at or after `since`.
    fn scan(since: u64) -> Vec<Proc> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter_map(stat)
            .filter(|p| p.start >= since)
            .collect()
    }

    fn has_mark(pid: i32, mark: &str) -> bool {
        let path = format!("/proc/{pid}/environ");
        let Ok(env) = crate::files::read_bytes(
            std::path::Path::new(&path),
            crate::files::MAX_SYSTEM_BYTES,
            crate::files::Links::Follow,
        ) else {
            return false;
        };
        let wanted = format!("{}={mark}", super::MARK_VAR);
        env.split(|b| *b == 0).any(|v| v == wanted.as_bytes())
    }

    fn kill(p: &Proc) {
        let Some(pid) = Pid::from_raw(p.pid) else {
            return;
        };
        match pidfd_open(pid, PidfdFlags::empty()) {
            // The pidfd pins the process; it is the one seen if its start time still matches.
            Ok(fd) => {
                if stat(p.pid).is_some_and(|now| now.start == p.start) {
                    let _ = pidfd_send_signal(&fd, Signal::KILL);
                }
            }
            Err(rustix::io::Errno::NOSYS) => {
                let _ = kill_process(pid, Signal::KILL);
            }
            Err(_) => {}
        }
    }

    pub(super) fn end(child: i32, mark: &str) {
        let Some(root) = stat(child) else {
            return;
        };
        let me = getpid().as_raw_nonzero().get();
        let started = Instant::now();
        let mut seen: HashMap<i32, u64> = HashMap::new();
        let mut pause = Duration::from_micros(500);
        loop {
            let procs = scan(root.start);
            let mut ours: HashSet<i32> = procs
                .iter()
                .filter(|p| p.pid != child && p.pid != me)
                .filter(|p| {
                    p.pgid == child
                        || seen.get(&p.pid) == Some(&p.start)
                        || (!p.zombie && has_mark(p.pid, mark))
                })
                .map(|p| p.pid)
                .collect();
            // Descendants of what is ours are ours too (even after a `setsid` and a cleared environment).
            loop {
                let before = ours.len();
                for p in &procs {
                    if p.pid != me && (ours.contains(&p.ppid) || p.ppid == child) {
                        ours.insert(p.pid);
                    }
                }
                if ours.len() == before {
                    break;
                }
            }
            let mut pending = false;
            for p in procs.iter().filter(|p| ours.contains(&p.pid)) {
                seen.insert(p.pid, p.start);
                if !p.zombie {
                    kill(p);
                    pending = true;
                } else if p.ppid == me {
                    if let Some(pid) = Pid::from_raw(p.pid) {
                        let _ = waitpid(Some(pid), WaitOptions::NOHANG);
                    }
                } else if ours.contains(&p.ppid) || p.ppid == child {
                    // Re-parented to mlcompat once its parent is gone; reaped on a later pass.
                    pending = true;
                }
            }
            if !pending || started.elapsed() > PATIENCE {
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Kills and reaps every child of mlcompat that is not a registered direct child: with no other run in
    /// progress, each is an orphan some finished run left behind.
    pub(super) fn end_orphans(registered: &[i32]) {
        let me = getpid().as_raw_nonzero().get();
        let started = Instant::now();
        let mut pause = Duration::from_micros(500);
        loop {
            let mut pending = false;
            for p in scan(0)
                .iter()
                .filter(|p| p.ppid == me && !registered.contains(&p.pid))
            {
                if p.zombie {
                    if let Some(pid) = Pid::from_raw(p.pid) {
                        let _ = waitpid(Some(pid), WaitOptions::NOHANG);
                    }
                } else {
                    kill(p);
                    pending = true;
                }
            }
            if !pending || started.elapsed() > PATIENCE {
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_stat_with_odd_command_names() {
            let text =
                "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2 3\n";
            let p = parse_stat(text).unwrap();
            assert_eq!((p.pid, p.ppid, p.pgid, p.start), (4242, 1, 4242, 987654));
            assert!(!p.zombie);
            let me = stat(std::process::id() as i32).unwrap();
            assert_eq!(me.pid, std::process::id() as i32);
        }
    }
}
