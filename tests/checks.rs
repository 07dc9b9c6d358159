//! The breakages that cost people days on new AI machines, each as facts a real box would report, run
//! through the shipped matrix: every one must show as ❌ or ⚠️ with its fix, and the healthy variant must
//! not be flagged.

use mlcompat::eval::evaluate;
use mlcompat::facts::load::facts_from_text;
use mlcompat::matrix::{embedded, Status};
use mlcompat::report::Row;

fn row(facts: &str, id: &str) -> Row {
    let matrix = embedded().expect("valid matrix");
    let facts = facts_from_text("box.yaml", facts).expect("valid facts");
    evaluate(&matrix, &facts)
        .rows
        .into_iter()
        .find(|r| r.id == id)
        .expect("row exists")
}

fn linux_nvidia(gpu: &str, cc: &str, driver: &str, cuda: &str, extra: &str) -> String {
    format!(
        "schema: mlcompat.facts/1\nmachine: {{id: local, name: this machine, kind: live}}\nhost: {{os: linux, arch: aarch64, memory_gb: 128}}\n\
         gpus: [{{vendor: nvidia, name: {gpu}, compute_capability: '{cc}', unified_memory: true}}]\n\
         nvidia: {{driver: '{driver}', cuda_driver: '{cuda}'}}\nbinaries: {{}}\n{extra}"
    )
}

fn gb10(extra: &str) -> String {
    linux_nvidia("NVIDIA GB10", "12.1", "580.95.05", "13.0", extra)
}

#[test]
fn cpu_only_torch_on_an_nvidia_box() {
    let r = row(
        &gb10("python: {version: 3.12.3, packages: {torch: 2.9.0+cpu}}\n"),
        "pytorch",
    );
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "pytorch-cpu-wheel-on-nvidia")
    );
    assert!(
        r.reason.contains("2.9.0+cpu") && r.reason.contains("NVIDIA GB10"),
        "{}",
        r.reason
    );
    // The install planner writes the fix: PyPI's aarch64 torch is a CUDA 13 build with sm_120 code.
    assert_eq!(r.fix.as_deref(), Some("pip install torch==2.15.0"));
}

#[test]
fn driver_older_than_torchs_cuda_names_the_minimum_driver() {
    let facts = linux_nvidia(
        "NVIDIA GeForce RTX 4090",
        "8.9",
        "570.172.08",
        "12.8",
        "python: {version: 3.12.3, packages: {torch: 2.9.0+cu130}}\n",
    );
    let r = row(&facts, "pytorch");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "pytorch-cu130-driver-too-old")
    );
    assert!(
        r.reason.contains("580.65.06") && r.reason.contains("570.172.08"),
        "{}",
        r.reason
    );
    let healthy = linux_nvidia(
        "NVIDIA GeForce RTX 4090",
        "8.9",
        "580.95.05",
        "13.0",
        "python: {version: 3.12.3, packages: {torch: 2.9.0+cu130}}\n",
    );
    assert_eq!(row(&healthy, "pytorch").status, Status::Ok);
}

#[test]
fn torch_arch_list_uses_family_compatibility() {
    let torch = |arch: &str| {
        format!("python: {{version: 3.12.3, packages: {{torch: 2.9.0+cu130}}}}\ntorch: {{version: 2.9.0+cu130, cuda: '13.0', cuda_available: true, arch_list: [{arch}]}}\n")
    };
    // sm_120 code runs on a GB10 (CC 12.1): no false "not compatible" warning.
    let r = row(
        &gb10(&torch("sm_80, sm_90, sm_100, sm_120, compute_120")),
        "pytorch",
    );
    assert_eq!(r.status, Status::Ok, "{}: {}", r.rule, r.reason);
    // A build that stops at sm_90 has nothing for an RTX 5090 (CC 12.0).
    let rtx5090 = linux_nvidia(
        "NVIDIA GeForce RTX 5090",
        "12.0",
        "580.95.05",
        "13.0",
        &torch("sm_70, sm_75, sm_80, sm_86, sm_90"),
    );
    let r = row(&rtx5090, "pytorch");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "pytorch-no-kernel-for-gpu")
    );
}

#[test]
fn torch_that_does_not_see_the_gpu_nvml_sees() {
    let facts = gb10("python: {version: 3.12.3, packages: {torch: 2.9.0+cu130}}\ntorch: {version: 2.9.0+cu130, cuda: '13.0', cuda_available: false, arch_list: [sm_120]}\n");
    let r = row(&facts, "pytorch");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "pytorch-cuda-not-available")
    );
}

#[test]
fn nvcc_too_old_for_the_gpu() {
    let r = row(&gb10("cuda: {toolkit: '12.8'}\n"), "cuda-libraries");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Warn, "cuda-libraries-nvcc-no-target")
    );
    assert_ne!(
        row(&gb10("cuda: {toolkit: '13.0'}\n"), "cuda-libraries").rule,
        "cuda-libraries-nvcc-no-target"
    );
    // A recorded target list decides over the release table.
    let listed = row(
        &gb10("cuda: {toolkit: '12.9', targets: [sm_90, sm_100, sm_120]}\n"),
        "cuda-libraries",
    );
    assert_eq!(listed.rule, "cuda-libraries-nvcc-no-target");
}

#[test]
fn flash_attn_abi_mismatch_and_old_gpus() {
    let error = "ImportError: /venv/lib/python3.10/site-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN2at4_ops15sum_IntList_out4callERKNS_6TensorEN3c1016OptionalArrayRefIlEEbSt8optionalINS5_10ScalarTypeEERS2_";
    let facts = gb10(&format!("python: {{version: 3.10.12, packages: {{torch: 2.9.0+cu130, flash-attn: 2.7.4.post1}}}}\nimports: {{flash_attn: '{error}'}}\n"));
    let r = row(&facts, "flash-attention");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "flash-attention-abi-mismatch")
    );
    assert!(r.reason.contains("undefined symbol"), "{}", r.reason);
    let turing = linux_nvidia(
        "Tesla T4",
        "7.5",
        "580.95.05",
        "13.0",
        "python: {version: 3.12.3, packages: {flash-attn: 2.7.4.post1}}\n",
    );
    assert_eq!(row(&turing, "flash-attention").status, Status::Fail);
}

#[test]
fn mlx_on_rosetta_python() {
    let mac = "schema: mlcompat.facts/1\nhost: {os: macos, os_version: '15.5', arch: aarch64}\ngpus: [{vendor: apple, name: Apple M4 Max, unified_memory: true}]\n";
    let r = row(
        &format!("{mac}python: {{version: 3.12.3, arch: x86_64, packages: {{mlx: 0.29.0}}}}\n"),
        "mlx",
    );
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "mlx-rosetta-python")
    );
    let native = row(
        &format!("{mac}python: {{version: 3.12.3, arch: aarch64, packages: {{mlx: 0.29.0}}}}\n"),
        "mlx",
    );
    assert_eq!(native.status, Status::Ok);
}

#[test]
fn docker_without_the_nvidia_runtime() {
    let without = gb10("binaries: {docker: {path: /usr/bin/docker, version: 28.2.2}}\ndocker: {runtimes: [runc]}\n").replace("binaries: {}\n", "");
    let r = row(&without, "nvidia-container-toolkit");
    assert_eq!(
        (r.status, r.rule.as_str()),
        (Status::Fail, "nvidia-container-toolkit-docker-no-runtime")
    );
    assert!(r
        .fix
        .expect("a fix")
        .contains("nvidia-ctk runtime configure"));
    let with = gb10("binaries: {docker: {path: /usr/bin/docker, version: 28.2.2}}\ndocker: {runtimes: [nvidia, runc]}\n").replace("binaries: {}\n", "");
    assert_eq!(row(&with, "nvidia-container-toolkit").status, Status::Ok);
}
