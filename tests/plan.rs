//! `mlcompat install-plan` (issue 13): the resolver on every reference profile and on the machines that
//! trip people up — a DGX Spark (aarch64, sm_121, CUDA 13), an H100 on a 570 driver, an RTX 5090 under
//! WSL2, an Intel Mac, an M4 Mac with an x86_64 Python — and doctor's fixes, which come from it.

use std::path::Path;

use mlcompat::eval::evaluate;
use mlcompat::facts::load::facts_from_text;
use mlcompat::facts::Facts;
use mlcompat::matrix::{embedded, Matrix, Support};
use mlcompat::plan::{self, Installer, Plan, Request, Wanted};

fn matrix() -> Matrix {
    embedded().expect("the embedded matrix is valid")
}

fn fixture(name: &str) -> Facts {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/facts")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    facts_from_text(name, &text).expect("fixture is valid facts")
}

fn request(ids: &[&str]) -> Request {
    Request {
        wanted: ids.iter().map(|i| Wanted::parse(i).expect("id")).collect(),
        installer: Installer::Pip,
    }
}

fn plan_on(m: &Matrix, facts: &Facts, ids: &[&str]) -> Plan {
    plan::plan(m, facts, &request(ids))
}

fn profile(m: &Matrix, id: &str) -> Facts {
    m.profile(id).expect("profile").facts.clone()
}

fn version(p: &Plan, id: &str) -> String {
    p.resolved
        .get(id)
        .map(|r| format!("{} {}", r.version, r.variant))
        .unwrap_or_else(|| panic!("{id} not resolved: {p:#?}"))
}

fn first(p: &Plan) -> &str {
    &p.steps.first().expect("a step").command
}

fn text(p: &Plan) -> String {
    serde_json::to_string(p).expect("serializes")
}

#[test]
fn every_project_on_every_profile_gets_a_plan_or_its_reasons() {
    let m = matrix();
    let ids: Vec<String> = m.releases.projects.iter().map(|p| p.id.clone()).collect();
    assert!(ids.len() >= 14, "{ids:?}");
    for p in &m.profiles {
        for id in &ids {
            let plan = plan_on(&m, &p.facts, &[id]);
            let context = format!("{id} on {}", p.id);
            if let Some(n) = plan.not_planned.iter().find(|n| n.id == *id) {
                // No build in the release data for this platform, which the project does not rule out.
                assert!(n.why.contains("no build of"), "{context}: {n:?}");
                assert!(
                    plan.steps.is_empty() && plan.blockers.is_empty(),
                    "{context}"
                );
                continue;
            }
            if plan.possible {
                assert!(plan.resolved.contains_key(id), "{context}");
                assert!(plan.blockers.is_empty(), "{context}");
                let last = plan.steps.last().expect("steps");
                assert_eq!(last.kind, "check", "{context}");
                assert!(last.command.starts_with("mlcompat doctor"), "{context}");
                for s in &plan.steps {
                    assert!(
                        !s.command.contains('{'),
                        "{context}: placeholder left in {}",
                        s.command
                    );
                    assert!(!s.command.contains("<arch>"), "{context}: {}", s.command);
                    assert!(
                        !s.source.is_empty() || s.kind == "check",
                        "{context}: {s:?}"
                    );
                    if s.kind == "pip" {
                        assert!(s.command.starts_with("pip install "), "{context}");
                        // Pinned: `name==version`, or a wheel's URL, whose file name is the version.
                        assert!(
                            s.command.contains("==") || s.command.contains(".whl"),
                            "{context}: pinned: {}",
                            s.command
                        );
                    }
                }
            } else {
                assert!(!plan.blockers.is_empty(), "{context}: no reason given");
                for b in &plan.blockers {
                    assert!(
                        b.source.len() > 10,
                        "{context}: blocker without source: {b:?}"
                    );
                }
                assert!(plan.steps.is_empty(), "{context}");
            }
        }
    }
}

#[test]
fn dgx_spark_gets_cuda_13_aarch64_builds_with_sm_120_code() {
    let m = matrix();
    let spark = profile(&m, "dgx-spark");
    let torch = plan_on(&m, &spark, &["pytorch"]);
    assert_eq!(version(&torch, "pytorch"), "2.15.0 cu132");
    assert_eq!(first(&torch), "pip install torch==2.15.0");
    assert!(torch.preconditions.is_empty());
    assert!(
        text(&torch).contains("minor-version compatibility"),
        "CUDA 13.2 on a 13.0 driver is said: {}",
        text(&torch)
    );
    let vllm = plan_on(&m, &spark, &["vllm"]);
    assert_eq!(version(&vllm, "vllm"), "0.33.0 cu130");
    assert_eq!(version(&vllm, "pytorch"), "2.14.0 cu130");
    assert_eq!(first(&vllm), "pip install torch==2.14.0 vllm==0.33.0");
    assert!(!vllm.resolved["pytorch"].requested);
    let check = vllm.steps.last().expect("check");
    assert_eq!(
        check.command,
        "mlcompat doctor --deep --require vllm,pytorch"
    );
    // No aarch64 wheel for FlashAttention 2: a source build for this GPU, with this machine's jobs.
    let fa = plan_on(&m, &spark, &["flash-attention"]);
    let build = fa.steps.iter().find(|s| s.kind == "build").expect("build");
    assert!(
        build.command.contains("FLASH_ATTN_CUDA_ARCHS=120"),
        "{}",
        build.command
    );
    assert!(build.command.contains("MAX_JOBS=6"), "{}", build.command);
    assert!(build.command.contains("--no-build-isolation"));
    assert!(build.why.contains("expected build time"), "{}", build.why);
    assert_eq!(fa.steps[0].command, "pip install torch==2.15.0");
    // SGLang: the aarch64 wheel, whose kernels carry sm_121a; LMSYS's Spark image is offered too.
    let sgl = plan_on(&m, &spark, &["sglang"]);
    assert_eq!(version(&sgl, "sglang"), "0.5.23 cu130");
    assert!(text(&sgl).contains("lmsysorg/sglang:spark"));
    // TensorRT-LLM: the NGC container.
    let trt = plan_on(&m, &spark, &["tensorrt-llm"]);
    assert_eq!(trt.steps[0].kind, "image");
    assert!(first(&trt).contains("nvcr.io/nvidia/tensorrt-llm/release:1.2.1"));
}

#[test]
fn a_pending_reboot_comes_first() {
    let m = matrix();
    let p = plan_on(&m, &fixture("plan/spark-reboot-pending.yaml"), &["vllm"]);
    assert!(p.possible);
    assert_eq!(p.preconditions[0].kind, "reboot");
    assert!(first(&p).starts_with("sudo reboot"), "{}", first(&p));
    // Not for software that does not use the NVIDIA driver.
    let p = plan_on(
        &m,
        &fixture("plan/spark-reboot-pending.yaml"),
        &["llama-cpp"],
    );
    assert_eq!(p.preconditions.first().map(|p| p.kind), Some("reboot"));
}

#[test]
fn h100_on_a_570_driver_gets_the_last_cuda_12_vllm_and_the_upgrade_that_buys_the_newest() {
    let m = matrix();
    let h100 = fixture("plan/h100-driver-570.yaml");
    let p = plan_on(&m, &h100, &["vllm"]);
    assert!(p.possible && p.preconditions.is_empty(), "{p:#?}");
    assert_eq!(version(&p, "vllm"), "0.19.1 cu128");
    assert_eq!(version(&p, "pytorch"), "2.10.0 cu128");
    assert_eq!(first(&p), "pip install torch==2.10.0 vllm==0.19.1");
    let hint = &p.alternatives[0].text;
    assert!(
        hint.contains("580.65.06") && hint.contains("vllm 0.33.0"),
        "{hint}"
    );
    // Asking for the newest anyway: the driver upgrade is the first step.
    let p = plan_on(&m, &h100, &["vllm==0.33.0"]);
    assert!(p.possible);
    assert_eq!(p.preconditions[0].kind, "driver");
    assert!(p.preconditions[0].need.contains("580.65.06"));
    assert_eq!(p.steps[0].kind, "driver");
    assert!(p.steps[0].command.contains("580"), "{}", p.steps[0].command);
    // torch alone: the newest build whose CUDA this driver runs, from PyTorch's own index.
    let p = plan_on(&m, &h100, &["pytorch"]);
    assert_eq!(version(&p, "pytorch"), "2.14.1 cu126");
    assert!(first(&p).ends_with("--index-url https://download.pytorch.org/whl/cu126"));
    assert!(text(&p).contains("could not check"), "{}", text(&p));
}

#[test]
fn rtx_5090_under_wsl2_uses_the_windows_driver() {
    let m = matrix();
    let p = plan_on(&m, &fixture("plan/rtx5090-wsl2.yaml"), &["vllm"]);
    assert_eq!(version(&p, "vllm"), "0.33.0 cu130");
    assert!(p.preconditions.is_empty());
    // An old Windows driver (566.36, CUDA 12.7) does not know Blackwell, which came with CUDA 12.8
    // (R570): no build runs until the Windows driver is updated, minor-version compatibility or not —
    // as doctor says ("driver too old for Blackwell").
    let old = fixture("plan/rtx5090-wsl2-old-driver.yaml");
    for ask in [&["pytorch"][..], &["pytorch", "vllm"][..]] {
        let p = plan_on(&m, &old, ask);
        assert_eq!(p.steps[0].kind, "driver", "{ask:?}: {}", text(&p));
        assert!(!p.preconditions.is_empty(), "{ask:?}: not ready as it is");
    }
    let report = evaluate(&m, &old);
    let torch = report.rows.iter().find(|r| r.id == "pytorch").expect("row");
    assert_eq!(torch.note, "driver too old for Blackwell");
    let p = plan_on(&m, &old, &["vllm==0.33.0"]);
    assert_eq!(p.steps[0].kind, "driver");
    assert!(
        p.steps[0].command.contains("Windows") && !p.steps[0].command.contains("apt"),
        "{}",
        p.steps[0].command
    );
}

#[test]
fn an_intel_mac_gets_the_last_intel_torch_and_no_mlx() {
    let m = matrix();
    let mac = fixture("plan/intel-mac.yaml");
    let p = plan_on(&m, &mac, &["pytorch"]);
    assert_eq!(version(&p, "pytorch"), "2.2.2 cpu");
    let p = plan_on(&m, &mac, &["mlx"]);
    assert!(!p.possible);
    assert!(p.blockers[0].constraint.contains("macos-x86_64"), "{p:#?}");
    assert!(
        p.alternatives.iter().any(|a| a.ids == ["llama-cpp"]),
        "{p:#?}"
    );
    let p = plan_on(&m, &mac, &["tensorrt-llm"]);
    assert!(!p.possible);
    assert!(p.blockers[0]
        .source
        .contains("nvidia.github.io/TensorRT-LLM"));
}

#[test]
fn an_m4_mac_with_an_x86_64_python_first_gets_a_native_python() {
    let m = matrix();
    let p = plan_on(&m, &fixture("plan/m4-rosetta-python.yaml"), &["mlx-lm"]);
    assert!(p.possible);
    assert_eq!(p.preconditions[0].kind, "python");
    assert!(
        p.steps[0].command.contains("native arm64 Python"),
        "{}",
        p.steps[0].command
    );
    assert_eq!(version(&p, "mlx-lm"), "0.32.2 metal");
    assert_eq!(version(&p, "mlx"), "0.32.4 metal");
}

#[test]
fn a_python_outside_every_wheel_is_a_precondition_or_an_older_release() {
    let m = matrix();
    let spark310 = fixture("plan/spark-python310.yaml");
    // JAX 0.12 needs 3.12 and 0.10.2 needs 3.11: nothing for 3.10, so a new environment first.
    let p = plan_on(&m, &spark310, &["jax"]);
    assert!(p.possible);
    assert_eq!(p.preconditions[0].kind, "python");
    assert!(
        p.steps[0].command.starts_with("uv venv --python 3.12"),
        "{}",
        p.steps[0].command
    );
    assert_eq!(version(&p, "jax"), "0.12.0.1 cuda13");
    // torch 2.14.1 still has 3.10 wheels: no precondition, and the newer release is named.
    let p = plan_on(&m, &spark310, &["pytorch"]);
    assert_eq!(version(&p, "pytorch"), "2.14.1 cu130");
    assert!(p.alternatives[0].text.contains("Python"), "{p:#?}");
    // torch 2.15.0 is installed in a 3.10 environment? No: the fixture's torch is kept or replaced.
    assert!(first(&p).starts_with("pip install torch==2.14.1"));
}

#[test]
fn impossible_requests_name_each_constraint_and_the_nearest_alternatives() {
    let m = matrix();
    let mac = profile(&m, "mac-studio-m3-ultra");
    let p = plan_on(&m, &mac, &["tensorrt-llm"]);
    assert!(!p.possible);
    assert!(p.blockers[0].constraint.contains("macos-arm64"));
    let alts: Vec<&str> = p
        .alternatives
        .iter()
        .flat_map(|a| a.ids.iter())
        .map(String::as_str)
        .collect();
    assert!(
        alts.contains(&"llama-cpp") && alts.contains(&"mlx-lm"),
        "{alts:?}"
    );
    // An RTX 5090 (CC 12.0) is not on TensorRT-LLM's supported list, but the x86_64 release container
    // carries 12.x family code: the plan is the container, and says NVIDIA does not test the card.
    let p = plan_on(&m, &profile(&m, "rtx-5090"), &["tensorrt-llm"]);
    assert!(p.possible, "{p:#?}");
    assert_eq!(p.steps[0].kind, "image");
    assert!(text(&p).contains("community support"), "{}", text(&p));
    // Jetson Thor (CC 11.0): no TensorRT-LLM build has code for it; the alternatives are named.
    let p = plan_on(&m, &profile(&m, "jetson-agx-thor"), &["tensorrt-llm"]);
    assert!(!p.possible);
    assert!(p.blockers[0].constraint.contains("CC 11.0"), "{p:#?}");
    assert!(p.alternatives.iter().any(|a| a.ids == ["vllm"]), "{p:#?}");
    // Jetson Thor (CC 11.0): FlashAttention 2 builds for 80/90/100/120 only.
    let p = plan_on(&m, &profile(&m, "jetson-agx-thor"), &["flash-attention"]);
    assert!(!p.possible);
    assert!(p.blockers[0].constraint.contains("CC 11.0"), "{p:#?}");
}

#[test]
fn pins_between_packages_hold() {
    let m = matrix();
    let spark = profile(&m, "dgx-spark");
    // vLLM 0.33.0 pins torch 2.14.0, SGLang 0.5.23 pins 2.14.1: one environment cannot hold both
    // newest releases, so one of them runs from its container (which brings its own torch).
    for machine in [&spark, &profile(&m, "h100-sxm")] {
        let p = plan_on(&m, machine, &["vllm", "sglang"]);
        assert!(p.possible, "{p:#?}");
        let methods = [p.resolved["vllm"].method, p.resolved["sglang"].method];
        assert!(methods.contains(&"image"), "{methods:?}");
        let torch = &p.resolved["pytorch"].version;
        let pip = p.steps.iter().find(|s| s.kind == "pip").expect("pip step");
        assert!(
            pip.command.contains(&format!("torch=={torch}")),
            "{}",
            pip.command
        );
    }
    // Unsloth pins torch below 2.15, and brings bitsandbytes, built for torch's CUDA — and on x86_64
    // xformers' CUDA 12 wheel, so that torch is a CUDA 12 build.
    let p = plan_on(&m, &profile(&m, "h100-sxm"), &["unsloth"]);
    assert_eq!(version(&p, "pytorch"), "2.14.1 cu126");
    assert_eq!(version(&p, "bitsandbytes"), "0.50.2 cu126");
    // xFormers' PyPI wheel loads libcudart.so.12: it pairs with a CUDA 12 torch — on Blackwell the
    // last cu128 one (2.11.0), on Ampere the newest cu126 one.
    let p = plan_on(&m, &profile(&m, "rtx-5090"), &["xformers"]);
    assert_eq!(version(&p, "xformers"), "0.0.35 cu12");
    assert_eq!(version(&p, "pytorch"), "2.11.0 cu128");
    // With bitsandbytes too, the torch build both accept is the newest one, not the one
    // bitsandbytes' first-listed build would pick.
    let p = plan_on(
        &m,
        &profile(&m, "rtx-3090"),
        &["pytorch", "xformers", "bitsandbytes"],
    );
    assert_eq!(version(&p, "pytorch"), "2.14.1 cu126");
    assert_eq!(version(&p, "bitsandbytes"), "0.50.2 cu126");
    assert_eq!(version(&p, "xformers"), "0.0.35 cu12");
}

#[test]
fn what_is_installed_is_not_installed_again() {
    let m = matrix();
    // The real environment /work/venvs/torchcuda (torch 2.15.0 from PyPI, a CUDA build) on a GPU-less
    // box: the plan for this machine is the CPU build, in a fresh environment (pip over the CUDA build
    // would leave its nvidia-* and triton wheels), and doctor's fix is that same step.
    let facts = fixture("cpu-box-torch-2.15.0-cu132-deep.json");
    let p = plan_on(&m, &facts, &["pytorch"]);
    assert_eq!(p.steps.len(), 2, "{p:#?}");
    assert_eq!(
        first(&p),
        "python3 -m venv .venv-cpu && .venv-cpu/bin/pip install torch==2.15.0+cpu --index-url https://download.pytorch.org/whl/cpu"
    );
    assert_eq!(
        p.steps[1].command,
        "mlcompat doctor --deep --python .venv-cpu/bin/python --require pytorch"
    );
    let report = evaluate(&m, &facts);
    let row = report.rows.iter().find(|r| r.id == "pytorch").expect("row");
    assert_eq!(row.fix.as_deref(), Some(first(&p)));
    // A CPU torch already installed there is kept.
    let cpu_box =
        "schema: mlcompat.facts/1\nhost: {os: linux, arch: x86_64, glibc: '2.36'}\ngpus: []\n\
        python: {version: 3.11.7, arch: x86_64, packages: {torch: 2.15.0+cpu}}\n";
    let p = plan_on(
        &m,
        &facts_from_text("cpu.yaml", cpu_box).expect("facts"),
        &["pytorch"],
    );
    assert_eq!(p.steps.len(), 1, "{p:#?}");
    assert!(text(&p).contains("already installed"));
    // A CPU-only torch of the same release on an NVIDIA box is replaced, not kept by pip.
    let gb10 = "schema: mlcompat.facts/1\nhost: {os: linux, arch: aarch64, glibc: '2.39'}\n\
        gpus: [{vendor: nvidia, name: NVIDIA GB10, compute_capability: '12.1'}]\n\
        nvidia: {driver: 580.95.05, cuda_driver: '13.0'}\n\
        python: {version: 3.12.3, arch: aarch64, packages: {torch: 2.15.0+cpu}}\n";
    let facts = facts_from_text("gb10.yaml", gb10).expect("facts");
    let p = plan_on(&m, &facts, &["pytorch"]);
    assert_eq!(first(&p), "pip install torch==2.15.0 --force-reinstall");
    let report = evaluate(&m, &facts);
    let row = report.rows.iter().find(|r| r.id == "pytorch").expect("row");
    assert_eq!(row.fix.as_deref(), Some(first(&p)));
}

#[test]
fn uv_gets_uv_commands() {
    let m = matrix();
    let mut req = request(&["vllm"]);
    req.installer = Installer::Uv;
    let p = plan::plan(&m, &profile(&m, "h100-sxm"), &req);
    assert_eq!(first(&p), "uv pip install torch==2.14.0 vllm==0.33.0");
}

/// Doctor's fix for every row the release data covers is the first step of `install-plan ID`, on
/// every profile and every tricky machine, wherever the plan fits and computes on the side of the
/// machine the rule speaks of; elsewhere the rule keeps its own advice.
#[test]
fn doctor_fixes_agree_with_install_plan() {
    let m = matrix();
    let mut machines: Vec<(String, Facts)> = m
        .profiles
        .iter()
        .map(|p| (p.id.clone(), p.facts.clone()))
        .collect();
    for f in [
        "h100-driver-570",
        "rtx5090-wsl2",
        "rtx5090-wsl2-old-driver",
        "intel-mac",
        "m4-rosetta-python",
        "spark-reboot-pending",
        "spark-python310",
    ] {
        machines.push((f.to_string(), fixture(&format!("plan/{f}.yaml"))));
    }
    let mut agreed = 0;
    for (name, facts) in &machines {
        let report = evaluate(&m, facts);
        for row in &report.rows {
            if m.releases.project(&row.id).is_none()
                || row.rule.starts_with("requires-")
                || row.rule == "import-failed"
                || row.missing_fact.is_some()
                || row.support == Support::No
                || row.fix.is_none()
                // A known failure whose fix is a setting, not an installation, keeps its own words.
                || row
                    .failure
                    .as_deref()
                    .and_then(|id| m.failures.get(id))
                    .is_some_and(|f| {
                        matches!(f.fix, mlcompat::matrix::failures::FailureFix::Text(_))
                    })
            {
                continue;
            }
            let Some(expected) = plan::fix_for(&m, facts, &row.id, row.runs_on) else {
                continue;
            };
            let p = plan_on(&m, facts, &[&row.id]);
            assert!(
                expected.starts_with(first(&p)),
                "{} on {name}: fix {expected:?} vs first step {:?}",
                row.id,
                first(&p)
            );
            assert_eq!(
                row.fix.as_deref(),
                Some(expected.as_str()),
                "{} on {name} (rule {})",
                row.id,
                row.rule
            );
            agreed += 1;
        }
    }
    assert!(agreed > 100, "only {agreed} rows compared");
}

fn mlcompat() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("NO_COLOR", "1")
        .env("LANG", "C.UTF-8")
        .env("MLCOMPAT_NO_CACHE", "1");
    cmd
}

#[test]
fn the_command_line_exits_0_1_2_and_prints_the_plan_schema() {
    let out = mlcompat()
        .args([
            "install-plan",
            "vllm",
            "--profile",
            "dgx-spark",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["schema"], "mlcompat.plan/1");
    assert_eq!(json["possible"], true);
    assert_eq!(json["resolved"]["vllm"]["version"], "0.33.0");
    assert_eq!(json["resolved"]["vllm"]["cuda"], "13.0");
    for step in json["steps"].as_array().expect("steps") {
        for key in ["kind", "command", "why", "source"] {
            assert!(step[key].is_string(), "{key} in {step}");
        }
    }
    assert!(json["blockers"].as_array().expect("blockers").is_empty());
    // Nothing fits: exit 1, with the blockers.
    let out = mlcompat()
        .args([
            "install-plan",
            "tensorrt-llm",
            "--profile",
            "macbook-pro-m4-max",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Why not"));
    // Software the matrix judges but has no release data for is not planned — which is not impossible
    // (exit 0), and says how it is installed as usual.
    let out = mlcompat()
        .args([
            "install-plan",
            "transformers",
            "peft",
            "--profile",
            "dgx-spark",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not planned here"), "{stdout}");
    assert!(
        stdout.contains("no release data for `transformers`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Installed as usual: pip install"),
        "{stdout}"
    );
    // Bad input: exit 2, one line.
    for (args, needle) in [
        (
            vec!["install-plan", "vlm", "--profile", "dgx-spark"],
            "unknown software `vlm`",
        ),
        (
            vec!["install-plan", "vllm==x.y", "--profile", "dgx-spark"],
            "invalid version range",
        ),
        (
            vec!["install-plan", "vllm", "--profile", "nope"],
            "unknown profile `nope`",
        ),
    ] {
        let out = mlcompat().args(&args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    // Names work too, and --installer uv.
    let out = mlcompat()
        .args([
            "install-plan",
            "vLLM",
            "--profile",
            "h100-sxm",
            "--installer",
            "uv",
        ])
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("uv pip install torch==2.14.0 vllm==0.33.0")
    );
}

#[test]
fn broken_release_data_is_reported_with_positions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix");
    std::fs::copy(root.join("software.yaml"), dir.path().join("software.yaml")).expect("copy");
    let releases = dir.path().join("releases");
    std::fs::create_dir(&releases).expect("mkdir");
    for f in ["cuda.yaml", "pytorch.yaml"] {
        std::fs::copy(root.join("releases").join(f), releases.join(f)).expect("copy");
    }
    let vllm = std::fs::read_to_string(root.join("releases/vllm.yaml")).expect("vllm.yaml");
    let broken = vllm
        // Both in the first build, so the second still loads and its pin is checked.
        .replacen("checked: 2026-12-04", "checked: yesterday", 1)
        .replacen("sass: [sm_75,", "sass: [sm75,", 1)
        .replace("version: \"==2.14.0\"", "version: \"==2.99.0\"");
    std::fs::write(releases.join("vllm.yaml"), broken).expect("write");
    let out = mlcompat()
        .args(["matrix", "validate", &dir.path().display().to_string()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "`checked` must be a date YYYY-MM-DD, found `yesterday`",
        "`sm75` is not a real architecture",
        "`requires` pytorch ==2.99.0: no release of it in its file matches",
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` in {stderr}"));
        let rest = line.strip_prefix("error: ").expect("error line");
        let parts: Vec<&str> = rest.splitn(4, ':').collect();
        assert!(parts[0].ends_with("releases/vllm.yaml"), "{line}");
        assert!(
            parts[1].parse::<u32>().is_ok() && parts[2].parse::<u32>().is_ok(),
            "{line}"
        );
    }
    assert!(!stderr.contains("panicked"));
}

#[test]
fn llama_cpp_builds_on_every_core_and_leaves_its_programs_on_path() {
    // The "one nvcc job per 20 GB" rule is FlashAttention's; llama.cpp's build is not held to it, and
    // its check step finds llama-cli only if the build's bin folder is on PATH.
    let m = matrix();
    for id in ["rtx-4090", "linux-cpu-only"] {
        let facts = profile(&m, id);
        let p = plan_on(&m, &facts, &["llama-cpp"]);
        let build = p
            .steps
            .iter()
            .find(|s| s.kind == "build")
            .unwrap_or_else(|| panic!("{id}: {}", text(&p)));
        let cores = facts.host.cpu_cores.expect("the profile says");
        assert!(
            build.command.contains(&format!("-j {cores} ")),
            "{id}: {}",
            build.command
        );
        assert!(
            build
                .command
                .ends_with("&& export PATH=\"$PWD/build/bin:$PATH\""),
            "{id}: {}",
            build.command
        );
    }
}

#[test]
fn unsloth_on_x86_64_never_pairs_the_cuda_12_xformers_with_a_cuda_13_torch() {
    // pip pulls xformers 0.0.35 with Unsloth on Linux x86_64; that wheel loads libcudart.so.12, so a
    // CUDA 13 torch beside it fails with "OSError: libcudart.so.12: cannot open shared object file".
    let m = matrix();
    for p in &m.profiles {
        let x86_nvidia = p.facts.host.arch == Some(mlcompat::facts::Arch::X86_64)
            && p.facts.host.os == Some(mlcompat::facts::Os::Linux)
            && p.facts
                .primary_gpu()
                .is_some_and(|g| g.vendor == mlcompat::facts::Vendor::Nvidia);
        if !x86_nvidia {
            continue;
        }
        let plan = plan_on(&m, &p.facts, &["unsloth"]);
        if !plan.possible {
            continue;
        }
        let torch = plan.resolved.get("pytorch").expect("unsloth pins torch");
        assert!(
            torch.cuda.as_deref().is_some_and(|c| c.starts_with("12.")),
            "{}: torch {} {} beside xformers' CUDA 12 wheel",
            p.id,
            torch.version,
            torch.variant
        );
        assert_eq!(
            plan.resolved.get("xformers").map(|x| x.variant.as_str()),
            Some("cu12"),
            "{}",
            p.id
        );
    }
}

#[test]
fn a_glibc_floor_comes_from_the_resolved_dependencies_not_the_top_wheel() {
    // vLLM 0.33.0's wheel is manylinux_2_28, but pip resolves llguidance 1.7.x with it, whose wheels
    // are manylinux_2_31 only: on RHEL 8 (glibc 2.28) the pip install fails, the container does not.
    let m = matrix();
    let rhel8 = fixture("plan/h100-rhel8.yaml");
    let p = plan_on(&m, &rhel8, &["vllm==0.33.0"]);
    assert!(p.possible, "{}", text(&p));
    assert_ne!(p.resolved["vllm"].method, "pip", "{}", text(&p));
    // With glibc 2.31 the wheel fits again.
    let mut newer = rhel8.clone();
    newer.host.glibc = Some("2.31".parse().expect("version"));
    let p = plan_on(&m, &newer, &["vllm==0.33.0"]);
    assert_eq!(p.resolved["vllm"].method, "pip", "{}", text(&p));
}

#[test]
fn onnx_runtime_on_a_cuda_12_driver_gets_the_cuda_12_gpu_package_not_the_cpu_one() {
    let m = matrix();
    let p = plan_on(&m, &fixture("plan/h100-driver-570.yaml"), &["onnxruntime"]);
    assert_eq!(version(&p, "onnxruntime"), "1.26.0 cuda12");
    assert!(p.preconditions.is_empty(), "{}", text(&p));
    assert!(first(&p).starts_with("pip install 'onnxruntime-gpu[cuda,cudnn]==1.26.0'"));
    // Where only a CPU build fits a machine with a GPU, the plan says so and why.
    let p = plan_on(&m, &profile(&m, "strix-halo"), &["onnxruntime"]);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("runs on the CPU here, not on")),
        "{}",
        text(&p)
    );
}
