//! NVIDIA driver and GPUs through NVML (`nvml-wrapper`, libnvidia-ml loaded at run time).
//!
//! Reading NVML is split from interpreting it: `read` talks to the library and fills plain `NvmlDevice`
//! records, `to_gpu` (pure, tested) turns them into facts. A field NVML answers with "Not Supported" is a
//! fact: on a DGX Spark (GB10) the GPU has no framebuffer of its own, NVML reports its memory as Not
//! Supported, and the GPU uses the unified system memory — tools that took this for "no GPU" were wrong.
//! It may report a memory clock of 0 too: no bandwidth is computed from a zero (the bench then takes the
//! profile's datasheet figure). Under MIG, each slice is listed with its own `MIG-` UUID, which is what
//! the CUDA driver reports for the slice it shows; `probe` matches CUDA devices to these by UUID.

use nvml_wrapper::enum_wrappers::device::Clock;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;

use crate::facts::{Gpu, Nvidia, Vendor};
use crate::units::BYTES_PER_GB;

/// One field as NVML answered it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading<T> {
    Value(T),
    NotSupported,
    Failed(String),
}

impl<T> Reading<T> {
    fn from(result: Result<T, NvmlError>) -> Self {
        match result {
            Ok(v) => Reading::Value(v),
            Err(NvmlError::NotSupported) => Reading::NotSupported,
            Err(e) => Reading::Failed(e.to_string()),
        }
    }

    fn ok(self) -> Option<T> {
        match self {
            Reading::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// What NVML says about one GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct NvmlDevice {
    pub name: String,
    pub uuid: Option<String>,
    pub compute_capability: Option<(i32, i32)>,
    pub memory_total_bytes: Reading<u64>,
    pub max_sm_clock_mhz: Option<u32>,
    pub max_memory_clock_mhz: Option<u32>,
    pub memory_bus_width_bits: Option<u32>,
    pub power_limit_mw: Option<u32>,
    pub mig_enabled: Option<bool>,
    pub sm_count: Option<u32>,
    /// The MIG slices (GPU instances) of a GPU in MIG mode.
    pub mig_slices: Vec<NvmlMigSlice>,
}

/// One MIG slice as NVML lists it (`nvmlDeviceGetMigDeviceHandleByIndex`).
#[derive(Debug, Clone, PartialEq)]
pub struct NvmlMigSlice {
    /// `MIG-…`.
    pub uuid: String,
    /// `NVIDIA H100 80GB HBM3 MIG 1g.10gb`.
    pub name: String,
    pub memory_total_bytes: Option<u64>,
}

/// The driver, its CUDA version and every GPU, or why NVML could not be read.
pub struct NvmlReport {
    pub nvidia: Nvidia,
    pub devices: Vec<NvmlDevice>,
}

pub fn read() -> Result<NvmlReport, String> {
    // Under WSL2 the Windows driver's NVML is mounted in /usr/lib/wsl/lib, which the loader's default
    // path may not list.
    let wsl_nvml = std::path::Path::new(crate::probe::host::WSL_LIB_DIR).join("libnvidia-ml.so.1");
    let nvml = Nvml::init()
        .or_else(|e| {
            if wsl_nvml.is_file() {
                Nvml::builder().lib_path(wsl_nvml.as_os_str()).init()
            } else {
                Err(e)
            }
        })
        .map_err(|e| describe_init_error(&e))?;
    let driver = nvml.sys_driver_version().ok().and_then(|v| v.parse().ok());
    let cuda_driver = nvml
        .sys_cuda_driver_version()
        .ok()
        .and_then(|v| cuda_version_text(v).parse().ok());
    let count = nvml
        .device_count()
        .map_err(|e| format!("NVML could not count GPUs: {e}"))?;
    let mut devices = Vec::new();
    for index in 0..count {
        let device = match nvml.device_by_index(index) {
            Ok(d) => d,
            Err(e) => {
                devices.push(NvmlDevice::failed(index, &e));
                continue;
            }
        };
        devices.push(NvmlDevice {
            name: device
                .name()
                .unwrap_or_else(|_| format!("NVIDIA GPU {index}")),
            uuid: device.uuid().ok(),
            compute_capability: device
                .cuda_compute_capability()
                .ok()
                .map(|c| (c.major, c.minor)),
            memory_total_bytes: Reading::from(device.memory_info().map(|m| m.total)),
            max_sm_clock_mhz: device.max_clock_info(Clock::SM).ok(),
            max_memory_clock_mhz: device.max_clock_info(Clock::Memory).ok(),
            memory_bus_width_bits: device.memory_bus_width().ok(),
            power_limit_mw: device.enforced_power_limit().ok(),
            mig_enabled: device.mig_mode().ok().map(|m| m.current == 1),
            sm_count: None,
            mig_slices: mig_slices(&device),
        });
    }
    Ok(NvmlReport {
        nvidia: Nvidia {
            driver,
            cuda_driver,
            ..Default::default()
        },
        devices,
    })
}

/// The slices of a GPU in MIG mode; empty otherwise. Empty slots answer NVML_ERROR_NOT_FOUND.
fn mig_slices(device: &nvml_wrapper::Device<'_>) -> Vec<NvmlMigSlice> {
    if !device.mig_mode().is_ok_and(|m| m.current == 1) {
        return vec![];
    }
    let slots = device.mig_device_count().unwrap_or(0).min(64);
    (0..slots)
        .filter_map(|i| device.mig_device_by_index(i).ok())
        .filter_map(|slice| {
            Some(NvmlMigSlice {
                uuid: slice.uuid().ok()?,
                name: slice.name().unwrap_or_else(|_| "MIG slice".into()),
                memory_total_bytes: slice.memory_info().ok().map(|m| m.total),
            })
        })
        .collect()
}

impl NvmlDevice {
    fn failed(index: u32, e: &NvmlError) -> NvmlDevice {
        NvmlDevice {
            name: format!("NVIDIA GPU {index} (NVML: {e})"),
            uuid: None,
            compute_capability: None,
            memory_total_bytes: Reading::Failed(e.to_string()),
            max_sm_clock_mhz: None,
            max_memory_clock_mhz: None,
            memory_bus_width_bits: None,
            power_limit_mw: None,
            mig_enabled: None,
            sm_count: None,
            mig_slices: vec![],
        }
    }
}

/// `13000` → `13.0` (NVML encodes major × 1000 + minor × 10).
pub fn cuda_version_text(v: i32) -> String {
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

fn describe_init_error(e: &NvmlError) -> String {
    match e {
        NvmlError::LibloadingError(_) | NvmlError::LibraryNotFound => {
            "no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded)".into()
        }
        NvmlError::DriverNotLoaded => {
            "the NVIDIA driver is installed but not loaded (reboot, or check `lsmod | grep nvidia`)"
                .into()
        }
        NvmlError::NoPermission => "no permission to talk to the NVIDIA driver".into(),
        NvmlError::LibRmVersionMismatch => "NVML: Driver/library version mismatch — the loaded NVIDIA kernel module and the user-space libraries are different versions (usually a driver update without a reboot): reboot, or reload the nvidia kernel modules".into(),
        other => format!("NVML failed: {other}"),
    }
}

/// NVML's answers as facts. `host_memory_gb` is the system memory a unified-memory GPU shares.
pub fn to_gpu(device: &NvmlDevice, host_memory_gb: Option<f64>) -> Gpu {
    let mut gpu = Gpu::new(Vendor::Nvidia, device.name.clone());
    gpu.uuid = device.uuid.clone();
    gpu.compute_capability = device
        .compute_capability
        .and_then(|(major, minor)| format!("{major}.{minor}").parse().ok());
    match &device.memory_total_bytes {
        Reading::Value(bytes) => {
            gpu.memory_gb = Some(*bytes as f64 / BYTES_PER_GB);
            gpu.unified_memory = Some(false);
        }
        Reading::NotSupported => {
            // GB10 and other integrated GPUs: no framebuffer, the GPU allocates from system memory.
            gpu.memory_gb = host_memory_gb;
            gpu.unified_memory = Some(true);
            gpu.memory_note = Some("NVML reports framebuffer memory as Not Supported: unified memory, system memory shown".into());
        }
        Reading::Failed(e) => gpu.memory_note = Some(format!("NVML could not read memory: {e}")),
    }
    gpu.fp4_native = crate::facts::arch::fp4_native(&gpu);
    // A zero is not a clock or a width (GB10 reports a memory clock of 0): unknown.
    gpu.max_sm_clock_mhz = device.max_sm_clock_mhz.filter(|v| *v > 0);
    gpu.max_memory_clock_mhz = device.max_memory_clock_mhz.filter(|v| *v > 0);
    gpu.memory_bus_width_bits = device.memory_bus_width_bits.filter(|v| *v > 0);
    gpu.power_limit_w = device.power_limit_mw.map(|mw| f64::from(mw) / 1000.0);
    gpu.mig_enabled = device.mig_enabled;
    gpu.gpu_cores = device.sm_count;
    gpu.mig_slices = device
        .mig_slices
        .iter()
        .map(|m| crate::facts::MigSlice {
            uuid: m.uuid.clone(),
            name: m.name.clone(),
            memory_gb: m.memory_total_bytes.map(|b| b as f64 / BYTES_PER_GB),
            cuda_index: None,
            sms: None,
        })
        .collect();
    // `bandwidth_gbs` is the datasheet's figure, which NVML does not know: bus width × clock stays in its
    // own fields (`facts::arch::bus_bandwidth_gbs` computes from them, labelled as such).
    gpu
}

impl<T> Reading<T> {
    pub fn into_option(self) -> Option<T> {
        self.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, cc: (i32, i32), memory: Reading<u64>) -> NvmlDevice {
        NvmlDevice {
            name: name.into(),
            uuid: None,
            compute_capability: Some(cc),
            memory_total_bytes: memory,
            max_sm_clock_mhz: None,
            max_memory_clock_mhz: None,
            memory_bus_width_bits: None,
            power_limit_mw: None,
            mig_enabled: None,
            sm_count: None,
            mig_slices: vec![],
        }
    }

    #[test]
    fn gb10_not_supported_memory_is_unified() {
        let gpu = to_gpu(
            &device("NVIDIA GB10", (12, 1), Reading::NotSupported),
            Some(128.5),
        );
        assert_eq!(gpu.unified_memory, Some(true));
        assert_eq!(gpu.memory_gb, Some(128.5));
        assert_eq!(gpu.fp4_native, Some(true));
        assert!(gpu.memory_note.unwrap().contains("Not Supported"));
    }

    #[test]
    fn discrete_gpu_memory_and_bandwidth() {
        let mut d = device(
            "NVIDIA GeForce RTX 4090",
            (8, 9),
            Reading::Value(25_757_220_864),
        );
        d.memory_bus_width_bits = Some(384);
        d.max_memory_clock_mhz = Some(10501);
        d.power_limit_mw = Some(450_000);
        let gpu = to_gpu(&d, Some(64.0));
        assert_eq!(gpu.unified_memory, Some(false));
        // 25,757,220,864 bytes: the 4090's "24 GB".
        assert!((gpu.memory_gb.unwrap() - 23.99).abs() < 0.01);
        // Bus × clock is not the datasheet's figure: kept in its fields, computed where it is labelled.
        assert_eq!(gpu.bandwidth_gbs, None);
        let bus = crate::facts::arch::bus_bandwidth_gbs(&gpu).unwrap();
        assert!((bus - 1008.1).abs() < 0.1, "{bus}");
        assert_eq!(gpu.power_limit_w, Some(450.0));
        assert_eq!(gpu.fp4_native, Some(false));
        assert_eq!(gpu.compute_capability.unwrap().to_string(), "8.9");
    }

    /// An H200 as NVML reports it: 143,771 MiB is the "141 GB" NVIDIA sells (GiB), not 151 decimal GB;
    /// 6144 bit × 3201 MHz is 4917 GB/s computed, which is not its 4800 GB/s datasheet figure, so it does
    /// not land in `bandwidth_gbs`.
    #[test]
    fn an_h200_counts_memory_as_its_vendor_does() {
        let mib: u64 = 143_771;
        let mut d = device("NVIDIA H200", (9, 0), Reading::Value(mib << 20));
        d.memory_bus_width_bits = Some(6144);
        d.max_memory_clock_mhz = Some(3201);
        d.mig_slices = vec![NvmlMigSlice {
            uuid: "MIG-1".into(),
            name: "NVIDIA H200 MIG 1g.18gb".into(),
            memory_total_bytes: Some(16_384u64 << 20),
        }];
        let gpu = to_gpu(&d, None);
        let gb = gpu.memory_gb.unwrap();
        assert!((gb - 140.4).abs() < 0.05, "{gb}");
        assert_eq!(gpu.mig_slices[0].memory_gb, Some(16.0));
        assert_eq!(gpu.bandwidth_gbs, None);
        let bus = crate::facts::arch::bus_bandwidth_gbs(&gpu).unwrap();
        assert!((bus - 4917.0).abs() < 1.0, "{bus}");
        assert_eq!(gpu.memory_bus_width_bits, Some(6144));
        assert_eq!(gpu.max_memory_clock_mhz, Some(3201));
    }

    #[test]
    fn a_zero_memory_clock_gives_no_bandwidth() {
        // GB10: NVML answers a memory clock of 0 (and memory Not Supported).
        let mut d = device("NVIDIA GB10", (12, 1), Reading::NotSupported);
        d.memory_bus_width_bits = Some(256);
        d.max_memory_clock_mhz = Some(0);
        let gpu = to_gpu(&d, Some(128.5));
        assert_eq!(gpu.bandwidth_gbs, None);
        assert_eq!(crate::facts::arch::bus_bandwidth_gbs(&gpu), None);
        assert_eq!(gpu.max_memory_clock_mhz, None);
        assert_eq!(gpu.memory_bus_width_bits, Some(256));
        d.memory_bus_width_bits = Some(0);
        d.max_memory_clock_mhz = Some(8533);
        assert_eq!(
            crate::facts::arch::bus_bandwidth_gbs(&to_gpu(&d, None)),
            None
        );
    }

    #[test]
    fn mig_slices_become_facts() {
        let mut d = device(
            "NVIDIA H100 80GB HBM3",
            (9, 0),
            Reading::Value(85_520_809_984),
        );
        d.mig_enabled = Some(true);
        d.mig_slices = vec![NvmlMigSlice {
            uuid: "MIG-1a2b3c4d-0000-5000-8000-000000000001".into(),
            name: "NVIDIA H100 80GB HBM3 MIG 1g.10gb".into(),
            memory_total_bytes: Some(10_200_547_328),
        }];
        let gpu = to_gpu(&d, None);
        assert_eq!(gpu.mig_slices.len(), 1);
        assert_eq!(gpu.mig_slices[0].name, "NVIDIA H100 80GB HBM3 MIG 1g.10gb");
        assert!((gpu.mig_slices[0].memory_gb.unwrap_or(0.0) - 9.5).abs() < 0.01);
    }

    #[test]
    fn a_driver_library_mismatch_says_what_to_do() {
        let e = describe_init_error(&NvmlError::LibRmVersionMismatch);
        assert!(
            e.contains("Driver/library version mismatch") && e.contains("reboot"),
            "{e}"
        );
    }

    #[test]
    fn cuda_versions() {
        assert_eq!(cuda_version_text(13000), "13.0");
        assert_eq!(cuda_version_text(12080), "12.8");
        assert_eq!(cuda_version_text(12090), "12.9");
    }

    #[test]
    fn no_driver_here_is_an_error_not_a_panic() {
        // This machine (and CI) has no NVIDIA driver; on one that does, the report is read.
        match read() {
            Ok(report) => assert!(report.nvidia.driver.is_some()),
            Err(e) => assert!(e.contains("NVIDIA") || e.contains("NVML"), "{e}"),
        }
    }
}
