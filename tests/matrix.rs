//! The shipped matrix: every required row and profile exists, ids are unique, every rule cites a source,
//! hardware figures are sourced and dense/sparse figures are consistent; every claim carries the date its
//! source was read, and `matrix audit` finds what went stale.

use std::collections::HashSet;

use mlcompat::matrix::audit::{audit, AuditOptions, FindingKind, DEFAULT_OLDER_THAN_DAYS};
use mlcompat::matrix::{embedded, from_files_on, Day, Matrix};

const REQUIRED_SOFTWARE: &[&str] = &[
    "pytorch",
    "ollama",
    "llama-cpp",
    "transformers",
    "vllm",
    "tensorrt-llm",
    "flash-attention",
    "unsloth",
    "bitsandbytes",
    "awq-gptq",
    "diffusers",
    "mlx",
    "jax",
    "cuda-libraries",
    "native-fp4",
    "sglang",
    "xformers",
    "deepspeed",
    "triton",
    "onnxruntime",
    "peft",
    "torchao",
    "mlx-lm",
    "cupy",
    "nvidia-container-toolkit",
];

const REQUIRED_PROFILES: &[&str] = &[
    "dgx-spark",
    "mac-studio-m3-ultra",
    "h100-sxm",
    "rtx-4090",
    "rtx-5090",
    "macbook-pro-m4-max",
    "linux-cpu-only",
];

#[test]
fn required_rows_and_profiles_exist() {
    let m = embedded().expect("valid");
    let ids: HashSet<&str> = m.software.iter().map(|s| s.id.as_str()).collect();
    for id in REQUIRED_SOFTWARE {
        assert!(ids.contains(id), "missing software row `{id}`");
    }
    for id in REQUIRED_PROFILES {
        assert!(m.profile(id).is_ok(), "missing profile `{id}`");
    }
}

#[test]
fn rule_ids_are_unique_and_every_rule_has_a_source() {
    let m = embedded().expect("valid");
    let mut seen = HashSet::new();
    for sw in &m.software {
        for rule in &sw.rules {
            assert!(
                seen.insert(rule.id.clone()),
                "duplicate rule id `{}`",
                rule.id
            );
            assert!(
                rule.source.starts_with("https://"),
                "rule `{}` cites no URL: {}",
                rule.id,
                rule.source
            );
            assert!(
                !rule.reason.trim().is_empty() && !rule.note.trim().is_empty(),
                "rule `{}` lacks a reason or note",
                rule.id
            );
        }
        assert!(
            sw.rules.last().is_some_and(|r| r.when.is_none()),
            "`{}` has no fallback rule",
            sw.id
        );
    }
}

#[test]
fn hardware_figures_are_sourced_and_dense_is_not_sparse() {
    let m = embedded().expect("valid");
    for p in &m.profiles {
        let machine = p
            .facts
            .machine
            .as_ref()
            .expect("profiles name their machine");
        let Some(gpu) = p.facts.primary_gpu() else {
            continue;
        };
        for (figure, present) in [
            ("bandwidth_gbs", gpu.bandwidth_gbs.is_some()),
            ("memory_gb", gpu.memory_gb.is_some()),
            ("tdp_w", gpu.tdp_w.is_some()),
        ] {
            if present {
                assert!(
                    machine.sources.keys().any(|k| k.starts_with(figure)),
                    "{}: `{figure}` has no source",
                    p.id
                );
            }
        }
        if let Some(t) = &gpu.tflops {
            assert!(
                machine.sources.keys().any(|k| k.starts_with("tflops")),
                "{}: TFLOPS without a source",
                p.id
            );
            // 2:4 sparsity doubles the FP4 rate up to Blackwell; Blackwell Ultra (GB300: 15 dense, 20
            // sparse PFLOPS) gains less. Either way a dense figure is below its sparse one.
            if let (Some(dense), Some(sparse)) = (t.fp4_dense, t.fp4_sparse) {
                let ultra = gpu
                    .compute_capability
                    .as_ref()
                    .is_some_and(|cc| (cc.major(), cc.minor()) == (10, 3));
                assert!(
                    if ultra {
                        dense < sparse
                    } else {
                        // Within the rounding of published figures (AMD prints 10.1 and 20.1 PFLOPS).
                        dense <= (sparse / 2.0) * 1.01 + 1.0
                    },
                    "{}: FP4 dense {dense} vs sparse {sparse}",
                    p.id
                );
            }
            for dense in [t.bf16_dense, t.fp8_dense, t.fp4_dense]
                .into_iter()
                .flatten()
            {
                assert!(dense > 0.0, "{}: a dense figure must be positive", p.id);
            }
        }
        // AMD's CDNA 4 (MI355X) has FP4 too, and no compute capability.
        if gpu.fp4_native == Some(true) && gpu.vendor == mlcompat::facts::Vendor::Nvidia {
            let cc = gpu
                .compute_capability
                .as_ref()
                .expect("an NVIDIA FP4 GPU has a compute capability");
            assert!(
                (10..=12).contains(&cc.major()),
                "{}: FP4 claimed on CC {cc}",
                p.id
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// `checked:` dates and `matrix audit`

/// The generous limit CI audits the shipped matrix with (.ci/run).
const CI_OLDER_THAN_DAYS: u32 = 365;

fn day(text: &str) -> Day {
    Day::parse(text).expect("a valid day")
}

/// A one-row matrix whose only rule carries `checked` as given (`None`: the line is left out).
fn one_rule(checked: Option<&str>, source: &str) -> String {
    let checked = checked.map_or(String::new(), |c| format!("        checked: {c}\n"));
    format!(
        "schema: mlcompat.matrix/1\n\
         categories:\n  - {{ id: frameworks, title: Frameworks }}\n\
         software:\n  - id: thing\n    name: Thing\n    category: frameworks\n    rules:\n\
         \x20     - id: thing-ok\n        status: ok\n        note: works\n        reason: Works.\n\
         \x20       source: \"{source}\"\n{checked}"
    )
}

fn load_on(files: &[(&str, String)], today: &str) -> Result<Matrix, String> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| ((*n).to_string(), t.clone()))
        .collect();
    from_files_on(&files, Some(day(today))).map_err(|e| e.to_string())
}

const QUOTED: &str = "https://example.org/docs/install.html — 'Thing runs everywhere'";

#[test]
fn a_rule_without_checked_is_refused_with_its_position() {
    let err = load_on(
        &[("matrix/software.yaml", one_rule(None, QUOTED))],
        "2026-11-28",
    )
    .expect_err("a rule needs a date");
    assert!(err.contains("matrix/software.yaml:9:9"), "{err}");
    assert!(
        err.contains("rule `thing-ok` needs `checked: YYYY-MM-DD`"),
        "{err}"
    );
}

#[test]
fn malformed_and_future_checked_dates_are_refused() {
    for (bad, why) in [
        ("2026-13-01", "not a date"),
        ("2026-02-30", "not a day of the calendar"),
        ("26-11-28", "not a date"),
        ("\"last week\"", "not a date"),
        ("2027-01-01", "in the future"),
    ] {
        let err = load_on(
            &[("matrix/software.yaml", one_rule(Some(bad), QUOTED))],
            "2026-11-28",
        )
        .expect_err(bad);
        assert!(err.contains("matrix/software.yaml:14:18"), "{bad}: {err}");
        assert!(err.contains(why), "{bad}: {err}");
    }
    // One day of slack for authors east of UTC; today and the past are fine.
    for good in ["2026-11-29", "2026-11-28", "2024-02-29"] {
        load_on(
            &[("matrix/software.yaml", one_rule(Some(good), QUOTED))],
            "2026-11-28",
        )
        .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn a_profile_figure_needs_a_dated_source() {
    let software = one_rule(Some("2026-11-28"), QUOTED);
    let profile = |sources: &str| {
        format!(
            "schema: mlcompat.facts/1\nmachine:\n  id: box\n  name: Box\n  sources:\n{sources}\
             host: {{ os: linux, arch: x86_64, memory_gb: 64, cpu_cores: 8 }}\n"
        )
    };
    let old_form = profile("    memory_gb: \"https://example.org/spec — 64 GB\"\n");
    let err = load_on(
        &[
            ("matrix/software.yaml", software.clone()),
            ("matrix/profiles/box.yaml", old_form),
        ],
        "2026-11-28",
    )
    .expect_err("an undated figure");
    assert!(err.contains("matrix/profiles/box.yaml:6:"), "{err}");
    assert!(err.contains("checked: YYYY-MM-DD"), "{err}");
    let dated = profile(
        "    memory_gb:\n      source: \"https://example.org/spec — memory 64 GB\"\n      checked: 2026-11-20\n",
    );
    let m = load_on(
        &[
            ("matrix/software.yaml", software),
            ("matrix/profiles/box.yaml", dated),
        ],
        "2026-11-28",
    )
    .expect("a dated figure loads");
    let range = m.checked_range().expect("dates");
    assert_eq!(
        (range.oldest.to_string(), range.newest.to_string()),
        ("2026-11-20".into(), "2026-11-28".into())
    );
}

/// A small matrix with one stale rule, one vague rule, one rule naming an old release, one clean rule,
/// and a releases file; audited as of a given day.
fn audit_fixture() -> Matrix {
    let software = r#"schema: mlcompat.matrix/1
categories:
  - { id: frameworks, title: Frameworks }
software:
  - id: torchish
    name: Torchish
    category: frameworks
    rules:
      - id: torchish-stale
        when: {fact: gpu.vendor, is: amd}
        status: warn
        note: ROCm
        reason: ROCm only.
        source: "https://example.org/rocm.html — 'ROCm wheels'"
        checked: 2025-01-10
      - id: torchish-vague
        when: {fact: gpu.vendor, is: intel}
        status: ok
        note: XPU
        reason: XPU wheels.
        source: "https://example.org/"
        checked: 2026-11-20
      - id: torchish-outdated
        when: {fact: gpu.vendor, is: nvidia}
        status: ok
        note: CUDA
        reason: torch 2.12-2.14 ship cu126 and cu130.
        source: "https://example.org/release.html — 'cu126, cu130'"
        checked: 2026-11-20
      - id: torchish-history
        when: {fact: gpu.vendor, is: apple}
        status: ok
        note: MPS
        reason: Since torch 2.11 the wheels have MPS; pin torch==2.14.0 if you must.
        source: "https://example.org/mps.html — 'mps device'"
        checked: 2026-11-20
      - id: torchish-ok
        status: ok
        note: CPU
        reason: CPU wheels.
        source: "https://example.org/cpu.html — 'CPU wheels for every platform'"
        checked: 2026-11-20
"#;
    let releases = r#"schema: mlcompat.latest/1
latest:
  - project: torch
    names: [torch, PyTorch]
    version: "2.15.0"
    source: "https://pypi.org/project/torch/ — torch 2.15.0, wheels uploaded 2026-10-28"
    checked: 2026-11-20
"#;
    load_on(
        &[
            ("matrix/software.yaml", software.to_string()),
            ("matrix/latest.yaml", releases.to_string()),
        ],
        "2026-11-28",
    )
    .expect("fixture loads")
}

#[test]
fn audit_lists_stale_vague_and_outdated_sources() {
    let m = audit_fixture();
    let findings = audit(
        &m,
        AuditOptions {
            today: day("2026-11-28"),
            older_than_days: DEFAULT_OLDER_THAN_DAYS,
        },
    );
    let listed: Vec<(String, FindingKind)> = findings
        .iter()
        .map(|f| (f.subject.clone(), f.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("rule torchish-stale".to_string(), FindingKind::Stale),
            ("rule torchish-vague".to_string(), FindingKind::NotSpecific),
            (
                "rule torchish-outdated".to_string(),
                FindingKind::OutdatedVersion
            ),
        ],
        "{findings:#?}"
    );
    let stale = &findings[0];
    assert_eq!(stale.file, "matrix/software.yaml");
    assert!(stale.line.is_some(), "a finding has a position");
    assert!(stale.message.contains("687 days ago"), "{}", stale.message);
    assert!(
        findings[2].message.contains("torch 2.14"),
        "{}",
        findings[2].message
    );
    assert!(
        findings[2].message.contains("2.15.0"),
        "{}",
        findings[2].message
    );
    // The clock is an input: the same matrix a day after reading is clean but for the vague source and
    // the old version, and a year on everything is stale.
    let early = audit(
        &m,
        AuditOptions {
            today: day("2025-01-11"),
            older_than_days: DEFAULT_OLDER_THAN_DAYS,
        },
    );
    assert!(
        early.iter().all(|f| f.kind != FindingKind::Stale),
        "{early:#?}"
    );
    let late = audit(
        &m,
        AuditOptions {
            today: day("2027-12-01"),
            older_than_days: 30,
        },
    );
    assert_eq!(
        late.iter().filter(|f| f.kind == FindingKind::Stale).count(),
        6,
        "five rules and the release entry: {late:#?}"
    );
}

#[test]
fn a_newer_release_named_by_a_rule_flags_the_releases_file() {
    let m = audit_fixture();
    let mut m2 = m.clone();
    m2.latest[0].version = "2.13.0".into();
    let findings = audit(
        &m2,
        AuditOptions {
            today: day("2026-11-28"),
            older_than_days: DEFAULT_OLDER_THAN_DAYS,
        },
    );
    assert!(
        findings
            .iter()
            .any(|f| f.subject == "release torch" && f.kind == FindingKind::OutdatedVersion),
        "{findings:#?}"
    );
}

/// The shipped matrix passes the audit CI runs (.ci/run: `matrix audit --older-than 365`). This test
/// reads the clock on purpose: like CI, it fails once a source has not been re-read for a year.
#[test]
fn the_shipped_matrix_passes_the_ci_audit() {
    let m = embedded().expect("valid");
    let findings = audit(
        &m,
        AuditOptions {
            today: Day::today(),
            older_than_days: CI_OLDER_THAN_DAYS,
        },
    );
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(!m.latest.is_empty(), "latest.yaml is embedded");
}

#[test]
fn every_shipped_rule_and_figure_is_dated_and_none_in_the_future() {
    let m = embedded().expect("valid");
    let today = Day::today();
    let range = m.checked_range().expect("the matrix has dates");
    assert!(range.oldest <= range.newest);
    assert!(
        range.newest.days_until(today) >= -1,
        "a `checked` date after today: {}",
        range.newest
    );
    for p in &m.profiles {
        let sources = &p.facts.machine.as_ref().expect("machine").sources;
        assert_eq!(
            p.figures.len(),
            sources.len(),
            "{}: every source is a dated figure",
            p.id
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// `mlcompat matrix audit` on the command line: exit 0 clean, 1 listed, 2 bad input.

fn mlcompat() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("mlcompat").expect("binary")
}

/// A copy of the shipped matrix directory with `software.yaml` changed by `edit`.
fn matrix_copy(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix");
    let text = std::fs::read_to_string(root.join("software.yaml")).expect("software.yaml");
    std::fs::write(dir.path().join("software.yaml"), edit(text)).expect("writable");
    let releases = std::fs::read_to_string(root.join("latest.yaml")).expect("latest.yaml");
    std::fs::write(dir.path().join("latest.yaml"), releases).expect("writable");
    std::fs::copy(root.join("failures.yaml"), dir.path().join("failures.yaml"))
        .expect("failures.yaml");
    dir
}

#[test]
fn audit_command_exit_codes() {
    // The shipped matrix with CI's limit: nothing listed.
    let out = mlcompat()
        .args(["matrix", "audit", "--older-than", "365"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nothing listed"), "{stdout}");

    // One rule read long ago: listed with its position, exit 1 (text and JSON).
    let dir = matrix_copy(|t| t.replacen("checked: 2026-11-2", "checked: 2020-01-0", 1));
    let path = dir.path().display().to_string();
    let out = mlcompat()
        .args(["matrix", "audit", &path, "--today", "2026-12-01"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("software.yaml:"), "{stdout}");
    assert!(
        stdout.contains(": stale: rule pytorch-cpu-wheel-on-nvidia: checked 2020-01-0"),
        "{stdout}"
    );
    assert!(stdout.contains("1 listed"), "{stdout}");
    let out = mlcompat()
        .args([
            "matrix",
            "audit",
            &path,
            "--today",
            "2026-12-01",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["schema"], "mlcompat.audit/1");
    assert_eq!(json["findings"][0]["kind"], "stale");
    assert!(json["findings"][0]["line"].as_u64().is_some());

    // Bad input: a malformed --today, and a rule without a date.
    let out = mlcompat()
        .args(["matrix", "audit", "--today", "2026-13-01"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let undated =
        matrix_copy(|t| t.replacen("        checked: 2026-11-2", "        seen: 2026-11-2", 1));
    let out = mlcompat()
        .args(["matrix", "audit", &undated.path().display().to_string()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("software.yaml:"), "{stderr}");
    assert!(stderr.contains("needs `checked: YYYY-MM-DD`"), "{stderr}");
}

/// A one-row matrix that detects `thing` and imports it with `statement` (written as a YAML string).
fn one_import(statement: &str) -> String {
    format!(
        "schema: mlcompat.matrix/1\n\
         categories:\n  - {{ id: frameworks, title: Frameworks }}\n\
         software:\n  - id: thing\n    name: Thing\n    category: frameworks\n\
         \x20   detect:\n      python: [thing]\n      imports:\n        thing: {statement}\n    rules:\n\
         \x20     - id: thing-ok\n        status: ok\n        note: works\n        reason: Works.\n\
         \x20       source: \"{QUOTED}\"\n        checked: 2026-11-28\n"
    )
}

#[test]
fn an_import_that_is_not_an_import_statement_is_refused_where_it_is_written() {
    // `--deep` passes the statement to a child Python as data, never as code: anything but `import M`
    // or `from M import A, B` with dotted names is refused at load, at the value's position.
    for statement in [
        "\"import os; os.system('id')\"",
        "\"from x import *\"",
        "\"from .x import y\"",
        "\"import x-y\"",
        "\"from x import a as b\"",
        "\"__import__('os')\"",
    ] {
        let err = load_on(
            &[("matrix/software.yaml", one_import(statement))],
            "2026-11-28",
        )
        .expect_err(statement);
        assert!(
            err.contains("matrix/software.yaml:11:16"),
            "{statement}: {err}"
        );
        assert!(err.contains("`imports` of `thing`"), "{statement}: {err}");
    }
    for (good, module) in [
        ("torch", "torch"),
        ("\"import mlx.core\"", "mlx.core"),
        ("\"from vllm import LLM\"", "vllm"),
        ("\"from mlx_lm import load, generate\"", "mlx_lm"),
    ] {
        let matrix = load_on(&[("matrix/software.yaml", one_import(good))], "2026-11-28")
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        let statement = matrix.software[0]
            .detect
            .import_of("thing")
            .expect("parsed");
        assert_eq!(statement.module, module);
    }
}
