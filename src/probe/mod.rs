//! Probes: gather facts about the machine mlcompat runs on. The only I/O layer besides the app wiring;
//! each probe is bounded in time and turns its own failure into an entry of `Facts::failed`. Independent
//! probes run in parallel, and each one's duration is recorded.

pub mod apple;
pub mod binaries;
pub mod cache;
pub mod cuda;
pub mod deep;
pub mod host;
pub mod nvidia;
pub mod pci;
pub mod python;
pub mod record;
pub mod requirements;
pub mod smi;
pub mod toolkit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::exec;
use crate::facts::{Arch, Facts, Gpu, Machine, MachineKind, Os, Vendor, FACTS_SCHEMA};

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Time budget of each probe, for all the external programs it runs together.
    pub timeout: Duration,
    /// Limit for each `--deep` import (torch or vLLM take seconds to import).
    pub import_timeout: Duration,
    /// The interpreter to inspect (`--python`).
    pub python: Option<PathBuf>,
    pub deep: bool,
    pub use_cache: bool,
    /// (Python distribution, import statement) pairs `--deep` runs when the distribution is installed;
    /// the matrix says which (`detect.imports`).
    pub imports: Vec<(String, String)>,
    /// The mlcompat binary, to run GPU work (`--deep`: CUDA devices, the benches) in a child process it
    /// can kill; `None` skips that work.
    pub worker: Option<PathBuf>,
    /// Limit for each GPU worker (`--deep`).
    pub gpu_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(5),
            import_timeout: Duration::from_secs(60),
            python: None,
            deep: false,
            use_cache: true,
            imports: Vec::new(),
            worker: None,
            gpu_timeout: crate::bench::GPU_TIMEOUT,
        }
    }
}

/// Shared libraries the matrix knows how to detect.
const LIBRARIES: &[&str] = &[
    "libcuda.so",
    "libnvidia-ml.so",
    "libcudart.so",
    "libcublas.so",
    "libcudnn.so",
    "libnccl.so",
    "libnvrtc.so",
];

/// Probes this machine.
pub fn probe(options: &ProbeOptions) -> Facts {
    let mut times: BTreeMap<String, f64> = BTreeMap::new();
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    let timed = |name: &str, times: &mut BTreeMap<String, f64>, start: Instant| {
        times.insert(
            name.to_string(),
            (start.elapsed().as_secs_f64() * 1e4).round() / 10.0,
        );
    };
    let start = Instant::now();
    let mut host_failures = Vec::new();
    let mut host = host::probe(options.timeout, &mut host_failures);
    timed("host", &mut times, start);
    for (k, v) in host_failures {
        failed.entry(k).or_insert(v);
    }
    let mut facts = Facts {
        schema: FACTS_SCHEMA.to_string(),
        machine: Some(Machine {
            id: "local".into(),
            name: crate::facts::THIS_MACHINE.into(),
            kind: MachineKind::Live,
            ..Machine::default()
        }),
        ..Facts::default()
    };
    let skipped = std::env::var_os("PATH")
        .map(|p| crate::exec::skipped_path_entries(&p))
        .unwrap_or_default();
    if !skipped.is_empty() {
        facts.probe_notes.push(format!(
            "PATH entries not searched (they name the current folder, whose programs are not run): {}",
            skipped.join(", ")
        ));
    }
    let relative = crate::exec::relative_folder_vars();
    if !relative.is_empty() {
        facts.probe_notes.push(format!(
            "not used, being relative (they name folders under the current one): {}",
            relative.join(", ")
        ));
    }

    // Independent probes in parallel: GPUs, CUDA toolkit, Python, programs on PATH.
    let (gpu_part, toolkit_part, python_part, binaries_part) = std::thread::scope(|s| {
        let host_ref = &host;
        let gpus = crate::threads::scoped_or_here(s, move || {
            let t = Instant::now();
            (gpus(host_ref, options), t.elapsed())
        });
        let toolkit = crate::threads::scoped_or_here(s, || {
            let t = Instant::now();
            let r = (host_ref.os == Some(Os::Linux) || host_ref.os == Some(Os::Windows))
                .then(|| toolkit::probe(options.timeout, options.use_cache));
            (r, t.elapsed())
        });
        let python = crate::threads::scoped_or_here(s, || {
            let t = Instant::now();
            (
                python::probe(
                    options.python.as_deref(),
                    options.timeout,
                    options.use_cache,
                ),
                t.elapsed(),
            )
        });
        let binaries = crate::threads::scoped_or_here(s, || {
            let t = Instant::now();
            (
                binaries::probe(options.timeout, options.use_cache),
                t.elapsed(),
            )
        });
        (gpus.join(), toolkit.join(), python.join(), binaries.join())
    });
    let ms = |d: Duration| (d.as_secs_f64() * 1e4).round() / 10.0;

    match gpu_part {
        Some((g, took)) => {
            times.insert("gpus".into(), ms(took));
            facts.gpus = Some(g.gpus);
            facts.nvidia = g.nvidia;
            facts.apple = g.apple;
            if let Some(arm64) = g.arm64_hardware {
                if arm64 {
                    host.arch = Some(Arch::Aarch64);
                }
            }
            for (k, v) in g.failed {
                failed.entry(k).or_insert(v);
            }
        }
        None => {
            failed.insert("gpus".into(), "the GPU probe stopped unexpectedly".into());
        }
    }
    match toolkit_part {
        Some((Some(Ok((t, targets_failure))), took)) => {
            times.insert("cuda".into(), ms(took));
            facts.cuda = Some(t);
            if let Some(e) = targets_failure {
                failed.insert("cuda.targets".into(), e);
            }
        }
        Some((Some(Err(e)), _)) => {
            failed.insert("cuda".into(), e);
        }
        Some((None, _)) => {}
        None => {
            failed.insert(
                "cuda".into(),
                "the CUDA toolkit probe stopped unexpectedly".into(),
            );
        }
    }
    let mut python_dirs: Vec<PathBuf> = Vec::new();
    let mut python_interpreter: Option<python::Chosen> = None;
    match python_part {
        Some((p, took)) => {
            times.insert("python".into(), ms(took));
            python_dirs = p.sys_path;
            python_interpreter = p.interpreter;
            facts.python = p.python;
            if let Some(f) = p.failure {
                failed.insert("python".into(), f);
            }
            if let Some(unread) = p.packages_problem {
                failed.insert("python.packages".into(), unread);
            }
        }
        None => {
            failed.insert(
                "python".into(),
                "the Python probe stopped unexpectedly".into(),
            );
        }
    }
    match binaries_part {
        Some(((b, broken), took)) => {
            times.insert("binaries".into(), ms(took));
            facts.docker = binaries::docker(&b);
            facts.binaries = Some(b);
            failed.extend(broken);
        }
        None => {
            failed.insert(
                "binaries".into(),
                "the PATH probe stopped unexpectedly".into(),
            );
        }
    }
    if host.os == Some(Os::Linux) {
        let t = Instant::now();
        let extra: Vec<PathBuf> = facts
            .cuda
            .as_ref()
            .and_then(|c| c.path.as_ref())
            .map(|p| Path::new(p).join("lib64"))
            .into_iter()
            .collect();
        facts.libraries = Some(toolkit::find_libraries(LIBRARIES, &extra));
        times.insert("libraries".into(), ms(t.elapsed()));
    }
    // The CUDA driver API: version always (cheap), devices only with --deep (cuInit is slow).
    if facts.nvidia.is_some()
        || facts
            .libraries
            .as_ref()
            .is_some_and(|l| l.contains_key("libcuda.so"))
    {
        let t = Instant::now();
        let worker = options.worker.as_deref().filter(|_| options.deep);
        match cuda::read(worker, options.gpu_timeout) {
            Ok(driver) => {
                let cuda = facts.cuda.get_or_insert_with(Default::default);
                cuda.driver_api = driver.version.parse().ok();
                cuda.devices = driver
                    .devices
                    .as_ref()
                    .and_then(|d| u32::try_from(d.len()).ok());
                // Matched by UUID: CUDA's order is not NVML's, and under MIG CUDA sees a slice.
                if let (Some(gpus), Some(devices)) = (&mut facts.gpus, &driver.devices) {
                    cuda::match_devices(gpus, devices);
                }
            }
            Err(e) => {
                failed.entry("cuda_driver".into()).or_insert(e);
            }
        }
        times.insert("cuda_driver".into(), ms(t.elapsed()));
    }
    if options.deep {
        let t = Instant::now();
        match (&facts.python, &python_interpreter) {
            (Some(py), Some(interpreter)) => {
                let deep = deep::probe(py, interpreter, &options.imports, options.import_timeout);
                // An import that died of a signal (SIGBUS on a truncated library): find the file.
                let died = deep
                    .imports
                    .values()
                    .any(|r| r.contains("killed by") || r.contains("signal"));
                let damaged =
                    died.then(|| record::damaged_files(&python_dirs, Duration::from_secs(10)));
                facts.imports = Some(deep.imports);
                facts.import_warnings = deep.warnings;
                facts.torch = deep.torch;
                if facts.torch.is_none() && py.packages.contains_key("torch") {
                    failed.insert("torch".into(), "torch did not import (see imports)".into());
                }
                if let (Some(py), Some(damaged)) = (facts.python.as_mut(), damaged) {
                    py.damaged_files = Some(damaged);
                }
            }
            _ => {
                failed.insert(
                    "imports".into(),
                    "no Python environment to import from".into(),
                );
            }
        }
        times.insert("imports".into(), ms(t.elapsed()));
        let t = Instant::now();
        let ctx = crate::bench::Context {
            unified_memory: facts
                .primary_gpu()
                .and_then(|g| g.unified_memory)
                .unwrap_or(false),
            memory_bytes: host
                .memory_gb
                .map(|g| (g * crate::units::BYTES_PER_GB) as u64),
            python_dirs: python_dirs.clone(),
            gpus: facts
                .gpus
                .iter()
                .flatten()
                .map(crate::bench::KnownGpu::from_nvml)
                .collect(),
            gpu_timeout: options.gpu_timeout,
            ..crate::bench::Context::new(options.worker.clone())
        };
        let bench = crate::bench::run(
            crate::bench::What::All,
            crate::bench::Device::Auto,
            &ctx,
            &mut |_| {},
        );
        facts.benchmarks = Some(bench.benchmarks());
        for s in bench.skipped {
            failed
                .entry(format!("bench.{}", s.part))
                .or_insert(s.reason);
        }
        times.insert("bench".into(), ms(t.elapsed()));
    }
    if options.use_cache {
        if let Some(problem) = cache::problem() {
            failed.insert("cache".into(), problem);
        }
    }
    facts.host = host;
    facts.failed = failed;
    facts.probe_times_ms = times;
    facts.normalize();
    facts
}

/// GPUs and their driver: NVML on Linux/Windows (with PCI and nvidia-smi as fallbacks), Apple's tools on
/// macOS.
struct GpuPart {
    gpus: Vec<Gpu>,
    nvidia: Option<crate::facts::Nvidia>,
    apple: Option<crate::facts::Apple>,
    arm64_hardware: Option<bool>,
    failed: Vec<(String, String)>,
}

fn gpus(host: &crate::facts::Host, options: &ProbeOptions) -> GpuPart {
    let mut part = GpuPart {
        gpus: vec![],
        nvidia: None,
        apple: None,
        arm64_hardware: None,
        failed: vec![],
    };
    if host.os == Some(Os::Macos) {
        match apple::probe(host.memory_gb, options.timeout, options.use_cache) {
            Ok(a) => {
                part.arm64_hardware = Some(a.arm64_hardware);
                if a.arm64_hardware {
                    part.gpus.push(a.gpu);
                    part.apple = Some(a.apple);
                }
            }
            Err(e) => part.failed.push(("gpus".into(), e)),
        }
        return part;
    }
    match nvidia::read() {
        Ok(report) => {
            part.gpus = report
                .devices
                .iter()
                .map(|d| nvidia::to_gpu(d, host.memory_gb))
                .collect();
            part.nvidia = Some(report.nvidia);
        }
        Err(nvml_error) => nvidia_fallback(host, options, nvml_error, &mut part),
    }
    part
}

/// NVML could not be loaded: nvidia-smi says what it can (its GPU table, or why it fails), else the PCI
/// bus lists what is plugged in. Whatever is learnt becomes facts marked with where it came from.
fn nvidia_fallback(
    host: &crate::facts::Host,
    options: &ProbeOptions,
    nvml_error: String,
    part: &mut GpuPart,
) {
    let pci: Vec<pci::PciGpu> = pci::list(Path::new("/sys/bus/pci/devices"));
    let has_nvidia = pci.iter().any(|p| p.vendor == Vendor::Nvidia);
    // Under WSL2 nvidia-smi comes with the Windows driver in /usr/lib/wsl/lib, not always on PATH.
    let smi_path = exec::resolve("nvidia-smi").or_else(|| {
        let wsl = Path::new(host::WSL_LIB_DIR).join("nvidia-smi");
        (host.wsl == Some(true) && wsl.is_file()).then_some(wsl)
    });
    let budget = exec::Budget::new(options.timeout);
    let smi = smi_path.map(|p| smi::read(&p, &budget, host.memory_gb));
    match smi {
        Some(smi) if !smi.gpus.is_empty() => {
            part.failed.push((
                "nvidia".into(),
                format!("{nvml_error}; GPUs and driver read from nvidia-smi instead"),
            ));
            part.gpus = smi.gpus;
            part.nvidia = smi.nvidia;
        }
        smi => {
            let smi_error = smi.and_then(|s| s.error);
            let reason = match (&smi_error, has_nvidia) {
                (Some(e), _) => format!("{nvml_error}; nvidia-smi: {}", e.replace('\n', " / ")),
                (None, true) => format!("{nvml_error}, although the PCI bus lists an NVIDIA GPU"),
                (None, false) => nvml_error,
            };
            part.failed.push(("nvidia".into(), reason));
            if let Some(error) = smi_error {
                part.nvidia = Some(crate::facts::Nvidia {
                    error: Some(error),
                    source: Some(smi::SOURCE.into()),
                    ..Default::default()
                });
            }
            part.gpus = pci
                .iter()
                .map(|p| {
                    let mut gpu = Gpu::new(
                        p.vendor,
                        format!(
                            "{} GPU (PCI {} device {})",
                            vendor_name(p.vendor),
                            p.address,
                            p.device_id
                        ),
                    );
                    gpu.source = Some("pci".into());
                    gpu
                })
                .collect();
        }
    }
}

fn vendor_name(v: Vendor) -> &'static str {
    match v {
        Vendor::Nvidia => "NVIDIA",
        Vendor::Apple => "Apple",
        Vendor::Amd => "AMD",
        Vendor::Intel => "Intel",
    }
}

/// A recorded tool output from `tests/fixtures/` (the probes' parser tests).
#[cfg(test)]
pub(crate) fn fixture(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}
