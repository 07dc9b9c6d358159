//! CPU memory bandwidth: a STREAM-style triad (`a[i] = b[i] + s·c[i]`, f64) on every core.
//!
//! STREAM's rules, followed here: each array at least 4× the last-level cache, each thread first touches
//! the part of the arrays it will work on (so pages land on its NUMA node), a barrier before and after
//! each timed pass, the best of several passes, and 3 × N × 8 bytes counted per triad.

use std::alloc::Layout;
use std::sync::{mpsc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Timed passes; the best one counts (STREAM's NTIMES is 10).
pub const PASSES: usize = 10;

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct CpuBandwidth {
    pub triad_gbs: f64,
    pub threads: usize,
    pub elements: usize,
    pub array_mb: f64,
    pub best_pass_ms: f64,
}

/// Elements per array: at least 4× the last-level cache and 10^7, at most a quarter of memory for the
/// three arrays together.
pub fn array_elements(llc_bytes: Option<u64>, memory_bytes: Option<u64>) -> usize {
    let llc = llc_bytes.unwrap_or(64 * 1024 * 1024);
    let wanted = (4 * llc / 8).max(10_000_000);
    let cap = memory_bytes.map_or(u64::MAX, |m| m / 4 / 3 / 8);
    usize::try_from(wanted.min(cap).max(1_000_000)).unwrap_or(10_000_000)
}

/// Runs the triad with up to `threads` threads over arrays of `n` f64 each. An error, not an abort, when
/// the arrays cannot be had (`ulimit -v`, a container's memory limit); fewer threads when the system
/// starts fewer (`ulimit -u`, a cgroup's pids.max), down to this one alone.
pub fn triad(n: usize, threads: usize, passes: usize) -> Result<CpuBandwidth, String> {
    let (Some(mut a), Some(mut b), Some(mut c)) = (zeroed(n), zeroed(n), zeroed(n)) else {
        return Err(format!(
            "could not allocate 3 × {:.0} MB for the arrays (a memory limit such as ulimit -v?)",
            n as f64 * 8.0 / 1e6
        ));
    };
    let scalar = 3.0f64;
    let mut best = Duration::MAX;
    let mut workers = 0;
    // Workers are started first, idle, and handed their part once it is known how many started: a
    // barrier sized before a spawn fails would leave the started ones waiting for ever.
    let barrier: OnceLock<Barrier> = OnceLock::new();
    thread::scope(|s| {
        let mut hands = Vec::new();
        for _ in 0..threads.max(1) {
            let (hand, work) = mpsc::channel::<Part<'_>>();
            let barrier = &barrier;
            let started = thread::Builder::new().spawn_scoped(s, move || {
                // The barrier is set before any part is sent.
                let (Ok((a, b, c)), Some(barrier)) = (work.recv(), barrier.get()) else {
                    return;
                };
                a.fill(1.0);
                b.fill(2.0);
                c.fill(0.5);
                barrier.wait();
                for _ in 0..passes {
                    barrier.wait();
                    for ((x, y), z) in a.iter_mut().zip(b.iter()).zip(c.iter()) {
                        *x = y + scalar * z;
                    }
                    barrier.wait();
                }
            });
            match started {
                Ok(_) => hands.push(hand),
                Err(_) => break,
            }
        }
        if hands.is_empty() {
            // Not one thread: this one does the work alone.
            a.fill(1.0);
            b.fill(2.0);
            c.fill(0.5);
            for _ in 0..passes {
                let start = Instant::now();
                for ((x, y), z) in a.iter_mut().zip(b.iter()).zip(c.iter()) {
                    *x = y + scalar * z;
                }
                best = best.min(start.elapsed());
            }
            workers = 1;
            return;
        }
        let chunk = n.div_ceil(hands.len()).max(1);
        let parts: Vec<Part<'_>> = a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .zip(c.chunks_mut(chunk))
            .map(|((a, b), c)| (a, b, c))
            .collect();
        // With a tiny `n` there may be fewer parts than threads; the barrier counts those given one.
        workers = parts.len();
        let barrier = barrier.get_or_init(|| Barrier::new(workers + 1));
        // Dropping the other hands lets the idle threads end.
        for (hand, part) in hands.into_iter().zip(parts) {
            let _ = hand.send(part);
        }
        barrier.wait(); // initialisation done
        for _ in 0..passes {
            // The clock starts before the workers can: none passes the first barrier before this thread
            // reaches it. Like STREAM's timer around its parallel loop, this counts the start-up too.
            let start = Instant::now();
            barrier.wait();
            barrier.wait();
            best = best.min(start.elapsed());
        }
    });
    std::hint::black_box(&a);
    let bytes = 3.0 * n as f64 * 8.0;
    let secs = best.as_secs_f64().max(1e-9);
    Ok(CpuBandwidth {
        triad_gbs: bytes / secs / 1e9,
        threads: workers,
        elements: n,
        array_mb: n as f64 * 8.0 / 1e6,
        best_pass_ms: secs * 1e3,
    })
}

/// One worker's slices of `a`, `b` and `c`.
type Part<'a> = (&'a mut [f64], &'a mut [f64], &'a mut [f64]);

/// `n` zeros, or `None` when the allocator says no (`vec!` would abort the process). Zeroed pages are
/// mapped lazily, so each worker's first write still decides where its part lives.
fn zeroed(n: usize) -> Option<Vec<f64>> {
    let layout = Layout::array::<f64>(n).ok()?;
    if layout.size() == 0 {
        return Some(Vec::new());
    }
    // SAFETY: the layout's size is not zero; the memory comes from the global allocator with the layout
    // of n f64s, all-zero bytes are the f64 0.0, and length and capacity are both n, as
    // `Vec::from_raw_parts` requires.
    unsafe {
        let memory = std::alloc::alloc_zeroed(layout).cast::<f64>();
        (!memory.is_null()).then(|| Vec::from_raw_parts(memory, n, n))
    }
}

/// The largest cache level's size (Linux sysfs; `None` elsewhere or when unreadable).
pub fn last_level_cache_bytes() -> Option<u64> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("size")).ok())
        .filter_map(|s| parse_cache_size(&s))
        .max()
}

/// `32768K`, `1M`, `512` → bytes.
pub fn parse_cache_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, mult) = match t.chars().last()? {
        'K' | 'k' => (&t[..t.len() - 1], 1024),
        'M' | 'm' => (&t[..t.len() - 1], 1024 * 1024),
        'G' | 'g' => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.trim().parse::<u64>().ok().map(|n| n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_cache_size("32768K\n"), Some(32 * 1024 * 1024));
        assert_eq!(parse_cache_size("1M"), Some(1024 * 1024));
        assert_eq!(parse_cache_size("x"), None);
        // 4× a 32 MiB cache is 16.8 M doubles; a small cache still gets 10^7.
        assert_eq!(array_elements(Some(32 * 1024 * 1024), None), 16_777_216);
        assert_eq!(array_elements(Some(1024 * 1024), None), 10_000_000);
        // Never more than a quarter of memory for the three arrays.
        assert_eq!(array_elements(Some(1 << 30), Some(1 << 30)), 11_184_810);
    }

    #[test]
    fn triad_computes_and_reports() {
        let r = triad(1_000_003, 3, 2).unwrap();
        assert_eq!(r.threads, 3);
        assert!(r.triad_gbs > 0.0 && r.triad_gbs.is_finite());
        assert_eq!(r.elements, 1_000_003);
    }

    #[test]
    fn arrays_that_cannot_be_had_are_an_error_not_an_abort() {
        // More than any address space holds: the allocator refuses it (`vec!` would abort).
        let e = triad(usize::MAX / 16, 2, 1).unwrap_err();
        assert!(e.contains("could not allocate"), "{e}");
    }
}
