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
                [dist, _, "requires", req, ..] if l.ends_with("which is not installed.") => Some((
                    normalize(dist),
                    normalize(req.trim_end_matches(',')),
                    false,
                )),
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
        .args(["probe", "--no-cache", "--python", &python.display().to_string()])
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
            &["install", "--quiet", "--no-deps", "requests==2.32.3", "idna==2.0"],
            &["install", "--quiet", "--no-deps", "huggingface-hub==0.36.0", "tqdm==4.67.1"],
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
    let (ok, out) = run(&dir.path().join("venv/bin/pip"), &["install", "--quiet", "requests==2.32.3", "huggingface-hub==0.36.0"]);
    assert!(ok, "{out}");
    assert!(pip_check(&python).is_empty());
    assert!(unmet_of(&python, &cache).0.is_empty());
}
