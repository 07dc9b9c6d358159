//! Facts about one machine: plain, versioned serde data.
//!
//! Probes produce it, `mlcompat probe` prints it, `--facts FILE` and `--profile NAME` read it back, and the
//! evaluator reads nothing else. Every field is optional: absent means unknown, and `failed` says why a
//! section is missing ("NVML library not found", "python3 timed out after 5 s") — a failed probe is a fact,
//! not an error.

pub mod arch;
pub mod dumps;
pub mod keys;
pub mod load;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::version::{PyVersion, ToolVersion};

pub const FACTS_SCHEMA: &str = "mlcompat.facts/1";

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub schema: String,
    /// Which machine this is: set for reference profiles, and for live probes (`kind: live`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Machine>,
    #[serde(default)]
    pub host: Host,
    /// All GPUs; `Some(vec![])` means "looked, found none", `None` means unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<Vec<Gpu>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvidia: Option<Nvidia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<CudaToolkit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apple: Option<Apple>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<Python>,
    /// Programs found on PATH, by name; `None` means PATH was not searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binaries: Option<BTreeMap<String, Binary>>,
    /// Shared libraries found, name → path; `None` means not searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libraries: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmarks: Option<Benchmarks>,
    /// What PyTorch itself reports (`doctor --deep` imports it in a child process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch: Option<Torch>,
    /// Module → `ok` or the import error (`doctor --deep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imports: Option<BTreeMap<String, String>>,
    /// Module → the warnings its import printed on stderr (`doctor --deep`), e.g. torch's "sm_121 is not
    /// compatible with the current PyTorch installation".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub import_warnings: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<Docker>,
    /// Facts the completion step derived rather than read, fact → where from ("nvidia.cuda_driver" →
    /// "from driver 570.86.10: CUDA 12.8 needs 570.26 or newer on Linux"). Every command reads completed
    /// facts; the doctor's header says where a derived fact came from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub derived: BTreeMap<String, String>,
    /// Section → why its facts are missing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed: BTreeMap<String, String>,
    /// How long each probe took, milliseconds (live facts only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub probe_times_ms: BTreeMap<String, f64>,
    /// What the probe noticed about how it ran (PATH entries it would not search), in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probe_notes: Vec<String>,
}

/// Where facts come from. A file that does not say is `saved` facts, never a reference profile.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MachineKind {
    /// A reference machine from `matrix/profiles/` (the loader sets it).
    Profile,
    /// Probed on the machine itself (`mlcompat probe`).
    Live,
    #[default]
    Saved,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: MachineKind,
    /// Launch price, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_usd: Option<f64>,
    /// Today's list price where it changed after launch, USD; its source says since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price_usd: Option<f64>,
    /// Figure → where it comes from (datasheet URL and quote).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Macos => "macos",
            Os::Windows => "windows",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// Reads the names `uname -m`, Rust and Python use.
    pub fn from_name(name: &str) -> Option<Arch> {
        match name.trim() {
            "x86_64" | "amd64" | "AMD64" | "x64" => Some(Arch::X86_64),
            "aarch64" | "arm64" | "ARM64" => Some(Arch::Aarch64),
            _ => None,
        }
    }
}

/// What live facts call the machine they were probed on.
pub const THIS_MACHINE: &str = "this machine";

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The machine's network name (fleet tables and CI reports name machines by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<Os>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<ToolVersion>,
    /// A readable name, e.g. "Ubuntu 24.04.3 LTS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<u32>,
    /// Total memory in GB (10^9 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glibc: Option<ToolVersion>,
    /// Datasheet bandwidth of the host memory, GB/s (what a CPU-only run streams weights at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bandwidth_gbs: Option<f64>,
    /// Peak FP32 of the CPU cores, TFLOPS (reference profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_fp32_tflops: Option<f64>,
    /// Linux running under Windows' WSL2: the GPU driver is Windows', NVML lives in /usr/lib/wsl/lib.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wsl: Option<bool>,
    /// Linux for Tegra (a Jetson): its NVIDIA driver is numbered apart from the desktop ones (580.00 on
    /// JetPack 7 supports CUDA 13.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tegra: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Nvidia,
    Apple,
    Amd,
    Intel,
}

impl Vendor {
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Nvidia => "nvidia",
            Vendor::Apple => "apple",
            Vendor::Amd => "amd",
            Vendor::Intel => "intel",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    pub vendor: Vendor,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<ToolVersion>,
    /// Memory the GPU can use, GB; for unified memory the shared total. GB here are GiB, 2^30 bytes, as
    /// vendors and nvidia-smi count memory (an H200's 143,771 MiB is its "141 GB"); every memory figure in
    /// facts and estimates counts so. Bandwidth (GB/s) is decimal, as datasheets give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified_memory: Option<bool>,
    /// Datasheet bandwidth, GB/s (a measured figure lives in `benchmarks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_gbs: Option<f64>,
    /// NVIDIA SMs or Apple GPU cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_cores: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_native: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tflops: Option<Tflops>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    /// Enforced power limit reported by the driver, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_limit_w: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sm_clock_mhz: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_clock_mhz: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bus_width_bits: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig_enabled: Option<bool>,
    /// How the memory figure was obtained when NVML could not say (GB10: "Not Supported").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_note: Option<String>,
    /// What reported this GPU when it was not NVML: `nvidia-smi` or `pci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The CUDA driver API's ordinal for this GPU (matched by UUID; CUDA orders devices fastest first and
    /// honours `CUDA_VISIBLE_DEVICES`, so it need not be NVML's index). `--deep` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_index: Option<u32>,
    /// Under MIG: the slices NVML lists (a CUDA program sees one slice, not the whole GPU).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mig_slices: Vec<MigSlice>,
}

/// One MIG slice of a GPU.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigSlice {
    /// `MIG-…`, as NVML and `nvidia-smi -L` print it.
    pub uuid: String,
    /// `NVIDIA H100 80GB HBM3 MIG 1g.10gb`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    /// Its SMs, as the CUDA driver reports them (`--deep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<u32>,
    /// The CUDA ordinal of the slice, when this process's CUDA sees it (`--deep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_index: Option<u32>,
}

/// Peak throughput in TFLOPS. Dense unless the name says sparse (2:4 sparsity doubles the headline).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tflops {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16_dense: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16_dense: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_dense: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_dense: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_dense: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_sparse: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nvidia {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<ToolVersion>,
    /// The highest CUDA version this driver supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_driver: Option<ToolVersion>,
    /// What the driver stack says is wrong, every line of it (nvidia-smi prints NVML's failures on
    /// stdout, e.g. "Failed to initialize NVML: Driver/library version mismatch").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where these facts come from when NVML could not be read (`nvidia-smi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CudaToolkit {
    /// The release `nvcc --version` reports, e.g. 12.8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkit: Option<ToolVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Real GPU architectures this nvcc can build for (`nvcc --list-gpu-code`), e.g. `sm_120`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cudnn: Option<ToolVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nccl: Option<ToolVersion>,
    /// The CUDA driver API version (`cuDriverGetVersion`, through cudarc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_api: Option<ToolVersion>,
    /// Devices the CUDA driver API sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Torch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<PyVersion>,
    /// `torch.version.cuda`; absent for CPU-only and MPS builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<ToolVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda_available: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_capability: Option<ToolVersion>,
    /// `torch.cuda.get_arch_list()`, e.g. `sm_90`, `sm_120`, `compute_120`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mps_available: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Docker {
    /// Runtimes registered with the Docker daemon (from its configuration).
    #[serde(default)]
    pub runtimes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_runtime: Option<String>,
    /// Where the runtimes were read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Apple {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_cores: Option<u32>,
    /// Metal's working-set limit in GB (`iogpu.wired_limit_mb`, default about 75% of RAM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metal_limit_gb: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Python {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<PyVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    /// How this interpreter was chosen: `--python`, `VIRTUAL_ENV`, `CONDA_PREFIX`, `./.venv` or `PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_by: Option<String>,
    /// Other environments found and not evaluated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
    /// How the choice was made, in words: candidates passed over and why (`VIRTUAL_ENV=/x: no interpreter
    /// at /x/bin/python`, a `./.venv` owned by someone else), the version a pyenv shim selects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Installed distributions, name (PEP 503 normalized) → version.
    #[serde(default)]
    pub packages: BTreeMap<String, PyVersion>,
    /// Declared requirements (METADATA `Requires-Dist`, markers evaluated for this interpreter) that the
    /// environment does not meet: what `pip check` reports. Absent: not checked (a facts file or paste
    /// that does not say); empty: checked, all met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmet_requirements: Option<Vec<UnmetRequirement>>,
    /// CUDA wheels (`nvidia-*`, `triton`, `cuda-toolkit`) that no installed distribution needs: what a CPU
    /// torch installed over a CUDA one leaves behind. Absent: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unused_cuda_wheels: Option<Vec<String>>,
    /// Installed files whose size is not the one their distribution's RECORD lists (truncated or replaced
    /// after install). Checked by `--deep` when an import dies of a signal; absent: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged_files: Option<Vec<DamagedFile>>,
}

/// A file that is not what its wheel installed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DamagedFile {
    /// The distribution that installed it (PEP 503 normalized), and its version.
    pub dist: String,
    pub version: String,
    /// Its path inside the site-packages folder, as RECORD lists it.
    pub path: String,
    pub expected_bytes: u64,
    pub bytes: u64,
}

/// One declared requirement an environment does not meet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmetRequirement {
    /// The distribution that declares it (PEP 503 normalized), and its version.
    pub dist: String,
    pub version: String,
    /// The requirement without its marker, as `pip install` takes it: `torch==2.14.0`.
    pub requires: String,
    /// The installed version of what is required; absent when it is not installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The extra of `dist` that brings the requirement, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    /// Installed distributions that need `dist`, directly or through others: what breaks with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed_by: Vec<String>,
}

/// A wheel of CUDA libraries, as a CUDA torch brings them (`nvidia-cublas`, `nvidia-cudnn-cu13`,
/// `nvidia-nccl-cu13`, `triton`, `cuda-toolkit`, …) — not a tool that merely talks to the driver
/// (`nvidia-ml-py`).
pub fn is_cuda_wheel(name: &str) -> bool {
    [
        "nvidia-cu",
        "nvidia-nccl",
        "nvidia-nvjitlink",
        "nvidia-nvtx",
        "nvidia-nvshmem",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || matches!(
            name,
            "triton" | "cuda-toolkit" | "cuda-bindings" | "cuda-pathfinder"
        )
}

impl UnmetRequirement {
    /// The name of what is required (`torch` for `torch==2.14.0`).
    pub fn required_name(&self) -> &str {
        let end = self
            .requires
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
            .unwrap_or(self.requires.len());
        &self.requires[..end]
    }

    /// As `pip check` says it.
    pub fn describe(&self) -> String {
        let via = self
            .extra
            .as_ref()
            .map(|e| format!(" (for its extra [{e}])"))
            .unwrap_or_default();
        match &self.installed {
            None => format!(
                "{} {} requires {}{via}, which is not installed",
                self.dist, self.version, self.requires
            ),
            Some(v) => format!(
                "{} {} has requirement {}{via}, but {} {v} is installed",
                self.dist,
                self.version,
                self.requires,
                self.required_name()
            ),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Binary {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ToolVersion>,
    /// The architecture the program was built for (its `--version` build line, else its ELF/Mach-O
    /// header): an x86_64 llama.cpp on Apple silicon runs under Rosetta, without Metal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// The build target the program names, e.g. `x86_64-apple-darwin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Benchmarks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_bandwidth_gbs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_bandwidth_gbs: Option<f64>,
    /// The native FP4 kernels ran and matched the CPU reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_native_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_native_tflops: Option<f64>,
    /// Software FP4 as mlcompat's test kernel runs it (both operands decoded to FP16 for the tensor cores
    /// from sm_80 on, W4A4), checked and measured: bounded by that kernel's decode, not the best software
    /// FP4 the GPU does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_emulated_tflops: Option<f64>,
}

/// PEP 503 name normalization: `Flash_Attn` and `flash-attn` are the same distribution.
pub fn normalize_package(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

impl Gpu {
    pub fn new(vendor: Vendor, name: impl Into<String>) -> Gpu {
        Gpu {
            vendor,
            name: name.into(),
            uuid: None,
            compute_capability: None,
            memory_gb: None,
            unified_memory: None,
            bandwidth_gbs: None,
            gpu_cores: None,
            fp4_native: None,
            tflops: None,
            tdp_w: None,
            power_limit_w: None,
            max_sm_clock_mhz: None,
            max_memory_clock_mhz: None,
            memory_bus_width_bits: None,
            mig_enabled: None,
            memory_note: None,
            source: None,
            cuda_index: None,
            mig_slices: Vec::new(),
        }
    }
}

impl Facts {
    /// The GPU the rules talk about: the first NVIDIA GPU, else the first of any vendor.
    pub fn primary_gpu(&self) -> Option<&Gpu> {
        let gpus = self.gpus.as_ref()?;
        gpus.iter()
            .find(|g| g.vendor == Vendor::Nvidia)
            .or_else(|| gpus.first())
    }

    /// Why `section` is unknown: the recorded failure, or a plain "not recorded".
    pub fn why_unknown(&self, section: &str) -> String {
        match self.failed.get(section) {
            Some(reason) => reason.clone(),
            None => match self.machine.as_ref().map(|m| m.kind) {
                Some(MachineKind::Profile) => "not part of a reference profile".into(),
                _ => "not recorded".into(),
            },
        }
    }

    /// A short name for headers: the profile's name or the live host.
    pub fn display_name(&self) -> String {
        match &self.machine {
            Some(m) => m.name.clone(),
            None => THIS_MACHINE.into(),
        }
    }

    /// Package names normalized, so lookups by any spelling work.
    pub fn normalize(&mut self) {
        if let Some(py) = &mut self.python {
            py.packages = std::mem::take(&mut py.packages)
                .into_iter()
                .map(|(k, v)| (normalize_package(&k), v))
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_names() {
        assert_eq!(normalize_package("Flash_Attn"), "flash-attn");
        assert_eq!(normalize_package("zope.interface"), "zope-interface");
        assert_eq!(normalize_package("a--b__c"), "a-b-c");
    }
}
