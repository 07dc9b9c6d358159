//! Verdicts that must be right on real machines (issue 8): each case is modelled on real output — a real
//! venv probed on this machine, nvidia-smi tables and failures recorded from public issues, llama.cpp
//! build lines — and run through the shipped matrix, the same path as a live doctor.

use std::path::Path;

use mlcompat::eval::{evaluate, evaluate_request, Request};
use mlcompat::facts::load::facts_from_text;
use mlcompat::facts::Facts;
use mlcompat::matrix::{embedded, Matrix, Status};
use mlcompat::probe::smi;
use mlcompat::report::{Report, Row};

fn matrix() -> Matrix {
    embedded().expect("valid matrix")
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path),
    )
    .expect("fixture exists")
}

fn facts(text: &str) -> Facts {
    facts_from_text("box", text).expect("valid facts")
}

fn row<'a>(r: &'a Report, id: &str) -> &'a Row {
    r.rows.iter().find(|x| x.id == id).expect("row exists")
}

/// Case 1: `import torch` fails in a real venv (torch 2.15.0+cu132 from PyPI, typing_extensions removed):
/// PyTorch is ❌ with the error and the missing dependency's install, the doctor exits 1.
#[test]
fn a_torch_that_does_not_import_fails() {
    let f = facts(&fixture(
        "facts/cpu-box-torch-2.15.0-cu132-import-fails.json",
    ));
    let r = evaluate(&matrix(), &f);
    let torch = row(&r, "pytorch");
    assert_eq!(torch.status, Status::Fail, "{torch:?}");
    assert_eq!(torch.rule, "import-failed");
    assert!(
        torch.reason.ends_with(
            "`import torch` failed: ModuleNotFoundError: No module named 'typing_extensions'"
        ),
        "{}",
        torch.reason
    );
    assert!(torch
        .fix
        .as_deref()
        .unwrap()
        .starts_with("pip install typing-extensions"));
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.summary.problems.len(), 1, "{:?}", r.summary.problems);
    assert!(r.recommendations[0]
        .text
        .starts_with("PyTorch: pip install typing-extensions"));
    // Triton and the CUDA libraries came with the CUDA wheel: present, unused, not problems.
    assert_eq!(row(&r, "triton").status, Status::Ok);
    assert_eq!(row(&r, "cuda-libraries").status, Status::Ok);
}

/// Case 2: the same torch, importing fine: a CUDA 13.2 build with no GPU here, shown with its local tag,
/// its fix (the CPU index) shown although the row is ✅.
#[test]
fn a_cuda_torch_on_a_cpu_box_is_called_what_it_is() {
    let f = facts(&fixture("facts/cpu-box-torch-2.15.0-cu132-deep.json"));
    let r = evaluate(&matrix(), &f);
    let torch = row(&r, "pytorch");
    assert_eq!(torch.status, Status::Ok);
    assert_eq!(torch.rule, "pytorch-cuda-build-no-gpu");
    assert_eq!(torch.installed.as_deref(), Some("2.15.0+cu132"));
    assert!(torch.reason.contains("CUDA 13.2 build"), "{}", torch.reason);
    assert!(torch.fix_matters_when_ok);
    assert!(torch.fix.as_deref().unwrap().contains("/whl/cpu"));
    // The warning torch printed on import is kept and shown.
    assert!(
        torch.warnings[0].contains("Failed to initialize NumPy"),
        "{:?}",
        torch.warnings
    );
    assert_eq!(r.exit_code(), 0);
    // Without --deep the installed CUDA runtime wheels say the same.
    let mut shallow = f.clone();
    shallow.torch = None;
    shallow.imports = None;
    shallow.import_warnings.clear();
    let r = evaluate(&matrix(), &shallow);
    assert_eq!(row(&r, "pytorch").rule, "pytorch-cuda-wheel-no-gpu");
    assert_eq!(row(&r, "pytorch").installed.as_deref(), Some("2.15.0"));
    let mut out = Vec::new();
    mlcompat::render::doctor_text(&r, mlcompat::render::Style::default(), true, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The fix is install-plan's for this machine: the CPU build, in a fresh environment.
    assert!(
        text.contains(
            "fix: python3 -m venv .venv-cpu && .venv-cpu/bin/pip install torch==2.15.0+cpu"
        ),
        "{text}"
    );
}

fn spark_from_smi(table_file: &str, query_file: &str) -> Facts {
    let table = smi::parse_table(&fixture(table_file));
    let query = smi::parse_query(&fixture(query_file));
    let from_smi = smi::to_facts(&table, &query, Some(128.0));
    let mut f = facts(
        "schema: mlcompat.facts/1\nmachine: {id: local, name: this machine, kind: live}\nhost: {os: linux, arch: aarch64, memory_gb: 128}\nfailed: {nvidia: 'no NVIDIA driver found (libnvidia-ml.so.1 could not be loaded); GPUs and driver read from nvidia-smi instead'}\n",
    );
    f.gpus = Some(from_smi.gpus);
    f.nvidia = from_smi.nvidia;
    f
}

/// Case 3: NVML cannot be loaded, nvidia-smi works (a real DGX Spark table): the GB10 it lists is the
/// machine's GPU, not "GPU none" and nine ❌ rows.
#[test]
fn the_nvidia_smi_fallback_keeps_the_gpu() {
    let f = spark_from_smi(
        "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
        "nvidia-smi/gb10-query-compute-cap.txt",
    );
    let gpu = f.primary_gpu().expect("a GPU");
    assert_eq!(gpu.name, "NVIDIA GB10");
    assert_eq!(gpu.source.as_deref(), Some("nvidia-smi"));
    let r = evaluate(&matrix(), &f);
    assert!(r
        .machine
        .gpu
        .as_deref()
        .unwrap()
        .starts_with("NVIDIA GB10 (CC 12.1)"));
    assert_eq!(
        r.machine.driver.as_deref(),
        Some("NVIDIA 580.95.05, CUDA 13.0")
    );
    for id in [
        "pytorch",
        "vllm",
        "cuda-libraries",
        "native-fp4",
        "tensorrt-llm",
    ] {
        assert_eq!(row(&r, id).status, Status::Ok, "{id}: {:?}", row(&r, id));
    }
    assert_eq!(
        r.summary.fail,
        0,
        "{:?}",
        r.rows
            .iter()
            .filter(|x| x.status == Status::Fail)
            .collect::<Vec<_>>()
    );
    // Without the compute capability query (an older driver), the table alone still names the GPU;
    // rows that need the capability say which fact is missing instead of failing.
    let f = spark_from_smi(
        "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
        "nvidia-smi/gb10-query-gpu-csv-noheader-nounits.txt",
    );
    let r = evaluate(&matrix(), &f);
    assert_eq!(r.summary.fail, 0);
    assert!(r.recommendations.iter().any(|s| s
        .text
        .contains("cannot be judged without `gpu.compute_capability`")));
}

/// Case 4: nvidia-smi's own failure (stdout, exit 18; two lines on newer drivers) is kept whole and the
/// doctor says what it means and what to do.
#[test]
fn a_driver_library_mismatch_is_explained() {
    for file in [
        "nvidia-smi/driver-library-mismatch-with-nvml-version.txt",
        "nvidia-smi/driver-library-mismatch-570.124.txt",
    ] {
        let table = smi::parse_table(&fixture(file));
        let error = table.error.clone().expect("an error");
        assert_eq!(error.lines().count(), 2, "{error}");
        let mut f = facts(
            "schema: mlcompat.facts/1\nmachine: {id: local, name: this machine, kind: live}\nhost: {os: linux, arch: x86_64}\ngpus: [{vendor: nvidia, name: 'NVIDIA GPU (PCI 0000:01:00.0 device 2684)', source: pci}]\nbinaries: {nvidia-smi: {path: /usr/bin/nvidia-smi}}\nlibraries: {libnvidia-ml.so: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1}\n",
        );
        f.nvidia = smi::to_facts(&table, &[], None)
            .error
            .map(|e| mlcompat::facts::Nvidia {
                error: Some(e),
                source: Some("nvidia-smi".into()),
                ..Default::default()
            });
        let r = evaluate(&matrix(), &f);
        let driver = row(&r, "nvidia-driver");
        assert_eq!(driver.status, Status::Fail);
        assert_eq!(driver.note, "driver/library mismatch: reboot");
        assert!(
            driver.reason.contains("NVML library version:"),
            "{}",
            driver.reason
        );
        assert!(driver.fix.as_deref().unwrap().starts_with("Reboot"));
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.summary.problems[0].id, "nvidia-driver");
    }
}

/// Case 5: an x86_64 llama.cpp on Apple silicon runs under Rosetta, not as a native Metal build.
#[test]
fn an_x86_64_llama_cpp_on_apple_silicon_is_not_native() {
    let mac = |arch: &str| {
        format!(
            "schema: mlcompat.facts/1\nmachine: {{id: local, name: this machine, kind: live}}\nhost: {{os: macos, os_version: '15.5', arch: aarch64, memory_gb: 64}}\ngpus: [{{vendor: apple, name: Apple M4 Max, unified_memory: true}}]\nbinaries: {{llama-cli: {{path: /usr/local/bin/llama-cli, version: '4020', arch: {arch}, target: {arch}-apple-darwin23.6.0}}}}\n"
        )
    };
    let r = evaluate(&matrix(), &facts(&mac("x86_64")));
    let llama = row(&r, "llama-cpp");
    assert_eq!(
        (llama.status, llama.rule.as_str()),
        (Status::Warn, "llama-cpp-x86-build-on-apple-silicon")
    );
    assert!(llama
        .fix
        .as_deref()
        .unwrap()
        .contains("/opt/homebrew/bin/brew install llama.cpp"));
    assert!(r
        .recommendations
        .iter()
        .any(|s| s.software.contains(&"llama-cpp".to_string())));
    let r = evaluate(&matrix(), &facts(&mac("aarch64")));
    assert_eq!(row(&r, "llama-cpp").status, Status::Ok);
    // The fix for the native build ("brew install llama.cpp") is not advice when it is installed.
    assert!(r.recommendations.is_empty(), "{:?}", r.recommendations);
}

fn linux_box(gpus: &str, packages: &str, imports: &str) -> String {
    format!(
        "schema: mlcompat.facts/1\nmachine: {{id: local, name: this machine, kind: live}}\nhost: {{os: linux, arch: aarch64, memory_gb: 128, glibc: '2.39'}}\ngpus: {gpus}\nnvidia: {{driver: 580.95.05, cuda_driver: '13.0'}}\npython: {{version: 3.12.3, arch: aarch64, packages: {packages}}}\nimports: {imports}\n"
    )
}

const GB10: &str =
    "[{vendor: nvidia, name: NVIDIA GB10, compute_capability: '12.1', unified_memory: true}]";

/// Case 6: a row is never better than what it needs: mlx-lm ❌ when `import mlx.core` fails, and the
/// message names the module that failed.
#[test]
fn a_row_is_never_better_than_what_it_needs() {
    let f = facts(&linux_box(
        GB10,
        "{mlx: 0.29.3, mlx-lm: 0.28.3, mlx-cuda: 0.29.3}",
        "{mlx.core: 'ImportError: libcublasLt.so.13: cannot open shared object file: No such file or directory', mlx_lm: 'ImportError: libcublasLt.so.13: cannot open shared object file: No such file or directory'}",
    ));
    let r = evaluate(&matrix(), &f);
    let mlx = row(&r, "mlx");
    assert_eq!(mlx.status, Status::Fail);
    assert!(
        mlx.reason.contains("`import mlx.core` failed"),
        "{}",
        mlx.reason
    );
    assert_eq!(row(&r, "mlx-lm").status, Status::Fail);
    // vLLM installed while torch is missing from the environment: ❌, it cannot work.
    let f = facts(&linux_box(GB10, "{vllm: 0.21.0}", "{}"));
    let r = evaluate(&matrix(), &f);
    let vllm = row(&r, "vllm");
    assert_eq!(
        (vllm.status, vllm.note.as_str()),
        (Status::Fail, "needs PyTorch, not installed")
    );
    // PEFT, Transformers, vLLM follow a failing torch.
    let f = facts(&linux_box(
        GB10,
        "{torch: 2.15.0+cu130, transformers: 4.57.1, peft: 0.17.1, vllm: 0.21.0}",
        "{torch: \"ImportError: libcudnn.so.9: cannot open shared object file\", transformers: ok, peft: ok, vllm: ok}",
    ));
    let r = evaluate(&matrix(), &f);
    for id in ["pytorch", "transformers", "peft", "vllm"] {
        assert_eq!(row(&r, id).status, Status::Fail, "{id}: {:?}", row(&r, id));
    }
    assert!(
        row(&r, "peft").note.starts_with("needs "),
        "{}",
        row(&r, "peft").note
    );
}

/// Case 7: a facts file full of unknowns does not end in "nothing to do", and is not a profile.
#[test]
fn rows_that_cannot_be_judged_say_which_fact_to_supply() {
    let f = facts("schema: mlcompat.facts/1\nmachine: {id: box, name: a box}\nhost: {os: linux, arch: x86_64}\ngpus: [{vendor: nvidia, name: NVIDIA H100 80GB HBM3}]\n");
    let r = evaluate(&matrix(), &f);
    let unjudged = r.rows.iter().filter(|x| x.missing_fact.is_some()).count();
    assert!(unjudged >= 5, "{unjudged}");
    assert_eq!(r.machine.origin, "facts");
    assert!(!r.recommendations.is_empty());
    assert!(r
        .recommendations
        .iter()
        .all(|s| s.text.contains("cannot be judged without `")));
    assert!(
        r.recommendations.iter().any(|s| s
            .text
            .contains("add `gpus[0].compute_capability` to the facts file")),
        "{:?}",
        r.recommendations
    );
}

/// Case 8: WSL2 — the driver is Windows', Docker Desktop passes the GPU.
#[test]
fn wsl2_is_its_own_platform() {
    let f = facts("schema: mlcompat.facts/1\nmachine: {id: local, name: this machine, kind: live}\nhost: {os: linux, arch: x86_64, kernel: 6.6.87.2-microsoft-standard-WSL2, wsl: true}\ngpus: [{vendor: nvidia, name: NVIDIA GeForce RTX 5090, compute_capability: '12.0', memory_gb: 34.2}]\nnvidia: {driver: '581.57', cuda_driver: '13.0'}\nbinaries: {docker: {path: /usr/bin/docker, version: 28.5.1}, nvidia-smi: {path: /usr/lib/wsl/lib/nvidia-smi}}\ndocker: {runtimes: [], source: no daemon.json and no nvidia-container-runtime-hook}\n");
    let r = evaluate(&matrix(), &f);
    let driver = row(&r, "nvidia-driver");
    assert_eq!(
        (driver.status, driver.rule.as_str()),
        (Status::Ok, "nvidia-driver-wsl")
    );
    assert!(driver
        .fix
        .as_deref()
        .unwrap()
        .contains("Update the driver on Windows"));
    let docker = row(&r, "nvidia-container-toolkit");
    assert_eq!(
        (docker.status, docker.rule.as_str()),
        (Status::Ok, "nvidia-container-toolkit-wsl")
    );
    assert_eq!(r.exit_code(), 0);
}

/// Case 9: torch's own warnings on import are facts, shown under its row; they never override the family
/// rules (a GB10 runs the sm_120 kernels although torch warns about sm_121).
#[test]
fn torch_warnings_are_kept_and_shown() {
    let warning = fixture("import-errors/torch-rtx5090-sm120-not-compatible-warning.txt");
    let warning = format!(
        "UserWarning: {}",
        warning.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let torch_report = |arch: &str| {
        format!("torch: {{version: 2.5.1+cu124, cuda: '12.4', cuda_available: true, device_count: 1, arch_list: [{arch}]}}
")
    };
    let mut f = facts(&(linux_box(
        "[{vendor: nvidia, name: NVIDIA GeForce RTX 5090, compute_capability: '12.0', memory_gb: 34.2}]",
        // PyPI's metadata carries no local tag; only torch itself says +cu124.
        "{torch: 2.5.1}",
        "{torch: ok}",
    ) + &torch_report("sm_50, sm_60, sm_70, sm_75, sm_80, sm_86, sm_90")));
    f.import_warnings
        .insert("torch".into(), vec![warning.clone()]);
    let r = evaluate(&matrix(), &f);
    let torch = row(&r, "pytorch");
    assert_eq!(
        (torch.status, torch.rule.as_str()),
        (Status::Fail, "pytorch-warns-gpu-not-compatible")
    );
    assert_eq!(torch.warnings, vec![warning.clone()]);
    let mut out = Vec::new();
    mlcompat::render::doctor_text(&r, mlcompat::render::Style::default(), true, &mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("warns: UserWarning: NVIDIA GeForce RTX 5090 with CUDA capability sm_120"));
    // GB10 with a cu130 torch: torch may warn about sm_121, but its sm_120 kernels run there.
    let mut f = facts(
        &(linux_box(GB10, "{torch: 2.15.0+cu130}", "{torch: ok}")
            + &torch_report("sm_80, sm_90, sm_100, sm_110, sm_120")),
    );
    f.import_warnings.insert(
        "torch".into(),
        vec![warning
            .replace("GeForce RTX 5090", "GB10")
            .replace("sm_120 is", "sm_121 is")],
    );
    let r = evaluate(&matrix(), &f);
    assert_eq!(row(&r, "pytorch").status, Status::Ok);
    assert_eq!(row(&r, "pytorch").warnings.len(), 1);
}

/// Exit status for CI gates: every reference profile exits 0 (hardware facts and absent software are
/// answers, not problems), unless `--require` names a row that fails there.
#[test]
fn reference_profiles_exit_0_unless_required_software_fails() {
    let m = matrix();
    for p in &m.profiles {
        let r = evaluate(&m, &p.facts);
        assert_eq!(r.exit_code(), 0, "{}: {:?}", p.id, r.summary.problems);
    }
    let mac = m.profile("mac-studio-m3-ultra").unwrap();
    let r = evaluate_request(
        &m,
        &mac.facts,
        &Request {
            required: vec!["tensorrt-llm".into()],
            strict: false,
        },
    );
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        r.summary.problems[0].why,
        "TensorRT-LLM is required and fails"
    );
    // Required and fine on a profile: nothing is installed there, which is not a problem.
    let r = evaluate_request(
        &m,
        &mac.facts,
        &Request {
            required: vec!["mlx".into()],
            strict: true,
        },
    );
    assert_eq!(r.exit_code(), 0);
}

/// End to end: a real venv whose torch (2.15.0, as PyPI's metadata lists it) fails to import the way the
/// recorded one did makes `doctor --deep` exit 1 with ❌ PyTorch and the missing dependency in the fix.
#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "test set-up runs python3 directly"
)]
fn doctor_deep_exits_1_for_a_torch_that_does_not_import() {
    let Ok(python) = which::which("python3") else {
        eprintln!("skipped: no python3 on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let venv = dir.path().join("venv");
    let ok = std::process::Command::new(&python)
        .args(["-m", "venv", "--without-pip", &venv.display().to_string()])
        .status()
        .expect("python runs");
    assert!(ok.success());
    let venv_python = venv.join("bin/python");
    let site = std::process::Command::new(&venv_python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("python runs");
    let site = std::path::PathBuf::from(String::from_utf8_lossy(&site.stdout).trim());
    std::fs::create_dir_all(site.join("torch-2.15.0.dist-info")).unwrap();
    std::fs::write(
        site.join("torch-2.15.0.dist-info/METADATA"),
        "Metadata-Version: 2.4\nName: torch\nVersion: 2.15.0\n",
    )
    .unwrap();
    std::fs::create_dir_all(site.join("torch")).unwrap();
    // What torch/__init__.py does first; typing_extensions is not installed in this venv.
    std::fs::write(site.join("torch/__init__.py"), "import typing_extensions\n").unwrap();
    let out = assert_cmd::Command::cargo_bin("mlcompat")
        .unwrap()
        .env("MLCOMPAT_CACHE_DIR", dir.path().join("cache"))
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(["doctor", "--deep", "--format", "json", "--python"])
        .arg(&venv_python)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let torch = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "pytorch")
        .unwrap()
        .clone();
    assert_eq!(torch["status"], "fail", "{torch}");
    assert_eq!(torch["rule"], "import-failed");
    assert!(
        torch["fix"]
            .as_str()
            .unwrap()
            .starts_with("pip install typing-extensions"),
        "{torch}"
    );
    assert_eq!(report["summary"]["problems"][0]["id"], "pytorch");
}
