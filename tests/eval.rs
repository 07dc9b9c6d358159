//! The evaluator on fixture facts: three-valued rules, environment facts, interpolation, installs and
//! recommendations — the pure core, no process, no probe.

use mlcompat::eval::{evaluate, evaluate_request, Request};
use mlcompat::facts::load::facts_from_text;
use mlcompat::matrix::{from_files, Matrix, Status, Support};
use mlcompat::report::Report;

const MATRIX: &str = r#"
schema: mlcompat.matrix/1
categories:
  - { id: frameworks, title: Frameworks }
  - { id: kernels, title: Kernels }
software:
  - id: torchlike
    name: TorchLike
    category: frameworks
    detect: { python: [torch] }
    rules:
      - id: torchlike-cpu-wheel
        when: { all: [ {fact: gpu.vendor, is: nvidia}, {fact: package.torch, contains: "+cpu"} ] }
        status: fail
        support: yes
        note: CPU-only wheel
        reason: "torch {package.torch} is a CPU-only build, but this machine has {gpu.name}."
        fix: pip install torch --index-url https://download.pytorch.org/whl/cu130
        source: https://pytorch.org/get-started/locally/
        checked: 2026-11-24
      - id: torchlike-old-driver
        when: { all: [ {fact: gpu.vendor, is: nvidia}, {fact: nvidia.driver, below: "570.26"} ] }
        status: warn
        note: driver too old for cu128
        reason: "Driver {nvidia.driver} is older than 570.26."
        fix: Update the NVIDIA driver.
        source: https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
        checked: 2026-11-24
      - id: torchlike-ok
        status: ok
        note: works
        reason: Works on {os}.
        source: https://pytorch.org/
        checked: 2026-11-24
  - id: fa
    name: FA
    category: kernels
    detect: { python: [flash-attn] }
    rules:
      - id: fa-not-nvidia
        when: { fact: gpu.vendor, not_in: [nvidia] }
        status: fail
        note: CUDA-only
        reason: CUDA-only.
        fix: Use SDPA.
        source: https://github.com/Dao-AILab/flash-attention
        checked: 2026-11-24
      - id: fa-old-gpu
        when: { fact: gpu.compute_capability, below: "8.0" }
        status: fail
        note: needs Ampere
        reason: "CC {gpu.compute_capability} is below 8.0."
        fix: Use SDPA.
        source: https://github.com/Dao-AILab/flash-attention
        checked: 2026-11-24
      - id: fa-ok
        status: ok
        note: FA2
        reason: Supported.
        source: https://github.com/Dao-AILab/flash-attention
        checked: 2026-11-24
"#;

fn matrix() -> Matrix {
    from_files(&[("matrix/software.yaml".into(), MATRIX.into())]).expect("fixture matrix is valid")
}

fn report(facts: &str) -> Report {
    evaluate(
        &matrix(),
        &facts_from_text("facts.yaml", facts).expect("fixture facts are valid"),
    )
}

fn row<'a>(r: &'a Report, id: &str) -> &'a mlcompat::report::Row {
    r.rows.iter().find(|row| row.id == id).expect("row exists")
}

const NVIDIA_BOX: &str = "schema: mlcompat.facts/1\nhost: {os: linux, arch: x86_64}\ngpus: [{vendor: nvidia, name: NVIDIA GeForce RTX 4090, compute_capability: '8.9'}]\nnvidia: {driver: 580.95.05, cuda_driver: '13.0'}\n";

#[test]
fn a_cpu_only_torch_on_an_nvidia_box_fails_with_its_fix() {
    let r = report(&format!(
        "{NVIDIA_BOX}python: {{version: 3.12.3, packages: {{torch: 2.9.0+cpu}}}}\n"
    ));
    let torch = row(&r, "torchlike");
    assert_eq!(torch.status, Status::Fail);
    assert_eq!(torch.support, Support::Yes);
    assert_eq!(torch.installed.as_deref(), Some("2.9.0+cpu"));
    assert_eq!(
        torch.reason,
        "torch 2.9.0+cpu is a CPU-only build, but this machine has NVIDIA GeForce RTX 4090."
    );
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.summary.problems[0].id, "torchlike");
    assert_eq!(
        r.recommendations[0].text,
        "TorchLike: pip install torch --index-url https://download.pytorch.org/whl/cu130"
    );
}

#[test]
fn environment_facts_unknown_skip_the_rule() {
    // A reference profile has no Python: the install rule is skipped, the platform rules decide.
    let r = report(NVIDIA_BOX);
    let torch = row(&r, "torchlike");
    assert_eq!(torch.status, Status::Ok);
    assert_eq!(torch.reason, "Works on linux.");
    assert_eq!(torch.installed, None);
}

#[test]
fn driver_versions_compare_numerically() {
    let r = report(&NVIDIA_BOX.replace("580.95.05", "560.35.03"));
    assert_eq!(row(&r, "torchlike").status, Status::Warn);
    assert_eq!(
        row(&r, "torchlike").reason,
        "Driver 560.35.03 is older than 570.26."
    );
    let r = report(&NVIDIA_BOX.replace("580.95.05", "570.26"));
    assert_eq!(row(&r, "torchlike").status, Status::Ok);
}

#[test]
fn a_platform_fact_unknown_says_so_instead_of_guessing() {
    let r = report(
        "schema: mlcompat.facts/1\nhost: {os: linux}\nfailed: {gpus: NVML library not found}\n",
    );
    let fa = row(&r, "fa");
    assert_eq!(fa.status, Status::Warn);
    assert_eq!(fa.support, Support::Unknown);
    assert!(
        fa.reason
            .contains("`gpu.vendor` is unknown (GPUs unknown: NVML library not found)"),
        "{}",
        fa.reason
    );
    // The row cannot be judged, so the next steps say which fact would let it be.
    let step = r
        .recommendations
        .iter()
        .find(|rec| rec.software.contains(&"fa".to_string()))
        .expect("a step for the unjudged row");
    assert!(
        step.text.starts_with("TorchLike and FA cannot be judged without `gpu.vendor`: Run `mlcompat probe > facts.json` on that machine, or add `gpus` to the facts file."),
        "{}",
        step.text
    );
    assert_eq!(
        r.machine.origin, "facts",
        "a facts file without machine.kind is not a profile"
    );
    assert_eq!(r.exit_code(), 0, "an unjudged row is not a problem");
}

#[test]
fn three_valued_logic_decides_when_the_known_part_settles_it() {
    // On a Mac the driver is unknown, but `gpu.vendor is nvidia` is false, so the rule is simply false.
    let r = report("schema: mlcompat.facts/1\nhost: {os: macos, arch: aarch64}\ngpus: [{vendor: apple, name: Apple M3 Ultra, unified_memory: true}]\n");
    assert_eq!(row(&r, "torchlike").status, Status::Ok);
    assert_eq!(row(&r, "fa").status, Status::Fail);
    assert_eq!(row(&r, "fa").rule, "fa-not-nvidia");
}

#[test]
fn compute_capability_thresholds() {
    let r = report(&NVIDIA_BOX.replace("'8.9'", "'7.5'"));
    assert_eq!(row(&r, "fa").rule, "fa-old-gpu");
    assert_eq!(row(&r, "fa").reason, "CC 7.5 is below 8.0.");
    let r = report(&NVIDIA_BOX.replace("'8.9'", "'12.1'"));
    assert_eq!(row(&r, "fa").rule, "fa-ok");
}

#[test]
fn only_installed_or_required_software_is_a_next_step() {
    // FA fails on a GPU-less box, but it is not installed and nobody asked for it: not a step, exit 0.
    let r =
        report("schema: mlcompat.facts/1\nhost: {os: linux}\ngpus: []\npython: {packages: {}}\n");
    assert_eq!(row(&r, "fa").status, Status::Fail);
    assert!(r.recommendations.is_empty(), "{:?}", r.recommendations);
    assert_eq!((r.summary.ok, r.summary.warn, r.summary.fail), (1, 0, 1));
    assert_eq!(r.exit_code(), 0);
    // Installed, it is both: the exit status fails and the fix comes first.
    let r = report("schema: mlcompat.facts/1\nhost: {os: linux}\ngpus: []\npython: {packages: {flash-attn: 2.8.3}}\n");
    let texts: Vec<&str> = r.recommendations.iter().map(|x| x.text.as_str()).collect();
    assert_eq!(texts, vec!["FA: Use SDPA."]);
    assert_eq!(r.exit_code(), 1);
    // Required, it is a problem too, installed or not.
    let facts = facts_from_text(
        "f.yaml",
        "schema: mlcompat.facts/1\nhost: {os: linux}\ngpus: []\npython: {packages: {}}\n",
    )
    .unwrap();
    let request = Request {
        required: vec!["fa".into()],
        strict: false,
    };
    let r = evaluate_request(&matrix(), &facts, &request);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.summary.problems[0].why, "FA is required and fails");
}

#[test]
fn strict_turns_warnings_of_installed_software_into_exit_1() {
    let facts = facts_from_text(
        "f.yaml",
        &format!(
            "{}python: {{packages: {{torch: 2.9.0+cu126}}}}\n",
            NVIDIA_BOX.replace("580.95.05", "560.35.03")
        ),
    )
    .unwrap();
    let lenient = evaluate_request(&matrix(), &facts, &Request::default());
    assert_eq!(lenient.exit_code(), 0);
    let strict = evaluate_request(
        &matrix(),
        &facts,
        &Request {
            required: vec![],
            strict: true,
        },
    );
    assert_eq!(strict.exit_code(), 1);
    assert_eq!(
        strict.summary.problems[0].why,
        "TorchLike is installed and warns"
    );
}
