//! `matrix/workloads.yaml`: quantization formats, model architectures, engines with their measured
//! efficiencies, the workloads people ask about, and the published measurements the estimator is
//! calibrated against. Loaded and cross-checked like the software matrix: every problem, with its place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::yaml::{self, from_node, Loc, Node, Problem, Problems};

pub const WORKLOADS_SCHEMA: &str = "mlcompat.workloads/1";

#[derive(Debug, Clone, Default)]
pub struct Workloads {
    /// What an ad-hoc `estimate` counts as good and usable decode speed per user.
    pub interactive: Interactive,
    pub quants: Vec<Quant>,
    pub models: Vec<Model>,
    pub engines: Vec<Engine>,
    pub workloads: Vec<Workload>,
    pub calibration: Vec<Calibration>,
}

/// tok/s per user for an interactive chat: ✅ from `good`, ⚠️ from `usable`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interactive {
    pub good: f64,
    pub usable: f64,
    pub source: String,
}

impl Default for Interactive {
    fn default() -> Self {
        Interactive {
            good: 20.0,
            usable: 8.0,
            source: String::new(),
        }
    }
}

/// The precision the matrix math runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compute {
    F32,
    F16,
    Fp8,
    Int8,
    Fp4,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quant {
    pub id: String,
    pub name: String,
    pub bits: f64,
    pub compute: Compute,
    /// Other names people type for it (`Q4_K_M` and `q4-k-m` match `q4_k_m` without one).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Names this quantization shares with others (`fp4`: NVFP4 and MXFP4): typed alone they are an
    /// ambiguity to list, not an answer.
    #[serde(default)]
    pub shared_names: Vec<String>,
    /// The bits per weight are chosen when quantizing (EXL2, EXL3: `exl3-4.0bpw`); `bits` is the usual one.
    #[serde(default)]
    pub variable_bits: bool,
    pub source: String,
}

/// What a model is: `estimate` sizes language models only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A decoder that generates tokens over a KV cache.
    #[default]
    Llm,
    /// An encoder that turns text into vectors (prefill only).
    Embedding,
    /// Speech-to-text.
    Speech,
    /// Text-to-speech.
    Tts,
    /// Image generation.
    Image,
    /// Not a neural network: a working set of numbers.
    Simulation,
}

impl ModelKind {
    pub fn text(self) -> &'static str {
        match self {
            ModelKind::Llm => "a language model",
            ModelKind::Embedding => "an embedding model",
            ModelKind::Speech => "a speech-to-text model",
            ModelKind::Tts => "a text-to-speech model",
            ModelKind::Image => "an image model",
            ModelKind::Simulation => "a simulation working set",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub params_b: f64,
    pub active_params_b: Option<f64>,
    pub layers: Option<u32>,
    pub kv_heads: Option<u32>,
    pub head_dim: Option<u32>,
    /// Parameters the quantization leaves at higher precision (gpt-oss: attention, router, embeddings
    /// beside MXFP4 experts), how many of them each token reads, and their bits (default 16).
    pub dense_params_b: Option<f64>,
    pub dense_active_params_b: Option<f64>,
    pub dense_bits: Option<f64>,
    #[serde(default)]
    pub kind: ModelKind,
    /// Query heads (attention FLOPs grow with heads × head size × context).
    pub heads: Option<u32>,
    /// A mixture of experts: experts per layer, and how many each token uses.
    pub experts: Option<u32>,
    pub experts_per_token: Option<u32>,
    /// Layers that attend to the last `sliding_window` tokens only; with `full_attention_every: N`, one
    /// layer in N attends to everything (gpt-oss: 2, Gemma 3: 6), without it every layer slides.
    pub sliding_window: Option<u32>,
    pub full_attention_every: Option<u32>,
    /// Whether the architecture guess may take this shape for a model given by size only (false for
    /// shapes current families no longer use, such as multi-head attention without grouped KV heads).
    #[serde(default = "yes")]
    pub guess: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The quantization its makers release it in (gpt-oss: mxfp4, DeepSeek V3: fp8), the one `estimate
    /// --model` assumes when no `--quant` is given; BF16 when absent.
    pub release_quant: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub source: String,
}

impl Model {
    pub fn active_b(&self) -> f64 {
        self.active_params_b.unwrap_or(self.params_b)
    }

    /// A mixture of experts: (experts per layer, experts per token).
    pub fn moe(&self) -> Option<(u32, u32)> {
        match (self.experts, self.experts_per_token) {
            (Some(e), Some(k)) if k > 0 && k < e => Some((e, k)),
            _ => None,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// `nvidia`, `apple`, `amd`, `intel` or `cpu`.
    pub vendor: String,
    /// `hbm`: applies only to GPUs with HBM (data-center parts), before the vendor's general entry.
    pub memory: Option<String>,
    pub bandwidth_eff: f64,
    pub compute_eff: f64,
    pub overhead_ms: f64,
    /// Attention's share of the dense peak in prefill (default: `compute_eff`).
    pub attention_eff: Option<f64>,
    /// Fixed time a prefill takes besides its matrix math (graph building, the first step), ms.
    #[serde(default)]
    pub prefill_overhead_ms: f64,
    /// Formats whose matrix math runs on another path than the quantization's own precision (llama.cpp's
    /// int8 MMQ kernels for GGUF quants on NVIDIA), with that path's efficiency.
    #[serde(default)]
    pub kernels: Vec<Kernel>,
    /// How far below a dense GEMM a mixture's expert GEMMs fall on this backend, fitted where measured;
    /// absent, an expert's GEMM counts as a dense one over the tokens it sees.
    pub moe_gemm: Option<MoeGemm>,
    /// Paths that run here on a slow fallback kernel, with that kernel's efficiencies.
    #[serde(default)]
    pub fallbacks: Vec<Fallback>,
    pub source: String,
}

/// Expert GEMMs reach `at_one_token` × tokens-per-expert^`exponent` of the dense efficiency (at most all
/// of it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoeGemm {
    pub at_one_token: f64,
    pub exponent: f64,
}

/// A slow path: on the GPUs named (every word of one of `gpus` in the machine's GPU name), for the
/// quantizations listed (all when empty), the engine runs a fallback kernel reaching these efficiencies;
/// `why` says so in the estimate and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    pub gpus: Vec<String>,
    #[serde(default)]
    pub quants: Vec<String>,
    pub bandwidth_eff: f64,
    pub compute_eff: f64,
    pub why: String,
    pub source: String,
}

/// A kernel path: these quantizations multiply at `compute` precision, reaching `eff` of its dense peak.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    pub quants: Vec<String>,
    pub compute: Compute,
    pub eff: f64,
    /// What the path is, in words (shown in the assumptions).
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    pub id: String,
    pub name: String,
    /// The software row that must not fail on the machine.
    pub software: String,
    #[serde(default)]
    pub batching: bool,
    #[serde(default)]
    pub fp4_tensor_cores: bool,
    #[serde(default)]
    pub fp8_tensor_cores: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Tokens per prefill step (llama.cpp's n_ubatch, vLLM's max_num_batched_tokens): the GEMM size, and
    /// with a mixture of experts the tokens each expert sees.
    pub prefill_chunk: Option<u32>,
    /// The quantizations it loads as they are (empty: all). One it does not load runs as `instead` says,
    /// or not at all.
    #[serde(default)]
    pub loads: Vec<String>,
    #[serde(default)]
    pub instead: BTreeMap<String, String>,
    /// Quantizations it runs only on GPUs that compute them natively (TensorRT-LLM's FP8 and NVFP4);
    /// elsewhere an engine dequantizes them to BF16.
    #[serde(default)]
    pub needs_tensor_cores: Vec<String>,
    /// Where `loads`, `instead` and `needs_tensor_cores` come from.
    pub formats_source: Option<String>,
    /// How it serves several users at once, in words (shown with the serving capacity).
    pub concurrency: Option<String>,
    pub backends: Vec<Backend>,
}

impl Engine {
    /// The efficiencies for a machine: an entry for its memory kind (`hbm`) first, then its vendor's.
    pub fn backend(&self, vendor: &str) -> Option<&Backend> {
        self.backend_for(vendor, false)
    }

    pub fn backend_for(&self, vendor: &str, hbm: bool) -> Option<&Backend> {
        let of_vendor = || self.backends.iter().filter(move |b| b.vendor == vendor);
        of_vendor()
            .find(|b| hbm && b.memory.as_deref() == Some("hbm"))
            .or_else(|| of_vendor().find(|b| b.memory.is_none()))
    }

    /// Whether it loads `quant` as it is.
    pub fn loads(&self, quant: &str) -> bool {
        self.loads.is_empty() || self.loads.iter().any(|q| q == quant)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Chat,
    Serve,
    Lora,
    Train,
    Image,
    Speech,
    Hpc,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub model: String,
    pub quant: String,
    #[serde(default = "one")]
    pub users: u32,
    pub context: Option<u32>,
    pub engines: Vec<String>,
    /// ✅ bound: tok/s per user, images/min, or hours (training: at most).
    pub good: f64,
    /// ⚠️ bound.
    pub usable: f64,
    pub tokens_m: Option<f64>,
    pub seq_len: Option<u32>,
    pub batch: Option<u32>,
    pub trainable_params_m: Option<f64>,
    pub steps: Option<u32>,
    pub tflop_per_step: Option<f64>,
    #[serde(default)]
    pub realtime_parts: Vec<String>,
    pub notes: Option<String>,
    pub source: Option<String>,
}

/// Ids, names and aliases of one list must stay distinct once typed loosely (`name_key`).
fn distinct_names<'a>(
    what: &str,
    items: impl Iterator<Item = (&'a str, Option<&'a str>, &'a Vec<String>, Loc)>,
    problems: &mut Vec<Problem>,
) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (id, name, aliases, loc) in items {
        let mut keys: Vec<String> = std::iter::once(id)
            .chain(name)
            .chain(aliases.iter().map(String::as_str))
            .map(name_key)
            .collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            match seen.get(key.as_str()) {
                Some(other) if *other != id => problems.push(Problem::at(
                    loc,
                    format!("{what} `{id}`: the name `{key}` also names `{other}`"),
                )),
                _ => {
                    seen.insert(key, id);
                }
            }
        }
    }
}

fn strip<T>(v: Vec<(T, Loc)>) -> Vec<T> {
    v.into_iter().map(|(x, _)| x).collect()
}

fn one() -> u32 {
    1
}

/// Which half of the calibration a row belongs to: the efficiencies were fitted on `fit` rows only;
/// `held-out` rows come from sources no figure was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Set {
    Fit,
    HeldOut,
}

impl Set {
    pub fn text(self) -> &'static str {
        match self {
            Set::Fit => "fit",
            Set::HeldOut => "held-out",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub profile: String,
    pub engine: String,
    pub model: String,
    pub quant: String,
    pub set: Set,
    /// Bits per weight of the file measured, where its size says (GGUF mixes vary by model).
    pub bits: Option<f64>,
    /// Tokens already in the cache before the test (llama-bench `-d`).
    pub depth: Option<u32>,
    /// Tokens generated in the decode test (tg128: 128); the cache holds `depth` + half of them on average.
    pub context: Option<u32>,
    /// Prompt tokens of the prefill test (pp512: 512).
    pub prompt: Option<u32>,
    /// Tokens per prefill step in the test (llama-bench `-ub`), if not the engine's default.
    pub ubatch: Option<u32>,
    /// Concurrent sequences in the decode test (default 1).
    pub users: Option<u32>,
    /// Decode speed of one sequence.
    pub decode_tok_s: Option<f64>,
    /// Decode speed of all `users` sequences together (batched benchmarks).
    pub aggregate_tok_s: Option<f64>,
    pub prefill_tok_s: Option<f64>,
    /// Serving benchmarks: prompt and output tokens per request, output tok/s of all users together
    /// (`aggregate_tok_s`) or prompt + output tok/s (`total_tok_s`), mean time to first token.
    pub input_len: Option<f64>,
    pub output_len: Option<f64>,
    pub total_tok_s: Option<f64>,
    pub ttft_ms: Option<f64>,
    /// What the engine ran on where the vendor has several (`rocm`, `vulkan`), and the build.
    pub backend: Option<String>,
    pub engine_version: Option<String>,
    /// When the source was published, and when it was collected here (rows collected after the
    /// efficiencies were fitted are held out as whole sources).
    pub published: Option<String>,
    pub collected: Option<String>,
    pub notes: Option<String>,
    pub source: String,
}

impl Calibration {
    /// The source's address: rows that share it are one source, and must share a set.
    pub fn source_url(&self) -> &str {
        self.source.split_whitespace().next().unwrap_or_default()
    }
}

pub use super::names::name_key;
use super::names::{by_key, by_words, words, Lookup};

/// A model found by name, and the quantization the name carries (`…-AWQ`, `…:q4_K_M`), with the bits a
/// variable-bit format's name gives.
#[derive(Debug, Clone, Copy)]
pub struct ModelName<'a> {
    pub model: &'a Model,
    pub quant: Option<(&'a Quant, Option<f64>)>,
}

/// A quantization found by name, with the bits its name gives (`exl3-3.5bpw`).
pub type QuantLookup<'a> = Lookup<(&'a Quant, Option<f64>)>;

/// Parts of a model's repo or file name that say nothing about which model it is.
const MODEL_NOISE: &[&str] = &[
    "instruct",
    "chat",
    "it",
    "hf",
    "gguf",
    "mlx",
    "base",
    "latest",
    "dynamic",
    "ud",
    "community",
    "imatrix",
    "imat",
    "i1",
    "pt",
    "unsloth",
    "original",
];

fn quant_names(q: &Quant) -> Vec<&str> {
    let mut n = vec![q.id.as_str(), q.name.as_str()];
    n.extend(q.aliases.iter().map(String::as_str));
    n
}

fn shared_names(q: &Quant) -> Vec<&str> {
    q.shared_names.iter().map(String::as_str).collect()
}

fn model_names(m: &Model) -> Vec<&str> {
    let mut n = vec![m.id.as_str(), m.name.as_str()];
    n.extend(m.aliases.iter().map(String::as_str));
    n
}

fn engine_names(e: &Engine) -> Vec<&str> {
    let mut n = vec![e.id.as_str(), e.name.as_str()];
    n.extend(e.aliases.iter().map(String::as_str));
    n
}

/// `exl3-4.0bpw` → (`exl3`, 4.0): a format name and the bits per weight written after it.
fn bits_per_weight(lower: &str) -> Option<(String, f64)> {
    let at = lower.find("bpw")?;
    let before = lower[..at].trim_end_matches([' ', '-', '_']);
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || *c == '.')
        .last()
        .map(|(i, _)| i)?;
    let bits: f64 = before[start..].parse().ok()?;
    let family = format!("{}{}", &before[..start], &lower[at + 3..]);
    (bits.is_finite() && (1.0..=16.0).contains(&bits)).then_some((family, bits))
}

/// `Q4_K_XL`, `IQ2_KS`: a GGUF quantization name the catalog does not list (Unsloth's dynamic mixes and
/// the like). Part of a file's name, not of the model's: dropped, and the format left to the default.
fn looks_like_gguf_quant(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    let rest = lower.strip_prefix("iq").or_else(|| lower.strip_prefix('q'));
    rest.is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()) && r.contains('_'))
}

impl Workloads {
    pub fn quant(&self, id: &str) -> Option<&Quant> {
        self.quants.iter().find(|q| q.id == id)
    }
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }
    pub fn engine(&self, id: &str) -> Option<&Engine> {
        self.engines.iter().find(|e| e.id == id)
    }
    /// A quantization as typed (`Q4_K_M`, `q4-k-m`, `AWQ`, `4bit`, `GGUF Q8_0`, `exl3-4.0bpw`).
    pub fn find_quant(&self, typed: &str) -> Lookup<&Quant> {
        self.find_quant_bits(typed).map_found(|(q, _)| q)
    }

    /// A quantization as typed, with the bits per weight the name gives (`exl2-4.65bpw`: 4.65).
    pub fn find_quant_bits(&self, typed: &str) -> QuantLookup<'_> {
        if let Some(q) = self.quant(typed) {
            return QuantLookup::Found((q, None));
        }
        let names = quant_names;
        let found = by_key(typed, &self.quants, names);
        if !matches!(found, Lookup::Unknown) {
            return found.map_found(|q| (q, None));
        }
        let shared = by_key(typed, &self.quants, shared_names);
        if let Lookup::Ambiguous(_) | Lookup::Found(_) = shared {
            return shared.map_found(|q| (q, None));
        }
        // `GGUF Q4_K_M`, `Q4_K_M.gguf`: the container says nothing about the quantization.
        let lower = typed.to_ascii_lowercase();
        let without_gguf = lower.replace("gguf", "");
        if without_gguf != lower && !name_key(&without_gguf).is_empty() {
            return self.find_quant_bits(&without_gguf);
        }
        // `exl3-4.0bpw`, `EXL2 6.5 bpw`: a format whose bits are chosen when quantizing.
        if let Some((family, bits)) = bits_per_weight(&lower) {
            return match by_key(&family, &self.quants, names) {
                Lookup::Found(q) if q.variable_bits => QuantLookup::Found((q, Some(bits))),
                _ => Lookup::Unknown,
            };
        }
        Lookup::Unknown
    }

    /// An engine as typed: id, name, alias, program name (`mlx`, `llama-server`, `trt-llm`, `vLLM`).
    pub fn find_engine(&self, typed: &str) -> Lookup<&Engine> {
        if let Some(e) = self.engine(typed) {
            return Lookup::Found(e);
        }
        by_key(typed, &self.engines, engine_names)
    }

    /// A model as typed: its id or an alias (`gpt-oss:120b`), a Hugging Face repo id
    /// (`meta-llama/Llama-3.1-8B-Instruct`, `mlx-community/Qwen3-30B-A3B-4bit`, `hf.co/…-GGUF:Q4_K_M`), an
    /// Ollama tag (`llama3.1:8b-instruct-q4_K_M`), or its words (`llama 3.3 70b`). A quantization the
    /// name carries comes back with it.
    pub fn find_model(&self, typed: &str) -> Lookup<ModelName<'_>> {
        let names = model_names;
        let plain = |m| ModelName {
            model: m,
            quant: None,
        };
        if let Some(m) = self.model(typed.trim()) {
            return Lookup::Found(plain(m));
        }
        if let found @ (Lookup::Found(_) | Lookup::Ambiguous(_)) =
            by_key(typed, &self.models, names)
        {
            return found.map_found(plain);
        }
        let mut rest = typed.trim();
        for prefix in [
            "https://",
            "http://",
            "www.",
            "huggingface.co/",
            "hf.co/",
            "ollama.com/library/",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        // bitsandbytes' 4-bit (NF4) is its own format, not MLX's `4bit`.
        let rest = rest.to_ascii_lowercase().replace("bnb-4bit", "bnb4bit");
        // Drop the organisation (`meta-llama/`, `unsloth/`) and split an Ollama or hf.co tag off.
        let (repo, tag) = {
            let last = rest.rsplit('/').next().unwrap_or(&rest);
            match last.split_once(':') {
                Some((r, t)) => (r, t),
                None => (last, ""),
            }
        };
        if let found @ (Lookup::Found(_) | Lookup::Ambiguous(_)) = by_key(repo, &self.models, names)
        {
            if tag.is_empty() {
                return found.map_found(plain);
            }
        }
        let mut quant: Option<(&Quant, Option<f64>)> = None;
        let mut kept: Vec<&str> = Vec::new();
        let segments = repo.split(['-', ' ']).chain(tag.split(['-', ' ']));
        for (i, seg) in segments.enumerate() {
            let key = name_key(seg);
            let version = seg.starts_with(['v', 'V'])
                && seg[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
                && seg.len() > 1;
            if key.is_empty()
                || version
                || MODEL_NOISE.contains(&key.as_str())
                || (i == 0 && key == "meta")
            {
                continue;
            }
            if let Lookup::Found(q) = self.find_quant_bits(seg) {
                quant = Some(q);
                continue;
            }
            if looks_like_gguf_quant(seg) {
                continue;
            }
            kept.push(seg);
        }
        let typed_words: Vec<String> = kept.iter().flat_map(|s| words(s)).collect();
        by_words(&typed_words, &self.models, names).map_found(|m| ModelName { model: m, quant })
    }
    /// A workload by id, its name's key (`SDXL`), or the start of its id (`chat-70b`, `serve`): a start
    /// several ids share is an ambiguity.
    pub fn find_workload(&self, typed: &str) -> Lookup<&Workload> {
        if let Some(w) = self.workload(typed.trim()) {
            return Lookup::Found(w);
        }
        let by_name = by_key(typed, &self.workloads, |w| {
            vec![w.id.as_str(), w.name.as_str()]
        });
        if !matches!(by_name, Lookup::Unknown) {
            return by_name;
        }
        let key = name_key(typed);
        if key.is_empty() {
            return Lookup::Unknown;
        }
        let starts: Vec<&Workload> = self
            .workloads
            .iter()
            .filter(|w| name_key(&w.id).starts_with(&key))
            .collect();
        match starts.as_slice() {
            [] => Lookup::Unknown,
            [one] => Lookup::Found(one),
            _ => Lookup::Ambiguous(starts),
        }
    }

    pub fn workload(&self, id: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.id == id)
    }
}

/// Reads one list of the file item by item, so one bad item does not hide the others.
fn list<T: serde::de::DeserializeOwned>(
    root: &Node,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(T, Loc)> {
    let Some(items) = root.get(key).and_then(Node::as_seq) else {
        problems.push(Problem::at(root.loc, format!("expected a `{key}:` list")));
        return vec![];
    };
    let collected = Problems::default();
    let out = items
        .iter()
        .filter_map(|n| from_node::<T>(n, &collected).map(|v| (v, n.loc)))
        .collect();
    problems.extend(collected.into_vec());
    out
}

/// Parses and cross-checks `workloads.yaml`; `software` and `profiles` are the ids references may name.
pub(crate) fn load(
    text: &str,
    software: &[&str],
    profiles: &[&str],
    problems: &mut Vec<Problem>,
) -> Workloads {
    let root = match yaml::parse(text) {
        Ok(r) => r,
        Err(p) => {
            problems.push(p);
            return Workloads::default();
        }
    };
    for (key, _) in root.as_map().unwrap_or_default() {
        let k = key.as_str().unwrap_or_default();
        if ![
            "schema",
            "interactive",
            "quants",
            "models",
            "engines",
            "workloads",
            "calibration",
        ]
        .contains(&k)
        {
            problems.push(Problem::at(key.loc, format!("unknown key `{k}` (expected schema, interactive, quants, models, engines, workloads, calibration)")));
        }
    }
    match root.get("schema").and_then(Node::as_str) {
        Some(WORKLOADS_SCHEMA) => {}
        other => problems.push(Problem::at(
            root.get("schema").map_or(root.loc, |n| n.loc),
            format!(
                "schema is `{}`, expected `{WORKLOADS_SCHEMA}`",
                other.unwrap_or("missing")
            ),
        )),
    }
    let interactive = match root.get("interactive") {
        Some(node) => {
            let collected = Problems::default();
            let value = from_node::<Interactive>(node, &collected);
            problems.extend(collected.into_vec());
            match value {
                Some(i) if i.good > i.usable && i.usable > 0.0 => i,
                Some(_) => {
                    problems.push(Problem::at(node.loc, "interactive: need good > usable > 0"));
                    Interactive::default()
                }
                None => Interactive::default(),
            }
        }
        None => {
            problems.push(Problem::at(
                root.loc,
                "expected an `interactive:` block (good, usable, source)",
            ));
            Interactive::default()
        }
    };
    let quants: Vec<(Quant, Loc)> = list(&root, "quants", problems);
    let models: Vec<(Model, Loc)> = list(&root, "models", problems);
    let engines: Vec<(Engine, Loc)> = list(&root, "engines", problems);
    let workloads: Vec<(Workload, Loc)> = list(&root, "workloads", problems);
    let calibration: Vec<(Calibration, Loc)> = list(&root, "calibration", problems);

    let mut ids: BTreeMap<(&str, String), Loc> = BTreeMap::new();
    let mut unique = |kind: &'static str, id: &str, loc: Loc, problems: &mut Vec<Problem>| {
        if let Some(first) = ids.insert((kind, id.to_string()), loc) {
            problems.push(Problem::at(
                loc,
                format!("duplicate {kind} id `{id}` (first at line {})", first.line),
            ));
        }
    };
    let known = |list: &[&str], what: &str, id: &str, loc: Loc, problems: &mut Vec<Problem>| {
        if !list.contains(&id) {
            problems.push(Problem::at(
                loc,
                format!("unknown {what} `{id}` (known: {})", list.join(", ")),
            ));
        }
    };
    let quant_ids: Vec<&str> = quants.iter().map(|(q, _)| q.id.as_str()).collect();
    let model_ids: Vec<&str> = models.iter().map(|(m, _)| m.id.as_str()).collect();
    let engine_ids: Vec<&str> = engines.iter().map(|(e, _)| e.id.as_str()).collect();
    for (q, loc) in &quants {
        unique("quant", &q.id, *loc, problems);
        if !(q.bits > 0.0 && q.bits <= 64.0) {
            problems.push(Problem::at(
                *loc,
                format!("quant `{}`: bits must be in (0, 64]", q.id),
            ));
        }
    }
    distinct_names(
        "quant",
        quants
            .iter()
            .map(|(q, l)| (q.id.as_str(), None, &q.aliases, *l)),
        problems,
    );
    for (m, loc) in &models {
        unique("model", &m.id, *loc, problems);
        let positive = m.params_b.is_finite() && m.params_b > 0.0;
        if !positive || m.active_b() > m.params_b || m.active_b() <= 0.0 {
            problems.push(Problem::at(
                *loc,
                format!("model `{}`: need 0 < active_params_b <= params_b", m.id),
            ));
        }
        let zero = [m.layers, m.kv_heads, m.head_dim, m.heads, m.sliding_window].contains(&Some(0));
        if zero || m.full_attention_every.is_some_and(|n| n < 2) {
            problems.push(Problem::at(
                *loc,
                format!("model `{}`: layers, heads, head_dim and sliding_window must be above 0, full_attention_every at least 2", m.id),
            ));
        }
        if (m.experts.is_some() || m.experts_per_token.is_some()) && m.moe().is_none() {
            problems.push(Problem::at(
                *loc,
                format!(
                    "model `{}`: a mixture of experts needs experts > experts_per_token > 0",
                    m.id
                ),
            ));
        }
        if let Some(q) = &m.release_quant {
            if !quants.iter().any(|(x, _)| &x.id == q) {
                problems.push(Problem::at(
                    *loc,
                    format!("model `{}`: release_quant `{q}` is not a quant", m.id),
                ));
            }
        }
        if m.moe().is_some() && m.active_params_b.is_none() {
            problems.push(Problem::at(
                *loc,
                format!(
                    "model `{}`: a mixture of experts needs active_params_b",
                    m.id
                ),
            ));
        }
    }
    distinct_names(
        "model",
        models
            .iter()
            .map(|(m, l)| (m.id.as_str(), None, &m.aliases, *l)),
        problems,
    );
    distinct_names(
        "engine",
        engines
            .iter()
            .map(|(e, l)| (e.id.as_str(), Some(e.name.as_str()), &e.aliases, *l)),
        problems,
    );
    for (e, loc) in &engines {
        unique("engine", &e.id, *loc, problems);
        known(software, "software row", &e.software, *loc, problems);
        for b in &e.backends {
            if !["nvidia", "apple", "amd", "intel", "cpu"].contains(&b.vendor.as_str()) {
                problems.push(Problem::at(
                    *loc,
                    format!(
                        "engine `{}`: backend vendor `{}` is not nvidia, apple, amd, intel or cpu",
                        e.id, b.vendor
                    ),
                ));
            }
            let fraction = |x: f64| x > 0.0 && x <= 1.0;
            let kernels_ok = b.kernels.iter().all(|k| fraction(k.eff));
            let fallbacks_ok = b.fallbacks.iter().all(|f| {
                fraction(f.bandwidth_eff)
                    && fraction(f.compute_eff)
                    && !f.gpus.is_empty()
                    && !f.why.trim().is_empty()
            });
            let moe_ok = b.moe_gemm.is_none_or(|m| {
                fraction(m.at_one_token) && m.exponent.is_finite() && m.exponent >= 0.0
            });
            if !fraction(b.bandwidth_eff)
                || !fraction(b.compute_eff)
                || !b.attention_eff.is_none_or(fraction)
                || !kernels_ok
                || !fallbacks_ok
                || !moe_ok
                || b.overhead_ms < 0.0
                || !(b.prefill_overhead_ms.is_finite() && b.prefill_overhead_ms >= 0.0)
            {
                problems.push(Problem::at(
                    *loc,
                    format!(
                        "engine `{}` ({}): efficiencies must be in (0, 1] (kernels, fallbacks and moe_gemm.at_one_token too), overheads and moe_gemm.exponent ≥ 0, a fallback names its GPUs and why",
                        e.id, b.vendor
                    ),
                ));
            }
            for f in &b.fallbacks {
                for q in &f.quants {
                    known(&quant_ids, "quant", q, *loc, problems);
                }
            }
            if b.memory.as_deref().is_some_and(|m| m != "hbm") {
                problems.push(Problem::at(
                    *loc,
                    format!("engine `{}` ({}): memory can only be `hbm`", e.id, b.vendor),
                ));
            }
            for k in &b.kernels {
                for q in &k.quants {
                    known(&quant_ids, "quant", q, *loc, problems);
                }
            }
        }
        for q in e
            .loads
            .iter()
            .chain(e.instead.keys())
            .chain(e.instead.values())
            .chain(&e.needs_tensor_cores)
        {
            known(&quant_ids, "quant", q, *loc, problems);
        }
        for (from, to) in &e.instead {
            if e.loads(from) || !e.loads(to) {
                problems.push(Problem::at(
                    *loc,
                    format!("engine `{}`: instead of `{from}` it must run a format it loads (`{to}` is not one), and `{from}` must not be one", e.id),
                ));
            }
        }
        if e.prefill_chunk == Some(0) {
            problems.push(Problem::at(
                *loc,
                format!("engine `{}`: prefill_chunk must be above 0", e.id),
            ));
        }
    }
    for (w, loc) in &workloads {
        unique("workload", &w.id, *loc, problems);
        known(&model_ids, "model", &w.model, *loc, problems);
        known(&quant_ids, "quant", &w.quant, *loc, problems);
        for e in &w.engines {
            known(&engine_ids, "engine", e, *loc, problems);
        }
        for p in &w.realtime_parts {
            known(&model_ids, "model", p, *loc, problems);
        }
        if w.engines.is_empty() || w.users == 0 {
            problems.push(Problem::at(
                *loc,
                format!("workload `{}` needs engines and at least one user", w.id),
            ));
        }
        let needs = |field: bool, what: &str, problems: &mut Vec<Problem>| {
            if !field {
                problems.push(Problem::at(
                    *loc,
                    format!("workload `{}` ({:?}) needs `{what}`", w.id, w.kind),
                ));
            }
        };
        match w.kind {
            Kind::Lora | Kind::Train => needs(
                w.tokens_m.is_some() && w.seq_len.is_some() && w.batch.is_some(),
                "tokens_m, seq_len and batch",
                problems,
            ),
            Kind::Image => needs(
                w.steps.is_some() && w.tflop_per_step.is_some(),
                "steps and tflop_per_step",
                problems,
            ),
            _ => {}
        }
    }
    let mut sets: BTreeMap<&str, (Set, Loc)> = BTreeMap::new();
    for (c, loc) in &calibration {
        known(profiles, "profile", &c.profile, *loc, problems);
        known(&engine_ids, "engine", &c.engine, *loc, problems);
        known(&model_ids, "model", &c.model, *loc, problems);
        known(&quant_ids, "quant", &c.quant, *loc, problems);
        let measured = [
            c.decode_tok_s,
            c.aggregate_tok_s,
            c.prefill_tok_s,
            c.total_tok_s,
        ];
        if measured.iter().all(Option::is_none)
            || measured
                .iter()
                .flatten()
                .any(|v| !(v.is_finite() && *v > 0.0))
            || (c.decode_tok_s.is_some() && c.aggregate_tok_s.is_some())
            || c.users == Some(0)
            || c.ubatch == Some(0)
            || (c.total_tok_s.is_some() && (c.input_len.is_none() || c.output_len.is_none()))
            || [c.input_len, c.output_len, c.ttft_ms]
                .iter()
                .flatten()
                .any(|v| !(v.is_finite() && *v >= 0.0))
            || c.bits.is_some_and(|b| !(b > 0.0 && b <= 64.0))
        {
            problems.push(Problem::at(
                *loc,
                "calibration row: needs a positive decode_tok_s or aggregate_tok_s (not both), prefill_tok_s or total_tok_s (with input_len and output_len); users and ubatch above 0; bits in (0, 64]",
            ));
        }
        // The split is by source: every row of one source is fitted on, or none is.
        match sets.get(c.source_url()) {
            Some((set, first)) if *set != c.set => problems.push(Problem::at(
                *loc,
                format!(
                    "calibration row is `{}` but the same source is `{}` at line {}: a source is fitted on or held out as a whole",
                    c.set.text(),
                    set.text(),
                    first.line
                ),
            )),
            Some(_) => {}
            None => {
                sets.insert(c.source_url(), (c.set, *loc));
            }
        }
    }
    Workloads {
        interactive,
        quants: strip(quants),
        models: strip(models),
        engines: strip(engines),
        workloads: strip(workloads),
        calibration: strip(calibration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "schema: mlcompat.workloads/1\ninteractive: {good: 20, usable: 8, source: s}\nquants:\n  - {id: f16, name: FP16, bits: 16, compute: f16, aliases: [fp16], source: s}\n  - {id: q8_0, name: Q8_0, bits: 8.5, compute: f16, source: s}\n  - {id: fp8, name: FP8, bits: 8, compute: fp8, source: s}\nworkloads: []\n";

    fn problems_of(rest: &str) -> Vec<String> {
        let mut problems = Vec::new();
        load(&format!("{HEAD}{rest}"), &["sw"], &["p"], &mut problems);
        problems.into_iter().map(|p| p.message).collect()
    }

    #[test]
    fn the_new_fields_are_checked() {
        let all = problems_of(
            "models:\n  - {id: m, name: M, params_b: 30, experts: 8, experts_per_token: 8, layers: 0, source: s}\n  - {id: n, name: N, params_b: 30, experts: 8, experts_per_token: 2, source: s}\nengines:\n  - id: e\n    name: E\n    software: sw\n    aliases: [FP16]\n    loads: [q8_0]\n    instead: {fp8: f16, q9: q8_0}\n    backends:\n      - {vendor: nvidia, memory: gddr, bandwidth_eff: 0.8, compute_eff: 0.5, overhead_ms: 1, kernels: [{quants: [q8_0], compute: int8, eff: 1.5, name: k}], source: s}\n  - {id: f, name: F, software: sw, aliases: [e], backends: []}\ncalibration:\n  - {profile: p, engine: e, model: n, quant: f16, set: fit, decode_tok_s: 10, source: 'https://a x'}\n  - {profile: p, engine: e, model: n, quant: f16, set: held-out, decode_tok_s: 10, aggregate_tok_s: 20, source: 'https://a y'}\n",
        )
        .join("\n");
        for needle in [
            "needs experts > experts_per_token > 0",
            "must be above 0",
            "needs active_params_b",
            "memory can only be `hbm`",
            "efficiencies must be in (0, 1]",
            "unknown quant `q9`",
            "instead of `fp8` it must run a format it loads",
            "the name `e` also names `e`",
            "a source is fitted on or held out as a whole",
            "not both",
        ] {
            assert!(all.contains(needle), "{needle} not in:\n{all}");
        }
    }

    #[test]
    fn release_formats_fallbacks_and_serving_rows_are_checked() {
        let all = problems_of(
            "models:\n  - {id: n, name: N, params_b: 30, release_quant: q3, source: s}\nengines:\n  - id: e\n    name: E\n    software: sw\n    backends:\n      - {vendor: amd, bandwidth_eff: 0.8, compute_eff: 0.5, overhead_ms: 1, moe_gemm: {at_one_token: 2, exponent: 0.2}, fallbacks: [{gpus: [], quants: [q7], bandwidth_eff: 0.1, compute_eff: 0.1, why: w, source: s}], source: s}\ncalibration:\n  - {profile: p, engine: e, model: n, quant: f16, set: fit, total_tok_s: 100, source: 'https://a x'}\n",
        )
        .join("\n");
        for needle in [
            "release_quant `q3` is not a quant",
            "a fallback names its GPUs and why",
            "unknown quant `q7`",
            "total_tok_s (with input_len and output_len)",
        ] {
            assert!(all.contains(needle), "{needle} not in:\n{all}");
        }
    }

    #[test]
    fn names_as_people_type_them() {
        assert_eq!(name_key("Q4_K_M"), "q4km");
        assert_eq!(name_key("llama.cpp"), name_key("llama-cpp"));
        assert_eq!(name_key("TRT-LLM"), "trtllm");
    }
}
