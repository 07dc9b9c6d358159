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
        let outputs = |wrong: usize| match wrong {
            0 => "correct".to_string(),
            1 => "WRONG: 1 output beyond its tolerance".to_string(),
            n => format!("WRONG: {n} outputs beyond their tolerance"),
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
                let mma = match (n.mma_correct, n.mma_wrong_outputs) {
                    (Some(false), Some(wrong)) => outputs(wrong),
                    (correct, _) => yes_no(correct).to_string(),
                };
                writeln!(
                    out,
                    "  FP4 native      yes: conversion {}{zero}, block-scaled MMA {mma}",
                    yes_no(Some(n.conversion_correct)),
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
            // The figure is this kernel's: its decode bounds it, and the GPU's own software FP4 (kernels
            // that decode only the weights, W4A16) may do much better.
            let check = if e.correct {
                "correct".to_string()
            } else {
                outputs(e.wrong_outputs.max(1))
            };
            writeln!(
                out,
                "  FP4 emulated    {:>8.1} TFLOPS (software FP4 as this test kernel decodes it, not the GPU's \
                 best; {check}, max rel. error {:.1e})",
                e.throughput.tflops, e.max_rel_error
            )?;
            writeln!(out, "                  {}", e.method)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Fp4Run;
    use crate::gpu::device::{EmulatedFp4, NativeFp4, Throughput};

    fn text(r: &BenchReport) -> String {
        let mut out = Vec::new();
        bench_text(r, Style::default(), &mut out).expect("writes");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn report(correct: bool, wrong: usize) -> BenchReport {
        let throughput = Throughput {
            tflops: 105.0,
            launch_ms: 50.0,
            iterations: 4096,
            blocks: 264,
        };
        BenchReport {
            fp4: Some(Fp4Run {
                native_fp4: Some(true),
                native: Some(NativeFp4 {
                    conversion_correct: true,
                    conversion_mismatches: 0,
                    zero_sign_mismatches: 0,
                    mma_correct: Some(correct),
                    mma_wrong_outputs: Some(wrong),
                    mma_max_rel_error: Some(1e-4),
                    mma: None,
                }),
                emulated: Some(EmulatedFp4 {
                    method: "both operands decoded to FP16 (W4A4, ~10 ALU instructions per MMA)"
                        .into(),
                    correct,
                    wrong_outputs: wrong,
                    max_rel_error: 1e-4,
                    throughput,
                }),
                ..Fp4Run::default()
            }),
            ..BenchReport::default()
        }
    }

    /// The software FP4 figure is this test kernel's (its decode bounds it), not what the GPU can do.
    #[test]
    fn the_software_fp4_figure_is_labelled_as_this_kernel_s() {
        let t = text(&report(true, 0));
        assert!(
            t.contains(
                "FP4 emulated       105.0 TFLOPS (software FP4 as this test kernel decodes it, not the \
                 GPU's best; correct, max rel. error 1.0e-4)"
            ),
            "{t}"
        );
        assert!(
            t.contains("\n                  both operands decoded to FP16 (W4A4"),
            "{t}"
        );
    }

    /// A product with outputs beyond their tolerance says how many, though its largest error is small.
    #[test]
    fn wrong_outputs_are_counted() {
        let t = text(&report(false, 3));
        assert!(
            t.contains("block-scaled MMA WRONG: 3 outputs beyond their tolerance"),
            "{t}"
        );
        assert!(
            t.contains("best; WRONG: 3 outputs beyond their tolerance, max rel. error 1.0e-4)"),
            "{t}"
        );
        let t = text(&report(false, 1));
        assert!(
            t.contains("MMA WRONG: 1 output beyond its tolerance"),
            "{t}"
        );
    }
}
