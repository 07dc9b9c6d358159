//! Threads that degrade instead of panicking: when the system starts no more (`ulimit -u`, a cgroup's
//! `pids.max`), the work runs on the calling thread. Slower, but an answer; `std::thread::spawn` and
//! `Scope::spawn` panic there.

use std::sync::{Arc, Mutex};
use std::thread::{self, Scope, ScopedJoinHandle};

/// Work started on a thread, or already done here.
pub enum Started<'scope, T> {
    Thread(ScopedJoinHandle<'scope, Option<T>>),
    Here(Option<T>),
}

impl<T> Started<'_, T> {
    /// The work's result; `None` when it panicked.
    pub fn join(self) -> Option<T> {
        match self {
            Started::Thread(handle) => handle.join().ok().flatten(),
            Started::Here(result) => result,
        }
    }
}

/// Runs `work` on a new thread of `scope`, or here, now, when no thread can be started.
pub fn scoped_or_here<'scope, 'env, T, F>(
    scope: &'scope Scope<'scope, 'env>,
    work: F,
) -> Started<'scope, T>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    // A failed spawn drops the closure it was given; the work waits in a slot both sides can reach.
    let slot = Arc::new(Mutex::new(Some(work)));
    let theirs = Arc::clone(&slot);
    let started = thread::Builder::new().spawn_scoped(scope, move || {
        let work = theirs.lock().ok().and_then(|mut w| w.take());
        work.map(|w| w())
    });
    match started {
        Ok(handle) => Started::Thread(handle),
        Err(_) => {
            // A panic here is caught like a thread's would be, so callers see the same `None`.
            let work = slot.lock().ok().and_then(|mut w| w.take());
            Started::Here(
                work.and_then(|w| std::panic::catch_unwind(std::panic::AssertUnwindSafe(w)).ok()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_once_and_its_result_comes_back() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<usize> = thread::scope(|s| {
            let started: Vec<_> = (0..4)
                .map(|i| {
                    let calls = &calls;
                    scoped_or_here(s, move || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        i * 2
                    })
                })
                .collect();
            started.into_iter().filter_map(Started::join).collect()
        });
        assert_eq!(results, vec![0, 2, 4, 6]);
        assert_eq!(calls.into_inner(), 4);
    }
}
