//! `mlcompat bench` as text: one line per measurement, skipped parts with their reason.

use std::io::{self, Write};

use super::text::Style;
use crate::bench::{BenchReport, CompileReport};

pub fn bench_text(r: &BenchReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", style.bold("mlcompat bench — this machine"))?;
    if let Some(c) = &r.cpu_bandwidth {
        writeln!(
            out,
            "  CPU triad       {:>8.1} GB/s   ({} thread{}, 3 × {:.0} MB f64 arrays, best of 10, {:.1} ms)",
            c.triad_gbs,
            c.threads,
            if c.threads == 1 { "" } else { "s" },
            c.array_mb,
            c.best_pass_ms
        )?;
    }
    if let Some(note) = &r.unified_memory_note {
        writeln!(out, "                  {note}")?;
    }
    if let Some(g) = &r.gpu {
        writeln!(
            out,
            "  GPU {:<11} {} (CC {}, {}, {} SMs; driver CUDA {})",
            g.ordinal,
            g.name,
            g.compute_capability,
            g.arch,
            g.sms,
            g.driver_cuda.as_deref().unwrap_or("?")
        )?;
    }
    if let Some(m) = &r.gpu_match {
        writeln!(out, "                  {m}")?;
    }
    if let Some(n) = &r.nvrtc {
        writeln!(out, "  Compiler        {n}")?;
    }
    if let Some(b) = &r.gpu_bandwidth {
        let check = if b.verified {
            "verified".to_string()
        } else {
            format!("WRONG RESULT: {}", b.wrong.join("; "))
        };
        let peak = match (r.gpu_bandwidth_percent_of_peak, r.gpu_peak_bandwidth_gbs) {
            (Some(pct), Some(peak)) => format!(" = {pct:.0}% of {peak:.0}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "  GPU z = x + y   {:>8.1} GB/s{peak}   (copy {:.1}, triad {:.1}; {} elements, {} × 256-thread blocks, {check})",
            b.add_gbs, b.copy_gbs, b.triad_gbs, b.elements, b.grid_blocks
        )?;
    }
    if let Some(f) = &r.fp4 {
        let yes_no = |b: Option<bool>| match b {
            Some(true) => "correct",
            Some(false) => "WRONG",
            None => "not run",
        };
        match (f.native_fp4, &f.native, &f.why_not_native) {
            (Some(true), Some(n), _) => {
                let zero = if n.zero_sign_mismatches > 0 {
                    format!(
                        " ({} negative underflows came back as +0; the reference keeps −0)",
                        n.zero_sign_mismatches
                    )
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "  FP4 native      yes: conversion {}{zero}, block-scaled MMA {}",
                    yes_no(Some(n.conversion_correct)),
                    yes_no(n.mma_correct)
                )?
            }
            (Some(true), None, _) => writeln!(
                out,
                "  FP4 native      yes (compiled); the run did not finish, see below"
            )?,
            (Some(false), _, why) => writeln!(
                out,
                "  FP4 native      no: {}",
                why.as_deref()
                    .unwrap_or("the compiler refused the FP4 instructions")
            )?,
            (None, _, Some(why)) => writeln!(out, "  FP4 native      unknown: {why}")?,
            (None, _, None) => {}
        }
        if let Some(t) = f.native.as_ref().and_then(|n| n.mma.as_ref()) {
            let sheet = r.fp4_datasheet_dense_tflops.map_or(String::new(), |d| {
                format!(", datasheet {d:.0} dense = {:.0}%", t.tflops / d * 100.0)
            });
            writeln!(
                out,
                "  FP4 MMA         {:>8.1} TFLOPS (dense, measured{sheet}; {:.0} ms a launch)",
                t.tflops, t.launch_ms
            )?;
        }
        if let Some(e) = &f.emulated {
            writeln!(
                out,
                "  FP4 emulated    {:>8.1} TFLOPS ({}; {}, max rel. error {:.1e})",
                e.throughput.tflops,
                e.method,
                yes_no(Some(e.correct)),
                e.max_rel_error
            )?;
        }
    }
    for s in &r.skipped {
        writeln!(out, "  {:<15} {}", s.part, s.reason)?;
    }
    Ok(())
}

pub fn compile_text(r: &CompileReport, out: &mut dyn Write) -> io::Result<()> {
    let native = match r.native_fp4 {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    writeln!(out, "{} with {}: native FP4 {native}", r.arch, r.nvrtc)?;
    if let (None, Some(m)) = (r.native_fp4, &r.message) {
        writeln!(out, "  {m}")?;
    }
    for v in &r.variants {
        let name = v.kernel.name();
        let target = v.target.as_deref().unwrap_or("");
        match (v.compiled, v.cubin_bytes, v.ptx_bytes, &v.message) {
            (true, Some(bytes), _, _) => {
                writeln!(out, "  {name:<14} compiled, {target} cubin {bytes} bytes")?
            }
            (true, _, Some(bytes), _) => writeln!(
                out,
                "  {name:<14} compiled, {target} PTX {bytes} bytes (the driver JIT-compiles it)"
            )?,
            (_, _, _, Some(m)) if v.target.is_none() => {
                writeln!(out, "  {name:<14} not tried: {m}")?
            }
            (_, _, _, Some(m)) => writeln!(out, "  {name:<14} refused: {m}")?,
            _ => writeln!(out, "  {name:<14} not built")?,
        }
    }
    Ok(())
}
