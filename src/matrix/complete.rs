//! The one completion step: what raw facts imply, filled in from the matrix's own data, once, for a live
//! probe, a profile, a facts file and a pasted dump alike. Every command reads the completed facts, so no
//! command derives a fact of its own and two commands cannot disagree about the machine.
//!
//! What it fills (never overwriting what the machine or the file said):
//! - the CUDA version a driver supports, from NVIDIA's driver tables (`releases/cuda.yaml`): Linux,
//!   Windows (WSL2 reports the Windows driver) and Jetson (L4T) numbering;
//! - a GPU's vendor, compute capability, memory, datasheet bandwidth and TFLOPS from its name
//!   (`gpus.yaml`), else bandwidth from NVML's memory clock × bus width, labelled as such;
//! - native FP4 from the compute capability ([`crate::facts::arch`]);
//! - Apple silicon under an x86_64 Python (Rosetta): the host is arm64, the Python is not, the GPU is
//!   the chip's;
//! - WSL2 and Jetson from the kernel's name.
//!
//! Each derived fact is recorded in `facts.derived` with where it came from; the doctor's header shows it.

use super::gpus::GpuMatch;
use super::releases::DriverFamily;
use super::Matrix;
use crate::facts::{Apple, Arch, Facts, Gpu, Os, Tflops, Vendor};

/// Completes `facts` from the matrix's data. Idempotent: completing twice changes nothing more.
pub fn complete(matrix: &Matrix, facts: &mut Facts) {
    nvidia_gpu_behind_a_driver(facts);
    host_platform(facts);
    apple_silicon(facts);
    gpus(matrix, facts);
    driver_cuda(matrix, facts);
}

/// The same facts, completed.
pub fn completed(matrix: &Matrix, facts: &Facts) -> Facts {
    let mut out = facts.clone();
    complete(matrix, &mut out);
    out
}

fn note(facts: &mut Facts, key: &str, why: String) {
    facts.derived.entry(key.to_string()).or_insert(why);
}

/// WSL2 and Jetson from the kernel's name (`…-microsoft-standard-WSL2`, `…-tegra`), and Jetson from its
/// GPU's name ("Orin (nvgpu)", "NVIDIA Thor", as nvidia-smi and PyTorch print them).
fn host_platform(facts: &mut Facts) {
    let kernel = facts.host.kernel.clone().unwrap_or_default().to_lowercase();
    // An nvidia-smi table alone does not name the OS, but the driver's numbering does: Windows drivers
    // have two parts (581.57, also what WSL2 reports), Linux ones three (580.95.05).
    let driver = facts.nvidia.as_ref().and_then(|n| n.driver.clone());
    if let (None, Some(d)) = (facts.host.os, driver) {
        if d.parts().get(2).is_some_and(|p| *p != 0) && facts.host.wsl != Some(true) {
            facts.host.os = Some(Os::Linux);
            note(
                facts,
                "os",
                format!("from the driver's numbering ({d} is a Linux driver)"),
            );
        }
    }
    if facts.host.wsl.is_none() && kernel.contains("microsoft") {
        facts.host.wsl = Some(true);
        note(facts, "wsl", format!("from the kernel's name ({kernel})"));
    }
    if facts.host.tegra.is_none() {
        let jetson_gpu = facts.gpus.iter().flatten().find(|g| is_jetson_gpu(&g.name));
        if kernel.ends_with("-tegra") || kernel.contains("-tegra-") {
            facts.host.tegra = Some(true);
            note(facts, "tegra", format!("from the kernel's name ({kernel})"));
        } else if let Some(g) = jetson_gpu {
            let why = format!("from the GPU's name ({}: a Jetson)", g.name);
            facts.host.tegra = Some(true);
            note(facts, "tegra", why);
        }
    }
}

/// A driver that answered with its version or its CUDA version (PyTorch's "driver too old (found version
/// 11040)", an nvidia-smi header) runs at least one NVIDIA GPU, even where the paste does not name it — the
/// rows that need only the vendor and the driver can then answer. A driver that reported an error (no
/// devices, a version mismatch) proves nothing.
fn nvidia_gpu_behind_a_driver(facts: &mut Facts) {
    let answered = facts
        .nvidia
        .as_ref()
        .is_some_and(|n| n.error.is_none() && (n.driver.is_some() || n.cuda_driver.is_some()));
    if facts.gpus.is_none() && answered && !facts.failed.contains_key("nvidia") {
        facts.gpus = Some(vec![Gpu::new(
            Vendor::Nvidia,
            crate::facts::dumps::UNNAMED_NVIDIA_GPU,
        )]);
        note(
            facts,
            "gpus",
            "an NVIDIA driver answered, so there is at least one NVIDIA GPU; its model is not in the facts"
                .into(),
        );
    }
}

fn is_jetson_gpu(name: &str) -> bool {
    let n = super::gpus::normalize_name(name);
    let first = n.split(' ').next().unwrap_or_default();
    matches!(first, "orin" | "thor" | "xavier")
}

/// A Mac's Apple chip under an x86_64 Python: what collect_env prints there is Rosetta's view (`OS:
/// macOS 14.5 (x86_64)`, `CPU: Apple M2 Pro`). The host is Apple silicon; the Python stays x86_64 — the
/// rows then say what Rosetta costs (no MLX, no Metal) instead of judging an Intel Mac.
fn apple_silicon(facts: &mut Facts) {
    if facts.host.os != Some(Os::Macos) {
        return;
    }
    let chip = facts
        .apple
        .as_ref()
        .and_then(|a| a.chip.clone())
        .or_else(|| facts.host.cpu_model.clone())
        .filter(|c| c.trim_start().starts_with("Apple M"));
    let Some(chip) = chip.map(|c| c.trim().to_string()) else {
        return;
    };
    let apple = facts.apple.get_or_insert_with(Apple::default);
    if apple.chip.is_none() {
        apple.chip = Some(chip.clone());
        note(facts, "apple.chip", "from the CPU's name".into());
    }
    if facts.host.arch == Some(Arch::X86_64) {
        facts.host.arch = Some(Arch::Aarch64);
        note(
            facts,
            "arch",
            format!(
                "{chip} is Apple silicon: the x86_64 reported is a Python running under Rosetta"
            ),
        );
        if let Some(python) = facts.python.as_mut().filter(|p| p.arch.is_none()) {
            python.arch = Some(Arch::X86_64);
            note(
                facts,
                "python.arch",
                "x86_64 on Apple silicon: this Python runs under Rosetta".into(),
            );
        }
    } else if facts.host.arch.is_none() {
        facts.host.arch = Some(Arch::Aarch64);
        note(facts, "arch", format!("{chip} is Apple silicon"));
    }
    if facts.gpus.is_none() {
        let mut gpu = Gpu::new(Vendor::Apple, chip.clone());
        gpu.unified_memory = Some(true);
        facts.gpus = Some(vec![gpu]);
        note(facts, "gpus", format!("the GPU of the {chip}"));
    }
}

fn gpus(matrix: &Matrix, facts: &mut Facts) {
    let Some(mut gpus) = facts.gpus.take() else {
        return;
    };
    let mut notes = Vec::new();
    for (i, gpu) in gpus.iter_mut().enumerate() {
        complete_gpu(matrix, gpu, &mut |field: &str, why: String| {
            notes.push((format!("gpus[{i}].{field}"), why));
        });
    }
    facts.gpus = Some(gpus);
    for (key, why) in notes {
        note(facts, &key, why);
    }
}

fn complete_gpu(matrix: &Matrix, gpu: &mut Gpu, note: &mut dyn FnMut(&str, String)) {
    match matrix.gpus.find(&gpu.name) {
        Some(GpuMatch::Exact(spec)) if spec.vendor == gpu.vendor => {
            let from = format!("from its name ({})", spec.id);
            if gpu.compute_capability.is_none() {
                if let Some(cc) = &spec.compute_capability {
                    gpu.compute_capability = Some(cc.clone());
                    note("compute_capability", from.clone());
                }
            }
            if gpu.unified_memory.is_none() && spec.unified_memory.is_some() {
                gpu.unified_memory = spec.unified_memory;
                note("unified_memory", from.clone());
            }
            if gpu.memory_gb.is_none() && gpu.unified_memory != Some(true) {
                if let Some(gb) = spec.memory_gb {
                    gpu.memory_gb = Some(gb);
                    note("memory_gb", format!("datasheet, {from}"));
                }
            }
            if gpu.bandwidth_gbs.is_none() {
                if let Some(bw) = spec.bandwidth_gbs {
                    gpu.bandwidth_gbs = Some(bw);
                    note("bandwidth_gbs", format!("datasheet, {from}"));
                }
            }
            if let Some(table) = &spec.tflops {
                if fill_tflops(gpu.tflops.get_or_insert_with(Tflops::default), table) {
                    note("tflops", format!("datasheet, {from}"));
                }
            }
        }
        Some(GpuMatch::Series(series))
            if series.vendor == gpu.vendor && gpu.compute_capability.is_none() =>
        {
            if let Some(cc) = &series.compute_capability {
                gpu.compute_capability = Some(cc.clone());
                note(
                    "compute_capability",
                    format!("from its name (the {} series)", series.id),
                );
            }
        }
        _ => {}
    }
    if gpu.tflops.as_ref().is_some_and(tflops_empty) {
        gpu.tflops = None;
    }
    if gpu.bandwidth_gbs.is_none() {
        if let Some(bw) = crate::facts::arch::bus_bandwidth_gbs(gpu) {
            gpu.bandwidth_gbs = Some(bw);
            note(
                "bandwidth_gbs",
                "memory clock × bus width as NVML reports them, not a datasheet figure".into(),
            );
        }
    }
    if gpu.fp4_native.is_none() {
        if let Some(native) = crate::facts::arch::fp4_native(gpu) {
            gpu.fp4_native = Some(native);
            let why = match &gpu.compute_capability {
                Some(cc) => format!("from compute capability {cc}"),
                None => format!("from the vendor ({})", gpu.vendor.as_str()),
            };
            note("fp4_native", why);
        }
    }
}

/// Fills the figures `have` lacks from `table`; whether any was filled.
fn fill_tflops(have: &mut Tflops, table: &Tflops) -> bool {
    let mut filled = false;
    for (slot, value) in [
        (&mut have.fp32, table.fp32),
        (&mut have.fp16_dense, table.fp16_dense),
        (&mut have.bf16_dense, table.bf16_dense),
        (&mut have.fp8_dense, table.fp8_dense),
        (&mut have.int8_dense, table.int8_dense),
        (&mut have.fp4_dense, table.fp4_dense),
        (&mut have.fp4_sparse, table.fp4_sparse),
    ] {
        if slot.is_none() && value.is_some() {
            *slot = value;
            filled = true;
        }
    }
    filled
}

fn tflops_empty(t: &Tflops) -> bool {
    [
        t.fp32,
        t.fp16_dense,
        t.bf16_dense,
        t.fp8_dense,
        t.int8_dense,
        t.fp4_dense,
        t.fp4_sparse,
    ]
    .iter()
    .all(Option::is_none)
}

/// The highest CUDA the driver supports, when the facts name the driver but not its CUDA version: the
/// CUDA driver API's own answer first (`cuDriverGetVersion`), else NVIDIA's tables for the driver's
/// numbering.
fn driver_cuda(matrix: &Matrix, facts: &mut Facts) {
    let Some(nvidia) = facts.nvidia.as_ref() else {
        return;
    };
    if nvidia.cuda_driver.is_some() {
        return;
    }
    if let Some(api) = facts.cuda.as_ref().and_then(|c| c.driver_api.clone()) {
        if let Some(n) = facts.nvidia.as_mut() {
            n.cuda_driver = Some(api);
        }
        note(
            facts,
            "nvidia.cuda_driver",
            "from the CUDA driver API (cuDriverGetVersion)".into(),
        );
        return;
    }
    let Some(driver) = nvidia.driver.clone() else {
        return;
    };
    let family = if facts.host.tegra == Some(true) {
        DriverFamily::Tegra
    } else if facts.host.wsl == Some(true) || facts.host.os == Some(Os::Windows) {
        DriverFamily::Windows
    } else {
        DriverFamily::Linux
    };
    let found = matrix
        .releases
        .cuda_for_driver(&driver, family)
        .map(|(cuda, floor)| (cuda.clone(), floor.clone()));
    match found {
        Some((cuda, floor)) => {
            let why = format!(
                "from driver {driver}: CUDA {cuda} needs {floor} or newer ({} drivers, NVIDIA's table)",
                family.as_str()
            );
            if let Some(n) = facts.nvidia.as_mut() {
                n.cuda_driver = Some(cuda);
            }
            note(facts, "nvidia.cuda_driver", why);
        }
        None => {
            facts.failed.entry("nvidia.cuda_driver".into()).or_insert_with(|| {
                format!(
                    "driver {driver} is older than every CUDA release in mlcompat's table ({} drivers)",
                    family.as_str()
                )
            });
        }
    }
}
