//! The estimator against published measurements (`calibration:` in workloads.yaml). Each row is re-run
//! under the measurement's own conditions (cache depth, tokens generated, prompt, chunk, concurrent
//! sequences) and scored by |log2(estimate / measured)|: 0.15 is 11% off, 0.5 is 41%, 1 is a factor of
//! two. The rows are split by source into the set the efficiencies were fitted on and a held-out set
//! no figure was fitted on; each set reports its median, 90th percentile and worst rows.

use serde::Serialize;

use super::llm::{self, EngineEff, LlmSpec};
use super::machine::MachineView;
use super::path::kernel_path;
use super::shape::architecture;
use crate::matrix::workloads::{Calibration as Row, Set};
use crate::matrix::Matrix;

/// Tokens generated in a decode test that does not say (llama-bench's tg128).
const DEFAULT_GENERATED: u32 = 128;
/// Prompt tokens of a prefill test that does not say (llama-bench's pp512).
const DEFAULT_PROMPT: u32 = 512;
/// Worst rows shown per set.
const WORST: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationRow {
    pub set: Set,
    pub profile: String,
    pub engine: String,
    pub model: String,
    pub quant: String,
    /// The test in llama-bench's words: `tg128 @ d4096`, `pp2048`, `B=8`.
    pub test: String,
    pub measured_decode: Option<f64>,
    pub estimated_decode: Option<f64>,
    /// log2(estimate / measured): +1 is twice the measurement, −1 half of it.
    pub decode_error: Option<f64>,
    pub measured_prefill: Option<f64>,
    pub estimated_prefill: Option<f64>,
    pub prefill_error: Option<f64>,
    pub source: String,
}

/// Median and 90th percentile of |log2(estimate / measured)| over `rows` rows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub rows: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetStats {
    pub set: Set,
    pub sources: usize,
    pub decode: Stats,
    pub prefill: Stats,
    /// Indexes into `rows` of the worst estimates (decode or prefill), worst first.
    pub worst: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub rows: Vec<CalibrationRow>,
    /// The fitting set, then the held-out set.
    pub sets: Vec<SetStats>,
}

impl Calibration {
    pub fn set(&self, set: Set) -> Option<&SetStats> {
        self.sets.iter().find(|s| s.set == set)
    }
}

impl CalibrationRow {
    /// The larger of its two errors, by magnitude.
    pub fn worst_error(&self) -> f64 {
        [self.decode_error, self.prefill_error]
            .iter()
            .flatten()
            .map(|e| e.abs())
            .fold(0.0, f64::max)
    }
}

/// Nearest-rank percentile `q` (0–1) of |values|.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().map(|x| x.abs()).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return None;
    }
    if (q - 0.5).abs() < 1e-12 && v.len() % 2 == 0 {
        return Some((v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0);
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn stats(values: Vec<f64>) -> Stats {
    Stats {
        rows: values.len(),
        median: percentile(&values, 0.5),
        p90: percentile(&values, 0.9),
    }
}

fn test_words(c: &Row) -> String {
    let at = c
        .depth
        .filter(|d| *d > 0)
        .map(|d| format!(" @ d{d}"))
        .unwrap_or_default();
    let mut parts = Vec::new();
    if c.decode_tok_s.is_some() || c.aggregate_tok_s.is_some() {
        let generated = c.context.unwrap_or(DEFAULT_GENERATED);
        parts.push(if generated == 0 {
            format!("tg{at}")
        } else {
            format!("tg{generated}{at}")
        });
    }
    if c.prefill_tok_s.is_some() {
        parts.push(format!("pp{}{at}", c.prompt.unwrap_or(DEFAULT_PROMPT)));
    }
    if let Some(u) = c.users.filter(|u| *u > 1) {
        parts.push(format!("{u} sequences"));
    }
    parts.join(", ")
}

/// One row under its measurement's conditions; `None` where the catalog lacks something it names.
fn run(matrix: &Matrix, c: &Row) -> Option<CalibrationRow> {
    let catalog = &matrix.workloads;
    let profile = matrix.profile(&c.profile).ok()?;
    let model = catalog.model(&c.model)?;
    let quant = catalog.quant(&c.quant)?;
    let engine = catalog.engine(&c.engine)?;
    let machine = MachineView::of(&profile.facts);
    let backend = engine.backend_for(&machine.backend, machine.hbm)?;
    let path = kernel_path(catalog, engine, backend, quant, c.bits, &machine);
    let shape = architecture(catalog, model);
    let users = c.users.unwrap_or(1).max(1);
    let generated = c.context.unwrap_or(DEFAULT_GENERATED);
    let depth = c.depth.unwrap_or(0);
    let (estimated_decode, estimated_prefill) = match path {
        Ok(path) => {
            let spec = LlmSpec {
                params_b: model.params_b,
                active_params_b: model.active_b(),
                dense_params_b: model.dense_params_b.unwrap_or(0.0),
                dense_active_params_b: model.dense_active_params_b.unwrap_or(0.0),
                dense_bits: model.dense_bits.unwrap_or(16.0),
                bits: path.bits,
                layers: shape.layers,
                kv_heads: shape.kv_heads,
                head_dim: shape.head_dim,
                heads: shape.heads,
                moe: model.moe(),
                sliding_window: shape.sliding_window,
                full_attention_every: shape.full_attention_every,
                context: depth + generated,
                users,
                kv_bits: 16.0,
            };
            let eff = EngineEff::new(engine, backend, path);
            let kv_tokens = f64::from(depth) + f64::from(generated) / 2.0;
            let batch = if eff.batching { users } else { 1 };
            let decode = llm::decode_step(&spec, &machine, &eff, batch, kv_tokens).map(|(s, _)| {
                if c.aggregate_tok_s.is_some() {
                    f64::from(batch) / s
                } else if eff.batching {
                    1.0 / s
                } else {
                    1.0 / (s * f64::from(users))
                }
            });
            let chunk = c.ubatch.unwrap_or(eff.prefill_chunk);
            let prompt = c.prompt.unwrap_or(DEFAULT_PROMPT);
            let prefill = llm::prefill(&spec, &machine, &eff, prompt, depth, chunk);
            (decode, prefill)
        }
        Err(_) => (None, None),
    };
    let measured_decode = c.decode_tok_s.or(c.aggregate_tok_s);
    let err = |est: Option<f64>, meas: Option<f64>| match (est, meas) {
        (Some(e), Some(m)) if m > 0.0 && e > 0.0 => Some((e / m).log2()),
        _ => None,
    };
    Some(CalibrationRow {
        set: c.set,
        profile: c.profile.clone(),
        engine: engine.name.clone(),
        model: model.name.clone(),
        quant: quant.id.clone(),
        test: test_words(c),
        measured_decode,
        estimated_decode: measured_decode.and(estimated_decode),
        decode_error: err(estimated_decode, measured_decode),
        measured_prefill: c.prefill_tok_s,
        estimated_prefill: c.prefill_tok_s.and(estimated_prefill),
        prefill_error: err(estimated_prefill, c.prefill_tok_s),
        source: c.source.clone(),
    })
}

pub fn calibrate(matrix: &Matrix) -> Calibration {
    let rows: Vec<CalibrationRow> = matrix
        .workloads
        .calibration
        .iter()
        .filter_map(|c| run(matrix, c))
        .collect();
    let sets = [Set::Fit, Set::HeldOut]
        .into_iter()
        .map(|set| {
            let of_set: Vec<(usize, &CalibrationRow)> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.set == set)
                .collect();
            let mut sources: Vec<&str> = of_set
                .iter()
                .map(|(_, r)| r.source.split_whitespace().next().unwrap_or_default())
                .collect();
            sources.sort_unstable();
            sources.dedup();
            let mut worst: Vec<usize> = of_set.iter().map(|(i, _)| *i).collect();
            worst.sort_by(|a, b| rows[*b].worst_error().total_cmp(&rows[*a].worst_error()));
            worst.truncate(WORST);
            SetStats {
                set,
                sources: sources.len(),
                decode: stats(of_set.iter().filter_map(|(_, r)| r.decode_error).collect()),
                prefill: stats(of_set.iter().filter_map(|(_, r)| r.prefill_error).collect()),
                worst,
            }
        })
        .collect();
    Calibration { rows, sets }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v = [0.1, -0.2, 0.3, -0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        assert_eq!(percentile(&v, 0.5), Some(0.55));
        assert_eq!(percentile(&v, 0.9), Some(0.9));
        assert_eq!(percentile(&[0.3], 0.9), Some(0.3));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[0.1, 0.2, 0.3], 0.5), Some(0.2));
    }
}
