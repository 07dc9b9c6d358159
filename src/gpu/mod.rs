//! GPU test kernels: compiled at run time by NVRTC (`nvrtc`, chosen for the GPU and the driver by `plan`)
//! from the sources in `probes/` (`kernels`), executed through the CUDA driver API (`driver`, on cudarc's
//! dynamically loaded bindings) by the measurements in `device`, checked against the CPU reference in
//! `crate::fp4`. All of it runs in a child process (`worker`), so a hung kernel can be killed and a
//! faulting one cannot take the other results with it.

pub mod device;
pub mod driver;
pub mod inputs;
pub mod kernels;
pub mod nvrtc;
pub mod plan;
pub mod worker;

use serde::{Deserialize, Serialize};

/// A CUDA release, as NVRTC (`nvrtcVersion`) and the driver (`cuDriverGetVersion`) report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CudaVersion {
    pub major: u32,
    pub minor: u32,
}

impl CudaVersion {
    pub fn new(major: u32, minor: u32) -> CudaVersion {
        CudaVersion { major, minor }
    }

    /// `cuDriverGetVersion`'s encoding: major × 1000 + minor × 10 (12040 is CUDA 12.4).
    pub fn from_driver(encoded: i32) -> Option<CudaVersion> {
        let v = u32::try_from(encoded).ok().filter(|v| *v > 0)?;
        Some(CudaVersion::new(v / 1000, (v % 1000) / 10))
    }
}

impl std::fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Whether two spellings of a UUID name the same device: NVML writes `GPU-…` (a GPU) or `MIG-…` (a MIG
/// slice), the CUDA driver gives the bare 16 bytes (`driver::format_uuid`).
pub fn same_uuid(a: &str, b: &str) -> bool {
    let key = |u: &str| {
        let u = u.trim();
        u.strip_prefix("GPU-")
            .or_else(|| u.strip_prefix("MIG-"))
            .unwrap_or(u)
            .to_ascii_lowercase()
    };
    !a.trim().is_empty() && key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_versions_decode() {
        assert_eq!(
            CudaVersion::from_driver(12040),
            Some(CudaVersion::new(12, 4))
        );
        assert_eq!(
            CudaVersion::from_driver(13000),
            Some(CudaVersion::new(13, 0))
        );
        assert_eq!(CudaVersion::from_driver(0), None);
        assert_eq!(CudaVersion::from_driver(-1), None);
        assert!(CudaVersion::new(12, 8) < CudaVersion::new(13, 0));
        assert_eq!(CudaVersion::new(12, 4).to_string(), "12.4");
    }

    #[test]
    fn uuids_compare_across_spellings() {
        assert!(same_uuid(
            "GPU-5E5C7A2B-9f10-4e5b-8a4c-123456789abc",
            "5e5c7a2b-9f10-4e5b-8a4c-123456789abc"
        ));
        assert!(same_uuid("MIG-abcd", "abcd"));
        assert!(!same_uuid("GPU-abcd", "abce"));
        assert!(!same_uuid("", ""));
    }
}
