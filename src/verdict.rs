//! One place decides what status a thing gets on a machine, so that no two commands can disagree.
//!
//! A software row's ✅/⚠️/❌ is the evaluator's (`eval::evaluate_request`: rules, then the installation,
//! then what the row requires). Everything built on those rows is decided here and nowhere else: whether
//! an engine runs on this machine and how (its row's verdict, the GPU or the CPU it computes on, its
//! efficiency there or why none can be estimated), and the verdict of a workload or an ad-hoc estimate
//! from its fit, its speed against the thresholds and its engine's row. `doctor` and `table` show the
//! rows; `check` ([`check()`]), `compare` ([`compare()`]) and `estimate` ([`adhoc`]) live here and ask
//! [`engine_on`] (which also decides whether the engine runs the quantization on this hardware, and along
//! which kernel path), [`llm_fit`] (whether a model fits, and if not what it takes) and
//! [`workload_status`].
//!
//! The direction is one way: `estimate` computes figures (memory, speed, the machine's rates, the kernel
//! path) and knows nothing of verdicts; this module reads those figures and decides.

pub mod adhoc;
pub mod check;
pub mod compare;

use serde::Serialize;

use crate::estimate::llm::{self, EngineEff, LlmSpec};
use crate::estimate::path::{kernel_path, KernelPath};
use crate::estimate::MachineView;
use crate::matrix::workloads::{Engine, Quant, Workloads};
use crate::matrix::{RunsOn, Status};
use crate::report::{Report, Row};

pub use check::{check, Check};
pub use compare::{compare, Comparison};

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

/// Whether the model fits the memory the machine gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FitState {
    Fits,
    /// Fits once a setting is changed (Apple: the Metal working-set limit).
    NeedsSetup,
    DoesNotFit,
    /// The machine's usable memory is not known.
    Unknown,
}

/// One way to make a model fit.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Remedy {
    /// Raise macOS's GPU working-set limit: `command` sets it to `mb` MiB (until the next reboot).
    RaiseMetalLimit { mb: u64, command: String },
    /// A smaller quantization this engine runs, and the memory it needs.
    SmallerQuant { quant: String, required_gb: f64 },
    /// The longest context that fits at this quantization and number of users.
    ShorterContext { context: u32 },
    /// The most concurrent users that fit at this context.
    FewerUsers { users: u32 },
}

impl Remedy {
    pub fn text(&self) -> String {
        match self {
            Remedy::RaiseMetalLimit { command, .. } => {
                format!("raise the Metal limit: `{command}`")
            }
            Remedy::SmallerQuant { quant, required_gb } => {
                format!("{quant} ({required_gb:.0} GB)")
            }
            Remedy::ShorterContext { context } => {
                format!("a context of at most {context} tokens")
            }
            Remedy::FewerUsers { users } => format!("at most {users} concurrent users"),
        }
    }
}

/// Whether a workload fits, by how much it misses, and what it takes to fit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Fit {
    pub state: FitState,
    pub required_gb: f64,
    pub available_gb: Option<f64>,
    /// GB beyond what the machine gives as set up (positive when it does not fit now).
    pub short_gb: Option<f64>,
    /// What makes it fit, the most direct first.
    pub remedies: Vec<Remedy>,
    /// When nothing does: why not, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Fit {
    /// A fit decided on memory alone, no remedies (training, images, simulations).
    pub fn plain(required_gb: f64, machine: &MachineView) -> Fit {
        let (state, short) = state_of(required_gb, machine);
        let mut remedies = Vec::new();
        if state == FitState::NeedsSetup {
            remedies.push(metal_remedy(required_gb));
        }
        Fit {
            state,
            required_gb,
            available_gb: machine.available_gb,
            short_gb: short,
            remedies,
            note: None,
        }
    }

    pub fn fits_now(&self) -> Option<bool> {
        match self.state {
            FitState::Fits => Some(true),
            FitState::NeedsSetup | FitState::DoesNotFit => Some(false),
            FitState::Unknown => None,
        }
    }

    /// "needs 150 GB of 144 GB (6 GB short)" and, when it does not fit, what it takes.
    pub fn text(&self) -> String {
        let need = match self.available_gb {
            Some(a) => format!("needs {:.0} GB of {a:.0} GB", self.required_gb),
            None => format!(
                "needs {:.0} GB (available memory unknown)",
                self.required_gb
            ),
        };
        let short = self
            .short_gb
            .filter(|s| *s > 0.0)
            .map(|s| format!(" ({s:.1} GB short)"))
            .unwrap_or_default();
        match self.state {
            FitState::Fits | FitState::Unknown => need,
            FitState::NeedsSetup => {
                let rest: Vec<String> = self.remedies.iter().skip(1).map(Remedy::text).collect();
                format!(
                    "fits once the Metal limit is raised: {need}{short}; {}{}",
                    self.remedies.first().map(Remedy::text).unwrap_or_default(),
                    if rest.is_empty() {
                        String::new()
                    } else {
                        format!(", or without it: {}", rest.join(", or "))
                    }
                )
            }
            FitState::DoesNotFit => {
                let ways: Vec<String> = self.remedies.iter().map(Remedy::text).collect();
                if ways.is_empty() {
                    match &self.note {
                        Some(note) => format!("does not fit: {need}{short}; {note}"),
                        None => format!("does not fit: {need}{short}"),
                    }
                } else {
                    format!(
                        "does not fit: {need}{short}; it takes {}",
                        ways.join(", or ")
                    )
                }
            }
        }
    }
}

/// The state for a memory need on this machine, and how many GB it misses by now.
fn state_of(required_gb: f64, machine: &MachineView) -> (FitState, Option<f64>) {
    let Some(available) = machine.available_gb else {
        return (FitState::Unknown, None);
    };
    let short = Some(required_gb - available);
    if required_gb <= available {
        (FitState::Fits, short)
    } else if machine.metal_ceiling_gb.is_some_and(|c| required_gb <= c) {
        (FitState::NeedsSetup, short)
    } else {
        (FitState::DoesNotFit, short)
    }
}

/// The Metal limit that holds `required_gb`, rounded up to a whole GB (a GiB), and the command that sets
/// it in MiB.
fn metal_remedy(required_gb: f64) -> Remedy {
    let mib = required_gb.ceil() as u64 * 1024;
    Remedy::RaiseMetalLimit {
        mb: mib,
        command: format!("sudo sysctl iogpu.wired_limit_mb={mib}"),
    }
}

/// Whether a language model fits (`extra_gb`: parts that must stay resident beside it), and if not what
/// makes it fit: raising the Metal limit (Apple), a smaller quantization `engine` runs here, a shorter
/// context, fewer users.
pub fn llm_fit(
    catalog: &Workloads,
    spec: &LlmSpec,
    extra_gb: f64,
    engine: Option<&Engine>,
    machine: &MachineView,
) -> Fit {
    let need = |s: &LlmSpec| llm::memory(s, None).required_gb + extra_gb;
    let required = need(spec);
    let mut fit = Fit::plain(required, machine);
    let Some(available) = machine.available_gb else {
        return fit;
    };
    if fit.state == FitState::Fits {
        return fit;
    }
    if let Some(engine) = engine {
        let backend = engine.backend_for(&machine.backend, machine.hbm);
        let mut smaller: Vec<&Quant> = catalog
            .quants
            .iter()
            .filter(|q| q.bits < spec.bits && !q.variable_bits && engine.loads(&q.id))
            .filter(|q| {
                backend.is_some_and(|b| kernel_path(catalog, engine, b, q, None, machine).is_ok())
            })
            .collect();
        // The largest format that fits, one the hardware computes natively before one it dequantizes.
        let native = |q: &Quant| {
            backend.is_some_and(|b| {
                kernel_path(catalog, engine, b, q, None, machine).is_ok_and(|p| p.notes.is_empty())
            })
        };
        smaller.sort_by(|a, b| native(b).cmp(&native(a)).then(b.bits.total_cmp(&a.bits)));
        let need_at = |q: &Quant| {
            need(&LlmSpec {
                bits: q.bits,
                ..spec.clone()
            })
        };
        let smallest = smaller
            .iter()
            .min_by(|a, b| a.bits.total_cmp(&b.bits))
            .map(|q| (q.id.clone(), need_at(q)));
        match smaller.into_iter().find(|q| need_at(q) <= available) {
            Some(q) => fit.remedies.push(Remedy::SmallerQuant {
                quant: q.id.clone(),
                required_gb: need_at(q),
            }),
            None => {
                fit.note = Some(match smallest {
                    Some((id, gb)) => format!(
                        "no quantization {} runs makes it fit (the smallest, {id}, needs {gb:.0} GB): it takes a machine with more memory, or several",
                        engine.name
                    ),
                    None => "it takes a machine with more memory, or several".to_string(),
                });
            }
        }
    }
    // The longest context that fits, in steps of 256 tokens (memory grows with context).
    let fits_at = |context: u32| {
        need(&LlmSpec {
            context,
            ..spec.clone()
        }) <= available
    };
    if spec.context > 256 && fits_at(256) {
        let (mut lo, mut hi) = (1u32, spec.context / 256);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits_at(mid * 256) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        fit.remedies
            .push(Remedy::ShorterContext { context: lo * 256 });
    }
    if spec.users > 1 {
        let users = llm::max_sequences(spec, available - extra_gb);
        if users >= 1 && users < spec.users {
            fit.remedies.push(Remedy::FewerUsers { users });
        }
    }
    fit
}

/// The verdict of a workload or an estimate: ❌ when no engine runs it here or it does not fit; ✅ when
/// it is fast enough, fits as the machine is set up and its engine's row is ✅; ⚠️ otherwise (slow,
/// speed unknown, the engine needs care here, or it fits only once a setting is changed).
pub fn workload_status(
    engine_runs: bool,
    fit: FitState,
    speed: Option<f64>,
    thresholds: &Thresholds,
    engine_row: Status,
) -> Status {
    if !engine_runs || fit == FitState::DoesNotFit || engine_row == Status::Fail {
        return Status::Fail;
    }
    match speed.map(|s| thresholds.pace(s)) {
        Some(Pace::Good) if engine_row == Status::Ok && fit != FitState::NeedsSetup => Status::Ok,
        _ => Status::Warn,
    }
}

/// Why an engine computes on the CPU of a machine that has a GPU: the GPUs it has backends for, and its
/// row's note ("MLX LM runs on the CPU here: it computes on NVIDIA GPUs, Apple silicon GPUs and CPUs, not
/// on AMD GPUs").
pub fn on_cpu_reason(engine: &Engine, machine: &MachineView, row_note: &str) -> String {
    let mut gpus: Vec<String> = engine
        .backends
        .iter()
        .filter(|b| b.vendor != "cpu" && b.memory.is_none())
        .map(|b| crate::estimate::machine::backend_words(&b.vendor))
        .collect();
    gpus.dedup();
    let not_here = if machine.backend == "cpu" {
        String::new()
    } else {
        format!(", not on {}", machine.backend_name())
    };
    let note = if row_note.is_empty() {
        String::new()
    } else {
        format!(" ({row_note})")
    };
    if gpus.is_empty() {
        format!("{} runs on the CPU here{note}", engine.name)
    } else {
        format!(
            "{} runs on the CPU here: it computes on {} and CPUs{not_here}{note}",
            engine.name,
            gpus.join(", ")
        )
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
    /// Its efficiency there, along the quantization's kernel path, or why none can be estimated.
    pub efficiency: Result<EngineEff, String>,
}

/// Whether `engine` runs `quant` here: `Err` with the reason when its software row fails, or when it
/// cannot run that quantization on this hardware (TensorRT-LLM's FP8 before Ada); `bits` overrides the
/// quantization's bits per weight.
pub fn engine_on<'a>(
    catalog: &Workloads,
    engine: &'a Engine,
    quant: &Quant,
    bits: Option<f64>,
    report: &Report,
    machine: &'a MachineView,
) -> Result<EngineHere<'a>, String> {
    let row: Option<&Row> = report.rows.iter().find(|r| r.id == engine.software);
    if let Some(r) = row.filter(|r| r.status == Status::Fail) {
        return Err(format!("{}: {}", engine.name, r.note));
    }
    let runs_on = row.map_or(RunsOn::Gpu, |r| r.runs_on);
    let view = machine.side(runs_on);
    let efficiency = match engine.backend_for(&view.backend, view.hbm) {
        Some(b) => {
            let path: KernelPath = kernel_path(catalog, engine, b, quant, bits, view)?;
            Ok(EngineEff::new(engine, b, path, view))
        }
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
        let fits = FitState::Fits;
        assert_eq!(
            workload_status(true, fits, Some(13.3), &chat, Status::Ok),
            Status::Warn
        );
        assert_eq!(
            workload_status(true, fits, Some(25.0), &chat, Status::Ok),
            Status::Ok
        );
        assert_eq!(
            workload_status(true, fits, Some(25.0), &chat, Status::Warn),
            Status::Warn
        );
        assert_eq!(
            workload_status(true, FitState::DoesNotFit, Some(25.0), &chat, Status::Ok),
            Status::Fail
        );
        assert_eq!(
            workload_status(true, FitState::NeedsSetup, Some(25.0), &chat, Status::Ok),
            Status::Warn
        );
        assert_eq!(
            workload_status(false, FitState::Unknown, None, &chat, Status::Ok),
            Status::Fail
        );
        assert_eq!(
            workload_status(true, fits, None, &chat, Status::Ok),
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
