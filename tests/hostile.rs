//! mlcompat as a hostile user or a careless machine would meet it: code planted in the current folder,
//! FIFOs, `/dev/zero` and links where files should be, programs that hang, crash or leave children
//! behind, a cache someone else prepared, and escape sequences in every text that reaches the terminal.
//! Every case has a bound on wall time (the command is killed past it), and where programs run, a check
//! that none of their processes survives.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// No case may take longer than this; a hang fails the test instead of blocking the suite.
const BOUND: Duration = Duration::from_secs(60);

fn mlcompat(cache: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mlcompat").expect("binary is built");
    cmd.env("MLCOMPAT_CACHE_DIR", cache)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("PYENV_VERSION")
        .env_remove("PYENV_DIR")
        .env_remove("MLCOMPAT_NO_CACHE")
        .env_remove("MLCOMPAT_TRUST_VENV")
        .env("NO_COLOR", "1")
        .timeout(BOUND);
    cmd
}

fn write_script(path: &Path, body: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("writable");
    }
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("writable");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chown(path: &Path, uid: u32) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: lchown with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::lchown(c.as_ptr(), uid, uid) }, 0, "lchown");
}

/// Processes whose command line contains `sleep N` (each test uses its own numbers).
fn sleepers(seconds: &str) -> Vec<String> {
    let wanted = format!("sleep\0{seconds}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.windows(wanted.len()).any(|w| w == wanted.as_bytes()))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// A stand-in interpreter: answers the probe script with a fixed version and `sys.path`, the way
/// `probes/python_info.py` does, and records each run in `runs` (when given).
fn fake_python(path: &Path, version: &str, site: &[&str], runs: Option<&Path>) {
    let list: Vec<String> = site.iter().map(|s| format!("\\\"{s}\\\"")).collect();
    let record = runs.map_or(String::new(), |r| {
        format!("echo run >> '{}'\n", r.display())
    });
    write_script(
        path,
        &format!(
            "{record}echo \"{{\\\"version\\\": \\\"{version}\\\", \\\"implementation\\\": \\\"cpython\\\", \\\"machine\\\": \\\"x86_64\\\", \\\"executable\\\": \\\"$0\\\", \\\"prefix\\\": \\\"/fake\\\", \\\"path\\\": [{}]}}\"",
            list.join(", ")
        ),
    );
}

fn dist_info(site: &Path, name: &str, version: &str) {
    let dir = site.join(format!("{name}-{version}.dist-info"));
    std::fs::create_dir_all(&dir).expect("writable");
    std::fs::write(
        dir.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
    )
    .expect("writable");
}

fn probe_json(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("facts JSON")
}

fn packages(facts: &serde_json::Value) -> BTreeMap<String, String> {
    facts["python"]["packages"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn real_pythons() -> Vec<PathBuf> {
    // python3 on PATH, and Pythons older than 3.11 (no PYTHONSAFEPATH) where pyenv has them.
    let mut out: Vec<PathBuf> = which::which("python3").ok().into_iter().collect();
    if let Some(home) = std::env::var_os("HOME") {
        for v in ["3.8", "3.9", "3.10"] {
            let dir = Path::new(&home).join(".pyenv/versions");
            if let Ok(entries) = std::fs::read_dir(&dir) {
                let found = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&format!("{v}.")))
                    })
                    .map(|p| p.join("bin/python3"))
                    .find(|p| p.is_file());
                out.extend(found);
            }
        }
    }
    out
}

/// Modules an attacker (or a project) left in the current folder: each leaves a file in `markers` when
/// imported.
fn plant_modules(cwd: &Path, markers: &Path) {
    for module in [
        "json",
        "platform",
        "sitecustomize",
        "usercustomize",
        "torch",
        "encodings_extra",
    ] {
        std::fs::write(
            cwd.join(format!("{module}.py")),
            format!(
                "open({:?}, 'w').write('ran')\n",
                markers.join(module).display().to_string()
            ),
        )
        .expect("writable");
    }
}

fn ran(markers: &Path) -> Vec<String> {
    std::fs::read_dir(markers)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn no_code_from_the_current_folder_runs() {
    let pythons = real_pythons();
    if pythons.is_empty() {
        eprintln!("skipped: no python3 on PATH");
        return;
    }
    for python in pythons {
        let cwd = tempfile::tempdir().expect("temp dir");
        let markers = tempfile::tempdir().expect("temp dir");
        let cache = tempfile::tempdir().expect("temp dir");
        plant_modules(cwd.path(), markers.path());
        // An empty PYTHONPATH entry (`export PYTHONPATH=$PYTHONPATH:/x` with nothing before) puts the
        // working folder on sys.path before site-packages are even set up.
        let facts = probe_json(
            mlcompat(cache.path())
                .current_dir(cwd.path())
                .env("PYTHONPATH", ":/nonexistent")
                .args(["probe", "--python", &python.display().to_string()]),
        );
        assert!(
            facts["python"]["version"].is_string(),
            "{}: {facts}",
            python.display()
        );
        assert_eq!(
            ran(markers.path()),
            Vec::<String>::new(),
            "{} imported code from the current folder",
            python.display()
        );
    }
}

#[test]
fn a_venv_in_the_current_folder_is_named_and_one_owned_by_someone_else_is_not_run() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let runs = cwd.path().join("runs");
    let venv_python = cwd.path().join(".venv/bin/python");
    fake_python(&venv_python, "3.12.7", &[], Some(&runs));
    let report = |cmd: &mut assert_cmd::Command| -> serde_json::Value {
        let out = cmd.output().expect("runs");
        serde_json::from_slice(&out.stdout).expect("report JSON")
    };
    // Ours: used, and the header says where it came from.
    let r = report(mlcompat(cache.path()).current_dir(cwd.path()).args([
        "doctor",
        "--format",
        "json",
        "--no-cache",
    ]));
    let python = r["machine"]["python"].as_str().unwrap_or_default();
    assert!(
        python.contains("Python 3.12.7") && python.contains("from ./.venv in the current folder"),
        "{python}"
    );
    if !is_root() {
        eprintln!("skipped: a .venv owned by someone else needs root to set up");
        return;
    }
    std::fs::remove_file(&runs).expect("ran once");
    for p in [
        cwd.path().join(".venv"),
        cwd.path().join(".venv/bin"),
        venv_python.clone(),
    ] {
        chown(&p, 4242);
    }
    let r = report(mlcompat(cache.path()).current_dir(cwd.path()).args([
        "doctor",
        "--format",
        "json",
        "--no-cache",
    ]));
    assert!(!runs.exists(), "the untrusted ./.venv was executed");
    let notes = r["machine"]["notes"].to_string();
    assert!(
        notes.contains("./.venv (") && notes.contains("is owned by uid 4242, not by you or root"),
        "{notes}"
    );
    assert!(notes.contains("MLCOMPAT_TRUST_VENV="), "{notes}");
    // Trusted on request.
    let trusted = cwd.path().join(".venv").canonicalize().expect("exists");
    let r = report(
        mlcompat(cache.path())
            .current_dir(cwd.path())
            .env("MLCOMPAT_TRUST_VENV", &trusted)
            .args(["doctor", "--format", "json", "--no-cache"]),
    );
    assert!(runs.exists(), "MLCOMPAT_TRUST_VENV did not allow it");
    assert!(r["machine"]["python"]
        .as_str()
        .is_some_and(|p| p.contains("3.12.7")));
    // What Python runs at startup counts too: a .pth file (a line of it runs code) owned by someone
    // else, or the folder holding .venv (whoever owns it can swap .venv), makes it untrusted.
    for p in [
        cwd.path().join(".venv"),
        cwd.path().join(".venv/bin"),
        venv_python.clone(),
    ] {
        chown(&p, 0);
    }
    let site = cwd.path().join(".venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&site).expect("site-packages");
    let pth = site.join("evil.pth");
    std::fs::write(&pth, "import os\n").expect("write");
    chown(&pth, 4242);
    let holder = tempfile::tempdir().expect("temp dir");
    let shared = holder.path().join("shared");
    std::fs::create_dir_all(&shared).expect("dir");
    for (case, folder) in [
        ("a .pth file", cwd.path()),
        ("the folder holding it", shared.as_path()),
    ] {
        if folder == shared.as_path() {
            std::fs::remove_file(&pth).expect("remove");
            fake_python(&shared.join(".venv/bin/python"), "3.12.7", &[], Some(&runs));
            chown(&shared, 4242);
        }
        let _ = std::fs::remove_file(&runs);
        let r = report(mlcompat(cache.path()).current_dir(folder).args([
            "doctor",
            "--format",
            "json",
            "--no-cache",
        ]));
        assert!(!runs.exists(), "{case}: the ./.venv was executed");
        let notes = r["machine"]["notes"].to_string();
        assert!(notes.contains("is owned by uid 4242"), "{case}: {notes}");
    }
}

#[test]
fn special_files_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("facts.fifo");
    mkfifo(&fifo);
    let link = dir.path().join("facts.json");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    for (file, says) in [
        (fifo.clone(), "is a FIFO (named pipe), not a regular file"),
        (
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (link.clone(), "is a character device, not a regular file"),
        (dir.path().to_path_buf(), "is a directory"),
    ] {
        let out = mlcompat(cache.path())
            .args(["doctor", "--facts", &file.display().to_string()])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("error: {}: {says}", file.display())),
            "{stderr}"
        );
    }
    // The same for a matrix directory.
    let matrix = dir.path().join("matrix");
    std::fs::create_dir_all(matrix.join("profiles")).expect("writable");
    mkfifo(&matrix.join("software.yaml"));
    let out = mlcompat(cache.path())
        .args(["--matrix", &matrix.display().to_string(), "table"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("software.yaml: is a FIFO"));
    std::fs::remove_file(matrix.join("software.yaml")).expect("exists");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix/software.yaml"),
        matrix.join("software.yaml"),
    )
    .expect("copy");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix/failures.yaml"),
        matrix.join("failures.yaml"),
    )
    .expect("copy");
    std::os::unix::fs::symlink("/dev/zero", matrix.join("profiles/zero.yaml")).expect("symlink");
    let out = mlcompat(cache.path())
        .args(["--matrix", &matrix.display().to_string(), "table"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("zero.yaml: is a character device"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn traps_in_site_packages_and_docker_config_are_facts() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let site = root.path().join("site");
    dist_info(&site, "good", "1.0");
    for name in ["fifo", "zero", "folder", "loop"] {
        std::fs::create_dir_all(site.join(format!("{name}-1.0.dist-info"))).expect("writable");
    }
    mkfifo(&site.join("fifo-1.0.dist-info/METADATA"));
    std::os::unix::fs::symlink("/dev/zero", site.join("zero-1.0.dist-info/METADATA"))
        .expect("symlink");
    std::fs::create_dir_all(site.join("folder-1.0.dist-info/METADATA")).expect("writable");
    std::os::unix::fs::symlink("METADATA", site.join("loop-1.0.dist-info/METADATA"))
        .expect("symlink");
    let bin = root.path().join("bin");
    fake_python(
        &bin.join("python3"),
        "3.11.9",
        &[&site.display().to_string()],
        None,
    );
    write_script(
        &bin.join("docker"),
        "echo 'Docker version 28.2.2, build e6534b4'",
    );
    let home = root.path().join("home");
    std::fs::create_dir_all(home.join(".config/docker")).expect("writable");
    mkfifo(&home.join(".config/docker/daemon.json"));
    let facts = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("PATH", &bin)
            .env("HOME", &home)
            .args(["probe"]),
    );
    assert_eq!(
        packages(&facts),
        BTreeMap::from([("good".to_string(), "1.0".to_string())])
    );
    let unread = facts["failed"]["python.packages"]
        .as_str()
        .unwrap_or_default();
    assert!(
        unread.starts_with("4 installed distributions not read: ")
            && unread.contains("fifo-1.0.dist-info/METADATA: is a FIFO"),
        "{unread}"
    );
    assert_eq!(facts["binaries"]["docker"]["version"], "28.2.2");
    assert!(facts["docker"].is_object(), "{facts}");
}

#[test]
fn hanging_crashing_and_escaping_tools() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let bin = root.path().join("bin");
    write_script(&bin.join("ollama"), "sleep 6601");
    // 50 MB of noise before its version: the first 4 MiB kept are not read as its whole answer.
    write_script(
        &bin.join("llama-cli"),
        "head -c 50000000 /dev/zero | tr '\\0' x; echo; echo 'version: 6139 (abc)' >&2",
    );
    write_script(&bin.join("docker"), "kill -SEGV $$");
    // Leaves a background child holding stdout, and one that left the session.
    write_script(
        &bin.join("uv"),
        "sleep 6602 &\nsetsid sleep 6603 &\necho 'uv 0.9.5 (d5f39331a 2025-10-21)'",
    );
    write_script(
        &bin.join("conda"),
        "(setsid env -i sleep 6604 &)\necho 'conda 25.5.1'",
    );
    fake_python(&bin.join("python3"), "3.11.9", &[], None);
    let facts = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["probe", "--timeout", "1"]),
    );
    assert_eq!(
        facts["failed"]["binaries.ollama"], "ollama timed out after 1 s",
        "{facts}"
    );
    assert!(
        facts["failed"]["binaries.docker"]
            .as_str()
            .is_some_and(|f| f.contains("SIGSEGV")),
        "{facts}"
    );
    assert_eq!(
        facts["failed"]["binaries.llama-cli"],
        "llama-cli printed more than 4 MiB on one stream; its answer was not read",
        "{facts}"
    );
    assert_eq!(facts["binaries"]["uv"]["version"], "0.9.5");
    assert_eq!(facts["binaries"]["conda"]["version"], "25.5.1");
    for n in ["6601", "6602", "6603", "6604"] {
        assert_eq!(sleepers(n), Vec::<String>::new(), "sleep {n} left running");
    }
    // The doctor does not call a tool that hung ✅.
    let out = mlcompat(cache.path())
        .current_dir(root.path())
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args(["doctor", "--format", "json", "--timeout", "1", "--no-cache"])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    let ollama = report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == "ollama"))
        .cloned()
        .expect("ollama row");
    assert_ne!(ollama["status"], "ok", "{ollama}");
    assert!(
        ollama["reason"]
            .as_str()
            .is_some_and(|r| r.contains("`ollama --version` failed (ollama timed out after 1 s)")),
        "{ollama}"
    );
    assert_eq!(sleepers("6601"), Vec::<String>::new());
}

#[test]
fn nvcc_calls_share_one_budget() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let cuda = root.path().join("cuda");
    write_script(
        &cuda.join("bin/nvcc"),
        "case \"$1\" in\n--version) sleep 2; echo 'Cuda compilation tools, release 12.8, V12.8.93';;\n*) sleep 6611;;\nesac",
    );
    let bin = root.path().join("bin");
    fake_python(&bin.join("python3"), "3.11.9", &[], None);
    let facts = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("CUDA_HOME", &cuda)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["probe", "--timeout", "3"]),
    );
    assert_eq!(facts["cuda"]["toolkit"], "12.8", "{facts}");
    // The second call's timeout is a fact, not an empty target list.
    assert!(
        facts["failed"]["cuda.targets"]
            .as_str()
            .is_some_and(|f| f.starts_with("nvcc timed out")),
        "{facts}"
    );
    let took = facts["probe_times_ms"]["cuda"].as_f64().expect("timed");
    // Two calls with a 3 s limit each took 5 s; one 3 s budget for both ends at 3 s.
    assert!(
        took < 4000.0,
        "the CUDA probe took {took} ms with --timeout 3"
    );
    assert_eq!(sleepers("6611"), Vec::<String>::new());
}

/// A fake pyenv: shims that pick a version the way pyenv does, two installed versions.
fn fake_pyenv(root: &Path) {
    for v in ["3.12.1", "3.13.0"] {
        let site = root.join(format!("versions/{v}/site"));
        dist_info(&site, "only-in", v);
        fake_python(
            &root.join(format!("versions/{v}/bin/python3")),
            v,
            &[&site.display().to_string()],
            None,
        );
    }
    std::fs::write(root.join("version"), "3.12.1\n").expect("writable");
    write_script(
        &root.join("shims/python3"),
        &format!(
            "root='{}'\nv=\"$PYENV_VERSION\"\nd=\"${{PYENV_DIR:-$PWD}}\"\nwhile [ -z \"$v\" ] && [ -n \"$d\" ]; do\n  [ -f \"$d/.python-version\" ] && v=$(cat \"$d/.python-version\")\n  [ \"$d\" = / ] && break\n  d=$(dirname \"$d\")\ndone\n[ -z \"$v\" ] && v=$(cat \"$root/version\")\nexec \"$root/versions/$v/bin/python3\" \"$@\"",
            root.display()
        ),
    );
}

#[test]
fn the_cache_follows_pyenv_user_site_and_swapped_interpreters() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let pyenv = root.path().join("pyenv");
    fake_pyenv(&pyenv);
    let project = root.path().join("project");
    std::fs::create_dir_all(&project).expect("writable");
    let version = |envs: &[(&str, &str)]| {
        let mut cmd = mlcompat(cache.path());
        cmd.current_dir(&project)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", pyenv.join("shims").display()),
            )
            .args(["probe"]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let facts = probe_json(&mut cmd);
        (
            facts["python"]["version"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            facts["python"]["notes"].to_string(),
        )
    };
    let (v, notes) = version(&[]);
    assert_eq!(v, "3.12.1");
    assert_eq!(version(&[("PYENV_VERSION", "3.13.0")]).0, "3.13.0");
    assert!(notes.contains("is a pyenv shim: version 3.12.1"), "{notes}");
    std::fs::write(project.join(".python-version"), "3.13.0\n").expect("writable");
    assert_eq!(version(&[]).0, "3.13.0");
    std::fs::write(project.join(".python-version"), "3.12.1\n").expect("writable");
    assert_eq!(version(&[]).0, "3.12.1");

    // User site: HOME and PYTHONNOUSERSITE decide whether the user's packages count.
    let home = root.path().join("home");
    let user_site = home.join("usersite");
    dist_info(&user_site, "mine", "1.0");
    let bin = root.path().join("bin");
    write_script(
        &bin.join("python3"),
        "extra=''\n[ -z \"$PYTHONNOUSERSITE\" ] && [ -d \"$HOME/usersite\" ] && extra=\", \\\"$HOME/usersite\\\"\"\necho \"{\\\"version\\\": \\\"3.11.9\\\", \\\"implementation\\\": \\\"cpython\\\", \\\"machine\\\": \\\"x86_64\\\", \\\"executable\\\": \\\"$0\\\", \\\"prefix\\\": \\\"/fake\\\", \\\"path\\\": [\\\"/nonexistent\\\"$extra]}\"",
    );
    let listed = |envs: &[(&str, &Path)]| {
        let mut cmd = mlcompat(cache.path());
        cmd.current_dir(&project).env("PATH", &bin).args(["probe"]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        packages(&probe_json(&mut cmd)).contains_key("mine")
    };
    assert!(listed(&[("HOME", &home)]));
    assert!(!listed(&[
        ("HOME", &home),
        ("PYTHONNOUSERSITE", Path::new("1"))
    ]));
    assert!(!listed(&[("HOME", root.path())]));
    assert!(listed(&[("HOME", &home)]));

    // An interpreter swapped for another of the same size and modification time.
    let swap = root.path().join("swap/python3");
    fake_python(&swap, "3.10.1", &[], None);
    let asked = || {
        probe_json(mlcompat(cache.path()).current_dir(&project).args([
            "probe",
            "--python",
            &swap.display().to_string(),
        ]))["python"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(asked(), "3.10.1");
    let modified = std::fs::metadata(&swap)
        .and_then(|m| m.modified())
        .expect("mtime");
    let other = root.path().join("swap/other");
    fake_python(&other, "3.10.2", &[], None);
    std::fs::File::options()
        .write(true)
        .open(&other)
        .and_then(|f| f.set_modified(modified))
        .expect("set mtime");
    std::fs::rename(&other, &swap).expect("rename");
    assert_eq!(asked(), "3.10.2");
    // Rewritten in place (same inode), modification time put back: the change time still moves.
    fake_python(&swap, "3.10.3", &[], None);
    std::fs::File::options()
        .write(true)
        .open(&swap)
        .and_then(|f| f.set_modified(modified))
        .expect("set mtime");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(asked(), "3.10.3");
}

#[test]
fn a_real_pyenv_shim_follows_pyenv_version() {
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let root = Path::new(&home).join(".pyenv");
    let shim = root.join("shims/python3");
    let versions: Vec<String> = std::fs::read_dir(root.join("versions"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|v| v.starts_with("3.1"))
                .collect()
        })
        .unwrap_or_default();
    if !shim.is_file() || versions.len() < 2 {
        eprintln!("skipped: no pyenv with two Python 3 versions");
        return;
    }
    let cache = tempfile::tempdir().expect("temp dir");
    let cwd = tempfile::tempdir().expect("temp dir");
    for v in versions.iter().take(2) {
        let facts = probe_json(
            mlcompat(cache.path())
                .current_dir(cwd.path())
                .env("PYENV_VERSION", v)
                .env(
                    "PATH",
                    format!(
                        "{}:/usr/bin:/bin",
                        shim.parent()
                            .map(Path::display)
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    ),
                )
                .args(["probe"]),
        );
        assert_eq!(facts["python"]["version"], v.as_str(), "{facts}");
    }
}

#[test]
fn a_planted_or_foreign_cache_is_not_trusted() {
    let root = tempfile::tempdir().expect("temp dir");
    let site = root.path().join("site");
    dist_info(&site, "pkg", "1.0");
    let python = root.path().join("bin/python3");
    let runs = root.path().join("runs");
    fake_python(
        &python,
        "3.11.9",
        &[&site.display().to_string()],
        Some(&runs),
    );
    let cache = root.path().join("new/cache");
    let probe = |cache: &Path| {
        probe_json(mlcompat(cache).current_dir(root.path()).args([
            "probe",
            "--python",
            &python.display().to_string(),
        ]))
    };
    probe(&cache);
    // Private folder and files.
    let mode = |p: &Path| {
        std::fs::symlink_metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .expect("exists")
    };
    assert_eq!(mode(&cache), 0o700);
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache)
        .expect("listed")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!entries.is_empty());
    for e in &entries {
        assert_eq!(mode(e), 0o600, "{}", e.display());
    }
    // Entries replaced by links to a victim file: not read through, not written through.
    let victim = root.path().join("victim");
    std::fs::write(&victim, "precious").expect("writable");
    for e in &entries {
        std::fs::remove_file(e).expect("exists");
        std::os::unix::fs::symlink(&victim, e).expect("symlink");
    }
    // Links at every temporary name the old scheme (`NAME.tmpPID`) could pick next.
    let next_pid = std::process::id();
    for e in &entries {
        for pid in next_pid..next_pid + 2000 {
            let _ = std::os::unix::fs::symlink(&victim, e.with_extension(format!("tmp{pid}")));
        }
    }
    std::fs::write(site.join("touch"), "").expect("changes the folder");
    let before = std::fs::read_to_string(&runs).expect("ran").lines().count();
    assert_eq!(packages(&probe(&cache))["pkg"], "1.0");
    assert_eq!(
        std::fs::read_to_string(&runs).expect("ran").lines().count(),
        before + 1
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("exists"),
        "precious"
    );
    // A folder owned by someone else is refused, and said so.
    if !is_root() {
        eprintln!("skipped: a cache folder owned by someone else needs root to set up");
        return;
    }
    let foreign = root.path().join("foreign");
    std::fs::create_dir(&foreign).expect("writable");
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    chown(&foreign, 4242);
    let facts = probe(&foreign);
    assert!(
        facts["failed"]["cache"]
            .as_str()
            .is_some_and(|f| f.contains("is owned by uid 4242, not by you")),
        "{facts}"
    );
    assert_eq!(std::fs::read_dir(&foreign).expect("listed").count(), 0);
}

#[test]
fn a_cache_entry_holds_answers_not_whole_outputs() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = root.path().join("cache");
    let bin = root.path().join("bin");
    write_script(
        &bin.join("ollama"),
        "head -c 3000000 /dev/zero | tr '\\0' 'x'\necho\necho 'ollama version is 0.12.6'",
    );
    fake_python(&bin.join("python3"), "3.11.9", &[], None);
    let facts = probe_json(
        mlcompat(&cache)
            .current_dir(root.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["probe"]),
    );
    assert_eq!(facts["binaries"]["ollama"]["version"], "0.12.6");
    let total: u64 = std::fs::read_dir(&cache)
        .expect("listed")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(total < 16 * 1024, "the cache holds {total} bytes");
}

fn assert_no_raw_controls(what: &str, bytes: &[u8], color: bool) {
    let text = String::from_utf8_lossy(bytes);
    let mut rest = text.to_string();
    if color {
        for sgr in [
            "\u{1b}[32m",
            "\u{1b}[33m",
            "\u{1b}[31m",
            "\u{1b}[39m",
            "\u{1b}[1m",
            "\u{1b}[2m",
            "\u{1b}[0m",
        ] {
            rest = rest.replace(sgr, "");
        }
    }
    let bad: Vec<char> = rest
        .chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(*c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in {text}");
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let facts = root.path().join("facts.yaml");
    std::fs::write(
        &facts,
        "schema: mlcompat.facts/1\nmachine: {id: x, name: \"evil\\e]0;pwned\\a\\e[2J\\u202egnp.exe\", kind: live}\nhost: {os: linux, os_name: \"Linux\\e]8;;http://x\\e\\\\link\\e]8;;\\e\\\\\", cpu_model: \"cpu\\x9b31m\", memory_gb: 64}\nfailed: {nvidia: \"boom\\e[?1049h\"}\n",
    )
    .expect("writable");
    for (args, color) in [
        (vec!["doctor"], false),
        (vec!["--color", "always", "doctor"], true),
        (vec!["doctor", "--format", "markdown"], false),
        (vec!["check", "llama-3.1-8b-chat"], false),
    ] {
        let mut full = args.clone();
        let facts_arg = facts.display().to_string();
        full.extend(["--facts", facts_arg.as_str()]);
        let out = mlcompat(cache.path()).args(&full).output().expect("runs");
        assert_no_raw_controls(&format!("{full:?} stdout"), &out.stdout, color);
        assert_no_raw_controls(&format!("{full:?} stderr"), &out.stderr, false);
        let text = String::from_utf8_lossy(&out.stdout);
        if full[0] == "doctor" || full[2] == "doctor" {
            // Shown escaped; Markdown escapes the backslash once more, which renders the same.
            assert!(
                text.contains("evil\\u001b]0;pwned\\u0007")
                    || text.contains("evil\\\\u001b]0;pwned\\\\u0007"),
                "{text}"
            );
        }
    }
    // Names in a matrix given with --matrix: a profile's machine and GPU.
    let matrix = root.path().join("matrix");
    std::fs::create_dir_all(matrix.join("profiles")).expect("writable");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("matrix");
    for file in ["software.yaml", "workloads.yaml", "failures.yaml"] {
        std::fs::copy(source.join(file), matrix.join(file)).expect("copy");
    }
    let spark = std::fs::read_to_string(source.join("profiles/dgx-spark.yaml")).expect("profile");
    std::fs::write(
        matrix.join("profiles/dgx-spark.yaml"),
        spark
            .replacen(
                "name: NVIDIA DGX Spark",
                "name: \"Spark\\e]0;pwned\\a\\e[2J\\u202e\"",
                1,
            )
            .replacen("name: NVIDIA GB10", "name: \"GB10\\x9b31m\"", 1),
    )
    .expect("writable");
    for entry in std::fs::read_dir(source.join("profiles"))
        .expect("profiles")
        .flatten()
    {
        let to = matrix.join("profiles").join(entry.file_name());
        if !to.exists() {
            std::fs::copy(entry.path(), to).expect("copy");
        }
    }
    let m = matrix.display().to_string();
    for args in [
        vec!["--matrix", m.as_str(), "list", "profiles"],
        vec!["--matrix", m.as_str(), "table"],
        vec!["--matrix", m.as_str(), "table", "--format", "markdown"],
        vec!["--matrix", m.as_str(), "doctor", "--profile", "dgx-spark"],
        vec![
            "--matrix",
            m.as_str(),
            "compare",
            "dgx-spark",
            "mac-studio-m3-ultra",
        ],
    ] {
        let out = mlcompat(cache.path()).args(&args).output().expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_raw_controls(&format!("{args:?}"), &out.stdout, false);
    }
    // JSON stays valid and means the same.
    let out = mlcompat(cache.path())
        .args([
            "doctor",
            "--format",
            "json",
            "--facts",
            &facts.display().to_string(),
        ])
        .output()
        .expect("runs");
    assert_no_raw_controls("json", &out.stdout, false);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert!(report["machine"]["name"]
        .as_str()
        .is_some_and(|n| n.contains('\u{202e}')));
    // Error lines: a bad key, an echoed argument, a failing program's stderr.
    let bad = root.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "schema: mlcompat.facts/1\nhost: {\"\\e]0;x\\a\": 1}\n",
    )
    .expect("writable");
    let out = mlcompat(cache.path())
        .args(["doctor", "--facts", &bad.display().to_string()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_no_raw_controls("bad key", &out.stderr, false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("\\u001b]0;x\\u0007"));
    for args in [
        vec!["doctor", "--format", "\u{1b}]0;x\u{7}"],
        vec!["doctor", "--facts", "/nonexistent/\u{1b}]0;x\u{7}"],
        vec!["doctor", "--profile", "\u{1b}[2J\u{9b}"],
    ] {
        let out = mlcompat(cache.path()).args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_no_raw_controls(&format!("{args:?}"), &out.stderr, false);
    }
    let bin = root.path().join("bin");
    write_script(
        &bin.join("python3"),
        "printf 'Fatal: \\033]0;pwned\\007\\033[2J\\n' >&2\nexit 1",
    );
    let out = mlcompat(cache.path())
        .current_dir(root.path())
        .env("PATH", &bin)
        .args(["doctor"])
        .output()
        .expect("runs");
    assert_no_raw_controls("stderr of a failing python", &out.stdout, false);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Fatal: \\u001b]0;pwned"));
}

#[test]
fn interpreter_choice_errors_and_notes() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let out = mlcompat(cache.path())
        .args(["doctor", "--python", "/nonexistent/python"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("error: --python /nonexistent/python: no such file or folder"));
    let bin = root.path().join("bin");
    fake_python(&bin.join("python3.11"), "3.11.9", &[], None);
    fake_python(&bin.join("python3"), "3.11.9", &[], None);
    fake_python(&root.path().join("venv/bin/python"), "3.12.2", &[], None);
    let chosen = |args: &[&str], envs: &[(&str, &str)]| {
        let mut cmd = mlcompat(cache.path());
        cmd.current_dir(root.path())
            .env("PATH", &bin)
            .arg("probe")
            .args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        probe_json(&mut cmd)["python"].clone()
    };
    let by_name = chosen(&["--python", "python3.11"], &[]);
    assert_eq!(by_name["chosen_by"], "--python");
    assert_eq!(by_name["version"], "3.11.9");
    let by_folder = chosen(&["--python", "venv"], &[]);
    assert_eq!(by_folder["version"], "3.12.2");
    let missing_venv = chosen(&[], &[("VIRTUAL_ENV", "/nonexistent")]);
    assert_eq!(missing_venv["chosen_by"], "PATH");
    assert_eq!(
        missing_venv["notes"][0],
        "VIRTUAL_ENV=/nonexistent: no interpreter at /nonexistent/bin/python, ignored"
    );
}

#[test]
fn facts_numbers_out_of_range_and_estimate_flags_are_input_errors() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let facts = root.path().join("f.yaml");
    std::fs::write(
        &facts,
        "schema: mlcompat.facts/1\nhost:\n  memory_gb: -80\n",
    )
    .expect("writable");
    let out = mlcompat(cache.path())
        .args(["doctor", "--facts", &facts.display().to_string()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!(
        "{}:3:14: `host.memory_gb` is -80",
        facts.display()
    )));
    for flag in ["--layers", "--kv-heads", "--head-dim"] {
        let out = mlcompat(cache.path())
            .args([
                "estimate",
                "--params-b",
                "8",
                flag,
                "0",
                "--profile",
                "dgx-spark",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flag}");
    }
    let out = mlcompat(cache.path())
        .args(["estimate", "--params-b", "1e-300", "--profile", "dgx-spark"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_cpu_runs_no_python_and_honours_no_cache() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let runs = root.path().join("runs");
    fake_python(&root.path().join("bin/python3"), "3.11.9", &[], Some(&runs));
    fake_python(
        &root.path().join(".venv/bin/python"),
        "3.11.9",
        &[],
        Some(&runs),
    );
    // The CPU bench itself takes long in a debug build: stop once it has started.
    let out = mlcompat(cache.path())
        .current_dir(root.path())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", root.path().join("bin").display()),
        )
        .timeout(Duration::from_secs(5))
        .args(["bench", "bandwidth", "--device", "cpu", "--no-cache"])
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bench: CPU triad"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!runs.exists(), "bench bandwidth --device cpu ran Python");
    // Where Python is asked (NVRTC may come from its wheel), MLCOMPAT_NO_CACHE asks it every time.
    for _ in 0..2 {
        let _ = mlcompat(cache.path())
            .current_dir(root.path())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", root.path().join("bin").display()),
            )
            .env("MLCOMPAT_NO_CACHE", "1")
            .args([
                "bench",
                "fp4",
                "--compile-only",
                "--arch",
                "sm_90",
                "--python",
                "bin/python3",
            ])
            .output()
            .expect("runs");
    }
    assert_eq!(
        std::fs::read_to_string(&runs)
            .map(|r| r.lines().count())
            .unwrap_or(0),
        2
    );
}

/// `PATH` entries that name the current folder — `.`, an empty entry (`::`), a leading or trailing `:`, a
/// relative folder — are not searched: a plain `doctor` in a folder holding a planted `nvidia-smi`,
/// `nvcc`, `ollama` or `python3` runs none of them (Go's os/exec refuses these since 1.19), and the
/// header says which entries were skipped. The programs it starts get PATH without those entries, so a
/// tool written as a `#!/usr/bin/env bash` shim does not run a planted `./bash` either; and `CUDA_HOME`,
/// `CONDA_PREFIX` or `VIRTUAL_ENV` set to a relative folder are not used.
#[test]
fn path_entries_naming_the_current_folder_run_nothing_from_it() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("cache dir");
    let project = root.path().join("project");
    let marker = root.path().join("ran");
    // A real tool elsewhere, written the way pyenv's and asdf's shims are: its interpreter found on PATH.
    let tools = root.path().join("tools");
    std::fs::create_dir_all(&tools).expect("writable");
    std::fs::write(
        tools.join("uv"),
        "#!/usr/bin/env bash\nuname >/dev/null\necho 'uv 0.9.5 (d5f39331a 2025-10-21)'\n",
    )
    .expect("writable");
    std::fs::set_permissions(tools.join("uv"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    for folder in ["bin", "rel/bin", "venv/bin"] {
        for program in ["nvcc", "python", "python3"] {
            write_script(
                &project.join(folder).join(program),
                &format!("echo {folder}/{program} >> '{}'", marker.display()),
            );
        }
    }
    for program in [
        "nvidia-smi",
        "nvcc",
        "ollama",
        "python3",
        "llama-server",
        "docker",
        "bash",
        "uname",
        "sleep",
    ] {
        write_script(
            &project.join(program),
            &format!("echo {program} >> '{}'", marker.display()),
        );
        write_script(
            &project.join("rel").join(program),
            &format!("echo rel-{program} >> '{}'", marker.display()),
        );
    }
    for path in [
        ".:/usr/bin:/bin",
        "/usr/bin::/bin",
        ":/usr/bin:/bin",
        "/usr/bin:/bin:",
        "rel:/usr/bin:/bin",
        ".:TOOLS:/usr/bin:/bin",
        "rel:TOOLS:/usr/bin:/bin",
    ] {
        let path = path.replace("TOOLS", &tools.display().to_string());
        let out = mlcompat(cache.path())
            .current_dir(&project)
            .env("PATH", &path)
            .env("MLCOMPAT_NO_CACHE", "1")
            .env("COLUMNS", "200")
            .arg("doctor")
            .output()
            .expect("runs");
        let ran = std::fs::read_to_string(&marker).unwrap_or_default();
        assert!(ran.is_empty(), "PATH={path}: ran {ran}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("PATH entries not searched"),
            "PATH={path}:\n{stdout}"
        );
    }
    for (key, value) in [
        ("CUDA_HOME", "."),
        ("CUDA_PATH", "rel"),
        ("CONDA_PREFIX", "."),
        ("VIRTUAL_ENV", "venv"),
    ] {
        let out = mlcompat(cache.path())
            .current_dir(&project)
            .env(key, value)
            .env("MLCOMPAT_NO_CACHE", "1")
            .env("COLUMNS", "200")
            .arg("doctor")
            .output()
            .expect("runs");
        let ran = std::fs::read_to_string(&marker).unwrap_or_default();
        assert!(ran.is_empty(), "{key}={value}: ran {ran}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("not used, being relative")
                && stdout.contains(&format!("{key}={value}")),
            "{key}={value}:\n{stdout}"
        );
    }
}

/// A newline in a facts file's text field cannot forge report lines: the machine's name (or a GPU's)
/// stays on its own line, its line breaks shown as `\u000a`, in every text command.
#[test]
fn a_newline_in_a_facts_field_forges_no_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/facts/cpu-box-torch-2.15.0-cu132-import-fails.json");
    let mut facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("JSON");
    let forged = "box\n\n✅ No problems — nothing to fix\n\nWhat to do next: nothing";
    facts["machine"]["name"] = forged.into();
    facts["machine"]["kind"] = "saved".into();
    facts["host"]["os_name"] = "Debian\n❌ 9 problems".into();
    facts["failed"]["nvidia"] = "no driver\r\nforged line".into();
    facts["gpus"] = serde_json::json!([
        {"vendor": "nvidia", "name": "NVIDIA X\r\nforged line", "memory_gb": 24}
    ]);
    let path = dir.path().join("forged.json");
    std::fs::write(&path, facts.to_string()).expect("write");
    let file = path.display().to_string();
    for args in [
        vec!["doctor", "--facts", &file],
        vec!["check", "chat-8b-fp16", "--facts", &file],
        vec!["estimate", "--params-b", "8", "--facts", &file],
        vec!["install-plan", "pytorch", "--facts", &file],
    ] {
        let out = assert_cmd::Command::cargo_bin("mlcompat")
            .expect("built")
            .args(&args)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "300")
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        for line in stdout.lines() {
            assert!(
                !line.starts_with("✅ No problems — nothing to fix")
                    && !line.starts_with("❌ 9 problems")
                    && !line.starts_with("What to do next: nothing"),
                "{args:?} forged a line: {line}\n{stdout}"
            );
        }
        assert!(stdout.contains("\\u000a"), "{args:?}:\n{stdout}");
    }
    // The formats other tools read: a field's line break does not become one in JUnit's text or in an
    // HTML cell's title.
    for args in [
        vec!["doctor", "--all", "--format", "junit", "--facts", &file],
        vec!["table", "--format", "html", "--facts", &file],
    ] {
        let out = assert_cmd::Command::cargo_bin("mlcompat")
            .expect("built")
            .args(&args)
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("forged line"), "{args:?}:\n{stdout}");
        assert!(
            !stdout.lines().any(|l| l.starts_with("forged line")),
            "{args:?} forged a line:\n{stdout}"
        );
    }
}

/// Error floods are capped and lists that name nothing are errors: 100,000 unknown keys print a screen,
/// not 100,000 lines; a software.yaml that does not parse is reported once, not as every name other files
/// use from it; `--require ''`, `install-plan ''` and `table --profiles ''` exit 2; a 100 kB argument
/// is not echoed back whole.
#[test]
fn floods_are_capped_and_empty_lists_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("mlcompat")
            .expect("built")
            .args(args)
            .env("NO_COLOR", "1")
            .timeout(BOUND)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut flood = String::from("schema: mlcompat.facts/1\n");
    for i in 0..100_000 {
        flood.push_str(&format!("k{i}: 1\n"));
    }
    let facts = dir.path().join("flood.yaml");
    std::fs::write(&facts, flood).expect("write");
    let (code, err) = run(&["doctor", "--facts", &facts.display().to_string()]);
    assert_eq!(code, Some(2));
    assert!(err.lines().count() <= 51, "{} lines", err.lines().count());
    assert!(err.contains("more problems"), "{err}");

    let matrix = dir.path().join("matrix");
    common::copy_matrix(&matrix);
    let software = matrix.join("software.yaml");
    let text = std::fs::read_to_string(&software).expect("software.yaml");
    std::fs::write(
        &software,
        text.replacen("  - id: pytorch\n", "  - id: &x pytorch\n", 1),
    )
    .expect("write");
    let (code, err) = run(&[
        "--matrix",
        &matrix.display().to_string(),
        "list",
        "software",
    ]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("software.yaml:") && err.contains("anchors"),
        "{err}"
    );

    for args in [
        &["doctor", "--profile", "dgx-spark", "--require", ""][..],
        &["install-plan", "", "--profile", "dgx-spark"][..],
        &["table", "--profiles", ""][..],
        &["table", "--profiles", " , "][..],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("no "), "{args:?}: {err}");
    }

    let long = "a".repeat(100_000);
    for args in [
        &["doctor", "--profile", &long][..],
        &["estimate", "--model", &long][..],
        &["install-plan", &long][..],
    ] {
        let (code, err) = run(args);
        assert_eq!(code, Some(2));
        assert!(
            err.len() < 5_000,
            "{} bytes echoed for {:?}",
            err.len(),
            &args[..1]
        );
    }
}

/// A special file is refused before it is opened: opening one can act (a FIFO releases the writer that
/// waits on it, `/dev/ptmx` allocates a terminal, `/dev/watchdog` arms). Here a writer blocks on a FIFO
/// given as `--facts`, directly and through a link: mlcompat refuses it and the writer is still waiting.
#[test]
fn special_files_are_refused_before_they_are_opened() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("facts.json");
    mkfifo(&fifo);
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
    for given in [&fifo, &link] {
        let opened = Arc::new(AtomicBool::new(false));
        let writer = {
            let (fifo, opened) = (fifo.clone(), Arc::clone(&opened));
            std::thread::spawn(move || {
                // Blocks until a reader opens the FIFO.
                let f = std::fs::OpenOptions::new().write(true).open(&fifo);
                opened.store(true, Ordering::SeqCst);
                drop(f);
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        let out = assert_cmd::Command::cargo_bin("mlcompat")
            .expect("built")
            .args(["doctor", "--facts", &given.display().to_string()])
            .timeout(BOUND)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("FIFO"));
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !opened.load(Ordering::SeqCst),
            "{}: mlcompat opened the FIFO (its writer was released)",
            given.display()
        );
        // Release the writer ourselves.
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("open the read end");
        writer.join().expect("writer");
        drop(reader);
    }
}

/// A daemon.json that is there but is no file (a FIFO) is reported as not read, not as "no daemon.json".
#[test]
fn an_unreadable_daemon_json_is_said_so() {
    if Path::new("/etc/docker/daemon.json").exists() {
        eprintln!("skipped: this machine has its own /etc/docker/daemon.json");
        return;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("cache dir");
    let home = root.path().join("home");
    std::fs::create_dir_all(home.join(".config/docker")).expect("dirs");
    mkfifo(&home.join(".config/docker/daemon.json"));
    let bin = root.path().join("bin");
    write_script(
        &bin.join("docker"),
        "echo 'Docker version 27.3.1, build ce12230'",
    );
    let facts = probe_json(
        mlcompat(cache.path())
            .env("HOME", &home)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["probe"]),
    );
    let source = facts["docker"]["source"].as_str().unwrap_or_default();
    assert!(
        source.contains("daemon.json not read") && source.contains("FIFO"),
        "{source}"
    );
}

/// With both streams into a pipe its reader has closed (`2>&1 | head -c1`), mlcompat ends quietly: no
/// panic (exit 101) writing an error, a warning or the report.
#[test]
fn closed_output_streams_end_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    for args in [
        "doctor --profile no-such-profile",
        "doctor --profile dgx-spark --all",
        "estimate --model nope",
        "check all --profile dgx-spark",
    ] {
        for _ in 0..10 {
            let out = common::program("bash")
                .arg("-c")
                .arg(format!(
                    "'{}' {args} 2>&1 | head -c1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
                    bin.display()
                ))
                .output()
                .expect("bash runs");
            let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(
                matches!(code.as_str(), "0" | "1" | "2" | "141"),
                "`{args}` exited {code} with its streams closed"
            );
        }
    }
}

/// Interrupted, mlcompat leaves nothing running: Ctrl-C (SIGINT), `timeout` (SIGTERM), a closed terminal
/// (SIGHUP) end the programs it is waiting for and, on Linux, what they started — in their group, or
/// gone with `setsid` (a group kill misses those; the handler's watcher finds them by their mark and
/// descent). SIGKILL leaves no handler a chance: the program itself still ends on Linux (a parent-death
/// signal), what it started does not. The exit status still says which signal ended mlcompat.
#[test]
fn interrupted_runs_leave_no_children() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    let mut signals = vec![libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    if cfg!(target_os = "linux") {
        signals.push(libc::SIGKILL);
    }
    for signal in signals {
        let root = tempfile::tempdir().expect("temp dir");
        let cache = tempfile::tempdir().expect("cache");
        let pidfile = root.path().join("pid");
        let path = root.path().join("bin");
        write_script(
            &path.join("nvidia-smi"),
            &format!(
                "sleep 6631 &\nsetsid sleep 6632 &\n(setsid sleep 6633 &)\nsleep 0.2\necho $$ > '{}'; exec sleep 30",
                pidfile.display()
            ),
        );
        let mut child = common::program(&bin)
            .args(["doctor", "--timeout", "20"])
            .env("PATH", format!("{}:/usr/bin:/bin", path.display()))
            .env("MLCOMPAT_CACHE_DIR", cache.path())
            .env("MLCOMPAT_NO_CACHE", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let start = std::time::Instant::now();
        let sleeper: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break pid;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nvidia-smi never ran"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // SAFETY: kill(2) on the child we started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().expect("waits");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(signal), "signal {signal}: {status:?}");
        let gone = (0..50).any(|_| {
            // A zombie is dead (nothing reaps it in some containers); /proc says `Z` for it.
            let zombie = std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .map(|r| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(false);
            // SAFETY: kill(pid, 0) only asks whether the process exists.
            let alive = unsafe { libc::kill(sleeper, 0) } == 0 && !zombie;
            if alive {
                std::thread::sleep(Duration::from_millis(20));
            }
            !alive
        });
        if !gone {
            // SAFETY: clean up what the failed case left.
            unsafe { libc::kill(sleeper, libc::SIGKILL) };
        }
        assert!(
            gone,
            "signal {signal}: nvidia-smi (pid {sleeper}) outlived mlcompat"
        );
        let mut left = Vec::new();
        for _ in 0..50 {
            left = ["6631", "6632", "6633"]
                .iter()
                .flat_map(|n| sleepers(n))
                .collect();
            if left.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // What SIGKILL leaves (and a failed case) is cleaned up before anything is asserted.
        for pid in &left {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: kill(2) on a sleeper this test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if cfg!(target_os = "linux") && signal != libc::SIGKILL {
            assert!(left.is_empty(), "signal {signal}: left {left:?}");
        }
    }
}

/// Past a file-size limit (`ulimit -f 1`) mlcompat is not killed by SIGXFSZ: a cache write that cannot
/// grow is skipped, and output that cannot be written is one error line, exit 2.
#[test]
fn a_file_size_limit_is_an_error_not_a_kill() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    let out = dir.path().join("out.txt");
    let run = |script: String| {
        let done = common::program("bash")
            .arg("-c")
            .arg(script)
            .output()
            .expect("bash runs");
        (
            String::from_utf8_lossy(&done.stdout).trim().to_string(),
            String::from_utf8_lossy(&done.stderr).into_owned(),
        )
    };
    let (code, _) = run(format!(
        "ulimit -f 1; MLCOMPAT_CACHE_DIR='{}' '{}' doctor >/dev/null 2>&1; echo $?",
        cache.display(),
        bin.display()
    ));
    assert!(matches!(code.as_str(), "0" | "1"), "exit {code}");
    let (code, _) = run(format!(
        "ulimit -f 1; '{}' doctor --profile dgx-spark --all >'{}' 2>'{}.err'; echo $?",
        bin.display(),
        out.display(),
        out.display()
    ));
    assert_eq!(code, "2");
    let err = std::fs::read_to_string(format!("{}.err", out.display())).unwrap_or_default();
    assert!(err.starts_with("error: writing output"), "{err}");
}

/// Under a process limit (`ulimit -u`: no thread or child can be started past it) and an address-space
/// limit (`ulimit -v`: no 128 MiB array), doctor, `--deep` and bench still report: work runs on the
/// calling thread, a program whose output cannot be read is a failed fact, the CPU triad is "not
/// measured". Before, `Scope::spawn` panicked (exit 101) and `vec!` aborted (exit 134).
#[test]
fn process_and_memory_limits_give_a_report_not_a_crash() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let cache = dir.path().join("cache");
    // As root RLIMIT_NPROC does not apply: the limited run drops to nobody, who has no processes.
    let as_nobody = is_root();
    let run = |limit: &str, args: &str| {
        let script = format!(
            "ulimit {limit}; HOME='{home}' MLCOMPAT_CACHE_DIR='{cache}' exec '{bin}' {args}",
            home = dir.path().display(),
            cache = cache.display(),
            bin = bin.display()
        );
        let mut command = if as_nobody {
            let mut c = common::program("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "bash"]);
            c
        } else {
            common::program("bash")
        };
        let done = command.arg("-c").arg(&script).output().expect("bash runs");
        (
            done.status.code(),
            String::from_utf8_lossy(&done.stdout).into_owned(),
            String::from_utf8_lossy(&done.stderr).into_owned(),
        )
    };
    for processes in ["1", "3", "5"] {
        for args in [
            "doctor --no-cache",
            "doctor --deep --no-cache",
            "bench --device cpu",
        ] {
            let (code, out, err) = run(&format!("-u {processes}"), args);
            assert!(
                matches!(code, Some(0 | 1)),
                "ulimit -u {processes}, {args}: exit {code:?}\n{err}"
            );
            assert!(
                !out.is_empty() && !err.contains("panicked"),
                "{args}: {out}\n{err}"
            );
        }
    }
    // 384 MiB of address space: the binary runs, three 128 MiB arrays do not fit.
    for args in ["doctor --deep --no-cache", "bench --device cpu"] {
        let (code, out, err) = run("-v 393216", args);
        assert!(
            matches!(code, Some(0 | 1)),
            "ulimit -v, {args}: exit {code:?}\n{err}"
        );
        assert!(!err.contains("memory allocation"), "{err}");
        if args.starts_with("bench") {
            assert!(out.contains("not measured: could not allocate"), "{out}");
        }
    }
}

/// A version manager's shim answers for whatever the project pins: asdf's script in `shims/`, and a
/// mise-style link to the manager's program. Changing the pin changes the answer; the cache must not
/// hold the old one (a project pinned to uv 0.6.0 was reported as 0.5.0).
#[test]
fn shims_answer_for_the_current_pin_not_the_cache() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let project = root.path().join("project");
    std::fs::create_dir_all(&project).expect("writable");
    // asdf: a script in shims/ that hands over to `asdf exec`, which reads .tool-versions here.
    write_script(
        &root.path().join("asdf/bin/asdf"),
        "shift; tool=$1; v=$(awk -v t=\"$tool\" '$1==t {print $2}' .tool-versions); echo \"$tool $v\"",
    );
    write_script(
        &root.path().join("asdf/shims/uv"),
        "exec asdf exec \"uv\" \"$@\"",
    );
    // mise: the shim is a link to mise itself, which reads mise.toml here.
    write_script(
        &root.path().join("mise/bin/mise"),
        "v=$(sed -n 's/^conda = \"\\(.*\\)\"/\\1/p' mise.toml); echo \"conda $v\"",
    );
    std::fs::create_dir_all(root.path().join("mise/links")).expect("writable");
    std::os::unix::fs::symlink(
        root.path().join("mise/bin/mise"),
        root.path().join("mise/links/conda"),
    )
    .expect("link");
    let path = format!(
        "{}:{}:{}:/usr/bin:/bin",
        root.path().join("asdf/shims").display(),
        root.path().join("asdf/bin").display(),
        root.path().join("mise/links").display()
    );
    let probe = || {
        probe_json(
            mlcompat(cache.path())
                .current_dir(&project)
                .env("PATH", &path)
                .args(["probe"]),
        )
    };
    std::fs::write(project.join(".tool-versions"), "uv 0.5.0\n").expect("writable");
    std::fs::write(project.join("mise.toml"), "[tools]\nconda = \"24.1.0\"\n").expect("writable");
    let first = probe();
    assert_eq!(first["binaries"]["uv"]["version"], "0.5.0", "{first}");
    assert_eq!(first["binaries"]["conda"]["version"], "24.1.0", "{first}");
    std::fs::write(project.join(".tool-versions"), "uv 0.6.0\n").expect("writable");
    std::fs::write(project.join("mise.toml"), "[tools]\nconda = \"25.5.1\"\n").expect("writable");
    let second = probe();
    assert_eq!(second["binaries"]["uv"]["version"], "0.6.0", "{second}");
    assert_eq!(second["binaries"]["conda"]["version"], "25.5.1", "{second}");
}

/// Paths that are not UTF-8 (a folder named in Latin-1) stay exact end to end: a `sys.path` folder named
/// so is read like any other (before, the interpreter's whole answer was unparsable: Python unknown, 0
/// packages), and an interpreter at such a path is run (before: "python3 not found on PATH").
#[test]
fn paths_that_are_not_utf8_are_kept_exact() {
    use std::os::unix::ffi::OsStrExt;
    let Some(python) = which::which("python3").ok() else {
        eprintln!("no python3 on PATH: skipped");
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let latin1 = root
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9-site"));
    dist_info(&latin1, "latin1pkg", "1.2.3");
    let facts = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("PYTHONPATH", &latin1)
            .args(["probe", "--python"])
            .arg(&python),
    );
    assert!(facts["python"]["version"].is_string(), "{facts}");
    assert_eq!(
        packages(&facts).get("latin1pkg").map(String::as_str),
        Some("1.2.3"),
        "{facts}"
    );
    // Again from the cache: the entry holds the folder exactly.
    let cached = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("PYTHONPATH", &latin1)
            .args(["probe", "--python"])
            .arg(&python),
    );
    assert_eq!(
        packages(&cached).get("latin1pkg").map(String::as_str),
        Some("1.2.3")
    );
    // An interpreter whose own path is not UTF-8 (sys.executable too), found on PATH and given with
    // --python.
    let odd_bin = root.path().join(std::ffi::OsStr::from_bytes(b"bin-\xff"));
    std::fs::create_dir_all(&odd_bin).expect("writable");
    // The interpreter itself, not a pyenv shim (a shim would report the interpreter it runs).
    let real = common::program("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 runs");
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    std::os::unix::fs::symlink(&real, odd_bin.join("python3")).expect("link");
    let version = facts["python"]["version"].clone();
    let mut path = odd_bin.as_os_str().to_owned();
    path.push(":/usr/bin:/bin");
    let on_path = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .env("PATH", &path)
            .args(["probe"]),
    );
    assert_eq!(on_path["python"]["version"], version, "{on_path}");
    assert!(
        on_path["python"]["path"]
            .as_str()
            .is_some_and(|p| p.contains("bin-\\xff")),
        "{on_path}"
    );
    let given = probe_json(
        mlcompat(cache.path())
            .current_dir(root.path())
            .args(["probe", "--python"])
            .arg(odd_bin.join("python3")),
    );
    assert_eq!(given["python"]["version"], version, "{given}");
}

/// A `./.venv` swapped after its check is not run: whoever owns a folder above it (here `shared`, uid
/// 4242) renames the project away and their own into its place while mlcompat reads the interpreter; the
/// `--deep` imports that follow start the interpreter by the same path again. Its files are pinned by
/// device and inode when trusted and checked before each start. (Root only: it needs another owner.)
#[test]
fn a_venv_swapped_after_its_check_is_not_run() {
    if !is_root() {
        eprintln!("skipped: a folder owned by someone else needs root to set up");
        return;
    }
    let base = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("temp dir");
    let shared = base.path().join("shared");
    let project = shared.join("project");
    let theirs = shared.join("theirs");
    let trigger = base.path().join("checked");
    let swapped = base.path().join("swapped");
    let evil_ran = base.path().join("evil-ran");
    let site = base.path().join("site");
    dist_info(&site, "torch", "2.5.1");
    // Ours: answers for the interpreter, after letting the swapper act (the worst moment for us).
    write_script(
        &project.join(".venv/bin/python"),
        &format!(
            "touch '{trigger}'\ni=0; while [ ! -e '{swapped}' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n\
             echo '{{\"version\": \"3.12.7\", \"implementation\": \"cpython\", \"machine\": \"x86_64\", \
             \"executable\": \"/fake/python\", \"prefix\": \"/fake\", \"path\": [\"{site}\"]}}'",
            trigger = trigger.display(),
            swapped = swapped.display(),
            site = site.display()
        ),
    );
    // Theirs: records that it ran.
    write_script(
        &theirs.join(".venv/bin/python"),
        &format!("touch '{}'", evil_ran.display()),
    );
    for p in [
        theirs.clone(),
        theirs.join(".venv"),
        theirs.join(".venv/bin"),
        theirs.join(".venv/bin/python"),
        shared.clone(),
    ] {
        chown(&p, 4242);
    }
    // The second process: swaps the two folders once ours has been checked and run.
    let swapper = common::program("bash")
        .arg("-c")
        .arg(format!(
            "i=0; while [ ! -e '{trigger}' ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done\n\
             mv '{project}' '{shared}/ours' && mv '{theirs}' '{project}' && touch '{swapped}'",
            trigger = trigger.display(),
            project = project.display(),
            shared = shared.display(),
            theirs = theirs.display(),
            swapped = swapped.display()
        ))
        .spawn()
        .expect("swapper starts");
    let out = mlcompat(cache.path())
        .current_dir(&project)
        .args(["doctor", "--deep", "--format", "json", "--no-cache"])
        .output()
        .expect("runs");
    let mut swapper = swapper;
    let _ = swapper.wait();
    assert!(swapped.exists(), "the swap did not happen");
    assert!(!evil_ran.exists(), "the swapped-in ./.venv was executed");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("was replaced since it was checked"),
        "{report}"
    );
}

/// `explain` on an endless input (`/dev/zero`, a pipe that never closes) ends: reading stops at 1 GiB and
/// the report says so. Before, it read for ever at full CPU.
#[test]
fn explain_ends_on_endless_input() {
    let bin = assert_cmd::cargo::cargo_bin("mlcompat");
    let out = assert_cmd::Command::new("bash")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .arg("-c")
        .arg(format!("exec '{}' explain - < /dev/zero", bin.display()))
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("reading stopped at 1024 MiB, the input not ended"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
