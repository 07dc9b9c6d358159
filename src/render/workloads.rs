//! Renderings of `check`, `estimate`, `compare` and the calibration table.

use std::io::{self, Write};

use super::doctor::escape;
use super::text::{pad, truncate, wrap, Style};
use crate::estimate::calibrate::Calibration;
use crate::estimate::check::round;
use crate::estimate::llm::LlmEstimate;
use crate::estimate::{Check, Comparison};
use crate::matrix::Status;

fn speed(c: &Check) -> String {
    c.speed
        .map_or_else(|| "—".into(), |s| format!("{} {}", round(s), c.unit))
}

fn memory(c: &Check) -> String {
    match (c.required_gb, c.available_gb) {
        (Some(r), Some(a)) => format!("{} / {} GB", round(r), round(a)),
        (Some(r), None) => format!("{} GB / ?", round(r)),
        _ => "—".into(),
    }
}

pub fn check_text(
    machine: &str,
    checks: &[Check],
    style: Style,
    verbose: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        style.bold(&format!("mlcompat check — {machine}"))
    )?;
    let name_w = checks
        .iter()
        .map(|c| c.workload.len())
        .max()
        .unwrap_or(8)
        .max(8);
    writeln!(
        out,
        "  {}  {}  {:<14}  {:<17}  {:<22}",
        pad("", if style.ascii { 4 } else { 2 }),
        pad("Workload", name_w),
        "Engine",
        "Memory need/have",
        "Speed"
    )?;
    for c in checks {
        writeln!(
            out,
            "  {}  {}  {:<14}  {:<17}  {}",
            style.status_cell(c.verdict),
            pad(&c.workload, name_w),
            truncate(c.engine.as_deref().unwrap_or("—"), 14),
            memory(c),
            speed(c)
        )?;
        let indent = " ".repeat(4 + if style.ascii { 4 } else { 2 });
        for line in wrap(&c.reason, 96) {
            writeln!(out, "{indent}{}", style.dim(&line))?;
        }
        if let Some(v) = &c.installed {
            writeln!(out, "{indent}installed here: {v}")?;
        }
        if verbose {
            for a in &c.assumptions {
                writeln!(out, "{indent}· {a}")?;
            }
        }
    }
    Ok(())
}

pub fn estimate_text(
    machine: &str,
    engine: &str,
    e: &LlmEstimate,
    verdict: Status,
    reason: &str,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        style.bold(&format!("mlcompat estimate — {machine}, {engine}"))
    )?;
    if !reason.is_empty() {
        for line in wrap(&format!("{} {reason}", style.symbol(verdict)), 96) {
            writeln!(out, "  {line}")?;
        }
    }
    let m = &e.memory;
    let avail = m.available_gb.map_or("?".into(), round);
    writeln!(
        out,
        "  {} memory   {} GB needed of {avail} GB (weights {}, KV cache {}, runtime {})",
        style.status_cell(verdict),
        round(m.required_gb),
        round(m.weights_gb),
        round(m.kv_cache_gb),
        round(m.runtime_gb)
    )?;
    let opt = |v: Option<f64>| v.map_or_else(|| "—".into(), round);
    writeln!(
        out,
        "     decode   {} tok/s per sequence, {} tok/s in all ({}-bound)",
        opt(e.decode_tok_s),
        opt(e.aggregate_tok_s),
        e.bound.text()
    )?;
    writeln!(out, "     prefill  {} tok/s", opt(e.prefill_tok_s))?;
    writeln!(out, "  assumptions:")?;
    for a in &e.assumptions {
        writeln!(out, "    · {a}")?;
    }
    Ok(())
}

pub fn compare_text(
    c: &Comparison,
    style: Style,
    markdown: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (a, b) = (&c.a, &c.b);
    if markdown {
        writeln!(out, "| | {} | {} |\n|---|---|---|", escape(a), escape(b))?;
        for s in &c.specs {
            writeln!(out, "| {} | {} | {} |", s.spec, escape(&s.a), escape(&s.b))?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "| Workload | {} | {} | Winner | Why |\n|---|---|---|---|---|",
            escape(a),
            escape(b)
        )?;
        for d in &c.workloads {
            let cell = |x: &Check| {
                format!(
                    "{} {}",
                    Style {
                        color: false,
                        ascii: false
                    }
                    .symbol(x.verdict),
                    escape(&speed(x))
                )
            };
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&d.name),
                cell(&d.a),
                cell(&d.b),
                winner(d.winner, a, b),
                escape(&d.reason)
            )?;
        }
        return Ok(());
    }
    let col = a.chars().count().max(b.chars().count()).clamp(18, 32);
    writeln!(
        out,
        "{}",
        style.bold(&format!("mlcompat compare — {a} vs {b}"))
    )?;
    writeln!(
        out,
        "  {}  {}  {}",
        pad("", 20),
        pad(&truncate(a, col), col),
        truncate(b, col)
    )?;
    for s in &c.specs {
        writeln!(out, "  {}  {}  {}", pad(s.spec, 20), pad(&s.a, col), s.b)?;
    }
    writeln!(out)?;
    for d in &c.workloads {
        writeln!(out, "  {}", style.bold(&d.workload))?;
        writeln!(
            out,
            "    {} {:<28} {} {}",
            style.status_cell(d.a.verdict),
            truncate(&speed(&d.a), 28),
            style.status_cell(d.b.verdict),
            speed(&d.b)
        )?;
        for line in wrap(
            &format!("winner: {} — {}", winner(d.winner, a, b), d.reason),
            100,
        ) {
            writeln!(out, "    {}", style.dim(&line))?;
        }
    }
    Ok(())
}

fn winner<'a>(w: &str, a: &'a str, b: &'a str) -> &'a str {
    match w {
        "a" => a,
        "b" => b,
        "tie" => "tie",
        _ => "neither",
    }
}

pub fn calibration_markdown(c: &Calibration, out: &mut dyn Write) -> io::Result<()> {
    let pct = |e: Option<f64>| e.map_or_else(|| "—".into(), |e| format!("{:+.0}%", e * 100.0));
    let num = |v: Option<f64>| v.map_or_else(|| "—".into(), round);
    writeln!(out, "| Machine | Engine | Model | Quant | Decode measured | Decode estimated | Error | Prefill measured | Prefill estimated | Error | Source |")?;
    writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    for r in &c.rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.profile,
            escape(&r.engine),
            escape(&r.model),
            r.quant,
            num(r.measured_decode),
            num(r.estimated_decode),
            pct(r.decode_error),
            num(r.measured_prefill),
            num(r.estimated_prefill),
            pct(r.prefill_error),
            super::doctor::source_link(&r.source)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Median absolute error: decode {}, prefill {} ({} rows).",
        pct(c.median_decode_error).trim_start_matches('+'),
        pct(c.median_prefill_error).trim_start_matches('+'),
        c.rows.len()
    )
}
