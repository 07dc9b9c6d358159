//! `mlcompat install-plan`: which releases of the software asked for install and work together on this
//! machine, and exactly what to type. A pure function of (matrix, facts, request): the release data
//! (`matrix/releases/`) says what exists, [`resolve`] picks the newest consistent set, [`steps`] turns
//! it into ordered commands, preconditions and the check to run afterwards. When nothing fits, the plan
//! names each conflicting constraint with its source and the nearest alternatives. Doctor's `fix:` for
//! the rows the release data covers is the first step of this plan ([`fix_for`]), so the two agree.

pub mod agreement;
mod machine;
mod resolve;
mod steps;

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;

use crate::facts::Facts;
use crate::matrix::releases::{Accelerator, Method};
use crate::matrix::{Matrix, RunsOn};
use crate::report::MachineSummary;

use machine::Target;
use resolve::{shown_version, Choice, Mode, Solver};

pub const PLAN_SCHEMA: &str = "mlcompat.plan/1";

/// The installer the commands are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Installer {
    #[default]
    Pip,
    Uv,
}

/// One software asked for: a software id, optionally with a version range (`vllm==0.19.1`).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub id: String,
    pub version: Option<pep440_rs::VersionSpecifiers>,
    /// As typed.
    pub text: String,
}

impl Wanted {
    /// `vllm`, `vllm==0.19.1`, `torch>=2.10` (the range starts at the first `=<>!~`).
    pub fn parse(text: &str) -> Result<Wanted, String> {
        let text = text.trim();
        let split = text.find(['=', '<', '>', '!', '~']).unwrap_or(text.len());
        let (id, range) = text.split_at(split);
        let version = if range.is_empty() {
            None
        } else {
            Some(
                pep440_rs::VersionSpecifiers::from_str(range)
                    .map_err(|e| format!("`{text}`: invalid version range: {e}"))?,
            )
        };
        Ok(Wanted {
            id: id.trim().to_string(),
            version,
            text: text.to_string(),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub wanted: Vec<Wanted>,
    pub installer: Installer,
}

impl Request {
    /// A plan for one software id, any version.
    pub fn one(id: &str, installer: Installer) -> Request {
        Request {
            wanted: vec![Wanted {
                id: id.to_string(),
                version: None,
                text: id.to_string(),
            }],
            installer,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub schema: &'static str,
    pub machine: MachineSummary,
    /// What the wheels are chosen for: `linux-aarch64`, `macos-arm64`, … (the host's, not a Rosetta
    /// Python's), with the glibc or macOS version their tags need.
    pub platform: Option<String>,
    pub glibc: Option<String>,
    pub macos: Option<String>,
    /// What was asked for, as typed.
    pub request: Vec<String>,
    pub installer: Installer,
    /// A consistent set exists for this machine's hardware and OS (after the preconditions, if any).
    pub possible: bool,
    pub python: PythonNeed,
    /// Software id → the chosen release and build, for what was asked and what it pins.
    pub resolved: BTreeMap<String, Resolved>,
    /// What the machine must change first; each is also the first steps.
    pub preconditions: Vec<Precondition>,
    /// In order: preconditions, installs, then the check.
    pub steps: Vec<Step>,
    /// Why no consistent set exists: each constraint with its source.
    pub blockers: Vec<Blocker>,
    /// Software asked for that the release data cannot plan here — none for it, or none for this
    /// platform — which is not the same as impossible: it is installed as usual and doctor judges it.
    pub not_planned: Vec<NotPlanned>,
    pub alternatives: Vec<Alternative>,
    /// What the user should know: minor-version compatibility, indexes mlcompat could not check, …
    pub notes: Vec<String>,
    /// The newest `checked:` date of the release data.
    pub data_checked: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Resolved {
    pub version: String,
    /// The build: `cu130`, `cpu`, `metal`, `cu13-source`, `ngc-image`.
    pub variant: String,
    /// The CUDA version the build was made with.
    pub cuda: Option<String>,
    pub accelerator: &'static str,
    /// How it installs: `pip`, `image`, `build`, `script`, `brew`, `download`.
    pub method: &'static str,
    /// The pip index, when not PyPI.
    pub index: Option<String>,
    pub image: Option<String>,
    /// Asked for, rather than pinned by what was asked for.
    pub requested: bool,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PythonNeed {
    /// This environment's Python, when known.
    pub have: Option<String>,
    /// The versions every chosen wheel exists for, e.g. "3.11 to 3.13".
    pub need: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NotPlanned {
    pub id: String,
    pub why: String,
    /// How it is usually installed, when the matrix knows (the row's own advice for this machine).
    pub install: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Precondition {
    /// `reboot`, `driver`, `python`, `macos`, `toolkit`, `container-runtime`.
    pub kind: &'static str,
    pub need: String,
    pub have: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    /// `reboot`, `driver`, `python`, `macos`, `toolkit`, `container-runtime`, `uninstall`, `pip`,
    /// `image`, `build`, `script`, `brew`, `download`, `check`.
    pub kind: &'static str,
    pub command: String,
    pub why: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Blocker {
    pub id: String,
    pub constraint: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Alternative {
    pub ids: Vec<String>,
    pub text: String,
}

impl Plan {
    /// A plan with nothing resolved yet.
    fn blank(facts: &Facts, target: &Target, request: &Request, checked: &str) -> Plan {
        Plan {
            schema: PLAN_SCHEMA,
            machine: crate::report::machine_summary(facts),
            platform: target.platform.map(|p| p.name().to_string()),
            glibc: target.glibc.as_ref().map(ToString::to_string),
            macos: target.macos.as_ref().map(ToString::to_string),
            request: request.wanted.iter().map(|w| w.text.clone()).collect(),
            installer: request.installer,
            possible: false,
            python: PythonNeed {
                have: target.python.as_ref().map(ToString::to_string),
                need: None,
            },
            resolved: BTreeMap::new(),
            preconditions: Vec::new(),
            steps: Vec::new(),
            blockers: Vec::new(),
            not_planned: Vec::new(),
            alternatives: Vec::new(),
            notes: Vec::new(),
            data_checked: checked.to_string(),
        }
    }
}

/// The install plan for `request` on the machine `facts` describe.
pub fn plan(matrix: &Matrix, facts: &Facts, request: &Request) -> Plan {
    let target = Target::from_facts(facts);
    let releases = &matrix.releases;
    let ids: Vec<String> = request.wanted.iter().map(|w| w.id.clone()).collect();
    let pins: BTreeMap<String, pep440_rs::VersionSpecifiers> = request
        .wanted
        .iter()
        .filter_map(|w| w.version.clone().map(|v| (w.id.clone(), v)))
        .collect();
    let mut plan = Plan::blank(facts, &target, request, &releases.checked);
    // What the release data cannot plan here is set apart, with how it is usually installed; the rest
    // is planned.
    // The plain pip install of its distribution: pip picks the newest release with a wheel here.
    let usual = |id: &str| {
        matrix
            .software
            .iter()
            .find(|sw| sw.id == id)
            .and_then(|sw| sw.detect.python.first())
            .map(|dist| format!("pip install {dist}"))
    };
    let mut ids = ids;
    ids.retain(|id| {
        let why = match releases.project(id) {
            None => format!(
                "mlcompat has no release data for `{id}` (it covers {}): `mlcompat doctor` judges whether it runs here",
                releases
                    .projects
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(project) => match target.platform {
                Some(p)
                    if !project.never.contains(&p)
                        && !project
                            .releases
                            .iter()
                            .flat_map(|r| &r.builds)
                            .any(|b| b.platforms.contains(&p)) =>
                {
                    format!(
                        "the release data has no build of `{id}` for {} (it covers recent releases; older ones or other indexes may have one)",
                        p.name()
                    )
                }
                _ => return true,
            },
        };
        plan.not_planned.push(NotPlanned {
            id: id.clone(),
            why,
            install: usual(id),
        });
        false
    });
    if ids.is_empty() {
        // Nothing here is impossible; nothing is planned either.
        plan.possible = true;
        return plan;
    }
    let strict = Solver::new(releases, &target, Mode::Strict, &pins);
    let relaxed = Solver::new(releases, &target, Mode::Relaxed, &pins);
    let found_relaxed = relaxed.solve(&ids);
    let (found_strict, cpu_now) = prefer_gpu(strict.solve(&ids), &found_relaxed, &ids, &target);
    let solution = found_strict.clone().or_else(|| found_relaxed.clone());
    match solution {
        Some(choices) => {
            plan.possible = true;
            fill(&mut plan, &choices, &target, matrix, request);
            if found_strict.is_some() {
                if let Some(better) = &found_relaxed {
                    upgrade_hint(&mut plan, &choices, better, &target, releases);
                }
            }
            if let Some(cpu) = cpu_now {
                plan.alternatives.push(Alternative {
                    ids: ids.clone(),
                    text: format!(
                        "without changing this machine, on its CPU instead of its GPU: {}",
                        cpu.iter()
                            .filter(|c| ids.contains(&c.project.id))
                            .map(|c| format!(
                                "{} {} ({})",
                                c.project.id,
                                shown_version(c.release),
                                c.build.variant
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            also_fits(&mut plan, &choices, &target, releases, &pins);
            cpu_instead_of_gpu(&mut plan, &choices, &target);
        }
        None => {
            explain(&mut plan, &relaxed, &ids, releases);
            alternatives(&mut plan, matrix, facts, request, &pins, &target);
        }
    }
    plan
}

/// A machine with a GPU that gets a CPU build of something asked for is told so, and why: the GPU
/// route is never swapped for the CPU one silently.
fn cpu_instead_of_gpu(plan: &mut Plan, choices: &[Choice], target: &Target) {
    let Some(gpu) = target.gpu.as_ref().filter(|g| g.vendor.is_some()) else {
        return;
    };
    for c in choices {
        if !plan.request.iter().any(|r| r.starts_with(&c.project.id)) {
            continue;
        }
        if target.accelerator_of(c.build) != Accelerator::Cpu {
            continue;
        }
        let gpu_builds: Vec<&str> = c
            .project
            .releases
            .iter()
            .flat_map(|r| &r.builds)
            .filter(|b| b.accelerator != Accelerator::Cpu)
            .map(|b| b.variant.as_str())
            .collect();
        let why = if gpu_builds.is_empty() {
            "the release data has no GPU build of it".to_string()
        } else {
            let mut v = gpu_builds.clone();
            v.dedup();
            format!(
                "none of its GPU builds in the release data ({}) fits this GPU, driver and platform",
                v.join(", ")
            )
        };
        plan.notes.insert(
            0,
            format!(
                "{} {} runs on the CPU here, not on {}: {why}",
                c.project.id,
                shown_version(c.release),
                gpu.name
            ),
        );
    }
}

fn fill(plan: &mut Plan, choices: &[Choice], target: &Target, matrix: &Matrix, request: &Request) {
    let requested: Vec<&str> = request.wanted.iter().map(|w| w.id.as_str()).collect();
    for c in choices {
        plan.resolved.insert(
            c.project.id.clone(),
            Resolved {
                version: shown_version(c.release),
                variant: c.build.variant.clone(),
                cuda: c.build.cuda.as_ref().map(ToString::to_string),
                accelerator: target.accelerator_of(c.build).as_str(),
                method: c.build.method.as_str(),
                index: c.build.index.clone(),
                image: c.build.image.clone(),
                requested: requested.contains(&c.project.id.as_str()),
                source: c.build.source.clone(),
            },
        );
    }
    let made = steps::make(choices, target, &matrix.releases, request.installer, matrix);
    plan.python.need = made.python_need;
    plan.preconditions = made.preconditions;
    plan.steps = made.steps;
    plan.notes = made.notes;
}

/// How well the builds chosen for what was asked use this machine: the worst accelerator rank among
/// them (0 its GPU, 1 a generic GPU path, 2 the CPU).
fn side_rank(choices: &[Choice], ids: &[String], target: &Target) -> u8 {
    choices
        .iter()
        .filter(|c| ids.contains(&c.project.id))
        .map(|c| {
            target
                .accelerator_rank(target.accelerator_of(c.build))
                .unwrap_or(9)
        })
        .max()
        .unwrap_or(0)
}

/// The machine as it is wins over a change to it, unless it only runs what was asked on its CPU where
/// a driver, Python or macOS change would run it on its GPU: then the change is the plan, and the
/// CPU set is returned to be offered as the alternative.
fn prefer_gpu<'m>(
    strict: Option<Vec<Choice<'m>>>,
    relaxed: &Option<Vec<Choice<'m>>>,
    ids: &[String],
    target: &Target,
) -> (Option<Vec<Choice<'m>>>, Option<Vec<Choice<'m>>>) {
    match (strict, relaxed) {
        (Some(now), Some(after))
            if side_rank(after, ids, target) < side_rank(&now, ids, target) =>
        {
            (None, Some(now))
        }
        (now, _) => (now, None),
    }
}

/// When the machine as it is gets older releases than a driver or Python change would: say what the
/// change would bring.
fn upgrade_hint(
    plan: &mut Plan,
    now: &[Choice],
    better: &[Choice],
    target: &Target,
    releases: &crate::matrix::releases::Releases,
) {
    let mut newer: Vec<(bool, String)> = Vec::new();
    for b in better.iter() {
        let Some(n) = now.iter().find(|n| n.project.id == b.project.id) else {
            continue;
        };
        if b.release.version > n.release.version {
            let requested = plan
                .resolved
                .get(&b.project.id)
                .is_some_and(|r| r.requested);
            newer.push((
                !requested,
                format!(
                    "{} {} ({})",
                    b.project.id,
                    shown_version(b.release),
                    b.build.variant
                ),
            ));
        }
    }
    newer.sort();
    let newer: Vec<String> = newer.into_iter().map(|(_, t)| t).collect();
    if newer.is_empty() {
        return;
    }
    let mut changes: Vec<String> = better
        .iter()
        .flat_map(|c| c.fit.unmet.iter())
        .map(|u| resolve::unmet_text(u, target, releases))
        .collect();
    changes.sort();
    changes.dedup();
    plan.alternatives.push(Alternative {
        ids: better.iter().map(|c| c.project.id.clone()).collect(),
        text: format!(
            "newer releases after a change here: {} — {}",
            newer.join(", "),
            changes.join("; ")
        ),
    });
}

/// Other ways the asked-for software also fits (a container where the plan uses pip), for the record.
fn also_fits(
    plan: &mut Plan,
    choices: &[Choice],
    target: &Target,
    releases: &crate::matrix::releases::Releases,
    pins: &BTreeMap<String, pep440_rs::VersionSpecifiers>,
) {
    for c in choices
        .iter()
        .filter(|c| plan.resolved[&c.project.id].requested)
    {
        let other = c
            .project
            .releases
            .iter()
            .filter(|r| {
                pins.get(&c.project.id)
                    .is_none_or(|p| p.contains(r.version.pep440()))
            })
            .flat_map(|r| r.builds.iter().map(move |b| (r, b)))
            .find(|(r, b)| {
                b.method == Method::Image
                    && c.build.method != Method::Image
                    // The same side of the machine: a CPU image is no alternative to a GPU wheel.
                    && target.accelerator_of(b) == target.accelerator_of(c.build)
                    && resolve::fit(b, c.project, r, target, Mode::Strict, releases).is_ok()
            });
        if let Some((r, b)) = other {
            plan.alternatives.push(Alternative {
                ids: vec![c.project.id.clone()],
                text: format!(
                    "{} {} also runs from the container {}: {}",
                    c.project.id,
                    shown_version(r),
                    b.image.clone().unwrap_or_default(),
                    b.command.clone().unwrap_or_default()
                ),
            });
        }
    }
}

/// No consistent set: the constraints that exclude each project, or the pins that conflict.
fn explain(
    plan: &mut Plan,
    solver: &Solver,
    ids: &[String],
    releases: &crate::matrix::releases::Releases,
) {
    for id in ids {
        let Some(project) = releases.project(id) else {
            continue;
        };
        if solver.solve(std::slice::from_ref(id)).is_some() {
            continue;
        }
        let misses = solver.explain(project, None);
        if !misses.is_empty() {
            for m in misses {
                plan.blockers.push(Blocker {
                    id: id.clone(),
                    constraint: m.text,
                    source: m.source,
                });
            }
            continue;
        }
        for (what, m) in solver.explain_pins(project) {
            plan.blockers.push(Blocker {
                id: id.clone(),
                constraint: format!("{what}: {}", m.text),
                source: m.source,
            });
        }
    }
    if !plan.blockers.is_empty() {
        return;
    }
    // Each fits alone: the pins between them conflict.
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            if solver.solve(&[a.clone(), b.clone()]).is_some() {
                continue;
            }
            let pins_of = |id: &str| -> Vec<String> {
                let mut out: Vec<String> = releases
                    .project(id)
                    .into_iter()
                    .flat_map(|p| p.releases.iter())
                    .flat_map(|r| {
                        r.builds.iter().flat_map(move |b| {
                            b.requires.iter().map(move |p| {
                                format!("{} {} → {} {}", id, r.version, p.project, p.version_text)
                            })
                        })
                    })
                    .collect();
                out.dedup();
                out.truncate(3);
                out
            };
            let source = |id: &str| {
                releases
                    .project(id)
                    .and_then(|p| p.releases.first())
                    .and_then(|r| r.builds.first())
                    .map(|b| b.source.clone())
                    .unwrap_or_default()
            };
            plan.blockers.push(Blocker {
                id: a.clone(),
                constraint: format!(
                    "{a} and {b} each fit alone but pin different releases of what they share: {}; {}",
                    pins_of(a).join(", "),
                    pins_of(b).join(", ")
                ),
                source: format!("{} | {}", source(a), source(b)),
            });
        }
    }
    if plan.blockers.is_empty() {
        plan.blockers.push(Blocker {
            id: ids.join(","),
            constraint: "no consistent set found within the search budget".into(),
            source: "matrix/releases/".into(),
        });
    }
}

/// The nearest alternatives when nothing fits: the newest release that does when a pinned one does
/// not, and the alternatives the release data names, where they fit.
fn alternatives(
    plan: &mut Plan,
    matrix: &Matrix,
    facts: &Facts,
    request: &Request,
    pins: &BTreeMap<String, pep440_rs::VersionSpecifiers>,
    target: &Target,
) {
    let releases = &matrix.releases;
    if !pins.is_empty() {
        let free: BTreeMap<String, pep440_rs::VersionSpecifiers> = BTreeMap::new();
        let ids: Vec<String> = request.wanted.iter().map(|w| w.id.clone()).collect();
        for mode in [Mode::Strict, Mode::Relaxed] {
            if let Some(found) = Solver::new(releases, target, mode, &free).solve(&ids) {
                let shown: Vec<String> = found
                    .iter()
                    .filter(|c| ids.contains(&c.project.id))
                    .map(|c| {
                        format!(
                            "{} {} ({})",
                            c.project.id,
                            shown_version(c.release),
                            c.build.variant
                        )
                    })
                    .collect();
                plan.alternatives.push(Alternative {
                    ids: ids.clone(),
                    text: format!(
                        "without the version pin: {}{}",
                        shown.join(", "),
                        if mode == Mode::Relaxed {
                            " (after the changes its plan lists)"
                        } else {
                            ""
                        }
                    ),
                });
                break;
            }
        }
    }
    let mut offered: Vec<String> = request.wanted.iter().map(|w| w.id.clone()).collect();
    for wanted in &request.wanted {
        let Some(project) = releases.project(&wanted.id) else {
            continue;
        };
        let mut count = 0;
        for alt in &project.alternatives {
            if count == 3 || offered.contains(alt) {
                continue;
            }
            let sub = Request::one(alt, request.installer);
            let p = plan_without_alternatives(matrix, facts, &sub);
            if let Some(r) = p.resolved.get(alt).filter(|_| p.possible) {
                offered.push(alt.clone());
                count += 1;
                let name = matrix
                    .software
                    .iter()
                    .find(|s| &s.id == alt)
                    .map_or(alt.as_str(), |s| s.name.as_str());
                plan.alternatives.push(Alternative {
                    ids: vec![alt.clone()],
                    text: format!(
                        "instead of {}: {name} {} ({}{}) fits this machine — mlcompat install-plan {alt}",
                        wanted.id,
                        r.version,
                        r.variant,
                        if p.preconditions.is_empty() {
                            ""
                        } else {
                            ", after its preconditions"
                        }
                    ),
                });
            }
        }
    }
}

/// A plan without the search for alternatives (which would recurse).
fn plan_without_alternatives(matrix: &Matrix, facts: &Facts, request: &Request) -> Plan {
    let target = Target::from_facts(facts);
    let ids: Vec<String> = request.wanted.iter().map(|w| w.id.clone()).collect();
    let pins = BTreeMap::new();
    let mut plan = Plan::blank(facts, &target, request, &matrix.releases.checked);
    let relaxed = Solver::new(&matrix.releases, &target, Mode::Relaxed, &pins).solve(&ids);
    let strict = Solver::new(&matrix.releases, &target, Mode::Strict, &pins).solve(&ids);
    let (strict, _) = prefer_gpu(strict, &relaxed, &ids, &target);
    if let Some(choices) = strict.or(relaxed) {
        plan.possible = true;
        fill(&mut plan, &choices, &target, matrix, request);
    }
    plan
}

/// Doctor's fix for a row the release data covers: the first step of `install-plan ID`, with how many
/// steps follow. `None` when there is no release data for it, no plan fits, or the plan computes on
/// another side of the machine than the rule that decided the row (a CPU-only plan for a row whose
/// rule speaks of the GPU keeps the rule's own advice).
pub fn fix_for(matrix: &Matrix, facts: &Facts, id: &str, runs_on: RunsOn) -> Option<String> {
    fix_with_notes(matrix, facts, id, runs_on).map(|(fix, _)| fix)
}

/// [`fix_for`], with the plan's notes (minor-version compatibility, what it assumed): what `explain`
/// prints under a fix.
pub fn fix_with_notes(
    matrix: &Matrix,
    facts: &Facts,
    id: &str,
    runs_on: RunsOn,
) -> Option<(String, Vec<String>)> {
    matrix.releases.project(id)?;
    let request = Request::one(id, Installer::Pip);
    let plan = plan_without_alternatives(matrix, facts, &request);
    if !plan.possible {
        return None;
    }
    let resolved = plan.resolved.get(id)?;
    let plan_side = if resolved.accelerator == Accelerator::Cpu.as_str() {
        RunsOn::Cpu
    } else {
        RunsOn::Gpu
    };
    if plan_side != runs_on {
        return None;
    }
    Some((fix_text(&plan, id)?, plan.notes.clone()))
}

/// The fix doctor shows for a plan: its install steps joined with `&&` when they are a few shell
/// commands, else the first one and where the rest are. `None` when nothing needs installing.
pub fn fix_text(plan: &Plan, id: &str) -> Option<String> {
    let installs: Vec<&Step> = plan.steps.iter().filter(|s| s.kind != "check").collect();
    let first = installs.first()?;
    let shell = installs.iter().all(|s| {
        matches!(
            s.kind,
            "pip" | "uninstall" | "build" | "script" | "brew" | "image"
        )
    });
    if installs.len() == 1 {
        Some(first.command.clone())
    } else if shell && installs.len() <= 3 {
        Some(
            installs
                .iter()
                .map(|s| s.command.as_str())
                .collect::<Vec<_>>()
                .join(" && "),
        )
    } else {
        Some(format!(
            "{}  (step 1 of {}; `mlcompat install-plan {id}` lists them all)",
            first.command,
            installs.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_reads_ids_and_ranges() {
        let w = Wanted::parse("vllm==0.19.1").unwrap();
        assert_eq!(w.id, "vllm");
        assert!(w.version.is_some());
        let w = Wanted::parse("pytorch").unwrap();
        assert_eq!(w.id, "pytorch");
        assert!(w.version.is_none());
        assert!(Wanted::parse("vllm==banana").is_err());
    }
}
