//! Installed stacks judged as they really work, on real virtual environments: what mlcompat finds unmet
//! in the installed distributions' declared requirements must be what pip's own `pip check` finds, on
//! real packages from PyPI installed the ways real environments break (`--no-deps`, a pinned-down
//! dependency, an uninstalled one).
#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn mlcompat(cache: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("MLCOMPAT_CACHE_DIR", cache)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env("NO_COLOR", "1");
    cmd
}

#[expect(
    clippy::disallowed_methods,
    reason = "test set-up runs python3 and pip directly"
)]
fn run(program: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .expect("runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A fresh venv with real packages from PyPI, installed by pip with `args`; `None` when PyPI cannot be
/// reached (the suite then says so instead of failing on the network).
fn venv_with(root: &Path, steps: &[&[&str]]) -> Option<PathBuf> {
    let python = which::which("python3").ok()?;
    let (ok, out) = run(&python, &["-m", "venv", &root.display().to_string()]);
    assert!(ok, "{out}");
    let pip = root.join("bin/pip");
    for step in steps {
        let (ok, out) = run(&pip, step);
        if !ok && (out.contains("No matching distribution") || out.contains("connection")) {
            eprintln!("PyPI unreachable, skipped: {out}");
            return None;
        }
        assert!(ok, "pip {step:?}: {out}");
    }
    Some(root.join("bin/python"))
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// `pip check` lines as (requirer, required name, installed?).
fn pip_check(python: &Path) -> BTreeSet<(String, String, bool)> {
    let (_, out) = run(python, &["-m", "pip", "check"]);
    out.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                [dist, _, "requires", req, ..] if l.ends_with("which is not installed.") => {
                    Some((normalize(dist), normalize(req.trim_end_matches(',')), false))
                }
                [dist, _, "has", "requirement", ..] => {
                    let have = l.split(", but you have ").nth(1)?;
                    Some((normalize(dist), normalize(have.split(' ').next()?), true))
                }
                _ => None,
            }
        })
        .collect()
}

fn unmet_of(python: &Path, cache: &Path) -> (BTreeSet<(String, String, bool)>, serde_json::Value) {
    let out = mlcompat(cache)
        .args([
            "probe",
            "--no-cache",
            "--python",
            &python.display().to_string(),
        ])
        .output()
        .expect("probe runs");
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON facts");
    let unmet = facts["python"]["unmet_requirements"]
        .as_array()
        .expect("the probe checked the requirements")
        .iter()
        .filter(|u| u.get("extra").is_none())
        .map(|u| {
            let req = u["requires"].as_str().unwrap_or_default();
            let name: String = req
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                .collect();
            (
                u["dist"].as_str().unwrap_or_default().to_string(),
                normalize(&name),
                u.get("installed").is_some(),
            )
        })
        .collect();
    (unmet, facts)
}

#[test]
fn unmet_requirements_agree_with_pip_check_on_real_packages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    // requests without its dependencies, then an idna its pin excludes; huggingface-hub without its
    // dependencies (markers on platform_machine for hf-xet); tqdm, whose only requirement is for Windows.
    let Some(python) = venv_with(
        &dir.path().join("venv"),
        &[
            &[
                "install",
                "--quiet",
                "--no-deps",
                "requests==2.32.3",
                "idna==2.0",
            ],
            &[
                "install",
                "--quiet",
                "--no-deps",
                "huggingface-hub==0.36.0",
                "tqdm==4.67.1",
            ],
        ],
    ) else {
        return;
    };
    let expected = pip_check(&python);
    assert!(
        expected.len() >= 5,
        "the broken venv is broken: {expected:?}"
    );
    let (found, facts) = unmet_of(&python, &cache);
    assert_eq!(found, expected, "facts: {}", facts["python"]);
    // Fixing it as pip check's reader would makes both empty.
    let (ok, out) = run(
        &dir.path().join("venv/bin/pip"),
        &[
            "install",
            "--quiet",
            "requests==2.32.3",
            "huggingface-hub==0.36.0",
        ],
    );
    assert!(ok, "{out}");
    assert!(pip_check(&python).is_empty());
    assert!(unmet_of(&python, &cache).0.is_empty());
}

/// `mlcompat doctor --format json ARGS`: its exit status and report.
fn doctor_json(cache: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = mlcompat(cache)
        .args(["doctor", "--format", "json"])
        .args(args)
        .output()
        .expect("doctor runs");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

/// The CPU box of `tests/fixtures/facts` with these packages and unmet requirements, judged by `doctor`.
fn doctor_on(
    packages: &[(&str, &str)],
    unmet: serde_json::Value,
    unused_cuda: &[&str],
    extra_args: &[&str],
) -> (Option<i32>, serde_json::Value) {
    let base = std::fs::read_to_string("tests/fixtures/facts/cpu-box-debian12-py311.json")
        .expect("fixture");
    let mut facts: serde_json::Value = serde_json::from_str(&base).expect("JSON");
    let py = &mut facts["python"];
    py["packages"] = packages
        .iter()
        .map(|(n, v)| ((*n).to_string(), serde_json::Value::from(*v)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    py["unmet_requirements"] = unmet;
    py["unused_cuda_wheels"] = serde_json::json!(unused_cuda);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("facts.json");
    std::fs::write(&file, facts.to_string()).expect("writable");
    let file = file.display().to_string();
    let mut args = vec!["--facts", file.as_str()];
    args.extend_from_slice(extra_args);
    doctor_json(dir.path(), &args)
}

fn row<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no row {id}"))
}

fn steps(report: &serde_json::Value) -> Vec<String> {
    report["recommendations"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|s| s["text"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const TORCH_STACK: &[(&str, &str)] = &[
    ("torch", "2.15.0"),
    ("transformers", "5.25.0"),
    ("peft", "0.18.0"),
    ("accelerate", "1.12.0"),
    ("tokenizers", "0.23.3"),
    ("filelock", "4.3.1"),
];

#[test]
fn a_missing_dependency_of_torch_is_one_fix_for_every_row_it_breaks() {
    // `pip uninstall sympy` under transformers + peft: torch imports, torch.compile does not.
    let unmet = serde_json::json!([{
        "dist": "torch", "version": "2.15.0", "requires": "sympy>=1.13.3",
        "needed_by": ["accelerate", "peft"]
    }]);
    let (code, report) = doctor_on(TORCH_STACK, unmet, &[], &["--require", "pytorch"]);
    assert_eq!(code, Some(1));
    for id in ["pytorch", "peft", "transformers"] {
        let r = row(&report, id);
        assert_eq!(r["status"], "fail", "{id}: {r}");
        assert_eq!(r["fix"], "pip install 'sympy>=1.13.3'", "{id}: {r}");
    }
    assert!(
        row(&report, "pytorch")["reason"].as_str().is_some_and(
            |t| t.contains("torch 2.15.0 requires sympy>=1.13.3, which is not installed")
        )
    );
    let fixes: Vec<String> = steps(&report)
        .into_iter()
        .filter(|s| s.contains("sympy"))
        .collect();
    assert_eq!(fixes.len(), 1, "one step for one cause: {fixes:?}");
}

#[test]
fn vllm_installed_without_its_dependencies_fails_the_gate() {
    // `pip install --no-deps vllm` into a torch venv: ~40 missing and a torch pin.
    let mut unmet = vec![serde_json::json!({
        "dist": "vllm", "version": "0.34.0", "requires": "torch==2.14.0", "installed": "2.15.0"
    })];
    for name in ["cloudpickle", "msgspec", "fastapi", "openai", "xgrammar"] {
        unmet.push(serde_json::json!({"dist": "vllm", "version": "0.34.0", "requires": name}));
    }
    let mut packages = TORCH_STACK.to_vec();
    packages.push(("vllm", "0.34.0"));
    let (code, report) = doctor_on(
        &packages,
        serde_json::Value::from(unmet),
        &[],
        &["--require", "pytorch,vllm"],
    );
    assert_eq!(
        code,
        Some(1),
        "the check step install-plan prints must fail"
    );
    let vllm = row(&report, "vllm");
    assert_eq!(vllm["status"], "fail");
    assert_eq!(vllm["fix"], "pip install 'vllm==0.34.0'");
    assert!(!vllm["note"]
        .as_str()
        .unwrap_or_default()
        .contains("CPU backend"));
    assert_eq!(row(&report, "pytorch")["status"], "ok");
}

#[test]
fn vllm_from_pypi_on_a_box_without_a_gpu_is_a_cuda_build() {
    let mut packages = TORCH_STACK.to_vec();
    packages.push(("vllm", "0.34.0"));
    let (_, report) = doctor_on(&packages, serde_json::json!([]), &[], &[]);
    let vllm = row(&report, "vllm");
    assert_eq!(vllm["note"], "CUDA build, no GPU here", "{vllm}");
    packages.pop();
    packages.push(("vllm", "0.34.0+cpu"));
    let (_, report) = doctor_on(&packages, serde_json::json!([]), &[], &[]);
    assert_eq!(row(&report, "vllm")["note"], "CPU backend, slow");
}

#[test]
fn a_torchvision_built_for_another_torch_is_named_with_the_fix_that_matches() {
    let mut packages = TORCH_STACK.to_vec();
    packages.push(("torchvision", "0.24.0"));
    let unmet = serde_json::json!([{
        "dist": "torchvision", "version": "0.24.0", "requires": "torch==2.9.0", "installed": "2.15.0"
    }]);
    let (_, report) = doctor_on(&packages, unmet, &[], &[]);
    let torch = row(&report, "pytorch");
    assert_eq!(torch["status"], "warn", "{torch}");
    assert_eq!(torch["note"], "torchvision does not match it");
    assert_eq!(torch["fix"], "pip install -U torchvision 'torch==2.15.0'");
    let transformers = row(&report, "transformers");
    assert_eq!(transformers["status"], "warn");
    assert_eq!(transformers["fix"], torch["fix"]);
    let fixes: Vec<String> = steps(&report)
        .into_iter()
        .filter(|s| s.contains("torchvision"))
        .collect();
    assert_eq!(fixes.len(), 1, "{fixes:?}");
}

#[test]
fn transformers_without_torch_is_tokenizers_and_configs_not_a_failure() {
    let packages = [
        ("transformers", "5.25.0"),
        ("tokenizers", "0.23.3"),
        ("mlx", "0.32.0"),
        ("mlx-lm", "0.32.2"),
    ];
    let (code, report) = doctor_on(
        &packages,
        serde_json::json!([]),
        &[],
        &["--require", "transformers"],
    );
    let t = row(&report, "transformers");
    assert_eq!(t["status"], "ok", "{t}");
    assert!(t["note"]
        .as_str()
        .unwrap_or_default()
        .contains("tokenizers and configs only"));
    assert_eq!(code, Some(0));
}

#[test]
fn a_cpu_torch_over_a_cuda_one_is_a_cpu_build_with_space_to_reclaim() {
    let packages = [
        ("torch", "2.15.0+cpu"),
        ("nvidia-cublas", "13.4.1.3"),
        ("nvidia-cuda-runtime", "13.2.86"),
        ("cuda-toolkit", "13.2.2"),
        ("triton", "3.9.0"),
    ];
    let (_, report) = doctor_on(
        &packages,
        serde_json::json!([]),
        &[
            "cuda-toolkit",
            "nvidia-cublas",
            "nvidia-cuda-runtime",
            "triton",
        ],
        &[],
    );
    let t = row(&report, "pytorch");
    assert_eq!(t["note"], "CPU build; CUDA wheels left over", "{t}");
    assert_eq!(
        t["fix"],
        "pip uninstall -y cuda-toolkit nvidia-cublas nvidia-cuda-runtime triton  (nothing installed needs them; frees ~4 GB)"
    );
    // Nothing left over: just the CPU build.
    let (_, report) = doctor_on(&packages[..1], serde_json::json!([]), &[], &[]);
    assert_eq!(row(&report, "pytorch")["note"], "CPU wheel");
}

#[test]
fn the_quick_doctor_says_imports_were_not_tried() {
    let (code, report) = doctor_on(TORCH_STACK, serde_json::json!([]), &[], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(row(&report, "pytorch")["import"], "not_tried");
    assert!(
        steps(&report)
            .iter()
            .any(|s| s.contains("imports not tried") && s.contains("--deep")),
        "{:?}",
        steps(&report)
    );
}

/// A real shared library (this system's libz), copied into a stand-in wheel and cut short after install,
/// as a full disk or an interrupted copy leaves it: `import torch` dies of SIGBUS, as it did with a
/// truncated libcublas.so.13 in a real torch 2.15.0 venv. The fix must name the damaged distribution.
#[test]
fn an_import_killed_by_a_truncated_library_names_the_damaged_wheel() {
    let Some(libz) = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib64/libz.so.1",
        "/usr/lib64/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
    ]
    .iter()
    .map(Path::new)
    .find(|p| p.exists()) else {
        eprintln!("no libz here, skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(python) = venv_with(&dir.path().join("venv"), &[]) else {
        return;
    };
    let (_, site) = run(
        &python,
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
    );
    let site = PathBuf::from(site.trim());
    let lib = std::fs::read(libz).expect("readable libz");
    std::fs::create_dir_all(site.join("nvidia/fake/lib")).expect("writable");
    std::fs::write(
        site.join("nvidia/fake/lib/libz.so.1"),
        &lib[..lib.len() / 3],
    )
    .expect("writable");
    let write = |dist: &str, meta: &str, record: &str| {
        let info = site.join(format!("{dist}.dist-info"));
        std::fs::create_dir_all(&info).expect("writable");
        std::fs::write(info.join("METADATA"), meta).expect("writable");
        std::fs::write(info.join("RECORD"), record).expect("writable");
    };
    write(
        "nvidia_fake-1.0",
        "Metadata-Version: 2.1\nName: nvidia-fake\nVersion: 1.0\n",
        &format!("nvidia/fake/lib/libz.so.1,sha256=x,{}\n", lib.len()),
    );
    let init = "import ctypes, os\nctypes.CDLL(os.path.join(os.path.dirname(__file__), '..', 'nvidia', 'fake', 'lib', 'libz.so.1'))\n";
    write(
        "torch-2.15.0",
        "Metadata-Version: 2.1\nName: torch\nVersion: 2.15.0\nRequires-Dist: nvidia-fake==1.0\n",
        &format!("torch/__init__.py,sha256=y,{}\n", init.len()),
    );
    std::fs::create_dir_all(site.join("torch")).expect("writable");
    std::fs::write(site.join("torch/__init__.py"), init).expect("writable");
    let (_, report) = deep_report(&python, dir.path(), &[]);
    let torch = row(&report, "pytorch");
    assert_eq!(torch["status"], "fail", "{torch}");
    assert!(
        torch["reason"]
            .as_str()
            .is_some_and(|r| r.contains("SIGBUS") && r.contains("libz.so.1 of nvidia-fake 1.0")),
        "{torch}"
    );
    assert_eq!(
        torch["fix"].as_str().and_then(|f| f.split("  (").next()),
        Some("pip install --force-reinstall --no-deps 'nvidia-fake==1.0'")
    );
}

/// A stand-in distribution: its dist-info folder's name, its METADATA, and files (path, text).
type StandIn<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// A venv (real) with stand-in distributions.
fn venv_with_standins(root: &Path, dists: &[StandIn]) -> Option<PathBuf> {
    let python = venv_with(root, &[])?;
    let (_, site) = run(
        &python,
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
    );
    let site = PathBuf::from(site.trim());
    for (info, meta, files) in dists {
        let dir = site.join(format!("{info}.dist-info"));
        std::fs::create_dir_all(&dir).expect("writable");
        std::fs::write(dir.join("METADATA"), meta).expect("writable");
        for (path, text) in *files {
            let file = site.join(path);
            std::fs::create_dir_all(file.parent().expect("a folder")).expect("writable");
            std::fs::write(file, text).expect("writable");
        }
    }
    Some(python)
}

fn deep_report(python: &Path, cache: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let python = python.display().to_string();
    let mut all = vec!["--deep", "--no-cache", "--python", python.as_str()];
    all.extend_from_slice(args);
    doctor_json(cache, &all)
}

/// vLLM loads lazily: `import vllm` works in a venv that lacks its dependencies, `from vllm import LLM`
/// does not. `--deep` runs what users call.
#[test]
fn deep_runs_the_import_users_call_not_just_the_lazy_package() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lazy = "def __getattr__(name):\n    if name == 'LLM':\n        from vllm.entrypoints.llm import LLM\n        return LLM\n    raise AttributeError(name)\n";
    let Some(python) = venv_with_standins(
        &dir.path().join("venv"),
        &[(
            "vllm-0.34.0",
            "Metadata-Version: 2.1\nName: vllm\nVersion: 0.34.0\nRequires-Dist: cloudpickle\n",
            &[
                ("vllm/__init__.py", lazy),
                ("vllm/entrypoints/__init__.py", ""),
                (
                    "vllm/entrypoints/llm.py",
                    "import cloudpickle\nclass LLM: pass\n",
                ),
            ],
        )],
    ) else {
        return;
    };
    let (_, plain) = run(&python, &["-c", "import vllm; print('imported')"]);
    assert!(plain.contains("imported"), "{plain}");
    let (code, report) = deep_report(&python, dir.path(), &["--require", "vllm"]);
    assert_eq!(code, Some(1));
    let vllm = row(&report, "vllm");
    assert_eq!(vllm["status"], "fail", "{vllm}");
    let reason = vllm["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("`from vllm import LLM` failed"), "{reason}");
    assert!(reason.contains("No module named 'cloudpickle'"), "{reason}");
    assert!(
        reason.contains("vllm/entrypoints/llm.py:1"),
        "where it raised: {reason}"
    );
    // The declared requirement that is missing is the cause, and its fix the one to run: run it.
    assert_eq!(vllm["fix"], "pip install cloudpickle", "{vllm}");
    let (ok, out) = run(&python, &["-m", "pip", "install", "--quiet", "cloudpickle"]);
    assert!(ok, "{out}");
    let (_, report) = deep_report(&python, dir.path(), &["--require", "vllm"]);
    let vllm = row(&report, "vllm");
    assert_eq!(vllm["import"], "ok");
    // What is left is what the stand-in lacks on purpose (torch), not the import.
    assert_eq!(vllm["rule"], "requires-pytorch", "{vllm}");
}

/// What a package prints on stderr while it imports is kept, not only lines that say "warn"
/// (bitsandbytes on a CPU box prints the first of these).
#[test]
fn deep_keeps_what_an_import_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let init = "import sys\nprint('Failed to load CPU gemm_4bit_forward from kernels-community', file=sys.stderr)\nprint('100%|\u{2588}\u{2588}\u{2588}| 3/3 [00:01<00:00, 2.00it/s]', file=sys.stderr)\n__version__ = '0.50.2'\n";
    let Some(python) = venv_with_standins(
        &dir.path().join("venv"),
        &[(
            "bitsandbytes-0.50.2",
            "Metadata-Version: 2.1\nName: bitsandbytes\nVersion: 0.50.2\n",
            &[("bitsandbytes/__init__.py", init)],
        )],
    ) else {
        return;
    };
    let (_, report) = deep_report(&python, dir.path(), &[]);
    let bnb = row(&report, "bitsandbytes");
    let warnings: Vec<&str> = bnb["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    assert!(
        warnings.contains(&"Failed to load CPU gemm_4bit_forward from kernels-community"),
        "{bnb}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("it/s")),
        "progress bars dropped: {warnings:?}"
    );
}

/// The companion fix resolves as intended with pip's own resolver: a torchvision built for the installed
/// torch, and torch left as it is (pip's dry run against PyPI; the install itself was run on a real
/// torch 2.15.0 venv: torchvision 0.29.2 in 5 s, tests/fixtures/broken-envs/truth.json).
#[test]
fn the_torchvision_fix_resolves_to_a_build_for_the_installed_torch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(python) = venv_with_standins(
        &dir.path().join("venv"),
        &[
            ("torch-2.15.0", "Metadata-Version: 2.1\nName: torch\nVersion: 2.15.0\n", &[]),
            (
                "torchvision-0.24.0",
                "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.24.0\nRequires-Dist: torch==2.9.0\n",
                &[],
            ),
        ],
    ) else {
        return;
    };
    let (_, report) = doctor_json(
        dir.path(),
        &["--no-cache", "--python", &python.display().to_string()],
    );
    let torch = row(&report, "pytorch");
    let fix = torch["fix"].as_str().expect("a fix");
    assert_eq!(fix, "pip install -U torchvision 'torch==2.15.0'");
    let (ok, out) = run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--report",
            "-",
            "-U",
            "torchvision",
            "torch==2.15.0",
        ],
    );
    if !ok && out.contains("No matching distribution") {
        eprintln!("PyPI unreachable, skipped: {out}");
        return;
    }
    assert!(ok, "{out}");
    let json_start = out.find('{').expect("a report");
    let resolved: serde_json::Value =
        serde_json::from_str(&out[json_start..]).expect("pip's report");
    let names: Vec<(String, String)> = resolved["install"]
        .as_array()
        .expect("install list")
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
                i["metadata"]["version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert!(
        !names.iter().any(|(n, _)| n == "torch"),
        "torch is kept: {names:?}"
    );
    let tv = resolved["install"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["metadata"]["name"] == "torchvision"))
        .expect("torchvision is installed");
    let requires: Vec<&str> = tv["metadata"]["requires_dist"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    // Its torch requirement (`torch==2.15.0`, or `torch (>=2.14.0)` as pip's report writes it) holds
    // for the installed torch.
    let spec = requires
        .iter()
        .find_map(|r| r.strip_prefix("torch"))
        .map(|r| {
            r.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .replace(' ', "")
        })
        .expect("torchvision requires torch");
    let spec: pep440_rs::VersionSpecifiers = spec.parse().expect("a specifier");
    assert!(
        spec.contains(&"2.15.0".parse().expect("version")),
        "{requires:?}"
    );
}

/// A `pip check` pasted into a bug report is read as the facts it states: what is installed at which
/// version, and what is unmet — and the doctor reaches the same verdict and fix as on the live venv.
#[test]
fn a_pasted_pip_check_is_judged_like_the_live_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doctor = |file: &str, require: &str| {
        let path = format!("tests/fixtures/dumps/pip-check/{file}");
        doctor_json(dir.path(), &["--require", require, "--facts", &path])
    };
    let (code, report) = doctor("vllm-0.34.0-no-deps.txt", "vllm");
    assert_eq!(code, Some(1));
    let vllm = row(&report, "vllm");
    assert_eq!(vllm["status"], "fail");
    assert_eq!(vllm["fix"], "pip install 'vllm==0.34.0'");
    assert!(
        vllm["note"]
            .as_str()
            .is_some_and(|n| n.contains("63 requirements missing, 2 at the wrong version")),
        "{vllm}"
    );
    let (_, report) = doctor("torchvision-0.24.0-on-torch-2.15.0.txt", "pytorch");
    let torch = row(&report, "pytorch");
    assert_eq!(torch["installed"], "2.15.0");
    assert_eq!(
        torch["fix"], "pip install -U torchvision 'torch==2.15.0'",
        "{torch}"
    );
}
