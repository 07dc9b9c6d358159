//! Bug-report dumps as facts: every recorded `collect_env`, `vllm collect-env` and `nvidia-smi` output in
//! tests/fixtures (sources in tests/fixtures/SOURCES.md) is read, and what each says becomes exactly these
//! facts — nothing it does not say.

mod common;

use common::{fixture, mlcompat, with_known_gpus};
use mlcompat::facts::dumps::{detect, facts_from_dump, DumpKind};
use mlcompat::facts::{Arch, Facts, Os, Vendor};

fn read(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).expect("fixture")
}

fn facts(path: &str) -> Facts {
    with_known_gpus(|known| facts_from_dump(&read(path), "box", known))
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
    // collect_env does not print the CUDA version the driver supports.
    assert!(nvidia.cuda_driver.is_none());
    assert_eq!(gpu_names(&f), ["NVIDIA A100-SXM4-40GB"]);
    // The profiles know the A100-SXM4-80GB, not this 40GB part: no compute capability is made up.
    assert_eq!(cc(&f, 0), None);
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
    assert!(gpu
        .source
        .as_deref()
        .expect("source")
        .contains("profile dgx-spark"));
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
    // "NVIDIA H100" is not a profile's exact name (H100 PCIe, H100 80GB HBM3): no capability.
    assert_eq!(cc(&f, 0), None);
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
    let f = with_known_gpus(|known| facts_from_dump(&text, "issue", known)).expect("dump");
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
        let (a, b) = with_known_gpus(|known| {
            (
                facts_from_dump(&text, "box", known).expect("dump"),
                facts_from_dump(&crlf, "box", known).expect("dump with CRLF"),
            )
        });
        assert_eq!(
            serde_json::to_value(&a).expect("JSON"),
            serde_json::to_value(&b).expect("JSON"),
            "{path}"
        );
    }
}
