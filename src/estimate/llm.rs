//! The physics of running a model: memory it needs, and how fast it decodes and prefills.
//!
//! Decode streams the weights it uses (all of them, or a mixture of experts' active ones) plus the KV
//! cache once per generated token, so it is bound by memory bandwidth: time per step = bytes read ÷
//! (bandwidth × the engine's measured efficiency), plus a fixed per-token overhead that dominates small
//! models on fast GPUs. Prefill and training are bound by compute: 2 FLOPs per active parameter per token
//! (6 for a full training step, 4 for LoRA, whose frozen weights need no weight gradients), at the
//! precision the engine computes in, dense figures only.

use serde::Serialize;

use super::machine::MachineView;
use crate::matrix::workloads::Compute;

/// Fixed runtime memory: CUDA/Metal context, buffers, graphs.
pub const RUNTIME_GB: f64 = 1.0;
/// Scratch space for activations and buffers, as a share of the weights.
pub const SCRATCH_SHARE: f64 = 0.02;

#[derive(Debug, Clone)]
pub struct LlmSpec {
    pub params_b: f64,
    pub active_params_b: f64,
    /// Of those, kept at `dense_bits` whatever `bits` says (total, and read per token).
    pub dense_params_b: f64,
    pub dense_active_params_b: f64,
    pub dense_bits: f64,
    pub bits: f64,
    pub compute: Compute,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub context: u32,
    pub users: u32,
    /// KV cache precision in bits (16: FP16/BF16 cache, the engines' default).
    pub kv_bits: f64,
}

#[derive(Debug, Clone)]
pub struct EngineEff {
    pub name: String,
    pub bandwidth_eff: f64,
    pub compute_eff: f64,
    pub overhead_ms: f64,
    pub batching: bool,
    pub fp4_cores: bool,
    pub fp8_cores: bool,
}

impl EngineEff {
    /// An engine's efficiencies on one backend (kind of machine).
    pub fn new(
        engine: &crate::matrix::workloads::Engine,
        backend: &crate::matrix::workloads::Backend,
    ) -> EngineEff {
        EngineEff {
            name: engine.name.clone(),
            bandwidth_eff: backend.bandwidth_eff,
            compute_eff: backend.compute_eff,
            overhead_ms: backend.overhead_ms,
            batching: engine.batching,
            fp4_cores: engine.fp4_tensor_cores,
            fp8_cores: engine.fp8_tensor_cores,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    MemoryBandwidth,
    Compute,
    PerTokenOverhead,
    DoesNotFit,
    Unknown,
}

impl Bound {
    pub fn text(self) -> &'static str {
        match self {
            Bound::MemoryBandwidth => "memory bandwidth",
            Bound::Compute => "compute",
            Bound::PerTokenOverhead => "per-token overhead",
            Bound::DoesNotFit => "does not fit",
            Bound::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Memory {
    pub required_gb: f64,
    pub available_gb: Option<f64>,
    pub weights_gb: f64,
    pub kv_cache_gb: f64,
    pub runtime_gb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LlmEstimate {
    pub fits: Option<bool>,
    pub memory: Memory,
    /// Tokens per second each user sees.
    pub decode_tok_s: Option<f64>,
    /// All users together.
    pub aggregate_tok_s: Option<f64>,
    pub prefill_tok_s: Option<f64>,
    pub bound: Bound,
    pub bytes_per_token: f64,
    pub assumptions: Vec<String>,
}

/// KV cache bytes per token of context: keys and values, every layer, every KV head.
pub fn kv_bytes_per_token(spec: &LlmSpec) -> f64 {
    2.0 * f64::from(spec.layers)
        * f64::from(spec.kv_heads)
        * f64::from(spec.head_dim)
        * spec.kv_bits
        / 8.0
}

/// Billions of bytes for `params` billion parameters, `dense` of them at `dense_bits`, the rest at `bits`.
fn weight_gb(params: f64, dense: f64, bits: f64, dense_bits: f64) -> f64 {
    (params - dense) * bits / 8.0 + dense * dense_bits / 8.0
}

pub fn memory(spec: &LlmSpec, available_gb: Option<f64>) -> Memory {
    let weights_gb = weight_gb(
        spec.params_b,
        spec.dense_params_b,
        spec.bits,
        spec.dense_bits,
    );
    let kv_cache_gb =
        kv_bytes_per_token(spec) * f64::from(spec.context) * f64::from(spec.users) / 1e9;
    let runtime_gb = RUNTIME_GB + SCRATCH_SHARE * weights_gb;
    Memory {
        required_gb: weights_gb + kv_cache_gb + runtime_gb,
        available_gb,
        weights_gb,
        kv_cache_gb,
        runtime_gb,
    }
}

/// Memory alone, for an engine whose speed cannot be estimated (or that does not run here).
pub fn memory_only(spec: &LlmSpec, machine: &MachineView) -> LlmEstimate {
    let memory = memory(spec, machine.available_gb);
    LlmEstimate {
        fits: machine.available_gb.map(|a| memory.required_gb <= a),
        memory,
        decode_tok_s: None,
        aggregate_tok_s: None,
        prefill_tok_s: None,
        bound: Bound::Unknown,
        bytes_per_token: 0.0,
        assumptions: Vec::new(),
    }
}

pub fn estimate(spec: &LlmSpec, machine: &MachineView, engine: &EngineEff) -> LlmEstimate {
    let mut notes = vec![
        if spec.dense_params_b > 0.0 {
            format!(
                "weights {:.1} B params × {:.2} bits, of which {:.2} B (attention, embeddings) at {:.1} bits",
                spec.params_b, spec.bits, spec.dense_params_b, spec.dense_bits
            )
        } else {
            format!(
                "weights {:.1} B params × {:.2} bits",
                spec.params_b, spec.bits
            )
        },
        format!(
            "KV cache FP16: 2 × {} layers × {} KV heads × {} dims per token, {} tokens × {} users",
            spec.layers, spec.kv_heads, spec.head_dim, spec.context, spec.users
        ),
        format!(
            "runtime {RUNTIME_GB} GB + {:.0}% of weights for buffers",
            SCRATCH_SHARE * 100.0
        ),
    ];
    let mem = memory(spec, machine.available_gb);
    let fits = mem.available_gb.map(|a| mem.required_gb <= a);
    // Decode at mid-conversation: on average half the context is in the cache.
    let kv_read = kv_bytes_per_token(spec) * f64::from(spec.context) / 2.0;
    let weight_read = weight_gb(
        spec.active_params_b,
        spec.dense_active_params_b,
        spec.bits,
        spec.dense_bits,
    ) * 1e9;
    let bytes_per_token = weight_read + kv_read;
    notes.push(format!(
        "each token reads {:.2} GB: active weights + half the context's KV cache",
        bytes_per_token / 1e9
    ));
    if spec.active_params_b < spec.params_b {
        notes.push(format!(
            "mixture of experts: {:.1} B of {:.1} B parameters active per token",
            spec.active_params_b, spec.params_b
        ));
    }
    let flops = machine.tflops(spec.compute, engine.fp4_cores, engine.fp8_cores);
    if let Some((t, how)) = flops {
        notes.push(format!(
            "compute: {t:.0} TFLOPS dense ({how}) × {:.0}% ({})",
            engine.compute_eff * 100.0,
            engine.name
        ));
    }
    if fits == Some(false) {
        return LlmEstimate {
            fits,
            memory: mem,
            decode_tok_s: None,
            aggregate_tok_s: None,
            prefill_tok_s: None,
            bound: Bound::DoesNotFit,
            bytes_per_token,
            assumptions: notes,
        };
    }
    let prefill_tok_s =
        flops.map(|(t, _)| t * 1e12 * engine.compute_eff / (2.0 * spec.active_params_b * 1e9));
    let Some(bandwidth) = machine.bandwidth_gbs else {
        notes.push("no memory bandwidth figure: decode speed unknown".into());
        return LlmEstimate {
            fits,
            memory: mem,
            decode_tok_s: None,
            aggregate_tok_s: None,
            prefill_tok_s,
            bound: Bound::Unknown,
            bytes_per_token,
            assumptions: notes,
        };
    };
    notes.push(format!(
        "bandwidth {bandwidth:.0} GB/s{} × {:.0}% reached by {}",
        if machine.bandwidth_measured {
            " (measured)"
        } else {
            " (datasheet)"
        },
        engine.bandwidth_eff * 100.0,
        engine.name
    ));
    let in_step = if engine.batching { spec.users } else { 1 };
    let t_mem =
        (weight_read + kv_read * f64::from(in_step)) / (bandwidth * 1e9 * engine.bandwidth_eff);
    let t_compute = flops.map_or(0.0, |(t, _)| {
        2.0 * spec.active_params_b * 1e9 * f64::from(in_step) / (t * 1e12 * engine.compute_eff)
    });
    let t_overhead = engine.overhead_ms / 1000.0;
    let step = t_mem.max(t_compute) + t_overhead;
    notes.push(format!(
        "{:.1} ms fixed overhead per token ({})",
        engine.overhead_ms, engine.name
    ));
    let (per_user, aggregate) = if engine.batching {
        (1.0 / step, f64::from(spec.users) / step)
    } else {
        if spec.users > 1 {
            notes.push(format!(
                "{} serves one sequence at a time: {} users share it",
                engine.name, spec.users
            ));
        }
        (1.0 / (step * f64::from(spec.users)), 1.0 / step)
    };
    let bound = if t_overhead > t_mem.max(t_compute) {
        Bound::PerTokenOverhead
    } else if t_compute > t_mem {
        Bound::Compute
    } else {
        Bound::MemoryBandwidth
    };
    LlmEstimate {
        fits,
        memory: mem,
        decode_tok_s: Some(per_user),
        aggregate_tok_s: Some(aggregate),
        prefill_tok_s,
        bound,
        bytes_per_token,
        assumptions: notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(bandwidth: f64, available: f64) -> MachineView {
        MachineView {
            name: "test".into(),
            backend: "nvidia".into(),
            available_gb: Some(available),
            bandwidth_gbs: Some(bandwidth),
            bandwidth_measured: false,
            fp4_native: false,
            fp8_native: true,
            tflops_f16: Some(100.0),
            tflops_fp8: Some(200.0),
            tflops_fp4: None,
            tflops_f32: Some(50.0),
            power_w: None,
            price_usd: None,
            list_price_usd: None,
            assumptions: vec![],
            cpu: None,
        }
    }

    fn engine(batching: bool) -> EngineEff {
        EngineEff {
            name: "e".into(),
            bandwidth_eff: 1.0,
            compute_eff: 1.0,
            overhead_ms: 0.0,
            batching,
            fp4_cores: false,
            fp8_cores: false,
        }
    }

    fn llama8b(bits: f64, users: u32) -> LlmSpec {
        LlmSpec {
            params_b: 8.0,
            active_params_b: 8.0,
            dense_params_b: 0.0,
            dense_active_params_b: 0.0,
            dense_bits: 16.0,
            bits,
            compute: Compute::F16,
            layers: 32,
            kv_heads: 8,
            head_dim: 128,
            context: 8192,
            users,
            kv_bits: 16.0,
        }
    }

    #[test]
    fn hand_computed_8b_fp16() {
        // 8 B × 2 bytes = 16 GB of weights; KV: 2 × 32 × 8 × 128 × 2 B = 131072 B per token.
        let spec = llama8b(16.0, 1);
        assert_eq!(kv_bytes_per_token(&spec), 131_072.0);
        let e = estimate(&spec, &machine(273.0, 115.0), &engine(false));
        assert!((e.memory.weights_gb - 16.0).abs() < 1e-9);
        assert!((e.memory.kv_cache_gb - 1.073741824).abs() < 1e-9);
        // Per token: 16 GB + 4096 × 131072 B = 16.537 GB; at 273 GB/s: 16.5 tok/s — never 120.
        let decode = e.decode_tok_s.unwrap();
        assert!((decode - 273.0 / 16.536870912).abs() < 1e-6, "{decode}");
        assert_eq!(e.bound, Bound::MemoryBandwidth);
        // Prefill: 100 TFLOPS / 16 GFLOP per token = 6250 tok/s.
        assert!((e.prefill_tok_s.unwrap() - 6250.0).abs() < 1e-6);
    }

    #[test]
    fn a_moe_reads_its_active_experts_and_its_dense_part() {
        // gpt-oss-120b as packaged in GGUF: 3.58 B MXFP4 expert weights + 1.55 B Q8_0 read per token.
        let spec = LlmSpec {
            params_b: 116.83,
            active_params_b: 5.13,
            dense_params_b: 2.13,
            dense_active_params_b: 1.55,
            dense_bits: 8.5,
            bits: 4.25,
            compute: Compute::Fp4,
            layers: 36,
            kv_heads: 8,
            head_dim: 64,
            context: 2,
            users: 1,
            kv_bits: 16.0,
        };
        let e = estimate(&spec, &machine(273.0, 115.0), &engine(false));
        let want = 3.58 * 4.25 / 8.0 + 1.55 * 8.5 / 8.0;
        assert!(
            (e.bytes_per_token / 1e9 - want).abs() < 1e-3,
            "{}",
            e.bytes_per_token
        );
        assert!((e.memory.weights_gb - (114.7 * 4.25 / 8.0 + 2.13 * 8.5 / 8.0)).abs() < 1e-9);
    }

    #[test]
    fn too_big_never_fits_and_has_no_speed() {
        let e = estimate(&llama8b(16.0, 1), &machine(1000.0, 12.0), &engine(false));
        assert_eq!(e.fits, Some(false));
        assert_eq!(e.bound, Bound::DoesNotFit);
        assert!(e.decode_tok_s.is_none());
    }

    #[test]
    fn batching_shares_the_weight_read() {
        let solo = estimate(&llama8b(16.0, 20), &machine(3350.0, 76.0), &engine(false));
        let batched = estimate(&llama8b(16.0, 20), &machine(3350.0, 76.0), &engine(true));
        assert!(batched.aggregate_tok_s.unwrap() > 5.0 * solo.aggregate_tok_s.unwrap());
    }

    #[test]
    fn physical_invariants_hold_over_a_sweep() {
        // Property test over a grid: decode never beats bandwidth ÷ bytes per token; doubling bandwidth
        // never slows a memory-bound estimate; a model larger than memory never fits.
        for &params in &[0.5, 3.0, 8.0, 32.0, 70.0, 120.0, 405.0] {
            for &bits in &[4.25, 4.85, 8.0, 16.0] {
                for &bw in &[100.0, 273.0, 819.0, 3350.0, 8000.0] {
                    for &avail in &[16.0, 24.0, 96.0, 115.0, 180.0] {
                        for &users in &[1u32, 4, 20] {
                            for &batching in &[false, true] {
                                let mut spec = llama8b(bits, users);
                                spec.params_b = params;
                                spec.active_params_b = params;
                                let m = machine(bw, avail);
                                let e = estimate(&spec, &m, &engine(batching));
                                if e.memory.weights_gb > avail {
                                    assert_ne!(
                                        e.fits,
                                        Some(true),
                                        "{params}B at {bits} bits fits in {avail} GB?"
                                    );
                                }
                                if let Some(d) = e.decode_tok_s {
                                    assert!(
                                        d <= bw * 1e9 / e.bytes_per_token + 1e-9,
                                        "decode {d} beats bandwidth"
                                    );
                                    let faster = estimate(
                                        &spec,
                                        &machine(bw * 2.0, avail),
                                        &engine(batching),
                                    );
                                    assert!(
                                        faster.decode_tok_s.unwrap() >= d - 1e-9,
                                        "doubling bandwidth slowed decode"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
