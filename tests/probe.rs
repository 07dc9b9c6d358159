//! Probing this machine for real: a Python virtual environment created here (its real pip and
//! setuptools, plus hand-written metadata for heavy packages) must list exactly what `pip list` lists, and
//! hostile programs on PATH (hanging, failing, printing garbage) never hang or crash the doctor.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn mlcompat(cache: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("MLCOMPAT_CACHE_DIR", cache)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env("NO_COLOR", "1");
    cmd
}

fn python3() -> Option<PathBuf> {
    which::which("python3").ok()
}

#[expect(
    clippy::disallowed_methods,
    reason = "test set-up runs python3 directly"
)]
fn run_python(python: &Path, args: &[&str]) -> String {
    let out = Command::new(python)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A venv with pip (real), plus `.dist-info` written by hand for torch and flash_attn, and an egg-info.
fn venv(root: &Path) -> Option<PathBuf> {
    let python = python3()?;
    run_python(&python, &["-m", "venv", &root.display().to_string()]);
    let venv_python = root.join("bin/python");
    let site = run_python(
        &venv_python,
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
    );
    let site = PathBuf::from(site.trim());
    for (dir, name, version) in [
        ("torch-2.6.0+cu126.dist-info", "torch", "2.6.0+cu126"),
        (
            "flash_attn-2.7.4.post1.dist-info",
            "flash_attn",
            "2.7.4.post1",
        ),
        (
            "nightly-2.8.0.dev20250301.dist-info",
            "nightly",
            "2.8.0.dev20250301",
        ),
    ] {
        std::fs::create_dir_all(site.join(dir)).expect("writable");
        std::fs::write(site.join(dir).join("METADATA"), format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n\nLong description\nVersion: 9.9\n")).expect("writable");
        std::fs::write(site.join(dir).join("RECORD"), "").expect("writable");
    }
    std::fs::write(
        site.join("legacy_tool-0.0.post1-py3.11.egg-info"),
        "Metadata-Version: 1.1\nName: legacy-tool\nVersion: 0.0.post1\n",
    )
    .expect("writable");
    Some(venv_python)
}

fn normalize(name: &str) -> String {
    name.to_lowercase().replace(['_', '.'], "-")
}

#[test]
fn packages_agree_exactly_with_pip_list() {
    let Some(_) = python3() else {
        eprintln!("skipped: no python3 on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let venv_python = venv(&dir.path().join("venv")).expect("venv");
    let pip: Vec<serde_json::Value> = serde_json::from_str(&run_python(
        &venv_python,
        &[
            "-m",
            "pip",
            "list",
            "--format=json",
            "--disable-pip-version-check",
        ],
    ))
    .expect("pip JSON");
    let pip: BTreeMap<String, String> = pip
        .iter()
        .map(|p| {
            (
                normalize(p["name"].as_str().unwrap_or_default()),
                p["version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();

    let out = mlcompat(dir.path())
        .args(["probe", "--python", &venv_python.display().to_string()])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("facts JSON");
    let ours: BTreeMap<String, String> = facts["python"]["packages"]
        .as_object()
        .expect("packages")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(ours, pip, "mlcompat and pip list disagree");
    assert_eq!(ours["torch"], "2.6.0+cu126");
    assert_eq!(ours["flash-attn"], "2.7.4.post1");
    assert_eq!(facts["python"]["chosen_by"], "--python");

    // The second run reads the cache and must give the same answer.
    let again = mlcompat(dir.path())
        .args(["probe", "--python", &venv_python.display().to_string()])
        .output()
        .expect("runs");
    let facts2: serde_json::Value = serde_json::from_slice(&again.stdout).expect("facts JSON");
    assert_eq!(facts2["python"]["packages"], facts["python"]["packages"]);

    // VIRTUAL_ENV picks the environment without --python.
    let chosen = mlcompat(dir.path())
        .env("VIRTUAL_ENV", dir.path().join("venv"))
        .args(["probe"])
        .output()
        .expect("runs");
    let facts3: serde_json::Value = serde_json::from_slice(&chosen.stdout).expect("facts JSON");
    assert_eq!(facts3["python"]["chosen_by"], "VIRTUAL_ENV");

    // The doctor sees the hand-written flash-attn and torch.
    let doctor = mlcompat(dir.path())
        .args([
            "doctor",
            "--format",
            "json",
            "--python",
            &venv_python.display().to_string(),
        ])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).expect("report JSON");
    let rows = report["rows"].as_array().expect("rows");
    let installed = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["installed"].clone())
    };
    assert_eq!(installed("pytorch"), Some(serde_json::json!("2.6.0+cu126")));
    assert_eq!(
        installed("flash-attention"),
        Some(serde_json::json!("2.7.4.post1"))
    );
}

fn fake_path(programs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, body) in programs {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("writable");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

/// Runs `doctor` with only the fake programs on PATH, in an empty folder; returns (exit code, stdout).
fn doctor_with(programs: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    let path = fake_path(programs);
    let cwd = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let out = mlcompat(cwd.path())
        .current_dir(cwd.path())
        .env("PATH", path.path())
        .args(["doctor", "--timeout", "1"])
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        start.elapsed(),
    )
}

#[test]
fn a_hanging_python_and_tools_are_named_and_the_doctor_finishes() {
    let (code, stdout, took) = doctor_with(&[
        ("python3", "/bin/sleep 30"),
        ("ollama", "/bin/sleep 30"),
        ("nvidia-smi", "/bin/sleep 30"),
    ]);
    assert!(matches!(code, Some(0 | 1)), "{stdout}");
    // Lines wrap at the width: read the text as words.
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("python: python3 timed out after 1 s"),
        "{stdout}"
    );
    if !Path::new("/proc/driver/nvidia/version").exists() {
        assert!(
            flat.contains("nvidia-smi: nvidia-smi timed out after 1 s"),
            "{stdout}"
        );
    }
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_failing_python_is_a_fact() {
    let (code, stdout, _) = doctor_with(&[(
        "python3",
        "echo 'Fatal Python error: init_fs_encoding' >&2; exit 1",
    )]);
    assert!(matches!(code, Some(0 | 1)));
    assert!(
        stdout
            .contains("python: python3 exited with status 1: Fatal Python error: init_fs_encoding"),
        "{stdout}"
    );
}

#[test]
fn garbage_and_non_utf8_output_are_facts() {
    let (_, stdout, _) = doctor_with(&[("python3", "echo 'this is not json'")]);
    assert!(
        stdout.contains("python: python3 printed unexpected output"),
        "{stdout}"
    );
    let (_, stdout, _) = doctor_with(&[
        ("python3", "printf '\\377\\376'"),
        ("ollama", "printf '\\377'"),
    ]);
    assert!(
        stdout.contains("python: python3 printed output that is not UTF-8"),
        "{stdout}"
    );
}

#[test]
fn no_python_at_all() {
    let (code, stdout, _) = doctor_with(&[]);
    assert!(matches!(code, Some(0 | 1)));
    assert!(stdout.contains("no Python interpreter found"), "{stdout}");
}

#[test]
fn without_a_driver_the_doctor_says_so() {
    if Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("skipped: this machine has an NVIDIA driver");
        return;
    }
    let (code, stdout, _) = doctor_with(&[]);
    assert!(matches!(code, Some(0 | 1)));
    assert!(stdout.contains("no NVIDIA driver found"), "{stdout}");
}

#[test]
fn deep_imports_catch_abi_errors_and_survive_hangs() {
    let Some(_) = python3() else {
        eprintln!("skipped: no python3 on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let venv_python = venv(&dir.path().join("venv")).expect("venv");
    let site = PathBuf::from(
        run_python(
            &venv_python,
            &[
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
        )
        .trim(),
    );
    // torch imports (a stand-in answering the probe's questions as a CUDA 12.6 build without a GPU);
    // flash_attn fails the way it does after a torch upgrade; xformers hangs on import.
    std::fs::create_dir_all(site.join("torch")).expect("writable");
    std::fs::write(
        site.join("torch/__init__.py"),
        "__version__ = '2.6.0+cu126'\nclass cuda:\n    is_available = staticmethod(lambda: False)\n    get_arch_list = staticmethod(lambda: [])\nclass version:\n    cuda = '12.6'\nclass backends:\n    pass\n",
    )
    .expect("writable");
    std::fs::create_dir_all(site.join("flash_attn")).expect("writable");
    std::fs::write(
        site.join("flash_attn/__init__.py"),
        "raise ImportError('/venv/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: _ZN2at4_ops15sum_IntList_out4callE')\n",
    )
    .expect("writable");
    std::fs::create_dir_all(site.join("xformers-0.0.28.dist-info")).expect("writable");
    std::fs::write(
        site.join("xformers-0.0.28.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: xformers\nVersion: 0.0.28\n",
    )
    .expect("writable");
    std::fs::create_dir_all(site.join("xformers")).expect("writable");
    std::fs::write(
        site.join("xformers/__init__.py"),
        "import time\ntime.sleep(600)\n",
    )
    .expect("writable");

    // The current folder holds modules a careless or hostile folder could hold, and PYTHONPATH has an
    // empty entry (the working folder): none of them may be imported.
    let cwd = tempfile::tempdir().expect("temp dir");
    let markers = tempfile::tempdir().expect("temp dir");
    for module in ["torch", "flash_attn", "xformers", "json", "sitecustomize"] {
        std::fs::write(
            cwd.path().join(format!("{module}.py")),
            format!(
                "open({:?}, 'w').write('ran')\n",
                markers.path().join(module).display().to_string()
            ),
        )
        .expect("writable");
    }
    // A cache entry edited to name another interpreter: --deep must not run it.
    let probe_first = mlcompat(dir.path())
        .current_dir(cwd.path())
        .env("PYTHONPATH", ":/nonexistent")
        .args(["probe", "--python", &venv_python.display().to_string()])
        .output()
        .expect("runs");
    assert!(probe_first.status.success());
    let evil = dir.path().join("evil");
    std::fs::write(
        &evil,
        format!(
            "#!/bin/sh\ntouch {}\n",
            markers.path().join("evil").display()
        ),
    )
    .expect("writable");
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut poisoned = 0;
    for entry in std::fs::read_dir(dir.path()).expect("cache").flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if poison(&mut value, &evil.display().to_string()) {
            std::fs::write(entry.path(), value.to_string()).expect("writable");
            poisoned += 1;
        }
    }
    assert!(poisoned > 0, "no cache entry names an executable");

    let start = Instant::now();
    let out = mlcompat(dir.path())
        .current_dir(cwd.path())
        .env("PYTHONPATH", ":/nonexistent")
        .args([
            "doctor",
            "--deep",
            "--import-timeout",
            "3",
            "--format",
            "json",
            "--python",
            &venv_python.display().to_string(),
        ])
        .output()
        .expect("runs");
    // --deep also runs the CPU bandwidth bench, which takes tens of seconds in a debug build on a busy
    // machine; the bound only has to catch the 600 s import hang.
    assert!(
        start.elapsed() < Duration::from_secs(180),
        "took {:?}",
        start.elapsed()
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    let rows = report["rows"].as_array().expect("rows");
    let find = |id: &str| rows.iter().find(|r| r["id"] == id).cloned().expect("row");
    let fa = find("flash-attention");
    assert_eq!(fa["status"], "fail");
    assert_eq!(fa["rule"], "flash-attention-abi-mismatch");
    assert!(fa["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("undefined symbol"));
    // A hanging import is not known to be broken: ⚠️, with how to find out.
    let xf = find("xformers");
    assert_eq!(xf["status"], "warn", "{xf}");
    assert_eq!(xf["rule"], "import-timed-out", "{xf}");
    assert!(
        xf["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out after 3 s"),
        "{xf}"
    );
    let ran: Vec<String> = std::fs::read_dir(markers.path())
        .expect("listed")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        ran,
        Vec::<String>::new(),
        "code ran that --deep must not run"
    );
}

/// Sets every `executable` in a JSON document to `to`; whether there was one.
fn poison(value: &mut serde_json::Value, to: &str) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            let mut found = false;
            for (k, v) in map.iter_mut() {
                if k == "executable" {
                    *v = serde_json::Value::String(to.to_string());
                    found = true;
                } else {
                    found |= poison(v, to);
                }
            }
            found
        }
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |f, v| poison(v, to) | f),
        _ => false,
    }
}

/// A wheel built by hand (a zip with METADATA, WHEEL and RECORD): `pip install` takes it offline.
fn tiny_wheel(dir: &Path, python: &Path) -> PathBuf {
    let wheel = dir.join("tiny_user_tool-1.2.3-py3-none-any.whl");
    run_python(
        python,
        &[
            "-c",
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1], 'w')\n\
             d = 'tiny_user_tool-1.2.3.dist-info/'\n\
             z.writestr('tiny_user_tool/__init__.py', '')\n\
             z.writestr(d + 'METADATA', 'Metadata-Version: 2.1\\nName: tiny-user-tool\\nVersion: 1.2.3\\n')\n\
             z.writestr(d + 'WHEEL', 'Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n\
             z.writestr(d + 'RECORD', '')\n\
             z.close()",
            &wheel.display().to_string(),
        ],
    );
    wheel
}

#[expect(
    clippy::disallowed_methods,
    reason = "test set-up runs pip directly, with its own environment"
)]
fn pip_list(pip: &Path, cwd: &Path, env: &[(&str, &Path)]) -> BTreeMap<String, String> {
    let mut cmd = Command::new(pip);
    cmd.args(["list", "--format=json", "--disable-pip-version-check"])
        .current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("pip runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("pip JSON");
    list.iter()
        .map(|p| {
            (
                normalize(p["name"].as_str().unwrap_or_default()),
                p["version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn user_site_packages_are_seen_exactly_as_pip_list_sees_them() {
    let Some(python) = python3() else {
        eprintln!("skipped: no python3 on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let venv = dir.path().join("venv");
    run_python(
        &python,
        &[
            "-m",
            "venv",
            "--system-site-packages",
            &venv.display().to_string(),
        ],
    );
    let userbase = dir.path().join("userbase");
    let wheel = tiny_wheel(dir.path(), &python);
    #[expect(clippy::disallowed_methods, reason = "test set-up runs pip")]
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--user", "--no-index", "--no-deps", "--quiet"])
        .arg(&wheel)
        .env("PYTHONUSERBASE", &userbase)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .expect("pip runs");
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    // A stray distribution in the folder mlcompat and pip run from: `pip list` does not list it.
    let cwd = dir.path().join("project");
    std::fs::create_dir_all(cwd.join("stray-9.9.dist-info")).expect("writable");
    std::fs::write(
        cwd.join("stray-9.9.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: stray\nVersion: 9.9\n",
    )
    .expect("writable");
    let cache = dir.path().join("cache");
    let ours = |env: &[(&str, &Path)]| {
        let mut cmd = mlcompat(&cache);
        cmd.current_dir(&cwd).args([
            "probe",
            "--python",
            &venv.join("bin/python").display().to_string(),
        ]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("facts JSON");
        facts["python"]["packages"]
            .as_object()
            .expect("packages")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect::<BTreeMap<String, String>>()
    };
    let with_user = [("PYTHONUSERBASE", userbase.as_path())];
    let pip = pip_list(&venv.join("bin/pip"), &cwd, &with_user);
    assert_eq!(pip.get("tiny-user-tool").map(String::as_str), Some("1.2.3"));
    assert_eq!(ours(&with_user), pip, "with the user site");
    let without = [
        ("PYTHONUSERBASE", userbase.as_path()),
        ("PYTHONNOUSERSITE", Path::new("1")),
    ];
    let pip = pip_list(&venv.join("bin/pip"), &cwd, &without);
    assert!(!pip.contains_key("tiny-user-tool"));
    assert_eq!(ours(&without), pip, "with PYTHONNOUSERSITE");
    // And back, through the cache.
    assert_eq!(ours(&with_user)["tiny-user-tool"], "1.2.3");
}

/// An nvidia-smi that crashes (SIGSEGV) is a broken driver stack, not "no NVIDIA GPU": the doctor says it
/// was killed, and by what.
#[test]
fn a_crashing_nvidia_smi_is_named_not_taken_for_no_gpu() {
    if Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("skipped: a real NVIDIA driver answers before nvidia-smi is asked");
        return;
    }
    let (code, stdout, _) = doctor_with(&[("nvidia-smi", "kill -SEGV $$")]);
    assert!(matches!(code, Some(0 | 1)), "{stdout}");
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("nvidia-smi was killed by signal 11 (SIGSEGV)"),
        "{stdout}"
    );
}
