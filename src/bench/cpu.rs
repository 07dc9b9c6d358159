//! CPU memory bandwidth: a STREAM-style triad (`a[i] = b[i] + s·c[i]`, f64) on every core.
//!
//! STREAM's rules, followed here: each array at least 4× the last-level cache, each thread first touches
//! the part of the arrays it will work on (so pages land on its NUMA node), a barrier before and after
//! each timed pass, the best of several passes, and 3 × N × 8 bytes counted per triad.

use std::sync::Barrier;
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

/// Runs the triad with `threads` threads over arrays of `n` f64 each.
pub fn triad(n: usize, threads: usize, passes: usize) -> CpuBandwidth {
    let threads = threads.max(1);
    let scalar = 3.0f64;
    // alloc_zeroed maps untouched pages; the workers' first writes decide where they live.
    let mut a = vec![0f64; n];
    let mut b = vec![0f64; n];
    let mut c = vec![0f64; n];
    let chunk = n.div_ceil(threads).max(1);
    // With a tiny `n` there may be fewer chunks than threads; the barrier counts the workers that exist.
    let workers = n.div_ceil(chunk);
    let barrier = Barrier::new(workers + 1);
    let mut best = Duration::MAX;
    thread::scope(|s| {
        let parts = a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .zip(c.chunks_mut(chunk));
        for ((a, b), c) in parts {
            let barrier = &barrier;
            s.spawn(move || {
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
    CpuBandwidth {
        triad_gbs: bytes / secs / 1e9,
        threads: workers,
        elements: n,
        array_mb: n as f64 * 8.0 / 1e6,
        best_pass_ms: secs * 1e3,
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
        let r = triad(1_000_003, 3, 2);
        assert!(r.triad_gbs > 0.0 && r.triad_gbs.is_finite());
        assert_eq!(r.elements, 1_000_003);
    }
}
