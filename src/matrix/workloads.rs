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
    pub source: String,
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
    pub notes: Option<String>,
    pub source: String,
}

impl Model {
    pub fn active_b(&self) -> f64 {
        self.active_params_b.unwrap_or(self.params_b)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// `nvidia`, `apple`, `amd`, `intel` or `cpu`.
    pub vendor: String,
    pub bandwidth_eff: f64,
    pub compute_eff: f64,
    pub overhead_ms: f64,
    pub source: String,
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
    pub backends: Vec<Backend>,
}

impl Engine {
    pub fn backend(&self, vendor: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.vendor == vendor)
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

fn strip<T>(v: Vec<(T, Loc)>) -> Vec<T> {
    v.into_iter().map(|(x, _)| x).collect()
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub profile: String,
    pub engine: String,
    pub model: String,
    pub quant: String,
    pub context: Option<u32>,
    pub decode_tok_s: Option<f64>,
    pub prefill_tok_s: Option<f64>,
    pub notes: Option<String>,
    pub source: String,
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
    for (m, loc) in &models {
        unique("model", &m.id, *loc, problems);
        let positive = m.params_b.is_finite() && m.params_b > 0.0;
        if !positive || m.active_b() > m.params_b || m.active_b() <= 0.0 {
            problems.push(Problem::at(
                *loc,
                format!("model `{}`: need 0 < active_params_b <= params_b", m.id),
            ));
        }
    }
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
            if !fraction(b.bandwidth_eff) || !fraction(b.compute_eff) || b.overhead_ms < 0.0 {
                problems.push(Problem::at(
                    *loc,
                    format!(
                        "engine `{}` ({}): efficiencies must be in (0, 1], overhead ≥ 0",
                        e.id, b.vendor
                    ),
                ));
            }
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
    for (c, loc) in &calibration {
        known(profiles, "profile", &c.profile, *loc, problems);
        known(&engine_ids, "engine", &c.engine, *loc, problems);
        known(&model_ids, "model", &c.model, *loc, problems);
        known(&quant_ids, "quant", &c.quant, *loc, problems);
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
