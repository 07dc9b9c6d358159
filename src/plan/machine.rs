//! The machine as the planner sees it: the platform wheels are chosen for, the GPU and its driver, the
//! Python and the tools a source build needs. Read from facts only; a missing fact stays unknown and the
//! plan says what it could not check.

use crate::facts::arch::{parse_target, runs_on, ArchTarget};
use crate::facts::keys::{FactKey, Lookup, Value};
use crate::facts::{Arch, Facts, Os, Vendor};
use crate::matrix::releases::{Accelerator, Platform};
use crate::version::{PyVersion, ToolVersion};

#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The host's OS and CPU architecture (a Rosetta Python does not change what should be installed).
    pub platform: Option<Platform>,
    pub wsl: bool,
    /// A Jetson: its L4T driver is numbered apart from the desktop ones.
    pub tegra: bool,
    /// `None`: the facts do not say whether there is a GPU.
    pub gpu: Option<GpuView>,
    pub gpu_unknown_why: String,
    pub driver: Option<ToolVersion>,
    /// The highest CUDA version the driver supports.
    pub driver_cuda: Option<ToolVersion>,
    pub driver_unknown_why: String,
    /// What nvidia-smi said when the driver's libraries and kernel module disagree.
    pub reboot_pending: Option<String>,
    pub glibc: Option<ToolVersion>,
    pub macos: Option<ToolVersion>,
    pub python: Option<PyVersion>,
    pub python_arch: Option<Arch>,
    pub nvcc: Option<ToolVersion>,
    pub cores: Option<u32>,
    pub memory_gb: Option<f64>,
    /// Docker knows the NVIDIA runtime (`None`: not recorded).
    pub docker_nvidia: Option<bool>,
    /// Installed Python distributions (normalized name → version).
    pub packages: Option<std::collections::BTreeMap<String, PyVersion>>,
}

/// The GPU the plan is for (the first NVIDIA one, else the first of any vendor); `vendor: None` when
/// the machine has none.
#[derive(Debug, Clone)]
pub(crate) struct GpuView {
    pub vendor: Option<Vendor>,
    pub name: String,
    pub cc: Option<ToolVersion>,
}

impl Target {
    pub fn from_facts(facts: &Facts) -> Target {
        let host = &facts.host;
        let platform = match (host.os, host.arch) {
            (Some(os), Some(arch)) => Some(Platform { os, arch }),
            _ => None,
        };
        let gpu = facts.gpus.as_ref().map(|_| match facts.primary_gpu() {
            Some(g) => GpuView {
                vendor: Some(g.vendor),
                name: g.name.clone(),
                cc: g.compute_capability.clone(),
            },
            None => GpuView {
                vendor: None,
                name: "no GPU".into(),
                cc: None,
            },
        });
        let nvidia = facts.nvidia.as_ref();
        let reboot_pending = nvidia
            .and_then(|n| n.error.as_ref())
            .filter(|e| e.contains("version mismatch"))
            .map(|e| e.lines().next().unwrap_or(e).trim().to_string());
        let macos = (host.os == Some(Os::Macos))
            .then(|| host.os_version.clone())
            .flatten();
        let python = facts.python.as_ref();
        Target {
            platform,
            wsl: host.wsl == Some(true),
            tegra: host.tegra == Some(true),
            gpu,
            gpu_unknown_why: facts.why_unknown("gpus"),
            driver: nvidia.and_then(|n| n.driver.clone()),
            driver_cuda: nvidia.and_then(|n| n.cuda_driver.clone()),
            driver_unknown_why: nvidia
                .and_then(|n| n.error.as_deref())
                .and_then(|e| e.lines().next())
                .map(|e| e.trim().to_string())
                .unwrap_or_else(|| facts.why_unknown("nvidia")),
            reboot_pending,
            glibc: (host.os == Some(Os::Linux))
                .then(|| host.glibc.clone())
                .flatten(),
            macos,
            python: python.and_then(|p| p.version.clone()),
            python_arch: python.and_then(|p| p.arch),
            nvcc: facts.cuda.as_ref().and_then(|c| c.toolkit.clone()),
            cores: host.cpu_cores,
            memory_gb: host.memory_gb,
            // The same lookup the rules read (`docker.nvidia_runtime`), so doctor and the plan agree.
            docker_nvidia: match FactKey::DockerNvidiaRuntime.lookup(facts) {
                Lookup::Known(Value::Bool(b)) => Some(b),
                _ => None,
            },
            packages: python.map(|p| p.packages.clone()),
        }
    }

    pub fn vendor(&self) -> Option<Vendor> {
        self.gpu.as_ref().and_then(|g| g.vendor)
    }

    /// How well a build's accelerator uses this machine: 0 its GPU, 1 a generic GPU path (Vulkan),
    /// 2 the CPU; `None`: it cannot run here at all.
    pub fn accelerator_rank(&self, accelerator: Accelerator) -> Option<u8> {
        let vendor = self.vendor();
        let unknown = self.gpu.is_none();
        match accelerator {
            Accelerator::Cpu => Some(2),
            Accelerator::Cuda => (vendor == Some(Vendor::Nvidia) || unknown).then_some(0),
            Accelerator::Metal => (vendor == Some(Vendor::Apple)
                || (unknown && self.platform.is_some_and(|p| p.os == Os::Macos)))
            .then_some(0),
            Accelerator::Rocm => (vendor == Some(Vendor::Amd)).then_some(0),
            Accelerator::Vulkan => match vendor {
                Some(Vendor::Amd | Vendor::Intel) => Some(0),
                Some(Vendor::Nvidia) => Some(1),
                _ => None,
            },
        }
    }

    /// What a build computes with on this machine: its own accelerator, or the CPU for a CUDA build
    /// that falls back to it where there is no NVIDIA GPU.
    pub fn accelerator_of(&self, build: &crate::matrix::releases::Build) -> Accelerator {
        let no_nvidia = self.gpu.is_some() && self.vendor() != Some(Vendor::Nvidia);
        if build.cpu_fallback && build.accelerator == Accelerator::Cuda && no_nvidia {
            Accelerator::Cpu
        } else {
            build.accelerator
        }
    }

    /// A Python for another architecture than the host's: an x86_64 Python on Apple silicon runs under
    /// Rosetta and gets x86_64 wheels (no MLX, no Metal).
    pub fn foreign_python(&self) -> Option<Arch> {
        let host = self.platform?.arch;
        self.python_arch.filter(|a| *a != host)
    }

    /// `MAX_JOBS` for a CUDA source build: flash-attention's own rule (setup.py): half the cores, and
    /// no more than one job per 20 GB of memory (4 nvcc threads × ~5 GB each).
    pub fn max_jobs(&self) -> u32 {
        let by_cores = self.cores.map_or(4, |c| (c / 2).max(1));
        let by_memory = self
            .memory_gb
            .map_or(by_cores, |m| ((m / 20.0) as u32).max(1));
        by_cores.min(by_memory).max(1)
    }
}

/// The highest of a source build's target architectures (`80`, `120`) whose code runs on `cc`.
pub(crate) fn best_arch(choices: &[u32], cc: &ToolVersion) -> Option<u32> {
    choices
        .iter()
        .copied()
        .filter(|a| parse_target(&format!("sm_{a}")).is_some_and(|t: ArchTarget| runs_on(t, cc)))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_arch_follows_family_rules() {
        let cc = |s: &str| s.parse::<ToolVersion>().unwrap();
        assert_eq!(best_arch(&[80, 90, 100, 120], &cc("12.1")), Some(120));
        assert_eq!(best_arch(&[80, 90, 100, 120], &cc("8.9")), Some(80));
        assert_eq!(best_arch(&[80, 90, 100, 120], &cc("9.0")), Some(90));
        assert_eq!(best_arch(&[80, 90, 100, 120], &cc("11.0")), None);
        assert_eq!(best_arch(&[80, 90, 100, 120], &cc("7.5")), None);
    }

    #[test]
    fn max_jobs_is_bounded_by_cores_and_memory() {
        let mut t = Target::from_facts(&Facts::default());
        t.cores = Some(20);
        t.memory_gb = Some(128.0);
        assert_eq!(t.max_jobs(), 6);
        t.memory_gb = Some(16.0);
        assert_eq!(t.max_jobs(), 1);
        t.cores = None;
        t.memory_gb = None;
        assert_eq!(t.max_jobs(), 4);
    }
}
