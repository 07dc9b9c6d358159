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
    /// Serving throughput (all users together, each request's prefill counted).
    pub measured_capacity: Option<f64>,
    pub estimated_capacity: Option<f64>,
    pub capacity_error: Option<f64>,
    pub collected: Option<String>,
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
    pub capacity: Stats,
    /// Indexes into `rows` of the worst estimates (decode or prefill), worst first.
    pub worst: Vec<usize>,
}

/// One source's errors: a source is fitted on or held out whole.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    pub source: String,
    pub set: Set,
    /// When it was collected here, for sources added after the efficiencies were first fitted.
    pub collected: Option<String>,
    pub decode: Stats,
    pub prefill: Stats,
    pub capacity: Stats,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub rows: Vec<CalibrationRow>,
    /// The fitting set, then the held-out set.
    pub sets: Vec<SetStats>,
    /// The held-out sources collected after the efficiencies were fitted (`collected:`), on their own.
    pub late: Option<SetStats>,
    pub sources: Vec<SourceStats>,
}

impl Calibration {
    pub fn set(&self, set: Set) -> Option<&SetStats> {
        self.sets.iter().find(|s| s.set == set)
    }
}

impl CalibrationRow {
    /// A row's identity, its figures still empty.
    fn of(c: &Row, engine: &str, model: &str, quant: &str, test: String) -> CalibrationRow {
        CalibrationRow {
            set: c.set,
            profile: c.profile.clone(),
            engine: engine.to_string(),
            model: model.to_string(),
            quant: quant.to_string(),
            test,
            measured_decode: None,
            estimated_decode: None,
            decode_error: None,
            measured_prefill: None,
            estimated_prefill: None,
            prefill_error: None,
            measured_capacity: None,
            estimated_capacity: None,
            capacity_error: None,
            collected: c.collected.clone(),
            source: c.source.clone(),
        }
    }

    /// The larger of its errors, by magnitude.
    pub fn worst_error(&self) -> f64 {
        [self.decode_error, self.prefill_error, self.capacity_error]
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
            let eff = EngineEff::new(engine, backend, path, &machine);
            if let (Some(input), Some(output)) = (c.input_len, c.output_len) {
                return serving_row(
                    c, &spec, &machine, &eff, input, output, model, quant, engine,
                );
            }
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
        measured_decode,
        estimated_decode: measured_decode.and(estimated_decode),
        decode_error: err(estimated_decode, measured_decode),
        measured_prefill: c.prefill_tok_s,
        estimated_prefill: c.prefill_tok_s.and(estimated_prefill),
        prefill_error: err(estimated_prefill, c.prefill_tok_s),
        ..CalibrationRow::of(c, &engine.name, &model.name, &quant.id, test_words(c))
    })
}

/// A serving benchmark: requests of `input` prompt and `output` generated tokens at the row's concurrency
/// (all that fit, when it names none), scored on output tok/s of all users (or prompt + output tok/s
/// where that is what the source reports); its time to first token is shown beside it.
#[allow(clippy::too_many_arguments)]
fn serving_row(
    c: &Row,
    spec: &LlmSpec,
    machine: &MachineView,
    eff: &EngineEff,
    input: f64,
    output: f64,
    model: &crate::matrix::workloads::Model,
    quant: &crate::matrix::workloads::Quant,
    engine: &crate::matrix::workloads::Engine,
) -> Option<CalibrationRow> {
    let req = llm::Requests {
        prompt: input.round().max(0.0) as u32,
        output: output.round().max(1.0) as u32,
    };
    let sized = LlmSpec {
        context: req.prompt + req.output,
        ..spec.clone()
    };
    let fit = machine
        .available_gb
        .map_or(1, |a| llm::max_sequences(&sized, a).max(1));
    let users = c.users.map_or(fit, |u| u.min(fit)).max(1);
    let (_, aggregate, ttft, _) = llm::serving_at(&sized, machine, eff, users, req)?;
    let total = aggregate * (input + output) / output;
    let (measured, estimated) = match (c.aggregate_tok_s, c.total_tok_s) {
        (Some(m), _) => (m, aggregate),
        (None, Some(m)) => (m, total),
        _ => return None,
    };
    let ttft_words = c
        .ttft_ms
        .map(|t| {
            format!(
                ", first token {:.2} s vs {:.2} s measured",
                ttft,
                t / 1000.0
            )
        })
        .unwrap_or_default();
    let test = format!(
        "serving {}/{} tokens, {} users{}{}",
        req.prompt,
        req.output,
        users,
        if c.total_tok_s.is_some() && c.aggregate_tok_s.is_none() {
            ", prompt + output tok/s"
        } else {
            ""
        },
        ttft_words
    );
    Some(CalibrationRow {
        measured_capacity: Some(measured),
        estimated_capacity: Some(estimated),
        capacity_error: (measured > 0.0 && estimated > 0.0).then(|| (estimated / measured).log2()),
        ..CalibrationRow::of(c, &engine.name, &model.name, &quant.id, test)
    })
}

pub fn calibrate(matrix: &Matrix) -> Calibration {
    let rows: Vec<CalibrationRow> = matrix
        .workloads
        .calibration
        .iter()
        .filter_map(|c| run(matrix, c))
        .collect();
    let stats_of = |set: Set, of_set: Vec<(usize, &CalibrationRow)>| {
        let mut sources: Vec<&str> = of_set.iter().map(|(_, r)| source_url(&r.source)).collect();
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
            capacity: stats(
                of_set
                    .iter()
                    .filter_map(|(_, r)| r.capacity_error)
                    .collect(),
            ),
            worst,
        }
    };
    let sets = [Set::Fit, Set::HeldOut]
        .into_iter()
        .map(|set| {
            stats_of(
                set,
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| r.set == set)
                    .collect(),
            )
        })
        .collect();
    let late_rows: Vec<(usize, &CalibrationRow)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.set == Set::HeldOut && r.collected.is_some())
        .collect();
    let late = (!late_rows.is_empty()).then(|| stats_of(Set::HeldOut, late_rows));
    let mut urls: Vec<&str> = rows.iter().map(|r| source_url(&r.source)).collect();
    urls.sort_unstable();
    urls.dedup();
    let sources = urls
        .into_iter()
        .filter_map(|url| {
            let of: Vec<&CalibrationRow> = rows
                .iter()
                .filter(|r| source_url(&r.source) == url)
                .collect();
            let first = of.first()?;
            Some(SourceStats {
                source: url.to_string(),
                set: first.set,
                collected: first.collected.clone(),
                decode: stats(of.iter().filter_map(|r| r.decode_error).collect()),
                prefill: stats(of.iter().filter_map(|r| r.prefill_error).collect()),
                capacity: stats(of.iter().filter_map(|r| r.capacity_error).collect()),
            })
        })
        .collect();
    Calibration {
        rows,
        sets,
        late,
        sources,
    }
}

fn source_url(source: &str) -> &str {
    source.split_whitespace().next().unwrap_or_default()
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
