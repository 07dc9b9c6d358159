//! `mlcompat estimate`: one model on one engine on one machine. The engine's software row decides
//! whether it runs here, on which side of the machine and with which efficiency; the verdict follows the
//! same thresholds and rules as `check` and `compare` (`verdict`).

use serde::Serialize;

use super::llm::{self, LlmEstimate, LlmSpec};
use super::machine::MachineView;
use crate::matrix::workloads::{Engine, Workloads};
use crate::matrix::{RunsOn, Status};
use crate::report::Report;
use crate::verdict::{self, Thresholds};

#[derive(Debug, Clone, Serialize)]
pub struct Adhoc {
    pub estimate: LlmEstimate,
    pub verdict: Status,
    /// Why the verdict is not plain: the engine does not run here, runs on the CPU, needs care, or its
    /// speed cannot be estimated.
    pub reason: String,
    pub runs_on: RunsOn,
}

pub fn estimate(
    catalog: &Workloads,
    engine: &Engine,
    spec: &LlmSpec,
    report: &Report,
    machine: &MachineView,
) -> Adhoc {
    let here = verdict::engine_on(engine, report, machine);
    let (view, runs_on) = match &here {
        Ok(h) => (h.view, h.runs_on),
        Err(_) => (machine, RunsOn::Gpu),
    };
    let mut e = match here.as_ref().map(|h| &h.efficiency) {
        Ok(Ok(eff)) => llm::estimate(spec, view, eff),
        _ => llm::memory_only(spec, view),
    };
    e.assumptions.splice(0..0, view.assumptions.iter().cloned());
    let thresholds = Thresholds {
        good: catalog.interactive.good,
        usable: catalog.interactive.usable,
        higher_is_better: true,
    };
    let (runs, row_status) = match &here {
        Ok(h) => (true, h.row_status),
        Err(_) => (false, Status::Fail),
    };
    let verdict = verdict::workload_status(runs, e.fits, e.decode_tok_s, &thresholds, row_status);
    let note = |h: &verdict::EngineHere| h.row_note.clone().unwrap_or_default();
    let reason = match &here {
        Err(why) => format!("{why} (see `mlcompat doctor`)"),
        Ok(h) => match &h.efficiency {
            Err(why) => why.clone(),
            Ok(_) if runs_on == RunsOn::Cpu => {
                format!("{} runs on the CPU here ({})", engine.name, note(h))
            }
            Ok(_) if h.row_status == Status::Warn => {
                format!("{} needs care here: {}", engine.name, note(h))
            }
            Ok(_) => String::new(),
        },
    };
    Adhoc {
        estimate: e,
        verdict,
        reason,
        runs_on,
    }
}
