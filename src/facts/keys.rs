//! The names rules use for facts (`gpu.compute_capability`, `package.torch`, …), their types, and how
//! each is read from `Facts`. One table, so the matrix validator and the evaluator agree on what exists.

use std::fmt;

use crate::facts::arch;
use crate::facts::{normalize_package, Facts, Vendor};
use crate::version::{PyVersion, ToolVersion};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactKey {
    Os,
    OsVersion,
    Arch,
    CpuCores,
    MemoryGb,
    Glibc,
    GpuVendor,
    GpuName,
    GpuCount,
    GpuComputeCapability,
    GpuMemoryGb,
    GpuUnifiedMemory,
    GpuBandwidthGbs,
    GpuFp4Native,
    NvidiaDriver,
    NvidiaCudaDriver,
    CudaToolkit,
    AppleChip,
    AppleMetalLimitGb,
    PythonVersion,
    PythonArch,
    /// The CUDA wheels (`nvidia-*`, `triton`, `cuda-toolkit`) no installed distribution needs,
    /// space-separated: what a CPU torch installed over a CUDA one leaves behind.
    PythonCudaWheels,
    Package(String),
    Binary(String),
    CudaTargetsGpu,
    CudaCudnn,
    TorchCuda,
    TorchCudaAvailable,
    TorchMpsAvailable,
    TorchSupportsGpu,
    Import(String),
    DockerNvidiaRuntime,
    Wsl,
    /// A Jetson (Linux for Tegra).
    Tegra,
    NvidiaError,
    /// What a `--deep` import printed on stderr (`warning.torch`).
    Warning(String),
    /// This row's software was detected (row-local; resolved by the evaluator).
    Installed,
    InstalledVersion,
    /// The architecture the detected program or Python was built for (row-local).
    InstalledArch,
}

/// How a fact's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    Number,
    Bool,
    /// Numeric, semver-style (drivers, CUDA, compute capability, tools).
    Version,
    /// PEP 440 (Python and its packages).
    Pep440,
}

const FIXED: &[(&str, FactKey, ValueKind)] = &[
    ("os", FactKey::Os, ValueKind::Text),
    ("os.version", FactKey::OsVersion, ValueKind::Version),
    ("arch", FactKey::Arch, ValueKind::Text),
    ("cpu.cores", FactKey::CpuCores, ValueKind::Number),
    ("memory.gb", FactKey::MemoryGb, ValueKind::Number),
    ("glibc", FactKey::Glibc, ValueKind::Version),
    ("gpu.vendor", FactKey::GpuVendor, ValueKind::Text),
    ("gpu.name", FactKey::GpuName, ValueKind::Text),
    ("gpu.count", FactKey::GpuCount, ValueKind::Number),
    (
        "gpu.compute_capability",
        FactKey::GpuComputeCapability,
        ValueKind::Version,
    ),
    ("gpu.memory_gb", FactKey::GpuMemoryGb, ValueKind::Number),
    (
        "gpu.unified_memory",
        FactKey::GpuUnifiedMemory,
        ValueKind::Bool,
    ),
    (
        "gpu.bandwidth_gbs",
        FactKey::GpuBandwidthGbs,
        ValueKind::Number,
    ),
    ("gpu.fp4_native", FactKey::GpuFp4Native, ValueKind::Bool),
    ("nvidia.driver", FactKey::NvidiaDriver, ValueKind::Version),
    (
        "nvidia.cuda_driver",
        FactKey::NvidiaCudaDriver,
        ValueKind::Version,
    ),
    ("cuda.toolkit", FactKey::CudaToolkit, ValueKind::Version),
    ("apple.chip", FactKey::AppleChip, ValueKind::Text),
    (
        "apple.metal_limit_gb",
        FactKey::AppleMetalLimitGb,
        ValueKind::Number,
    ),
    ("python.version", FactKey::PythonVersion, ValueKind::Pep440),
    ("python.arch", FactKey::PythonArch, ValueKind::Text),
    (
        "python.unused_cuda_wheels",
        FactKey::PythonCudaWheels,
        ValueKind::Text,
    ),
    ("cuda.targets_gpu", FactKey::CudaTargetsGpu, ValueKind::Bool),
    ("cuda.cudnn", FactKey::CudaCudnn, ValueKind::Version),
    ("torch.cuda", FactKey::TorchCuda, ValueKind::Version),
    (
        "torch.cuda_available",
        FactKey::TorchCudaAvailable,
        ValueKind::Bool,
    ),
    (
        "torch.mps_available",
        FactKey::TorchMpsAvailable,
        ValueKind::Bool,
    ),
    (
        "torch.supports_gpu",
        FactKey::TorchSupportsGpu,
        ValueKind::Bool,
    ),
    (
        "docker.nvidia_runtime",
        FactKey::DockerNvidiaRuntime,
        ValueKind::Bool,
    ),
    ("wsl", FactKey::Wsl, ValueKind::Bool),
    ("tegra", FactKey::Tegra, ValueKind::Bool),
    ("nvidia.error", FactKey::NvidiaError, ValueKind::Text),
    ("installed", FactKey::Installed, ValueKind::Bool),
    (
        "installed.version",
        FactKey::InstalledVersion,
        ValueKind::Pep440,
    ),
    ("installed.arch", FactKey::InstalledArch, ValueKind::Text),
];

/// Values a text fact can take, where the set is closed (a typo in a rule is then caught).
pub fn allowed_texts(key: &FactKey) -> Option<&'static [&'static str]> {
    match key {
        FactKey::Os => Some(&["linux", "macos", "windows"]),
        FactKey::Arch | FactKey::PythonArch | FactKey::InstalledArch => {
            Some(&["x86_64", "aarch64"])
        }
        FactKey::GpuVendor => Some(&["nvidia", "apple", "amd", "intel", "none"]),
        _ => None,
    }
}

impl FactKey {
    pub fn parse(name: &str) -> Result<FactKey, String> {
        if let Some((_, key, _)) = FIXED.iter().find(|(n, _, _)| *n == name) {
            return Ok(key.clone());
        }
        let dynamic = |prefix: &str| {
            name.strip_prefix(prefix).filter(|rest| {
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            })
        };
        if let Some(pkg) = dynamic("package.") {
            return Ok(FactKey::Package(normalize_package(pkg)));
        }
        if let Some(bin) = dynamic("binary.") {
            return Ok(FactKey::Binary(bin.to_string()));
        }
        if let Some(module) = dynamic("import.") {
            return Ok(FactKey::Import(module.to_string()));
        }
        if let Some(module) = dynamic("warning.") {
            return Ok(FactKey::Warning(module.to_string()));
        }
        let known: Vec<&str> = FIXED.iter().map(|(n, _, _)| *n).collect();
        Err(format!(
            "unknown fact `{name}` (known: {}, package.<name>, binary.<name>, import.<module>, warning.<module>)",
            known.join(", ")
        ))
    }

    pub fn kind(&self) -> ValueKind {
        match self {
            FactKey::Package(_) => ValueKind::Pep440,
            FactKey::Binary(_) => ValueKind::Version,
            FactKey::Import(_) | FactKey::Warning(_) => ValueKind::Text,
            key => FIXED
                .iter()
                .find(|(_, k, _)| k == key)
                .map(|(_, _, kind)| *kind)
                .unwrap_or(ValueKind::Text),
        }
    }

    /// Environment facts describe what is installed (Python, packages, programs, the CUDA toolkit,
    /// Docker, what `--deep` imports found); reference profiles never have them, so a rule left undecided
    /// by one is skipped rather than blocking the row.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            FactKey::PythonVersion
                | FactKey::PythonArch
                | FactKey::PythonCudaWheels
                | FactKey::Package(_)
                | FactKey::Binary(_)
                | FactKey::Installed
                | FactKey::InstalledVersion
                | FactKey::InstalledArch
                | FactKey::Warning(_)
                | FactKey::CudaToolkit
                | FactKey::CudaTargetsGpu
                | FactKey::CudaCudnn
                | FactKey::TorchCuda
                | FactKey::TorchCudaAvailable
                | FactKey::TorchMpsAvailable
                | FactKey::TorchSupportsGpu
                | FactKey::Import(_)
                | FactKey::DockerNvidiaRuntime
        )
    }

    /// Reads a machine fact. Row-local facts (`installed`) are the evaluator's and read as unknown here.
    pub fn lookup(&self, facts: &Facts) -> Lookup {
        let gpu = facts.primary_gpu();
        let gpus_unknown =
            || Lookup::Unknown(format!("GPUs unknown: {}", facts.why_unknown("gpus")));
        let no_gpu_or = |f: &dyn Fn() -> Lookup| match (&facts.gpus, gpu) {
            (None, _) => gpus_unknown(),
            (Some(_), None) => Lookup::Absent,
            (Some(_), Some(_)) => f(),
        };
        let host = |v: Option<Value>| {
            v.map_or_else(|| Lookup::Unknown(facts.why_unknown("host")), Lookup::Known)
        };
        let has_vendor = |v: Vendor| facts.gpus.as_ref().map(|g| g.iter().any(|g| g.vendor == v));
        match self {
            FactKey::Os => host(facts.host.os.map(|o| Value::Text(o.as_str().into()))),
            FactKey::OsVersion => host(facts.host.os_version.clone().map(Value::Version)),
            FactKey::Arch => host(facts.host.arch.map(|a| Value::Text(a.as_str().into()))),
            FactKey::CpuCores => host(facts.host.cpu_cores.map(|c| Value::Number(c.into()))),
            FactKey::MemoryGb => host(facts.host.memory_gb.map(Value::Number)),
            FactKey::Glibc => match (&facts.host.glibc, facts.host.os) {
                (Some(v), _) => Lookup::Known(Value::Version(v.clone())),
                (None, Some(os)) if os != crate::facts::Os::Linux => Lookup::Absent,
                (None, _) => Lookup::Unknown(facts.why_unknown("host")),
            },
            FactKey::GpuVendor => match (&facts.gpus, gpu) {
                (None, _) => gpus_unknown(),
                (Some(_), None) => Lookup::Known(Value::Text("none".into())),
                (Some(_), Some(g)) => Lookup::Known(Value::Text(g.vendor.as_str().into())),
            },
            FactKey::GpuName => no_gpu_or(&|| known_text(gpu.map(|g| g.name.clone()))),
            FactKey::GpuCount => match &facts.gpus {
                None => gpus_unknown(),
                Some(g) => Lookup::Known(Value::Number(g.len() as f64)),
            },
            FactKey::GpuComputeCapability => no_gpu_or(&|| match gpu {
                Some(g) if g.vendor != Vendor::Nvidia => Lookup::Absent,
                Some(g) => g.compute_capability.clone().map_or_else(
                    || {
                        Lookup::Unknown(format!(
                            "compute capability of {} unknown: {}",
                            g.name,
                            facts.why_unknown("nvidia")
                        ))
                    },
                    |cc| Lookup::Known(Value::Version(cc)),
                ),
                None => Lookup::Absent,
            }),
            FactKey::GpuMemoryGb => no_gpu_or(&|| {
                let g = gpu.into_iter().next();
                let unified = g.and_then(|g| g.unified_memory) == Some(true);
                match g.and_then(|g| g.memory_gb).or(if unified {
                    facts.host.memory_gb
                } else {
                    None
                }) {
                    Some(gb) => Lookup::Known(Value::Number(gb)),
                    None => Lookup::Unknown("GPU memory not reported".into()),
                }
            }),
            FactKey::GpuUnifiedMemory => no_gpu_or(&|| {
                known_or(
                    gpu.and_then(|g| g.unified_memory).map(Value::Bool),
                    "not reported",
                )
            }),
            FactKey::GpuBandwidthGbs => no_gpu_or(&|| {
                let measured = facts.benchmarks.as_ref().and_then(|b| b.gpu_bandwidth_gbs);
                known_or(
                    measured
                        .or(gpu.and_then(|g| g.bandwidth_gbs))
                        .map(Value::Number),
                    "bandwidth not reported",
                )
            }),
            FactKey::GpuFp4Native => no_gpu_or(&|| {
                known_or(
                    gpu.and_then(crate::facts::arch::fp4_native)
                        .map(Value::Bool),
                    "FP4 support not reported",
                )
            }),
            FactKey::NvidiaDriver | FactKey::NvidiaCudaDriver => {
                let field = facts.nvidia.as_ref().and_then(|n| {
                    if *self == FactKey::NvidiaDriver {
                        n.driver.clone()
                    } else {
                        n.cuda_driver.clone()
                    }
                });
                match (field, has_vendor(Vendor::Nvidia)) {
                    (Some(v), _) => Lookup::Known(Value::Version(v)),
                    (None, Some(false)) => Lookup::Absent,
                    (None, _) => Lookup::Unknown(facts.why_unknown("nvidia")),
                }
            }
            FactKey::CudaToolkit => match (
                facts.cuda.as_ref().and_then(|c| c.toolkit.clone()),
                &facts.cuda,
            ) {
                (Some(v), _) => Lookup::Known(Value::Version(v)),
                (None, Some(_)) => Lookup::Absent,
                (None, None) if has_vendor(Vendor::Nvidia) == Some(false) => Lookup::Absent,
                (None, None) => Lookup::Unknown(facts.why_unknown("cuda")),
            },
            FactKey::AppleChip | FactKey::AppleMetalLimitGb => {
                let value = facts.apple.as_ref().and_then(|a| match self {
                    FactKey::AppleChip => a.chip.clone().map(Value::Text),
                    _ => a.metal_limit_gb.map(Value::Number),
                });
                match (value, has_vendor(Vendor::Apple)) {
                    (Some(v), _) => Lookup::Known(v),
                    (None, Some(false)) => Lookup::Absent,
                    (None, _) => Lookup::Unknown(facts.why_unknown("apple")),
                }
            }
            FactKey::PythonVersion
            | FactKey::PythonArch
            | FactKey::PythonCudaWheels
            | FactKey::Package(_) => match &facts.python {
                None => Lookup::Unknown(format!(
                    "no Python environment: {}",
                    facts.why_unknown("python")
                )),
                Some(py) => match self {
                    FactKey::PythonVersion => known_or(
                        py.version.clone().map(Value::Py),
                        "Python version not reported",
                    ),
                    FactKey::PythonArch => known_or(
                        py.arch.map(|a| Value::Text(a.as_str().into())),
                        "Python architecture not reported",
                    ),
                    FactKey::Package(name) => py
                        .packages
                        .get(name)
                        .map_or(Lookup::Absent, |v| Lookup::Known(Value::Py(v.clone()))),
                    FactKey::PythonCudaWheels => match &py.unused_cuda_wheels {
                        None => Lookup::Unknown(
                            "which CUDA wheels nothing needs was not checked".into(),
                        ),
                        Some(w) if w.is_empty() => Lookup::Absent,
                        Some(w) => Lookup::Known(Value::Text(w.join(" "))),
                    },
                    _ => Lookup::Absent,
                },
            },
            FactKey::Binary(name) => match &facts.binaries {
                None => Lookup::Unknown(format!(
                    "programs on PATH unknown: {}",
                    facts.why_unknown("binaries")
                )),
                Some(bins) => match bins.get(name) {
                    None => Lookup::Absent,
                    Some(b) => Lookup::Known(
                        b.version
                            .clone()
                            .map_or(Value::Text(String::new()), Value::Version),
                    ),
                },
            },
            FactKey::CudaTargetsGpu => match (
                facts.cuda.as_ref(),
                gpu.and_then(|g| g.compute_capability.as_ref()),
            ) {
                (_, None) => Lookup::Unknown("no NVIDIA compute capability known".into()),
                (None, _) => Lookup::Unknown(format!(
                    "CUDA toolkit unknown: {}",
                    facts.why_unknown("cuda")
                )),
                (Some(c), Some(cc)) => match (&c.toolkit, c.targets.is_empty()) {
                    (None, _) => Lookup::Absent,
                    (Some(_), false) => {
                        Lookup::Known(Value::Bool(arch::list_has_exact(&c.targets, cc)))
                    }
                    (Some(v), true) => known_or(
                        arch::nvcc_builds_for(v, cc).map(Value::Bool),
                        "this nvcc's targets are unknown",
                    ),
                },
            },
            FactKey::CudaCudnn => match &facts.cuda {
                None => Lookup::Unknown(format!(
                    "CUDA libraries unknown: {}",
                    facts.why_unknown("cuda")
                )),
                Some(c) => c
                    .cudnn
                    .clone()
                    .map_or(Lookup::Absent, |v| Lookup::Known(Value::Version(v))),
            },
            FactKey::TorchCuda
            | FactKey::TorchCudaAvailable
            | FactKey::TorchMpsAvailable
            | FactKey::TorchSupportsGpu => {
                let Some(t) = &facts.torch else {
                    return Lookup::Unknown(format!(
                        "torch not inspected: {}",
                        facts.why_unknown("torch")
                    ));
                };
                match self {
                    // A build without CUDA is known to have none.
                    FactKey::TorchCuda => t
                        .cuda
                        .clone()
                        .map_or(Lookup::Absent, |v| Lookup::Known(Value::Version(v))),
                    FactKey::TorchCudaAvailable => known_or(
                        t.cuda_available.map(Value::Bool),
                        "torch did not report CUDA availability",
                    ),
                    FactKey::TorchMpsAvailable => known_or(
                        t.mps_available.map(Value::Bool),
                        "torch did not report MPS availability",
                    ),
                    _ => match gpu.and_then(|g| g.compute_capability.as_ref()) {
                        None => Lookup::Absent,
                        Some(_) if t.arch_list.is_empty() => {
                            Lookup::Unknown("torch reported no CUDA architectures".into())
                        }
                        Some(cc) => {
                            Lookup::Known(Value::Bool(arch::list_runs_on(&t.arch_list, cc)))
                        }
                    },
                }
            }
            FactKey::Import(module) => match &facts.imports {
                None => Lookup::Unknown(format!(
                    "imports not tried: {}",
                    facts.why_unknown("imports")
                )),
                // Not in the map: that module was not imported (its package is not installed).
                Some(imports) => imports.get(module).map_or_else(
                    || Lookup::Unknown(format!("`import {module}` was not tried")),
                    |r| Lookup::Known(Value::Text(r.clone())),
                ),
            },
            FactKey::DockerNvidiaRuntime => match &facts.docker {
                None => Lookup::Unknown(format!(
                    "Docker not inspected: {}",
                    facts.why_unknown("docker")
                )),
                Some(d) => {
                    Lookup::Known(Value::Bool(d.runtimes.iter().any(|r| is_nvidia_runtime(r))))
                }
            },
            // Set only where detected: a native Linux box, a Mac or a profile is not WSL.
            FactKey::Wsl => Lookup::Known(Value::Bool(facts.host.wsl.unwrap_or(false))),
            FactKey::Tegra => Lookup::Known(Value::Bool(facts.host.tegra.unwrap_or(false))),
            FactKey::NvidiaError => match facts.nvidia.as_ref().and_then(|n| n.error.clone()) {
                Some(e) => Lookup::Known(Value::Text(e)),
                None => Lookup::Absent,
            },
            FactKey::Warning(module) => match (&facts.imports, facts.import_warnings.get(module)) {
                (_, Some(lines)) => Lookup::Known(Value::Text(lines.join("\n"))),
                (None, None) => Lookup::Unknown(format!(
                    "imports not tried: {}",
                    facts.why_unknown("imports")
                )),
                (Some(_), None) => Lookup::Absent,
            },
            FactKey::Installed | FactKey::InstalledVersion | FactKey::InstalledArch => {
                Lookup::Unknown("row-local fact".into())
            }
        }
    }
}

/// Whether a Docker runtime name is the NVIDIA Container Runtime: `nvidia` as `nvidia-ctk runtime
/// configure` registers it (its `--nvidia-runtime-name` default), or one of its modes registered beside
/// it, `nvidia-cdi` and `nvidia-legacy` (NVIDIA's GPU Operator docs: "When CDI is enabled (default), two
/// runtime classes, nvidia-cdi and nvidia-legacy, become available. These two runtime classes are in
/// addition to the default runtime class, nvidia."). The one place that decides it: the rules read it
/// through [`FactKey::DockerNvidiaRuntime`], and so does `install-plan`.
pub fn is_nvidia_runtime(name: &str) -> bool {
    matches!(name, "nvidia" | "nvidia-cdi" | "nvidia-legacy")
}

fn known_text(value: Option<String>) -> Lookup {
    known_or(value.map(Value::Text), "not reported")
}

fn known_or(value: Option<Value>, why: &str) -> Lookup {
    value.map_or_else(|| Lookup::Unknown(why.into()), Lookup::Known)
}

impl fmt::Display for FactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FactKey::Package(p) => write!(f, "package.{p}"),
            FactKey::Binary(b) => write!(f, "binary.{b}"),
            FactKey::Import(m) => write!(f, "import.{m}"),
            FactKey::Warning(m) => write!(f, "warning.{m}"),
            key => {
                let name = FIXED
                    .iter()
                    .find(|(_, k, _)| k == key)
                    .map_or("?", |(n, _, _)| n);
                f.write_str(name)
            }
        }
    }
}

/// A fact's value.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    Version(ToolVersion),
    Py(PyVersion),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Version(v) => write!(f, "{v}"),
            Value::Py(v) => write!(f, "{v}"),
        }
    }
}

/// The result of reading a fact: a value, known to be absent (not installed, no such GPU), or unknown
/// with the reason.
#[derive(Debug, Clone)]
pub enum Lookup {
    Known(Value),
    Absent,
    Unknown(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_refuses_typos() {
        assert_eq!(
            FactKey::parse("gpu.compute_capability"),
            Ok(FactKey::GpuComputeCapability)
        );
        assert_eq!(
            FactKey::parse("package.Flash_Attn"),
            Ok(FactKey::Package("flash-attn".into()))
        );
        assert_eq!(
            FactKey::parse("binary.llama-cli"),
            Ok(FactKey::Binary("llama-cli".into()))
        );
        let err = FactKey::parse("gpu.cc").unwrap_err();
        assert!(
            err.starts_with("unknown fact `gpu.cc` (known: os, "),
            "{err}"
        );
        assert!(FactKey::parse("package.").is_err());
        assert!(FactKey::parse("package.a b").is_err());
    }

    #[test]
    fn every_fixed_name_round_trips() {
        for (name, key, _) in FIXED {
            assert_eq!(&key.to_string(), name);
        }
    }
}
