//! `mlcompat bench`: memory bandwidth (CPU triad; GPU add, copy, triad) and the FP4 kernels. Each GPU part
//! runs in its own worker process (`gpu::worker`) with a time limit: a hung kernel is killed, a faulting
//! one cannot take the other parts with it, and a crash is reported as a crash. Without a GPU the parts
//! say "skipped" and why — never a silent pass.

pub mod cpu;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::gpu::device::{EmulatedFp4, GpuBandwidth, GpuInfo, NativeFp4};
use crate::gpu::driver::Driver;
use crate::gpu::kernels::{self, Kernel};
use crate::gpu::plan::Arch;
use crate::gpu::worker::{self, Job, WorkerReport};
use crate::gpu::{nvrtc, same_uuid};

/// Version 2: FP4 results grouped as `native` and `emulated`, `native_fp4` may be null (unknown), the GPU
/// matched to NVML by UUID (`gpu_match`, `gpu_peak_bandwidth_gbs`), the bandwidth grid and checks.
pub const BENCH_SCHEMA: &str = "mlcompat.bench/2";

/// How long one GPU worker may take before it is killed (`--gpu-timeout`).
pub const GPU_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Bandwidth,
    Fp4,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Gpu,
    Auto,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Skipped {
    pub part: &'static str,
    pub reason: String,
}

/// The FP4 results: whether the GPU has native FP4 (the compiler's answer), the native checks where it
/// does, and the software path everywhere.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Fp4Run {
    /// `Some(false)`: ptxas refused the FP4 instructions for this GPU; `None`: not known (the NVRTC
    /// does not know the GPU, or the native worker failed — see `why_not_native` and `skipped`).
    pub native_fp4: Option<bool>,
    pub why_not_native: Option<String>,
    pub native: Option<NativeFp4>,
    pub emulated: Option<EmulatedFp4>,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct BenchReport {
    pub schema: &'static str,
    pub cpu_bandwidth: Option<cpu::CpuBandwidth>,
    /// Said when CPU and GPU share one memory (Apple silicon, GB10).
    pub unified_memory_note: Option<String>,
    pub gpu: Option<GpuInfo>,
    /// Which NVIDIA GPU this is, as NVML knows it (matched by UUID), and where its peak figures come from.
    pub gpu_match: Option<String>,
    /// "NVRTC 13.0 (/path/libnvrtc.so.13): cubin sm_90a", or PTX and why.
    pub nvrtc: Option<String>,
    pub gpu_bandwidth: Option<GpuBandwidth>,
    /// The peak the percentage is taken of: the datasheet's, else NVML's bus width × memory clock.
    pub gpu_peak_bandwidth_gbs: Option<f64>,
    /// `z = x + y` as a share of that peak; none for a MIG slice (it has a share of the memory system).
    pub gpu_bandwidth_percent_of_peak: Option<f64>,
    pub fp4: Option<Fp4Run>,
    /// The datasheet's dense FP4 TFLOPS, beside the measured figure (whole GPUs only).
    pub fp4_datasheet_dense_tflops: Option<f64>,
    pub skipped: Vec<Skipped>,
}

impl BenchReport {
    /// The results as facts: only what was measured and verified.
    pub fn benchmarks(&self) -> crate::facts::Benchmarks {
        let fp4 = self.fp4.as_ref();
        crate::facts::Benchmarks {
            cpu_bandwidth_gbs: self.cpu_bandwidth.as_ref().map(|c| c.triad_gbs),
            gpu_bandwidth_gbs: self
                .gpu_bandwidth
                .as_ref()
                .filter(|b| b.verified)
                .map(|b| b.add_gbs),
            fp4_native_verified: fp4.and_then(|f| match (&f.native, f.native_fp4) {
                (Some(n), _) => Some(n.conversion_correct && n.mma_correct != Some(false)),
                (None, Some(false)) => Some(false),
                _ => None,
            }),
            fp4_native_tflops: fp4
                .and_then(|f| f.native.as_ref())
                .filter(|n| n.mma_correct == Some(true))
                .and_then(|n| n.mma.as_ref())
                .map(|t| t.tflops),
            fp4_emulated_tflops: fp4
                .and_then(|f| f.emulated.as_ref())
                .filter(|e| e.correct)
                .map(|e| e.throughput.tflops),
        }
    }
}

/// A GPU NVML (or a reference profile) knows, with its peak figures, to match the measured one against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownGpu {
    pub name: String,
    /// NVML's UUID, `GPU-…`.
    pub uuid: Option<String>,
    /// The MIG slices NVML lists under this GPU: (UUID `MIG-…`, name).
    pub mig_slices: Vec<(String, String)>,
    pub peak_bandwidth_gbs: Option<f64>,
    /// Where the peak comes from: "datasheet (profile dgx-spark)", "NVML bus width × memory clock".
    pub peak_source: Option<String>,
    pub peak_fp4_dense_tflops: Option<f64>,
}

impl KnownGpu {
    /// A GPU as NVML reported it: its peak is bus width × memory clock, when NVML gave both (a datasheet
    /// figure replaces it in [`KnownGpu::with_datasheet`]).
    pub fn from_nvml(g: &crate::facts::Gpu) -> KnownGpu {
        let bus = crate::facts::arch::bus_bandwidth_gbs(g);
        KnownGpu {
            name: g.name.clone(),
            uuid: g.uuid.clone(),
            mig_slices: g
                .mig_slices
                .iter()
                .map(|m| (m.uuid.clone(), m.name.clone()))
                .collect(),
            peak_bandwidth_gbs: bus,
            peak_source: bus.map(|_| "NVML's bus width × memory clock".into()),
            peak_fp4_dense_tflops: g.tflops.as_ref().and_then(|t| t.fp4_dense),
        }
    }

    /// A GPU of the table (`matrix/gpus.yaml`) under one of its names: datasheet figures.
    pub fn from_table(spec: &crate::matrix::gpus::GpuSpec, name: &str) -> KnownGpu {
        KnownGpu {
            name: name.to_string(),
            uuid: None,
            mig_slices: vec![],
            peak_bandwidth_gbs: spec.bandwidth_gbs,
            peak_source: spec
                .bandwidth_gbs
                .map(|_| format!("the datasheet (gpus.yaml: {})", spec.id)),
            peak_fp4_dense_tflops: spec.tflops.as_ref().and_then(|t| t.fp4_dense),
        }
    }

    /// Takes the datasheet's figures where one of `sheets` has this GPU's name (NVML's clock may be 0).
    pub fn with_datasheet(mut self, sheets: &[KnownGpu]) -> KnownGpu {
        if let Some(sheet) = sheets.iter().find(|s| same_gpu_name(&s.name, &self.name)) {
            if sheet.peak_bandwidth_gbs.is_some() {
                self.peak_bandwidth_gbs = sheet.peak_bandwidth_gbs;
                self.peak_source = sheet.peak_source.clone();
            }
            self.peak_fp4_dense_tflops = sheet.peak_fp4_dense_tflops.or(self.peak_fp4_dense_tflops);
        }
        self
    }
}

/// What the bench needs to know about the machine.
#[derive(Debug, Clone)]
pub struct Context {
    pub unified_memory: bool,
    pub memory_bytes: Option<u64>,
    pub python_dirs: Vec<PathBuf>,
    /// NVML's GPUs, with their peaks; matched to the CUDA device by UUID.
    pub gpus: Vec<KnownGpu>,
    /// Reference GPUs by name, for when NVML has nothing (its library missing or mismatched).
    pub datasheets: Vec<KnownGpu>,
    /// The mlcompat binary that runs the GPU workers; `None` runs no GPU part.
    pub worker: Option<PathBuf>,
    /// The limit for each GPU worker.
    pub gpu_timeout: Duration,
    /// The CUDA device to measure (CUDA's ordinal).
    pub ordinal: u32,
}

impl Context {
    pub fn new(worker: Option<PathBuf>) -> Context {
        Context {
            unified_memory: false,
            memory_bytes: None,
            python_dirs: vec![],
            gpus: vec![],
            datasheets: vec![],
            worker,
            gpu_timeout: GPU_TIMEOUT,
            ordinal: 0,
        }
    }
}

/// How the measured device relates to what NVML knows.
#[derive(Debug, Clone, PartialEq)]
pub enum Match<'a> {
    /// The whole GPU.
    Gpu(&'a KnownGpu),
    /// A MIG slice of this GPU (named).
    MigSlice(&'a KnownGpu, String),
    Unknown,
}

/// Two GPU names for the same model, as the GPU table compares them ("Tesla V100-SXM2-32GB" and "NVIDIA
/// Tesla V100 SXM2 32GB").
fn same_gpu_name(a: &str, b: &str) -> bool {
    let (a, b) = (
        crate::matrix::gpus::normalize_name(a),
        crate::matrix::gpus::normalize_name(b),
    );
    !a.is_empty() && a == b
}

/// Finds the CUDA device among NVML's GPUs by UUID (CUDA orders devices fastest first and honours
/// `CUDA_VISIBLE_DEVICES`, so positions do not line up), else by name among the reference profiles.
pub fn match_gpu<'a>(info: &GpuInfo, ctx: &'a Context) -> Match<'a> {
    if let Some(uuid) = info.uuid.as_deref() {
        for g in &ctx.gpus {
            if g.uuid.as_deref().is_some_and(|u| same_uuid(u, uuid)) {
                return Match::Gpu(g);
            }
            if let Some((_, name)) = g.mig_slices.iter().find(|(u, _)| same_uuid(u, uuid)) {
                return Match::MigSlice(g, name.clone());
            }
        }
    }
    if info.mig_profile.is_some() {
        // A slice NVML did not list: still never compared with the whole GPU's peak.
        return Match::Unknown;
    }
    let by_name = |list: &'a [KnownGpu]| list.iter().find(|g| same_gpu_name(&g.name, &info.name));
    match ctx.gpus.iter().any(|g| g.uuid.is_some()) {
        // NVML knew UUIDs and none matched: a different GPU; only a datasheet by name can help.
        true => by_name(&ctx.datasheets),
        false => by_name(&ctx.gpus).or_else(|| by_name(&ctx.datasheets)),
    }
    .map_or(Match::Unknown, Match::Gpu)
}

pub fn run(
    what: What,
    device: Device,
    ctx: &Context,
    progress: &mut dyn FnMut(&str),
) -> BenchReport {
    let mut report = BenchReport {
        schema: BENCH_SCHEMA,
        ..BenchReport::default()
    };
    let bandwidth = matches!(what, What::Bandwidth | What::All);
    let fp4 = matches!(what, What::Fp4 | What::All);
    if bandwidth && device != Device::Gpu {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let n = cpu::array_elements(cpu::last_level_cache_bytes(), ctx.memory_bytes);
        progress(&format!(
            "CPU triad: {threads} threads, 3 × {:.0} MB arrays, best of {}",
            n as f64 * 8.0 / 1e6,
            cpu::PASSES
        ));
        match cpu::triad(n, threads, cpu::PASSES) {
            Ok(measured) => report.cpu_bandwidth = Some(measured),
            Err(why) => report.skipped.push(Skipped {
                part: "cpu_bandwidth",
                reason: format!("not measured: {why}"),
            }),
        }
        if ctx.unified_memory {
            report.unified_memory_note = Some(
                "unified memory: the CPU figure measures the same memory the GPU reads".into(),
            );
        }
    }
    if device == Device::Cpu {
        if fp4 {
            report.skipped.push(Skipped {
                part: "fp4",
                reason: "skipped: --device cpu (FP4 kernels run on a GPU)".into(),
            });
        }
        return report;
    }
    gpu_parts(&mut report, bandwidth, fp4, ctx, progress);
    report
}

fn gpu_parts(
    report: &mut BenchReport,
    bandwidth: bool,
    fp4: bool,
    ctx: &Context,
    progress: &mut dyn FnMut(&str),
) {
    let skip_all = |report: &mut BenchReport, reason: String| {
        if bandwidth {
            report.skipped.push(Skipped {
                part: "gpu_bandwidth",
                reason: reason.clone(),
            });
        }
        if fp4 {
            report.skipped.push(Skipped {
                part: "fp4",
                reason,
            });
        }
    };
    // Loading the library needs no cuInit (only cuDriverGetVersion is called): safe in this process.
    if let Err(e) = Driver::load() {
        return skip_all(report, format!("skipped: {e}"));
    }
    let Some(program) = ctx.worker.as_deref() else {
        return skip_all(
            report,
            "skipped: no mlcompat program to run the GPU worker".into(),
        );
    };
    let nvrtc = nvrtc::candidates(&ctx.python_dirs);
    let mut jobs = Vec::new();
    if bandwidth {
        jobs.push((Job::Bandwidth, "gpu_bandwidth"));
    }
    if fp4 {
        jobs.push((Job::Fp4Native, "fp4_native"));
        jobs.push((Job::Fp4Emulated, "fp4_emulated"));
    }
    let mut fp4_run = fp4.then(Fp4Run::default);
    for (i, &(job, part)) in jobs.iter().enumerate() {
        progress(&format!(
            "GPU {}: {} (own process, limit {} s)",
            ctx.ordinal,
            describe(job),
            ctx.gpu_timeout.as_secs()
        ));
        let result = worker::run(program, job, ctx.ordinal, &nvrtc, ctx.gpu_timeout);
        let r = match result {
            Ok(r) => r,
            Err(failure) => {
                let why = match &failure {
                    worker::Failure::TimedOut(_) => Some(format!(
                        "not started: GPU {} timed out on {} (a hung kernel may leave it wedged)",
                        ctx.ordinal,
                        describe(job)
                    )),
                    worker::Failure::Stuck { pid, .. } => Some(format!(
                        "not started: GPU {} is wedged (its worker for {}, pid {pid}, is stuck in the \
                         driver)",
                        ctx.ordinal,
                        describe(job)
                    )),
                    _ => None,
                };
                report.skipped.push(Skipped {
                    part,
                    reason: format!("failed: {failure}"),
                });
                if let Some(why) = why {
                    // A kernel that never finished may leave the GPU wedged: every job left would wait
                    // its whole limit for the same answer. One timeout ends the GPU's jobs.
                    if i + 1 < jobs.len() {
                        progress(&why);
                    }
                    for &(_, rest) in &jobs[i + 1..] {
                        report.skipped.push(Skipped {
                            part: rest,
                            reason: why.clone(),
                        });
                    }
                    break;
                }
                continue;
            }
        };
        if report.gpu.is_none() {
            if let Some(info) = &r.gpu {
                describe_gpu(report, info, ctx);
            }
        }
        if let (None, Some(b)) = (&report.nvrtc, &r.build) {
            report.nvrtc = Some(compiler_line(b));
        }
        if r.gpu.is_none() {
            // The device itself could not be opened (no device, cuInit failed): the jobs left would only
            // repeat it.
            let why = r.error.unwrap_or_else(|| "no GPU".into());
            for &(_, part) in &jobs[i..] {
                report.skipped.push(Skipped {
                    part,
                    reason: format!("failed: {why}"),
                });
            }
            return;
        }
        merge(report, fp4_run.as_mut(), job, part, r);
    }
    if let Some(f) = fp4_run {
        if f.native.is_some() || f.emulated.is_some() || f.native_fp4.is_some() {
            report.fp4_datasheet_dense_tflops =
                report.gpu.as_ref().and_then(|g| match match_gpu(g, ctx) {
                    Match::Gpu(k) => k.peak_fp4_dense_tflops,
                    _ => None,
                });
            report.fp4 = Some(f);
        }
    }
}

fn describe(job: Job) -> &'static str {
    match job {
        Job::Devices => "listing devices",
        Job::Bandwidth => "memory bandwidth (add, copy, triad)",
        Job::Fp4Native => "native FP4 conversion and MMA",
        Job::Fp4Emulated => "software-emulated FP4",
    }
}

fn compiler_line(b: &kernels::Build) -> String {
    let kind = if b.portable_target.starts_with("compute_") {
        format!("PTX {} (JIT-compiled by the driver)", b.portable_target)
    } else {
        format!("cubin {}", b.portable_target)
    };
    match &b.note {
        Some(note) => format!("{}: {kind}; {note}", b.compiler),
        None => format!("{}: {kind}", b.compiler),
    }
}

fn describe_gpu(report: &mut BenchReport, info: &GpuInfo, ctx: &Context) {
    report.gpu = Some(info.clone());
    match match_gpu(info, ctx) {
        Match::Gpu(k) => {
            report.gpu_peak_bandwidth_gbs = k.peak_bandwidth_gbs;
            report.gpu_match = Some(match (&k.uuid, &k.peak_source) {
                (Some(u), Some(src)) => format!("{} ({u}); peak from {src}", k.name),
                (Some(u), None) => format!("{} ({u}); no peak figure known", k.name),
                (None, Some(src)) => format!("{} by name; peak from {src}", k.name),
                (None, None) => format!("{} by name", k.name),
            });
        }
        Match::MigSlice(k, slice) => {
            report.gpu_match = Some(format!(
                "MIG slice {slice} of {} ({}): a share of the GPU, so no percent of the whole GPU's peak",
                k.name,
                k.uuid.as_deref().unwrap_or("UUID unknown")
            ));
        }
        Match::Unknown => {
            report.gpu_match = Some(match &info.mig_profile {
                Some(p) => format!(
                    "MIG slice {p}: a share of the GPU, so no percent of the whole GPU's peak"
                ),
                None => "not matched to an NVML GPU or a reference profile: no peak figure".into(),
            });
        }
    }
}

fn merge(
    report: &mut BenchReport,
    fp4: Option<&mut Fp4Run>,
    job: Job,
    part: &'static str,
    r: WorkerReport,
) {
    if let Some(e) = &r.error {
        report.skipped.push(Skipped {
            part,
            reason: format!("failed: {e}"),
        });
    }
    match job {
        Job::Devices => {}
        Job::Bandwidth => {
            if let Some(b) = r.bandwidth {
                report.gpu_bandwidth_percent_of_peak = report
                    .gpu_peak_bandwidth_gbs
                    .filter(|p| *p > 0.0 && b.add_gbs.is_finite())
                    .map(|p| b.add_gbs / p * 100.0);
                report.gpu_bandwidth = Some(b);
            }
        }
        Job::Fp4Native => {
            if let Some(f) = fp4 {
                if let Some(b) = &r.build {
                    f.native_fp4 = b.native_fp4;
                    f.why_not_native = b.native_note.clone();
                }
                f.native = r.native;
            }
        }
        Job::Fp4Emulated => {
            if let Some(f) = fp4 {
                f.emulated = r.emulated;
            }
        }
    }
}

/// `bench fp4 --compile-only --arch A`: what NVRTC builds for one architecture, no GPU needed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CompileReport {
    pub schema: &'static str,
    pub arch: String,
    pub nvrtc: String,
    /// Where the portable kernels went: the arch itself (cubin) or `compute_XX` (PTX).
    pub portable_target: String,
    /// `true`/`false` as ptxas answered; `null` when this NVRTC does not know the architecture.
    pub native_fp4: Option<bool>,
    pub fp4_mma: Option<bool>,
    /// Why there is no native FP4 (ptxas's refusal), or why it is not known.
    pub message: Option<String>,
    /// Size of the native FP4 cubin, when it compiled.
    pub cubin_bytes: Option<usize>,
    /// The ELF OS/ABI byte and ABI version of the cubins (0x33/7 from CUDA 12, 0x41/8 from CUDA 13).
    pub cubin_abi: Option<String>,
    pub note: Option<String>,
    pub variants: Vec<kernels::Variant>,
}

pub fn compile_only(arch: &str, python_dirs: &[PathBuf]) -> Result<CompileReport, String> {
    if Arch::parse(arch).is_none() {
        return Err(format!(
            "--arch must name a real GPU architecture such as sm_90 or sm_120a, got `{arch}`"
        ));
    }
    let candidates = nvrtc::candidates(python_dirs);
    let build = worker::build(&candidates, arch, None, &Kernel::ALL)?;
    let native = build.variant(Kernel::Fp4Native);
    let abi = build
        .variants
        .iter()
        .filter_map(|v| v.image.as_ref())
        .filter(|i| !i.ptx)
        .find_map(|i| kernels::cubin_abi(&i.bytes))
        .map(|(osabi, version)| format!("OS/ABI {osabi:#04x}, ABI version {version}"));
    Ok(CompileReport {
        schema: BENCH_SCHEMA,
        arch: arch.to_string(),
        nvrtc: build.compiler.clone(),
        portable_target: build.portable_target.clone(),
        native_fp4: build.native_fp4,
        fp4_mma: build.fp4_mma,
        message: build.native_note.clone(),
        cubin_bytes: native.and_then(|v| v.cubin_bytes),
        cubin_abi: abi,
        note: build.note.clone(),
        variants: build.variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, uuid: Option<&str>) -> GpuInfo {
        GpuInfo {
            name: name.into(),
            ordinal: 0,
            uuid: uuid.map(String::from),
            compute_capability: "8.9".into(),
            arch: "sm_89".into(),
            sms: 128,
            l2_bytes: 72 << 20,
            total_memory_bytes: 24 << 30,
            driver_cuda: Some("13.0".into()),
            driver_library: "libcuda.so.1".into(),
            mig_profile: crate::gpu::device::mig_profile(name),
        }
    }

    fn known(name: &str, uuid: &str, peak: f64) -> KnownGpu {
        KnownGpu {
            name: name.into(),
            uuid: Some(uuid.into()),
            peak_bandwidth_gbs: Some(peak),
            ..KnownGpu::default()
        }
    }

    #[test]
    fn the_cuda_device_is_found_by_uuid_not_position() {
        let mut ctx = Context::new(None);
        ctx.gpus = vec![
            known(
                "NVIDIA GeForce RTX 3090",
                "GPU-11111111-2222-3333-4444-555555555555",
                936.0,
            ),
            known(
                "NVIDIA GeForce RTX 4090",
                "GPU-AAAAAAAA-2222-3333-4444-555555555555",
                1008.0,
            ),
        ];
        // CUDA's device 0 is the faster 4090, NVML's GPU 1.
        let cuda0 = info(
            "NVIDIA GeForce RTX 4090",
            Some("aaaaaaaa-2222-3333-4444-555555555555"),
        );
        assert_eq!(match_gpu(&cuda0, &ctx), Match::Gpu(&ctx.gpus[1]));
        // An unknown UUID is not guessed by position.
        let other = info(
            "NVIDIA GeForce RTX 3090",
            Some("99999999-2222-3333-4444-555555555555"),
        );
        assert_eq!(match_gpu(&other, &ctx), Match::Unknown);
    }

    #[test]
    fn a_mig_slice_is_a_slice() {
        let mut ctx = Context::new(None);
        let mut h100 = known("NVIDIA H100 80GB HBM3", "GPU-aaaa", 3350.0);
        h100.mig_slices = vec![(
            "MIG-bbbb".into(),
            "NVIDIA H100 80GB HBM3 MIG 1g.10gb".into(),
        )];
        ctx.gpus = vec![h100];
        ctx.datasheets = vec![KnownGpu {
            name: "NVIDIA H100 80GB HBM3".into(),
            peak_bandwidth_gbs: Some(3350.0),
            ..KnownGpu::default()
        }];
        let slice = info("NVIDIA H100 80GB HBM3 MIG 1g.10gb", Some("bbbb"));
        assert!(matches!(match_gpu(&slice, &ctx), Match::MigSlice(_, n) if n.ends_with("1g.10gb")));
        // Even unlisted, a MIG name never matches the whole GPU's datasheet.
        ctx.gpus.clear();
        assert_eq!(match_gpu(&slice, &ctx), Match::Unknown);
    }

    /// NVML's bus width × memory clock is the peak when no datasheet names the GPU, labelled as such; it is
    /// computed here from the clock fields (the facts' `bandwidth_gbs` is the datasheet's alone).
    #[test]
    fn an_nvml_gpu_peaks_at_bus_width_times_clock_unless_a_datasheet_knows_it() {
        let mut g = crate::facts::Gpu::new(crate::facts::Vendor::Nvidia, "NVIDIA H200");
        g.memory_bus_width_bits = Some(6144);
        g.max_memory_clock_mhz = Some(3201);
        let k = KnownGpu::from_nvml(&g);
        let peak = k.peak_bandwidth_gbs.unwrap();
        assert!((peak - 4917.0).abs() < 1.0, "{peak}");
        assert_eq!(
            k.peak_source.as_deref(),
            Some("NVML's bus width × memory clock")
        );
        let sheet = KnownGpu {
            name: "NVIDIA H200".into(),
            peak_bandwidth_gbs: Some(4800.0),
            peak_source: Some("the datasheet (profile h200)".into()),
            ..KnownGpu::default()
        };
        let k = k.with_datasheet(&[sheet]);
        assert_eq!(k.peak_bandwidth_gbs, Some(4800.0));
        assert_eq!(
            k.peak_source.as_deref(),
            Some("the datasheet (profile h200)")
        );
    }

    #[test]
    fn without_nvml_the_datasheet_is_found_by_name() {
        let mut ctx = Context::new(None);
        ctx.datasheets = vec![KnownGpu {
            name: "NVIDIA GB10".into(),
            peak_bandwidth_gbs: Some(273.0),
            ..KnownGpu::default()
        }];
        let gb10 = info("NVIDIA GB10", Some("cccc"));
        assert_eq!(match_gpu(&gb10, &ctx), Match::Gpu(&ctx.datasheets[0]));
    }
}
