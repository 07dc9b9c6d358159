//! `scripts/gpu-check`, the device check for a machine with an NVIDIA GPU: without one it must say so
//! clearly and run nothing; on the C stand-ins of a GB10 (`tests/doubles`) every check must run and pass,
//! so the script's own logic has run before it first meets a real GPU.

#![cfg(target_os = "linux")]

mod doubles;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn script() -> Option<Command> {
    if which::which("python3").is_err() {
        eprintln!("skipped: no python3");
        return None;
    }
    let mut cmd = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gpu-check"));
    cmd.arg("--mlcompat")
        .arg(assert_cmd::cargo::cargo_bin("mlcompat"))
        .env("MLCOMPAT_NO_CACHE", "1")
        .env_remove("CUDA_VISIBLE_DEVICES");
    Some(cmd)
}

#[test]
fn without_a_gpu_it_says_so_and_runs_nothing() {
    if Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("skipped: this machine has an NVIDIA driver");
        return;
    }
    let Some(mut cmd) = script() else { return };
    let out = cmd.env_remove("LD_LIBRARY_PATH").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gpu-check: no NVIDIA GPU here: no CUDA driver"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["gpu_found"], false);
    assert_eq!(summary["reason"], "no CUDA driver");
    assert_eq!(summary["checks"], Value::Array(vec![]));
}

#[test]
fn on_a_stand_in_gb10_every_check_runs_and_passes() {
    let Some(nvrtc) = std::env::var("MLCOMPAT_NVRTC").ok() else {
        assert!(
            std::env::var_os("MLCOMPAT_REQUIRE_NVRTC").is_none(),
            "NVRTC required"
        );
        eprintln!("skipped: MLCOMPAT_NVRTC not set (scripts/test installs NVRTC)");
        return;
    };
    let Some(mut cmd) = script() else { return };
    let out = cmd
        .arg("--quick")
        .env("LD_LIBRARY_PATH", &doubles::doubles().cuda_13)
        .env("MLCOMPAT_FAKE_GPU", "gb10")
        .env("MLCOMPAT_FAKE_FAULT", "")
        .env("MLCOMPAT_NVRTC", nvrtc)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    assert_eq!(out.status.code(), Some(0), "{summary:#}\n{stderr}");
    assert_eq!(summary["passed"], true);
    let names: Vec<&str> = summary["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "devices",
            "probe",
            "probe-deep-matching",
            "worker-timeout",
            "bench-1",
            "bench-2",
            "bench-repeatable",
            "visible-device"
        ]
    );
    let figures = &summary["figures"];
    assert_eq!(figures["gpu"]["name"], "NVIDIA GB10");
    assert!(figures["bench-1.add_gbs"]
        .as_f64()
        .is_some_and(|g| g > 200.0));
    assert_eq!(figures["bench-2.native_fp4"], true);
}
