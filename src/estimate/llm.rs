//! The physics of running a language model: the memory it needs, how fast it decodes one or many
//! sequences, how fast it prefills a prompt, and how many sequences a machine can serve at once.
//!
//! Decode streams the weights it uses (all of them, or the experts a step's tokens route to) plus every
//! sequence's KV cache once per step, so it is bound by memory bandwidth: step time = bytes read ÷
//! (bandwidth × the engine's measured efficiency), or the step's matrix math when a large batch makes
//! that longer, plus a fixed per-step overhead that dominates small models on fast GPUs. Prefill is
//! bound by compute, along the kernel path the engine takes for the quantization (`path`): 2 FLOPs per
//! active parameter per token at that path's precision and efficiency; a mixture of experts multiplies
//! small per-expert matrices, which reach less of the peak the fewer tokens each expert sees; attention
//! adds 4 FLOPs per query head dimension per token already in the context, so long prompts slow down.

use std::collections::BTreeMap;

use serde::Serialize;

use super::machine::MachineView;
use super::path::KernelPath;
use crate::matrix::workloads::{Compute, Model, MoeGemm, Workload, Workloads};
use crate::units::BYTES_PER_GB;

/// Fixed runtime memory: CUDA/Metal context, buffers, graphs.
pub const RUNTIME_GB: f64 = 1.0;
/// Scratch space for activations and buffers, as a share of the weights.
pub const SCRATCH_SHARE: f64 = 0.02;
/// Small matrices reach less of the peak: a GEMM over `t` tokens runs at (t / 512)^0.24 of the efficiency
/// measured at 512 (the chunk the dense efficiencies were fitted at). A mixture's experts fall further
/// where a backend's `moe_gemm` says so (llama.cpp on CUDA: 0.097 · t^0.24, `t` the tokens each expert
/// sees, fitted on a DGX Spark; docs/calibration.md#mixture-of-experts-gemms); elsewhere an expert's GEMM
/// counts as a dense one over its `t` tokens. A CPU loses nothing this way.
pub const SMALL_GEMM_EXPONENT: f64 = 0.24;
const DENSE_GEMM_REFERENCE_TOKENS: f64 = 512.0;
/// Routing skew: real routers send tokens to experts unevenly, so a batch touches fewer distinct experts
/// than uniform routing would. Expert i (of E, by popularity) is chosen with probability ∝ 1/i^s; `s`
/// fitted on vLLM gpt-oss-120b on a DGX Spark at 1–64 concurrent users (docs/calibration.md#routing-skew).
pub const ROUTING_SKEW: f64 = 1.5;
/// Prefill chunk when an engine does not say (llama.cpp's default n_ubatch).
pub const DEFAULT_PREFILL_CHUNK: u32 = 512;
/// The user counts capacity reports speed at, up to the most that fit (which is reported too).
pub const CAPACITY_LEVELS: &[u32] = &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Sequences no engine schedules at once by default (vLLM's max_num_seqs is 256 to 1024).
pub const MAX_SEQUENCES: u32 = 1024;

#[derive(Debug, Clone)]
pub struct LlmSpec {
    pub params_b: f64,
    pub active_params_b: f64,
    /// Of those, kept at `dense_bits` whatever `bits` says (total, and read per token).
    pub dense_params_b: f64,
    pub dense_active_params_b: f64,
    pub dense_bits: f64,
    pub bits: f64,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    /// Query heads.
    pub heads: u32,
    /// A mixture of experts: (experts per layer, experts per token).
    pub moe: Option<(u32, u32)>,
    pub sliding_window: Option<u32>,
    pub full_attention_every: Option<u32>,
    /// Tokens of context per sequence.
    pub context: u32,
    pub users: u32,
    /// KV cache precision in bits (16: FP16/BF16 cache, the engines' default).
    pub kv_bits: f64,
}

impl LlmSpec {
    /// Layers that attend to the whole context, and layers limited to the sliding window.
    fn layer_split(&self) -> (f64, f64) {
        let layers = f64::from(self.layers);
        match (self.sliding_window, self.full_attention_every) {
            (None, _) => (layers, 0.0),
            (Some(_), None) => (0.0, layers),
            (Some(_), Some(n)) => {
                let full = (layers / f64::from(n)).floor().max(1.0);
                (full, layers - full)
            }
        }
    }

    /// Tokens each layer attends to at position `tokens`, summed over layers.
    fn attended(&self, tokens: f64) -> f64 {
        let (full, windowed) = self.layer_split();
        let window = self
            .sliding_window
            .map_or(tokens, |w| tokens.min(f64::from(w)));
        full * tokens + windowed * window
    }

    /// Bytes of KV cache one sequence holds at `tokens` tokens.
    pub fn kv_bytes(&self, tokens: f64) -> f64 {
        2.0 * f64::from(self.kv_heads) * f64::from(self.head_dim) * self.kv_bits / 8.0
            * self.attended(tokens)
    }

    /// A mixture of experts' parameters (billions): all experts, and the rest each token reads.
    fn expert_split(&self) -> Option<(f64, f64, f64)> {
        let (e, k) = self.moe?;
        let share = f64::from(k) / f64::from(e);
        let experts = ((self.params_b - self.active_params_b) / (1.0 - share)).max(0.0);
        let shared = (self.active_params_b - experts * share).max(0.0);
        Some((experts, shared, share))
    }
}

#[derive(Debug, Clone)]
pub struct EngineEff {
    pub name: String,
    pub bandwidth_eff: f64,
    /// Share of the dense peak for matrix math outside the quantization's own path (training, images).
    pub compute_eff: f64,
    pub attention_eff: f64,
    pub overhead_ms: f64,
    pub prefill_overhead_ms: f64,
    pub batching: bool,
    pub prefill_chunk: u32,
    /// How it serves several users at once, in words.
    pub concurrency: Option<String>,
    /// The path the model's quantization takes here.
    pub path: KernelPath,
    /// The backend's expert-GEMM penalty, where fitted.
    pub moe_gemm: Option<MoeGemm>,
    /// Why this path is slow here (a fallback kernel), when it is.
    pub fallback: Option<String>,
}

impl EngineEff {
    /// An engine's efficiencies on one backend, for a quantization's kernel path on `machine`; a fallback
    /// kernel the backend names for this GPU and format replaces them.
    pub fn new(
        engine: &crate::matrix::workloads::Engine,
        backend: &crate::matrix::workloads::Backend,
        mut path: KernelPath,
        machine: &MachineView,
    ) -> EngineEff {
        let gpu_words = machine
            .gpu
            .as_deref()
            .map(crate::matrix::names::words)
            .unwrap_or_default();
        let fallback = backend.fallbacks.iter().find(|f| {
            (f.quants.is_empty() || f.quants.contains(&path.quant))
                && f.gpus.iter().any(|g| {
                    let want = crate::matrix::names::words(g);
                    !want.is_empty() && want.iter().all(|w| gpu_words.contains(w))
                })
        });
        let (bandwidth_eff, compute_eff) = match fallback {
            Some(f) => {
                path.gemm_eff = path.gemm_eff.min(f.compute_eff);
                path.notes.push(format!("slow path here: {}", f.why));
                (f.bandwidth_eff, f.compute_eff)
            }
            None => (backend.bandwidth_eff, backend.compute_eff),
        };
        EngineEff {
            name: engine.name.clone(),
            bandwidth_eff,
            compute_eff,
            attention_eff: backend
                .attention_eff
                .unwrap_or(backend.compute_eff)
                .min(compute_eff),
            overhead_ms: backend.overhead_ms,
            prefill_overhead_ms: backend.prefill_overhead_ms,
            batching: engine.batching,
            prefill_chunk: engine.prefill_chunk.unwrap_or(DEFAULT_PREFILL_CHUNK),
            concurrency: engine.concurrency.clone(),
            path,
            moe_gemm: backend.moe_gemm,
            fallback: fallback.map(|f| f.why.clone()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    MemoryBandwidth,
    Compute,
    PerTokenOverhead,
    Unknown,
}

impl Bound {
    pub fn text(self) -> &'static str {
        match self {
            Bound::MemoryBandwidth => "memory bandwidth",
            Bound::Compute => "compute",
            Bound::PerTokenOverhead => "per-token overhead",
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

/// What stops a server from taking more sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Ceiling {
    /// Their KV caches fill the memory left beside the weights.
    KvMemory,
    /// No engine schedules more at once by default ([`MAX_SEQUENCES`]).
    Scheduler,
}

impl Ceiling {
    pub fn text(self) -> &'static str {
        match self {
            Ceiling::KvMemory => "KV cache memory",
            Ceiling::Scheduler => "the engine's sequence limit",
        }
    }
}

/// Requests as a server sees them: prompt and output tokens each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requests {
    pub prompt: u32,
    pub output: u32,
}

/// How many sequences fit at once and how fast they run together, each request's prefill counted.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Capacity {
    /// Sequences of `context` tokens whose KV cache fits beside the weights (paged: no padding), at most
    /// the engine's limit.
    pub max_sequences: u32,
    /// What sets `max_sequences`.
    pub ceiling: Ceiling,
    /// What bounds a step at `max_sequences`: memory bandwidth, compute or per-step overhead.
    pub bound_at_ceiling: Bound,
    pub context: u32,
    /// Prompt and output tokens per request, when given: throughput then counts each request's prefill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u32>,
    /// Output tok/s each user sees, by number of concurrent users (JSON keys are the user counts), up to
    /// `max_sequences`.
    pub per_user_tok_s: BTreeMap<u32, f64>,
    /// Output tok/s of all users together.
    pub aggregate_tok_s: BTreeMap<u32, f64>,
    /// Seconds to the first token of a new request while that many users are served (requests given).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub time_to_first_token_s: BTreeMap<u32, f64>,
    /// The most users that each still get `target_tok_s` (`--target-tok-s`); 0 when not even one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_tok_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_at_target: Option<u32>,
    /// The KV cache one sequence of `context` tokens holds, GB.
    pub kv_per_sequence_gb: f64,
    /// Counted with the Metal limit raised as far as macOS allows (it does not fit below it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub metal_limit_raised: bool,
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
    /// The prompt `prefill_tok_s` is for, and how long it takes to reach the first token, seconds.
    pub prefill_prompt: u32,
    pub time_to_first_token_s: Option<f64>,
    pub bound: Bound,
    pub bytes_per_token: f64,
    pub capacity: Option<Capacity>,
    pub assumptions: Vec<String>,
}

/// Bytes of `params` billion parameters, `dense` of them at `dense_bits`, the rest at `bits`.
fn weight_bytes(params: f64, dense: f64, bits: f64, dense_bits: f64) -> f64 {
    ((params - dense).max(0.0) * bits / 8.0 + dense * dense_bits / 8.0) * 1e9
}

/// GB (GiB, as machines' memory is counted) that `params_b` billion parameters take at `bits` each.
pub fn params_gb(params_b: f64, bits: f64) -> f64 {
    params_b * 1e9 * bits / 8.0 / BYTES_PER_GB
}

pub fn memory(spec: &LlmSpec, available_gb: Option<f64>) -> Memory {
    let weights_gb = weight_bytes(
        spec.params_b,
        spec.dense_params_b,
        spec.bits,
        spec.dense_bits,
    ) / BYTES_PER_GB;
    let kv_cache_gb = spec.kv_bytes(f64::from(spec.context)) * f64::from(spec.users) / BYTES_PER_GB;
    let runtime_gb = RUNTIME_GB + SCRATCH_SHARE * weights_gb;
    Memory {
        required_gb: weights_gb + kv_cache_gb + runtime_gb,
        available_gb,
        weights_gb,
        kv_cache_gb,
        runtime_gb,
    }
}

/// Bytes of weights one step reads when `tokens` tokens (a batch's, or a prefill chunk's) route through
/// the model: a mixture of experts reads the experts any of them uses.
fn weights_read(spec: &LlmSpec, tokens: f64) -> f64 {
    let bytes = |params: f64, dense: f64| weight_bytes(params, dense, spec.bits, spec.dense_bits);
    match spec.expert_split() {
        Some((experts, shared, share)) => {
            let touched = spec.moe.map_or(share, |(e, k)| {
                distinct_experts(e, k, tokens) / f64::from(e)
            });
            // Keep the higher-precision part (gpt-oss attention and embeddings) with the shared weights.
            let dense_shared = spec.dense_active_params_b.min(shared);
            bytes(shared, dense_shared) + experts * touched * spec.bits / 8.0 * 1e9
        }
        None => bytes(spec.active_params_b, spec.dense_active_params_b),
    }
}

/// Expected distinct experts (of `e`, `k` per token) that `tokens` tokens route to, with the popularity
/// skew of real routers: expert i is chosen by a token with probability p_i ∝ 1/i^ROUTING_SKEW, scaled so
/// the p_i sum to `k` (each at most 1).
pub fn distinct_experts(e: u32, k: u32, tokens: f64) -> f64 {
    let n = e.max(1) as usize;
    let k = f64::from(k.min(e));
    let weights: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-ROUTING_SKEW)).collect();
    // Scale so that Σ min(1, c·w_i) = k (bisection: the sum grows with c).
    let total = |c: f64| weights.iter().map(|w| (c * w).min(1.0)).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while total(hi) < k {
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if total(mid) < k {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = tokens.max(1.0);
    weights
        .iter()
        .map(|w| 1.0 - (1.0 - (hi * w).min(1.0)).powf(t))
        .sum::<f64>()
        .max(k.min(t * k))
}

/// Efficiency factor of a dense GEMM over `tokens` rows, relative to the fitted one.
fn dense_gemm_factor(tokens: f64) -> f64 {
    (tokens / DENSE_GEMM_REFERENCE_TOKENS)
        .powf(SMALL_GEMM_EXPONENT)
        .min(1.0)
}

/// Efficiency factor of a mixture's expert GEMMs when each expert sees `tokens_per_expert` tokens: the
/// backend's fitted penalty, else a dense GEMM's over that many tokens.
pub fn moe_gemm_factor(moe: Option<MoeGemm>, tokens_per_expert: f64) -> f64 {
    let t = tokens_per_expert.max(1.0);
    match moe {
        Some(m) => (m.at_one_token * t.powf(m.exponent)).min(1.0),
        None => dense_gemm_factor(t),
    }
}

/// Seconds of matrix math for `tokens` tokens through the linear layers, on the kernel path. The
/// small-matrix factors are a GPU's (tiles left idle); a CPU's vector units do not lose that way.
fn gemm_seconds(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    tokens: f64,
) -> Option<f64> {
    let peak = engine.path.peak_tflops? * 1e12 * engine.path.gemm_eff;
    let flops = |params_b: f64| 2.0 * params_b * 1e9 * tokens;
    let gpu = machine.backend != "cpu";
    let dense = if gpu { dense_gemm_factor(tokens) } else { 1.0 };
    Some(match spec.expert_split() {
        Some((experts, shared, share)) => {
            // Each expert sees tokens × k / E of them.
            let moe = if gpu {
                moe_gemm_factor(engine.moe_gemm, tokens * share)
            } else {
                1.0
            };
            flops(shared) / (peak * dense) + flops(experts * share) / (peak * moe)
        }
        None => flops(spec.active_params_b) / (peak * dense),
    })
}

/// One decode step of `batch` sequences with `kv_tokens` tokens each in the cache: seconds, and what
/// bounds it.
pub fn decode_step(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    batch: u32,
    kv_tokens: f64,
) -> Option<(f64, Bound)> {
    let bandwidth = machine.bandwidth_gbs? * 1e9 * engine.bandwidth_eff;
    let b = f64::from(batch.max(1));
    let bytes = weights_read(spec, b) + b * spec.kv_bytes(kv_tokens);
    let t_mem = bytes / bandwidth;
    // A decode step multiplies each weight by `batch` vectors: its kernels are GEMVs and skinny GEMMs
    // bound by the weights they stream, not prefill's tiled GEMMs, so their compute counts at the
    // path's full efficiency and binds only once the batch is large.
    let t_compute = engine.path.peak_tflops.map_or(0.0, |p| {
        2.0 * spec.active_params_b * 1e9 * b / (p * 1e12 * engine.path.gemm_eff)
    });
    let t_overhead = engine.overhead_ms / 1000.0;
    let work = t_mem.max(t_compute);
    let bound = if t_overhead > work {
        Bound::PerTokenOverhead
    } else if t_compute > t_mem {
        Bound::Compute
    } else {
        Bound::MemoryBandwidth
    };
    Some((work + t_overhead, bound))
}

/// Prefill speed, tok/s, for a prompt of `prompt` tokens after `depth` tokens already in the cache, in
/// chunks of `chunk` tokens.
pub fn prefill(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    prompt: u32,
    depth: u32,
    chunk: u32,
) -> Option<f64> {
    let chunk = f64::from(chunk.min(prompt.max(1)).max(1));
    let gemm = gemm_seconds(spec, machine, engine, chunk)? / chunk;
    // Attention: 2 FLOPs each for QKᵀ and AV per query dimension per attended token, at the middle of
    // the prompt on average, on the FP16 tensor path flash attention uses.
    let position = f64::from(depth) + f64::from(prompt) / 2.0;
    let attn_flops =
        4.0 * f64::from(spec.heads) * f64::from(spec.head_dim) * spec.attended(position);
    let attn = machine
        .rate(Compute::F16)
        .map_or(0.0, |(t, _)| attn_flops / (t * 1e12 * engine.attention_eff));
    // Each chunk streams the weights its tokens route to once.
    let stream = machine.bandwidth_gbs.map_or(0.0, |bw| {
        weights_read(spec, chunk) / (bw * 1e9 * engine.bandwidth_eff) / chunk
    });
    let per_token = (gemm + attn).max(stream);
    let prompt = f64::from(prompt.max(1));
    Some(prompt / (prompt * per_token + engine.prefill_overhead_ms / 1000.0))
}

/// Decode speeds at `users` concurrent sequences of `context` tokens: (per user, all together, bound).
pub fn decode_at(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    users: u32,
) -> Option<(f64, f64, Bound)> {
    // Mid-conversation: on average half the context is in the cache.
    let kv_tokens = f64::from(spec.context) / 2.0;
    let users_f = f64::from(users.max(1));
    if engine.batching {
        let (step, bound) = decode_step(spec, machine, engine, users, kv_tokens)?;
        Some((1.0 / step, users_f / step, bound))
    } else {
        let (step, bound) = decode_step(spec, machine, engine, 1, kv_tokens)?;
        Some((1.0 / (step * users_f), 1.0 / step, bound))
    }
}

/// A server at `users` concurrent requests of `req` tokens: (output tok/s per user, output tok/s of all,
/// seconds to a new request's first token, bound). Each request's prompt is prefilled once; in steady
/// state every user's request takes `output` decode steps at this batch plus its share of the prefill
/// work, which the engine interleaves with the decode steps (chunked prefill).
pub fn serving_at(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    users: u32,
    req: Requests,
) -> Option<(f64, f64, f64, Bound)> {
    let n = f64::from(users.max(1));
    let (p, o) = (f64::from(req.prompt), f64::from(req.output.max(1)));
    let kv_tokens = p + o / 2.0;
    let batch = if engine.batching { users } else { 1 };
    let (step, bound) = decode_step(spec, machine, engine, batch, kv_tokens)?;
    let prefill_tok_s = if req.prompt > 0 {
        prefill(spec, machine, engine, req.prompt, 0, engine.prefill_chunk)?
    } else {
        f64::INFINITY
    };
    let prefill_s = p / prefill_tok_s;
    let (per_user, aggregate) = if engine.batching {
        let cycle = o * step + n * prefill_s;
        (o / cycle, n * o / cycle)
    } else {
        let one = o * step + prefill_s;
        (o / (one * n), o / one)
    };
    // A new request's prefill rides along the others' decode steps, one chunk per step.
    let chunks = (p / f64::from(engine.prefill_chunk.max(1))).ceil();
    let others = if users > 1 && engine.batching {
        decode_step(spec, machine, engine, users - 1, kv_tokens).map_or(0.0, |(s, _)| s)
    } else if users > 1 {
        (n - 1.0) * (o * step + prefill_s)
    } else {
        0.0
    };
    let ttft = prefill_s
        + if engine.batching {
            chunks * others
        } else {
            others
        }
        + step;
    Some((per_user, aggregate, ttft, bound))
}

/// Sequences of the spec's context that fit in `available_gb` beside the weights, capped at
/// [`MAX_SEQUENCES`].
pub fn max_sequences(spec: &LlmSpec, available_gb: f64) -> u32 {
    let one = memory(
        &LlmSpec {
            users: 1,
            ..spec.clone()
        },
        None,
    );
    let fixed = one.weights_gb + one.runtime_gb;
    let per = one.kv_cache_gb;
    if available_gb < fixed + per {
        return 0;
    }
    if per <= 0.0 {
        return MAX_SEQUENCES;
    }
    (((available_gb - fixed) / per).floor() as u32).min(MAX_SEQUENCES)
}

/// What a server asks of the estimate: requests of given lengths, a speed each user must keep.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sizing {
    pub requests: Option<Requests>,
    pub target_tok_s: Option<f64>,
}

/// Serving capacity on this machine: how many sequences fit and what stops more, and per-user and
/// aggregate speed at 1, 2, 4 … users up to that ceiling (and at it); with request lengths, each
/// request's prefill counted and the time to a new request's first token; with a target speed, the most
/// users that each still get it.
pub fn capacity(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    sizing: Sizing,
) -> Option<Capacity> {
    let spec = &match sizing.requests {
        Some(r) => LlmSpec {
            context: r.prompt + r.output,
            ..spec.clone()
        },
        None => spec.clone(),
    };
    let mut available = machine.available_gb?;
    // On a Mac whose Metal limit is too low for even one sequence, count what raising it gives.
    let mut raised = false;
    if let Some(ceiling) = machine.metal_ceiling_gb {
        if max_sequences(spec, available) == 0 && ceiling > available {
            available = ceiling;
            raised = true;
        }
    }
    let max = max_sequences(spec, available);
    let mut levels: Vec<u32> = CAPACITY_LEVELS
        .iter()
        .copied()
        .filter(|&u| u <= max)
        .collect();
    // The users asked about, and the ceiling.
    for extra in [spec.users, max] {
        if extra > 0 && extra <= max && !levels.contains(&extra) {
            levels.push(extra);
        }
    }
    levels.sort_unstable();
    let at = |users: u32| -> Option<(f64, f64, Option<f64>, Bound)> {
        match sizing.requests {
            Some(r) => {
                serving_at(spec, machine, engine, users, r).map(|(p, a, t, b)| (p, a, Some(t), b))
            }
            None => decode_at(spec, machine, engine, users).map(|(p, a, b)| (p, a, None, b)),
        }
    };
    let mut per_user = BTreeMap::new();
    let mut aggregate = BTreeMap::new();
    let mut ttft = BTreeMap::new();
    let mut bound_at_ceiling = Bound::Unknown;
    for users in levels {
        let (p, a, t, b) = at(users)?;
        per_user.insert(users, p);
        aggregate.insert(users, a);
        if let Some(t) = t {
            ttft.insert(users, t);
        }
        bound_at_ceiling = b;
    }
    // The most users that each still get the target: per-user speed falls as users are added.
    let users_at_target = sizing.target_tok_s.map(|target| {
        let meets = |u: u32| at(u).is_some_and(|(p, ..)| p >= target);
        if max == 0 || !meets(1) {
            return 0;
        }
        let (mut lo, mut hi) = (1u32, max);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if meets(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    });
    Some(Capacity {
        max_sequences: max,
        ceiling: if max < MAX_SEQUENCES {
            Ceiling::KvMemory
        } else {
            Ceiling::Scheduler
        },
        bound_at_ceiling,
        context: spec.context,
        prompt_tokens: sizing.requests.map(|r| r.prompt),
        output_tokens: sizing.requests.map(|r| r.output),
        per_user_tok_s: per_user,
        aggregate_tok_s: aggregate,
        time_to_first_token_s: ttft,
        target_tok_s: sizing.target_tok_s,
        users_at_target,
        kv_per_sequence_gb: spec.kv_bytes(f64::from(spec.context)) / BYTES_PER_GB,
        metal_limit_raised: raised,
    })
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
        prefill_prompt: spec.context,
        time_to_first_token_s: None,
        bound: Bound::Unknown,
        bytes_per_token: 0.0,
        capacity: None,
        assumptions: Vec::new(),
    }
}

/// Memory, decode at the spec's users, prefill of a prompt filling the context, and serving capacity.
/// Speed is estimated whether or not the model fits: what it takes to fit is the verdict's to say.
pub fn estimate(spec: &LlmSpec, machine: &MachineView, engine: &EngineEff) -> LlmEstimate {
    estimate_sized(spec, machine, engine, Sizing::default())
}

/// [`estimate`], with the capacity sized for requests of given lengths and a target speed per user.
pub fn estimate_sized(
    spec: &LlmSpec,
    machine: &MachineView,
    engine: &EngineEff,
    sizing: Sizing,
) -> LlmEstimate {
    let path = &engine.path;
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
    ];
    if let Some(w) = spec.sliding_window {
        let (full, windowed) = spec.layer_split();
        notes.push(format!(
            "{windowed:.0} of {} layers attend to the last {w} tokens only ({full:.0} to the whole context): their KV cache stops growing there",
            spec.layers
        ));
    }
    notes.push(format!(
        "runtime {RUNTIME_GB} GB + {:.0}% of weights for buffers",
        SCRATCH_SHARE * 100.0
    ));
    notes.extend(path.notes.iter().cloned());
    let mem = memory(spec, machine.available_gb);
    let fits = mem.available_gb.map(|a| mem.required_gb <= a);
    let kv_tokens = f64::from(spec.context) / 2.0;
    let bytes_per_token = weights_read(spec, 1.0) + spec.kv_bytes(kv_tokens);
    notes.push(format!(
        "each token reads {:.2} GB: active weights + half the context's KV cache",
        bytes_per_token / BYTES_PER_GB
    ));
    if let Some((e, k)) = spec.moe {
        notes.push(format!(
            "mixture of experts: {k} of {e} experts per token, {:.1} B of {:.1} B parameters active; a batch reads every expert any of its tokens uses (fewer than uniform routing would: real routers favour some experts)",
            spec.active_params_b, spec.params_b
        ));
    } else if spec.active_params_b < spec.params_b {
        notes.push(format!(
            "mixture of experts: {:.1} B of {:.1} B parameters active per token",
            spec.active_params_b, spec.params_b
        ));
    }
    if let Some(peak) = path.peak_tflops {
        notes.push(format!(
            "prefill matrix math: {} TFLOPS dense ({}) × {:.0}% ({}), attention at the FP16 rate × {:.0}%",
            crate::units::significant(peak),
            path.unit,
            path.gemm_eff * 100.0,
            engine.name,
            engine.attention_eff * 100.0
        ));
    }
    // The prompt a first token waits for: the requests' when given, else one filling the context.
    let prompt = sizing.requests.map_or(spec.context, |r| r.prompt.max(1));
    let prefill_tok_s = prefill(spec, machine, engine, prompt, 0, engine.prefill_chunk);
    if let Some(p) = prefill_tok_s {
        notes.push(format!(
            "prefill of a prompt of {prompt} tokens in chunks of {} tokens: {:.1} s to the first token",
            engine.prefill_chunk.min(prompt),
            f64::from(prompt) / p
        ));
    }
    let Some(bandwidth) = machine.bandwidth_gbs else {
        notes.push("no memory bandwidth figure: decode speed unknown".into());
        return LlmEstimate {
            fits,
            memory: mem,
            decode_tok_s: None,
            aggregate_tok_s: None,
            prefill_tok_s,
            prefill_prompt: prompt,
            time_to_first_token_s: prefill_tok_s.map(|p| f64::from(prompt) / p),
            bound: Bound::Unknown,
            bytes_per_token,
            capacity: None,
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
    notes.push(format!(
        "{:.1} ms fixed overhead per step ({})",
        engine.overhead_ms, engine.name
    ));
    if !engine.batching && spec.users > 1 {
        notes.push(format!(
            "{} serves one sequence at a time: {} users share it",
            engine.name, spec.users
        ));
    }
    let decode = decode_at(spec, machine, engine, spec.users);
    let capacity = capacity(spec, machine, engine, sizing);
    if let (Some(_), Some(how)) = (&capacity, &engine.concurrency) {
        notes.push(format!("concurrent users: {how}"));
    }
    LlmEstimate {
        fits,
        memory: mem,
        decode_tok_s: decode.map(|d| d.0),
        aggregate_tok_s: decode.map(|d| d.1),
        prefill_tok_s,
        prefill_prompt: prompt,
        time_to_first_token_s: prefill_tok_s.map(|p| f64::from(prompt) / p),
        bound: decode.map_or(Bound::Unknown, |d| d.2),
        bytes_per_token,
        capacity,
        assumptions: notes,
    }
}

/// The workload's model as the estimator sees it: the catalog's shape, else the family-typical one.
pub fn spec_for(catalog: &Workloads, model: &Model, bits: f64, w: &Workload) -> LlmSpec {
    let shape = super::shape::architecture(catalog, model);
    LlmSpec {
        params_b: model.params_b,
        active_params_b: model.active_b(),
        dense_params_b: model.dense_params_b.unwrap_or(0.0),
        dense_active_params_b: model.dense_active_params_b.unwrap_or(0.0),
        dense_bits: model.dense_bits.unwrap_or(16.0),
        bits,
        layers: shape.layers,
        kv_heads: shape.kv_heads,
        head_dim: shape.head_dim,
        heads: shape.heads,
        moe: model.moe().or(shape.moe),
        sliding_window: shape.sliding_window,
        full_attention_every: shape.full_attention_every,
        context: w.context.unwrap_or(4096),
        users: w.users,
        kv_bits: 16.0,
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
            hbm: false,
            gpu: None,
            memory_gb: Some(available),
            metal_ceiling_gb: None,
            tflops_f16: Some(100.0),
            tflops_int8: Some(400.0),
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

    fn path(peak: f64) -> KernelPath {
        KernelPath {
            quant: "f16".into(),
            bits: 16.0,
            gemm: Compute::F16,
            gemm_eff: 1.0,
            peak_tflops: Some(peak),
            unit: "FP16/BF16".into(),
            notes: vec![],
        }
    }

    fn engine(batching: bool) -> EngineEff {
        EngineEff {
            name: "e".into(),
            bandwidth_eff: 1.0,
            compute_eff: 1.0,
            attention_eff: 1.0,
            overhead_ms: 0.0,
            prefill_overhead_ms: 0.0,
            batching,
            prefill_chunk: 512,
            concurrency: None,
            path: path(100.0),
            moe_gemm: None,
            fallback: None,
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
            layers: 32,
            kv_heads: 8,
            head_dim: 128,
            heads: 32,
            moe: None,
            sliding_window: None,
            full_attention_every: None,
            context: 8192,
            users,
            kv_bits: 16.0,
        }
    }

    #[test]
    fn hand_computed_8b_fp16() {
        // 8 B × 2 bytes = 16e9 bytes of weights, 14.9 GB as memory is counted (GiB); KV: 2 × 32 × 8 ×
        // 128 × 2 B = 131072 B per token, 8192 tokens = 2^30 B = 1 GB.
        let spec = llama8b(16.0, 1);
        assert_eq!(spec.kv_bytes(1.0), 131_072.0);
        let e = estimate(&spec, &machine(273.0, 115.0), &engine(false));
        assert!((e.memory.weights_gb - 16e9 / BYTES_PER_GB).abs() < 1e-9);
        assert!((e.memory.kv_cache_gb - 1.0).abs() < 1e-9);
        // Per token: 16 GB + 4096 × 131072 B = 16.537 GB; at 273 GB/s: 16.5 tok/s — never 120.
        let decode = e.decode_tok_s.unwrap();
        assert!((decode - 273.0 / 16.536870912).abs() < 1e-6, "{decode}");
        assert_eq!(e.bound, Bound::MemoryBandwidth);
        // Prefill of one 512-token chunk, no context yet: 100 TFLOPS / 16 GFLOP per token = 6250 tok/s,
        // slowed by attention: 4 × 32 heads × 128 × 32 layers × 256 tokens on average = 134 MFLOP.
        let p = prefill(&spec, &machine(273.0, 115.0), &engine(false), 512, 0, 512).unwrap();
        let want = 1.0 / (16e9 / 100e12 + 4.0 * 32.0 * 128.0 * 32.0 * 256.0 / 100e12);
        assert!((p - want).abs() < 1e-6, "{p} vs {want}");
    }

    #[test]
    fn attention_slows_long_prompts_and_sliding_windows_cap_it() {
        let m = machine(273.0, 115.0);
        let spec = llama8b(16.0, 1);
        let short = prefill(&spec, &m, &engine(false), 512, 0, 512).unwrap();
        let long = prefill(&spec, &m, &engine(false), 32_768, 0, 512).unwrap();
        assert!(long < short * 0.8, "{long} vs {short}");
        let windowed = LlmSpec {
            sliding_window: Some(1024),
            full_attention_every: Some(6),
            ..spec.clone()
        };
        let long_windowed = prefill(&windowed, &m, &engine(false), 32_768, 0, 512).unwrap();
        assert!(long_windowed > long);
        // 5 of 6 layers keep 1,024 tokens: the cache at 32 k tokens is far below the full one.
        assert!(windowed.kv_bytes(32_768.0) < spec.kv_bytes(32_768.0) * 0.3);
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
            layers: 36,
            kv_heads: 8,
            head_dim: 64,
            heads: 64,
            moe: Some((128, 4)),
            sliding_window: Some(128),
            full_attention_every: Some(2),
            context: 2,
            users: 1,
            kv_bits: 16.0,
        };
        let e = estimate(&spec, &machine(273.0, 115.0), &engine(false));
        let want = 3.58 * 4.25 / 8.0 + 1.55 * 8.5 / 8.0;
        assert!(
            (e.bytes_per_token / 1e9 - want).abs() < 0.02,
            "{}",
            e.bytes_per_token
        );
        let weights = (114.7 * 4.25 / 8.0 + 2.13 * 8.5 / 8.0) * 1e9 / BYTES_PER_GB;
        assert!((e.memory.weights_gb - weights).abs() < 1e-9);
        // A batch of 64 sequences touches many of the 128 experts: far more bytes than one token, fewer
        // than uniform routing would (real routers favour some experts).
        assert!(weights_read(&spec, 64.0) > 4.0 * weights_read(&spec, 1.0));
        let uniform = 128.0 * (1.0 - (1.0 - 4.0 / 128.0_f64).powi(64));
        assert!(distinct_experts(128, 4, 64.0) < uniform);
        assert!(weights_read(&spec, 10_000.0) / BYTES_PER_GB < e.memory.weights_gb);
    }

    #[test]
    fn distinct_experts_grow_with_the_batch_up_to_all_of_them() {
        assert!((distinct_experts(128, 4, 1.0) - 4.0).abs() < 1e-6);
        let mut last = 0.0;
        for t in [1.0, 2.0, 8.0, 64.0, 512.0, 1e6] {
            let d = distinct_experts(128, 4, t);
            assert!(d >= last - 1e-9 && d <= 128.0 + 1e-9, "{t}: {d}");
            last = d;
        }
        assert!(last > 127.0, "{last}");
        // Each expert's probability is capped at 1: k = e means every expert, every token.
        assert!((distinct_experts(8, 8, 1.0) - 8.0).abs() < 1e-6);
    }

    #[test]
    fn capacity_counts_prefill_and_finds_the_users_at_a_target() {
        let spec = llama8b(16.0, 1);
        let m = machine(3350.0, 76.0);
        let plain = capacity(&spec, &m, &engine(true), Sizing::default()).unwrap();
        let served = capacity(
            &spec,
            &m,
            &engine(true),
            Sizing {
                requests: Some(Requests {
                    prompt: 4096,
                    output: 256,
                }),
                target_tok_s: Some(20.0),
            },
        )
        .unwrap();
        // Sequences of 4,352 tokens instead of 8,192: more fit.
        assert!(served.max_sequences > plain.max_sequences);
        assert_eq!(served.context, 4352);
        // Each request's 4,096-token prefill costs throughput and sets the time to the first token.
        assert!(served.aggregate_tok_s[&16] < plain.aggregate_tok_s[&16]);
        assert!(served.time_to_first_token_s[&16] > 0.0);
        let users = served.users_at_target.unwrap();
        assert!(users >= 1 && users <= served.max_sequences);
        let (p, ..) = serving_at(
            &LlmSpec {
                context: 4352,
                ..spec.clone()
            },
            &m,
            &engine(true),
            users,
            Requests {
                prompt: 4096,
                output: 256,
            },
        )
        .unwrap();
        assert!(p >= 20.0);
        if users < served.max_sequences {
            let (q, ..) = serving_at(
                &LlmSpec {
                    context: 4352,
                    ..spec.clone()
                },
                &m,
                &engine(true),
                users + 1,
                Requests {
                    prompt: 4096,
                    output: 256,
                },
            )
            .unwrap();
            assert!(q < 20.0);
        }
        assert_eq!(served.ceiling, Ceiling::KvMemory);
    }

    #[test]
    fn too_big_still_has_a_speed() {
        let e = estimate(&llama8b(16.0, 1), &machine(1000.0, 12.0), &engine(false));
        assert_eq!(e.fits, Some(false));
        assert!(e.decode_tok_s.is_some());
        assert_eq!(e.capacity.as_ref().map(|c| c.max_sequences), Some(0));
    }

    #[test]
    fn batching_shares_the_weight_read() {
        let solo = estimate(&llama8b(16.0, 20), &machine(3350.0, 76.0), &engine(false));
        let batched = estimate(&llama8b(16.0, 20), &machine(3350.0, 76.0), &engine(true));
        assert!(batched.aggregate_tok_s.unwrap() > 5.0 * solo.aggregate_tok_s.unwrap());
    }

    #[test]
    fn capacity_counts_sequences_and_decodes_up_to_them() {
        // 76 GB: 14.9 GB weights + 1.3 GB runtime leave 59.8 GB = 59 sequences of 8,192 tokens (1 GB).
        let spec = llama8b(16.0, 1);
        let c = capacity(
            &spec,
            &machine(3350.0, 76.0),
            &engine(true),
            Sizing::default(),
        )
        .unwrap();
        assert_eq!(c.max_sequences, 59);
        assert_eq!(
            c.per_user_tok_s.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 4, 8, 16, 32, 59]
        );
        // More users: each slower, all together faster.
        let (p1, p16) = (c.per_user_tok_s[&1], c.per_user_tok_s[&16]);
        assert!(p16 < p1 && c.aggregate_tok_s[&16] > 8.0 * c.aggregate_tok_s[&1]);
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
                                let d = e.decode_tok_s.expect("a speed, fit or not");
                                assert!(
                                    d <= bw * 1e9 / e.bytes_per_token + 1e-9,
                                    "decode {d} beats bandwidth"
                                );
                                let faster =
                                    estimate(&spec, &machine(bw * 2.0, avail), &engine(batching));
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
