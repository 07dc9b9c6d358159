//! `python -m sglang.check_env`: `Key: value` lines — the Python, the GPUs (`GPU 0,1: NVIDIA A100-SXM4-80GB`)
//! and their compute capability (`GPU 0,1 Compute Capability: 8.0`, printed from sglang 0.2.10), nvcc's
//! line, the driver, then one line per package it looks for (`name: version` or `Module Not Found`), then
//! `NVIDIA Topology:` (`nvidia-smi topo -m`, tab separated) and `ulimit` lines that are not packages.

use std::collections::BTreeMap;

use crate::facts::{CudaToolkit, Facts, Gpu, Nvidia, Python, Torch, Vendor};
use crate::version::{PyVersion, ToolVersion};

/// The lines that start at column 0 as `key: value`.
fn fields(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let l = l.trim_end_matches('\r');
        if l.starts_with([' ', '\t']) {
            return None;
        }
        let (k, v) = l.split_once(':')?;
        Some((k.trim(), v.trim()))
    })
}

/// At least three of the keys check_env prints first, one of them its own (`sglang`, `CUDA available`,
/// `NVIDIA Topology`).
pub(super) fn detect(text: &str) -> bool {
    let mut found: Vec<&str> = Vec::new();
    for (k, _) in fields(text) {
        let known = [
            "Python",
            "CUDA available",
            "ROCM available",
            "CUDA_HOME",
            "NVCC",
            "CUDA Driver Version",
            "PyTorch",
            "sglang",
            "NVIDIA Topology",
        ];
        if let Some(k) = known.iter().find(|n| **n == k) {
            if !found.contains(k) {
                found.push(k);
            }
        }
    }
    found.len() >= 3
        && found
            .iter()
            .any(|k| matches!(*k, "sglang" | "CUDA available" | "NVIDIA Topology"))
}

pub(super) fn read(text: &str, facts: &mut Facts) {
    let mut python = Python::default();
    let mut torch = Torch::default();
    let mut gpus: Vec<Gpu> = Vec::new();
    let mut packages: BTreeMap<String, PyVersion> = BTreeMap::new();
    let mut in_packages = false;
    // Other accelerators (MUSA, Ascend) print their own devices in the same lines.
    let cuda = fields(text).any(|(k, _)| k == "CUDA available" || k == "CUDA Driver Version");
    for (key, value) in fields(text) {
        match key {
            "Python" => {
                python.version = value.split_whitespace().next().and_then(|v| v.parse().ok());
            }
            "CUDA available" => torch.cuda_available = bool_value(value),
            "NVCC" => {
                // "Cuda compilation tools, release 12.2, V12.2.140", or "Not Available".
                let release = value
                    .split_once("release ")
                    .and_then(|(_, r)| r.split(',').next())
                    .and_then(|r| r.trim().parse::<ToolVersion>().ok());
                if release.is_some() {
                    facts.cuda = Some(CudaToolkit {
                        toolkit: release,
                        ..CudaToolkit::default()
                    });
                }
            }
            "CUDA Driver Version" => {
                if let Ok(driver) = value.parse::<ToolVersion>() {
                    facts.nvidia = Some(Nvidia {
                        driver: Some(driver),
                        source: Some("sglang check_env (nvidia-smi)".into()),
                        ..Nvidia::default()
                    });
                }
            }
            "PyTorch" => {
                in_packages = true;
                torch.version = value.parse().ok();
                if let Some(v) = &torch.version {
                    packages.insert("torch".into(), v.clone());
                }
            }
            "NVIDIA Topology" | "AMD Topology" | "Hypervisor vendor" => in_packages = false,
            _ if key.starts_with("GPU ") => read_gpu_line(&key[4..], value, cuda, &mut gpus),
            _ if in_packages => {
                // Names as check_env prints them (some are import names: `zmq`, `PIL`).
                let plain = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if let (true, Ok(v)) = (plain, value.parse::<PyVersion>()) {
                    packages.entry(key.to_string()).or_insert(v);
                }
            }
            _ => {}
        }
    }
    if !gpus.is_empty() {
        torch.device_count = Some(gpus.len() as u32);
        torch.device_capability = gpus[0].compute_capability.clone();
        facts.gpus = Some(gpus);
    }
    if torch.version.is_some() {
        facts.imports = Some(BTreeMap::from([("torch".to_string(), "ok".to_string())]));
        facts.torch = Some(torch);
    }
    python.packages = packages;
    facts.python = Some(python);
    facts.failed.insert(
        "python.packages".into(),
        "sglang.check_env lists only the packages it looks for; others may be installed".into(),
    );
}

/// `0,1,2: NVIDIA A100-SXM4-80GB` (the GPUs sharing a name), or `0,1 Compute Capability` with its value.
fn read_gpu_line(key: &str, value: &str, cuda: bool, gpus: &mut Vec<Gpu>) {
    let (indices, rest) = key.split_once(' ').unwrap_or((key, ""));
    let indices: Vec<usize> = indices
        .split(',')
        .filter_map(|i| i.trim().parse().ok())
        .take(1024)
        .collect();
    if indices.is_empty() || value.is_empty() {
        return;
    }
    match rest.trim() {
        "" => {
            let Some(vendor) = vendor_of(value, cuda) else {
                return;
            };
            for _ in indices
                .iter()
                .take(super::MAX_GPUS.saturating_sub(gpus.len()))
            {
                let mut g = Gpu::new(vendor, value);
                g.source = Some("sglang check_env (PyTorch)".into());
                gpus.push(g);
            }
        }
        "Compute Capability" => {
            let Ok(cc) = value.parse::<ToolVersion>() else {
                return;
            };
            for i in indices {
                if let Some(g) = gpus.get_mut(i).filter(|g| g.vendor == Vendor::Nvidia) {
                    g.compute_capability = Some(cc.clone());
                }
            }
        }
        _ => {}
    }
}

/// The vendor a device name states: check_env also runs on ROCm and other accelerators.
fn vendor_of(name: &str, cuda: bool) -> Option<Vendor> {
    if name.starts_with("AMD") || name.contains("Radeon") || name.contains("Instinct") {
        Some(Vendor::Amd)
    } else if name.starts_with("Intel") {
        Some(Vendor::Intel)
    } else if cuda || name.starts_with("NVIDIA") {
        Some(Vendor::Nvidia)
    } else {
        None
    }
}

fn bool_value(v: &str) -> Option<bool> {
    match v {
        "True" => Some(true),
        "False" => Some(false),
        _ => None,
    }
}
