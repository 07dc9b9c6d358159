//! Apple silicon: chip, GPU cores, the Metal working-set limit, and the real architecture (an x86_64
//! process under Rosetta sees x86_64; `hw.optional.arm64` tells the truth).

use std::time::Duration;

use crate::exec;
use crate::facts::{Apple, Gpu, Vendor};
use crate::probe::cache;

pub struct AppleProbe {
    pub apple: Apple,
    pub gpu: Gpu,
    pub arm64_hardware: bool,
}

pub fn probe(
    memory_gb: Option<f64>,
    timeout: Duration,
    use_cache: bool,
) -> Result<AppleProbe, String> {
    let sysctl = exec::run(
        "sysctl",
        &["-n", "machdep.cpu.brand_string", "hw.optional.arm64"],
        timeout,
    )
    .map_err(|e| e.to_string())?;
    let mut lines = sysctl.stdout.lines();
    let chip = lines.next().map(str::trim).unwrap_or_default().to_string();
    let arm64_hardware = lines.next().map(str::trim) == Some("1");
    // iogpu.wired_limit_mb exists on macOS 14+; 0 means "the default".
    let wired = exec::run("sysctl", &["-n", "iogpu.wired_limit_mb"], timeout)
        .ok()
        .and_then(|o| parse_wired_limit_mb(&o.stdout));
    // system_profiler takes a large part of a second; the GPU's core count never changes, so its answer is
    // cached like a tool's version (keyed by the program file).
    let gpu_cores = exec::resolve("system_profiler")
        .and_then(|p| {
            cache::run_parsed(
                "gpu-cores",
                &p,
                &["SPDisplaysDataType"],
                &exec::Budget::new(timeout),
                use_cache,
                parse_gpu_cores,
            )
            .ok()
        })
        .flatten();
    let metal_limit_gb = metal_limit_gb(wired, memory_gb);
    let mut gpu = Gpu::new(
        Vendor::Apple,
        if chip.is_empty() {
            "Apple GPU".to_string()
        } else {
            chip.clone()
        },
    );
    gpu.unified_memory = Some(true);
    gpu.memory_gb = memory_gb;
    gpu.gpu_cores = gpu_cores;
    gpu.fp4_native = crate::facts::arch::fp4_native(&gpu);
    Ok(AppleProbe {
        apple: Apple {
            chip: (!chip.is_empty()).then_some(chip),
            gpu_cores,
            metal_limit_gb,
        },
        gpu,
        arm64_hardware,
    })
}

/// `sysctl -n iogpu.wired_limit_mb` prints `0` (default) or a number; `sudo sysctl iogpu.wired_limit_mb=N`
/// prints `iogpu.wired_limit_mb: old -> new`.
pub fn parse_wired_limit_mb(text: &str) -> Option<u64> {
    let value = text.rsplit(['>', ':']).next()?.trim();
    value.parse().ok()
}

/// Metal's working-set limit: the wired limit when set, else about 75% of memory (Apple's
/// `recommendedMaxWorkingSetSize` on machines with more than 36 GB; llama.cpp and MLX report it).
pub fn metal_limit_gb(wired_mb: Option<u64>, memory_gb: Option<f64>) -> Option<f64> {
    match wired_mb {
        Some(mb) if mb > 0 => Some(mb as f64 / 1024.0),
        _ => memory_gb.map(|m| m * 0.75),
    }
}

/// `Total Number of Cores: 8` under the GPU in `system_profiler SPDisplaysDataType`.
pub fn parse_gpu_cores(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Total Number of Cores:"))
        .and_then(|v| v.trim().parse().ok())
}

/// `sw_vers` (key: value lines, tab separated).
pub fn parse_sw_vers(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("ProductVersion:"))
        .map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/apple")
                .join(path),
        )
        .unwrap()
    }

    #[test]
    fn recorded_apple_outputs() {
        assert_eq!(
            parse_gpu_cores(&fixture(
                "system_profiler-SPDisplaysDataType-m4-PARTIAL.txt"
            )),
            Some(8)
        );
        assert_eq!(
            parse_sw_vers(&fixture("sw_vers-macos15.5-m4.txt")).as_deref(),
            Some("15.5")
        );
        assert_eq!(
            parse_wired_limit_mb(&fixture("sysctl-iogpu.wired_limit_mb-set-m1max.txt")),
            Some(26000)
        );
        assert_eq!(parse_wired_limit_mb("0\n"), Some(0));
    }

    #[test]
    fn metal_limit_default_and_set() {
        assert_eq!(metal_limit_gb(Some(0), Some(128.0)), Some(96.0));
        let set = metal_limit_gb(Some(26000), Some(34.4)).unwrap();
        // 26,000 MiB.
        assert!((set - 25.39).abs() < 0.01, "{set}");
        assert_eq!(metal_limit_gb(None, None), None);
    }
}
