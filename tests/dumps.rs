//! Bug-report dumps as facts: every recorded `collect_env`, `vllm collect-env`, `sglang.check_env`,
//! `nvidia-smi` (table, header, `-q`), package list, tool version, `system_profiler`, `rocminfo`/`rocm-smi`,
//! `uname -a` and `/etc/os-release` output in tests/fixtures (sources in tests/fixtures/SOURCES.md) is read,
//! alone, as pasted in an issue, and several together; what each says becomes exactly these facts —
//! nothing it does not say. Text that is none of them is one clear line.

mod common;

use common::{completed_dump_facts, dump_facts, fixture, mlcompat};
use mlcompat::facts::dumps::{detect, DumpKind};
use mlcompat::facts::{Arch, Facts, Os, Vendor};

fn read(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).expect("fixture")
}

/// A fixture as `doctor --facts` reads it: the readers, then the completion step.
fn facts(path: &str) -> Facts {
    completed_dump_facts(&read(path), "box").unwrap_or_else(|| panic!("{path} is a dump"))
}

/// What the dump readers alone make of a fixture, before the completion step derives anything.
fn read_only(path: &str) -> Facts {
    mlcompat::facts::dumps::facts_from_dump(&read(path), "box")
        .unwrap_or_else(|| panic!("{path} is a dump"))
}

fn s<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

fn gpu_names(f: &Facts) -> Vec<String> {
    f.gpus.iter().flatten().map(|g| g.name.clone()).collect()
}

fn cc(f: &Facts, i: usize) -> Option<String> {
    f.gpus
        .as_ref()?
        .get(i)?
        .compute_capability
        .as_ref()
        .map(ToString::to_string)
}

fn package(f: &Facts, name: &str) -> Option<String> {
    f.python
        .as_ref()?
        .packages
        .get(name)
        .map(ToString::to_string)
}

#[test]
fn every_recorded_dump_is_recognized() {
    for dir in ["collect-env", "nvidia-smi"] {
        for entry in std::fs::read_dir(fixture(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let kinds = detect(&std::fs::read_to_string(&path).expect("text"));
            // Excerpts that are not a whole nvidia-smi table (its CSV query, a MIG section alone) are not
            // dumps mlcompat reads.
            let partial = name.contains("query") || name.starts_with("mig-");
            assert_eq!(kinds.is_empty(), partial, "{name}: {kinds:?}");
            if dir == "nvidia-smi" && !partial {
                assert_eq!(kinds, vec![DumpKind::NvidiaSmi], "{name}");
            }
        }
    }
}

#[test]
fn torch_collect_env_on_a100() {
    let f = facts("collect-env/a100-healthy-torch2.7-cu128-vllm-collect-env-HEAD.txt");
    assert_eq!(f.host.os, Some(Os::Linux));
    assert_eq!(f.host.os_name.as_deref(), Some("Ubuntu 24.04.2 LTS"));
    assert_eq!(s(&f.host.os_version).as_deref(), Some("24.04.2"));
    assert_eq!(f.host.arch, Some(Arch::X86_64));
    assert_eq!(s(&f.host.glibc).as_deref(), Some("2.39"));
    assert_eq!(f.host.kernel.as_deref(), Some("6.11.0-1014-gcp"));
    assert_eq!(f.host.wsl, Some(false));
    let py = f.python.as_ref().expect("python");
    assert_eq!(s(&py.version).as_deref(), Some("3.12.3"));
    assert_eq!(py.arch, Some(Arch::X86_64));
    assert_eq!(package(&f, "torch").as_deref(), Some("2.7.0+cu128"));
    let torch = f.torch.as_ref().expect("torch");
    assert_eq!(s(&torch.cuda).as_deref(), Some("12.8"));
    assert_eq!(torch.cuda_available, Some(true));
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").toolkit).as_deref(),
        Some("12.9")
    );
    let nvidia = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&nvidia.driver).as_deref(), Some("575.51.03"));
    assert_eq!(gpu_names(&f), ["NVIDIA A100-SXM4-40GB"]);
    // collect_env prints neither the CUDA version the driver supports nor the GPU's capability: the
    // completion step derives both, and says so.
    let alone = read_only("collect-env/a100-healthy-torch2.7-cu128-vllm-collect-env-HEAD.txt");
    assert!(alone.nvidia.as_ref().expect("nvidia").cuda_driver.is_none());
    assert_eq!(cc(&alone, 0), None);
    assert!(
        f.derived.contains_key("nvidia.cuda_driver"),
        "{:?}",
        f.derived
    );
    assert!(f.failed.contains_key("python.packages"));
    // The INFO line of vLLM's logger says vLLM's collect_env printed it.
    assert_eq!(
        detect(&read(
            "collect-env/a100-healthy-torch2.7-cu128-vllm-collect-env-HEAD.txt"
        )),
        vec![DumpKind::VllmCollectEnv]
    );
}

#[test]
fn vllm_sections_on_gb10_state_the_compute_capability() {
    let f = facts("collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt");
    assert_eq!(f.host.arch, Some(Arch::Aarch64));
    assert_eq!(f.host.kernel.as_deref(), Some("6.11.0-1014-nvidia"));
    assert_eq!(package(&f, "torch").as_deref(), Some("2.9.0+cu129"));
    // PyTorch's own warning names the GPU and its capability; the GB10 profile adds its datasheet figures.
    assert_eq!(gpu_names(&f), ["NVIDIA GB10"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    let gpu = &f.gpus.as_ref().expect("gpus")[0];
    assert_eq!(gpu.unified_memory, Some(true));
    assert_eq!(gpu.bandwidth_gbs, Some(273.0));
    assert!(
        f.derived
            .get("gpus[0].bandwidth_gbs")
            .is_some_and(|d| d.contains("gb10")),
        "{:?}",
        f.derived
    );
    assert_eq!(
        s(&f.torch.as_ref().expect("torch").device_capability).as_deref(),
        Some("12.1")
    );
    let warning = &f.import_warnings["torch"][0];
    assert!(
        warning.contains("cuda capability 12.1") && warning.contains("(8.0) - (12.0)"),
        "{warning}"
    );
    assert_eq!(
        detect(&read(
            "collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt"
        )),
        vec![DumpKind::VllmCollectEnv]
    );
}

#[test]
fn vllm_full_dump_lists_packages_and_vllm() {
    let f = facts("collect-env/vllm-collect-env-cpu-container-torch2.13-vllm0.30.txt");
    assert_eq!(
        package(&f, "vllm").as_deref(),
        Some("0.30.1rc1.dev45+ge78e367c6")
    );
    assert_eq!(package(&f, "torch").as_deref(), Some("2.13.0"));
    assert_eq!(package(&f, "transformers").as_deref(), Some("5.17.0"));
    assert_eq!(
        package(&f, "nvidia-cudnn-cu13").as_deref(),
        Some("9.20.0.48")
    );
    assert_eq!(f.python.as_ref().expect("python").packages.len(), 21);
    assert_eq!(
        f.host.cpu_model.as_deref(),
        Some("Intel(R) Xeon(R) Processor @ 2.10GHz")
    );
    assert_eq!(f.host.cpu_cores, Some(4));
    assert_eq!(f.torch.as_ref().expect("torch").cuda_available, Some(false));
    // "No CUDA": PyTorch saw no device and nvidia-smi answered nothing — not proof that there is no GPU.
    assert!(f.gpus.is_none() && f.nvidia.is_none() && f.cuda.is_none());
}

#[test]
fn macos_arm64_means_apple_silicon() {
    let f = facts("collect-env/macos11-m1-arm64-torch1.8-collect-env.txt");
    assert_eq!(f.host.os, Some(Os::Macos));
    assert_eq!(s(&f.host.os_version).as_deref(), Some("11.1"));
    let gpus = f.gpus.as_ref().expect("an Apple GPU");
    assert_eq!(gpus[0].vendor, Vendor::Apple);
    assert_eq!(gpus[0].unified_memory, Some(true));
    assert_eq!(package(&f, "torch").as_deref(), Some("1.8.0a0"));
    assert_eq!(
        package(&f, "torchvision").as_deref(),
        Some("0.9.0a0+83171d6")
    );
    assert_eq!(f.torch.as_ref().expect("torch").cuda, None);
    let f = facts("collect-env/macos15-arm64-torch2.8-vllm-collect-env-HEAD.txt");
    assert_eq!(s(&f.host.os_version).as_deref(), Some("15.6.1"));
    assert_eq!(f.python.as_ref().expect("python").arch, Some(Arch::Aarch64));
    assert_eq!(f.gpus.as_ref().expect("gpus")[0].vendor, Vendor::Apple);
}

#[test]
fn gpu_lists_cudnn_and_wsl() {
    let f = facts("collect-env/vllm-16494-2x-a100-80gb-pcie-torch2.5-HEAD.txt");
    assert_eq!(
        gpu_names(&f),
        ["NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe"]
    );
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").cudnn).as_deref(),
        Some("8.9.0")
    );
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").toolkit).as_deref(),
        Some("12.1")
    );
    // Two cuDNN majors installed side by side: collect_env cannot tell which is used, neither can we.
    let f = facts("collect-env/ogx-1798-centos-stream9-8x-h100-torch2.6-HEAD.txt");
    assert_eq!(gpu_names(&f).len(), 8);
    assert!(f.cuda.as_ref().is_none_or(|c| c.cudnn.is_none()));
    assert_eq!(f.host.os_name.as_deref(), Some("CentOS Stream 9"));
    assert_eq!(s(&f.host.glibc).as_deref(), Some("2.34"));
    // The dump prints no capability for "NVIDIA H100"; whatever it has comes from the completion step.
    let alone = read_only("collect-env/ogx-1798-centos-stream9-8x-h100-torch2.6-HEAD.txt");
    assert_eq!(cc(&alone, 0), None);
    let f = facts("collect-env/vllm-pr9293-wsl2-rtx4070-laptop-torch2.4-HEAD.txt");
    assert_eq!(f.host.wsl, Some(true));
    assert_eq!(
        s(&f.nvidia.as_ref().expect("nvidia").driver).as_deref(),
        Some("551.88")
    );
    assert_eq!(
        f.host.cpu_model.as_deref(),
        Some("13th Gen Intel(R) Core(TM) i9-13950HX")
    );
    assert_eq!(f.host.cpu_cores, Some(32));
    let f = facts("collect-env/genesis-vllm-patches-24-4x-rtx3090-torch2.11-cu130-HEAD.txt");
    assert_eq!(gpu_names(&f).len(), 3);
    // The RTX 3090 profile knows this exact name: compute capability 8.6 and its datasheet figures.
    assert_eq!(cc(&f, 2).as_deref(), Some("8.6"));
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").toolkit).as_deref(),
        Some("13.1")
    );
    let f = facts("collect-env/vllm-12378-rhel8.4-a100-sxm4-40gb-torch2.5-HEAD.txt");
    assert_eq!(
        f.host.kernel.as_deref(),
        Some("4.18.0-305.25.1.el8_4.x86_64")
    );
    assert_eq!(s(&f.host.os_version).as_deref(), Some("8.4"));
    assert!(f.cuda.is_none(), "CUDA runtime version: Could not collect");
    assert_eq!(f.host.cpu_cores, Some(128));
}

#[test]
fn rocm_windows_and_jetson() {
    let f = facts("collect-env/groundingdino-328-rocm6.0-rx6800xt-torch2.4-HEAD.txt");
    let gpu = &f.gpus.as_ref().expect("gpus")[0];
    assert_eq!(
        (gpu.vendor, gpu.name.as_str()),
        (Vendor::Amd, "AMD Radeon RX 6800 XT (gfx1030)")
    );
    assert!(gpu.compute_capability.is_none());
    assert_eq!(f.torch.as_ref().expect("torch").cuda, None);
    let f = facts("collect-env/pytorch-pr44106-rocm3.7-device-66a1-HEAD.txt");
    // A ROCm build names the device by PCI id; the vendor is AMD because PyTorch was built for ROCm.
    assert_eq!(f.gpus.as_ref().expect("gpus")[0].vendor, Vendor::Amd);
    assert_eq!(package(&f, "torch").as_deref(), Some("1.7.0a0+a9603c7"));
    assert_eq!(
        s(&f.python.as_ref().expect("python").version).as_deref(),
        Some("3.6")
    );
    let f = facts("collect-env/pytorch-pr137846-windows11-cpu-torch2.8-HEAD.txt");
    assert_eq!(f.host.os, Some(Os::Windows));
    assert_eq!(s(&f.host.os_version).as_deref(), Some("10.0.22631"));
    assert_eq!(
        f.host.cpu_model.as_deref(),
        Some("12th Gen Intel(R) Core(TM) i7-1270P")
    );
    assert!(f.host.glibc.is_none() && f.gpus.is_none());
    assert_eq!(
        package(&f, "torch").as_deref(),
        Some("2.8.0.dev20250528+cpu")
    );
    let f = facts("collect-env/jetson-agx-orin-l4t-torch2.0-collect-env-HEAD.txt");
    assert_eq!(f.host.kernel.as_deref(), Some("5.10.120-tegra"));
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").cudnn).as_deref(),
        Some("8.6.0")
    );
    assert!(f.gpus.is_none());
    assert!(f.failed["gpus"].contains("Could not collect"));
    assert_eq!(
        package(&f, "torch").as_deref(),
        Some("2.0.0a0+ec3941ad.nv23.02")
    );
}

#[test]
fn nvidia_smi_tables() {
    let f = facts("nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt");
    assert_eq!(gpu_names(&f), ["NVIDIA GB10"]);
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(
        (s(&n.driver).as_deref(), s(&n.cuda_driver).as_deref()),
        (Some("580.95.05"), Some("13.0"))
    );
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    assert!(
        f.python.is_none(),
        "an nvidia-smi table says nothing about Python"
    );
    let f = facts("nvidia-smi/h100-sxm-x4-idle-driver560.35.txt");
    assert_eq!(gpu_names(&f).len(), 4);
    assert_eq!(cc(&f, 3).as_deref(), Some("9.0"));
    let memory = f.gpus.as_ref().expect("gpus")[0].memory_gb.expect("memory");
    // 81,559 MiB: the H100's "80 GB" (GiB).
    assert!((memory - 79.65).abs() < 0.01, "{memory}");
    let f = facts("nvidia-smi/rtx5090-desktop-xorg-processes-driver580.65.txt");
    assert_eq!(cc(&f, 0).as_deref(), Some("12.0"));
    let f = facts("nvidia-smi/driver-library-mismatch-with-nvml-version.txt");
    assert!(f.gpus.is_none());
    assert!(f.failed["nvidia"].contains("Driver/library version mismatch"));
    assert!(f
        .nvidia
        .as_ref()
        .expect("nvidia")
        .error
        .as_deref()
        .expect("error")
        .contains("550.144"));
}

#[test]
fn a_collect_env_pasted_with_nvidia_smi() {
    // What a bug report often holds: both, with Markdown around them.
    let text = format!(
        "### Your current environment\n<details>\n```text\n{}```\n</details>\n\n```\n$ nvidia-smi\n{}```\n",
        read("collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt"),
        read("nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt")
    );
    assert_eq!(
        detect(&text),
        vec![DumpKind::VllmCollectEnv, DumpKind::NvidiaSmi]
    );
    let f = dump_facts(&text, "issue").expect("dump");
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&n.cuda_driver).as_deref(), Some("13.0"));
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    assert_eq!(package(&f, "torch").as_deref(), Some("2.9.0+cu129"));
    assert!(f
        .machine
        .as_ref()
        .expect("machine")
        .name
        .contains("vllm collect-env + nvidia-smi"));
}

#[test]
fn doctor_reads_every_dump() {
    for dir in ["collect-env", "nvidia-smi"] {
        for entry in std::fs::read_dir(fixture(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            let out = mlcompat()
                .args(["doctor", "--facts"])
                .arg(&path)
                .output()
                .expect("runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{}: {stderr}", path.display());
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            if name.contains("query") || name.starts_with("mig-") {
                // Not a dump and not facts: one clear line, exit 2.
                assert_eq!(out.status.code(), Some(2), "{name}");
                assert!(
                    stderr.starts_with("error: ") && stderr.contains(&name),
                    "{stderr}"
                );
            } else {
                assert!(
                    out.status.code().is_some_and(|c| c <= 1),
                    "{name}: {stderr}"
                );
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(text.starts_with("mlcompat doctor — "), "{text}");
            }
        }
    }
    // The doctor answers "will vLLM work on the reporter's box" from the issue text alone.
    let out = mlcompat()
        .args(["doctor", "--format", "json", "--facts"])
        .arg(fixture(
            "collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt",
        ))
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let torch = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "pytorch")
        .expect("pytorch row");
    assert_eq!(torch["installed"], "2.9.0+cu129");
    assert!(!torch["warnings"].as_array().expect("warnings").is_empty());
}

#[test]
fn windows_line_endings_change_nothing() {
    for path in [
        "collect-env/vllm-16494-2x-a100-80gb-pcie-torch2.5-HEAD.txt",
        "collect-env/vllm-collect-env-cpu-container-torch2.13-vllm0.30.txt",
        "nvidia-smi/h100-sxm-x4-idle-driver560.35.txt",
    ] {
        let text = read(path);
        let crlf = text.replace('\n', "\r\n");
        let (a, b) = (
            dump_facts(&text, "box").expect("dump"),
            dump_facts(&crlf, "box").expect("dump with CRLF"),
        );
        assert_eq!(
            serde_json::to_value(&a).expect("JSON"),
            serde_json::to_value(&b).expect("JSON"),
            "{path}"
        );
    }
}

/// The kinds each recorded dump under `dir` must be read as, by its folder.
fn expected_kinds(dir: &str, name: &str) -> Vec<DumpKind> {
    match dir {
        "dumps/sglang" => vec![DumpKind::SglangCheckEnv],
        "dumps/nvidia-smi" => vec![DumpKind::NvidiaSmi],
        "dumps/nvidia-smi-q" => vec![DumpKind::NvidiaSmiQuery],
        "dumps/rocminfo" => vec![DumpKind::Rocminfo],
        "dumps/pip" if name.contains("freeze") => vec![DumpKind::PipFreeze],
        "dumps/pip" => vec![DumpKind::PipList],
        "dumps/rocm-smi" => vec![DumpKind::RocmSmi],
        "dumps/conda" => vec![DumpKind::CondaList],
        "dumps/apple" => vec![DumpKind::SystemProfiler],
        "nvcc" => vec![DumpKind::Nvcc],
        "dumps/collect-env" if name.starts_with("vllm") => vec![DumpKind::VllmCollectEnv],
        "dumps/collect-env" => vec![DumpKind::TorchCollectEnv],
        _ if name.starts_with("os-release") => vec![DumpKind::OsRelease, DumpKind::Uname],
        _ if name.starts_with("uname") => vec![DumpKind::Uname],
        _ if name.starts_with("ollama") => vec![DumpKind::Ollama],
        _ if name.starts_with("llama-") && !name.contains("list-devices") => {
            vec![DumpKind::LlamaCpp]
        }
        _ if name.starts_with("system_profiler-SPHardwareDataType") => {
            vec![DumpKind::SystemProfiler]
        }
        _ => vec![],
    }
}

#[test]
fn every_recorded_dump_of_every_format_is_recognized() {
    for dir in [
        "dumps/sglang",
        "dumps/nvidia-smi",
        "dumps/nvidia-smi-q",
        "dumps/rocminfo",
        "dumps/rocm-smi",
        "dumps/pip",
        "dumps/conda",
        "dumps/apple",
        "dumps/collect-env",
        "dumps/system",
        "dumps/tools",
        "nvcc",
        "apple",
        "tools",
    ] {
        for entry in std::fs::read_dir(fixture(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let kinds = detect(&std::fs::read_to_string(&path).expect("text"));
            assert_eq!(kinds, expected_kinds(dir, &name), "{dir}/{name}");
        }
    }
}

#[test]
fn sglang_check_env() {
    // The GB10's compute capability is printed by check_env itself.
    let f = facts("dumps/sglang/issue35354-gb10-cc12.1-HEAD.txt");
    assert_eq!(gpu_names(&f), ["NVIDIA GB10"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&n.driver).as_deref(), Some("580.173.02"));
    let alone = read_only("dumps/sglang/issue35354-gb10-cc12.1-HEAD.txt");
    assert!(
        alone.nvidia.as_ref().expect("nvidia").cuda_driver.is_none(),
        "check_env does not print it"
    );
    assert_eq!(
        s(&f.cuda.as_ref().expect("cuda").toolkit).as_deref(),
        Some("13.0")
    );
    assert_eq!(
        s(&f.python.as_ref().expect("python").version).as_deref(),
        Some("3.12.3")
    );
    assert_eq!(package(&f, "sglang").as_deref(), Some("0.5.17"));
    assert_eq!(package(&f, "torch").as_deref(), Some("2.11.0+cu130"));
    assert_eq!(
        package(&f, "flashinfer-python").as_deref(),
        Some("0.6.15.post1")
    );
    // "vllm: Module Not Found" is not a version.
    assert_eq!(package(&f, "vllm"), None);
    let torch = f.torch.as_ref().expect("torch");
    assert_eq!(torch.cuda_available, Some(true));
    assert_eq!(torch.device_count, Some(1));
    assert!(f.failed["python.packages"].contains("sglang"));

    // The topology matrix is tab-separated; none of it is a package.
    let f = facts("dumps/sglang/pr645-a100-topology-tabs-HEAD.txt");
    let packages = &f.python.as_ref().expect("python").packages;
    assert!(
        packages
            .keys()
            .all(|k| !k.starts_with("gpu") && !k.starts_with("nic")),
        "{packages:?}"
    );
    assert_eq!(package(&f, "vllm").as_deref(), Some("0.5.1"));
    assert_eq!(package(&f, "pillow"), None);
    assert_eq!(gpu_names(&f), ["NVIDIA A100-SXM4-80GB"]);

    // A pydantic UserWarning printed first changes nothing.
    let f = facts("dumps/sglang/issue2805-a40-pydantic-warning-HEAD.txt");
    assert_eq!(gpu_names(&f), ["NVIDIA A40"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("8.6"));
    assert_eq!(package(&f, "sglang").as_deref(), Some("0.4.0.post2"));
}

#[test]
fn nvidia_smi_q_and_partial_tables() {
    let f = read_only("dumps/nvidia-smi-q/nvidia-docker1604-wsl2-gtx1650ti-driver510.06-HEAD.txt");
    let gpu = &f.gpus.as_ref().expect("gpus")[0];
    assert_eq!(gpu.name, "NVIDIA GeForce GTX 1650 Ti with Max-Q Design");
    assert_eq!(
        gpu.uuid.as_deref(),
        Some("GPU-b5e386b4-3e71-5837-aca5-80c5914cf07f")
    );
    assert!(gpu.compute_capability.is_none() && gpu.memory_gb.is_none());
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(
        (s(&n.driver).as_deref(), s(&n.cuda_driver).as_deref()),
        (Some("510.06"), Some("11.6"))
    );

    // Only the header: the driver found a GPU; its model is not in the paste.
    let f = facts("dumps/nvidia-smi/wsl11277-header-only-driver551.61-HEAD.txt");
    let gpus = f.gpus.as_ref().expect("one GPU, model not shown");
    assert_eq!(gpus.len(), 1);
    assert_eq!(gpus[0].vendor, Vendor::Nvidia);
    assert!(gpus[0].name.contains("not shown"), "{}", gpus[0].name);
    assert!(gpus[0].compute_capability.is_none() && gpus[0].memory_gb.is_none());
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(
        (s(&n.driver).as_deref(), s(&n.cuda_driver).as_deref()),
        (Some("551.61"), Some("12.4"))
    );
    let out = mlcompat()
        .args(["doctor", "--facts"])
        .arg(fixture(
            "dumps/nvidia-smi/wsl11277-header-only-driver551.61-HEAD.txt",
        ))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("no NVIDIA GPU"), "{text}");
    assert!(text.contains("NVIDIA 551.61, CUDA 12.4"), "{text}");

    // "CUDA Version: ERR!" is no version; the driver still is.
    let f = read_only("dumps/nvidia-smi/wsl11589-cuda-version-err-rtx3060-laptop-HEAD.txt");
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&n.driver).as_deref(), Some("546.80"));
    assert!(n.cuda_driver.is_none());
    assert_eq!(gpu_names(&f).len(), 1);
}

#[test]
fn amd_apple_and_the_host() {
    let f = facts("dumps/rocminfo/ds4-475-gfx1151-gpu-agent-PARTIAL.txt");
    let gpu = &f.gpus.as_ref().expect("gpus")[0];
    assert_eq!(
        (gpu.vendor, gpu.name.as_str()),
        (Vendor::Amd, "AMD Radeon 8060S Graphics (gfx1151)")
    );
    assert!(gpu.memory_gb.is_none() && gpu.compute_capability.is_none());
    let f = facts("dumps/rocminfo/rocm6616-strix-halo-cpu-agent-HEAD.txt");
    assert_eq!(
        f.host.cpu_model.as_deref(),
        Some("AMD RYZEN AI MAX+ 395 w/ Radeon 8060S")
    );
    assert!(f.gpus.is_none(), "the CPU agent is no GPU");

    // rocm-smi without `--showproductname`: GPUs by index, their model not shown; tabs or spaces.
    for (file, count) in [
        ("dumps/rocm-smi/rocm-smi-lib-77-rocm-smi-a-HEAD.txt", 1),
        (
            "dumps/rocm-smi/rocm-2410-rocm-smi-a-tabs-raphael-HEAD.txt",
            1,
        ),
        ("dumps/rocm-smi/roc-smi-90-concise-vega10.txt", 1),
    ] {
        let f = facts(file);
        let gpus = f.gpus.as_ref().expect("gpus");
        assert_eq!(gpus.len(), count, "{file}");
        assert_eq!(gpus[0].vendor, Vendor::Amd, "{file}");
        assert!(gpus[0].name.contains("not shown"), "{file}");
    }
    // rocminfo's named GPU replaces rocm-smi's unnamed one.
    let text = format!(
        "{}
```
{}",
        read("dumps/rocm-smi/roc-smi-90-concise-vega10.txt"),
        read("dumps/rocminfo/ds4-475-gfx1151-gpu-agent-PARTIAL.txt")
    );
    let f = dump_facts(&text, "box").expect("dump");
    assert_eq!(gpu_names(&f), ["AMD Radeon 8060S Graphics (gfx1151)"]);

    let f = facts("apple/system_profiler-SPHardwareDataType-m1-air-PARTIAL.txt");
    assert_eq!(f.host.os, Some(Os::Macos));
    assert_eq!(f.host.cpu_cores, Some(8));
    // "Memory: 8 GB" is 8 GiB.
    let memory = f.host.memory_gb.expect("memory");
    assert!((memory - 8.0).abs() < 0.01, "{memory}");
    assert_eq!(
        f.apple.as_ref().expect("apple").chip.as_deref(),
        Some("Apple M1")
    );
    let gpu = &f.gpus.as_ref().expect("gpus")[0];
    assert_eq!(
        (gpu.vendor, gpu.unified_memory),
        (Vendor::Apple, Some(true))
    );
    assert!(gpu.gpu_cores.is_none(), "SPHardwareDataType does not say");
    let f = facts("dumps/apple/xcodebenchmark-76-mac-pro-2019-intel-hardware-overview.txt");
    assert_eq!(f.host.cpu_model.as_deref(), Some("16-Core Intel Xeon W"));
    assert!(f.gpus.is_none() && f.apple.is_none());

    let f = facts("dumps/system/uname-a-wsl2-5.4.72.txt");
    assert_eq!(f.host.wsl, Some(true));
    assert_eq!(f.host.arch, Some(Arch::X86_64));
    assert_eq!(
        f.host.kernel.as_deref(),
        Some("5.4.72-microsoft-standard-WSL2")
    );
    let f = facts("dumps/system/os-release-ubuntu26.04-and-uname-wsl2.txt");
    assert_eq!(f.host.os_name.as_deref(), Some("Ubuntu 26.04 LTS"));
    assert_eq!(s(&f.host.os_version).as_deref(), Some("26.04"));
    assert_eq!(f.host.wsl, Some(true));
}

#[test]
fn rosetta_is_left_to_the_facts() {
    // An x86_64 Python on an M2 Pro: the readers keep the CPU as printed and the architectures as the text
    // says, and make no GPU up from the CPU's name; the completion step knows the M2 Pro is Apple silicon.
    let path = "dumps/collect-env/pytorch-146236-rosetta-m2pro-x86_64-python-HEAD.txt";
    let f = read_only(path);
    assert_eq!(f.host.cpu_model.as_deref(), Some("Apple M2 Pro"));
    assert_eq!(f.python.as_ref().expect("python").arch, Some(Arch::X86_64));
    assert_eq!(f.host.arch, Some(Arch::X86_64));
    assert_eq!(f.host.os, Some(Os::Macos));
    assert!(f.gpus.is_none());
    let f = facts(path);
    assert_eq!(f.python.as_ref().expect("python").arch, Some(Arch::X86_64));
    assert_eq!(f.host.arch, Some(Arch::Aarch64));
    assert!(f.derived.contains_key("arch"), "{:?}", f.derived);
}

#[test]
fn gb10_pastes_from_issues() {
    for path in [
        "dumps/collect-env/vllm-28110-gb10-issue-paste-fence-prompt-HEAD.txt",
        "dumps/collect-env/vllm-36835-gb10-cu130-fenced-HEAD.txt",
    ] {
        let f = facts(path);
        assert_eq!(gpu_names(&f), ["NVIDIA GB10"], "{path}");
        assert_eq!(f.host.arch, Some(Arch::Aarch64), "{path}");
        assert!(
            f.machine
                .as_ref()
                .expect("machine")
                .name
                .ends_with("(vllm collect-env)"),
            "{path}"
        );
    }
    let f = facts("dumps/collect-env/vllm-28110-gb10-issue-paste-fence-prompt-HEAD.txt");
    assert_eq!(package(&f, "torch").as_deref(), Some("2.9.0+cu129"));
    let f = facts("dumps/collect-env/vllm-36835-gb10-cu130-fenced-HEAD.txt");
    assert_eq!(
        s(&f.nvidia.as_ref().expect("nvidia").driver).as_deref(),
        Some("580.126.09")
    );
    // PyTorch's warning printed before "Collecting environment information..." (the order `vllm
    // collect-env` prints them in when torch warns on import) still states the GB10's capability.
    let dump = read("collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt");
    let (head, rest) = dump
        .split_once("==============================")
        .expect("sections");
    let (collecting, warning) = head.split_once('\n').expect("two parts");
    let text = format!("{warning}{collecting}\n=============================={rest}");
    let f = dump_facts(&text, "box").expect("dump");
    assert_eq!(gpu_names(&f), ["NVIDIA GB10"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    assert!(f.import_warnings["torch"][0].contains("(8.0) - (12.0)"));
    assert_eq!(
        s(&f.torch.as_ref().expect("torch").device_capability).as_deref(),
        Some("12.1")
    );
    // A piece that starts at "Python version:" is still collect_env's.
    let f = facts("dumps/collect-env/pytorch-48145-tail-from-python-version-macos-x86_64.txt");
    assert_eq!(package(&f, "torch").as_deref(), Some("1.8.0.dev20201117"));
    assert_eq!(
        s(&f.python.as_ref().expect("python").version).as_deref(),
        Some("3.8")
    );
}

#[test]
fn package_lists() {
    // pip's header was lost in the paste; its rule and rows remain.
    let f = facts("dumps/pip/inf-mllm-86-pip-list-no-header-HEAD.txt");
    assert_eq!(f.python.as_ref().expect("python").packages.len(), 27);
    assert_eq!(package(&f, "cuda-toolkit").as_deref(), Some("13.0.3.0"));
    assert!(!f.failed.contains_key("python.packages"));
    // Quoted (`> `), with pip's editable-location column.
    let f = facts("dumps/pip/vllm-18295-quoted-pip-list-editable-column-HEAD.txt");
    assert_eq!(package(&f, "accelerate").as_deref(), Some("1.7.0"));
    assert_eq!(
        package(&f, "antlr4-python3-runtime").as_deref(),
        Some("4.7.2")
    );
    assert_eq!(f.python.as_ref().expect("python").packages.len(), 19);
    // `uv pip list` prints pip's table; rows elided with "..." are skipped.
    let f = facts("dumps/pip/uv-pip-list-rocm-torch2.9-elided.txt");
    assert_eq!(f.python.as_ref().expect("python").packages.len(), 4);
    assert_eq!(package(&f, "torch").as_deref(), Some("2.9.0+git44352d7"));
    // `pip freeze` in a fence, after its prompt, with the author's "..." at the end.
    let f = facts("dumps/pip/abci-examples-pip-freeze-fenced-with-ellipsis.txt");
    assert_eq!(f.python.as_ref().expect("python").packages.len(), 7);
    assert_eq!(
        package(&f, "argon2-cffi-bindings").as_deref(),
        Some("21.2.0")
    );
    // `conda list | grep pytorch`: conda's pytorch is torch; `cpuonly` is no Python package.
    let f = facts("dumps/conda/pytorch-data-315-conda-list-grep-pytorch-cpu.txt");
    assert_eq!(package(&f, "torch").as_deref(), Some("1.11.0"));
    assert_eq!(package(&f, "torchvision").as_deref(), Some("0.12.0"));
    assert_eq!(package(&f, "cpuonly"), None);
    assert_eq!(package(&f, "pytorch-mutex"), None);
    let f = facts("dumps/conda/pytorch-32369-conda-list-cudatoolkit10.1-HEAD.txt");
    assert_eq!(package(&f, "certifi").as_deref(), Some("2019.11.28"));
    assert_eq!(package(&f, "cudatoolkit"), None);
}

#[test]
fn tool_versions() {
    let f = facts("dumps/tools/ollama-version-0.30.5.txt");
    let ollama = &f.binaries.as_ref().expect("binaries")["ollama"];
    assert_eq!(s(&ollama.version).as_deref(), Some("0.30.5"));
    let f = facts("tools/llama-cli-version-arm64-apple-darwin.txt");
    let llama = &f.binaries.as_ref().expect("binaries")["llama-cli"];
    assert_eq!(s(&llama.version).as_deref(), Some("3930"));
    assert_eq!(llama.target.as_deref(), Some("arm64-apple-darwin23.6.0"));
    assert_eq!(llama.arch, Some(Arch::Aarch64));
    let f = facts("tools/llama-cli-version-x86_64-apple-darwin.txt");
    let llama = &f.binaries.as_ref().expect("binaries")["llama-cli"];
    assert_eq!(llama.arch, Some(Arch::X86_64));
    // A log's `build:` line, and the devices ggml's CUDA backend found with their compute capability.
    let f = facts("dumps/tools/llama-embedding-log-build-line-v100-cuda.txt");
    let llama = &f.binaries.as_ref().expect("binaries")["llama-cli"];
    assert_eq!(s(&llama.version).as_deref(), Some("4518"));
    assert_eq!(llama.target.as_deref(), Some("x86_64-linux-gnu"));
    assert_eq!(gpu_names(&f), ["Tesla V100-PCIE-16GB"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("7.0"));
    for (file, release) in [
        ("nvcc/cuda-11.8-windows.txt", "11.8"),
        ("nvcc/cuda-12.9.1-linux.txt", "12.9"),
    ] {
        let f = facts(file);
        assert_eq!(
            s(&f.cuda.as_ref().expect("cuda").toolkit).as_deref(),
            Some(release)
        );
    }
}

#[test]
fn several_dumps_in_one_issue() {
    // Issue prose, a collect_env, an sglang check_env, nvidia-smi's header, a quoted pip list, uname and
    // ollama: each reader sees only its own piece.
    let text = format!(
        "### Your current environment\n\n<details>\n<summary>collect_env</summary>\n\n```text\n{}```\n</details>\n\nand sglang:\n```\n{}```\n\n```console\n$ nvidia-smi\n{}$ pip list\n{}```\n{}\n{}",
        read("collect-env/a100-healthy-torch2.7-cu128-vllm-collect-env-HEAD.txt"),
        read("dumps/sglang/pr645-a100-topology-tabs-HEAD.txt"),
        read("dumps/nvidia-smi/wsl11277-header-only-driver551.61-HEAD.txt"),
        read("dumps/pip/vllm-18295-quoted-pip-list-editable-column-HEAD.txt"),
        read("dumps/system/uname-a-wsl2-5.4.72.txt"),
        read("dumps/tools/ollama-version-0.30.5.txt"),
    );
    assert_eq!(
        detect(&text),
        vec![
            DumpKind::VllmCollectEnv,
            DumpKind::SglangCheckEnv,
            DumpKind::NvidiaSmi,
            DumpKind::Uname,
            DumpKind::PipList,
            DumpKind::Ollama,
        ]
    );
    let f = dump_facts(&text, "issue").expect("dump");
    let name = &f.machine.as_ref().expect("machine").name;
    assert!(
        name.starts_with("issue (vllm collect-env + sglang check_env + nvidia-smi"),
        "{name}"
    );
    // collect_env's lines are not sglang packages, nor the other way round.
    let packages = &f.python.as_ref().expect("python").packages;
    assert!(
        !packages.contains_key("cuda-runtime-version")
            && !packages.contains_key("is-cuda-available"),
        "{packages:?}"
    );
    assert_eq!(package(&f, "sglang").as_deref(), Some("0.1.21"));
    assert_eq!(package(&f, "accelerate").as_deref(), Some("1.7.0"));
    // The first, more specific reader's facts stand: collect_env's GPU, driver and Python.
    assert_eq!(gpu_names(&f), ["NVIDIA A100-SXM4-40GB"]);
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&n.driver).as_deref(), Some("575.51.03"));
    // nvidia-smi's header adds the CUDA version the driver supports.
    assert_eq!(s(&n.cuda_driver).as_deref(), Some("12.4"));
    assert_eq!(
        s(&f.python.as_ref().expect("python").version).as_deref(),
        Some("3.12.3")
    );
    assert_eq!(f.host.kernel.as_deref(), Some("6.11.0-1014-gcp"));
    // A whole pip list answers collect_env's "only the packages it looks for".
    assert!(!f.failed.contains_key("python.packages"));
    assert!(f
        .binaries
        .as_ref()
        .expect("binaries")
        .contains_key("ollama"));
}

#[test]
fn hostile_pastes_break_nothing() {
    let collect_env = read("collect-env/vllm-16494-2x-a100-80gb-pcie-torch2.5-HEAD.txt");
    let smi = read("nvidia-smi/h100-sxm-x4-idle-driver560.35.txt");
    // Colour codes, a terminal title, a huge line, NULs and a bidi override around and inside the dumps.
    let huge = "A".repeat(2 * 1024 * 1024);
    let text = format!(
        "\u{1b}]0;title\u{7}\u{1b}[31m{collect_env}\u{1b}[0m\n{huge}\n\u{0}\u{202e}\n```\n{smi}```\n{}\n",
        ":".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let f = dump_facts(&text, "box").expect("dump");
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    assert_eq!(
        gpu_names(&f).len(),
        4,
        "nvidia-smi's four GPUs replace the two names"
    );
    assert_eq!(package(&f, "torch").as_deref(), Some("2.5.1+cu124"));
    // Escape sequences inside a key are taken off, not read as part of it.
    let f = dump_facts(
        "\u{1b}[1mPyTorch version\u{1b}[0m: 2.1.0\nIs CUDA available: True\n",
        "box",
    )
    .expect("dump");
    assert_eq!(package(&f, "torch").as_deref(), Some("2.1.0"));
}

#[test]
fn text_that_is_no_dump_is_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("notes.txt", "hello world\n".to_string()),
        // Tabs and colons that a YAML parser would complain about.
        (
            "topology.txt",
            "NVIDIA Topology:\n\tGPU0\tGPU1\nGPU0\t X \tNV12\n".to_string(),
        ),
        (
            "prose.md",
            "### Your current environment\n\nit: crashes\n\tsometimes: yes\n".to_string(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = mlcompat()
            .args(["doctor", "--facts"])
            .arg(&path)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(name)
                && stderr.contains("sglang.check_env")
                && stderr.contains("pip list"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("invalid YAML") && !stderr.contains("tabs"),
            "{stderr}"
        );
    }
    // A facts document still gets its parser's errors, with line and column.
    let path = dir.path().join("facts.yaml");
    std::fs::write(&path, "schema: mlcompat.facts/1\nhost:\n\tos: linux\n").expect("write");
    let out = mlcompat()
        .args(["doctor", "--facts"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("facts.yaml:3:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn messages_logs_and_lists_from_issues() {
    let cuda_driver = |f: &Facts| s(&f.nvidia.as_ref().expect("nvidia").cuda_driver);
    let python = |f: &Facts| s(&f.python.as_ref().expect("python").version);
    // PyTorch's "driver too old": CUDA's encoding, and the Python its path names.
    let f = facts("bug-reports/yuan2-65-driver-too-old-found-11000.txt");
    assert_eq!(cuda_driver(&f).as_deref(), Some("11.0"));
    assert_eq!(python(&f).as_deref(), Some("3.10"));
    // The warning names no GPU; the completion step knows a driver answered, so there is an NVIDIA one.
    assert!(
        read_only("bug-reports/yuan2-65-driver-too-old-found-11000.txt")
            .gpus
            .is_none(),
        "the warning names no GPU"
    );
    assert_eq!(gpu_names(&f), ["NVIDIA GPU (model not shown)"]);
    assert!(f.derived["gpus"].contains("an NVIDIA driver answered"));
    let f = facts("bug-reports/verl-omni-133-driver535-found-12080-vllm0.20.2-HEAD.txt");
    assert_eq!(cuda_driver(&f).as_deref(), Some("12.8"));
    // Ollama's log: the GPU, its capability and memory (GiB), and driver= as the CUDA driver API.
    let f = facts(
        "bug-reports/ollama-12136-h100-fabric-manager-fixed-inference-compute-log-PARTIAL.txt",
    );
    assert_eq!(gpu_names(&f), ["NVIDIA H100 80GB HBM3"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("9.0"));
    assert_eq!(f.gpus.as_ref().expect("gpus")[0].memory_gb, Some(79.6));
    assert_eq!(cuda_driver(&f).as_deref(), Some("12.9"));
    assert!(f.nvidia.as_ref().expect("nvidia").driver.is_none());
    let f = facts("bug-reports/ollama-12116-2x-rtx5090-fedora-libcuda-575-no-devices.txt");
    let n = f.nvidia.as_ref().expect("nvidia");
    assert_eq!(s(&n.driver).as_deref(), Some("575.64.05"));
    assert!(n
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no nvidia devices")));
    assert_eq!(f.host.os, Some(Os::Linux));
    let f = facts(
        "bug-reports/ollama-pr10569-windows-rtx2080ti-driver531.79-nvidia-smi-and-log-HEAD.txt",
    );
    assert_eq!(gpu_names(&f), ["NVIDIA GeForce RTX 2080 Ti"]);
    assert_eq!(f.host.os, Some(Os::Windows));
    // Environment lists as typed.
    let f = facts("bug-reports/pytorch-167244-2x-rtx5090-torch2.7-nightly-cu124-env-list-HEAD.txt");
    assert_eq!(gpu_names(&f), ["RTX 5090", "RTX 5090"]);
    assert_eq!(
        (cc(&f, 0).as_deref(), cc(&f, 1).as_deref()),
        (Some("12.0"), Some("12.0"))
    );
    assert_eq!(
        s(&f.nvidia.as_ref().expect("nvidia").driver).as_deref(),
        Some("570.124.06")
    );
    assert_eq!(python(&f).as_deref(), Some("3.11.9"));
    assert_eq!(
        s(&f.torch.as_ref().expect("torch").cuda).as_deref(),
        Some("12.4")
    );
    let f = facts("bug-reports/berkeley-humanoid-lite-49-rtx5090-driver590-torch2.5.1-cu121.txt");
    assert_eq!(package(&f, "torch").as_deref(), Some("2.5.1+cu121"));
    let f = facts("bug-reports/raylight-68-2x-quadro-rtx5000-torch2.9.1-cu130-flash-attn.txt");
    assert_eq!(gpu_names(&f), ["RTX 5000", "RTX 5000"]);
    assert_eq!(cc(&f, 0), None, "the name alone says no capability");
    // xFormers' "you have", bitsandbytes' binary, ptxas' target, ggml's devices, AMD's image tag.
    let f = facts("bug-reports/xformers-982-xformers-info-torch-cpu-HEAD.txt");
    assert_eq!(package(&f, "torch").as_deref(), Some("2.2.0+cpu"));
    assert_eq!(package(&f, "xformers").as_deref(), Some("0.0.25.dev741"));
    assert!(f.torch.as_ref().is_none_or(|t| t.cuda.is_none()));
    let f =
        facts("bug-reports/sd-webui-forge-classic-184-windows-bnb-0.45.5-no-cuda129-binary.txt");
    assert_eq!(
        s(&f.torch.as_ref().expect("torch").cuda).as_deref(),
        Some("12.9")
    );
    assert_eq!(f.host.os, Some(Os::Windows));
    let f = facts("bug-reports/triton-8539-dgx-spark-pip-list-torch2.10-cu130-ptxas-sm121a.txt");
    assert_eq!(gpu_names(&f), ["DGX Spark"]);
    assert_eq!(cc(&f, 0).as_deref(), Some("12.1"));
    assert_eq!(
        package(&f, "pytorch-triton").as_deref(),
        Some("3.5.0+git7416ffcb")
    );
    let f = facts("bug-reports/inference-snaps-255-gtx1080ti-driver535-llama-cli-kernel-image-invalid-PARTIAL.txt");
    assert_eq!(gpu_names(&f), ["NVIDIA GeForce GTX 1080 Ti"]);
    assert!(f.binaries.is_none(), "no build line, no llama-cli version");
    let f = facts(
        "bug-reports/rocm-4909-ryzen-ai-max395-rocm6.4.1-pytorch-image-invalid-device-function.txt",
    );
    assert_eq!(gpu_names(&f), ["AMD Radeon Graphics"]);
    assert_eq!(package(&f, "torch").as_deref(), Some("2.6.0"));
    assert_eq!(python(&f).as_deref(), Some("3.12"));
    // nvidia-smi's header with a different NVIDIA-SMI and driver number is WSL2's.
    let f =
        facts("bug-reports/wsl-11277-gtx1650-laptop-wsl-nvidia-smi-535.103-driver537.13-HEAD.txt");
    assert_eq!(f.host.wsl, Some(true));
}

#[test]
fn prose_about_the_same_things_is_no_dump() {
    for text in [
        "My driver is too old, I think. Which version do I need?\n",
        "I ran ollama serve and the log said msg=nothing useful.\n",
        "- Install the driver\n- Reboot\n- Run python 3 times\n",
        "GPU: it crashes.\nPython: the latest\n",
        "Our GPU: an RTX card. OS: whatever the cloud gives.\n",
        "print(torch.__version__)\n",
        "bitsandbytes could not find its binary\n",
        "pip list shows nothing odd\n",
        "- PyTorch: latest\n- GPU: yes\n",
        "ptxas complained about sm_121a\n",
        "We use rocm/pytorch images.\n",
        "PS: thanks!\n",
        // One environment line alone is read only beside another dump.
        "GPU: DGX Spark\n",
        "- GPU: 2x RTX 4090\n",
    ] {
        assert!(detect(text).is_empty(), "{text}: {:?}", detect(text));
    }
    assert_eq!(
        detect("`GPU: DGX Spark`\n```\npip list|grep torch\ntorch   2.10.0+cu130\n```\n"),
        vec![DumpKind::PipList, DumpKind::EnvList]
    );
}

#[test]
fn hostile_messages_and_lists_stay_bounded() {
    let big = "x ".repeat(1_000_000);
    let texts = [
        format!("time= level=INFO source=a.go:1 msg=\"inference compute\" {big}=\n"),
        format!("- GPU: {}\n- Python: 3.10\n", "RTX ".repeat(500_000)),
        format!(
            "- GPU: 99x RTX 5090\n- Driver: 570.1.2\n{}",
            "- GPU: 8x H100\n".repeat(100_000)
        ),
        format!(
            "The NVIDIA driver on your system is too old (found version {})\n",
            "9".repeat(100_000)
        ),
        format!("{}\n", "/python3.10".repeat(200_000)),
        format!(
            "ptxas fatal : Value 'sm_{}' is not defined for option 'gpu-name'\n",
            "1".repeat(100_000)
        ),
    ];
    for text in &texts {
        let started = std::time::Instant::now();
        let _ = dump_facts(text, "box");
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
    // The GPU count a list states is capped.
    let f = dump_facts("- GPU: 99x RTX 5090\n- Python: 3.10\n", "box").expect("list");
    assert!(gpu_names(&f).len() <= 64);
}
