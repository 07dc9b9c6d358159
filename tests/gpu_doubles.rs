//! The NVML and CUDA paths against C stand-ins of `libnvidia-ml.so.1` and `libcuda.so.1`
//! (`tests/doubles/`), built here with gcc and loaded the way the real ones are: `mlcompat` runs with
//! `LD_LIBRARY_PATH` pointing at them, so nvml-wrapper's `dlopen("libnvidia-ml.so.1")` and cudarc's
//! `dlopen("libcuda.so")` find them. They answer as NVIDIA's documentation and recorded outputs say real
//! drivers do (sources in `tests/fixtures/SOURCES.md`): a GB10, an H200, an H100 in MIG mode, two GPUs in
//! a different order than CUDA's, a CUDA 12.4 driver without `cuEventElapsedTime_v2`, `cuInit` failing
//! with 999, a driver/library mismatch, and kernels that hang, fault, crash or compute wrong.
//!
//! The kernels are compiled by the real NVRTC (`scripts/test` installs it); the stand-in runs C versions
//! of them and times them on a virtual clock, so the figures are the model's and the checks are real.

#![cfg(target_os = "linux")]

mod doubles;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use doubles::doubles;
use serde_json::Value;

/// NVRTC 13 (and 12.8) from `scripts/test`, or a loud skip.
fn nvrtc(var: &str) -> Option<String> {
    match std::env::var(var).ok().filter(|v| !v.is_empty()) {
        Some(v) => Some(v),
        None => {
            assert!(
                std::env::var_os("MLCOMPAT_REQUIRE_NVRTC").is_none(),
                "NVRTC required but ${var} is not set"
            );
            eprintln!("skipped: ${var} not set (scripts/test installs NVRTC)");
            None
        }
    }
}

/// `mlcompat ARGS` on the fake `machine` with `fault`, through the doubles in `dir`.
struct Run<'a> {
    dir: &'a Path,
    machine: &'a str,
    fault: &'a str,
    nvrtc: String,
    env: Vec<(&'a str, String)>,
}

impl<'a> Run<'a> {
    fn new(machine: &'a str, nvrtc: &str) -> Run<'a> {
        Run {
            dir: &doubles().cuda_13,
            machine,
            fault: "",
            nvrtc: nvrtc.to_string(),
            env: vec![],
        }
    }

    fn fault(mut self, fault: &'a str) -> Self {
        self.fault = fault;
        self
    }

    fn cuda_12_4(mut self) -> Self {
        self.dir = &doubles().cuda_12_4;
        self
    }

    fn env(mut self, k: &'a str, v: &str) -> Self {
        self.env.push((k, v.to_string()));
        self
    }

    fn output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("mlcompat").expect("binary");
        cmd.args(args)
            .env("LD_LIBRARY_PATH", self.dir)
            .env("MLCOMPAT_FAKE_GPU", self.machine)
            .env("MLCOMPAT_FAKE_FAULT", self.fault)
            .env("MLCOMPAT_NVRTC", &self.nvrtc)
            .env("MLCOMPAT_NO_CACHE", "1")
            .env_remove("CUDA_VISIBLE_DEVICES");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("mlcompat runs");
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.output(args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    fn bench(&self, extra: &[&str]) -> Value {
        let mut args = vec!["bench", "--device", "gpu", "--format", "json"];
        args.extend(extra);
        self.json(&args)
    }
}

/// The bench's skipped parts as "part: reason".
fn skipped(report: &Value) -> Vec<String> {
    report["skipped"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    format!(
                        "{}: {}",
                        s["part"].as_str().unwrap_or(""),
                        s["reason"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn skip_reason(report: &Value, part: &str) -> String {
    skipped(report)
        .into_iter()
        .find_map(|s| s.strip_prefix(&format!("{part}: ")).map(String::from))
        .unwrap_or_else(|| panic!("no skipped {part} in {report:#}"))
}

fn f64_at(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {path} in {v:#}"))
}

/// GB10: NVML's memory "Not Supported" and memory clock 0, CC 12.1, native FP4 — the whole bench.
#[test]
fn gb10_bench_takes_the_datasheet_peak_and_checks_native_fp4() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let run = Run::new("gb10", &n);
    let facts = run.json(&["probe", "--format", "json"]);
    let gpu = &facts["gpus"][0];
    assert_eq!(gpu["name"], "NVIDIA GB10");
    assert_eq!(gpu["unified_memory"], true, "{gpu:#}");
    assert_eq!(gpu["compute_capability"], "12.1");
    // A memory clock of 0 is no clock: no bandwidth figure from it (it used to be Some(0)).
    assert!(gpu.get("bandwidth_gbs").is_none(), "{gpu:#}");
    assert!(gpu.get("max_memory_clock_mhz").is_none(), "{gpu:#}");
    assert_eq!(gpu["memory_bus_width_bits"], 256);
    assert_eq!(facts["cuda"]["driver_api"], "13.0");

    let r = run.bench(&[]);
    assert_eq!(r["gpu"]["name"], "NVIDIA GB10");
    assert!(r["gpu"]["driver_library"]
        .as_str()
        .is_some_and(|l| l.starts_with(doubles().cuda_13.to_str().unwrap_or("?"))));
    // The peak is the datasheet's 273 GB/s, so the percentage is finite (it was infinite).
    assert_eq!(f64_at(&r, "/gpu_peak_bandwidth_gbs"), 273.0);
    let pct = f64_at(&r, "/gpu_bandwidth_percent_of_peak");
    assert!((80.0..95.0).contains(&pct), "{pct}");
    let bw = &r["gpu_bandwidth"];
    assert_eq!(bw["verified"], true, "{bw:#}");
    // 48 SMs × the 5 blocks the occupancy calculator allows: one full wave (it was 8 per SM).
    assert_eq!(
        (bw["blocks_per_sm"].as_u64(), bw["grid_blocks"].as_u64()),
        (Some(5), Some(240))
    );
    let fp4 = &r["fp4"];
    assert_eq!(fp4["native_fp4"], true);
    assert_eq!(fp4["native"]["conversion_correct"], true, "{fp4:#}");
    assert_eq!(fp4["native"]["zero_sign_mismatches"], 0);
    assert_eq!(fp4["native"]["mma_correct"], true);
    // Native MMA launches sized to ~50 ms (they were 0.1–0.25 ms).
    let launch = f64_at(fp4, "/native/mma/launch_ms");
    assert!((40.0..65.0).contains(&launch), "{launch} ms a launch");
    assert_eq!(fp4["emulated"]["correct"], true);
    assert!(fp4["emulated"]["method"]
        .as_str()
        .is_some_and(|m| m.contains("tensor cores")));
    assert!(skipped(&r).is_empty(), "{:?}", skipped(&r));
}

/// H200 (sm_90): ptxas refuses the e2m1 instructions; software FP4 runs; the compiler line names the file.
#[test]
fn h200_has_no_native_fp4_and_says_why() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let r = Run::new("h200", &n).bench(&[]);
    assert_eq!(r["fp4"]["native_fp4"], false);
    let why = r["fp4"]["why_not_native"].as_str().unwrap_or("");
    assert!(
        why.contains("e2m1") && why.contains("not supported on .target 'sm_90a'"),
        "{why}"
    );
    assert_eq!(r["fp4"]["emulated"]["correct"], true);
    assert_eq!(r["fp4"]["emulated"]["wrong_outputs"], 0);
    // The software figure is this kernel's, bounded by its decode of both operands.
    assert!(
        r["fp4"]["emulated"]["method"]
            .as_str()
            .is_some_and(|m| m.contains("W4A4, ~10 ALU instructions per MMA")),
        "{:#}",
        r["fp4"]["emulated"]
    );
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
    assert!(r["nvrtc"]
        .as_str()
        .is_some_and(|c| c.contains("libnvrtc.so.13") && c.contains("cubin sm_90a")));
    assert_eq!(f64_at(&r, "/gpu_peak_bandwidth_gbs"), 4800.0);
}

/// A CUDA 12.4 driver: no `cuEventElapsedTime_v2` (cudarc's cuda-13040 bindings would panic), and no
/// loading of CUDA 13 code.
#[test]
fn a_cuda_12_4_driver_gets_code_it_can_load_and_events_it_has() {
    let (Some(n13), Some(n12)) = (nvrtc("MLCOMPAT_NVRTC"), nvrtc("MLCOMPAT_NVRTC_12")) else {
        return;
    };
    let log = tempfile::NamedTempFile::new().expect("log");
    let log_path = log.path().to_str().expect("utf-8").to_string();
    // Only NVRTC 13: nothing this driver can load, and the report says what to install.
    let r = Run::new("h200", &n13).cuda_12_4().bench(&["bandwidth"]);
    let why = skip_reason(&r, "gpu_bandwidth");
    assert!(why.contains("newer than this driver (CUDA 12.4)"), "{why}");
    assert!(
        why.contains("pip install 'nvidia-cuda-nvrtc-cu12==12.4.*'"),
        "{why}"
    );
    assert_eq!(r["gpu"]["driver_cuda"], "12.4");
    // NVRTC 12.8 beside it: chosen, its cubins load, and the timing uses the symbol that exists.
    let both = format!("{n13}:{n12}");
    let r = Run::new("h200", &both)
        .cuda_12_4()
        .env("MLCOMPAT_FAKE_LOG", &log_path)
        .bench(&[]);
    assert!(
        r["nvrtc"]
            .as_str()
            .is_some_and(|c| c.starts_with("NVRTC 12.8")),
        "{r:#}"
    );
    assert_eq!(r["gpu_bandwidth"]["verified"], true, "{:?}", skipped(&r));
    assert_eq!(r["fp4"]["emulated"]["correct"], true, "{:?}", skipped(&r));
    let calls = std::fs::read_to_string(log.path()).expect("log");
    assert!(calls.lines().any(|l| l == "cuEventElapsedTime"));
    assert!(!calls.contains("cuEventElapsedTime_v2"));
}

/// The symbols a bandwidth run resolves, and each module loaded once.
#[test]
fn a_run_calls_the_documented_symbols_and_loads_each_module_once() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let log = tempfile::NamedTempFile::new().expect("log");
    let r = Run::new("h200", &n)
        .env("MLCOMPAT_FAKE_LOG", log.path().to_str().expect("utf-8"))
        .bench(&["bandwidth"]);
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
    let calls = std::fs::read_to_string(log.path()).expect("log");
    let count = |name: &str| calls.lines().filter(|l| *l == name).count();
    assert_eq!(
        count("cuModuleLoadData"),
        1,
        "bw_add, bw_copy and bw_triad share one module"
    );
    assert_eq!(count("cuModuleGetFunction"), 3);
    assert!(count("cuEventElapsedTime_v2") > 0 && count("cuEventElapsedTime") == 0);
    // Plain device memory, no memory pools.
    assert!(count("cuMemAlloc_v2") >= 3);
    assert_eq!(count("cuMemAllocAsync"), 0);
    assert_eq!(count("cuOccupancyMaxActiveBlocksPerMultiprocessor"), 4);
}

/// A kernel that never finishes: its worker is killed at the limit and nothing it started survives; the
/// parts before it keep their results, and the ones after are not started (the GPU may be wedged), with
/// one line saying why.
#[test]
fn a_hung_kernel_is_killed_and_the_rest_carries_on() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let mark = format!("hang-{}-{:?}", std::process::id(), Instant::now());
    let start = Instant::now();
    let r = Run::new("gb10", &n)
        .fault("hang-native")
        .env("MLCOMPAT_TEST_MARK", &mark)
        .bench(&["--gpu-timeout", "15"]);
    let took = start.elapsed();
    let why = skip_reason(&r, "fp4_native");
    assert!(
        why.starts_with("failed: timed out after 15 s and was killed"),
        "{why}"
    );
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
    let next = skip_reason(&r, "fp4_emulated");
    assert!(
        next.starts_with("not started: GPU 0 timed out on"),
        "{next}"
    );
    // One timeout, not one per part left.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(no_process_with(&mark), "a killed worker survived");
}

/// A worker that its kill does not end (stuck in the driver, in uninterruptible sleep, after an Xid 79 or
/// 45) is waited for a bounded time, then left behind and named by its pid, and the bench goes on.
///
/// A test cannot put a process in uninterruptible sleep, and SIGSTOP would not do (SIGKILL ends a stopped
/// process). So this test hides the killed worker's exit from mlcompat instead: it attaches to the worker
/// with ptrace (as its grandparent, which Yama's default allows), and a traced process that dies is seen
/// only by its tracer until the tracer waits for it (ptrace(2): "a zombie ptracee is only visible to its
/// ptracer"). To mlcompat that is what a worker stuck in the kernel is — SIGKILL sent, no exit to reap —
/// and a wait without a bound never returns, here as on the GPU. The worker itself waits in `cuInit`
/// forever (the stand-in's `wedged`), as a driver after an Xid 79 does.
#[test]
fn a_worker_that_will_not_die_is_left_behind_and_named() {
    use std::io::Read;
    let mark = format!("wedged-{}-{:?}", std::process::id(), Instant::now());
    #[expect(
        clippy::disallowed_methods,
        reason = "the test needs mlcompat running while it attaches to the worker"
    )]
    let mut mlcompat = std::process::Command::new(env!("CARGO_BIN_EXE_mlcompat"))
        .args([
            "bench",
            "--device",
            "gpu",
            "--format",
            "json",
            "--gpu-timeout",
            "3",
        ])
        .env("LD_LIBRARY_PATH", &doubles().cuda_13)
        .env("MLCOMPAT_FAKE_GPU", "h200")
        .env("MLCOMPAT_FAKE_FAULT", "wedged")
        .env("MLCOMPAT_NO_CACHE", "1")
        .env("MLCOMPAT_TEST_MARK", &mark)
        .env_remove("CUDA_VISIBLE_DEVICES")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mlcompat starts");
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(mlcompat.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(mlcompat.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let worker = loop {
        if let Some(pid) = worker_with(&mark) {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no GPU worker started"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    // SAFETY: PTRACE_SEIZE takes a pid and two ignored pointers; it neither stops nor signals the worker.
    let seized = unsafe {
        libc::ptrace(
            libc::PTRACE_SEIZE,
            worker,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if seized != 0 {
        let _ = mlcompat.wait();
        eprintln!(
            "skipped: ptrace not permitted here ({})",
            std::io::Error::last_os_error()
        );
        return;
    }
    let status = loop {
        if let Some(status) = mlcompat.try_wait().expect("waits") {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = mlcompat.kill();
            let _ = mlcompat.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    // Let the worker go: killed, and reaped by its tracer (waitpid reaches a tracee that is not a child).
    // SAFETY: kill and waitpid on the pid this test traces.
    unsafe {
        libc::kill(worker, libc::SIGKILL);
        libc::waitpid(worker, std::ptr::null_mut(), libc::__WALL);
    }
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    assert!(
        status.is_some(),
        "mlcompat still waited for the worker it killed after {took:?}:\n{stderr}"
    );
    let r: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
    let why = skip_reason(&r, "gpu_bandwidth");
    assert!(
        why.starts_with("failed: timed out after 3 s and could not be ended")
            && why.contains(&format!(
                "the GPU worker (pid {worker}) is stuck in the driver"
            )),
        "{why}"
    );
    // The GPU is wedged: nothing else is started on it.
    for part in ["fp4_native", "fp4_emulated"] {
        let next = skip_reason(&r, part);
        assert!(next.starts_with("not started: GPU 0 is wedged"), "{next}");
    }
    // The limit, two seconds' patience after the kill, and the rest.
    assert!(took < Duration::from_secs(20), "{took:?}");
}

/// The GPU worker whose environment carries `mark`.
fn worker_with(mark: &str) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let env = std::fs::read(e.path().join("environ")).ok()?;
        let worker = cmdline.split(|b| *b == 0).any(|a| a == b"--gpu-worker");
        (worker && env.windows(mark.len()).any(|w| w == mark.as_bytes())).then_some(pid)
    })
}

/// Whether no process still carries `mark` in its environment (a worker that outlived its kill).
fn no_process_with(mark: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    !entries.flatten().any(|e| {
        std::fs::read(e.path().join("environ"))
            .is_ok_and(|env| env.windows(mark.len()).any(|w| w == mark.as_bytes()))
    })
}

/// A native kernel that faults (a sticky error) does not take the emulated result with it.
#[test]
fn a_faulting_native_kernel_leaves_the_other_results() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let r = Run::new("gb10", &n).fault("fault-native").bench(&[]);
    let why = skip_reason(&r, "fp4_native");
    assert!(
        why.contains("CUDA_ERROR_ILLEGAL_INSTRUCTION (715)"),
        "{why}"
    );
    assert_eq!(r["fp4"]["native_fp4"], true, "it compiled");
    assert_eq!(r["fp4"]["emulated"]["correct"], true);
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
}

/// A kernel that faults is named in the report, with the CUDA error: launches are asynchronous, so the
/// fault surfaces at the next call that waits for the device, which was the copy of its result.
#[test]
fn a_kernel_fault_is_reported_under_the_kernel_s_name() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let r = Run::new("h200", &n)
        .fault("illegal-address")
        .bench(&["fp4"]);
    let why = skip_reason(&r, "fp4_emulated");
    assert_eq!(
        why,
        "failed: fp4_dequant_mma_gemm: CUDA_ERROR_ILLEGAL_ADDRESS (700), reported by \
         cuStreamSynchronize after its launch"
    );
    // The sticky error poisoned only that worker's context.
    let r = Run::new("h200", &n).fault("illegal-address").bench(&[]);
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
}

/// A crashed worker is reported as a crash, promptly, not as a timeout.
#[test]
fn a_crash_is_not_a_timeout() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let start = Instant::now();
    let r = Run::new("gb10", &n)
        .fault("crash-native")
        .bench(&["fp4", "--gpu-timeout", "600"]);
    let why = skip_reason(&r, "fp4_native");
    assert_eq!(
        why, "failed: the GPU worker crashed (killed by a signal)",
        "{why}"
    );
    assert!(start.elapsed() < Duration::from_secs(120));
    assert_eq!(r["fp4"]["emulated"]["correct"], true);
}

/// `cuInit` returning 999, and NVML's driver/library version mismatch: said, not a crash.
#[test]
fn cuinit_999_and_a_driver_library_mismatch_are_reported() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let r = Run::new("h200", &n).fault("init-999").bench(&[]);
    assert_eq!(
        skipped(&r),
        [
            "gpu_bandwidth: failed: cuInit: CUDA_ERROR_UNKNOWN (999)",
            "fp4_native: failed: cuInit: CUDA_ERROR_UNKNOWN (999)",
            "fp4_emulated: failed: cuInit: CUDA_ERROR_UNKNOWN (999)"
        ]
    );
    let run = Run::new("h200", &n).fault("rm-mismatch");
    let facts = run.json(&["probe", "--format", "json"]);
    assert!(
        facts["failed"]["nvidia"]
            .as_str()
            .is_some_and(|f| f.contains("Driver/library version mismatch")),
        "{:#}",
        facts["failed"]
    );
    // cuDriverGetVersion needs no cuInit and still answers.
    assert_eq!(facts["cuda"]["driver_api"], "13.0");
    let r = run.bench(&["bandwidth"]);
    assert_eq!(
        skip_reason(&r, "gpu_bandwidth"),
        "failed: cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH (803)"
    );
}

/// Two GPUs: NVML lists the 3090 first (PCI order), CUDA the faster 4090 first. The bench measures CUDA's
/// device 0 and takes that GPU's peak; `--deep` records each GPU's CUDA ordinal and SMs by UUID.
#[test]
fn nvml_and_cuda_devices_are_matched_by_uuid() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let run = Run::new("two-gpus", &n);
    let r = run.bench(&["bandwidth"]);
    assert_eq!(r["gpu"]["name"], "NVIDIA GeForce RTX 4090");
    assert!(r["gpu_match"]
        .as_str()
        .is_some_and(|m| m.contains("GPU-04090000-1111-4222-8333-444444444444")));
    assert_eq!(
        f64_at(&r, "/gpu_peak_bandwidth_gbs"),
        1008.0,
        "the 4090's, not the 3090's"
    );
    // CUDA_VISIBLE_DEVICES=1: CUDA's device 0 is now the 3090.
    let r = Run::new("two-gpus", &n)
        .env("CUDA_VISIBLE_DEVICES", "1")
        .bench(&["bandwidth"]);
    assert_eq!(r["gpu"]["name"], "NVIDIA GeForce RTX 3090");
    assert_eq!(f64_at(&r, "/gpu_peak_bandwidth_gbs"), 936.0);
}

/// `probe --deep` (what `doctor --deep` runs): the CUDA devices land on the right NVML GPUs by UUID
/// (their SM counts were zipped by position), and every kernel hanging costs a timeout per part, not
/// the probe.
#[test]
fn deep_probe_matches_devices_by_uuid_and_carries_on_past_hung_kernels() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let facts = Run::new("two-gpus", &n).fault("hang-all").json(&[
        "probe",
        "--deep",
        "--gpu-timeout",
        "5",
        "--format",
        "json",
    ]);
    let gpus = &facts["gpus"];
    assert_eq!(gpus[0]["name"], "NVIDIA GeForce RTX 3090");
    assert_eq!(
        (
            gpus[0]["cuda_index"].as_u64(),
            gpus[0]["gpu_cores"].as_u64()
        ),
        (Some(1), Some(82))
    );
    assert_eq!(
        (
            gpus[1]["cuda_index"].as_u64(),
            gpus[1]["gpu_cores"].as_u64()
        ),
        (Some(0), Some(128))
    );
    assert_eq!(facts["cuda"]["devices"], 2);
    let failed = &facts["failed"];
    // One timeout ends the GPU's jobs: the first part waited its limit, the rest were not started (a hung
    // kernel may leave the GPU wedged), so a GPU costs one timeout, not one per part.
    // (Ada has no native FP4: no native kernel is launched, so none hangs.)
    assert!(
        failed["bench.gpu_bandwidth"]
            .as_str()
            .is_some_and(|f| f.contains("timed out after 5 s")),
        "{failed:#}"
    );
    assert!(
        failed["bench.fp4_emulated"]
            .as_str()
            .is_some_and(|f| f.contains("not started") && f.contains("timed out")),
        "{failed:#}"
    );
    // Native FP4 was not started either (nor would it have launched a kernel on Ada).
    assert!(
        failed
            .get("bench.fp4_native")
            .is_none_or(|f| f.as_str().is_some_and(|f| f.contains("not started"))),
        "{failed:#}"
    );
    assert!(facts["benchmarks"]["cpu_bandwidth_gbs"]
        .as_f64()
        .is_some_and(|g| g > 0.0));
}

/// MIG: CUDA sees a slice; the bench says so and sets no percent of the whole GPU's peak.
#[test]
fn under_mig_the_slice_is_reported_without_a_whole_gpu_peak() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let run = Run::new("h100-mig", &n);
    let r = run.bench(&["bandwidth"]);
    assert_eq!(r["gpu"]["name"], "NVIDIA H100 80GB HBM3 MIG 1g.10gb");
    assert_eq!(r["gpu"]["mig_profile"], "1g.10gb");
    assert_eq!(r["gpu"]["sms"], 16);
    assert!(
        r["gpu_match"].as_str().is_some_and(|m| m
            .starts_with("MIG slice NVIDIA H100 80GB HBM3 MIG 1g.10gb of NVIDIA H100 80GB HBM3")),
        "{}",
        r["gpu_match"]
    );
    assert!(r["gpu_peak_bandwidth_gbs"].is_null());
    assert!(r["gpu_bandwidth_percent_of_peak"].is_null());
    assert_eq!(r["gpu_bandwidth"]["verified"], true);
    let facts = run.json(&["probe", "--format", "json"]);
    let slices = &facts["gpus"][0]["mig_slices"];
    assert_eq!(
        slices.as_array().map(Vec::len),
        Some(2),
        "{:#}",
        facts["gpus"]
    );
    assert_eq!(slices[0]["name"], "NVIDIA H100 80GB HBM3 MIG 1g.10gb");
    assert!(slices[0]["uuid"]
        .as_str()
        .is_some_and(|u| u.starts_with("MIG-")));
}

/// Copy and triad are checked, not only add.
#[test]
fn a_wrong_copy_is_caught() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let run = Run::new("h200", &n).fault("wrong-copy");
    let r = run.bench(&["bandwidth"]);
    let bw = &r["gpu_bandwidth"];
    assert_eq!(bw["verified"], false);
    let wrong = bw["wrong"].as_array().expect("list");
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert!(
        wrong[0]
            .as_str()
            .is_some_and(|w| w.starts_with("bw_copy: 1049 of 1048576")),
        "{wrong:?}"
    );
    let text = run.output(&["bench", "bandwidth", "--device", "gpu"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("WRONG RESULT: bw_copy"));
}

/// Hardware that returns +0 where the reference keeps −0 is counted apart, not as wrong.
#[test]
fn zero_sign_differences_are_counted_apart() {
    let Some(n) = nvrtc("MLCOMPAT_NVRTC") else {
        return;
    };
    let run = Run::new("gb10", &n).fault("plus-zero");
    let r = run.bench(&["fp4"]);
    let native = &r["fp4"]["native"];
    assert_eq!(native["conversion_correct"], true, "{native:#}");
    assert_eq!(native["conversion_mismatches"], 0);
    assert!(
        native["zero_sign_mismatches"]
            .as_u64()
            .is_some_and(|z| z >= 2),
        "{native:#}"
    );
    let text = run.output(&["bench", "fp4", "--device", "gpu"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("came back as +0"));
}
