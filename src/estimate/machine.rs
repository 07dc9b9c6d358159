//! What a machine offers a model: memory the GPU (or CPU) can use, bandwidth, and dense compute per
//! precision — from facts, measured figures first, each assumption written down.

use serde::Serialize;

use crate::facts::{Facts, Vendor};
use crate::matrix::workloads::Compute;
use crate::matrix::RunsOn;

/// Share of a discrete GPU's memory a framework can allocate (the driver and CUDA context keep the rest).
const DISCRETE_USABLE: f64 = 0.95;
/// Share of unified memory left to the GPU after the OS and desktop (DGX Spark, Strix Halo).
const UNIFIED_USABLE: f64 = 0.90;
/// Apple's default Metal working set when the facts do not say (recommendedMaxWorkingSetSize).
const APPLE_DEFAULT_WORKING_SET: f64 = 0.75;
/// Share of host memory a CPU-only run can use.
const HOST_USABLE: f64 = 0.85;
/// The highest Metal limit worth setting: macOS keeps max(20% of RAM, 5 GiB) for itself — the rule of
/// exo's configure_mlx.sh (`wired_limit_mb = max(80% RAM, RAM - 5 GiB)`), which MLX users run.
const METAL_OS_SHARE: f64 = 0.20;
const METAL_OS_MIN_GB: f64 = 5.0;
/// When a CPU's peak is not recorded: a core's FP32 FLOPs per cycle with two 256-bit FMA units (AVX2 or
/// two 128-bit NEON pipes doubled), at an all-core clock of 3 GHz — an assumption, said as such.
const CPU_FLOPS_PER_CYCLE: f64 = 32.0;
const CPU_ASSUMED_GHZ: f64 = 3.0;

#[derive(Debug, Clone, Serialize)]
pub struct MachineView {
    pub name: String,
    /// `nvidia`, `apple`, `amd`, `intel` or `cpu` — the engine backend that applies.
    pub backend: String,
    pub available_gb: Option<f64>,
    pub bandwidth_gbs: Option<f64>,
    pub bandwidth_measured: bool,
    pub fp4_native: bool,
    pub fp8_native: bool,
    /// HBM on the package (A100, H100/H200, B200): engines tuned for GDDR reach less of it at batch 1.
    pub hbm: bool,
    /// The GPU in words, with its compute capability where there is one (for messages).
    pub gpu: Option<String>,
    /// Physical memory the GPU side draws on (unified: all of it).
    pub memory_gb: Option<f64>,
    /// Apple: the highest Metal working-set limit worth setting (`iogpu.wired_limit_mb`); `available_gb`
    /// is the limit in force.
    pub metal_ceiling_gb: Option<f64>,
    pub tflops_f16: Option<f64>,
    pub tflops_int8: Option<f64>,
    pub tflops_fp8: Option<f64>,
    pub tflops_fp4: Option<f64>,
    pub tflops_f32: Option<f64>,
    pub power_w: Option<f64>,
    /// Launch price.
    pub price_usd: Option<f64>,
    /// List price when it changed after launch (the profile's source dates it).
    pub list_price_usd: Option<f64>,
    pub assumptions: Vec<String>,
    /// The same machine seen from its CPU, for software that runs there beside a GPU (mlx[cpu] on an
    /// AMD box); absent when the machine has no GPU and this view is the CPU's already.
    #[serde(skip)]
    pub cpu: Option<Box<MachineView>>,
}

/// An engine backend (a vendor, or `cpu`) in words, for messages.
pub fn backend_words(backend: &str) -> String {
    match backend {
        "cpu" => "CPUs".into(),
        "nvidia" => "NVIDIA GPUs".into(),
        "apple" => "Apple silicon GPUs".into(),
        "amd" => "AMD GPUs".into(),
        "intel" => "Intel GPUs".into(),
        other => format!("{other} machines"),
    }
}

impl MachineView {
    /// The side of the machine software computes on.
    pub fn side(&self, runs_on: RunsOn) -> &MachineView {
        match (runs_on, &self.cpu) {
            (RunsOn::Cpu, Some(cpu)) => cpu,
            _ => self,
        }
    }

    /// The backend in words, for messages.
    pub fn backend_name(&self) -> String {
        backend_words(&self.backend)
    }

    /// The machine's CPU: host memory, the bandwidth its cores reach, their FP32 peak.
    pub fn cpu_of(facts: &Facts) -> MachineView {
        let mut notes = Vec::new();
        let host_gb = facts.host.memory_gb;
        let available_gb = host_gb.map(|m| {
            notes.push(format!(
                "CPU: {:.0}% of {m:.0} GB host memory usable",
                HOST_USABLE * 100.0
            ));
            m * HOST_USABLE
        });
        let measured = facts.benchmarks.as_ref().and_then(|b| b.cpu_bandwidth_gbs);
        let unified_gpu = facts
            .primary_gpu()
            .filter(|g| g.unified_memory == Some(true))
            .and_then(|g| g.bandwidth_gbs);
        let bandwidth_gbs = match (measured, facts.host.memory_bandwidth_gbs, unified_gpu) {
            (Some(m), _, _) => {
                notes.push("CPU bandwidth measured by `mlcompat bench`".into());
                Some(m)
            }
            (None, Some(d), _) => Some(d),
            (None, None, Some(g)) => {
                notes.push(format!(
                    "the CPU shares the GPU's {g:.0} GB/s memory (its cores reach less of it than the GPU)"
                ));
                Some(g)
            }
            _ => None,
        };
        let f32 = facts.host.cpu_fp32_tflops.or_else(|| {
            let cores = f64::from(facts.host.cpu_cores?);
            let t = cores * CPU_ASSUMED_GHZ * 1e9 * CPU_FLOPS_PER_CYCLE / 1e12;
            notes.push(format!(
                "CPU peak not recorded: assumed {cores:.0} cores x {CPU_ASSUMED_GHZ} GHz x {CPU_FLOPS_PER_CYCLE} FP32 FLOPs per cycle = {t:.1} TFLOPS"
            ));
            Some(t)
        });
        MachineView {
            name: facts.display_name(),
            backend: "cpu".into(),
            available_gb,
            bandwidth_gbs,
            bandwidth_measured: measured.is_some(),
            fp4_native: false,
            fp8_native: false,
            hbm: false,
            gpu: None,
            memory_gb: host_gb,
            metal_ceiling_gb: None,
            tflops_f16: f32,
            tflops_int8: None,
            tflops_fp8: None,
            tflops_fp4: None,
            tflops_f32: f32,
            power_w: None,
            price_usd: facts.machine.as_ref().and_then(|m| m.price_usd),
            list_price_usd: facts.machine.as_ref().and_then(|m| m.list_price_usd),
            assumptions: notes,
            cpu: None,
        }
    }

    pub fn of(facts: &Facts) -> MachineView {
        let mut notes = Vec::new();
        let gpu = facts.primary_gpu();
        let host_gb = facts.host.memory_gb;
        let Some(gpu_ref) = gpu else {
            return MachineView::cpu_of(facts);
        };
        let backend = gpu_ref.vendor.as_str().to_string();
        let unified = gpu.and_then(|g| g.unified_memory).unwrap_or(false);
        let available_gb = match gpu {
            Some(g) if g.vendor == Vendor::Apple => {
                let limit = facts.apple.as_ref().and_then(|a| a.metal_limit_gb);
                match limit {
                    Some(l) => {
                        notes.push(format!(
                            "GPU can use the Metal working-set limit, {l:.0} GB"
                        ));
                        Some(l)
                    }
                    None => g.memory_gb.or(host_gb).map(|m| {
                        notes.push(format!(
                            "GPU can use ~{:.0}% of memory (Metal's default working set)",
                            APPLE_DEFAULT_WORKING_SET * 100.0
                        ));
                        m * APPLE_DEFAULT_WORKING_SET
                    }),
                }
            }
            Some(g) if unified => g.memory_gb.or(host_gb).map(|m| {
                notes.push(format!(
                    "unified memory: {:.0}% of {m:.0} GB left to the GPU after the OS",
                    UNIFIED_USABLE * 100.0
                ));
                m * UNIFIED_USABLE
            }),
            Some(g) => g.memory_gb.map(|m| {
                notes.push(format!(
                    "{:.0}% of the GPU's {m:.0} GB usable (driver and CUDA context keep the rest)",
                    DISCRETE_USABLE * 100.0
                ));
                m * DISCRETE_USABLE
            }),
            None => None,
        };
        let measured = facts.benchmarks.as_ref().and_then(|b| b.gpu_bandwidth_gbs);
        let datasheet = gpu_ref.bandwidth_gbs;
        let bandwidth_gbs = measured.or(datasheet);
        if measured.is_some() {
            notes.push("bandwidth measured by `mlcompat bench`".into());
        }
        let tflops = gpu.and_then(|g| g.tflops.clone()).unwrap_or_default();
        // The same answer doctor, NFD and Prometheus give; unknown counts as no FP4 units.
        let fp4_native = crate::facts::arch::fp4_native(gpu_ref).unwrap_or(false);
        let fp8_native = gpu.is_some_and(|g| {
            g.vendor == Vendor::Nvidia
                && g.compute_capability
                    .as_ref()
                    .is_some_and(|cc| (cc.major(), cc.minor()) >= (8, 9))
        });
        let fp4_dense = tflops
            .fp4_dense
            .or_else(|| tflops.fp4_sparse.map(|s| s / 2.0));
        let mut f16 = tflops.bf16_dense.or(tflops.fp16_dense);
        let mut fp8 = tflops.fp8_dense;
        // NVIDIA publishes only FP4 for some Blackwell parts (GB10). Each halving of precision doubles the
        // tensor rate; sm_12x parts (GeForce-class tensor cores, FP32 accumulate) run BF16 at 1/8 and FP8 at
        // 1/4 of dense FP4 — the RTX 5090's datasheet: 1676 FP4, 419 FP8, 209.5 BF16 — datacenter parts at
        // 1/4 and 1/2 (B200: 9000, 4500, 2250).
        let consumer_blackwell = gpu
            .and_then(|g| g.compute_capability.as_ref())
            .is_some_and(|cc| cc.major() == 12);
        let (bf16_div, fp8_div) = if consumer_blackwell {
            (8.0, 4.0)
        } else {
            (4.0, 2.0)
        };
        if let (None, Some(f4)) = (f16, fp4_dense) {
            f16 = Some(f4 / bf16_div);
            notes.push(format!("dense BF16 not published: taken as FP4 / {bf16_div} = {:.1} TFLOPS, the ratio of this GPU family", f4 / bf16_div));
        }
        if let (None, Some(f4), true) = (fp8, fp4_dense, fp8_native) {
            fp8 = Some(f4 / fp8_div);
        }
        let major = gpu_ref.compute_capability.as_ref().map(|cc| cc.major());
        let nvidia = gpu_ref.vendor == Vendor::Nvidia;
        // INT8 tensor cores: every NVIDIA GPU from Turing on. Where only FP4 is published (GB10, Thor,
        // RTX PRO 6000), Blackwell's ratio applies: dense INT8 = FP4 / 2 (RTX 5090: 838 and 1676, B200:
        // 4500 and 9000).
        let int8 = match (tflops.int8_dense, fp4_dense) {
            (Some(i), _) if nvidia => Some(i),
            (None, Some(f4)) if nvidia && major.is_some_and(|m| m >= 10) => {
                notes.push(format!(
                    "dense INT8 not published: taken as FP4 / 2 = {:.0} TOPS, Blackwell's ratio",
                    f4 / 2.0
                ));
                Some(f4 / 2.0)
            }
            _ => None,
        };
        // HBM parts are compute capability 8.0 (A100, A30), 9.0 (H100, H200, GH200) and 10.x (B200,
        // B300); every other CUDA part uses GDDR or LPDDR (NVIDIA's CUDA GPU list and datasheets).
        let hbm = nvidia
            && gpu_ref.compute_capability.as_ref().is_some_and(|cc| {
                (cc.major(), cc.minor()) == (8, 0) || cc.major() == 9 || cc.major() == 10
            });
        let physical_gb = if unified {
            gpu_ref.memory_gb.or(host_gb)
        } else {
            gpu_ref.memory_gb
        };
        let metal_ceiling_gb = (gpu_ref.vendor == Vendor::Apple)
            .then_some(physical_gb)
            .flatten()
            .map(|m| (m * (1.0 - METAL_OS_SHARE)).max(m - METAL_OS_MIN_GB));
        let gpu_words = match &gpu_ref.compute_capability {
            Some(cc) => format!("{} (CC {})", gpu_ref.name, cc),
            None => gpu_ref.name.clone(),
        };
        let f32 = tflops.fp32.or(facts.host.cpu_fp32_tflops);
        let f16 = f16.or_else(|| {
            let f = f32?;
            notes.push(format!(
                "no tensor figure: FP16 taken at the FP32 rate, {f:.1} TFLOPS"
            ));
            Some(f)
        });
        MachineView {
            name: facts.display_name(),
            backend,
            available_gb,
            bandwidth_gbs,
            bandwidth_measured: measured.is_some(),
            fp4_native,
            fp8_native,
            hbm,
            gpu: Some(gpu_words),
            memory_gb: physical_gb,
            metal_ceiling_gb,
            tflops_f16: f16,
            tflops_int8: int8,
            tflops_fp8: if fp8_native { fp8 } else { None },
            tflops_fp4: if fp4_native { fp4_dense } else { None },
            tflops_f32: f32,
            power_w: gpu.and_then(|g| g.tdp_w),
            price_usd: facts.machine.as_ref().and_then(|m| m.price_usd),
            list_price_usd: facts.machine.as_ref().and_then(|m| m.list_price_usd),
            assumptions: notes,
            cpu: Some(Box::new(MachineView::cpu_of(facts))),
        }
    }

    /// Dense TFLOPS the hardware computes natively at `compute`, with the unit that does it; `None` where
    /// it has no such unit (FP8 before Ada, FP4 before Blackwell, INT8 outside NVIDIA).
    pub fn rate(&self, compute: Compute) -> Option<(f64, &'static str)> {
        match compute {
            Compute::Fp4 if self.fp4_native => self.tflops_fp4.map(|t| (t, "FP4 tensor cores")),
            Compute::Fp8 if self.fp8_native => self.tflops_fp8.map(|t| (t, "FP8 tensor cores")),
            Compute::Int8 => self.tflops_int8.map(|t| (t, "INT8 tensor cores")),
            Compute::F32 => self
                .tflops_f32
                .or(self.tflops_f16.map(|t| t / 2.0))
                .map(|t| (t, "FP32")),
            Compute::F16 => self.tflops_f16.map(|t| (t, "FP16/BF16")),
            Compute::Fp4 | Compute::Fp8 => None,
        }
    }

    /// The GPU in words for messages ("NVIDIA GeForce RTX 3090 (CC 8.6)"), or the machine's name.
    pub fn gpu_words(&self) -> &str {
        self.gpu.as_deref().unwrap_or(&self.name)
    }
}
