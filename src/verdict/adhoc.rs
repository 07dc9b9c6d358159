//! `mlcompat estimate`: one model on one engine on one machine. The engine's software row decides
//! whether it runs here, on which side of the machine and with which efficiency; the quantization's
//! kernel path whether it runs that format on this hardware; the verdict follows the same thresholds and
//! rules as `check` and `compare` (`verdict`). Speed is estimated whether or not the model fits; the
//! verdict says what it takes to fit.

use serde::Serialize;

use crate::estimate::llm::{self, LlmEstimate, LlmSpec};
use crate::estimate::MachineView;
use crate::matrix::workloads::{Engine, Quant, Workloads};
use crate::matrix::{RunsOn, Status};
use crate::report::Report;
use crate::verdict::{self, Fit, FitState, Thresholds};

#[derive(Debug, Clone, Serialize)]
pub struct Adhoc {
    pub estimate: LlmEstimate,
    pub verdict: Status,
    /// Why the verdict is not plain: the engine does not run here, runs on the CPU, needs care, its
    /// speed cannot be estimated, or the model does not fit (and what it takes).
    pub reason: String,
    pub runs_on: RunsOn,
    pub fit: Fit,
    /// The quantization the engine runs (another than asked when it has no such format).
    pub quant: String,
}

/// `quant` with the bits per weight that override its own, if any.
pub fn estimate(
    catalog: &Workloads,
    engine: &Engine,
    (quant, bits): (&Quant, Option<f64>),
    spec: &LlmSpec,
    report: &Report,
    machine: &MachineView,
    sizing: llm::Sizing,
) -> Adhoc {
    let here = verdict::engine_on(catalog, engine, quant, bits, report, machine);
    let (view, runs_on) = match &here {
        Ok(h) => (h.view, h.runs_on),
        Err(_) => (machine, RunsOn::Gpu),
    };
    let (mut e, spec, quant_run) = match here.as_ref().map(|h| &h.efficiency) {
        Ok(Ok(eff)) => {
            let spec = LlmSpec {
                bits: eff.path.bits,
                ..spec.clone()
            };
            (
                llm::estimate_sized(&spec, view, eff, sizing),
                spec,
                eff.path.quant.clone(),
            )
        }
        _ => (llm::memory_only(spec, view), spec.clone(), quant.id.clone()),
    };
    e.assumptions.splice(0..0, view.assumptions.iter().cloned());
    let fit = verdict::llm_fit(catalog, &spec, 0.0, Some(engine), view);
    let thresholds = Thresholds {
        good: catalog.interactive.good,
        usable: catalog.interactive.usable,
        higher_is_better: true,
    };
    let (runs, row_status) = match &here {
        Ok(h) => (true, h.row_status),
        Err(_) => (false, Status::Fail),
    };
    let verdict =
        verdict::workload_status(runs, fit.state, e.decode_tok_s, &thresholds, row_status);
    let note = |h: &verdict::EngineHere| h.row_note.clone().unwrap_or_default();
    let mut reasons = Vec::new();
    match &here {
        Err(why) => {
            let row_fails = report
                .rows
                .iter()
                .any(|r| r.id == engine.software && r.status == Status::Fail);
            reasons.push(if row_fails {
                format!("{why} (see `mlcompat doctor`)")
            } else {
                why.clone()
            });
        }
        Ok(h) => match &h.efficiency {
            Err(why) => reasons.push(why.clone()),
            Ok(_) if runs_on == RunsOn::Cpu => {
                reasons.push(verdict::on_cpu_reason(engine, machine, &note(h)))
            }
            Ok(_) if h.row_status == Status::Warn => {
                reasons.push(format!("{} needs care here: {}", engine.name, note(h)))
            }
            Ok(_) => {}
        },
    }
    if runs && matches!(fit.state, FitState::DoesNotFit | FitState::NeedsSetup) {
        reasons.push(fit.text());
    }
    // Slow is a reason too: say how slow against the thresholds, and why where a fallback is the cause.
    if let (true, Some(speed)) = (runs, e.decode_tok_s) {
        let pace = thresholds.pace(speed);
        if pace != verdict::Pace::Good {
            let slow_path = here
                .as_ref()
                .ok()
                .and_then(|h| h.efficiency.as_ref().ok())
                .and_then(|eff| eff.fallback.clone());
            reasons.push(format!(
                "{:.1} tok/s is {} (good: {} tok/s, usable: {}){}",
                speed,
                if pace == verdict::Pace::Usable {
                    "usable but slow"
                } else {
                    "too slow to chat with"
                },
                thresholds.good,
                thresholds.usable,
                slow_path.map(|w| format!(": {w}")).unwrap_or_default()
            ));
        }
    }
    Adhoc {
        estimate: e,
        verdict,
        reason: reasons.join("; "),
        runs_on,
        fit,
        quant: quant_run,
    }
}
