//! The measurements on one GPU, each checked against the CPU reference: memory bandwidth (add, copy,
//! triad), the native FP4 conversion and block-scaled MMA, and software-emulated FP4.
//!
//! Each check uses fresh random inputs (never zeros) and poisons its outputs first, so a kernel that
//! writes nothing cannot pass. Memory is plain device memory (`cuMemAlloc_v2`); no GPU setting is
//! changed. Timings come from device events after a warm-up, as the median of several samples; a sample
//! is long enough for the clocks to ramp (repeated launches for bandwidth, iterations sized to ~50 ms per
//! launch for the throughput kernels). Each kernel module is loaded once per measurement.

use std::ffi::c_void;

use serde::{Deserialize, Serialize};

use super::driver::{Context, CudaDevice, Driver, Function};
use super::inputs::{self, GemmProblem, Rng};
use super::kernels::{self, Build, Kernel};
use super::plan::Arch;
use crate::fp4;

/// Timed samples per measurement; the median counts.
const RUNS: usize = 7;
/// A bandwidth sample lasts at least this long (repeated launches).
const BANDWIDTH_SAMPLE_MS: f64 = 20.0;
/// A throughput-kernel launch lasts about this long (its iteration count is sized to it).
const THROUGHPUT_LAUNCH_MS: f64 = 50.0;
/// Threads per block of the throughput kernels.
const THROUGHPUT_BLOCK: u32 = 128;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GpuInfo {
    pub name: String,
    /// CUDA's ordinal for it (what `CUDA_VISIBLE_DEVICES` and PyTorch's `cuda:N` count).
    pub ordinal: u32,
    /// `cuDeviceGetUuid_v2`, 8-4-4-4-12 hex: NVML's UUID of the GPU (`GPU-…`) or MIG slice (`MIG-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub compute_capability: String,
    pub arch: String,
    pub sms: u32,
    pub l2_bytes: u64,
    pub total_memory_bytes: u64,
    /// The CUDA version the driver supports (`cuDriverGetVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_cuda: Option<String>,
    /// The driver library actually loaded.
    pub driver_library: String,
    /// The MIG profile (`1g.10gb`) when CUDA sees a MIG slice, from its name (`… MIG 1g.10gb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig_profile: Option<String>,
}

impl GpuInfo {
    pub fn from_device(d: &CudaDevice, driver: &Driver) -> GpuInfo {
        let (major, minor) = d.compute_capability;
        GpuInfo {
            name: d.name.clone(),
            ordinal: d.ordinal,
            uuid: d.uuid.clone(),
            compute_capability: format!("{major}.{minor}"),
            arch: Arch::for_capability(major, minor).name(),
            sms: d.sms,
            l2_bytes: d.l2_bytes,
            total_memory_bytes: d.total_memory_bytes,
            driver_cuda: driver.version.map(|v| v.to_string()),
            driver_library: driver.library.clone(),
            mig_profile: mig_profile(&d.name),
        }
    }

    fn capability_major(&self) -> u32 {
        self.compute_capability
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// `NVIDIA H100 80GB HBM3 MIG 1g.10gb` → `1g.10gb` (the name CUDA and NVML give a MIG slice).
pub fn mig_profile(name: &str) -> Option<String> {
    let (_, profile) = name.rsplit_once(" MIG ")?;
    let profile = profile.trim();
    (!profile.is_empty() && profile.contains('g')).then(|| profile.to_string())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GpuBandwidth {
    /// `z = x + y`: 3 × N × 4 bytes.
    pub add_gbs: f64,
    /// `z = x`: 2 × N × 4 bytes.
    pub copy_gbs: f64,
    /// `z = x + s·y`: 3 × N × 4 bytes.
    pub triad_gbs: f64,
    pub elements: u64,
    /// All three results matched the CPU, element for element.
    pub verified: bool,
    /// The kernels whose result did not, and how many elements were wrong.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong: Vec<String>,
    /// 256-thread blocks per SM the occupancy calculator allows for `bw_add`; the grid is SMs × that.
    pub blocks_per_sm: u32,
    pub grid_blocks: u32,
    /// Launches per timed sample (each sample ≥ 20 ms).
    pub launches_per_sample: u32,
}

/// The native FP4 checks (where the native kernels compiled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NativeFp4 {
    /// Every code and decoded value matched the reference (zero-sign differences aside).
    pub conversion_correct: bool,
    pub conversion_mismatches: usize,
    /// Negative values that round to zero: the reference keeps −0 (code 0x8); neither the PTX ISA nor
    /// `cuda_fp4.h` says what the hardware returns, so a +0 there is counted here, not as wrong.
    pub zero_sign_mismatches: usize,
    /// Every output of the MMA within its tolerance (`inputs::GemmProblem::check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mma_correct: Option<bool>,
    /// Outputs of the MMA beyond their tolerance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mma_wrong_outputs: Option<usize>,
    /// The MMA's largest error relative to the largest expected output (for information).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mma_max_rel_error: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mma: Option<Throughput>,
}

/// The software-emulated FP4 path: its product checked, its throughput measured. The throughput is this
/// test kernel's: its decode bounds it (both operands, W4A4), so it is not the best software FP4 the GPU
/// does (a kernel that decodes only the weights, W4A16, decodes far less per MMA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EmulatedFp4 {
    /// What was measured: "both operands decoded to FP16 (W4A4, ~10 ALU instructions per MMA) + mma.sync
    /// (tensor cores)" from sm_80 on, else "lookup-table decode + FP32 FMA (CUDA cores)".
    pub method: String,
    /// Every output within its tolerance (`inputs::GemmProblem::check`).
    pub correct: bool,
    /// Outputs beyond their tolerance.
    #[serde(default)]
    pub wrong_outputs: usize,
    /// The largest error relative to the largest expected output (for information).
    pub max_rel_error: f64,
    pub throughput: Throughput,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Throughput {
    pub tflops: f64,
    /// Median duration of one launch.
    pub launch_ms: f64,
    pub iterations: u32,
    pub blocks: u32,
}

/// An open GPU: its primary context, current on this thread.
pub struct Gpu {
    ctx: Context,
    pub info: GpuInfo,
}

/// Opens CUDA device `ordinal`, or says why not ("no CUDA driver", "cuInit: CUDA_ERROR_…").
pub fn open(ordinal: u32) -> Result<Gpu, String> {
    let driver = Driver::load()?;
    driver.init()?;
    let ordinal = i32::try_from(ordinal).map_err(|_| "device ordinal out of range")?;
    let device = driver.device(ordinal)?;
    let ctx = driver.open(ordinal)?;
    Ok(Gpu {
        info: GpuInfo::from_device(&device, driver),
        ctx,
    })
}

/// A median over samples, and how each sample was made.
struct Timing {
    seconds: f64,
    launches_per_sample: u32,
}

impl Gpu {
    /// Median seconds per launch of `kernel` (`enqueue` launches it without waiting): a warm-up, a
    /// calibration launch, then `RUNS` samples of enough launches to last `sample_ms`. A failure while
    /// timing is reported as the kernel's when the device says it faulted, not as the event call's.
    fn time(
        &self,
        kernel: &Function<'_>,
        sample_ms: f64,
        mut enqueue: impl FnMut() -> Result<(), String>,
    ) -> Result<Timing, String> {
        enqueue()?;
        kernel.finish()?;
        self.time_samples(sample_ms, &mut enqueue)
            .map_err(|e| kernel.finish().err().unwrap_or(e))
    }

    fn time_samples(
        &self,
        sample_ms: f64,
        launch: &mut dyn FnMut() -> Result<(), String>,
    ) -> Result<Timing, String> {
        let (start, end) = (self.ctx.event()?, self.ctx.event()?);
        start.record()?;
        launch()?;
        end.record()?;
        end.synchronize()?;
        let once = start.elapsed_ms(&end)?.max(1e-4);
        let reps = (sample_ms / once).ceil().clamp(1.0, 10_000.0) as u32;
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            start.record()?;
            for _ in 0..reps {
                launch()?;
            }
            end.record()?;
            end.synchronize()?;
            times.push(start.elapsed_ms(&end)? / 1e3 / f64::from(reps));
        }
        times.sort_by(f64::total_cmp);
        Ok(Timing {
            seconds: times[times.len() / 2],
            launches_per_sample: reps,
        })
    }

    /// `z = x + y`, copy and triad over arrays well beyond the L2 cache, each result checked in full.
    pub fn bandwidth(&self, build: &Build) -> Result<GpuBandwidth, String> {
        let image = build
            .image(Kernel::Bandwidth)
            .ok_or_else(|| not_built(build, Kernel::Bandwidth))?;
        let module = self.ctx.load(image)?;
        let add = module.function("bw_add")?;
        let copy = module.function("bw_copy")?;
        let triad = module.function("bw_triad")?;
        let (free, _) = self.ctx.memory()?;
        // 16× the L2 per array, at least 64 Mi elements, at most a quarter of free memory for three arrays.
        let wanted = (self.info.l2_bytes * 16 / 4).max(64 << 20);
        let n = wanted.min(free / 4 / 3 / 4).max(1 << 20);
        let len = usize::try_from(n).map_err(|_| "array size out of range")?;
        let mut rng = Rng::fresh();
        let x_host: Vec<f32> = (0..len).map(|_| rng.uniform(1.0, 2.0)).collect();
        let y_host: Vec<f32> = (0..len).map(|_| rng.uniform(1.0, 2.0)).collect();
        let x = self.ctx.upload(&x_host)?;
        let y = self.ctx.upload(&y_host)?;
        let z = self.ctx.upload(&vec![f32::NAN; len])?;
        let block = 256u32;
        let blocks_per_sm = add.blocks_per_sm(block)?.max(1);
        let grid_for = |f: &Function<'_>| -> Result<u32, String> {
            Ok(self.info.sms.max(1) * f.blocks_per_sm(block)?.max(1))
        };
        let s = 0.5f32;
        let mut n_arg = n;
        let mut s_arg = s;
        let mut wrong = Vec::new();
        let mut verify = |name: &str, want: &dyn Fn(usize) -> f32| -> Result<(), String> {
            let got = z.read()?;
            let bad = got
                .iter()
                .enumerate()
                .filter(|(i, g)| g.to_bits() != want(*i).to_bits())
                .count();
            if bad > 0 {
                wrong.push(format!("{name}: {bad} of {len} elements wrong"));
            }
            // Poison for the next kernel.
            z.write(&vec![f32::NAN; len])
        };
        let grid = grid_for(&add)?;
        let t_add = self.time(&add, BANDWIDTH_SAMPLE_MS, || {
            let mut args = [x.arg(), y.arg(), z.arg(), arg(&mut n_arg)];
            // SAFETY: bw_add(const float*, const float*, float*, unsigned long long n); all hold n floats.
            unsafe { add.enqueue((grid, 1, 1), (block, 1, 1), &mut args) }
        })?;
        verify("bw_add", &|i| x_host[i] + y_host[i])?;
        let grid = grid_for(&copy)?;
        let t_copy = self.time(&copy, BANDWIDTH_SAMPLE_MS, || {
            let mut args = [x.arg(), z.arg(), arg(&mut n_arg)];
            // SAFETY: bw_copy(const float*, float*, unsigned long long n).
            unsafe { copy.enqueue((grid, 1, 1), (block, 1, 1), &mut args) }
        })?;
        verify("bw_copy", &|i| x_host[i])?;
        let grid = grid_for(&triad)?;
        let t_triad = self.time(&triad, BANDWIDTH_SAMPLE_MS, || {
            let mut args = [x.arg(), y.arg(), z.arg(), arg(&mut s_arg), arg(&mut n_arg)];
            // SAFETY: bw_triad(const float*, const float*, float*, float s, unsigned long long n).
            unsafe { triad.enqueue((grid, 1, 1), (block, 1, 1), &mut args) }
        })?;
        verify("bw_triad", &|i| s.mul_add(y_host[i], x_host[i]))?;
        let bytes = |arrays: f64| arrays * n as f64 * 4.0;
        Ok(GpuBandwidth {
            add_gbs: bytes(3.0) / t_add.seconds / 1e9,
            copy_gbs: bytes(2.0) / t_copy.seconds / 1e9,
            triad_gbs: bytes(3.0) / t_triad.seconds / 1e9,
            elements: n,
            verified: wrong.is_empty(),
            wrong,
            blocks_per_sm,
            grid_blocks: self.info.sms.max(1) * blocks_per_sm,
            launches_per_sample: t_add.launches_per_sample,
        })
    }

    /// Launches `mlc_spin`, a kernel that never finishes, and waits for it: only for checking that a
    /// worker stuck in a kernel is killed (`MLCOMPAT_GPU_WORKER_SPIN`, `scripts/gpu-check`).
    pub fn spin(&self, build: &Build) -> Result<(), String> {
        let image = build
            .image(Kernel::Bandwidth)
            .ok_or_else(|| not_built(build, Kernel::Bandwidth))?;
        let module = self.ctx.load(image)?;
        let f = module.function("mlc_spin")?;
        let flag = self.ctx.upload(&[0u32])?;
        let mut args = [flag.arg()];
        // SAFETY: mlc_spin(volatile unsigned int*) reads one u32; the launch waits for it, forever.
        unsafe { f.launch((1, 1, 1), (1, 1, 1), &mut args) }
    }

    /// The native FP4 checks: the e2m1 conversion both ways, and the block-scaled MMA where it compiled.
    pub fn fp4_native(&self, build: &Build) -> Result<NativeFp4, String> {
        let mut rng = Rng::fresh();
        let image = build
            .image(Kernel::Fp4Native)
            .ok_or_else(|| not_built(build, Kernel::Fp4Native))?;
        let module = self.ctx.load(image)?;
        let (mismatches, zero_sign) =
            self.check_conversion(&module.function("fp4_roundtrip")?, &mut rng)?;
        let mut native = NativeFp4 {
            conversion_correct: mismatches == 0,
            conversion_mismatches: mismatches,
            zero_sign_mismatches: zero_sign,
            mma_correct: None,
            mma_wrong_outputs: None,
            mma_max_rel_error: None,
            mma: None,
        };
        if let Some(image) = build.image(Kernel::Fp4Mma) {
            let module = self.ctx.load(image)?;
            let problem = GemmProblem::random(&mut rng, 128, 128, 512);
            let got = self.gemm(&module.function("fp4_mma_mxf4")?, &problem, (32, 1, 1))?;
            let check = problem.check(&got);
            native.mma_correct = Some(check.wrong == 0);
            native.mma_wrong_outputs = Some(check.wrong);
            native.mma_max_rel_error = Some(check.max_rel_error);
            native.mma = Some(self.throughput(
                &module.function("fp4_mma_throughput")?,
                kernels::FLOPS_PER_WARP_ITERATION,
            )?);
        }
        Ok(native)
    }

    /// Software FP4: dequantize to FP16 and multiply on the tensor cores (sm_80 on), else decode through
    /// a lookup table into FP32 FMAs; the product checked, the throughput measured.
    pub fn fp4_emulated(&self, build: &Build) -> Result<EmulatedFp4, String> {
        let image = build
            .image(Kernel::Fp4Emulated)
            .ok_or_else(|| not_built(build, Kernel::Fp4Emulated))?;
        let module = self.ctx.load(image)?;
        let tensor_cores = self.info.capability_major() >= 8;
        let (method, gemm, throughput, block, flops) = if tensor_cores {
            (
                "both operands decoded to FP16 (W4A4, ~10 ALU instructions per MMA) + mma.sync \
                 m16n8k16, 64×32 warp tiles (tensor cores)",
                "fp4_dequant_mma_gemm",
                "fp4_dequant_mma_throughput",
                (32, 1, 1),
                kernels::DEQUANT_MMA_FLOPS_PER_WARP_ITERATION,
            )
        } else {
            (
                "lookup-table decode + FP32 FMA (CUDA cores)",
                "fp4_emulated_gemm",
                "fp4_emulated_throughput",
                (16, 16, 1),
                kernels::FLOPS_PER_WARP_ITERATION,
            )
        };
        let mut rng = Rng::fresh();
        let problem = GemmProblem::random(&mut rng, 128, 128, 512);
        let got = self.gemm(&module.function(gemm)?, &problem, block)?;
        let check = problem.check(&got);
        Ok(EmulatedFp4 {
            method: method.to_string(),
            correct: check.wrong == 0,
            wrong_outputs: check.wrong,
            max_rel_error: check.max_rel_error,
            throughput: self.throughput(&module.function(throughput)?, flops)?,
        })
    }

    /// Round-trips every rounding case and random values through the hardware conversion: (wrong
    /// codes or values, zero-sign-only differences).
    fn check_conversion(&self, f: &Function<'_>, rng: &mut Rng) -> Result<(usize, usize), String> {
        let values = inputs::conversion_inputs(rng, 1 << 16);
        let mut n = i32::try_from(values.len()).map_err(|_| "size out of range")?;
        let input = self.ctx.upload(&values)?;
        let packed = self.ctx.upload(&vec![0xA5u8; values.len() / 2])?;
        let out = self.ctx.upload(&vec![f32::NAN; values.len()])?;
        let pairs = u32::try_from(values.len() / 2).map_err(|_| "size out of range")?;
        let mut args = [input.arg(), packed.arg(), out.arg(), arg(&mut n)];
        // SAFETY: fp4_roundtrip(const float*, unsigned char*, float*, int n): n floats in and out, n/2 bytes.
        unsafe { f.launch((pairs.div_ceil(256), 1, 1), (256, 1, 1), &mut args) }?;
        let packed = packed.read()?;
        let out = out.read()?;
        Ok(conversion_mismatches(&values, &packed, &out))
    }

    fn gemm(
        &self,
        f: &Function<'_>,
        p: &GemmProblem,
        block: (u32, u32, u32),
    ) -> Result<Vec<f32>, String> {
        let a = self.ctx.upload(&p.a)?;
        let b = self.ctx.upload(&p.b)?;
        let sa = self.ctx.upload(&p.sa)?;
        let sb = self.ctx.upload(&p.sb)?;
        let d = self.ctx.upload(&vec![f32::NAN; p.m * p.n])?;
        let (mut m, mut n, mut k) = (p.m as i32, p.n as i32, p.k as i32);
        // One thread per output (16 × 16 blocks) or one warp per 16 × 8 tile (32-thread blocks).
        let grid = if block.0 == 32 {
            (p.n as u32 / 8, p.m as u32 / 16, 1)
        } else {
            ((p.n as u32).div_ceil(16), (p.m as u32).div_ceil(16), 1)
        };
        let mut args = [
            a.arg(),
            b.arg(),
            sa.arg(),
            sb.arg(),
            d.arg(),
            arg(&mut m),
            arg(&mut n),
            arg(&mut k),
        ];
        // SAFETY: (a, b, sa, sb, d, m, n, k) as declared in probes/fp4.cu, buffers sized for m, n, k.
        unsafe { f.launch(grid, block, &mut args) }?;
        d.read()
    }

    /// TFLOPS of a throughput kernel doing `flops_per_warp_iteration`: a full wave of 128-thread blocks
    /// (occupancy × SMs), its iteration count sized so that one launch takes about 50 ms.
    fn throughput(
        &self,
        f: &Function<'_>,
        flops_per_warp_iteration: f64,
    ) -> Result<Throughput, String> {
        let blocks = self.info.sms.max(1) * f.blocks_per_sm(THROUGHPUT_BLOCK)?.max(1);
        let warps = blocks * (THROUGHPUT_BLOCK / 32);
        let out = self.ctx.upload(&vec![f32::NAN; warps as usize])?;
        let run = |iters: u32| -> Result<f64, String> {
            let mut it = i32::try_from(iters).map_err(|_| "too many iterations")?;
            let t = self.time(f, 0.0, || {
                let mut args = [out.arg(), arg(&mut it)];
                // SAFETY: (float* out, int iters) with one float per warp.
                unsafe { f.enqueue((blocks, 1, 1), (THROUGHPUT_BLOCK, 1, 1), &mut args) }
            })?;
            Ok(t.seconds)
        };
        let probe_iters = 256u32;
        let t = run(probe_iters)?.max(1e-7);
        let scaled = (f64::from(probe_iters) * THROUGHPUT_LAUNCH_MS / 1e3 / t / 8.0).round() * 8.0;
        let iterations = scaled.clamp(f64::from(probe_iters), f64::from(1u32 << 26)) as u32;
        let seconds = run(iterations)?;
        let checksums = out.read()?;
        if checksums.iter().any(|c| !c.is_finite()) {
            return Err(format!("{}: a warp wrote no finite checksum", f.name));
        }
        let flops = f64::from(warps) * f64::from(iterations) * flops_per_warp_iteration;
        Ok(Throughput {
            tflops: flops / seconds / 1e12,
            launch_ms: seconds * 1e3,
            iterations,
            blocks,
        })
    }
}

/// A scalar kernel argument: a pointer to the value (`cuLaunchKernel` copies it at launch).
fn arg<T>(value: &mut T) -> *mut c_void {
    (value as *mut T).cast()
}

fn not_built(build: &Build, kernel: Kernel) -> String {
    let why = build
        .variant(kernel)
        .and_then(|v| v.message.clone())
        .unwrap_or_else(|| "not built".into());
    format!(
        "{} did not compile for {}: {why}",
        kernel.name(),
        build.arch
    )
}

/// Compares a round trip through the hardware with the reference: (mismatches, zero-sign-only
/// mismatches). The codes are checked against `fp4::encode_e2m1`; each decoded value against the code
/// the hardware wrote, so the two directions are checked separately.
pub fn conversion_mismatches(values: &[f32], packed: &[u8], out: &[f32]) -> (usize, usize) {
    let got_codes = fp4::unpack(packed, values.len().min(packed.len() * 2));
    let (mut wrong, mut zero_sign) = (0, 0);
    for (i, x) in values.iter().enumerate() {
        let want = fp4::encode_e2m1(*x);
        let Some(&got) = got_codes.get(i) else {
            wrong += 1;
            continue;
        };
        if got != want {
            if got & 7 == 0 && want & 7 == 0 {
                zero_sign += 1;
            } else {
                wrong += 1;
            }
        }
        let decoded = fp4::decode_e2m1(got);
        if out.get(i).is_none_or(|o| o.to_bits() != decoded.to_bits()) {
            wrong += 1;
        }
    }
    (wrong, zero_sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_sign_differences_are_counted_apart() {
        let values = [-0.1f32, 1.0, -0.0, 2.5];
        // The reference: -0.1 -> 0x8, 1.0 -> 0x2, -0.0 -> 0x8, 2.5 -> 0x4 (tie to even).
        let exact = fp4::pack(&[0x8, 0x2, 0x8, 0x4]);
        let out = [-0.0f32, 1.0, -0.0, 2.0];
        assert_eq!(conversion_mismatches(&values, &exact, &out), (0, 0));
        // Hardware that returns +0 for negative underflow: two zero-sign differences, nothing wrong.
        let plus_zero = fp4::pack(&[0x0, 0x2, 0x0, 0x4]);
        let out = [0.0f32, 1.0, 0.0, 2.0];
        assert_eq!(conversion_mismatches(&values, &plus_zero, &out), (0, 2));
        // A wrong rounding (2.5 -> 3.0) and a wrong decode are mismatches.
        let wrong = fp4::pack(&[0x8, 0x2, 0x8, 0x5]);
        let out = [-0.0f32, 1.5, -0.0, 3.0];
        assert_eq!(conversion_mismatches(&values, &wrong, &out), (2, 0));
    }

    #[test]
    fn mig_profiles_come_from_the_name() {
        assert_eq!(
            mig_profile("NVIDIA H100 80GB HBM3 MIG 1g.10gb").as_deref(),
            Some("1g.10gb")
        );
        assert_eq!(
            mig_profile("NVIDIA A100-SXM4-40GB MIG 3g.20gb").as_deref(),
            Some("3g.20gb")
        );
        assert_eq!(mig_profile("NVIDIA H200"), None);
    }
}
