//! GPU work in a child process: `mlcompat bench --gpu-worker JOB` (hidden) runs one job on one device and
//! prints one JSON `WorkerReport` on stdout; the parent starts it through `exec` with a time limit.
//!
//! Why a process: a watchdog thread can stop waiting for a hung kernel but cannot stop the kernel (the
//! thread spins in `cuEventSynchronize` and the context stays busy); killing the process ends it, and the
//! driver cleans up. A kernel that faults leaves a sticky error that poisons its context for good; in its
//! own process it cannot take the other results with it. And a crash (a panic, a signal) is told apart
//! from a timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::device::{self, EmulatedFp4, GpuBandwidth, GpuInfo, NativeFp4};
use super::driver::{CudaDevice, Driver};
use super::kernels::{self, Build, Kernel};
use super::nvrtc::{self, Nvrtc};
use super::plan::{self, Arch, Compiler};
use crate::exec;

pub const WORKER_SCHEMA: &str = "mlcompat.gpu-worker/1";

/// Set to `1`, the bandwidth worker first launches a kernel that never finishes (`scripts/gpu-check`
/// uses it to check the time limit on a real GPU).
pub const SPIN: &str = "MLCOMPAT_GPU_WORKER_SPIN";

/// One unit of GPU work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// `cuInit` and every device the driver shows (name, UUID, SMs), no kernels.
    Devices,
    Bandwidth,
    Fp4Native,
    Fp4Emulated,
}

impl Job {
    pub const ALL: [Job; 4] = [
        Job::Devices,
        Job::Bandwidth,
        Job::Fp4Native,
        Job::Fp4Emulated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Devices => "devices",
            Job::Bandwidth => "bandwidth",
            Job::Fp4Native => "fp4-native",
            Job::Fp4Emulated => "fp4-emulated",
        }
    }

    pub fn from_name(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name)
    }

    fn kernels(self) -> &'static [Kernel] {
        match self {
            Job::Devices => &[],
            Job::Bandwidth => &[Kernel::Bandwidth],
            Job::Fp4Native => &[Kernel::Fp4Native, Kernel::Fp4Mma],
            Job::Fp4Emulated => &[Kernel::Fp4Emulated],
        }
    }
}

/// What a worker prints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// The `devices` job: every device, in CUDA's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<CudaDevice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<GpuBandwidth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeFp4>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulated: Option<EmulatedFp4>,
    /// Why the job stopped before its result (no driver, `cuInit` failed, a CUDA error, no NVRTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs `job` in this process (the child side). `nvrtc` lists the NVRTC candidates; empty means the
/// default search (`nvrtc::candidates`).
pub fn serve(job: Job, ordinal: u32, nvrtc: &[PathBuf]) -> WorkerReport {
    let mut report = WorkerReport {
        schema: WORKER_SCHEMA.into(),
        job: Some(job),
        ..WorkerReport::default()
    };
    if let Err(e) = serve_into(job, ordinal, nvrtc, &mut report) {
        report.error = Some(e);
    }
    report
}

fn serve_into(
    job: Job,
    ordinal: u32,
    nvrtc: &[PathBuf],
    report: &mut WorkerReport,
) -> Result<(), String> {
    if job == Job::Devices {
        let driver = Driver::load()?;
        driver.init()?;
        report.devices = driver.devices()?;
        return Ok(());
    }
    let gpu = device::open(ordinal)?;
    report.gpu = Some(gpu.info.clone());
    let arch = Arch::parse(&gpu.info.arch).ok_or("unknown GPU architecture")?;
    let candidates = if nvrtc.is_empty() {
        nvrtc::candidates(&[])
    } else {
        nvrtc.to_vec()
    };
    let (compiler, plan) = choose(&candidates, &arch, Driver::load()?.version)?;
    let build = kernels::build(&compiler, &plan, &gpu.info.arch, job.kernels())?;
    report.build = Some(build.clone());
    if job == Job::Bandwidth && std::env::var_os(SPIN).is_some_and(|v| v == "1") {
        gpu.spin(&build)?;
    }
    match job {
        Job::Devices => {}
        Job::Bandwidth => report.bandwidth = Some(gpu.bandwidth(&build)?),
        Job::Fp4Native => {
            if build.native_fp4 == Some(true) {
                report.native = Some(gpu.fp4_native(&build)?);
            }
        }
        Job::Fp4Emulated => report.emulated = Some(gpu.fp4_emulated(&build)?),
    }
    Ok(())
}

/// Opens the NVRTC candidates and picks one for `arch` and the driver (`plan::choose`).
pub fn choose(
    candidates: &[PathBuf],
    arch: &Arch,
    driver: Option<super::CudaVersion>,
) -> Result<(std::sync::Arc<Nvrtc>, plan::Plan), String> {
    let (loaded, failed) = nvrtc::open_all(candidates);
    let compilers: Vec<Compiler> = loaded
        .iter()
        .map(|n| Compiler {
            version: n.version,
            archs: n.archs.clone(),
        })
        .collect();
    let plan = plan::choose(&compilers, arch, driver).map_err(|e| {
        if failed.is_empty() {
            e
        } else {
            format!("{e} ({})", failed.join("; "))
        }
    })?;
    Ok((loaded[plan.compiler].clone(), plan))
}

/// Chooses an NVRTC among `candidates` for `arch` and a driver of version `driver` (`None`: compile
/// only) and builds `kernels` with it.
pub fn build(
    candidates: &[PathBuf],
    arch: &str,
    driver: Option<super::CudaVersion>,
    kernels: &[Kernel],
) -> Result<Build, String> {
    let parsed = Arch::parse(arch).ok_or_else(|| format!("not a GPU architecture: {arch}"))?;
    let (compiler, plan) = choose(candidates, &parsed, driver)?;
    kernels::build(&compiler, &plan, arch, kernels)
}

/// Why a worker gave no report.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// It ran past its time and was killed with its process group.
    TimedOut(Duration),
    /// It ran past its time and was still there after SIGKILL: stuck in the driver (uninterruptible
    /// sleep, as after an Xid 79 or 45). It was left behind, so that the rest of the run goes on.
    Stuck { after: Duration, pid: u32 },
    /// It died: a non-zero exit (a panic exits 101) or a signal, with the last line it printed.
    Crashed { status: Option<i32>, said: String },
    /// It could not be started.
    NotStarted(String),
    /// It printed something that is not a worker report.
    Garbled(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::TimedOut(after) => write!(
                f,
                "timed out after {} s and was killed (a kernel or the driver never finished)",
                after.as_secs_f64().round()
            ),
            Failure::Stuck { after, pid } => write!(
                f,
                "timed out after {} s and could not be ended: the GPU worker (pid {pid}) is stuck in \
                 the driver, still there after SIGKILL, and was left behind (a GPU in this state \
                 usually needs a reboot; `dmesg` shows its Xid)",
                after.as_secs_f64().round()
            ),
            Failure::Crashed { status, said } => {
                match status {
                    Some(code) => write!(f, "the GPU worker crashed (exit status {code})")?,
                    None => write!(f, "the GPU worker crashed (killed by a signal)")?,
                }
                if !said.is_empty() {
                    write!(f, ": {said}")?;
                }
                Ok(())
            }
            Failure::NotStarted(e) => write!(f, "the GPU worker could not start: {e}"),
            Failure::Garbled(e) => write!(f, "the GPU worker's report was unreadable: {e}"),
        }
    }
}

/// Runs `job` in a child `program bench --gpu-worker JOB` (the parent side), killed after `timeout`.
pub fn run(
    program: &Path,
    job: Job,
    ordinal: u32,
    nvrtc: &[PathBuf],
    timeout: Duration,
) -> Result<WorkerReport, Failure> {
    let ordinal = ordinal.to_string();
    // Paths go as they are: neither mlcompat's own nor NVRTC's need be UTF-8.
    let mut cmd = exec::Cmd::new(program).args([
        "bench",
        "--gpu-worker",
        job.name(),
        "--gpu-ordinal",
        &ordinal,
    ]);
    for p in nvrtc {
        cmd = cmd.args([std::ffi::OsStr::new("--nvrtc"), p.as_os_str()]);
    }
    match cmd.run(&exec::Budget::new(timeout)) {
        Ok(out) => parse(&out.stdout),
        Err(exec::RunError::TimedOut { after, .. }) => Err(Failure::TimedOut(after)),
        Err(exec::RunError::Unkillable { after, pid, .. }) => Err(Failure::Stuck { after, pid }),
        Err(exec::RunError::Failed {
            code, stderr_tail, ..
        }) => Err(Failure::Crashed {
            status: code,
            said: stderr_tail,
        }),
        Err(e) => Err(Failure::NotStarted(e.to_string())),
    }
}

/// Reads a worker's stdout.
pub fn parse(stdout: &str) -> Result<WorkerReport, Failure> {
    let report: WorkerReport =
        serde_json::from_str(stdout.trim()).map_err(|e| Failure::Garbled(e.to_string()))?;
    if report.schema != WORKER_SCHEMA {
        return Err(Failure::Garbled(format!(
            "schema {:?}, expected {WORKER_SCHEMA}",
            report.schema
        )));
    }
    Ok(report)
}

/// In the worker: a panic becomes one line on stderr (the parent keeps the last line), so a crash
/// says what happened ("… Missing symbol …") rather than "run with RUST_BACKTRACE=1".
pub fn install_panic_line() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::terminal::to_stderr(&format!(
            "GPU worker panicked{at}: {}",
            message.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_by_name() {
        for j in Job::ALL {
            assert_eq!(Job::from_name(j.name()), Some(j));
            assert_eq!(
                serde_json::to_string(&j).expect("json"),
                format!("\"{}\"", j.name())
            );
        }
        assert_eq!(Job::from_name("everything"), None);
    }

    #[test]
    fn reports_round_trip_and_garbage_is_named() {
        let report = serve(Job::Devices, 0, &[]);
        let text = serde_json::to_string(&report).expect("json");
        let back = parse(&text).expect("parses");
        assert_eq!(back.job, Some(Job::Devices));
        // Without a driver (as here) the report says why; with one it lists devices.
        assert!(back.error.is_some() || !back.devices.is_empty());
        assert!(matches!(
            parse("Segmentation fault"),
            Err(Failure::Garbled(_))
        ));
        assert!(matches!(
            parse(r#"{"schema":"other/1"}"#),
            Err(Failure::Garbled(_))
        ));
    }

    #[test]
    fn failures_say_crash_or_timeout() {
        let t = Failure::TimedOut(Duration::from_secs(3)).to_string();
        assert!(t.starts_with("timed out after 3 s and was killed"), "{t}");
        let c = Failure::Crashed {
            status: Some(101),
            said: "GPU worker panicked: Missing symbol cuEventElapsedTime_v2".into(),
        }
        .to_string();
        assert!(
            c.contains("crashed (exit status 101)") && c.contains("Missing symbol"),
            "{c}"
        );
        let s = Failure::Crashed {
            status: None,
            said: String::new(),
        }
        .to_string();
        assert_eq!(s, "the GPU worker crashed (killed by a signal)");
        let stuck = Failure::Stuck {
            after: Duration::from_secs(120),
            pid: 4242,
        }
        .to_string();
        assert!(
            stuck.starts_with("timed out after 120 s and could not be ended")
                && stuck.contains("(pid 4242) is stuck in the driver"),
            "{stuck}"
        );
    }
}
