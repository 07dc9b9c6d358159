//! `mlcompat check`: for one workload on one machine — the engine to use here (the first of the
//! workload's engines whose software row does not fail), the memory it needs against what the machine
//! can give, the estimated speed, and a verdict: ✅ runs well, ⚠️ slow or needs setup, ❌ does not fit or no
//! software.

use serde::Serialize;

use crate::estimate::llm::{self, spec_for, Bound, Capacity, EngineEff, LlmSpec};
use crate::estimate::shape::architecture;
use crate::estimate::MachineView;
use crate::matrix::workloads::{Compute, Kind, Model, Workload, Workloads};
use crate::matrix::{RunsOn, Status};
use crate::report::Report;
use crate::units::BYTES_PER_GB;
use crate::verdict::{self, EngineHere, Fit, FitState, Pace, Thresholds};

/// Bytes per trainable parameter with Adam in mixed precision: BF16 weight and gradient (4), FP32 master
/// copy (4), two FP32 moments (8).
const TRAIN_BYTES_PER_PARAM: f64 = 16.0;
/// Fixed time per optimizer step (kernel launches, data loading, synchronisation), seconds.
const STEP_OVERHEAD_S: f64 = 0.005;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Check {
    pub workload: String,
    pub name: String,
    pub machine: String,
    pub verdict: Status,
    pub engine: Option<String>,
    /// Installed version of the engine's software, on a live machine.
    pub installed: Option<String>,
    pub fits: Option<bool>,
    pub required_gb: Option<f64>,
    pub available_gb: Option<f64>,
    /// The headline speed in `unit`.
    pub speed: Option<f64>,
    pub unit: &'static str,
    pub higher_is_better: bool,
    pub good: f64,
    pub usable: f64,
    pub prefill_tok_s: Option<f64>,
    /// The prompt `prefill_tok_s` is for (one filling the context), tokens.
    pub prefill_prompt: Option<u32>,
    /// Seconds to the first token for a prompt filling the context.
    pub time_to_first_token_s: Option<f64>,
    pub bound: Bound,
    /// Whether it fits, by how much it misses, and what it takes to fit.
    pub fit: Option<Fit>,
    /// Language models: how many sequences fit and how fast they decode together.
    pub capacity: Option<Capacity>,
    /// The GPU, or the CPU where the engine's row says it computes there.
    pub runs_on: RunsOn,
    pub reason: String,
    /// Engines passed over, and why.
    pub skipped_engines: Vec<String>,
    pub assumptions: Vec<String>,
}

/// Evaluates `w` on the machine described by `report` (its software verdicts) and `machine`.
pub fn check(catalog: &Workloads, w: &Workload, report: &Report, machine: &MachineView) -> Check {
    let mut skipped = Vec::new();
    let (unit, higher) = match w.kind {
        Kind::Lora | Kind::Train => ("hours", false),
        Kind::Image => ("images/min", true),
        Kind::Hpc => ("GB/s", true),
        _ => ("tok/s per user", true),
    };
    let mut out = Check {
        workload: w.id.clone(),
        name: w.name.clone(),
        machine: machine.name.clone(),
        verdict: Status::Fail,
        engine: None,
        installed: None,
        fits: None,
        required_gb: None,
        available_gb: machine.available_gb,
        speed: None,
        unit,
        higher_is_better: higher,
        good: w.good,
        usable: w.usable,
        prefill_tok_s: None,
        prefill_prompt: None,
        time_to_first_token_s: None,
        bound: Bound::Unknown,
        fit: None,
        capacity: None,
        runs_on: RunsOn::Gpu,
        reason: String::new(),
        skipped_engines: Vec::new(),
        assumptions: machine.assumptions.clone(),
    };
    let (Some(model), Some(quant)) = (catalog.model(&w.model), catalog.quant(&w.quant)) else {
        out.reason = "the workload names a model or quantization the catalog lacks".into();
        return out;
    };
    // The engine to use here: among those that run the quantization here, one whose row is ✅ before one
    // that needs care, one that can be estimated before one that cannot, then the workload's own order.
    let mut runs: Vec<EngineHere> = Vec::new();
    for id in &w.engines {
        let Some(engine) = catalog.engine(id) else {
            continue;
        };
        match verdict::engine_on(catalog, engine, quant, None, report, machine) {
            Ok(here) => runs.push(here),
            Err(why) => skipped.push(why),
        }
    }
    runs.sort_by_key(|h| (h.efficiency.is_err(), h.row_status));
    let mut runs = runs.into_iter();
    let chosen = runs.next();
    for h in runs {
        if let Err(why) = &h.efficiency {
            skipped.push(format!("{}: {why}", h.engine.name));
        }
    }
    out.skipped_engines = skipped;
    let Some(here) = chosen else {
        out.reason = format!(
            "no engine for this workload runs here ({})",
            out.skipped_engines.join("; ")
        );
        return out;
    };
    out.engine = Some(here.engine.name.clone());
    out.installed = here.installed.clone();
    out.runs_on = here.runs_on;
    let engine_status = here.row_status;
    let whole = machine;
    let machine = here.view;
    if here.runs_on == RunsOn::Cpu {
        out.available_gb = machine.available_gb;
        out.assumptions = machine.assumptions.clone();
        out.assumptions.push(verdict::on_cpu_reason(
            here.engine,
            whole,
            here.row_note.as_deref().unwrap_or_default(),
        ));
    }
    let spec = spec_for(catalog, model, quant.bits, w);
    let language = matches!(w.kind, Kind::Chat | Kind::Serve | Kind::Speech);
    let parts_gb = parts_gb(catalog, w);
    let eff = match &here.efficiency {
        Ok(eff) => eff.clone(),
        Err(why) => {
            // It runs, but the matrix has no figure to estimate its speed with: memory only.
            let fit = if language {
                verdict::llm_fit(catalog, &spec, parts_gb, Some(here.engine), machine)
            } else {
                Fit::plain(
                    llm::params_gb(model.params_b, quant.bits) + llm::RUNTIME_GB,
                    machine,
                )
            };
            out.required_gb = Some(fit.required_gb);
            out.fits = fit.fits_now();
            out.fit = Some(fit);
            out.reason = why.clone();
            verdict(&mut out, engine_status);
            return out;
        }
    };
    match w.kind {
        Kind::Chat | Kind::Serve | Kind::Speech => {
            let spec = LlmSpec {
                bits: eff.path.bits,
                ..spec
            };
            let mut e = llm::estimate(&spec, machine, &eff);
            for id in &w.realtime_parts {
                if let Some(part) = catalog.model(id) {
                    e.assumptions.push(format!(
                        "{} alongside in FP16: {:.1} GB",
                        part.name,
                        llm::params_gb(part.params_b, 16.0)
                    ));
                }
            }
            let fit = verdict::llm_fit(catalog, &spec, parts_gb, Some(here.engine), machine);
            out.fits = fit.fits_now();
            out.required_gb = Some(fit.required_gb);
            out.fit = Some(fit);
            out.speed = e.decode_tok_s;
            out.prefill_tok_s = e.prefill_tok_s;
            out.prefill_prompt = e.prefill_tok_s.map(|_| e.prefill_prompt);
            out.time_to_first_token_s = e.time_to_first_token_s;
            out.bound = e.bound;
            out.assumptions.extend(e.assumptions);
            if w.kind == Kind::Serve {
                if let Some(a) = e.aggregate_tok_s {
                    out.assumptions
                        .push(format!("{a:.0} tok/s for all {} users together", w.users));
                }
            }
            // Capacity is counted beside whatever else must stay resident (speech models of a voice agent).
            out.capacity = match machine.available_gb {
                Some(avail) if parts_gb > 0.0 => {
                    let mut rest = machine.clone();
                    rest.available_gb = Some(avail - parts_gb);
                    llm::capacity(&spec, &rest, &eff, llm::Sizing::default())
                }
                _ => e.capacity,
            };
        }
        Kind::Lora | Kind::Train => train(catalog, model, quant.bits, w, machine, &eff, &mut out),
        Kind::Image => image(model, quant.bits, w, machine, &eff, &mut out),
        Kind::Hpc => {
            let mem = llm::memory(&LlmSpec { context: 0, ..spec }, machine.available_gb);
            let fit = Fit::plain(mem.weights_gb + llm::RUNTIME_GB, machine);
            out.required_gb = Some(fit.required_gb);
            out.fits = fit.fits_now();
            out.fit = Some(fit);
            out.speed = machine.bandwidth_gbs.map(|b| b * eff.bandwidth_eff);
            out.bound = Bound::MemoryBandwidth;
            out.assumptions.push(format!(
                "a {:.0} GB working set streamed at {:.0}% of the memory bandwidth",
                mem.weights_gb,
                eff.bandwidth_eff * 100.0
            ));
        }
    }
    verdict(&mut out, engine_status);
    if let (Kind::Serve, Some(c)) = (w.kind, &out.capacity) {
        out.reason.push_str(&format!(
            "; {} users of up to {} sequences of {} tokens",
            w.users, c.max_sequences, c.context
        ));
    }
    out
}

/// Hidden size from params ≈ 12 · layers · hidden² (attention 4h² + MLP 8h² per layer).
fn hidden(model: &Model, layers: u32) -> f64 {
    (model.params_b * 1e9 / (12.0 * f64::from(layers))).sqrt()
}

/// Speech: every real-time part (speech-to-text, text-to-speech) stays resident beside the LLM, in FP16.
fn parts_gb(catalog: &Workloads, w: &Workload) -> f64 {
    w.realtime_parts
        .iter()
        .filter_map(|id| catalog.model(id))
        .map(|p| llm::params_gb(p.params_b, 16.0))
        .sum()
}

fn train(
    catalog: &Workloads,
    model: &Model,
    bits: f64,
    w: &Workload,
    machine: &MachineView,
    eff: &EngineEff,
    out: &mut Check,
) {
    let layers = architecture(catalog, model).layers;
    let h = hidden(model, layers);
    let (seq, batch) = (
        f64::from(w.seq_len.unwrap_or(2048)),
        f64::from(w.batch.unwrap_or(1)),
    );
    let tokens = w.tokens_m.unwrap_or(0.0) * 1e6;
    let lora = w.kind == Kind::Lora;
    let trainable = if lora {
        w.trainable_params_m.unwrap_or(0.0) * 1e6
    } else {
        model.params_b * 1e9
    };
    let weights_gb = if lora {
        llm::params_gb(model.params_b, bits)
    } else {
        0.0
    };
    let states_gb = trainable * TRAIN_BYTES_PER_PARAM / BYTES_PER_GB;
    // Gradient checkpointing keeps one BF16 hidden state per layer and token, plus one layer's working set.
    let activations_gb =
        (batch * seq * h * f64::from(layers) * 2.0 + batch * seq * h * 2.0 * 16.0) / BYTES_PER_GB;
    let required = weights_gb + states_gb + activations_gb + llm::RUNTIME_GB;
    let fit = Fit::plain(required, machine);
    out.required_gb = Some(required);
    out.fits = fit.fits_now();
    out.fit = Some(fit);
    out.assumptions.push(format!(
        "{}: {:.1} GB frozen weights, {:.0} M trainable params × {TRAIN_BYTES_PER_PARAM} bytes (Adam, mixed precision), {:.1} GB checkpointed activations (hidden ≈ {h:.0})",
        if lora { "LoRA" } else { "full training" },
        weights_gb,
        trainable / 1e6,
        activations_gb
    ));
    let flops_per_token = if lora { 4.0 } else { 6.0 } * model.params_b * 1e9;
    out.assumptions.push(format!(
        "{} FLOPs per parameter per token ({}), {:.0} M tokens",
        if lora { 4 } else { 6 },
        if lora {
            "forward + activation gradients; frozen weights need no weight gradients"
        } else {
            "forward + backward"
        },
        tokens / 1e6
    ));
    let Some((tflops, how)) = machine.rate(Compute::F16) else {
        out.reason = "no compute figure for this machine".into();
        return;
    };
    let steps = tokens / (seq * batch).max(1.0);
    let seconds =
        tokens * flops_per_token / (tflops * 1e12 * eff.compute_eff) + steps * STEP_OVERHEAD_S;
    out.assumptions.push(format!(
        "{tflops:.0} TFLOPS ({how}) × {:.0}% ({}), {STEP_OVERHEAD_S} s overhead per step",
        eff.compute_eff * 100.0,
        eff.name
    ));
    out.speed = Some(seconds / 3600.0);
    out.bound = Bound::Compute;
}

fn image(
    model: &Model,
    bits: f64,
    w: &Workload,
    machine: &MachineView,
    eff: &EngineEff,
    out: &mut Check,
) {
    // Weights plus the latents, attention and VAE decode at the workload's resolution (≈ 3 GB at 1024²).
    let required = llm::params_gb(model.params_b, bits) + 3.0 + llm::RUNTIME_GB;
    let fit = Fit::plain(required, machine);
    out.required_gb = Some(required);
    out.fits = fit.fits_now();
    out.fit = Some(fit);
    let (steps, per_step) = (
        f64::from(w.steps.unwrap_or(30)),
        w.tflop_per_step.unwrap_or(0.0),
    );
    let Some((tflops, how)) = machine.rate(Compute::F16) else {
        out.reason = "no compute figure for this machine".into();
        return;
    };
    let seconds = steps * per_step / (tflops * eff.compute_eff) + steps * eff.overhead_ms / 1000.0;
    out.assumptions.push(format!(
        "{steps} steps × {per_step} TFLOP on {tflops:.0} TFLOPS ({how}) × {:.0}% ({})",
        eff.compute_eff * 100.0,
        eff.name
    ));
    out.speed = Some(60.0 / seconds);
    out.bound = Bound::Compute;
}

fn verdict(out: &mut Check, engine_status: Status) {
    let engine = out.engine.clone().unwrap_or_default();
    let fit_state = out.fit.as_ref().map_or(FitState::Unknown, |f| f.state);
    let mem = out.fit.as_ref().map(Fit::text).unwrap_or_default();
    let thresholds = Thresholds {
        good: out.good,
        usable: out.usable,
        higher_is_better: out.higher_is_better,
    };
    out.verdict = verdict::workload_status(
        out.engine.is_some(),
        fit_state,
        out.speed,
        &thresholds,
        engine_status,
    );
    let speed_words = out.speed.map(|s| {
        let shown = format!("{} {}", round(s), out.unit);
        match thresholds.pace(s) {
            Pace::Good => format!("{shown} with {engine}, {}-bound", out.bound.text()),
            Pace::Usable => format!(
                "slow: {shown} with {engine} (good is {} {}), {}-bound",
                round(out.good),
                out.unit,
                out.bound.text()
            ),
            Pace::TooSlow => format!(
                "too slow to be usable: {shown} with {engine} (usable from {} {}), {}-bound",
                round(out.usable),
                out.unit,
                out.bound.text()
            ),
        }
    });
    if matches!(fit_state, FitState::DoesNotFit | FitState::NeedsSetup) {
        out.reason = match speed_words {
            Some(words) => format!("{mem}; once it fits: {words}"),
            None => mem,
        };
        return;
    }
    let Some(words) = speed_words else {
        if out.reason.is_empty() {
            out.reason = format!(
                "fits ({mem}); speed cannot be estimated: a bandwidth or compute figure is missing"
            );
        } else {
            out.reason = format!("{}; {mem}", out.reason);
        }
        return;
    };
    out.reason = format!("{words}; {mem}");
    if engine_status == Status::Warn {
        out.reason.push_str(&format!("; {engine} needs setup here"));
    }
}

/// Two significant figures for speeds.
pub fn round(x: f64) -> String {
    crate::units::significant(x)
}
