//! Wiring for `check`, `estimate`, `compare` and `matrix calibration`: load, evaluate, estimate, render.

use std::io::{self, Write};

use super::{facts_for, AppError};
use crate::cli::{CheckArgs, CompareArgs, CompareFormat, EstimateArgs, ReportFormat};
use crate::error::InputError;
use crate::estimate::check::architecture;
use crate::estimate::llm::{self, EngineEff, LlmSpec};
use crate::estimate::{self, MachineView};
use crate::eval::evaluate;
use crate::matrix::workloads::{Workload, Workloads};
use crate::matrix::{Matrix, Status};
use crate::render::{self, Style};

/// The workloads every comparison starts from.
pub const CORE_WORKLOADS: &[&str] = &[
    "chat-8b-fp16",
    "chat-70b-fp4",
    "serve-20-users",
    "lora-8b",
    "train-10m",
    "sdxl",
    "voice-agent",
    "scientific-sim",
];

fn workloads_named<'a>(
    catalog: &'a Workloads,
    ids: &[String],
) -> Result<Vec<&'a Workload>, InputError> {
    if ids.len() == 1 && ids[0] == "all" {
        return Ok(catalog.workloads.iter().collect());
    }
    ids.iter()
        .map(|id| {
            catalog.workload(id).ok_or_else(|| {
                let known: Vec<&str> = catalog.workloads.iter().map(|w| w.id.as_str()).collect();
                InputError::Usage(format!(
                    "unknown workload `{id}` (known: {}, or all)",
                    known.join(", ")
                ))
            })
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
        .map(|w| estimate::check(&matrix.workloads, w, &report, &machine))
        .collect();
    match args.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({ "schema": "mlcompat.check/1", "machine": machine.name, "checks": checks });
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
    let a = matrix.profile(&args.a)?;
    let b = matrix.profile(&args.b)?;
    let ids: Vec<String> = if args.workloads.is_empty() {
        CORE_WORKLOADS.iter().map(|s| s.to_string()).collect()
    } else {
        args.workloads.clone()
    };
    let chosen = workloads_named(&matrix.workloads, &ids)?;
    let (ra, rb) = (evaluate(matrix, &a.facts), evaluate(matrix, &b.facts));
    let (ma, mb) = (MachineView::of(&a.facts), MachineView::of(&b.facts));
    let cmp = estimate::compare(&matrix.workloads, &chosen, (&ra, &ma), (&rb, &mb));
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
    let quant = catalog.quant(&args.quant).ok_or_else(|| {
        let known: Vec<&str> = catalog.quants.iter().map(|q| q.id.as_str()).collect();
        bad(format!(
            "unknown quantization `{}` (known: {})",
            args.quant,
            known.join(", ")
        ))
    })?;
    let engine = catalog
        .engines
        .iter()
        .find(|e| e.id == args.engine || e.name.eq_ignore_ascii_case(&args.engine))
        .ok_or_else(|| {
            let known: Vec<&str> = catalog.engines.iter().map(|e| e.id.as_str()).collect();
            bad(format!(
                "unknown engine `{}` (known: {})",
                args.engine,
                known.join(", ")
            ))
        })?;
    let model = match &args.model {
        Some(id) => Some(catalog.model(id).ok_or_else(|| {
            let known: Vec<&str> = catalog.models.iter().map(|m| m.id.as_str()).collect();
            bad(format!(
                "unknown model `{id}` (known: {})",
                known.join(", ")
            ))
        })?),
        None => None,
    };
    let params_b = args.params_b.or(model.map(|m| m.params_b)).unwrap_or(0.0);
    let active = args
        .active_params_b
        .or(model.and_then(|m| m.active_params_b))
        .unwrap_or(params_b);
    let bits = args.bits.unwrap_or(quant.bits);
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
    let backend = engine.backend(&machine.backend).ok_or_else(|| {
        bad(format!(
            "{} has no measured efficiency on {} machines",
            engine.name, machine.backend
        ))
    })?;
    let shape = model.map(architecture).unwrap_or_else(|| {
        let m = crate::matrix::workloads::Model {
            id: String::new(),
            name: String::new(),
            params_b,
            active_params_b: None,
            layers: None,
            kv_heads: None,
            head_dim: None,
            dense_params_b: None,
            dense_active_params_b: None,
            dense_bits: None,
            notes: None,
            source: String::new(),
        };
        architecture(&m)
    });
    let spec = LlmSpec {
        params_b,
        active_params_b: active,
        dense_params_b: model.and_then(|m| m.dense_params_b).unwrap_or(0.0),
        dense_active_params_b: model.and_then(|m| m.dense_active_params_b).unwrap_or(0.0),
        dense_bits: model.and_then(|m| m.dense_bits).unwrap_or(16.0),
        bits,
        compute: quant.compute,
        layers: args.layers.unwrap_or(shape.0),
        kv_heads: args.kv_heads.unwrap_or(shape.1),
        head_dim: args.head_dim.unwrap_or(shape.2),
        context: args.context,
        users: args.batch,
        kv_bits: 16.0,
    };
    let eff = EngineEff::new(engine, backend);
    let mut e = llm::estimate(&spec, &machine, &eff);
    e.assumptions
        .splice(0..0, machine.assumptions.iter().cloned());
    if model.is_none() && (args.layers.is_none() || args.kv_heads.is_none()) {
        e.assumptions.push(format!("architecture not given: {} layers, {} KV heads of {} (typical of a {params_b} B dense transformer)", spec.layers, spec.kv_heads, spec.head_dim));
    }
    let software = evaluate(matrix, &facts);
    let engine_fails = software
        .rows
        .iter()
        .any(|r| r.id == engine.software && r.status == Status::Fail);
    let verdict = match (e.fits, e.decode_tok_s) {
        (Some(false), _) => Status::Fail,
        _ if engine_fails => Status::Fail,
        (_, Some(d)) if d >= 10.0 => Status::Ok,
        _ => Status::Warn,
    };
    if engine_fails {
        e.assumptions.push(format!(
            "{} does not run on this machine (see `mlcompat doctor`)",
            engine.name
        ));
    }
    match args.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "schema": "mlcompat.estimate/1",
                "machine": machine.name,
                "engine": engine.name,
                "quant": quant.id,
                "bits": bits,
                "fits": e.fits,
                "memory": e.memory,
                "decode_tok_s": e.decode_tok_s,
                "aggregate_tok_s": e.aggregate_tok_s,
                "prefill_tok_s": e.prefill_tok_s,
                "bound": e.bound,
                "verdict": verdict,
                "assumptions": e.assumptions,
            });
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            render::estimate_text(&machine.name, &engine.name, &e, verdict, style, out)?
        }
    }
    Ok(0)
}

pub fn calibration(matrix: &Matrix, out: &mut dyn Write) -> Result<u8, AppError> {
    let c = crate::estimate::calibrate::calibrate(matrix);
    render::calibration_markdown(&c, out)?;
    Ok(0)
}
