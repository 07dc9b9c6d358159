//! Wiring for `check`, `estimate`, `compare` and `matrix calibration`: load, evaluate, estimate, render.

use std::io::{self, Write};

use super::{facts_for, AppError};
use crate::cli::{CheckArgs, CompareArgs, CompareFormat, EstimateArgs, ListWhat, ReportFormat};
use crate::error::InputError;
use crate::estimate::llm::LlmSpec;
use crate::estimate::shape::architecture;
use crate::estimate::{shape, MachineView};
use crate::eval::evaluate;
use crate::matrix::workloads::{ModelKind, Workload, Workloads};
use crate::matrix::{Matrix, Status};
use crate::render::{self, Style};
use crate::schema::{CheckDocument, EstimateDocument, CHECK_SCHEMA, ESTIMATE_SCHEMA};

/// `estimate` without `--model` or `--quant`: llama.cpp's usual 4-bit GGUF.
const DEFAULT_QUANT: &str = "q4_k_m";
/// A catalog model without `release_quant`: released in BF16, as most open models are.
const DEFAULT_RELEASE_QUANT: &str = "bf16";

fn workloads_named<'a>(
    catalog: &'a Workloads,
    ids: &[String],
) -> Result<Vec<&'a Workload>, InputError> {
    if ids.len() == 1 && ids[0] == "all" {
        return Ok(catalog.workloads.iter().collect());
    }
    ids.iter()
        .map(|typed| {
            catalog
                .find_workload(typed)
                .or_explain(
                    "workload",
                    typed,
                    |w| format!("{} ({})", w.id, w.name),
                    || {
                        let known: Vec<&str> =
                            catalog.workloads.iter().map(|w| w.id.as_str()).collect();
                        format!("known: {}, or all", known.join(", "))
                    },
                )
                .map_err(InputError::Usage)
        })
        .collect()
}

pub fn check(
    matrix: &Matrix,
    args: &CheckArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let chosen = workloads_named(&matrix.workloads, &args.workloads)?;
    let facts = facts_for(matrix, &args.machine)?;
    let report = evaluate(matrix, &facts);
    let machine = MachineView::of(&facts);
    let checks: Vec<_> = chosen
        .iter()
        .map(|w| crate::verdict::check(&matrix.workloads, w, &report, &machine))
        .collect();
    match args.format {
        ReportFormat::Json => {
            let doc = CheckDocument {
                schema: CHECK_SCHEMA,
                machine: &machine.name,
                checks: &checks,
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => render::check_text(&machine.name, &checks, style, true, out)?,
    }
    Ok(u8::from(checks.iter().any(|c| c.verdict == Status::Fail)))
}

pub fn compare(
    matrix: &Matrix,
    args: &CompareArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let a = super::fleet::machine(matrix, &args.a)?;
    let b = super::fleet::machine(matrix, &args.b)?;
    let ids: Vec<String> = if args.workloads.is_empty() {
        crate::estimate::CORE_WORKLOADS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.workloads.clone()
    };
    let chosen = workloads_named(&matrix.workloads, &ids)?;
    let (ra, rb) = (evaluate(matrix, &a), evaluate(matrix, &b));
    let (ma, mb) = (MachineView::of(&a), MachineView::of(&b));
    let cmp = crate::verdict::compare(&matrix.workloads, &chosen, (&ra, &ma), (&rb, &mb));
    match args.format {
        CompareFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &cmp).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        CompareFormat::Markdown => render::compare_text(&cmp, style, true, out)?,
        CompareFormat::Table => render::compare_text(&cmp, style, false, out)?,
    }
    Ok(0)
}

pub fn estimate_cmd(
    matrix: &Matrix,
    args: &EstimateArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let catalog = &matrix.workloads;
    let bad = |m: String| AppError::Input(InputError::Usage(m));
    let engine = catalog
        .find_engine(&args.engine)
        .or_explain(
            "engine",
            &args.engine,
            |e| format!("{} ({})", e.id, e.name),
            || {
                let known: Vec<&str> = catalog.engines.iter().map(|e| e.id.as_str()).collect();
                format!("known: {}; `mlcompat list engines`", known.join(", "))
            },
        )
        .map_err(bad)?;
    let language_models = || {
        catalog
            .models
            .iter()
            .filter(|m| m.kind == ModelKind::Llm)
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let named = match &args.model {
        Some(typed) => {
            let found = catalog
                .find_model(typed)
                .or_explain(
                    "model",
                    typed,
                    |m| format!("{} ({})", m.model.id, m.model.name),
                    || {
                        format!(
                            "language models: {}; a Hugging Face repo id or an Ollama tag of one works too; `mlcompat list models`",
                            language_models()
                        )
                    },
                )
                .map_err(bad)?;
            if found.model.kind != ModelKind::Llm {
                return Err(bad(format!(
                    "`{}` is {}: `estimate` sizes language models (known: {}); `mlcompat check` covers the other workloads",
                    found.model.id,
                    found.model.kind.text(),
                    language_models()
                )));
            }
            Some(found)
        }
        None => None,
    };
    let model = named.map(|n| n.model);
    // The quantization: as typed, else the one the model's name carries, else the one its makers
    // release it in, else llama.cpp's usual 4-bit.
    let (quant, named_bits) = match (&args.quant, named.and_then(|n| n.quant)) {
        (Some(typed), _) => catalog
            .find_quant_bits(typed)
            .or_explain(
                "quantization",
                typed,
                |(q, _)| format!("{} ({})", q.id, q.name),
                || {
                    let known: Vec<&str> = catalog.quants.iter().map(|q| q.id.as_str()).collect();
                    format!("known: {}; `mlcompat list quants`", known.join(", "))
                },
            )
            .map_err(bad)?,
        (None, Some(carried)) => carried,
        (None, None) => {
            let id = model.map_or(DEFAULT_QUANT, |m| {
                m.release_quant.as_deref().unwrap_or(DEFAULT_RELEASE_QUANT)
            });
            let q = catalog
                .quant(id)
                .ok_or_else(|| bad(format!("the catalog has no quantization `{id}`")))?;
            (q, None)
        }
    };
    if quant.variable_bits && named_bits.is_none() && args.bits.is_none() {
        return Err(bad(format!(
            "{} is written at the bits per weight chosen when quantizing: say which, e.g. `--quant {}-4.0bpw` or `--bits 4.0`",
            quant.name, quant.id
        )));
    }
    let params_b = args.params_b.or(model.map(|m| m.params_b)).unwrap_or(0.0);
    let active = args
        .active_params_b
        .or(model.and_then(|m| m.active_params_b))
        .unwrap_or(params_b);
    let bits_override = args.bits.or(named_bits);
    let bits = bits_override.unwrap_or(quant.bits);
    let sane = |x: f64, lo: f64, hi: f64| x.is_finite() && x >= lo && x <= hi;
    let num = |x: f64| {
        if x != 0.0 && (x.abs() < 1e-4 || x.abs() >= 1e9) {
            format!("{x:e}")
        } else {
            format!("{x}")
        }
    };
    // The smallest sizes are real models' (a million parameters, 1-bit weights): below them an estimate
    // divides by next to nothing.
    if !sane(params_b, 0.001, 10_000.0) {
        return Err(bad(format!(
            "--params-b must be between 0.001 and 10000 (billions), got {}",
            num(params_b)
        )));
    }
    if !sane(active, 0.001, params_b) {
        return Err(bad(format!(
            "--active-params-b must be at least 0.001 and at most --params-b ({}), got {}",
            num(params_b),
            num(active)
        )));
    }
    if !sane(bits, 1.0, 64.0) {
        return Err(bad(format!(
            "--bits must be between 1 and 64, got {}",
            num(bits)
        )));
    }
    if args.batch == 0 || args.batch > 100_000 || args.context == 0 || args.context > 10_000_000 {
        return Err(bad(
            "--batch must be 1..=100000 and --context 1..=10000000".into()
        ));
    }
    for (flag, value, max) in [
        ("--layers", args.layers, 10_000),
        ("--kv-heads", args.kv_heads, 10_000),
        ("--head-dim", args.head_dim, 100_000),
    ] {
        if value.is_some_and(|v| v == 0 || v > max) {
            return Err(bad(format!(
                "{flag} must be between 1 and {max}, got {}",
                value.unwrap_or_default()
            )));
        }
    }
    let facts = facts_for(matrix, &args.machine)?;
    let machine = MachineView::of(&facts);
    let software = evaluate(matrix, &facts);
    let moe = active < params_b;
    let (shape, guessed) = match model {
        Some(m) => (architecture(catalog, m), false),
        None => (shape::guess(catalog, params_b, moe), true),
    };
    let layers = args.layers.unwrap_or(shape.layers);
    let head_dim = args.head_dim.unwrap_or(shape.head_dim);
    let spec = LlmSpec {
        params_b,
        active_params_b: active,
        dense_params_b: model.and_then(|m| m.dense_params_b).unwrap_or(0.0),
        dense_active_params_b: model.and_then(|m| m.dense_active_params_b).unwrap_or(0.0),
        dense_bits: model.and_then(|m| m.dense_bits).unwrap_or(16.0),
        bits,
        layers,
        kv_heads: args.kv_heads.unwrap_or(shape.kv_heads),
        head_dim,
        heads: if args.layers.is_some() || args.head_dim.is_some() {
            shape::heads_for(params_b, layers, head_dim)
        } else {
            shape.heads
        },
        moe: if moe { shape.moe } else { None },
        sliding_window: shape.sliding_window,
        full_attention_every: shape.full_attention_every,
        context: args.context,
        users: args.batch,
        kv_bits: 16.0,
    };
    let requests = match (args.prompt, args.output) {
        (Some(prompt), Some(output)) => Some(crate::estimate::llm::Requests { prompt, output }),
        (None, None) => None,
        _ => return Err(bad("--prompt and --output go together: the tokens of each request's prompt and of its answer".into())),
    };
    if args.prompt.is_some_and(|p| p > 10_000_000)
        || args.output.is_some_and(|o| o == 0 || o > 10_000_000)
    {
        return Err(bad(
            "--prompt must be 0..=10000000 and --output 1..=10000000".into(),
        ));
    }
    if args
        .target_tok_s
        .is_some_and(|t| !(t.is_finite() && t > 0.0 && t <= 1e6))
    {
        return Err(bad(
            "--target-tok-s must be a speed above 0 (tok/s per user)".into(),
        ));
    }
    let sizing = crate::estimate::llm::Sizing {
        requests,
        target_tok_s: args.target_tok_s,
    };
    let adhoc = crate::verdict::adhoc::estimate(
        catalog,
        engine,
        (quant, bits_override),
        &spec,
        &software,
        &machine,
        sizing,
    );
    let mut e = adhoc.estimate;
    if guessed && (args.layers.is_none() || args.kv_heads.is_none() || args.head_dim.is_none()) {
        let from = shape.from.as_deref().map_or_else(
            || "a power law fitted on real configs (no catalog shape to take)".to_string(),
            |name| format!("the shape of {name}, the nearest real config in size"),
        );
        e.assumptions.push(format!(
            "architecture not given: {} layers, {} KV heads of {} ({from}{})",
            spec.layers,
            spec.kv_heads,
            spec.head_dim,
            spec.moe
                .map(|(e, k)| format!(", {k} of {e} experts per token"))
                .unwrap_or_default()
        ));
    }
    match args.format {
        ReportFormat::Json => {
            let doc = EstimateDocument {
                schema: ESTIMATE_SCHEMA,
                machine: &machine.name,
                engine: &engine.name,
                model: model.map(|m| m.id.as_str()),
                quant: &quant.id,
                quant_run: &adhoc.quant,
                bits: spec.bits,
                fits: e.fits,
                fit: &adhoc.fit,
                memory: &e.memory,
                decode_tok_s: e.decode_tok_s,
                aggregate_tok_s: e.aggregate_tok_s,
                prefill_tok_s: e.prefill_tok_s,
                prefill_prompt: e.prefill_prompt,
                time_to_first_token_s: e.time_to_first_token_s,
                bound: e.bound,
                capacity: e.capacity.as_ref(),
                verdict: adhoc.verdict,
                reason: &adhoc.reason,
                runs_on: adhoc.runs_on,
                assumptions: &e.assumptions,
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => render::estimate_text(
            &machine.name,
            &engine.name,
            &e,
            (adhoc.verdict, &adhoc.reason),
            adhoc.fit.state,
            style,
            out,
        )?,
    }
    Ok(u8::from(adhoc.verdict == Status::Fail))
}

/// `mlcompat list models|engines|quants`: the catalog the estimates draw on.
pub fn list(
    matrix: &Matrix,
    what: ListWhat,
    width: usize,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let catalog = &matrix.workloads;
    let rows: Vec<(String, String, String)> = match what {
        ListWhat::Models => catalog
            .models
            .iter()
            .map(|m| {
                let size = match m.active_params_b {
                    Some(a) if a < m.params_b => format!("{:.1} B ({a:.1} B active)", m.params_b),
                    _ => format!("{:.2} B", m.params_b),
                };
                let kind = match m.kind {
                    ModelKind::Llm => size,
                    other => format!("{size}, {} (not for estimate)", other.text()),
                };
                (m.id.clone(), m.name.clone(), kind)
            })
            .collect(),
        ListWhat::Engines => catalog
            .engines
            .iter()
            .map(|e| {
                let mut names: Vec<&str> = vec![e.name.as_str()];
                names.extend(e.aliases.iter().map(String::as_str));
                let vendors: Vec<String> = e
                    .backends
                    .iter()
                    .map(|b| match &b.memory {
                        Some(m) => format!("{} ({m})", b.vendor),
                        None => b.vendor.clone(),
                    })
                    .collect();
                (
                    e.id.clone(),
                    names.join(", "),
                    format!("estimated on {}", vendors.join(", ")),
                )
            })
            .collect(),
        _ => catalog
            .quants
            .iter()
            .map(|q| {
                let also = if q.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" (also {})", q.aliases.join(", "))
                };
                (
                    q.id.clone(),
                    q.name.clone(),
                    format!("{} bits per weight{also}", q.bits),
                )
            })
            .collect(),
    };
    render::three_columns(&rows, width, out)?;
    Ok(0)
}

pub fn calibration(matrix: &Matrix, out: &mut dyn Write) -> Result<u8, AppError> {
    let c = crate::estimate::calibrate::calibrate(matrix);
    render::calibration_markdown(&c, out)?;
    Ok(0)
}
