//! NVIDIA GPU architecture compatibility, and what a GPU's raw facts imply about its hardware (native
//! FP4, the bandwidth its memory bus gives), each decided here once.
//!
//! A cubin (SASS) built for `sm_XY` runs on GPUs of the same major version and an equal or higher minor
//! (`sm_120` runs on a GB10, CC 12.1); arch-specific targets (`sm_90a`, `sm_120a`) run only on that exact
//! architecture; PTX (`compute_XY`) is compiled by the driver for any GPU of CC ≥ X.Y. Source: NVIDIA CUDA
//! C++ Programming Guide, "Binary Compatibility" and "PTX Compatibility"
//! (https://docs.nvidia.com/cuda/cuda-c-programming-guide/#binary-compatibility).

use crate::facts::{Gpu, Vendor};
use crate::version::ToolVersion;

/// Whether `gpu` computes FP4 on tensor cores, the one answer every command reads (doctor's
/// `gpu.fp4_native` row, NFD, Prometheus, `estimate`): the GPU's own `fp4_native` flag where the facts
/// carry one, else its architecture. On NVIDIA, FP4 (`e2m1`) tensor-core MMA is Blackwell's: PTX ISA 8.7
/// and later allow `tcgen05.mma` `.kind::f8f6f4`/`.kind::mxf4` on `sm_100a`/`sm_101a` (renamed `sm_110a`
/// in PTX ISA 9.0) and `sm_103a`, and warp-level `mma` with `.e2m1` on `sm_120a`/`sm_121a`; nothing
/// before CC 10.0 has it (https://docs.nvidia.com/cuda/parallel-thread-execution/, "Warp-level Matrix
/// Multiply-Accumulate Instructions" and "TensorCore 5th Generation Family Instructions"). So: CC 10.x,
/// 11.0 and 12.x yes, older no. Apple GPUs have no FP4 units (Metal has no FP4 type). `None` when the
/// facts cannot say: an NVIDIA GPU without a compute capability, or another vendor without the flag.
pub fn fp4_native(gpu: &Gpu) -> Option<bool> {
    if let Some(flag) = gpu.fp4_native {
        return Some(flag);
    }
    match gpu.vendor {
        Vendor::Nvidia => gpu
            .compute_capability
            .as_ref()
            .map(|cc| matches!((cc.major(), cc.minor()), (10, _) | (11, 0) | (12, _))),
        Vendor::Apple => Some(false),
        Vendor::Amd | Vendor::Intel => None,
    }
}

/// The bandwidth a GPU's memory bus gives at its highest memory clock: bus width × clock × 2 (NVML reports
/// the clock so that GDDR and HBM both come out right: an RTX 4090 reads 384 bit × 10501 MHz → 1008 GB/s,
/// an H200 6144 bit × 3201 MHz → 4917 GB/s). A computed figure, not the datasheet's (H200: 4800 GB/s), so
/// it is never stored as `Gpu::bandwidth_gbs`; whoever uses it says where it came from. `None` without
/// both figures.
pub fn bus_bandwidth_gbs(gpu: &Gpu) -> Option<f64> {
    let (bits, mhz) = (gpu.memory_bus_width_bits?, gpu.max_memory_clock_mhz?);
    (bits > 0 && mhz > 0).then(|| f64::from(bits) / 8.0 * f64::from(mhz) * 2.0 / 1000.0)
}

/// One entry of an architecture list: `sm_120`, `sm_90a`, `compute_120`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchTarget {
    pub major: u64,
    pub minor: u64,
    pub ptx: bool,
    /// `a`/`f` suffix: built for exactly this architecture (or family) and not forward-compatible.
    pub specific: bool,
}

pub fn parse_target(text: &str) -> Option<ArchTarget> {
    let text = text.trim();
    let (ptx, rest) = if let Some(r) = text.strip_prefix("sm_") {
        (false, r)
    } else if let Some(r) = text.strip_prefix("compute_") {
        (true, r)
    } else {
        return None;
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let suffix = &rest[digits.len()..];
    if digits.len() < 2 || !matches!(suffix, "" | "a" | "f") {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    Some(ArchTarget {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
        ptx,
        specific: !suffix.is_empty(),
    })
}

/// Whether code built for `target` runs on a GPU of compute capability `cc`.
pub fn runs_on(target: ArchTarget, cc: &ToolVersion) -> bool {
    let (major, minor) = (cc.major(), cc.minor());
    // Architecture-specific code (`sm_90a`, and its PTX `compute_90a`) runs on that architecture alone:
    // its features are not carried forward, so not even the PTX is JIT-compiled for a newer GPU.
    if target.specific {
        return (target.major, target.minor) == (major, minor);
    }
    if target.ptx {
        return (target.major, target.minor) <= (major, minor);
    }
    target.major == major && target.minor <= minor
}

/// Whether any entry of an architecture list (`torch.cuda.get_arch_list()`) runs on `cc`.
pub fn list_runs_on(list: &[String], cc: &ToolVersion) -> bool {
    list.iter()
        .filter_map(|t| parse_target(t))
        .any(|t| runs_on(t, cc))
}

/// Whether the list has real code for exactly this GPU's architecture (`sm_121` for CC 12.1).
pub fn list_has_exact(list: &[String], cc: &ToolVersion) -> bool {
    list.iter()
        .filter_map(|t| parse_target(t))
        .any(|t| !t.ptx && (t.major, t.minor) == (cc.major(), cc.minor()))
}

/// Whether an nvcc of release `nvcc` can build real code for exactly `cc`, from NVIDIA's release notes:
/// sm_89/sm_90 arrived in 11.8; sm_100, sm_101 and sm_120 in 12.8; sm_103 and sm_121 in 12.9; 13.0 renamed
/// sm_101 to sm_110 and dropped everything below sm_75. `None` for a GPU newer than this table.
/// Source: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/ and the CUDA features archive.
/// The first CUDA release whose toolkit and driver know a GPU of compute capability `cc` (12.8 for
/// Blackwell's 10.0 and 12.0): a driver for an older CUDA does not run it, minor-version compatibility
/// or not. `None` for an architecture the table does not know.
pub fn first_cuda_for(cc: &ToolVersion) -> Option<ToolVersion> {
    ["11.0", "11.8", "12.8", "12.9", "13.0"]
        .iter()
        .filter_map(|v| v.parse::<ToolVersion>().ok())
        .find(|v| nvcc_builds_for(v, cc) == Some(true))
}

pub fn nvcc_builds_for(nvcc: &ToolVersion, cc: &ToolVersion) -> Option<bool> {
    let at_least = |maj: u64, min: u64| (nvcc.major(), nvcc.minor()) >= (maj, min);
    let v13 = at_least(13, 0);
    let result = match (cc.major(), cc.minor()) {
        (5..=7, _) if v13 => (cc.major(), cc.minor()) >= (7, 5),
        (3..=8, _) if (cc.major(), cc.minor()) != (8, 9) => at_least(11, 0),
        (8, 9) | (9, 0) => at_least(11, 8),
        (10, 0) | (12, 0) => at_least(12, 8),
        (10, 1) => at_least(12, 8) && !v13,
        (10, 3) | (12, 1) => at_least(12, 9),
        (11, 0) => v13,
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(s: &str) -> ToolVersion {
        s.parse().unwrap()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arch_specific_ptx_is_not_carried_to_newer_gpus() {
        let cc = |s: &str| s.parse::<ToolVersion>().unwrap();
        let t = |s: &str| parse_target(s).unwrap();
        assert!(runs_on(t("compute_90"), &cc("10.0")));
        assert!(runs_on(t("compute_90a"), &cc("9.0")));
        assert!(!runs_on(t("compute_90a"), &cc("10.0")));
        assert!(!runs_on(t("sm_90a"), &cc("10.0")));
    }

    #[test]
    fn parses_targets() {
        assert_eq!(
            parse_target("sm_121"),
            Some(ArchTarget {
                major: 12,
                minor: 1,
                ptx: false,
                specific: false
            })
        );
        assert_eq!(
            parse_target("sm_90a"),
            Some(ArchTarget {
                major: 9,
                minor: 0,
                ptx: false,
                specific: true
            })
        );
        assert_eq!(
            parse_target("compute_120"),
            Some(ArchTarget {
                major: 12,
                minor: 0,
                ptx: true,
                specific: false
            })
        );
        assert_eq!(parse_target("sm_8"), None);
        assert_eq!(parse_target("gfx942"), None);
    }

    #[test]
    fn family_compatibility_covers_gb10() {
        // torch cu128/cu130 wheels list sm_120 and no sm_121: a GB10 still runs them.
        let cu130 = list(&[
            "sm_75",
            "sm_80",
            "sm_86",
            "sm_90",
            "sm_100",
            "sm_120",
            "compute_120",
        ]);
        assert!(list_runs_on(&cu130, &cc("12.1")));
        assert!(!list_has_exact(&cu130, &cc("12.1")));
        // cu126 has nothing for Blackwell.
        let cu126 = list(&[
            "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90",
        ]);
        assert!(!list_runs_on(&cu126, &cc("12.0")));
        assert!(!list_runs_on(&cu126, &cc("10.0")));
        // SASS does not cross majors; PTX does, upwards only.
        assert!(!list_runs_on(&list(&["sm_90"]), &cc("10.0")));
        assert!(list_runs_on(&list(&["compute_90"]), &cc("12.1")));
        assert!(!list_runs_on(&list(&["compute_120"]), &cc("9.0")));
        assert!(!list_runs_on(&list(&["sm_120a"]), &cc("12.1")));
        assert!(list_runs_on(&list(&["sm_86"]), &cc("8.9")));
    }

    #[test]
    fn nvcc_release_table() {
        assert_eq!(nvcc_builds_for(&cc("12.8"), &cc("12.1")), Some(false));
        assert_eq!(nvcc_builds_for(&cc("12.9"), &cc("12.1")), Some(true));
        assert_eq!(nvcc_builds_for(&cc("12.8"), &cc("12.0")), Some(true));
        assert_eq!(nvcc_builds_for(&cc("12.4"), &cc("12.0")), Some(false));
        assert_eq!(nvcc_builds_for(&cc("11.8"), &cc("9.0")), Some(true));
        assert_eq!(nvcc_builds_for(&cc("13.0"), &cc("7.0")), Some(false));
        assert_eq!(nvcc_builds_for(&cc("13.0"), &cc("11.0")), Some(true));
        assert_eq!(nvcc_builds_for(&cc("13.0"), &cc("13.0")), None);
    }
}
