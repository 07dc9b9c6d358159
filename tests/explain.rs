//! `mlcompat explain` against what people paste: the corpus of real error logs from public threads
//! (`tests/fixtures/explain/corpus.yaml`), each with the cause and fix the thread established; logs that
//! must match nothing; every format, standard input, hostile and huge input; and the doctor citing the same
//! known failure as `explain`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn mlcompat() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("NO_COLOR", "1").env("MLCOMPAT_NO_CACHE", "1");
    cmd
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

/// `explain ARGS --format json`: the exit status and the document.
fn explain_json(args: &[&str]) -> (i32, Value) {
    let out = mlcompat()
        .arg("explain")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (code, doc)
}

fn ids(doc: &Value) -> Vec<String> {
    doc["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[derive(serde::Deserialize)]
struct Entry {
    file: String,
    url: String,
    expect: String,
    #[serde(default)]
    fix_words: Vec<String>,
}

fn corpus() -> Vec<Entry> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/explain/corpus.yaml"))
        .expect("corpus.yaml");
    serde_yaml::from_str(&text).expect("corpus.yaml parses")
}

fn known_failures() -> Vec<String> {
    let matrix = mlcompat::matrix::embedded().expect("matrix loads");
    matrix
        .failures
        .failures
        .iter()
        .map(|f| f.id.clone())
        .collect()
}

#[test]
fn the_corpus_of_real_logs_is_explained() {
    let entries = corpus();
    let known = known_failures();
    let positives = entries.iter().filter(|e| e.expect != "none").count();
    let negatives = entries.len() - positives;
    assert!(
        positives >= 40 && negatives >= 3,
        "{positives} logs, {negatives} negatives"
    );
    let mut explained = 0;
    let mut false_matches = Vec::new();
    let mut wrong = Vec::new();
    for e in &entries {
        assert!(e.url.starts_with("https://github.com/"), "{}", e.file);
        let path = fixture(&format!("explain/logs/{}", e.file));
        assert!(Path::new(&path).is_file(), "{path}");
        let (code, doc) = explain_json(&[&path]);
        let found = ids(&doc);
        if e.expect == "none" {
            if code != 1 || !found.is_empty() {
                false_matches.push(format!("{}: {found:?}", e.file));
            }
            continue;
        }
        assert!(
            known.contains(&e.expect),
            "{}: unknown id {}",
            e.file,
            e.expect
        );
        let Some(m) = doc["matches"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["id"] == e.expect.as_str()))
        else {
            wrong.push(format!("{}: expected {}, got {found:?}", e.file, e.expect));
            continue;
        };
        assert_eq!(code, 0, "{}", e.file);
        let fix = m["fix"].as_str().unwrap_or_default().to_lowercase();
        let missing: Vec<&String> = e
            .fix_words
            .iter()
            .filter(|w| !fix.contains(&w.to_lowercase()))
            .collect();
        if !missing.is_empty() {
            wrong.push(format!("{}: fix lacks {missing:?}: {fix}", e.file));
            continue;
        }
        assert!(
            !m["evidence"].as_array().expect("evidence").is_empty(),
            "{}",
            e.file
        );
        explained += 1;
    }
    // The figures the closing note reports.
    eprintln!(
        "explained {explained}/{positives} real logs; false matches {}/{negatives}",
        false_matches.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(false_matches.is_empty(), "{}", false_matches.join("\n"));
}

#[test]
fn every_signature_is_sourced_and_most_have_a_real_log() {
    let matrix = mlcompat::matrix::embedded().expect("matrix loads");
    let failures = &matrix.failures.failures;
    assert!(failures.len() >= 40, "{} known failures", failures.len());
    let covered: Vec<String> = corpus().into_iter().map(|e| e.expect).collect();
    let mut without_log = Vec::new();
    for f in failures {
        assert!(f.source.starts_with("https://"), "{}: {}", f.id, f.source);
        // A source a reader can check: an address, and words quoted from it (the audit's test).
        assert!(
            mlcompat::matrix::audit::vague_source(&f.source, true).is_none(),
            "{}: {}",
            f.id,
            f.source
        );
        if !covered.contains(&f.id) {
            without_log.push(f.id.as_str());
        }
    }
    // Signatures taken from a project's own message or docs rather than a thread in the corpus.
    assert!(
        without_log.len() * 5 <= failures.len(),
        "too many signatures without a real log: {without_log:?}"
    );
}

#[test]
fn formats_files_and_standard_input_agree() {
    let log = fixture("explain/logs/triton-ptxas-unknown-arch--triton-lang-triton-9181.txt");
    let (code, from_file) = explain_json(&[&log]);
    assert_eq!(code, 0);
    assert_eq!(ids(&from_file), ["triton-ptxas-unknown-arch"]);
    let text = std::fs::read(&log).expect("log");
    for args in [&["-"][..], &[][..]] {
        let out = mlcompat()
            .arg("explain")
            .args(args)
            .args(["--format", "json"])
            .write_stdin(text.clone())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(doc["input"]["name"], "standard input");
        assert_eq!(doc["matches"], from_file["matches"]);
    }
    let out = mlcompat().args(["explain", &log]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Triton's bundled ptxas does not know this GPU",
        "Evidence   line 13: ptxas fatal",
        "Fix        export TRITON_PTXAS_PATH=/usr/local/cuda/bin/ptxas",
        "https://github.com/triton-lang/triton/issues/9181",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    let out = mlcompat()
        .args(["explain", &log, "--format", "markdown"])
        .output()
        .expect("runs");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("### Triton"), "{md}");
    assert!(md.contains("```\nexport TRITON_PTXAS_PATH="), "{md}");
    assert!(md.contains("<details><summary>Evidence</summary>"), "{md}");
}

#[test]
fn nothing_matched_exits_1_and_says_what_was_read() {
    let log = fixture("explain/logs/none--hiyouga-LlamaFactory-7062.txt");
    let out = mlcompat().args(["explain", &log]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No known failure matched"), "{text}");
    assert!(text.contains("Read ") && text.contains(" lines,"), "{text}");
    let out = mlcompat()
        .args(["explain", &log, "--format", "markdown"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no known failure matched"));
}

#[test]
fn the_fix_is_install_plans_for_the_machine_in_the_report() {
    // An RTX 5090 with a driver for CUDA 13.1 and a torch without sm_120: the fix is the plan's torch.
    let report =
        fixture("bug-reports/berkeley-humanoid-lite-49-rtx5090-driver590-torch2.5.1-cu121.txt");
    let (code, doc) = explain_json(&[&report]);
    assert_eq!(code, 0);
    let m = &doc["matches"][0];
    assert_eq!(m["id"], "torch-wheel-lacks-gpu-arch");
    assert_eq!(m["confirmed"], true);
    assert_eq!(m["fix_from"], "install-plan");
    let plan = mlcompat()
        .args([
            "install-plan",
            "pytorch",
            "--facts",
            &report,
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let first_install = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] != "check")
        .expect("an install step");
    assert!(
        m["fix"]
            .as_str()
            .unwrap_or_default()
            .starts_with(first_install["command"].as_str().unwrap_or("?")),
        "explain: {}\nplan: {}",
        m["fix"],
        first_install["command"]
    );
    // The same error without a machine: the failure's own words, and where the exact build comes from.
    let (_, bare) = explain_json(&[&fixture(
        "explain/logs/cuda-no-kernel-image--pytorch-pytorch-149845-PARTIAL.txt",
    )]);
    let m = &bare["matches"][0];
    assert_eq!(m["confirmed"], false);
    assert_eq!(m["fix_from"], "failure");
    assert!(m["fix"]
        .as_str()
        .unwrap_or_default()
        .contains("install-plan pytorch"));
    // A machine named on the command line decides what the log does not say.
    let (_, with_profile) = explain_json(&[
        &fixture("explain/logs/cuda-no-kernel-image--pytorch-pytorch-149845-PARTIAL.txt"),
        "--profile",
        "rtx-5090",
    ]);
    assert_eq!(with_profile["matches"][0]["confirmed"], true);
    assert_eq!(with_profile["matches"][0]["fix_from"], "install-plan");
}

#[test]
fn facts_rule_a_shared_error_text_in_or_out() {
    // One message, two causes: a CPU-only torch on Windows, a CUDA call on a Mac.
    let dir = tempfile::tempdir().expect("temp");
    let windows = dir.path().join("windows.txt");
    std::fs::write(
        &windows,
        "  File \"C:\\Users\\me\\app\\run.py\", line 3, in <module>\nAssertionError: Torch not compiled with CUDA enabled\n",
    )
    .expect("write");
    let mac = dir.path().join("mac.txt");
    std::fs::write(
        &mac,
        "  File \"/Users/me/app/run.py\", line 3, in <module>\nAssertionError: Torch not compiled with CUDA enabled\n",
    )
    .expect("write");
    let (_, w) = explain_json(&[&windows.display().to_string()]);
    assert_eq!(ids(&w), ["torch-cpu-build"]);
    assert_eq!(w["ruled_out"][0]["id"], "torch-cuda-on-macos");
    let (_, m) = explain_json(&[&mac.display().to_string()]);
    assert_eq!(ids(&m), ["torch-cuda-on-macos"]);
    assert_eq!(m["matches"][0]["confirmed"], true);
}

#[test]
fn doctor_and_explain_cite_the_same_known_failure() {
    // vLLM under WSL2: doctor predicts it from the facts, explain reads it from the error.
    let dump = fixture("bug-reports/vllm-47387-wsl2-rtx4050-laptop-torch2.11-cu130-HEAD.txt");
    let log = fixture("explain/logs/vllm-wsl-uva--vllm-project-vllm-47292-PARTIAL.txt");
    let doctor = mlcompat()
        .args(["doctor", "--facts", &dump, "--format", "json"])
        .output()
        .expect("runs");
    let doctor: Value = serde_json::from_slice(&doctor.stdout).expect("json");
    let row = doctor["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "vllm")
        .expect("vllm row");
    assert_eq!(row["failure"], "vllm-wsl-uva", "{row}");
    let (_, doc) = explain_json(&[&log, "--facts", &dump]);
    let m = &doc["matches"][0];
    assert_eq!(m["id"], "vllm-wsl-uva");
    assert_eq!(m["cause"], row["reason"]);
    assert_eq!(m["fix"], row["fix"]);
    let vllm = m["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "vllm")
        .expect("the row concerned");
    assert_eq!(vllm["status"], row["status"]);
    // Every rule that names a failure takes that failure's cause as its reason.
    let matrix = mlcompat::matrix::embedded().expect("matrix loads");
    let mut linked = 0;
    for sw in &matrix.software {
        for rule in sw.rules.iter().filter(|r| r.failure.is_some()) {
            let failure = matrix
                .failures
                .get(rule.failure.as_deref().unwrap_or_default())
                .expect("a known failure");
            assert_eq!(rule.reason, failure.cause, "{}", rule.id);
            assert_eq!(rule.source, failure.source, "{}", rule.id);
            linked += 1;
        }
    }
    assert!(linked >= 6, "{linked} rules cite a known failure");
}

#[test]
fn hostile_text_never_reaches_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("temp");
    let log = dir.path().join("evil.log");
    let mut f = std::fs::File::create(&log).expect("create");
    f.write_all(
        b"\x1b]0;owned\x07\x1b[31mRuntimeError: CUDA error: no kernel image is available for execution on the device\x1b[0m\n\
          ```\n<img src=x onerror=alert(1)> ``` @maintainer\n\
          RuntimeError: CUDA error: no kernel image is available for execution on the device ```` <b>x</b>\n\
          \xff\xfe not UTF-8\n",
    )
    .expect("write");
    drop(f);
    for format in ["text", "markdown", "json"] {
        let out = mlcompat()
            .args(["explain", &log.display().to_string(), "--format", format])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{format}: raw control bytes"
        );
        if format == "markdown" {
            let md = String::from_utf8_lossy(&out.stdout);
            // The evidence sits in a fence longer than any run of backticks in it.
            assert!(md.contains("`````text\n"), "{md}");
            assert!(!md.contains("\n<img"), "{md}");
        }
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("temp");
    let missing = dir.path().join("missing.log");
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    for (path, words) in [
        (missing.display().to_string(), "no such file or directory"),
        (dir.path().display().to_string(), "is a directory"),
        (fifo.display().to_string(), "is a FIFO"),
        ("/dev/zero".to_string(), "character device"),
    ] {
        let out = mlcompat()
            .args(["explain", &path])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
    }
    let out = mlcompat()
        .args([
            "explain",
            "--profile",
            "no-such-machine",
            &missing.display().to_string(),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_log_larger_than_the_cap_is_read_at_its_head_and_tail() {
    // 40 MB: an environment at the start, the error on the last line.
    let dir = tempfile::tempdir().expect("temp");
    let log = dir.path().join("train.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).expect("create"));
    let head = std::fs::read_to_string(fixture(
        "bug-reports/berkeley-humanoid-lite-49-rtx5090-driver590-torch2.5.1-cu121.txt",
    ))
    .expect("report");
    let head = head.replace("sm_120 is not compatible", "sm_120 is fine");
    f.write_all(head.as_bytes()).expect("write");
    let line = "2026-12-04 12:00:00 INFO step 1234 loss=0.1234 lr=3e-4 tokens/s=12345.6\n";
    let filler = 40 * 1024 * 1024 / line.len();
    for _ in 0..filler {
        f.write_all(line.as_bytes()).expect("write");
    }
    f.write_all(
        b"RuntimeError: CUDA error: no kernel image is available for execution on the device\n",
    )
    .expect("write");
    drop(f);
    let total_lines = head.lines().count() + filler + 1;
    let (code, doc) = explain_json(&[&log.display().to_string()]);
    assert_eq!(code, 0);
    assert_eq!(doc["input"]["lines"], total_lines as u64);
    assert!(doc["input"]["skipped"]["bytes"].as_u64().unwrap_or(0) > 20 * 1024 * 1024);
    let m = &doc["matches"][0];
    assert_eq!(m["id"], "cuda-no-kernel-image");
    let lines: Vec<u64> = m["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert!(lines.contains(&(total_lines as u64)), "{lines:?}");
    // The environment at the head still says which GPU it was.
    assert_eq!(m["confirmed"], true);
}

#[test]
fn a_bad_failures_file_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("temp");
    let matrix = root().join("matrix");
    for name in ["software.yaml", "workloads.yaml", "gpus.yaml"] {
        std::fs::copy(matrix.join(name), dir.path().join(name)).expect("copy");
    }
    let text = std::fs::read_to_string(matrix.join("failures.yaml")).expect("failures.yaml");
    let text = text.replacen(
        "'with CUDA capability sm_(?P<sm>\\d+) is not",
        "'with CUDA capability sm_((?P<sm>\\d+) is not",
        1,
    );
    let text = text.replacen("    rows: [pytorch]\n", "    rows: [pytorch, nope]\n", 1);
    std::fs::write(dir.path().join("failures.yaml"), text).expect("write");
    let out = mlcompat()
        .args(["matrix", "validate", &dir.path().display().to_string()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failures.yaml:15:9: failure `torch-wheel-lacks-gpu-arch`: pattern:"),
        "{stderr}"
    );
    assert!(stderr.contains("names unknown software `nope`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_macos_older_than_the_installed_torch_needs_is_predicted_before_the_error() {
    // torch 2.15 on macOS 14: its docs say MPS needs 15.0+; the doctor says so before any error, citing
    // the failure `explain` finds in "The MPS backend is supported on MacOS 12.3+".
    let dir = tempfile::tempdir().expect("temp");
    let facts = dir.path().join("mac14.yaml");
    std::fs::write(
        &facts,
        "schema: mlcompat.facts/1\n\
         machine: {id: mac14, name: \"MacBook Pro M3 Max, macOS 14\", kind: saved}\n\
         host: {os: macos, os_version: \"14.6\", os_name: \"macOS 14.6\", arch: aarch64, cpu_cores: 16, memory_gb: 128}\n\
         gpus:\n  - {vendor: apple, name: \"Apple M3 Max\", unified_memory: true, memory_gb: 128}\n\
         apple: {chip: \"Apple M3 Max\", gpu_cores: 40}\n\
         python: {path: /opt/homebrew/bin/python3, version: \"3.12.8\", arch: aarch64, packages: {torch: \"2.15.0\"}}\n",
    )
    .expect("write");
    let facts = facts.display().to_string();
    let out = mlcompat()
        .args(["doctor", "--facts", &facts, "--format", "json"])
        .output()
        .expect("runs");
    let doctor: Value = serde_json::from_slice(&out.stdout).expect("json");
    let torch = doctor["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "pytorch")
        .expect("pytorch row");
    assert_eq!(torch["failure"], "mps-unavailable", "{torch}");
    assert_eq!(torch["status"], "fail");
    let log = fixture("explain/logs/mps-unavailable--pytorch-pytorch-139425.txt");
    let (_, doc) = explain_json(&[&log, "--facts", &facts]);
    assert_eq!(doc["matches"][0]["id"], "mps-unavailable");
    assert_eq!(doc["matches"][0]["confirmed"], true);
    assert_eq!(doc["matches"][0]["cause"], torch["reason"]);
}

#[test]
fn here_reads_this_machine_for_the_facts() {
    let log = fixture("explain/logs/numpy2-abi--jianchang512-stt-78.txt");
    let (code, doc) = explain_json(&[&log, "--here"]);
    assert_eq!(code, 0);
    assert_eq!(doc["input"]["facts_from"], "this machine (probed)");
    assert_eq!(doc["matches"][0]["id"], "numpy2-abi");
    // One machine at a time.
    let out = mlcompat()
        .args(["explain", &log, "--here", "--profile", "rtx-5090"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
