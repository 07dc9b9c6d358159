//! One place decides what status a thing gets on a machine, so that no two commands can disagree.
//!
//! A software row's ✅/⚠️/❌ is the evaluator's (`eval::evaluate_request`: rules, then the installation,
//! then what the row requires). Everything built on those rows is decided here and nowhere else: whether
//! an engine runs on this machine and how (its row's verdict, the GPU or the CPU it computes on, its
//! efficiency there or why none can be estimated), and the verdict of a workload or an ad-hoc estimate
//! from its fit, its speed against the thresholds and its engine's row. `doctor` and `table` show the
//! rows, `check`, `estimate` and `compare` ask [`engine_on`] and [`workload_status`].

use serde::Serialize;

use crate::estimate::llm::EngineEff;
use crate::estimate::MachineView;
use crate::matrix::workloads::Engine;
use crate::matrix::{RunsOn, Status};
use crate::report::{Report, Row};

/// What counts as good and as usable for a speed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// ✅ from here.
    pub good: f64,
    /// ⚠️ from here; below it, too slow to be usable.
    pub usable: f64,
    /// tok/s and images/min are better higher, hours lower.
    pub higher_is_better: bool,
}

/// How a speed compares with [`Thresholds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Good,
    Usable,
    TooSlow,
}

impl Thresholds {
    pub fn pace(&self, speed: f64) -> Pace {
        let at_least = |bound: f64| {
            if self.higher_is_better {
                speed >= bound
            } else {
                speed <= bound
            }
        };
        if at_least(self.good) {
            Pace::Good
        } else if at_least(self.usable) {
            Pace::Usable
        } else {
            Pace::TooSlow
        }
    }
}

/// The verdict of a workload or an estimate: ❌ when no engine runs it here or it does not fit; ✅ when
/// it is fast enough and its engine's row is ✅; ⚠️ otherwise (slow, speed unknown, or the engine needs
/// care here).
pub fn workload_status(
    engine_runs: bool,
    fits: Option<bool>,
    speed: Option<f64>,
    thresholds: &Thresholds,
    engine_row: Status,
) -> Status {
    if !engine_runs || fits == Some(false) || engine_row == Status::Fail {
        return Status::Fail;
    }
    match speed.map(|s| thresholds.pace(s)) {
        Some(Pace::Good) if engine_row == Status::Ok => Status::Ok,
        _ => Status::Warn,
    }
}

/// An engine that runs on this machine, as its software row says.
#[derive(Debug, Clone)]
pub struct EngineHere<'a> {
    pub engine: &'a Engine,
    /// Its software row's verdict (✅ when the matrix has no row for it).
    pub row_status: Status,
    pub row_note: Option<String>,
    pub installed: Option<String>,
    /// The GPU, or the CPU where the row says it runs there (mlx[cpu] beside an AMD GPU).
    pub runs_on: RunsOn,
    /// The side of the machine it computes on: its memory, bandwidth and compute.
    pub view: &'a MachineView,
    /// Its efficiency there, or why none can be estimated.
    pub efficiency: Result<EngineEff, String>,
}

/// Whether `engine` runs here: `Err` with the reason (its row's note) when its row fails.
pub fn engine_on<'a>(
    engine: &'a Engine,
    report: &Report,
    machine: &'a MachineView,
) -> Result<EngineHere<'a>, String> {
    let row: Option<&Row> = report.rows.iter().find(|r| r.id == engine.software);
    if let Some(r) = row.filter(|r| r.status == Status::Fail) {
        return Err(format!("{}: {}", engine.name, r.note));
    }
    let runs_on = row.map_or(RunsOn::Gpu, |r| r.runs_on);
    let view = machine.side(runs_on);
    let efficiency = match engine.backend(&view.backend) {
        Some(b) => Ok(EngineEff::new(engine, b)),
        None => Err(format!(
            "cannot estimate: the matrix has no efficiency figure for {} on {} ({} runs here, its row says {})",
            engine.name,
            view.backend_name(),
            engine.name,
            row.map_or("nothing", |r| r.note.as_str())
        )),
    };
    Ok(EngineHere {
        engine,
        row_status: row.map_or(Status::Ok, |r| r.status),
        row_note: row.map(|r| r.note.clone()),
        installed: row.and_then(|r| r.installed.clone()),
        runs_on,
        view,
        efficiency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_decide_one_way_for_everyone() {
        let chat = Thresholds {
            good: 20.0,
            usable: 8.0,
            higher_is_better: true,
        };
        assert_eq!(chat.pace(13.3), Pace::Usable);
        assert_eq!(
            workload_status(true, Some(true), Some(13.3), &chat, Status::Ok),
            Status::Warn
        );
        assert_eq!(
            workload_status(true, Some(true), Some(25.0), &chat, Status::Ok),
            Status::Ok
        );
        assert_eq!(
            workload_status(true, Some(true), Some(25.0), &chat, Status::Warn),
            Status::Warn
        );
        assert_eq!(
            workload_status(true, Some(false), Some(25.0), &chat, Status::Ok),
            Status::Fail
        );
        assert_eq!(
            workload_status(false, None, None, &chat, Status::Ok),
            Status::Fail
        );
        assert_eq!(
            workload_status(true, Some(true), None, &chat, Status::Ok),
            Status::Warn
        );
        let hours = Thresholds {
            good: 8.0,
            usable: 14.0,
            higher_is_better: false,
        };
        assert_eq!(hours.pace(6.0), Pace::Good);
        assert_eq!(hours.pace(10.0), Pace::Usable);
        assert_eq!(hours.pace(20.0), Pace::TooSlow);
    }
}
