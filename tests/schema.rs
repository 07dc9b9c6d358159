//! JSON Schemas of the outputs: the files under docs/schema/ are exactly what `mlcompat schema NAME`
//! prints (generated from the Rust types; `MLCOMPAT_BLESS=1 cargo test --test schema` rewrites them —
//! review the diff), and real outputs of every command validate against them.

mod common;

use std::path::{Path, PathBuf};

use mlcompat::schema::{schema_text, schema_value, SCHEMAS};
use serde_json::Value;

fn mlcompat() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("NO_COLOR", "1").env("MLCOMPAT_NO_CACHE", "1");
    cmd
}

fn stdout(args: &[&str]) -> String {
    let out = mlcompat().args(args).output().expect("runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn file_for(name: &str) -> PathBuf {
    let info = SCHEMAS
        .iter()
        .find(|s| s.name == name)
        .expect("known schema");
    root()
        .join("docs/schema")
        .join(mlcompat::schema::file_name(info))
}

fn validator(name: &str) -> jsonschema::Validator {
    let info = SCHEMAS
        .iter()
        .find(|s| s.name == name)
        .expect("known schema");
    jsonschema::validator_for(&schema_value(info)).expect("a valid JSON Schema")
}

fn assert_valid(name: &str, instance: &Value, what: &str) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} against {name}: {errors:#?}");
}

fn profiles() -> Vec<String> {
    mlcompat::matrix::embedded()
        .expect("embedded matrix")
        .profiles
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let bless = std::env::var_os("MLCOMPAT_BLESS").is_some();
    let mut drift = Vec::new();
    for info in SCHEMAS {
        let generated = schema_text(info);
        let path = file_for(info.name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if bless {
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(&path, &generated).expect("writable");
            } else {
                drift.push(path.display().to_string());
            }
        }
        assert_eq!(stdout(&["schema", info.name]), generated);
        assert_eq!(stdout(&["schema", info.id]), generated);
    }
    assert!(
        drift.is_empty(),
        "{drift:?} differ from `mlcompat schema`; MLCOMPAT_BLESS=1 cargo test --test schema rewrites them"
    );
    let listed = std::fs::read_dir(root().join("docs/schema"))
        .expect("docs/schema")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(listed, SCHEMAS.len(), "a stale file in docs/schema");
}

#[test]
fn every_schema_is_valid_json_schema() {
    for info in SCHEMAS {
        let v = schema_value(info);
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert!(jsonschema::meta::is_valid(&v), "{}", info.name);
        assert_eq!(v["title"], info.id);
    }
}

#[test]
fn reports_validate() {
    for p in profiles() {
        let report = json(&["doctor", "--profile", &p, "--format", "json"]);
        assert_valid("report", &report, &p);
    }
    let fixtures = root().join("tests/fixtures");
    for f in [
        "facts/cpu-box-torch-2.15.0-cu132-deep.json",
        "facts/cpu-box-torch-2.15.0-cu132-import-fails.json",
        "collect-env/vllm-28110-gb10-dgx-spark-torch2.9-cu129-HEAD.txt",
        "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
    ] {
        let path = fixtures.join(f).display().to_string();
        let report = json(&[
            "doctor",
            "--facts",
            &path,
            "--format",
            "json",
            "--require",
            "vllm",
            "--strict",
        ]);
        assert_valid("report", &report, f);
    }
}

#[test]
fn facts_validate() {
    // This machine, probed for real.
    let live = json(&["probe"]);
    assert_valid("facts", &live, "mlcompat probe");
    // Every reference profile, as the matrix loader reads it (profile files add dated sources to facts).
    for p in &mlcompat::matrix::embedded().expect("matrix").profiles {
        let value = serde_json::to_value(&p.facts).expect("serializes");
        assert_valid("facts", &value, &p.id);
    }
    // Facts read from bug-report dumps are facts like any other.
    for dir in ["collect-env", "nvidia-smi"] {
        for entry in std::fs::read_dir(root().join("tests/fixtures").join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("readable");
            let facts = common::dump_facts(&text, "box");
            if let Some(facts) = facts {
                let value = serde_json::to_value(&facts).expect("serializes");
                assert_valid("facts", &value, &path.display().to_string());
            }
        }
    }
    // A key mlcompat would refuse is refused by the schema too.
    let bad =
        serde_json::json!({"schema": "mlcompat.facts/1", "host": {"os": "linux", "colour": "red"}});
    assert!(!validator("facts").is_valid(&bad));
    let wrong = serde_json::json!({"schema": "mlcompat.report/1"});
    assert!(!validator("facts").is_valid(&wrong));
}

#[test]
fn workload_outputs_validate() {
    for p in [
        "dgx-spark",
        "mac-studio-m3-ultra",
        "linux-cpu-only",
        "rtx-5090",
    ] {
        let check = json(&["check", "all", "--profile", p, "--format", "json"]);
        assert_valid("check", &check, p);
        let est = json(&[
            "estimate",
            "--model",
            "gpt-oss-120b",
            "--quant",
            "mxfp4",
            "--profile",
            p,
            "--format",
            "json",
        ]);
        assert_valid("estimate", &est, p);
        let est = json(&[
            "estimate",
            "--params-b",
            "70",
            "--engine",
            "vllm",
            "--profile",
            p,
            "--format",
            "json",
        ]);
        assert_valid("estimate", &est, p);
    }
    let cmp = json(&[
        "compare",
        "dgx-spark",
        "mac-studio-m3-ultra",
        "--format",
        "json",
    ]);
    assert_valid("compare", &cmp, "compare");
    let dump = root()
        .join("tests/fixtures/nvidia-smi/rtx5090-desktop-xorg-processes-driver580.65.txt")
        .display()
        .to_string();
    let cmp = json(&["compare", &dump, "dgx-spark", "--format", "json"]);
    assert_valid("compare", &cmp, "compare a dump");
    let table = json(&[
        "table",
        "--facts",
        &dump,
        "--profiles",
        "dgx-spark,h100-sxm",
        "--format",
        "json",
    ]);
    assert_valid("table", &table, "table");
    // Closed objects catch a field the schema does not know.
    let mut extra = json(&[
        "check",
        "chat-8b-fp16",
        "--profile",
        "dgx-spark",
        "--format",
        "json",
    ]);
    extra["checks"][0]["surprise"] = Value::Bool(true);
    assert!(!validator("check").is_valid(&extra));
}

#[test]
fn bench_and_audit_outputs_validate() {
    let bench = json(&["bench", "bandwidth", "--device", "cpu", "--format", "json"]);
    assert_valid("bench", &bench, "bench bandwidth");
    let out = mlcompat()
        .args([
            "bench",
            "fp4",
            "--compile-only",
            "--arch",
            "sm_90",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    if out.status.success() {
        let compiled: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_valid("bench", &compiled, "bench fp4 --compile-only");
    } else {
        assert!(
            std::env::var_os("MLCOMPAT_REQUIRE_NVRTC").is_none(),
            "NVRTC is required here: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("skipped: no NVRTC for bench fp4 --compile-only (scripts/test installs it)");
    }
    let audit = json(&["matrix", "audit", "--format", "json"]);
    assert_valid("audit", &audit, "matrix audit");
    // The two bench shapes are told apart, and neither takes the other's fields.
    let mut mixed = bench.clone();
    mixed["arch"] = Value::String("sm_90".into());
    assert!(!validator("bench").is_valid(&mixed));
}

#[test]
fn install_plans_validate() {
    // A plan that fits, one with preconditions, one that cannot fit (blockers and alternatives).
    for (profile, ids) in [
        ("dgx-spark", &["pytorch", "vllm", "flash-attention"][..]),
        ("h100-sxm", &["sglang", "xformers"]),
        ("mac-studio-m3-ultra", &["tensorrt-llm", "mlx-lm"]),
        ("linux-cpu-only", &["pytorch", "bitsandbytes"]),
    ] {
        let mut args = vec!["install-plan"];
        args.extend_from_slice(ids);
        args.extend(["--profile", profile, "--format", "json"]);
        let plan = json(&args);
        assert_valid("plan", &plan, profile);
    }
}

#[test]
fn explanations_validate() {
    // A confirmed match with an install-plan fix, an unconfirmed one, a log that matches nothing.
    for file in [
        "tests/fixtures/bug-reports/berkeley-humanoid-lite-49-rtx5090-driver590-torch2.5.1-cu121.txt",
        "tests/fixtures/explain/logs/cuda-no-kernel-image--pytorch-pytorch-149845-PARTIAL.txt",
        "tests/fixtures/explain/logs/none--LegallyCoder-mamba-hf-2.txt",
    ] {
        let path = root().join(file);
        let explanation = json(&["explain", &path.to_string_lossy(), "--format", "json"]);
        assert_valid("explain", &explanation, file);
    }
}

#[test]
fn schema_command_lists_and_refuses() {
    let list = stdout(&["schema", "list"]);
    for info in SCHEMAS {
        assert!(list.contains(info.id), "{list}");
    }
    let out = mlcompat().args(["schema", "nope"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown schema `nope`"));
    assert!(Path::new(&file_for("report")).exists());
}
